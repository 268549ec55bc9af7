"""`mnist-kit progress` on copies of the exercises: fresh stubs, stages 01-02 solved, all solved.

Each copy is graded by the real command in a subprocess, run from the folder
holding the copy (so paths print as `exercises/...`, as from the kit's root).
The expected check counts come from the checks registry, not from the command.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from exercise_copies import check_count, copy_exercises, learner_text, write_learner_file

import grading
from grading.tools import isolated
from grading.tools.progress import format_table, next_step, shown_path
from grading.tools.stage_results import FunctionResult, StageResult

ROW = re.compile(r"^  (?P<number>\d\d) [\w ]+?\s{2,}(?P<status>done|in progress|not started|cannot be graded)"
                 r"\s+(?P<passed>\d+) of (?P<total>\d+)$", re.MULTILINE)


def run_progress(exercises: Path, *options: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m solutions progress --exercises <copy>` from the copy's parent folder."""
    return subprocess.run([sys.executable, "-m", "solutions", "progress", "--exercises", exercises.name, *options],
                          cwd=exercises.parent, capture_output=True, text=True, timeout=timeout)


def table(output: str) -> dict[str, tuple[str, int, int]]:
    """stage number -> (status, checks passing, checks) from the printed table."""
    rows = {m["number"]: (m["status"], int(m["passed"]), int(m["total"])) for m in ROW.finditer(output)}
    assert sorted(rows) == [s.number for s in grading.STAGES], f"no table of the five stages in:\n{output}"
    return rows


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    exercises = copy_exercises(tmp_path_factory.mktemp("fresh"))
    (exercises / "01_activations" / "hints.md").unlink()  # no hints: no "Stuck?" line
    return run_progress(exercises)


@pytest.fixture(scope="module")
def first_two_solved(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    return run_progress(copy_exercises(tmp_path_factory.mktemp("two"), solved=("01", "02")))


@pytest.fixture(scope="module")
def all_solved(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess:
    return run_progress(copy_exercises(tmp_path_factory.mktemp("all"), solved=[s.number for s in grading.STAGES]))


def test_fresh_copy_every_stage_not_started(fresh: subprocess.CompletedProcess) -> None:
    assert fresh.returncode == 0, fresh.stderr
    rows = table(fresh.stdout)
    for stage in grading.STAGES:
        assert rows[stage.number] == ("not started", 0, check_count(stage))


def test_fresh_copy_next_step_is_relu(fresh: subprocess.CompletedProcess) -> None:
    assert "Next: write relu() in exercises/01_activations/activations.py" in fresh.stdout
    assert "python -m pytest exercises/01_activations/test_activations.py::test_relu" in fresh.stdout
    assert "mnist-kit watch --exercises exercises" in fresh.stdout
    assert "Stuck?" not in fresh.stdout
    assert "All 5 stages pass" not in fresh.stdout


def test_first_two_stages_solved(first_two_solved: subprocess.CompletedProcess) -> None:
    assert first_two_solved.returncode == 0, first_two_solved.stderr
    rows = table(first_two_solved.stdout)
    for stage in grading.STAGES:
        count = check_count(stage)
        expected = ("done", count, count) if stage.number in ("01", "02") else ("not started", 0, count)
        assert rows[stage.number] == expected
    assert "Next: write one_hot() in exercises/03_backprop/backprop.py" in first_two_solved.stdout
    assert "exercises/03_backprop/test_backprop.py::test_one_hot" in first_two_solved.stdout
    assert "Stuck?     mnist-kit hint 03 one_hot --exercises exercises" in first_two_solved.stdout


def test_all_solved_points_at_the_capstone_results(all_solved: subprocess.CompletedProcess) -> None:
    assert all_solved.returncode == 0, all_solved.stderr
    rows = table(all_solved.stdout)
    for stage in grading.STAGES:
        assert rows[stage.number] == ("done", check_count(stage), check_count(stage))
    total = sum(check_count(stage) for stage in grading.STAGES)
    assert f"All 5 stages pass ({total} checks)" in all_solved.stdout
    assert "mnist-kit train --mine --plots runs/plots --exercises exercises" in all_solved.stdout
    assert "mnist-kit compare --exercises exercises" in all_solved.stdout
    assert "from grading.mine import network" in all_solved.stdout
    assert "Next:" not in all_solved.stdout


def stage01_with(tmp_path: Path, old: str, new: str, *, solved: bool = True) -> Path:
    """A copy whose stage 01 file is the solved file (or the stub) with `old` replaced by `new`."""
    exercises = copy_exercises(tmp_path)
    text = learner_text(grading.get_stage("01"), solved=solved)
    assert old in text
    write_learner_file(exercises, "01", text.replace(old, new))
    return exercises


def test_one_function_written_is_in_progress(tmp_path: Path) -> None:
    """relu written, relu_deriv and softmax still stubs: in progress, relu's checks counted."""
    stub = learner_text(grading.get_stage("01"), solved=False)
    relu_stub = next(line for line in stub.splitlines() if "implement relu()" in line)
    exercises = stage01_with(tmp_path, relu_stub, "    return np.maximum(Z, 0)", solved=False)
    result = isolated.grade_stage("01", exercises)
    assert (result.status, result.passed, result.total) == ("in progress", len(grading.checks_for("01", "relu")),
                                                            check_count("01"))
    assert [f.status for f in result.functions] == ["passed", "not written", "not written"]
    assert f"Next: write relu_deriv() in {shown_path(exercises)}/01_activations/activations.py" in \
        next_step([result], exercises)


def test_wrong_function_shows_the_failure(tmp_path: Path) -> None:
    """A relu that returns its input unchanged: 'fix relu()' with the first line of the check's message."""
    exercises = stage01_with(tmp_path, "return np.maximum(Z, 0)", "return Z")
    result = isolated.grade_stage("01", exercises)
    assert result.status == "in progress" and result.passed < result.total
    assert result.functions[0].status == "failing"
    text = next_step([result], exercises)
    assert "Next: fix relu() in " in text
    assert "  Stage 01 (activations), relu(): " in text


def test_endless_loop_in_a_function_is_stopped_and_named(tmp_path: Path) -> None:
    exercises = stage01_with(tmp_path, "return np.maximum(Z, 0)", "while True:\n        pass")
    result = isolated.grade_stage("01", exercises, time_limit=2)
    assert [f.status for f in result.functions] == ["timed out", "not run", "not run"]
    assert "relu(): its checks were still running after 2 s" in next_step([result], exercises)


def test_endless_loop_at_top_level(tmp_path: Path) -> None:
    """Loading never ends: that stage cannot be graded, and the stages after it are still graded."""
    exercises = copy_exercises(tmp_path)
    write_learner_file(exercises, "02", learner_text(grading.get_stage("02"), solved=False)
                       + "\nwhile True:\n    pass\n")
    results = isolated.grade_stages(["01", "02", "03"], exercises, time_limit=2, jobs=1)
    assert [r.status for r in results] == ["not started", "cannot be graded", "not started"]
    assert "loading exercises/02_forward_pass/forward.py did not finish within 2 s" in results[1].problem
    text = next_step(results, exercises)
    assert "Later: " in text and "did not finish within 2 s" in text


@pytest.mark.parametrize("make_folder, message", [
    (lambda tmp: tmp / "nowhere", "no such folder"),
    (lambda tmp: tmp, "holds none of the stage folders"),
])
def test_bad_exercises_folder(tmp_path: Path, make_folder, message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "solutions", "progress", "--exercises", str(make_folder(tmp_path))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_table_counts_only_checks_before_the_first_failure() -> None:
    """format_table sums each function's passing checks (a unit test of the rendering)."""
    stage = grading.get_stage("01")
    result = StageResult(stage, [FunctionResult("relu", "passed", 3, 3),
                                 FunctionResult("relu_deriv", "failing", 1, 2, "message"),
                                 FunctionResult("softmax", "not written", 0, 5, "stub")])
    assert re.search(r"01 activations\s+in progress\s+4 of 10", format_table([result]))


def test_every_function_has_the_test_that_progress_names() -> None:
    """progress tells the learner to run <test_file>::test_<function>: each stage's suite must define it."""
    for stage in grading.STAGES:
        suite = (grading.stages.EXERCISES_DIR / stage.folder / stage.test_file).read_text(encoding="utf-8")
        for function in stage.functions:
            assert f"def test_{function}(" in suite, f"{stage.test_file} has no test_{function}"
