"""Every check of every stage can fail: some wrong implementation in the catalogue fails it.

Run in-process and check by check (not stopping at the first failure), on the learner
function each mistake aims at. Also: every mistake really is one small change to a
correct file.
"""

import difflib
import re
from pathlib import Path

import pytest
from curriculum_trees import MISTAKES_DIR, make_tree, solved_text

from grading import GradingError, get_stage, list_checks, load_learner_module
from grading.checks.registry import learner_function


def _mistakes() -> list[Path]:
    return sorted(MISTAKES_DIR.glob("*/*.py"))


def _target(path: Path) -> str:
    """The function a mistake aims at: the first test its header expects to fail (test_<function>,
    or test_bonus_<function> for a mistake in an extra)."""
    return re.search(r"^# EXPECT test_(?:bonus_)?(\w+):", path.read_text(), re.MULTILINE)[1]


@pytest.fixture(scope="module")
def failed_checks(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, str]]:
    """(stage, function, check) for every check that some mistake fails."""
    exercises = make_tree(tmp_path_factory.mktemp("solved")) / "exercises"
    failed = set()
    for path in _mistakes():
        stage, function = get_stage(path.parent.name), _target(path)
        module = load_learner_module(stage, path, exercises_dir=exercises)
        for check in list_checks()[stage.number][function]:
            try:  # the learner's function as the checks get it (through the stage's adapter, if any)
                check.run(learner_function(stage, function, module))
            except (GradingError, Exception):
                failed.add((stage.number, function, check.name))
    return failed


ALL_CHECKS = [check for functions in list_checks().values() for checks in functions.values() for check in checks]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: f"{c.stage}-{c.function}-{c.name}")
def test_some_mistake_fails_the_check(failed_checks: set, check) -> None:
    assert (check.stage, check.function, check.name) in failed_checks, (
        f"no mistake in tests/mistakes/ fails {check.function}'s check {check.name}: add one")


@pytest.mark.parametrize("path", _mistakes(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_mistake_is_one_small_change_to_a_correct_file(path: Path) -> None:
    text = path.read_text()
    assert re.match(r"# MISTAKE: .+\n(# EXPECT test_\w+: .+\n)+# Stage", text), "header: MISTAKE, EXPECT lines"
    body = re.sub(r"^# (MISTAKE|EXPECT) .*\n|^# MISTAKE: .*\n", "", text, flags=re.MULTILINE)
    correct = solved_text(get_stage(path.parent.name))
    changed = [line for line in difflib.unified_diff(correct.splitlines(), body.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert 0 < len(changed) <= 10, "\n".join(changed)
