"""A stage's hints, revealed one at a time (`mnist-kit hint STAGE`).

Hints live in each stage folder, in exercises/NN_name/hints.md, as numbered
level-2 sections (anything before the first one, such as a title, is not a hint;
a level-1 or level-2 heading that is not a hint ends the last one):

    ## Hint 1: what shape is Z?
    text ...
    ## Hint 2
    text ...

Which hints a learner has seen is remembered per stage in a small JSON file,
`.mnist-kit/hints.json` beside the exercises folder (git-ignored at the kit's
root): {"revealed": {"01": 2}} means hints 1 and 2 of stage 01 were shown. It is
written atomically; one that cannot be read is replaced, with a notice.

Hints never show solution code: a hint line holding a line of the stage's
reference solution (one that the learner's stub does not already show, such as
a docstring's equation) is replaced by a note, whatever hints.md says.
"""

import json
import os
import re
from dataclasses import dataclass
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

_HINT_HEADING = re.compile(r"^##[ \t]+Hint[ \t]+(?P<number>\d+)\b[ \t]*[:.)\-]?[ \t]*(?P<title>.*?)[ \t]*$",
                           re.IGNORECASE)
_OTHER_HEADING = re.compile(r"^#{1,2}[ \t]")


class HintsError(Exception):
    """A stage's hints cannot be read; the message is one line naming the file."""


@dataclass(frozen=True)
class Hint:
    """One hint: its number in the file (1, 2, ...), its title ("" when none) and its text."""

    number: int
    title: str
    body: str


def hints_path(stage: Stage, exercises_dir: "str | os.PathLike") -> Path:
    """exercises/NN_name/hints.md."""
    return Path(exercises_dir) / stage.folder / HINTS_FILE


def parse_hints(text: str) -> list[Hint]:
    """The `## Hint N` sections of a hints.md text, in order (empty when there are none)."""
    hints: list[Hint] = []
    heading = None
    body: list[str] = []
    in_code = False

    def finish() -> None:
        if heading is not None:
            hints.append(Hint(int(heading["number"]), heading["title"], "\n".join(body).strip("\n")))

    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HINT_HEADING.match(line)
        if match:
            finish()
            heading, body = match, []
        elif not in_code and _OTHER_HEADING.match(line):
            finish()
            heading, body = None, []
        elif heading is not None:
            body.append(line)
    finish()
    return hints


def read_hints(stage: Stage, exercises_dir: "str | os.PathLike") -> list[Hint]:
    """The stage's hints, with any solution line withheld.

    Raises:
        HintsError: hints.md is missing, unreadable, or holds no `## Hint N` section.
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
    if not hints:
        raise HintsError(f"{path}: holds no hint: hints are sections headed `## Hint 1`, `## Hint 2`, ...")
    secrets = secret_lines(stage)
    return [withhold_solution(hint, secrets) for hint in hints]


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
    return Hint(hint.number, hint.title, "\n".join(lines))


def format_hint(stage: Stage, hint: Hint, position: int, count: int) -> str:
    """E.g. "Stage 01 (activations), hint 1 of 3: what shape is Z?" then the text."""
    title = f": {hint.title}" if hint.title else ""
    return f"{stage.label}, hint {position} of {count}{title}\n\n{hint.body}"


def state_path(exercises_dir: "str | os.PathLike") -> Path:
    """Where the revealed hints are remembered: .mnist-kit/hints.json beside the exercises folder."""
    return Path(exercises_dir).resolve().parent / STATE_FOLDER / STATE_FILE


class HintState:
    """How many hints of each stage were revealed, kept in a JSON file.

    Attributes:
        path: the state file.
        revealed: stage number ("01") -> hints revealed so far.
        notice: set by load() when the file was unreadable and has been started afresh.
    """

    def __init__(self, path: Path, revealed: dict[str, int] | None = None, notice: str | None = None) -> None:
        self.path = path
        self.revealed = dict(revealed or {})
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
            revealed = _parse_state(text)
        except ValueError as error:
            return cls(path, notice=_reset_notice(path, str(error)))
        return cls(path, revealed)

    def save(self) -> None:
        """Write the state atomically (the folder is created)."""
        text = json.dumps({"revealed": dict(sorted(self.revealed.items()))}, indent=2) + "\n"
        with atomic_write(self.path) as file:
            file.write(text.encode("utf-8"))


def _parse_state(text: str) -> dict[str, int]:
    """{"revealed": {"01": 2}} -> {"01": 2}; ValueError saying what is wrong otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("revealed"), dict):
        raise ValueError('expected {"revealed": {"01": 2, ...}}')
    numbers = {stage.number for stage in STAGES}
    revealed = {}
    for key, count in data["revealed"].items():
        if key not in numbers:
            raise ValueError(f"{key!r} is not a stage number (01..05)")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"stage {key}: {count!r} is not a count of hints")
        revealed[key] = count
    return revealed


def _reset_notice(path: Path, why: str) -> str:
    return f"note: {path} could not be read ({why}); starting again with no hint shown."
