"""The `mnist-kit` command end to end, in a subprocess, as a user runs it.

A short training run (3 epochs on the bundled sample, about a second) is shared
by the tests that need trained weights. Everything is written under tmp_path.
"""

import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from cli_support import (
    SAMPLE,
    assert_one_line_error,
    assert_png,
    cli_environment,
    describe,
    leftover_partial_files,
    run_cli,
)

from solutions.mnist_data import load_mnist
from solutions.weights_file import read_weights

ACCURACY_LINE = r"{} accuracy:\s+(\d\.\d+)"


def reported_accuracy(stdout: str, which: str) -> float:
    """The accuracy printed on the line 'Training accuracy: 0.8687 ...' (which = 'Training')."""
    match = re.search(ACCURACY_LINE.format(which), stdout)
    assert match, f"no '{which} accuracy:' line in the output:\n{stdout}"
    return float(match.group(1))


def forward_accuracy(weights, X, Y) -> float:
    """Accuracy computed here, directly from the maths, not through the kit's functions."""
    W1, b1, W2, b2 = weights
    logits = W2 @ np.maximum(W1 @ X + b1, 0) + b2
    return float(np.mean(np.argmax(logits, axis=0) == Y))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """`train --epochs 3` on the bundled sample with --plots: (folder, CompletedProcess)."""
    folder = tmp_path_factory.mktemp("train")
    result = run_cli(
        "train", "--epochs", "3", "--data", SAMPLE, "--weights", "out/weights.npz",
        "--plots", "out/plots", cwd=folder,
    )
    assert result.returncode == 0, describe(result)
    return folder, result


def test_train_on_the_sample_says_so_and_reports_accuracies(short_run):
    _, result = short_run
    out = result.stdout
    assert re.search(r"^Training data: .*bundled.*sample", out, re.M), (
        "training on the bundled sample must say so" + describe(result)
    )
    assert "on 4,500 images, 500 held out as dev set" in out, describe(result)
    assert re.findall(r"^Epoch: (\d+)", out, re.M) == ["0", "1", "2"], (
        "expected one progress line per epoch" + describe(result)
    )
    # 3 epochs of the better preset reach ~0.87; an untrained network is ~0.1
    assert reported_accuracy(out, "Training") > 0.7, describe(result)
    assert reported_accuracy(out, "Dev") > 0.7, describe(result)
    assert result.stderr == "", describe(result)


def test_train_saves_weights_that_match_the_reported_accuracy(short_run):
    folder, result = short_run
    weights = read_weights(folder / "out" / "weights.npz")
    assert [w.shape for w in weights] == [(10, 784), (10, 1), (10, 10), (10, 1)]
    data = load_mnist("train", SAMPLE)
    dev_accuracy = forward_accuracy(weights, data.X[:, :500], data.Y[:500])
    assert reported_accuracy(result.stdout, "Dev") == pytest.approx(dev_accuracy, abs=1e-4), (
        "the dev accuracy printed should be that of the first 500 images with the saved weights"
    )
    assert leftover_partial_files(folder) == []


@pytest.mark.parametrize(
    "name", ["curves.png", "predictions.png", "confusion_matrix.png", "hidden_units.png"]
)
def test_train_plots_are_valid_pngs(short_run, name):
    folder, _ = short_run
    assert_png(folder / "out" / "plots" / name)


def test_original_preset_prints_the_notebook_progress_lines(tmp_path):
    result = run_cli("train", "--preset", "original", "--iterations", "21", "--data", SAMPLE,
                     "--weights", "w.npz", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    lines = re.findall(r"^Iteration: (\d+)  Accuracy: (\d\.\d{3})$", result.stdout, re.M)
    assert [i for i, _ in lines] == ["0", "10", "20"], (
        "the original preset prints 'Iteration: 250  Accuracy: 0.793' every 10 iterations"
        + describe(result)
    )
    assert "uniform init, 21 full-batch iterations, alpha 0.1" in result.stdout, describe(result)
    assert (tmp_path / "w.npz").is_file()


def test_default_train_works_offline_with_no_options(tmp_path):
    # what a fresh clone runs (here cut to 1 epoch): no --data, no network
    result = run_cli("train", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert (tmp_path / "runs" / "weights.npz").is_file(), "default weights path is runs/weights.npz"
    assert re.search(r"^Training data: bundled .*sample", result.stdout, re.M), describe(result)
    assert "No official test set found" in result.stdout, describe(result)
    assert "Saved weights to runs/weights.npz" in result.stdout, describe(result)


def test_evaluate_with_the_console_script_on_the_official_test_set(short_run, shared_mnist):
    folder, _ = short_run
    weights_path = folder / "out" / "weights.npz"
    result = run_cli("evaluate", "--weights", weights_path, "--data", shared_mnist,
                     cwd=folder, script=True)
    assert result.returncode == 0, describe(result)
    test = load_mnist("test", shared_mnist)
    expected = forward_accuracy(read_weights(weights_path), test.X, test.Y)
    match = re.search(r"Test accuracy: (\d\.\d{4})\s+\(([\d,]+) of 10,000", result.stdout)
    assert match, describe(result)
    assert float(match.group(1)) == pytest.approx(expected, abs=1e-4), describe(result)
    assert int(match.group(2).replace(",", "")) == round(expected * 10_000), describe(result)


def test_train_reports_test_accuracy_when_given_the_test_set(tmp_path, shared_mnist):
    result = run_cli("train", "--epochs", "1", "--data", SAMPLE, "--test-data", shared_mnist,
                     "--weights", "w.npz", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    test = load_mnist("test", shared_mnist)
    expected = forward_accuracy(read_weights(tmp_path / "w.npz"), test.X, test.Y)
    assert reported_accuracy(result.stdout, "Test") == pytest.approx(expected, abs=1e-4)


def test_show_writes_the_prediction_png(short_run, shared_mnist, tmp_path):
    folder, _ = short_run
    result = run_cli("show", "0", "--weights", folder / "out" / "weights.npz",
                     "--data", shared_mnist, "--out", tmp_path / "digit.png", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    # the first official test image is a 7
    assert re.search(r"Image 0: predicted \d, actual 7", result.stdout), describe(result)
    assert_png(tmp_path / "digit.png")


@pytest.mark.parametrize("picture", ["grid", "confusion", "hidden-units"])
def test_show_other_pictures_default_to_runs(short_run, picture, tmp_path):
    folder, _ = short_run
    result = run_cli("show", "--picture", picture, "--data", SAMPLE,
                     "--weights", folder / "out" / "weights.npz", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    written = sorted((tmp_path / "runs").glob("*.png"))
    assert len(written) == 1, f"expected one PNG in runs/, found {written}" + describe(result)
    assert_png(written[0])


def test_no_command_prints_the_list_of_commands(tmp_path):
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    for command in ("train", "evaluate", "show", "download"):
        assert command in result.stderr, describe(result)


def test_ctrl_c_during_training_exits_cleanly_without_weights(tmp_path):
    command = [sys.executable, "-u", "-m", "solutions", "train", "--epochs", "100000",
               "--data", str(SAMPLE), "--weights", "w.npz"]
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_environment(tmp_path, {"PYTHONUNBUFFERED": "1"}),
    )
    try:
        deadline = time.monotonic() + 120
        for line in process.stdout:  # wait until training is under way
            if line.startswith("Epoch: ") or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    assert process.returncode == 130, "Ctrl-C should exit with status 130" + describe(result)
    assert_one_line_error(result, "interrupted")
    assert not (tmp_path / "w.npz").exists(), "an interrupted run must not save weights"
    assert leftover_partial_files(tmp_path) == []


@pytest.mark.parametrize(
    "preset_args, step",
    [(["--preset", "original", "--iterations", "3"], "iteration"), (["--epochs", "2"], "epoch")],
)
def test_training_curves_show_train_and_dev_over_the_right_steps(
    tmp_path, monkeypatch, capsys, preset_args, step
):
    import solutions.pictures as pictures
    from solutions.cli import main

    drawn = []
    real_save_png = pictures.save_png

    def record(figure, path, *args, **kwargs):
        drawn.append((figure, path))
        return real_save_png(figure, path, *args, **kwargs)

    monkeypatch.setattr(pictures, "save_png", record)
    monkeypatch.delenv("MNIST_KIT_DATA", raising=False)
    monkeypatch.setenv("MNIST_KIT_CACHE", str(tmp_path / "empty-cache"))
    status = main(["train", *preset_args, "--data", str(SAMPLE), "--weights",
                   str(tmp_path / "w.npz"), "--plots", str(tmp_path / "plots")])
    capsys.readouterr()
    assert status == 0
    (curves,) = [figure for figure, path in drawn if str(path).endswith("curves.png")]
    for axes in curves.axes:  # accuracy and loss panels
        assert axes.get_xlabel() == step
        assert [line.get_label() for line in axes.lines] == ["train", "dev"]
        steps_plotted = len(axes.lines[0].get_xdata())
        assert steps_plotted == int(preset_args[-1])
