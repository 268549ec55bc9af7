"""Every check of every stage can fail: some wrong implementation in the catalogue fails it.

Run check by check (not stopping at the first failure), on the learner function each
mistake aims at, in the grading worker as always. Also: every mistake really is one small change to a
correct file.
"""

import difflib
import re
from pathlib import Path

import pytest
from curriculum_trees import MISTAKES_DIR, expectations, graded_function, make_tree, solved_text

from grading import GradingError, LearnerProgram, get_stage, list_checks
from grading.running.learner_function import LearnerFunction


def _mistakes() -> list[Path]:
    return sorted(MISTAKES_DIR.glob("*/*.py"))


def _target(path: Path) -> str:
    """The function a mistake aims at: the one graded by the first test its header expects to fail."""
    return graded_function(next(iter(expectations(path))))


@pytest.fixture(scope="module")
def failures_by_mistake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """"folder/name" of every mistake -> the checks of its target function that it fails."""
    exercises = make_tree(tmp_path_factory.mktemp("solved")) / "exercises"
    failures = {}
    for path in _mistakes():
        stage, function = get_stage(path.parent.name), _target(path)
        program = LearnerProgram.from_files(stage, path, exercises_dir=exercises)
        failed = set()
        with program.worker(function) as worker:
            learner = LearnerFunction(stage, function, program, worker)
            for check in list_checks()[stage.number][function]:
                learner.strict_warnings = check.strict_warnings
                try:
                    check.run(learner)
                except GradingError:
                    failed.add(check.name)
                except Exception:  # a result the check cannot use: a failure too (run_checks says so)
                    failed.add(check.name)
                if not learner.worker.alive or not program.kernel().alive:
                    break
        failures[f"{path.parent.name}/{path.stem}"] = failed
    return failures


@pytest.fixture(scope="module")
def failed_checks(failures_by_mistake: dict[str, set[str]]) -> set[tuple[str, str, str]]:
    """(stage, function, check) for every check that some mistake fails."""
    failed = set()
    for name, checks in failures_by_mistake.items():
        path = MISTAKES_DIR / f"{name}.py"
        stage, function = get_stage(path.parent.name).number, _target(path)
        failed.update((stage, function, check) for check in checks)
    return failed


#: mistakes that no check caught before the check named here was added for them: it alone fails them
ONLY_CAUGHT_BY = {
    "04_gradient_descent/descent_ignores_print_every": "progress_lines_follow_print_every",
    "05_train_mnist/training_schedule_divides_by_zero": "one_epoch_with_alpha_final",
    "05_train_mnist/save_writes_target_directly": "never_writes_into_the_old_file",
    "05_train_mnist/plot_without_labels": "curves_are_labelled",
}


@pytest.mark.parametrize("name", sorted(ONLY_CAUGHT_BY))
def test_a_new_check_catches_what_no_other_check_does(failures_by_mistake: dict, name: str) -> None:
    assert failures_by_mistake[name] == {ONLY_CAUGHT_BY[name]}, failures_by_mistake[name]


ALL_CHECKS = [check for functions in list_checks().values() for checks in functions.values() for check in checks]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: f"{c.stage}-{c.function}-{c.name}")
def test_some_mistake_fails_the_check(failed_checks: set, check) -> None:
    assert (check.stage, check.function, check.name) in failed_checks, (
        f"no mistake in tests/mistakes/ fails {check.function}'s check {check.name}: add one")


@pytest.mark.parametrize("path", _mistakes(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_mistake_is_one_small_change_to_a_correct_file(path: Path) -> None:
    text = path.read_text()
    assert re.match(r"# MISTAKE: .+\n(# EXPECT test_\w+: .+\n)+(# PASSES test_\w+: .+\n)*# Stage", text), (
        "header: MISTAKE, EXPECT (and PASSES) lines")
    body = re.sub(r"^# (MISTAKE|EXPECT) .*\n|^# MISTAKE: .*\n", "", text, flags=re.MULTILINE)
    correct = solved_text(get_stage(path.parent.name))
    changed = [line for line in difflib.unified_diff(correct.splitlines(), body.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert 0 < len(changed) <= 10, "\n".join(changed)
