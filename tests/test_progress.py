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
from curriculum_trees import suite_tests
from exercise_copies import check_count, copy_exercises, learner_text, write_learner_file

import grading
from grading.tools import isolated
from grading.tools.progress import format_table, next_step, shown_path
from grading.tools.stage_results import FunctionResult, StageResult

ROW = re.compile(r"^  (?P<number>\d\d) [\w ]+?\s{2,}(?P<status>done|in progress|not started|cannot be graded)"
                 r"\s+(?P<passed>\d+) of (?P<total>\d+)(?:\s+bonus (?P<bonus_passed>\d+) of (?P<bonus_total>\d+))?$",
                 re.MULTILINE)


def run_progress(exercises: Path, *options: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m solutions progress --exercises <copy>` from the copy's parent folder."""
    return subprocess.run([sys.executable, "-m", "solutions", "progress", "--exercises", exercises.name, *options],
                          cwd=exercises.parent, capture_output=True, text=True, timeout=timeout)


def table(output: str) -> dict[str, tuple[str, int, int]]:
    """stage number -> (status, core checks passing, core checks) from the printed table, whose rows
    are in the order the stages are taught; the bonus column is in BONUS[stage number]."""
    matches = list(ROW.finditer(output))
    rows = {m["number"]: (m["status"], int(m["passed"]), int(m["total"])) for m in matches}
    assert [m["number"] for m in matches] == [s.number for s in grading.STAGES], f"no table of the stages in:\n{output}"
    BONUS.clear()
    BONUS.update({m["number"]: (int(m["bonus_passed"]), int(m["bonus_total"])) for m in matches if m["bonus_total"]})
    return rows


#: stage number -> (bonus checks passing, bonus checks), for the stages with a bonus column in the last table read
BONUS: dict[str, tuple[int, int]] = {}


def bonus_count(stage) -> int:
    stage = grading.get_stage(stage)
    return sum(len(grading.checks_for(stage, function, bonus=True)) for function in stage.functions)


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
    assert BONUS == {"05": (0, bonus_count("05"))}, fresh.stdout


def test_fresh_copy_next_step_is_relu(fresh: subprocess.CompletedProcess) -> None:
    assert "Next: write relu() in exercises/01_activations/activations.py" in fresh.stdout
    assert "python -m pytest exercises/01_activations/test_activations.py::test_relu" in fresh.stdout
    assert "mnist-kit watch --exercises exercises" in fresh.stdout
    assert "Stuck?" not in fresh.stdout
    assert "stages pass" not in fresh.stdout


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
    assert BONUS == {"05": (bonus_count("05"), bonus_count("05"))}
    total = sum(check_count(stage) for stage in grading.STAGES)
    assert f"All {len(grading.STAGES)} stages pass ({total} checks)" in all_solved.stdout
    assert f"every optional extra passes too ({bonus_count('05')} bonus checks)" in all_solved.stdout
    assert "mnist-kit train --mine --plots runs/plots --exercises exercises" in all_solved.stdout
    assert "mnist-kit compare --exercises exercises" in all_solved.stdout
    assert "from grading.mine import network" in all_solved.stdout
    assert "Next:" not in all_solved.stdout


def test_after_stage_03_comes_the_gradient_check(tmp_path: Path) -> None:
    """Stages 01-03 solved: the next step is stage 06, taught right after 03, not stage 04."""
    results = isolated.grade_stages(grading.STAGES, copy_exercises(tmp_path, solved=("01", "02", "03")))
    text = next_step(results, tmp_path / "exercises")
    assert "Next: write numerical_gradient() in " in text and "06_gradient_check/gradient_check.py" in text
    assert "test_gradient_check.py::test_numerical_gradient" in text


def test_the_extras_do_not_keep_the_capstone_from_being_done(tmp_path: Path) -> None:
    """Every stage solved but stage 05's extras (no learning-rate schedule, plot_history a stub): done,
    the bonus column says how many extras pass, and the next step is the first extra, with its test."""
    exercises = copy_exercises(tmp_path, solved=[s.number for s in grading.STAGES])
    stage = grading.get_stage("05")
    stub = learner_text(stage, solved=False)
    plot_stub = next(line for line in stub.splitlines() if "implement plot_history()" in line)
    text = learner_text(stage, solved=True).replace("    if alpha_final is not None:\n", "    if False:\n")
    head, found, _ = text.rpartition("    figure = Figure(figsize=(10, 4))")
    assert found
    write_learner_file(exercises, "05", head + plot_stub + "\n")
    output = run_progress(exercises).stdout
    rows = table(output)
    assert rows["05"] == ("done", check_count("05"), check_count("05")), output
    keywords = len(grading.checks_for("05", "mini_batch_gradient_descent", bonus=True)[:1])  # before the schedule
    assert BONUS["05"] == (keywords + len(grading.checks_for("05", "save_params", bonus=True)), bonus_count("05"))
    assert f"All {len(grading.STAGES)} stages pass" in output
    assert ("Next extra: fix mini_batch_gradient_descent() in exercises/05_train_mnist/train_mnist.py"
            in output), output
    assert ("Grade it:  python -m pytest exercises/05_train_mnist/test_train_mnist.py::"
            "test_bonus_mini_batch_gradient_descent -m bonus") in output


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
    """progress tells the learner to run <test_file>::test_<function> (its core checks) or
    ::test_bonus_<function> (its extras): each stage's suite must define exactly those."""
    for stage in grading.STAGES:
        suite = (grading.stages.EXERCISES_DIR / stage.folder / stage.test_file).read_text(encoding="utf-8")
        defined = re.findall(r"^def (test_\w+)\(", suite, re.MULTILINE)
        assert defined == suite_tests(stage), stage.test_file
        for function in stage.functions:
            if grading.checks_for(stage, function, bonus=True):
                assert f"@bonus\ndef test_bonus_{function}():\n    grade_bonus(__file__, \"{function}\")" in suite


def test_events_read_while_the_child_writes_are_never_overwritten() -> None:
    """The child's stdout shares its file offset with the reader here: reading as lines arrive must
    not move the child's writes back over lines not read yet (train --mine once named stage 03 for
    stage 04's results after such a race)."""
    count = 20_000
    writer = ("import sys\n"
              f"for n in range({count}):\n"
              "    sys.stdout.write(f'{n:06d} ' + 'x' * (n % 50) + '\\n'); sys.stdout.flush()\n")
    file = isolated.new_event_file()
    child = subprocess.Popen([sys.executable, "-c", writer], stdout=file)
    lines, offset = [], 0
    try:
        while child.poll() is None:
            got, offset = isolated.complete_lines(file, offset)
            lines += got
        got, offset = isolated.complete_lines(file, offset)
        lines += got
    finally:
        child.kill()
        child.wait()
        file.close()
    assert [line.split()[0] for line in lines] == [f"{n:06d}" for n in range(count)]
