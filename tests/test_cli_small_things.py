"""Small things a newcomer met (issue 12, point 7): a closed pipe, `show --out x.jpg`, pictures that
say which images they show, curves numbered like the progress lines."""

import re
import subprocess
import sys

import numpy as np
import pytest
from cli_support import SAMPLE, assert_one_line_error, cli_environment, describe, run_cli
from exercise_copies import copy_exercises

from solutions.cli import main


@pytest.fixture
def weights(tmp_path):
    """A 784-10-10 weights file (its values do not matter here)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "w.npz"
    np.savez(path, W1=rng.normal(size=(10, 784)) * 0.05, b1=np.zeros((10, 1)),
             W2=rng.normal(size=(10, 10)), b2=np.zeros((10, 1)))
    return path


def test_output_cut_short_by_the_reader_ends_quietly(tmp_path):
    """`mnist-kit hint 01 --all | head -2`: the reader leaves early; no "error: Broken pipe", status 141."""
    exercises = copy_exercises(tmp_path)
    command = [sys.executable, "-m", "solutions", "hint", "01", "--all", "--exercises", str(exercises)]
    process = subprocess.Popen(command, cwd=tmp_path, env=cli_environment(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the command writes anything
    _, stderr = process.communicate(timeout=120)
    assert stderr.decode() == "", f"expected nothing on stderr, got:\n{stderr.decode()}"
    assert process.returncode == 141


def test_show_out_jpg_writes_a_jpeg(tmp_path, weights):
    result = run_cli("show", "3", "--weights", weights, "--data", SAMPLE, "--out", "digit.jpg", cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert (tmp_path / "digit.jpg").read_bytes()[:3] == b"\xff\xd8\xff", "a .jpg must hold JPEG bytes"


@pytest.mark.parametrize("out", ["digit.txt", "digit"])
def test_show_out_with_a_suffix_that_names_no_picture_format(capsys, tmp_path, weights, out):
    status = main(["show", "--weights", str(weights), "--data", str(SAMPLE), "--out", str(tmp_path / out)])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert out in err and ".png, .jpg" in err
    assert not (tmp_path / out).exists()


def test_show_says_which_images_it_draws(tmp_path, weights):
    result = run_cli("show", "0", "--weights", weights, "--data", SAMPLE, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    # --data SAMPLE is read as a test set here: 5,000 images, "test set"
    assert re.search(r"^Image 0: predicted \d, actual \d \((right|WRONG); the test set\)", result.stdout, re.M), \
        describe(result)


def test_train_plots_say_which_images_they_show(tmp_path, monkeypatch, capsys):
    import solutions.pictures as pictures

    drawn = {}
    real_save_figure = pictures.save_figure

    def record(figure, path, *args, **kwargs):
        drawn[path.name] = figure
        return real_save_figure(figure, path, *args, **kwargs)

    monkeypatch.setattr(pictures, "save_figure", record)
    monkeypatch.delenv("MNIST_KIT_DATA", raising=False)
    monkeypatch.setenv("MNIST_KIT_CACHE", str(tmp_path / "empty-cache"))
    status = main(["train", "--epochs", "1", "--data", str(SAMPLE), "--weights", str(tmp_path / "w.npz"),
                   "--plots", str(tmp_path / "plots")])
    out = capsys.readouterr().out
    assert status == 0
    assert "(digits and confusion matrix of the dev set (the first 500 training images, held out))" in out
    assert drawn["predictions.png"]._suptitle.get_text().endswith("dev set (the first 500 training images, "
                                                                  "held out), images 0-35")
    assert "dev set" in drawn["confusion_matrix.png"].axes[0].get_title()
    curves = drawn["curves.png"]
    assert list(curves.axes[0].lines[0].get_xdata()) == [0], "epoch 0 is the first, as in 'Epoch: 0 ...'"
    assert re.search(r"^Epoch: 0 ", out, re.M)
