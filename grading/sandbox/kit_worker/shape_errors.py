"""The shapes of the arrays on the learner's line that raised a shape error.

NumPy's message for `Z1 = W1 @ X.T + b1` with the wrong X says

    matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc
    signature (n?,k),(k,m?)->(n?,m?) (size 2 is different from 3)

which gives sizes, not arrays. `shapes_on_line(error, is_learner_file)` reads
the line that raised, in the innermost frame of the learner's code, and gives
the shape of every array on it as the line uses it, so the failure message can say

    shapes:   on that line, W1 (2, 3), X.T (2, 3), b1 (2, 1)

An operand is listed as written: a name holding an array (`W1`), or a name followed
by the side-effect-free array views `.T`, `.ravel()`, `.flatten()`, `.squeeze()`,
`.transpose()` and `.reshape(<literals>)` (`b2.ravel()` is listed with its own 1-D
shape, not b2's). Nothing else on the line is evaluated: the line is parsed (ast), its
names are looked up in the frame, and only those views of arrays are computed.
This runs next to the learner's frames; the message is worded from its result alone.
"""

import ast
import linecache
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: a name that is not an attribute (the `T` of `X.T` is not looked up); used when the line does not parse
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
#: array methods that return a view or copy of the array and run no code of the learner's
_VIEW_METHODS = frozenset({"ravel", "flatten", "squeeze", "transpose", "reshape"})


def shapes_on_line(error: BaseException, is_learner_file: Callable[[str], bool]) -> str | None:
    """"W1 (2, 3), X.T (2, 3)" for the arrays on the learner's line that raised `error`.

    Args:
        error: the exception, with its traceback.
        is_learner_file: True for a file name that holds the learner's code.

    Returns:
        The operands and shapes, in the order they appear on the line; None when
        no learner frame or no array is found.
    """
    return format_shapes(array_shapes_on_line(error, is_learner_file))


def array_shapes_on_line(error: BaseException,
                         is_learner_file: Callable[[str], bool]) -> dict[str, tuple[int, ...]]:
    """{operand as written: shape} for the learner's line that raised `error` (empty when none)."""
    frames = [(frame, line) for frame, line in traceback.walk_tb(error.__traceback__)
              if is_learner_file(frame.f_code.co_filename)]
    if not frames:
        return {}
    frame, number = frames[-1]
    text = linecache.getline(frame.f_code.co_filename, number, frame.f_globals)
    f_locals, f_globals = frame.f_locals, frame.f_globals

    def lookup(name: str) -> Any:
        return f_locals[name] if name in f_locals else f_globals.get(name)

    return shapes_in_code(text, lookup)


def format_shapes(shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    """"W1 (2, 3), b2.ravel() (3,)", or None for no arrays."""
    return ", ".join(f"{operand} {tuple(shape)}" for operand, shape in shapes.items()) or None


def shapes_in_code(code: str, lookup: Callable[[str], Any]) -> dict[str, tuple[int, ...]]:
    """{operand: shape} for the arrays on one line of code, `lookup(name)` giving a name's value."""
    tree = parse_line(code)
    if tree is None:  # not a whole statement (e.g. the first line of several): names only
        shown = {}
        for name in dict.fromkeys(_NAME.findall(code)):
            value = lookup(name)
            if isinstance(value, np.ndarray):
                shown[name] = value.shape
        return shown
    source = code.strip()
    shown: dict[str, tuple[int, ...]] = {}

    def visit(node: ast.AST) -> None:
        value = _array_of(node, lookup)
        if isinstance(value, np.ndarray):
            text = ast.get_source_segment(source, node) or ast.unparse(node)
            shown.setdefault(text, value.shape)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return shown


def parse_line(code: str) -> ast.Module | None:
    """One line of code as an ast Module; a block's header (`if Z > 0:`) is completed with `pass`."""
    source = code.strip()
    if not source:
        return None
    # completions keep every column of the line where it was (an `elif` becomes `if  `)
    for attempt in (source, source + " pass", re.sub(r"^elif\b", "if  ", source) + " pass"):
        try:
            return ast.parse(attempt)
        except SyntaxError:
            continue
    return None


def _array_of(node: ast.AST, lookup: Callable[[str], Any]) -> Any:
    """The value of a name, or of a view of an array (`.T`, `.ravel()`, ...); None for anything else."""
    if isinstance(node, ast.Name):
        value = lookup(node.id)
        return value if isinstance(value, np.ndarray) else None
    if isinstance(node, ast.Attribute) and node.attr == "T":
        base = _array_of(node.value, lookup)
        return base.T if isinstance(base, np.ndarray) else None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _VIEW_METHODS):
        base = _array_of(node.func.value, lookup)
        if not isinstance(base, np.ndarray):
            return None
        try:
            args = [ast.literal_eval(argument) for argument in node.args]
            keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None  # an argument that is not a literal: not evaluated
        if len(keywords) != len(node.keywords):
            return None
        try:
            result = getattr(base, node.func.attr)(*args, **keywords)
        except (ValueError, TypeError):
            return None
        return result if isinstance(result, np.ndarray) else None
    return None
