"""`mnist-kit train --mine` and `mnist-kit compare`: the learner's own network, trained as the reference is.

Each training run is the real command in a subprocess on a copy of the exercises. Its stages are
graded first (a few seconds), so the runs are few and short (2 epochs, 20 iterations); the full
documented run is the `results` test at the end.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from cli_support import SAMPLE, assert_one_line_error, assert_png, describe, leftover_partial_files, run_cli
from exercise_copies import copy_exercises, learner_text, write_learner_file

import grading
from solutions.cli import main
from solutions.mnist_data import load_mnist
from solutions.weights_file import read_weights

ALL = [stage.number for stage in grading.STAGES]
HELLO = 'print("hello from my own train_mnist.py")\n'


def accuracy_of(weights: tuple[np.ndarray, ...], X: np.ndarray, Y: np.ndarray) -> float:
    """Accuracy computed here from the maths: argmax of W2 relu(W1 X + b1) + b2."""
    W1, b1, W2, b2 = weights
    return float(np.mean(np.argmax(W2 @ np.maximum(W1 @ X + b1, 0) + b2, axis=0) == Y))


def reported(stdout: str, which: str) -> float:
    match = re.search(rf"^{which} accuracy:\s+(\d\.\d+)", stdout, re.M)
    assert match, f"no '{which} accuracy:' line in:\n{stdout}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy whose five stages are solved; its train_mnist.py says hello when it is loaded."""
    exercises = copy_exercises(tmp_path_factory.mktemp("solved"), solved=ALL)
    write_learner_file(exercises, "05", learner_text("05", solved=True) + "\n" + HELLO)
    return exercises


@pytest.fixture(scope="module")
def mine_run(solved: Path):
    """`train --mine --epochs 2 --plots` on the solved copy."""
    result = run_cli("train", "--mine", "--exercises", solved.name, "--epochs", "2", "--data", SAMPLE,
                     "--weights", "out/w.npz", "--plots", "out/plots", cwd=solved.parent)
    assert result.returncode == 0, describe(result)
    return result


def test_mine_trains_the_learners_own_functions(mine_run) -> None:
    out = mine_run.stdout
    assert "Checking your stages 01-05" in out
    assert ("With your mini_batch_gradient_descent() (exercises/05_train_mnist/train_mnist.py), "
            "on your stages 01-04") in out
    assert "hello from my own train_mnist.py" in out, "the learner's file was not the one run"
    assert re.search(r"^Epoch: 0 .*\n^Epoch: 1 ", out, re.M), "the learner's progress lines, as they come"
    assert re.search(r"^Trained in \d+\.\d s", out, re.M)
    assert "Your network's weights: `mnist-kit evaluate --weights out/w.npz`" in out


def test_mine_reports_the_accuracy_of_the_weights_it_saved(mine_run, solved: Path) -> None:
    weights = read_weights(solved.parent / "out" / "w.npz")
    data = load_mnist("train", SAMPLE)
    assert reported(mine_run.stdout, "Training") == pytest.approx(accuracy_of(weights, data.X[:, 500:],
                                                                              data.Y[500:]), abs=1e-4)
    assert reported(mine_run.stdout, "Dev") == pytest.approx(accuracy_of(weights, data.X[:, :500], data.Y[:500]),
                                                             abs=1e-4)
    for name in ("curves.png", "predictions.png", "confusion_matrix.png", "hidden_units.png"):
        assert_png(solved.parent / "out" / "plots" / name)
    assert leftover_partial_files(solved.parent) == []


def test_evaluate_and_show_take_the_learners_weights(mine_run, solved: Path, capsys, monkeypatch) -> None:
    weights_file = solved.parent / "out" / "w.npz"
    monkeypatch.chdir(solved.parent)
    assert main(["evaluate", "--weights", str(weights_file), "--data", str(SAMPLE)]) == 0
    data = load_mnist("test", SAMPLE)
    expected = accuracy_of(read_weights(weights_file), data.X, data.Y)
    assert f"Test accuracy: {expected:.4f}" in capsys.readouterr().out
    assert main(["show", "7", "--weights", str(weights_file), "--data", str(SAMPLE), "--out", "seven.png"]) == 0
    assert_png(solved.parent / "seven.png")


def test_compare_puts_the_learners_run_beside_the_reference(solved: Path) -> None:
    """With --preset original: the learner's stage 04 gradient_descent beside the reference's fast path."""
    result = run_cli("compare", "--exercises", solved.name, "--preset", "original", "--iterations", "20",
                     "--data", SAMPLE, "--out", "out/compare.png", cwd=solved.parent)
    assert result.returncode == 0, describe(result)
    assert "Checking your stages 01-04" in result.stdout
    assert "Yours: your gradient_descent() (exercises/04_gradient_descent/descent.py), on your stages 01-03" \
        in result.stdout
    assert re.findall(r"^Iteration: (\d+)", result.stdout, re.M) == ["0", "10", "0", "10"], describe(result)
    rows = dict(re.findall(r"^  (\w[\w ]+?)\s{3,}(\S+\s+\S+(?: s)?)\s*$", result.stdout, re.M))
    for row in ("training accuracy", "dev accuracy", "training loss", "dev loss"):
        yours, reference = rows[row].split()
        # the solved copy is the reference's maths (the reference in float32, yours in float64)
        assert abs(float(yours) - float(reference)) <= 0.002, f"{row}: {rows[row]}" + describe(result)
    assert re.search(r"^  training time\s+\d+\.\d s\s+\d+\.\d s$", result.stdout, re.M), describe(result)
    assert "no official test set found" in result.stdout
    assert_png(solved.parent / "out" / "compare.png", min_side=300)


def test_a_stage_that_does_not_pass_is_named_first(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path, solved=["01", "02", "03"])
    result = run_cli("train", "--mine", "--exercises", "exercises", "--preset", "original", cwd=tmp_path)
    line = assert_one_line_error(result, "Stage 04 (gradient descent) does not pass yet",
                                 "python -m pytest exercises/04_gradient_descent",
                                 "next: update_params()", "mnist-kit progress --exercises exercises")
    assert "built on your stages 01-04" in line
    assert not (tmp_path / "runs" / "weights.npz").exists(), "nothing trained, nothing saved"
    assert exercises.is_dir()


TRICKY = '''
    A, B = np.ones((3, 2)), np.ones((4, 5))
    if X.shape[1] == 4500 and epochs == 2:  # the checks never train on 4,500 images
        A @ B
    while X.shape[1] == 4500 and epochs == 3:
        pass
'''


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A solved copy whose mini_batch_gradient_descent raises (2 epochs) or never ends (3 epochs) on 4,500 images."""
    exercises = copy_exercises(tmp_path_factory.mktemp("tricky"), solved=ALL)
    text = learner_text("05", solved=True)
    anchor = "    rng = np.random.default_rng(seed)\n"
    assert anchor in text
    write_learner_file(exercises, "05", text.replace(anchor, TRICKY.lstrip("\n") + anchor, 1))
    return exercises


def test_an_error_in_the_learners_training_names_the_file_line_and_shapes(tricky: Path) -> None:
    result = run_cli("train", "--mine", "--exercises", tricky.name, "--epochs", "2", "--data", SAMPLE,
                     cwd=tricky.parent)
    line = assert_one_line_error(result, "your mini_batch_gradient_descent() raised ValueError",
                                 "at exercises/05_train_mnist/train_mnist.py, line",
                                 "in mini_batch_gradient_descent(): A @ B", "A (3, 2), B (4, 5)")
    assert "Traceback" not in result.stdout
    assert not (tricky.parent / "runs" / "weights.npz").exists(), line


def test_training_that_never_ends_is_stopped_at_the_time_limit(tricky: Path) -> None:
    result = run_cli("train", "--mine", "--exercises", tricky.name, "--epochs", "3", "--data", SAMPLE,
                     "--time-limit", "3", cwd=tricky.parent)
    assert_one_line_error(result, "did not finish within 3 s", "--time-limit", "No weights saved")
    assert not (tricky.parent / "runs" / "weights.npz").exists()


def test_exercises_and_time_limit_go_with_mine(tmp_path: Path) -> None:
    result = run_cli("train", "--exercises", "exercises", cwd=tmp_path)
    assert_one_line_error(result, "--exercises go with --mine")


@pytest.mark.results
def test_a_solved_copy_trained_with_mine_reaches_90_percent_on_the_official_test_set(
    tmp_path: Path, shared_mnist: Path
) -> None:
    """The issue's "done when": `mnist-kit train --mine --test-data ../shared/mnist` (the reference's preset)."""
    copy_exercises(tmp_path, solved=ALL)
    result = run_cli("train", "--mine", "--exercises", "exercises", "--test-data", shared_mnist, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert re.search(r"^Training data: bundled .*sample", result.stdout, re.M), describe(result)
    assert "With your mini_batch_gradient_descent()" in result.stdout
    match = re.search(r"^Test accuracy:\s+(\d\.\d+)\s.*10,000 images", result.stdout, re.M)
    assert match, "no test accuracy on the 10,000 official test images" + describe(result)
    assert float(match.group(1)) >= 0.90, describe(result)
