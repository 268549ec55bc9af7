"""Finding answer lines in what students receive (the leak scan of tests/test_student_leaks.py).

Which lines are answers is grading/student_edition/answers.py's rule (solution-block lines
and hidden-check lines that say something and are not given to students anyway). Here:
reading what students receive the way they read it, a .json file by its string values
(escapes undone), a notebook by its cells' sources, anything else as text, and finding
the answer lines in it (whitespace removed from both).
"""

import json
from dataclasses import dataclass
from pathlib import Path

from grading.stages import REPO_ROOT, STAGES
from grading.student_edition.answers import AnswerLine, given_text, squeeze


@dataclass(frozen=True)
class Text:
    """A text a student receives: its file, where in it (a cell id, a JSON path), and the content."""

    file: Path
    where: str
    content: str


def _json_strings(value, where: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, list):
        return [item for index, entry in enumerate(value) for item in _json_strings(entry, f"{where}[{index}]")]
    if isinstance(value, dict):
        found = []
        for key, entry in value.items():
            found += [(f"{where}.{key}", str(key))] + _json_strings(entry, f"{where}.{key}")
        return found
    return []


def texts_of(folder: Path) -> list[Text]:
    """Every text below `folder`, read as a student reads it (see the module docstring)."""
    texts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.suffix in (".pyc", ".png", ".gz", ".db", ".whl"):
            continue
        content = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            for cell in json.loads(content).get("cells", []):
                source = cell.get("source", "")
                texts.append(Text(path, str(cell.get("id")), "".join(source) if isinstance(source, list) else source))
        elif path.suffix == ".json":
            texts += [Text(path, where, value) for where, value in _json_strings(json.loads(content))]
        else:
            texts.append(Text(path, "", content))
    return texts


@dataclass(frozen=True)
class Hit:
    line: AnswerLine
    text: Text

    def __str__(self) -> str:
        try:
            shown = self.text.file.relative_to(REPO_ROOT)
        except ValueError:
            shown = self.text.file
        where = f" {self.text.where}" if self.text.where else ""
        return f"{shown}{where}: {self.line.kind} line of stage {self.line.stage} {self.line.origin}: {self.line.text}"


def scan(texts: list[Text], lines: list[AnswerLine], *, allowed=lambda line, text: False) -> list[Hit]:
    """Every (answer line, text) where the line is found in the text and `allowed` does not excuse it."""
    by_file: dict[Path, list[tuple[Text, str]]] = {}
    for text in texts:
        by_file.setdefault(text.file, []).append((text, squeeze(text.content)))
    hits = []
    for pieces in by_file.values():
        joined = "\0".join(content for _, content in pieces)  # one search per file, then which text
        for line in lines:
            if line.key in joined:
                hits += [Hit(line, text) for text, content in pieces
                         if line.key in content and not allowed(line, text)]
    return hits


def release_allows(line: AnswerLine, text: Text) -> bool:
    """What a stage's release notebook may hold: the earlier stages' reference code in its locked
    setup cell, and, anywhere, what its own stage gives outside the solution blocks (an earlier
    stage's line quoted in its docstrings, e.g. `rng = np.random.default_rng(seed)` in stage 05's)."""
    stage = next((s for s in STAGES if s.folder == text.file.stem), None)
    if text.file.suffix != ".ipynb" or stage is None or line.kind != "solution" or line.stage >= stage.number:
        return False
    return text.where == "setup" or line.key in given_text(stage.number)
