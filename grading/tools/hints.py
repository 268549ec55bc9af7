"""Hints per function, revealed one at a time (`mnist-kit hint 03 backward_prop`).

Hints live in each stage folder, in exercises/NN_name/hints.md: one level-2
section per learner function, named exactly after it, holding numbered level-3
hints (anything before the first function, such as a title, is not a hint; a
heading at level 1-3 that is neither ends the hint before it):

    ## relu
    ### Hint 1: what relu does to each number
    text ...
    ### Hint 2
    text ...
    ## relu_deriv
    ### Hint 1
    ...

Which hints a learner has seen is remembered per function in a small JSON file,
`.mnist-kit/hints.json` beside the exercises folder (git-ignored at the kit's
root): {"revealed": {"03": {"backward_prop": 2}}} means hints 1 and 2 of
backward_prop() were shown. It is written atomically; one that cannot be read
is replaced, with a notice. (The older form {"revealed": {"03": 2}}, one count
per stage from the time hints were per stage, still reads: the first 2 hints of
the stage, in the order of its hints.md.)

Hints never show solution code: a hint line holding a line of the stage's
reference solution (one that the learner's stub does not already show, such as
a docstring's equation) is replaced by a note, whatever hints.md says.
"""

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from kit_helpers import atomic_write

from ..stages import STAGES, Stage
from ..build.stubs import render_learner_file, split_solution_blocks

HINTS_FILE = "hints.md"
STATE_FOLDER = ".mnist-kit"
STATE_FILE = "hints.json"
WITHHELD = "(a line of the solution was here: hints leave that to you)"
#: solution lines shorter than this (`else:`, `return T`) give nothing away
MIN_SECRET_LENGTH = 10

_FUNCTION_HEADING = re.compile(r"^##[ \t]+`?(?P<function>[A-Za-z_]\w*)(?:\(\))?`?[ \t]*$")
_HINT_HEADING = re.compile(r"^###[ \t]+Hint[ \t]+(?P<number>\d+)\b[ \t]*[:.)\-]?[ \t]*(?P<title>.*?)[ \t]*$",
                           re.IGNORECASE)
_OTHER_HEADING = re.compile(r"^#{1,3}[ \t]")


class HintsError(Exception):
    """A stage's hints cannot be read; the message is one line naming the file."""


@dataclass(frozen=True)
class Hint:
    """One hint: the function it is about, its number in the file (1, 2, ...), its title ("" when none), its text."""

    function: str
    number: int
    title: str
    body: str


#: function -> its hints, in the order of hints.md
Hints = dict[str, list[Hint]]


def hints_path(stage: Stage, exercises_dir: "str | os.PathLike") -> Path:
    """exercises/NN_name/hints.md."""
    return Path(exercises_dir) / stage.folder / HINTS_FILE


def parse_hints(text: str) -> Hints:
    """The `### Hint N` sections of each `## <function>` section of a hints.md text, in order.

    Returns:
        function -> its hints (a function section without hints maps to []); empty when
        the text has no function section.
    """
    hints: Hints = {}
    function: str | None = None
    heading = None
    body: list[str] = []
    in_code = False

    def finish() -> None:
        if heading is not None and function is not None:
            hints[function].append(Hint(function, int(heading["number"]), heading["title"],
                                        "\n".join(body).strip("\n")))

    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code:
            if heading is not None:
                body.append(line)
            continue
        function_match = _FUNCTION_HEADING.match(line)
        hint_match = _HINT_HEADING.match(line)
        if function_match:
            finish()
            function, heading, body = function_match["function"], None, []
            hints.setdefault(function, [])
        elif hint_match and function is not None:
            finish()
            heading, body = hint_match, []
        elif _OTHER_HEADING.match(line):
            finish()
            heading, body = None, []
            if line.startswith(("# ", "## ")):
                function = None
        elif heading is not None:
            body.append(line)
    finish()
    return hints


def read_hints(stage: Stage, exercises_dir: "str | os.PathLike") -> Hints:
    """The stage's hints per function, with any solution line withheld.

    Raises:
        HintsError: hints.md is missing or unreadable, holds no hint, or has a section that
            is not one of the stage's functions.
    """
    path = hints_path(stage, exercises_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HintsError(f"{path}: no such file - {stage.label} has no hints (yet); its README.md "
                         f"explains the maths.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HintsError(f"{path}: cannot be read ({error})") from None
    hints = parse_hints(text)
    unknown = [name for name in hints if name not in stage.functions]
    if unknown:
        raise HintsError(f"{path}: section `## {unknown[0]}` is not a function of {stage.label} "
                         f"(its functions: {', '.join(stage.functions)})")
    if not any(hints.values()):
        raise HintsError(f"{path}: holds no hint: hints are `### Hint 1`, `### Hint 2`, ... sections "
                         f"under a `## <function>` section per function")
    secrets = secret_lines(stage)
    return {function: [withhold_solution(hint, secrets) for hint in hints[function]]
            for function in stage.functions if hints.get(function)}


def _normalise(line: str) -> str:
    return " ".join(line.split())


def secret_lines(stage: Stage) -> set[str]:
    """The lines of the stage's solution blocks that the learner's stub does not show.

    Whitespace is collapsed; comments and lines shorter than MIN_SECRET_LENGTH are left out.
    """
    source = stage.reference_file.read_text(encoding="utf-8")
    stub = "\n".join(_normalise(line) for line in render_learner_file(source, stage).splitlines())
    secrets = set()
    for piece in split_solution_blocks(source, filename=str(stage.reference_file)):
        if isinstance(piece, str):
            continue
        for line in piece.body.splitlines():
            line = _normalise(line)
            if len(line) >= MIN_SECRET_LENGTH and not line.startswith("#") and line not in stub:
                secrets.add(line)
    return secrets


def withhold_solution(hint: Hint, secrets: set[str]) -> Hint:
    """`hint` with every line that holds one of `secrets` replaced by WITHHELD."""
    lines = [WITHHELD if any(secret in _normalise(line) for secret in secrets) else line
             for line in hint.body.splitlines()]
    return replace(hint, body="\n".join(lines))


def format_hint(stage: Stage, hint: Hint, position: int, count: int) -> str:
    """E.g. "Stage 01 (activations), relu(), hint 1 of 2: what relu does to each number" then the text."""
    title = f": {hint.title}" if hint.title else ""
    return f"{stage.label}, {hint.function}(), hint {position} of {count}{title}\n\n{hint.body}"


def state_path(exercises_dir: "str | os.PathLike") -> Path:
    """Where the revealed hints are remembered: .mnist-kit/hints.json beside the exercises folder."""
    return Path(exercises_dir).resolve().parent / STATE_FOLDER / STATE_FILE


class HintState:
    """How many hints of each function were revealed, kept in a JSON file.

    Attributes:
        path: the state file.
        revealed: stage number ("01") -> function -> hints revealed so far.
        legacy: stage number -> a count of the older per-stage form, not yet spread over
            the stage's functions (see seen()).
        notice: set by load() when the file was unreadable and has been started afresh.
    """

    def __init__(self, path: Path, revealed: dict[str, dict[str, int]] | None = None,
                 notice: str | None = None, legacy: dict[str, int] | None = None) -> None:
        self.path = path
        self.revealed = {stage: dict(counts) for stage, counts in (revealed or {}).items()}
        self.legacy = dict(legacy or {})
        self.notice = notice

    @classmethod
    def load(cls, path: "str | os.PathLike") -> "HintState":
        """The state in `path`; an empty one when it is absent, or unreadable (with .notice saying so)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError) as error:
            return cls(path, notice=_reset_notice(path, str(error)))
        try:
            revealed, legacy = _parse_state(text)
        except ValueError as error:
            return cls(path, notice=_reset_notice(path, str(error)))
        return cls(path, revealed, legacy=legacy)

    def seen(self, stage: Stage, hints: Hints) -> dict[str, int]:
        """function -> hints of it revealed, for `stage` (an older per-stage count spread in file order)."""
        counts = self.revealed.setdefault(stage.number, {})
        left = self.legacy.pop(stage.number, 0)
        for function, its_hints in hints.items():
            if left <= 0:
                break
            taken = min(left, len(its_hints))
            counts[function] = max(counts.get(function, 0), taken)
            left -= taken
        return counts

    def save(self) -> None:
        """Write the state atomically (the folder is created); functions at 0 and empty stages are left out."""
        revealed: dict[str, object] = {number: count for number, count in self.legacy.items()}
        for number, counts in self.revealed.items():
            kept = {function: count for function, count in sorted(counts.items()) if count > 0}
            if kept:
                revealed[number] = kept
        text = json.dumps({"revealed": dict(sorted(revealed.items()))}, indent=2) + "\n"
        with atomic_write(self.path) as file:
            file.write(text.encode("utf-8"))


def _parse_state(text: str) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """{"revealed": {"03": {"one_hot": 2}}} -> ({"03": {"one_hot": 2}}, {}); ValueError saying what is wrong.

    An older per-stage count ({"03": 2}) comes back in the second dict.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("revealed"), dict):
        raise ValueError('expected {"revealed": {"03": {"backward_prop": 2}, ...}}')
    stages = {stage.number: stage for stage in STAGES}
    revealed: dict[str, dict[str, int]] = {}
    legacy: dict[str, int] = {}
    for key, value in data["revealed"].items():
        if key not in stages:
            raise ValueError(f"{key!r} is not a stage number ({STAGES[0].number}..{STAGES[-1].number})")
        if _is_count(value):
            legacy[key] = value
            continue
        if not isinstance(value, dict):
            raise ValueError(f"stage {key}: {value!r} is not a count of hints per function")
        for function, count in value.items():
            if function not in stages[key].functions:
                raise ValueError(f"stage {key}: {function!r} is not one of its functions")
            if not _is_count(count):
                raise ValueError(f"stage {key}, {function}: {count!r} is not a count of hints")
        revealed[key] = dict(value)
    return revealed, legacy


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _reset_notice(path: Path, why: str) -> str:
    return f"note: {path} could not be read ({why}); starting again with no hint shown."
