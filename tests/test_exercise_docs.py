"""Each stage folder's README and hints: present, in the parseable format, and free of solution code."""

import re

import pytest

from grading.stages import STAGES, Stage
from grading.build.stubs import SolutionBlock, split_solution_blocks

HINT = re.compile(r"^## Hint (\d+)\b", re.MULTILINE)
#: the per-function format of issue 12: `## <function>` sections, each with `### Hint N` sections
FUNCTION_SECTION = re.compile(r"^## (\w+)\s*$", re.MULTILINE)
FUNCTION_HINT = re.compile(r"^### Hint (\d+)\b", re.MULTILINE)


def solution_lines(stage: Stage) -> set[str]:
    """The stripped lines of code inside the stage's solution blocks (long enough to give something away)."""
    blocks = [p for p in split_solution_blocks(stage.reference_file.read_text()) if isinstance(p, SolutionBlock)]
    return {line.strip() for block in blocks for line in block.body.splitlines() if len(line.strip()) >= 10}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_readme_states_task_maths_and_command(stage: Stage) -> None:
    text = (stage.learner_file().parent / "README.md").read_text()
    assert text.startswith(f"# Stage {stage.number} ")
    assert f"`{stage.module}.py`" in text
    assert f"$ {stage.command}" in text
    assert "## Done looks like" in text
    for function in stage.functions:
        assert f"`{function}(" in text or f"`{function}`" in text, function


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_hints_are_numbered_sections_without_solution_code(stage: Stage) -> None:
    text = (stage.learner_file().parent / "hints.md").read_text()
    if FUNCTION_SECTION.search(text):  # per function: every function of the stage, in order, numbered hints
        sections = FUNCTION_SECTION.split(text)[1:]
        assert sections[::2] == list(stage.functions), sections[::2]
        for function, body in zip(sections[::2], sections[1::2]):
            numbers = [int(n) for n in FUNCTION_HINT.findall(body)]
            assert numbers == list(range(1, len(numbers) + 1)) and numbers, (function, numbers)
    else:
        numbers = [int(n) for n in HINT.findall(text)]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 4, numbers
    secrets = solution_lines(stage)
    leaked = [line for line in text.splitlines() if any(secret in line for secret in secrets)]
    assert not leaked, leaked
    assert "```" not in text, "hints describe; they hold no code blocks"
