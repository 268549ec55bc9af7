"""Each stage folder's README and hints: present, in the parseable format, and free of solution code."""

import re

import pytest

from grading.stages import REPO_ROOT, STAGES, Stage
from grading.build.stubs import SolutionBlock, split_solution_blocks

HINT = re.compile(r"^### Hint (\d+)\b", re.MULTILINE)
FUNCTION_SECTION = re.compile(r"^## (\w+)\s*$", re.MULTILINE)


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
def test_hints_have_a_section_per_function_of_numbered_hints_without_solution_code(stage: Stage) -> None:
    """hints.md: `## <function>` for each of the stage's functions, in its order, each holding
    `### Hint 1`, `### Hint 2`, ... (at least one); no code block, no line of the solution."""
    text = (stage.learner_file().parent / "hints.md").read_text()
    sections = FUNCTION_SECTION.findall(text)
    assert sections == list(stage.functions), f"the `## <function>` sections should be {stage.functions}"
    for function, body in zip(sections, re.split(r"^## .*$", text, flags=re.MULTILINE)[1:]):
        numbers = [int(n) for n in HINT.findall(body)]
        assert numbers and numbers == list(range(1, len(numbers) + 1)), (function, numbers)
    secrets = solution_lines(stage)
    leaked = [line for line in text.splitlines() if any(secret in line for secret in secrets)]
    assert not leaked, leaked
    assert "```" not in text, "hints describe; they hold no code blocks"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_readme_shows_how_to_use_ones_own_functions_from_a_notebook_or_a_script(stage: Stage) -> None:
    text = (stage.learner_file().parent / "README.md").read_text()
    assert f"mnist-kit notebook {stage.number}" in text
    assert "from grading.mine import network" in text
    assert f"mnist-kit hint {stage.number} " in text  # hints per function


def test_the_kits_readme_shows_the_learners_own_network_and_the_two_set_ups() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    top = text.split("\n## ")[0]
    # the two commands CI runs (.ci/run) stay at the top
    assert '.venv/bin/pip install -e ".[grader,dask]"' in top and ".venv/bin/python -m pytest " in top
    for fragment in ("pip install --no-compile -e .", "python -m pytest exercises/01_activations",
                     "from grading.mine import network", "mnist-kit train --mine", "mnist-kit compare",
                     "mnist-kit notebook 03", "mnist-kit hint 03 backward_prop"):
        assert fragment in text, fragment
