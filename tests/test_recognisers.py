"""The recognisers behind the failure messages: each fires on its mistake and on no correct code.

The mistake catalogue and tests/wild/ show, through the exercise suites, that each recogniser
fires on the mistake it is for (their `# EXPECT` phrases). Here, in-process:

  * every recogniser stays silent on what the reference and every alternative in
    tests/alternatives/ return for the checks' own inputs (a recogniser that matched a right
    answer would put a wrong cause in a message);
  * the general ones (a factor k, a sign, a transposed square result) and the pure wording
    of raised exceptions are pinned on small cases;
  * `shapes_on_line` lists operands as written and evaluates nothing but array views;
  * a helper that fails its own checks costs nothing to the function that calls it.
"""

import contextlib

from pathlib import Path

import numpy as np
import pytest
from curriculum_trees import ALTERNATIVES_DIR, MISTAKES_DIR, make_tree

import solutions.backprop
from grading import GradingError, LearnerProgram, get_stage, load_learner_module, run_checks
from grading.checks import expect, show
from grading.checks import stage01_activations as stage01
from grading.checks import stage02_forward_pass as stage02
from grading.checks import stage03_backprop as stage03
from grading.checks import stage04_gradient_descent as stage04
from grading.checks.fixtures import batch
from grading.running.learner_function import LearnerFunction
from grading.running.raised_hints import code_of, explain_raised
from grading.sandbox.kit_worker.shape_errors import shapes_in_code

@pytest.fixture(scope="module")
def correct_modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Stage number -> [the solved learner file, every alternative], loaded as learner files (stages 01-04)."""
    exercises = make_tree(tmp_path_factory.mktemp("alternatives")) / "exercises"
    modules = {}
    for number in ("01", "02", "03", "04"):
        stage = get_stage(number)
        paths = [stage.learner_file(exercises)] + sorted((ALTERNATIVES_DIR / stage.folder).glob("*.py"))
        modules[number] = [load_learner_module(stage, path, exercises_dir=exercises) for path in paths]
    return modules


@contextlib.contextmanager
def learner_function(stage: str, function: str, module):
    """A LearnerFunction for `function` of a loaded learner file, running in the grading worker."""
    program = LearnerProgram.from_files(stage, Path(module.__file__))
    with program.worker(function) as worker:
        yield LearnerFunction(stage, function, program, worker)


def _mistake(stage: str, name: str, tmp_path: Path):
    exercises = make_tree(tmp_path) / "exercises"
    return load_learner_module(stage, MISTAKES_DIR / get_stage(stage).folder / f"{name}.py", exercises_dir=exercises)


# ------------------------------------------------ general: factor, sign, transpose
def test_general_mistake_names_a_factor_a_sign_and_a_square_transpose() -> None:
    expected = np.array([[0.5, -1.0, 2.0], [0.25, 3.0, -0.75], [1.0, 0.0, 4.0]])
    assert "14000 times too small" in expect.general_mistake(expected / 14000, expected, "dW2")
    assert "3 times too large" in expect.general_mistake(3 * expected, expected, "dW2")
    assert "wrong sign: every entry is minus" in expect.general_mistake(-expected, expected, "dW2")
    assert "wrong sign and is 2.5 times too large" in expect.general_mistake(-2.5 * expected, expected, "dW2")
    assert "dW2 is transposed" in expect.general_mistake(expected.T, expected, "dW2")
    assert expect.general_mistake(expected, expected, "dW2") is None
    assert expect.general_mistake(expected + 0.1, expected, "dW2") is None  # no single factor explains it
    assert expect.general_mistake(np.array([2, 4]), np.array([1, 2]), "labels") is None  # not for integers


def test_general_mistake_is_silent_on_every_correct_result(correct_modules: dict,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Every expect_close of every check of stages 01-04, on the reference and every alternative."""
    seen = []
    original = expect.expect_close

    def spy(fn, got, expected, **kwargs):
        result = original(fn, got, expected, **kwargs)  # passes: a correct result
        seen.append((fn.name, expect.general_mistake(np.asarray(got), np.asarray(expected), "it")))
        return result

    for module in (stage01, stage02, stage03, stage04):
        monkeypatch.setattr(module, "expect_close", spy)
    for number, modules in correct_modules.items():
        for module in modules:
            for function in get_stage(number).functions:
                run_checks(number, function, module)
    assert len(seen) > 100
    assert [entry for entry in seen if entry[1] is not None] == []


# ------------------------------------------------ stage 01: softmax shifted by the global max
def test_global_max_softmax_is_recognised_only_on_the_mistake(correct_modules: dict, tmp_path: Path) -> None:
    Z = stage01.FAR_APART_Z
    wrong = stage01.softmax_shifted_by_global_max(Z)
    for module in correct_modules["01"]:
        assert not expect.close(module.softmax(Z.copy()), wrong), module
    mistake = _mistake("01", "softmax_global_max", tmp_path)
    assert expect.recognise(mistake.softmax(Z.copy()), stage01._softmax_mistakes(Z)).startswith(
        "you shifted by the largest entry of the whole matrix (45)")


# ------------------------------------------------ stage 02: init ignored
def test_init_ignored_only_when_it_is(correct_modules: dict, tmp_path: Path) -> None:
    for module in correct_modules["02"]:
        with learner_function("02", "init_params", module) as fn:
            assert not stage02.init_is_ignored(fn, (784, 10, 10), 1)
    with learner_function("02", "init_params", _mistake("02", "init_scheme_name_typo", tmp_path)) as fn:
        assert stage02.init_is_ignored(fn, (784, 10, 10), 1)


# ------------------------------------------------ stage 03: one_hot by values, loss factors
#: the labels the one_hot checks use, with their num_classes
ONE_HOT_INPUTS = [(np.array([2, 0, 1]), 10), (np.array([3, 3, 3, 3]), 10), (np.array([7]), 10),
                  (np.random.default_rng(5).integers(0, 10, size=200), 10), (np.array([0, 3, 1, 1, 2]), 4)]


def test_one_hot_mistakes_match_no_correct_one_hot(correct_modules: dict) -> None:
    for module in correct_modules["03"]:
        for Y, classes in ONE_HOT_INPUTS:
            got = module.one_hot(Y.copy(), classes)
            assert expect.recognise(got, stage03.one_hot_mistakes(Y, classes)) is None, (module, Y)


def test_one_hot_square_results_are_told_apart_by_their_values() -> None:
    Y = np.array([2, 0, 1])  # Y.max() + 1 == m: both orientations are (3, 3)
    notebook = np.zeros((Y.size, Y.max() + 1))
    notebook[np.arange(Y.size), Y] = 1
    rows = expect.recognise(notebook.T, stage03.one_hot_mistakes(Y))
    both = expect.recognise(notebook, stage03.one_hot_mistakes(Y))
    assert rows.endswith("not Y.max() + 1 (3 here); the orientation, one column per example, is right")
    assert both.endswith("not Y.max() + 1 (3 here), and the result is transposed: one COLUMN per example")
    symmetric = np.array([0, 2, 1])  # its (3, 3) one-hot matrix is its own transpose: orientation unknown
    hint = expect.recognise(solutions.backprop.one_hot(symmetric, 3), stage03.one_hot_mistakes(symmetric))
    assert hint.endswith("not Y.max() + 1 (3 here)")


def test_loss_factors_are_recognised_only_on_wrong_losses(correct_modules: dict) -> None:
    for module in correct_modules["03"]:
        for seed, m in ((1, 1), (2, 100), (3, 7)):
            A2, Y = stage03._probabilities(seed, m)
            got, want = module.cross_entropy(A2.copy(), Y.copy()), solutions.backprop.cross_entropy(A2, Y)
            assert stage03.loss_factor_mistake(got, want, m) is None
    assert stage03.loss_factor_mistake(-2.0 * 1.5, 1.5, 2).startswith(
        "the minus sign is missing and it is the SUM over the 2 examples, not the mean")
    assert stage03.loss_factor_mistake(1.5 / 4, 1.5, 4).startswith("it is divided by m = 4 twice")
    assert stage03.loss_factor_mistake(1.7, 1.5, 4) is None


def test_gradient_scale_points_at_one_over_m() -> None:
    assert stage03.gradient_scale_hint("dW2", 3 / 42000, 3).startswith(
        "dW2 is 14000 times too small: it is divided by 42000 instead of by m = 3")
    assert "one factor 1/m" in stage03.gradient_scale_hint("db1", 0.37, 3)


# ------------------------------------------------ stage 04: learning rate, accuracy
def test_learning_rate_mistake_only_for_another_rate(correct_modules: dict, tmp_path: Path) -> None:
    b = batch(31)
    params, grads = b.params, b.gradients()
    for module in correct_modules["04"]:
        new = module.update_params(*[a.copy() for a in params + grads], 0.5)
        for name, before, after, grad in zip(stage04.PARAMS, params, new, grads):
            assert stage04.learning_rate_mistake(name, before, after, grad, 0.5) is None
    mistake = _mistake("04", "update_fixed_alpha", tmp_path)
    new = mistake.update_params(*[a.copy() for a in params + grads], 0.5)
    assert stage04.learning_rate_mistake("b2", params[3], new[3], grads[3], 0.5).startswith(
        "it stepped with a learning rate of 0.1, not the alpha it was given (0.5)")


def test_accuracy_mistakes_only_for_wrong_accuracies(correct_modules: dict) -> None:
    rng = np.random.default_rng(41)
    Y = rng.integers(0, 10, size=1000)
    cases = [(np.array([1, 2, 3, 4, 5]), np.array([1, 2, 0, 4, 5])), (Y.copy(), Y), ((Y + 1) % 10, Y),
             (np.array([3]), np.array([3]))]
    for module in correct_modules["04"]:
        for predictions, labels in cases:
            got = module.get_accuracy(predictions, labels)
            count = int(np.sum(predictions == labels))
            assert stage04.accuracy_mistake(got, count / labels.size, count, labels.size) is None
    assert stage04.accuracy_mistake(0, 0.8, 4, 5).startswith("`//` is floor division: 4 // 5 is 0")


# ------------------------------------------------ raised exceptions: pure wording
def _explain(type_name: str, message: str, code: str, shapes: dict | None = None):
    return explain_raised(type_name, message, f"forward.py, line 9, in forward_prop(): {code}", shapes or {})


AMBIGUOUS = "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
BROADCAST = "operands could not be broadcast together with shapes (2,3) (3,2) "


def test_builtin_max_and_if_on_arrays() -> None:
    assert "use np.maximum(Z, 0), which works entry by entry" in _explain("ValueError", AMBIGUOUS,
                                                                          "return max(Z, 0)").mistake
    assert "np.minimum(Z, 1)" in _explain("ValueError", AMBIGUOUS, "A = min(Z, 1)").mistake
    assert "np.where" in _explain("ValueError", AMBIGUOUS, "if Z > 0:").mistake
    assert "`&` / `|`" in _explain("ValueError", AMBIGUOUS, "mask = Z > 0 and Z < 1").mistake
    unknown = _explain("ValueError", AMBIGUOUS, "return helper(Z)")
    assert unknown.mistake is None and unknown.hint


def test_star_versus_at_and_transposes_from_the_shapes() -> None:
    star = _explain("ValueError", BROADCAST, "Z1 = W1 * X + b1", {"W1": (2, 3), "X": (3, 2), "b1": (2, 1)})
    assert star.mistake.startswith("`W1 * X` multiplies entry by entry (W1 (2, 3), X (3, 2))")
    assert "`W1 @ X`" in star.mistake and star.show_shapes
    matmul = ("matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
              "(n?,k),(k,m?)->(n?,m?) (size 2 is different from 3)")
    at = _explain("ValueError", matmul, "Z1 = W1 @ X.T + b1", {"W1": (2, 3), "X.T": (2, 3), "b1": (2, 1)})
    assert at.mistake.endswith("X has 3 rows, so use `W1 @ X`")
    dot = _explain("ValueError", "shapes (3,3) and (4,3) not aligned: 3 (dim 1) != 4 (dim 0)",
                   "dW1 = dZ1.dot(X) / m", {"dZ1": (3, 3), "X": (4, 3)})
    assert dot.mistake.endswith("use `dZ1.dot(X.T)`")


def test_elementwise_products_that_are_meant_are_not_called_a_mistake() -> None:
    """Lines of correct code with `*` (the alternatives' and the reference's), were they ever to raise."""
    for code, shapes in (("return Z * (Z > 0)", {"Z": (2, 3)}),
                         ("dZ1 = (W2.T @ dZ2) * relu_deriv(Z1)", {"W2.T": (3, 10), "dZ2": (10, 3), "Z1": (3, 3)}),
                         ("W1 = W1 - alpha * dW1", {"W1": (3, 4), "dW1": (3, 4)})):
        assert _explain("ValueError", BROADCAST, code, shapes).mistake is None, code


def test_raveled_bias_and_one_epoch_schedule() -> None:
    ravel = _explain("ValueError", "operands could not be broadcast together with shapes (3,2) (3,) ",
                     "Z2 = W2.dot(A1) + b2.ravel()", {"W2": (3, 2), "A1": (2, 2), "b2.ravel()": (3,)})
    assert ravel.mistake.startswith("b2.ravel() has shape (3,): a 1-D array lines up with the LAST axis")
    schedule = explain_raised("ZeroDivisionError", "float division by zero",
                              "train_mnist.py, line 3, in mini_batch_gradient_descent(): "
                              "rate = alpha + (alpha_final - alpha) * epoch / (epochs - 1)", {})
    assert schedule.mistake.startswith("with epochs=1, epochs - 1 is 0")
    other = explain_raised("ZeroDivisionError", "division by zero", "a.py, line 1, in f(): x = 1 / n", {})
    assert other.mistake is None and "divisor" in other.hint
    assert code_of("backprop.py, line 12, in backward_prop(): dZ2 = A2 - T") == "dZ2 = A2 - T"
    assert explain_raised("KeyError", "'W1'", None, {}).mistake is None


# ------------------------------------------------ shapes on the line, as written
def test_shapes_are_listed_as_the_line_uses_them() -> None:
    values = {"W2": np.zeros((3, 2)), "A1": np.zeros((2, 2)), "b2": np.zeros((3, 1)), "X": np.zeros((4, 5))}
    assert shapes_in_code("Z2 = W2.dot(A1) + b2.ravel()", values.get) == {
        "W2": (3, 2), "A1": (2, 2), "b2.ravel()": (3,)}
    assert shapes_in_code("Z = W2.T @ X.reshape(4, 5)[0] + b2.reshape(-1)", values.get) == {
        "W2.T": (2, 3), "X.reshape(4, 5)": (4, 5), "b2.reshape(-1)": (3,)}
    assert shapes_in_code("if A1.squeeze().sum() > 0:", values.get) == {"A1.squeeze()": (2, 2)}
    assert shapes_in_code("elif W2.T.ravel()[0] > 0:", values.get) == {"W2.T.ravel()": (6,)}
    assert shapes_in_code("Z1 = (W2 @ A1", values.get) == {"W2": (3, 2), "A1": (2, 2)}  # half a statement


def test_nothing_but_array_views_is_evaluated() -> None:
    calls = []

    class Spy:
        def ravel(self):
            calls.append("ravel")
            return np.zeros(3)

    values = {"f": lambda: calls.append("f") or np.zeros(2), "spy": Spy(), "n": 3, "X": np.zeros((2, 2))}
    shown = shapes_in_code("Z = f().T + spy.ravel() + X.reshape(n, 1) + X.astype(float)", values.get)
    assert calls == [] and shown == {"X": (2, 2)}


# ------------------------------------------------ printing, helpers' notes
def test_tiny_values_are_not_printed_as_zero() -> None:
    text = show.show(np.array([[1.2e-5, 0.0], [3e-6, -2.5e-7]]))
    assert "1.2e-05" in text and "-2.5e-07" in text
    assert "0.3" in show.show(np.array([0.3, 1e-6]))  # a visible entry: ordinary decimals


def test_a_failing_helper_costs_nothing_to_the_function_that_calls_it(tmp_path: Path) -> None:
    own_mistake = _mistake("03", "backprop_without_1_over_m", tmp_path / "a")
    with pytest.raises(GradingError) as error:
        run_checks("03", "backward_prop", own_mistake)
    assert "note:" not in str(error.value) and "m times too big" in str(error.value)
    helper_mistake = _mistake("03", "one_hot_notebook_style", tmp_path / "b")
    with pytest.raises(GradingError):
        run_checks("03", "one_hot", helper_mistake)
    assert run_checks("03", "backward_prop", helper_mistake)  # one_hot is the reference's meanwhile
