"""Turning a reference stage module into the learner's file (the stub generator).

The reference modules in solutions/ mark the code learners write with nbgrader's
markers:

    def relu(Z):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        return np.maximum(Z, 0)
        ### END SOLUTION

`split_solution_blocks` cuts a source text into plain text and `SolutionBlock`s
(reused by the notebook generator); `render_learner_file` replaces every block by
a `raise NotImplementedError(...)` naming the stage and the function, rewrites the
imports (see below) and puts a header on top.

Imports: the stage modules import each other relatively (`from .activations import
relu`); in the learner's folder these become plain imports (`from activations
import relu`), which the grading harness resolves. Helpers that are not stages are
imported absolutely from `kit_helpers` (`from kit_helpers import atomic_write`), the
same in the reference and in the learner's file; a relative import of anything but
a stage module is refused, so no learner file is ever pointed into `solutions`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..stages import STAGE_BY_MODULE, Stage, get_stage

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"

_DEF_LINE = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)\s*\(")
_RELATIVE_IMPORT = re.compile(r"^(?P<indent>\s*)from\s+\.(?P<module>\w+)\s+import\b", re.MULTILINE)


class MarkerError(ValueError):
    """The solution markers are unbalanced; the message names the line."""


@dataclass(frozen=True)
class SolutionBlock:
    """The code between one BEGIN/END SOLUTION pair.

    Attributes:
        begin_line, end_line: 1-based line numbers of the two marker lines.
        indent: the whitespace before the BEGIN marker (the block's indentation).
        body: the lines between the markers, with their newlines.
        function: the name of the function the block is in, or None at top level.
    """

    begin_line: int
    end_line: int
    indent: str
    body: str
    function: str | None


def split_solution_blocks(source: str, *, filename: str = "<source>") -> list[str | SolutionBlock]:
    """Cut `source` into plain text (str) and solution blocks, in order.

    Joining the plain pieces with each block's markers and body gives `source` back;
    the marker lines themselves belong to the block, not to the text around it.

    Raises:
        MarkerError: for an END without a BEGIN, a BEGIN inside a block, or a
            BEGIN never closed; the message gives `filename` and the line.
    """
    pieces: list[str | SolutionBlock] = []
    text: list[str] = []
    body: list[str] | None = None
    begin_line = 0
    indent = ""
    enclosing: list[tuple[str, str]] = []  # (indent, name) of the defs seen so far
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN_MARKER:
            if body is not None:
                raise MarkerError(f"{filename}, line {number}: {BEGIN_MARKER} inside the block "
                                  f"opened on line {begin_line}")
            pieces.append("".join(text))
            text = []
            body = []
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped == END_MARKER:
            if body is None:
                raise MarkerError(f"{filename}, line {number}: {END_MARKER} without a {BEGIN_MARKER} before it")
            function = next((name for def_indent, name in reversed(enclosing)
                             if len(def_indent) < len(indent)), None)
            pieces.append(SolutionBlock(begin_line, number, indent, "".join(body), function))
            body = None
        elif body is not None:
            body.append(line)
        else:
            text.append(line)
            match = _DEF_LINE.match(line)
            if match:
                enclosing = [(i, n) for i, n in enclosing if len(i) < len(match["indent"])]
                enclosing.append((match["indent"], match["name"]))
    if body is not None:
        raise MarkerError(f"{filename}, line {begin_line}: {BEGIN_MARKER} is never closed by {END_MARKER}")
    pieces.append("".join(text))
    return [piece for piece in pieces if piece != ""]


def replace_solution_blocks(
    source: str, replacement: Callable[[SolutionBlock], str], *, filename: str = "<source>"
) -> str:
    """`source` with every solution block (markers included) replaced by `replacement(block)`."""
    return "".join(piece if isinstance(piece, str) else replacement(piece)
                   for piece in split_solution_blocks(source, filename=filename))


def stub_message(stage: Stage, function: str | None) -> str:
    """The NotImplementedError message of a stub: it names the stage and the function."""
    what = f"implement {function}()" if function else "write this part"
    return f"{stage.label}: {what} - see exercises/{stage.folder}/README.md"


def rewrite_imports(source: str) -> str:
    """Relative stage imports -> plain imports (`from .activations` -> `from activations`).

    Raises:
        MarkerError: a relative import of a module that is not a stage (helpers come
            from `kit_helpers`, imported absolutely).
    """

    def rewrite(match: re.Match[str]) -> str:
        module = match["module"]
        if module not in STAGE_BY_MODULE:
            raise MarkerError(f"`from .{module} import ...`: a stage module imports only other stages "
                              f"relatively; import helpers absolutely, e.g. `from kit_helpers import ...`")
        return f"{match['indent']}from {module} import"

    return _RELATIVE_IMPORT.sub(rewrite, source)


def header(stage: Stage) -> str:
    """The comment on top of every generated learner file."""
    return (
        f"# {stage.label} - this is YOUR file: replace each `raise NotImplementedError(...)`\n"
        f"# with your code, and edit anything else you like.\n"
        f"# Check your work with:  {stage.command}\n"
        f"# (Generated from solutions/{stage.module}.py by `python -m grading.build`.)\n"
    )


def render_learner_file(source: str, stage: "Stage | str", *, solved: bool = False) -> str:
    """The learner's file of `stage` made from the reference module's `source`.

    With solved=False (the shipped stub) every solution block becomes a
    `raise NotImplementedError(...)` at the block's indentation. With solved=True
    the markers are dropped and the solution kept: a complete, correct learner
    file (used by the kit's tests).
    """
    stage = get_stage(stage)

    def stub(block: SolutionBlock) -> str:
        if solved:
            return block.body
        return f'{block.indent}raise NotImplementedError("{stub_message(stage, block.function)}")\n'

    body = replace_solution_blocks(source, stub, filename=f"solutions/{stage.module}.py")
    return header(stage) + rewrite_imports(body)
