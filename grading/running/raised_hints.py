"""What to tell a learner whose code raised an exception, worded from facts alone.

`explain_raised(type_name, message, line, shapes)` is a pure function of

    type_name  the exception's type name, e.g. "ValueError"
    message    str(exception)
    line       where it was raised, "forward.py, line 12, in forward_prop(): Z1 = W1 * X + b1"
    shapes     {operand as written on that line: shape}, e.g. {"W1": (2, 3), "X": (3, 2)}
               (grading/sandbox/kit_worker/shape_errors.py, run next to the learner's frames)

so it works the same wherever the learner's code ran (the exception object and its
frames may live in another process). It parses the line of code (never runs it) and
recognises the typical causes: Python's built-in max() or an `if` on an array,
`*` where a matrix product `@` was meant, a flattened bias that broadcasts along the
wrong axis, operands of `@` that need a transpose, a schedule dividing by
`epochs - 1`.
"""

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..sandbox.kit_worker.shape_errors import parse_line

_WHERE = re.compile(r"^.*?, line \d+, in [^\s(]+\(\): (?P<code>.*)$", re.DOTALL)
_SHAPE_ERROR = ("broadcast", "aligned", "mismatch")
SHAPES_HINT = ("array shapes do not fit: write the shape of every array next to the line "
               "(see the README's shape table)")


@dataclass(frozen=True)
class Explanation:
    """mistake: a recognised cause (or None); hint: general advice (or None);
    show_shapes: whether the operands' shapes help (a shape error)."""

    mistake: str | None = None
    hint: str | None = None
    show_shapes: bool = False


def code_of(line: str | None) -> str:
    """The code of a `line` fact ("file.py, line 3, in f(): <code>"), or "" when there is none."""
    if not line:
        return ""
    match = _WHERE.match(line)
    return match["code"].strip() if match else ""


def is_shape_error(type_name: str, message: str) -> bool:
    return type_name == "ValueError" and any(word in message for word in _SHAPE_ERROR)


def explain_raised(type_name: str, message: str, line: str | None,
                   shapes: Mapping[str, tuple[int, ...]] | None = None) -> Explanation:
    """The mistake and/or hint for an exception raised by the learner's code (see the module docstring)."""
    code = code_of(line)
    tree = parse_line(code) if code else None
    shapes = dict(shapes or {})
    if type_name == "ValueError" and "truth value of an array" in message:
        return Explanation(mistake=_truth_value_mistake(tree, code),
                           hint="an array was used where Python needs a single True/False (in an if, "
                                "and/or, max/min): use NumPy's entry-by-entry functions instead")
    if is_shape_error(type_name, message):
        mistake = (_flattened_operand(shapes) or _star_for_product(tree, code, shapes)
                   or _product_needs_transpose(tree, code, shapes))
        return Explanation(mistake=mistake, hint=SHAPES_HINT, show_shapes=True)
    if type_name == "ZeroDivisionError":
        if re.search(r"\(\s*epochs\s*-\s*1\s*\)", code):
            return Explanation(mistake="with epochs=1, epochs - 1 is 0: a single epoch has only the first "
                                       "learning rate, alpha; divide by max(epochs - 1, 1)")
        return Explanation(hint="a division by zero: which divisor on that line is 0 for the arguments "
                                "shown in `called:`?")
    if type_name == "TypeError" and "'NoneType'" in message:
        return Explanation(hint="something on that line is None: does a function it calls end without "
                                "a `return`?")
    if type_name == "AttributeError" and message.startswith("'str' object has no attribute"):
        return Explanation(hint="a path may arrive as a str: make it a Path first, path = Path(path)")
    return Explanation()


# ------------------------------------------------------------ truth values
def _truth_value_mistake(tree: ast.AST | None, code: str) -> str | None:
    if tree is None:
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("max", "min")):
            numpy_name = {"max": "maximum", "min": "minimum"}[node.func.id]
            arguments = ", ".join(_text(code, a) for a in node.args)
            return (f"Python's built-in {node.func.id}() compares whole arrays and needs a single "
                    f"True/False: use np.{numpy_name}({arguments}), which works entry by entry")
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp):
            return ("`and` / `or` need a single True/False, but comparing arrays gives one per entry: use "
                    "`&` / `|` with parentheses, e.g. (A > 0) & (B > 0)")
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            return ("an `if` asks one yes/no question, but comparing an array gives one answer per entry: "
                    "use np.where(condition, value_if_true, value_if_false), or multiply by the mask")
    return None


# ------------------------------------------------------------ shape errors
def _flattened_operand(shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    for operand, shape in shapes.items():
        match = re.fullmatch(r"(?P<base>[A-Za-z_]\w*)\.(ravel|flatten|squeeze)\(\)", operand)
        if match and len(shape) == 1 and len(shapes) > 1:
            return (f"{operand} has shape {tuple(shape)}: a 1-D array lines up with the LAST axis (the m "
                    f"columns, one per example), not with the rows; keep {match['base']} a column of shape "
                    f"({shape[0]}, 1) and add it as it is")
    return None


def _binary_operations(tree: ast.AST | None, kind: type) -> list[ast.BinOp]:
    if tree is None:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, kind)]


def _star_for_product(tree: ast.AST | None, code: str, shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    for node in _binary_operations(tree, ast.Mult):
        left, right = _text(code, node.left), _text(code, node.right)
        a, b = shapes.get(left), shapes.get(right)
        if a is None or b is None or len(a) != 2 or len(b) != 2 or tuple(a) == tuple(b):
            continue
        if a[1] == b[0]:
            return (f"`{left} * {right}` multiplies entry by entry ({left} {tuple(a)}, {right} {tuple(b)}); "
                    f"a layer multiplies matrices: `{left} @ {right}` (or np.dot({left}, {right}))")
    return None


def _product_needs_transpose(tree: ast.AST | None, code: str,
                             shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    def matmul(a: str, b: str) -> str:
        return f"{a} @ {b}"

    def method(a: str, b: str) -> str:
        return f"{a}.dot({b})"

    def function(a: str, b: str) -> str:
        return f"np.dot({a}, {b})"

    pairs = [(node.left, node.right, matmul) for node in _binary_operations(tree, ast.MatMult)]
    if tree is not None:  # A.dot(B) and np.dot(A, B)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dot":
                if len(node.args) == 1 and not _is_module(node.func.value):
                    pairs.append((node.func.value, node.args[0], method))
                elif len(node.args) == 2 and _is_module(node.func.value):
                    pairs.append((node.args[0], node.args[1], function))
    for left_node, right_node, form in pairs:
        left, right = _text(code, left_node), _text(code, right_node)
        a, b = shapes.get(left), shapes.get(right)
        if a is None or b is None or len(a) != 2 or len(b) != 2 or a[1] == b[0]:
            continue
        needs = f"`{form(left, right)}` needs as many columns in {left} ({a[1]}) as rows in {right} ({b[0]})"
        if a[1] == b[1]:
            fixed = _transposed(right)
            return f"{needs}: {fixed} has {b[1]} rows, so use `{form(left, fixed)}`"
        if a[0] == b[0]:
            fixed = _transposed(left)
            return f"{needs}: {fixed} has {a[0]} columns, so use `{form(fixed, right)}`"
    return None


# ------------------------------------------------------------ helpers
def _text(code: str, node: ast.AST) -> str:
    return ast.get_source_segment(code.strip(), node) or ast.unparse(node)


def _is_module(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "numpy")


def _transposed(operand: str) -> str:
    if operand.endswith(".T"):
        return operand[:-2]
    return f"{operand}.T" if re.fullmatch(r"[\w.]+", operand) else f"({operand}).T"
