"""Mistakes a learner can make in their file are explained, not dumped, in every tool:
the stage's pytest suite (`python -m pytest exercises/NN_name`), `mnist-kit progress`
and `mnist-kit watch`.

  * a syntax error names the file and the line;
  * importing a function that does not exist names the stage it was looked for in;
  * a missing function names the stage and the function;
  * a result of the wrong shape names the expected and the actual shapes, and
    arrays that do not fit on a line of the learner's code are named with their shapes.

Every learner file here is the generator's solved file with one mistake put in,
in a copy of the exercises in tmp_path.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from curriculum_trees import run_pytest
from exercise_copies import copy_exercises, learner_text, write_learner_file

import grading
from grading.tools import isolated
from grading.tools.progress import next_step


def broken(stage: str, old: str, new: str) -> tuple[str, int]:
    """The solved file of `stage` with its first `old` replaced by `new`; and that line's number."""
    text = learner_text(grading.get_stage(stage), solved=True)
    assert old in text, f"{old!r} is not in the solved file of stage {stage}"
    line = text[: text.index(old)].count("\n") + 1
    return text.replace(old, new, 1), line


def run(exercises: Path, *args: str) -> subprocess.CompletedProcess:
    """`python ARGS` from the folder holding the copy (paths print as `exercises/...`)."""
    return subprocess.run([sys.executable, *args], cwd=exercises.parent, capture_output=True, text=True,
                          timeout=300)


def pytest_output(exercises: Path, stage: str) -> str:
    """What `python -m pytest exercises/NN_name` prints for the learner."""
    folder = grading.get_stage(stage).folder
    result = run_pytest(exercises.parent, f"{exercises.name}/{folder}", "-p", "no:cacheprovider")
    assert result.returncode == 1, result.stdout + result.stderr  # tests failed (not a crash: that is 2 or more)
    assert "Traceback" not in result.stdout and "raise " not in result.stdout, result.stdout
    return result.stdout


@pytest.fixture(scope="module")
def syntax_and_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """Stage 01 with a missing colon; stage 02 importing `sigmoid`, which stage 01 does not have."""
    exercises = copy_exercises(tmp_path_factory.mktemp("mistakes"))
    text, line = broken("01", "def relu_deriv(Z: np.ndarray) -> np.ndarray:", "def relu_deriv(Z: np.ndarray) -> np.ndarray")
    write_learner_file(exercises, "01", text)
    text, _ = broken("02", "from activations import relu, softmax", "from activations import relu, sigmoid")
    write_learner_file(exercises, "02", text)
    return exercises, line


def test_syntax_error_under_pytest(syntax_and_import: tuple[Path, int]) -> None:
    exercises, line = syntax_and_import
    output = pytest_output(exercises, "01")
    assert f"exercises/01_activations/activations.py, line {line}: " in output
    assert "(a syntax error)" in output


def test_syntax_error_in_progress(syntax_and_import: tuple[Path, int]) -> None:
    exercises, line = syntax_and_import
    result = run(exercises, "-m", "solutions", "progress", "--exercises", exercises.name)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  01 activations\s+cannot be graded", result.stdout, re.MULTILINE)
    assert "Next: fix exercises/01_activations/activations.py - it cannot be graded:" in result.stdout
    assert f"exercises/01_activations/activations.py, line {line}: " in result.stdout
    # stage 02's import problem is listed too, naming the stage it imports from
    assert "Later: exercises/02_forward_pass/forward.py cannot be graded either:" in result.stdout
    assert "stage 01 (activations) has no function sigmoid" in result.stdout


def test_syntax_error_in_watch(syntax_and_import: tuple[Path, int]) -> None:
    exercises, line = syntax_and_import
    result = run(exercises, "-m", "solutions", "watch", "01", "--max-runs", "1", "--exercises", exercises.name)
    assert result.returncode == 0, result.stderr
    assert "Stage 01 (activations): cannot be graded" in result.stdout
    assert f"activations.py, line {line}: " in result.stdout


def test_import_of_a_missing_function_names_the_stage(syntax_and_import: tuple[Path, int]) -> None:
    exercises, _ = syntax_and_import
    output = pytest_output(exercises, "02")
    provides = ", ".join(grading.get_stage("01").functions)
    assert "forward.py, line " in output and " imports sigmoid from activations" in output
    assert f"stage 01 (activations) has no function sigmoid: it provides {provides}." in output
    assert "solutions.activations" not in output  # not the reference module's dotted name


def test_import_of_a_missing_function_from_the_learners_own_file(tmp_path: Path) -> None:
    """The capstone imports the learner's own files of stages 01-04."""
    exercises = copy_exercises(tmp_path, solved=("01", "02", "03", "04", "05"))
    text, _ = broken("05", "from descent import ", "from descent import gradient_desc, ")
    write_learner_file(exercises, "05", text)
    output = pytest_output(exercises, "05")
    assert "imports gradient_desc from descent, but stage 04 (gradient descent) has no function gradient_desc " \
           "(did you mean gradient_descent?)" in output
    assert "Your exercises/04_gradient_descent/descent.py is the one imported" in output


@pytest.mark.parametrize("line, expected", [
    ("from activation import relu, softmax",
     "imports activation, which does not exist: did you mean `from activations import ...` (stage 01)?"),
    ("from backprop import one_hot",
     "imports backprop, which is stage 03 (backprop): a stage can import only the stages before it: "
     "activations (stage 01)."),
])
def test_misspelt_or_later_stage_module(tmp_path: Path, line: str, expected: str) -> None:
    exercises = copy_exercises(tmp_path)
    text, number = broken("02", "from activations import relu, softmax", line)
    path = write_learner_file(exercises, "02", text)
    with pytest.raises(grading.LearnerFileError) as error:
        grading.load_learner_module("02", path)
    assert str(error.value).startswith("Stage 02 (forward pass): ")
    assert f"forward.py, line {number} {expected}" in str(error.value)


@pytest.fixture(scope="module")
def missing_and_shape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stage 01 with softmax renamed soft_max; stage 02's forward_prop returning A2 transposed."""
    exercises = copy_exercises(tmp_path_factory.mktemp("shapes"))
    write_learner_file(exercises, "01", broken("01", "def softmax(", "def soft_max(")[0])
    write_learner_file(exercises, "02", broken("02", "return Z1, A1, Z2, A2", "return Z1, A1, Z2, A2.T")[0])
    return exercises


def test_missing_function_names_stage_and_function(missing_and_shape: Path) -> None:
    output = pytest_output(missing_and_shape, "01")
    assert "Stage 01 (activations): there is no function softmax()" in output
    result = isolated.grade_stage("01", missing_and_shape)
    assert [f.status for f in result.functions] == ["passed", "passed", "failing"]
    assert "Stage 01 (activations): there is no function softmax()" in next_step([result], missing_and_shape)


TRANSPOSED = r"A2 has shape \((\d+), (\d+)\), expected \(\2, \1\)"


def test_wrong_shape_names_expected_and_actual(missing_and_shape: Path) -> None:
    output = pytest_output(missing_and_shape, "02")
    assert re.search(TRANSPOSED, output), output
    result = isolated.grade_stage("02", missing_and_shape)
    assert re.search("Next: fix forward_prop\\(\\).*\n  Stage 02 \\(forward pass\\), forward_prop\\(\\): " + TRANSPOSED,
                     next_step([result], missing_and_shape)), next_step([result], missing_and_shape)


def test_shapes_that_do_not_fit_on_a_line_are_named(tmp_path: Path) -> None:
    """`W1 @ X.T` raises inside the learner's code: the message lists the arrays on that line."""
    exercises = copy_exercises(tmp_path)
    write_learner_file(exercises, "02", broken("02", "Z1 = W1 @ X + b1", "Z1 = W1 @ X.T + b1")[0])
    shapes = r"shapes:   on that line, W1 \(\d+, \d+\), X\.T \(\d+, \d+\), b1 \(\d+, 1\)"
    output = pytest_output(exercises, "02")
    assert "forward_prop(): raised ValueError: matmul" in output
    assert re.search(shapes, output), output
    result = isolated.grade_stage("02", exercises)
    assert re.search(shapes, next_step([result], exercises)), next_step([result], exercises)
