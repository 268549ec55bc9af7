"""Each stage folder's README and hints: present, in the parseable format, and free of solution code."""

import re

import pytest

from grading.stages import STAGES, Stage
from grading.build.stubs import SolutionBlock, split_solution_blocks

HINT = re.compile(r"^## Hint (\d+)\b", re.MULTILINE)


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
    numbers = [int(n) for n in HINT.findall(text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 4, numbers
    secrets = solution_lines(stage)
    leaked = [line for line in text.splitlines() if any(secret in line for secret in secrets)]
    assert not leaked, leaked
    assert "```" not in text, "hints describe; they hold no code blocks"
