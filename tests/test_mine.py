"""grading.mine: a learner's own functions from a script or notebook, each stage on their own earlier ones."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from exercise_copies import copy_exercises, learner_text, write_learner_file

import grading
from grading.mine import NoExercisesFolder, find_exercises, load_my_stage, network

ALL = [stage.number for stage in grading.STAGES]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_exercises(tmp_path_factory.mktemp("solved"), solved=ALL)


def test_network_holds_every_function_from_the_learners_files(solved: Path) -> None:
    net = network(solved)
    for stage in grading.STAGES:
        for function in stage.functions:
            code = getattr(net, function).__code__
            assert Path(code.co_filename) == stage.learner_file(solved), function
    # each stage runs on the learner's own earlier stages, not on the reference
    assert Path(net.forward.relu.__code__.co_filename) == grading.get_stage("01").learner_file(solved)
    assert Path(net.train_mnist.backward_prop.__code__.co_filename) == grading.get_stage("03").learner_file(solved)
    W1, b1, W2, b2 = net.init_params(seed=0)
    X = np.random.default_rng(0).random((784, 5))
    _, _, _, A2 = net.forward_prop(W1, b1, W2, b2, X)
    np.testing.assert_allclose(A2.sum(axis=0), 1.0)


def test_the_gradient_check_is_beside_the_network_when_its_file_is_there(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path, solved=ALL)
    assert Path(network(exercises).check_backprop.__code__.co_filename) == \
        grading.get_stage("06").learner_file(exercises)
    grading.get_stage("06").learner_file(exercises).unlink()  # a copy made before stage 06 existed
    net = network(exercises)
    assert not hasattr(net, "check_backprop") and hasattr(net, "mini_batch_gradient_descent")


def test_load_my_stage_uses_your_earlier_stages(solved: Path) -> None:
    backprop = load_my_stage("03", solved)
    assert Path(backprop.__file__) == grading.get_stage("03").learner_file(solved)
    assert Path(backprop.relu_deriv.__code__.co_filename) == grading.get_stage("01").learner_file(solved)


def test_a_file_that_does_not_load_is_named_with_its_line(tmp_path: Path) -> None:
    exercises = copy_exercises(tmp_path, solved=ALL)
    write_learner_file(exercises, "01", learner_text("01", solved=True) + "\ndef broken(:\n")
    with pytest.raises(grading.LearnerFileError, match=r"activations\.py, line \d+: .*syntax error"):
        network(exercises)


def test_stubs_load_and_say_what_is_not_written(tmp_path: Path) -> None:
    net = network(copy_exercises(tmp_path))
    with pytest.raises(NotImplementedError, match=r"implement relu\(\)"):
        net.relu(np.zeros((2, 2)))


def test_the_exercises_folder_is_found_from_a_stage_folder(solved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(solved / "03_backprop")  # a notebook beside the stage file
    assert find_exercises() == solved
    monkeypatch.chdir(solved.parent)
    assert find_exercises() == Path.cwd() / "exercises"
    with pytest.raises(NoExercisesFolder, match="holds none of the stage folders"):
        find_exercises(solved / "03_backprop")


SCRIPT = """
    import sys
    try:
        from train_mnist import mini_batch_gradient_descent
    except ModuleNotFoundError as error:
        print("before:", error)
    from grading.mine import use_my_files
    use_my_files()
    from train_mnist import mini_batch_gradient_descent
    import activations
    print("after:", mini_batch_gradient_descent.__code__.co_filename, activations.__file__)
"""


def test_a_plain_script_imports_the_learners_stage_05(solved: Path) -> None:
    """The issue's script: `from train_mnist import ...` fails until use_my_files() puts the folders on sys.path."""
    script = solved.parent / "mine.py"
    script.write_text(textwrap.dedent(SCRIPT))
    result = subprocess.run([sys.executable, str(script)], cwd=solved.parent, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "before: No module named 'train_mnist'" in result.stdout
    after = result.stdout.split("after:")[1].split()
    assert after == [str(grading.get_stage("05").learner_file(solved.resolve())),
                     str(grading.get_stage("01").learner_file(solved.resolve()))]
