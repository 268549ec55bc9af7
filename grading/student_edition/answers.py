"""What counts as an answer: the lines students must not be given (kit side; not copied to students).

An *answer line* is

  * a line of a solution block (### BEGIN/END SOLUTION) of solutions/<stage>.py, or
  * a line of the body of a hidden check in grading/checks/stageNN_*.py,

stripped, that says something: at least MIN_LENGTH characters, not a comment, not part of a
string literal (a docstring), not a bare `return` of names (`return W1, b1, W2, b2`: the
docstring names what a function returns), not a bare `except` clause naming only exception
types (`except OSError:`), and not given to students anyway: a line (of a solution or of a
hidden check) that also appears outside the solution blocks of its own stage's reference
module or an earlier one (the maths in the docstrings, e.g. `A1 = relu(Z1)`), or in
kit_helpers/ (which the student edition installs), is not an answer.

A line is *found* in a text when it occurs there once all whitespace is removed from both,
so reformatting hides nothing. The student edition's build redacts answer lines from the
messages it records (a few of the kit's hints quote one, e.g. "end with `return Path(path)`"),
and tests/test_student_leaks.py scans what students receive for them.
"""

import ast
import inspect
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass
from functools import lru_cache

from ..build.stubs import SolutionBlock, split_solution_blocks
from ..stages import REPO_ROOT, STAGES, Stage, get_stage

MIN_LENGTH = 12
#: what a redacted answer line becomes in a recorded message
REDACTED = "[answer hidden]"
_BARE_RETURN = re.compile(r"return\s+\(?\s*\w+(\s*,\s*\w+)*\s*,?\s*\)?")
#: `except OSError:`, `except (KeyError, ValueError) as error:`: which errors, not what is done with them
_BARE_EXCEPT = re.compile(r"except\s*\(?\s*[\w.]+(\s*,\s*[\w.]+)*\s*,?\s*\)?(\s+as\s+\w+)?\s*:")
_SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """`text` without any whitespace (how lines are compared)."""
    return _SPACE.sub("", text)


@dataclass(frozen=True)
class AnswerLine:
    """One answer line: a stage's solution or a hidden check, where it is, and its text."""

    kind: str        # "solution" or "hidden check"
    stage: str       # "01".."06"
    origin: str      # "relu" or "relu/relu_matches_reference"
    text: str

    @property
    def key(self) -> str:
        return squeeze(self.text)


def _string_lines(code: str) -> set[int]:
    """1-based numbers of the lines of `code` inside a string literal of several lines, or a lone string."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING and (token.end[0] > token.start[0]
                                                  or token.line.strip() == token.string.strip()):
                inside.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, IndentationError):
        pass
    return inside


def meaningful(code: str) -> list[str]:
    """The lines of a piece of code that say something (see the module docstring), stripped."""
    code = textwrap.dedent(code)
    strings = _string_lines(code)
    return [text for number, line in enumerate(code.splitlines(), start=1)
            if len(text := line.strip()) >= MIN_LENGTH and not text.startswith("#") and number not in strings
            and not _BARE_RETURN.fullmatch(text) and not _BARE_EXCEPT.fullmatch(text)]


@lru_cache(maxsize=None)
def given_text(stage_number: str) -> str:
    """Squeezed: everything students get with stage `stage_number` and before, outside the solution
    blocks (docstrings, signatures, setup code), and kit_helpers/."""
    pieces = [path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "kit_helpers").glob("*.py"))]
    for stage in STAGES:
        if stage.number <= stage_number:
            source = stage.reference_file.read_text(encoding="utf-8")
            pieces += [piece for piece in split_solution_blocks(source) if isinstance(piece, str)]
    return squeeze("\n".join(pieces))


def solution_lines(stage: "Stage | str") -> list[AnswerLine]:
    """The answer lines of a stage's solution blocks."""
    stage = get_stage(stage)
    given = given_text(stage.number)
    found = []
    for piece in split_solution_blocks(stage.reference_file.read_text(encoding="utf-8")):
        if isinstance(piece, SolutionBlock):
            found += [AnswerLine("solution", stage.number, piece.function or "?", text)
                      for text in meaningful(piece.body) if squeeze(text) not in given]
    return found


def hidden_check_lines() -> list[AnswerLine]:
    """The answer lines of every hidden check's body (after its docstring), but those its stage
    gives students anyway (given_text: e.g. a line of kit_helpers/, which they install)."""
    from ..checks.registry import list_checks

    found = []
    for number, functions in list_checks().items():
        given = given_text(number)
        for function, checks in functions.items():
            for check in (c for c in checks if not c.visible):
                source = textwrap.dedent(inspect.getsource(check.run))
                node = ast.parse(source).body[0]
                body = node.body[1:] if isinstance(getattr(node.body[0], "value", None), ast.Constant) else node.body
                lines = source.splitlines(keepends=True)[body[0].lineno - 1: body[-1].end_lineno]
                found += [AnswerLine("hidden check", number, f"{function}/{check.name}", text)
                          for text in meaningful("".join(lines)) if squeeze(text) not in given]
    return found


def answer_lines() -> list[AnswerLine]:
    """Every answer line of the kit: the solutions of every stage, then the hidden checks."""
    return [line for stage in STAGES for line in solution_lines(stage)] + hidden_check_lines()


def redact(text: str, lines: "list[AnswerLine] | None" = None) -> str:
    """`text` with every answer line found in it replaced by REDACTED."""
    squeezed = squeeze(text)
    for line in lines if lines is not None else answer_lines():
        if line.key and line.key in squeezed:
            pattern = r"\s*".join(re.escape(character) for character in line.key)
            text = re.sub(pattern, REDACTED, text)
            squeezed = squeeze(text)
    return text
