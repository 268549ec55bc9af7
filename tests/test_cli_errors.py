"""Every mistake a user can make with `mnist-kit` gets one clear line on stderr, no traceback.

A few cases run the real command in a subprocess (so the whole path from the
console script to the exit status is covered); the long list of bad option
values calls solutions.cli.main in-process, which is the same code, faster.
"""

import gzip

import numpy as np
import pytest
from cli_support import SAMPLE, assert_one_line_error, run_cli

from solutions.cli import main


def write_weights(path, **replace):
    """A valid 784-10-10 weights file, with some arrays replaced (None drops one)."""
    arrays = {
        "W1": np.full((10, 784), 0.01), "b1": np.zeros((10, 1)),
        "W2": np.eye(10), "b2": np.zeros((10, 1)),
    }
    arrays.update(replace)
    np.savez(path, **{name: value for name, value in arrays.items() if value is not None})
    return path


@pytest.fixture
def good_weights(tmp_path):
    return write_weights(tmp_path / "good.npz")


# ---------- in a subprocess: the real entry points ----------

def test_missing_training_data_path(tmp_path):
    result = run_cli("train", "--data", tmp_path / "nowhere.csv", cwd=tmp_path)
    assert_one_line_error(result, "nowhere.csv", "no such file")
    assert not (tmp_path / "runs" / "weights.npz").exists()


def test_truncated_weights_file(tmp_path, good_weights):
    truncated = tmp_path / "truncated.npz"
    content = good_weights.read_bytes()
    truncated.write_bytes(content[: len(content) // 2])
    result = run_cli("evaluate", "--weights", truncated, "--data", SAMPLE, cwd=tmp_path)
    assert_one_line_error(result, "truncated.npz", "corrupt or truncated")


def test_corrupt_weights_file_with_the_console_script(tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_text("these are not weights\n")
    result = run_cli("show", "--weights", corrupt, cwd=tmp_path, script=True)
    assert_one_line_error(result, "corrupt.npz", "not a .npz weights file")


def test_negative_alpha(tmp_path):
    result = run_cli("train", "--alpha", "-1", cwd=tmp_path)
    assert_one_line_error(result, "--alpha", "> 0", "'-1'")
    assert result.returncode == 2


def test_test_set_not_found(tmp_path, good_weights):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("evaluate", "--weights", good_weights, "--data", empty, cwd=tmp_path)
    assert_one_line_error(result, "empty", "no test set")


# ---------- in-process: main(argv) ----------

def run_main(capsys, *argv):
    """main(argv) -> (exit status, stdout, stderr)."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_error_line(status, err, *fragments, expected_status=None):
    assert status != 0, "expected a non-zero exit status"
    if expected_status is not None:
        assert status == expected_status
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], f"the error should mention {fragment!r}:\n{lines[0]}"


@pytest.mark.parametrize(
    "option, value, expected",
    [
        ("--alpha", "0", "> 0"),
        ("--alpha", "nan", "finite"),
        ("--alpha", "fast", "a number"),
        ("--alpha-final", "-0.01", "> 0"),
        ("--epochs", "0", ">= 1"),
        ("--iterations", "-5", ">= 1"),
        ("--epochs", "2.5", "an integer"),
        ("--batch-size", "0", "'full'"),
        ("--batch-size", "-32", "'full'"),
        ("--batch-size", "half", "'full'"),
        ("--hidden", "0", ">= 1"),
        ("--seed", "-1", ">= 0"),
        ("--dev", "-1", ">= 0"),
        ("--weight-decay", "-0.001", ">= 0"),
        ("--init", "zeros", "invalid choice"),
        ("--preset", "best", "invalid choice"),
    ],
)
def test_bad_train_option_values(capsys, tmp_path, option, value, expected):
    status, _, err = run_main(capsys, "train", option, value, "--weights", tmp_path / "w.npz")
    assert_error_line(status, err, option.lstrip("-").split("-")[0], expected, expected_status=2)
    assert not (tmp_path / "w.npz").exists()


def test_unknown_option(capsys):
    status, _, err = run_main(capsys, "train", "--learning-rate", "0.1")
    assert_error_line(status, err, "--learning-rate", expected_status=2)


def test_original_preset_refuses_options_it_cannot_honour(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--preset", "original", "--batch-size", "32",
                              "--hidden", "20", "--weights", tmp_path / "w.npz")
    assert_error_line(status, err, "--preset original", "--batch-size", "--hidden")


def test_dev_set_as_large_as_the_data(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--data", SAMPLE, "--dev", "5000",
                              "--weights", tmp_path / "w.npz")
    assert_error_line(status, err, "--dev 5000", "5,000")


def test_weights_path_is_a_folder(capsys, tmp_path):
    status, _, err = run_main(capsys, "train", "--data", SAMPLE, "--weights", tmp_path)
    assert_error_line(status, err, str(tmp_path), "is a folder")


def test_corrupt_training_csv_names_the_file_and_line(capsys, tmp_path):
    bad = tmp_path / "mnist_train.csv"
    bad.write_text("5," + ",".join(["0"] * 784) + "\n7,1,2,3\n")
    status, _, err = run_main(capsys, "train", "--data", bad, "--weights", tmp_path / "w.npz")
    assert_error_line(status, err, "mnist_train.csv")
    assert not (tmp_path / "w.npz").exists()


def test_corrupt_gzip_test_set(capsys, tmp_path, good_weights):
    bad = tmp_path / "mnist_test.csv.gz"
    bad.write_bytes(gzip.compress(b"7," + b",".join([b"0"] * 784) + b"\n")[:30])
    status, _, err = run_main(capsys, "evaluate", "--weights", good_weights, "--data", bad)
    assert_error_line(status, err, "mnist_test.csv.gz")


@pytest.mark.parametrize(
    "replace, fragments",
    [
        ({"b2": None}, ("missing array b2",)),
        ({"W1": np.zeros((10, 783))}, ("W1", "(10, 783)", "784")),
        ({"b1": np.zeros(10)}, ("b1", "(10,)", "(10, 1)")),
        ({"W2": np.zeros((10, 12))}, ("W2", "(10, 12)", "(10, 10)")),
        ({"W2": np.full((10, 10), np.nan)}, ("W2", "NaN")),
        ({"b1": np.array([[np.inf]] * 10)}, ("b1", "infinite")),
        ({"W1": np.array([["x"] * 784] * 10)}, ("W1", "dtype")),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "show"])
def test_invalid_weights_name_the_file_and_array(capsys, tmp_path, command, replace, fragments):
    path = write_weights(tmp_path / "bad.npz", **replace)
    out = ["--out", tmp_path / "x.png"] if command == "show" else []
    status, _, err = run_main(capsys, command, "--weights", path, "--data", SAMPLE, *out)
    assert_error_line(status, err, "bad.npz", *fragments, expected_status=1)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"\x93NUMPY" + b"\x00" * 100, "single .npy array"),
        (b"PK\x03\x04" + b"\x00" * 100, "corrupt or truncated"),
    ],
)
def test_unreadable_weights_files(capsys, tmp_path, content, fragment):
    path = tmp_path / "weights.npz"
    path.write_bytes(content)
    status, _, err = run_main(capsys, "evaluate", "--weights", path, "--data", SAMPLE)
    assert_error_line(status, err, "weights.npz", fragment, expected_status=1)


def test_missing_weights_file_says_how_to_make_one(capsys, tmp_path):
    status, _, err = run_main(capsys, "evaluate", "--weights", tmp_path / "none.npz",
                              "--data", SAMPLE)
    assert_error_line(status, err, "none.npz", "no such file", "mnist-kit train")


def test_show_index_out_of_range(capsys, tmp_path, good_weights):
    status, _, err = run_main(capsys, "show", "5000", "--weights", good_weights,
                              "--data", SAMPLE, "--out", tmp_path / "x.png")
    assert_error_line(status, err, "image 5000", "5,000 images")
    assert not (tmp_path / "x.png").exists()


def test_show_out_is_a_folder(capsys, tmp_path, good_weights):
    status, _, err = run_main(capsys, "show", "--weights", good_weights, "--data", SAMPLE,
                              "--out", tmp_path)
    assert_error_line(status, err, "is a folder")


def test_good_weights_pass(capsys, tmp_path, good_weights):
    # the counterpart of the failures above: the same command with a valid file succeeds
    status, out, err = run_main(capsys, "evaluate", "--weights", good_weights, "--data", SAMPLE)
    assert status == 0, err
    assert "Test accuracy:" in out


def test_weights_folder_cannot_be_created_fails_before_training(capsys, tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    status, out, err = run_main(capsys, "train", "--data", SAMPLE,
                                "--weights", not_a_folder / "w.npz")
    assert_error_line(status, err, "file.txt", "cannot create the folder for the weights")
    assert "Epoch" not in out, "the problem must be found before training, not after"


def test_diverging_training_is_one_line_and_saves_nothing(tmp_path):
    result = run_cli("train", "--alpha", "1e300", "--epochs", "1", "--data", SAMPLE,
                     "--weights", "w.npz", cwd=tmp_path)
    assert_one_line_error(result, "diverged", "--alpha")
    assert "RuntimeWarning" not in result.stderr
    assert not (tmp_path / "w.npz").exists()


def test_original_preset_accepts_options_equal_to_its_own(capsys, tmp_path):
    # the counterpart of the refusal above: restating the notebook's values is fine
    status, out, err = run_main(capsys, "train", "--preset", "original", "--batch-size", "full",
                                "--init", "uniform", "--no-augment", "--iterations", "1",
                                "--data", SAMPLE, "--weights", tmp_path / "w.npz")
    assert status == 0, err
    assert "Iteration: 0  Accuracy:" in out


@pytest.mark.parametrize("command", ["train", "show"])
def test_a_corrupt_test_set_found_on_the_search_path_is_reported_not_skipped(
    capsys, tmp_path, monkeypatch, good_weights, command
):
    # train and show fall back when no test set is found at all; a broken one is an error
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "mnist_test.csv").write_text("7,1,2\n")
    monkeypatch.setenv("MNIST_KIT_DATA", str(folder))
    monkeypatch.setenv("MNIST_KIT_CACHE", str(tmp_path / "empty-cache"))
    if command == "train":
        argv = ["train", "--epochs", "1", "--weights", tmp_path / "w.npz"]
    else:
        argv = ["show", "--weights", good_weights, "--out", tmp_path / "p.png"]
    status, _, err = run_main(capsys, *argv)
    assert_error_line(status, err, "mnist_test.csv")
