"""Checks of stage 04: update_params, get_predictions, get_accuracy, gradient_descent
(solutions/descent.py)."""

import numpy as np

from solutions import descent as ref
from solutions import forward as ref_forward

from .expect import as_array, as_float, as_tuple, close, expect_close, expect_shape
from .fixtures import batch
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("04")

PARAMS = ("W1", "b1", "W2", "b2")


# ------------------------------------------------------------- update_params
def learning_rate_used(before: np.ndarray, after: np.ndarray, grad: np.ndarray) -> float | None:
    """a when `after` is before - a * grad for one number a (least squares), else None."""
    before, after, grad = (np.asarray(x, dtype=float) for x in (before, after, grad))
    if before.shape != after.shape or grad.shape != before.shape or not np.any(grad):
        return None
    a = float(np.sum((before - after) * grad) / np.sum(grad * grad))
    return a if close(after, before - a * grad, loose=True) else None


def learning_rate_mistake(name: str, before: np.ndarray, after: np.ndarray, grad: np.ndarray,
                          alpha: float) -> str | None:
    """The hint when parameter `name` took a plain gradient step with a learning rate other than alpha."""
    used = learning_rate_used(before, after, grad)
    if used is None or np.isclose(used, alpha, rtol=1e-4):
        return None
    return (f"it stepped with a learning rate of {used:.4g}, not the alpha it was given ({alpha:g}): use the "
            f"alpha argument, {name} - alpha * d{name}")


def _expect_update(update_params: LearnerFunction, seed: int, alpha: float, **shape) -> None:
    b = batch(seed, **shape)
    params, grads = b.params, b.gradients()
    expected = ref.update_params(*params, *grads, alpha)
    arguments = [a.copy() for a in params + grads]  # updating in place is allowed: keep our own copies
    result = as_tuple(update_params, update_params(*arguments, alpha), PARAMS)
    for name, got, want, before, grad in zip(PARAMS, result, expected, params, grads):
        wrong = [(before, f"{name} did not change: every parameter takes a step, "
                          f"{name} <- {name} - alpha * d{name}"),
                 (before + alpha * grad, f"{name} moved uphill: SUBTRACT the gradient, "
                                         f"{name} - alpha * d{name}"),
                 (before - grad, f"{name} took a step of the whole gradient: multiply d{name} by alpha"),
                 (before + grad, f"{name} moved uphill by the whole gradient: {name} - alpha * d{name}"),
                 (before - alpha * before, f"{name} was scaled by itself: subtract alpha * d{name}, "
                                           f"the GRADIENT")]
        rate = learning_rate_mistake(name, before, got, grad, alpha) if np.shape(got) == before.shape else None
        if rate:
            wrong.append((lambda _: True, rate))
        expect_close(update_params, got, want, what=f"the new {name}", wrong_answers=wrong,
                     hint=f"{name} <- {name} - alpha * d{name}")


@check("update_params", visible=True, replay="returns")
def one_step_downhill(update_params: LearnerFunction) -> None:
    """every parameter P becomes P - alpha * dP (a 4-3-10 network, alpha = 0.1)."""
    _expect_update(update_params, 30, 0.1)


@check("update_params")
def other_learning_rates(update_params: LearnerFunction) -> None:
    """other learning rates and sizes: alpha = 0.5 and 0.001, a 784-10-10 network, float32."""
    _expect_update(update_params, 31, 0.5)
    _expect_update(update_params, 32, 0.001, n_in=784, n_hidden=10, m=4)
    _expect_update(update_params, 33, 0.25, dtype=np.float32)


# ------------------------------------------------------------ get_predictions
def _expect_predictions(get_predictions: LearnerFunction, A2: np.ndarray) -> None:
    original = A2.copy()
    got = as_array(get_predictions, get_predictions(A2))
    expected = ref.get_predictions(original)
    expect_close(get_predictions, got, expected,
                 wrong_answers=[(np.argmax(original, axis=1), "that is the argmax of each ROW: the classes are "
                                                              "the rows, so take np.argmax(A2, axis=0)"),
                                (np.max(original, axis=0), "those are the largest probabilities: the "
                                                           "prediction is their ROW index, np.argmax(A2, 0)")],
                 wrong_shapes={(): "np.argmax without an axis looks at the whole matrix: use axis=0, one "
                                   "prediction per column",
                               (original.shape[0],): "one prediction per column (example): np.argmax(A2, "
                                                     "axis=0), not axis=1",
                               (1, original.shape[1]): "return a 1-D array of shape (m,): no keepdims"},
                 hint="the prediction for example j is the row of the largest entry of column j")
    if not np.issubdtype(got.dtype, np.integer):
        get_predictions.fail(f"the predictions have dtype {got.dtype}; expected integers (class numbers).",
                             returned=got, hint="np.argmax returns integer indices")


@check("get_predictions", visible=True, replay="returns(integers=True)")
def row_of_largest_probability(get_predictions: LearnerFunction) -> None:
    """the prediction for each column of a (3, 4) A2 is the row of its largest entry."""
    A2 = np.array([[0.1, 0.7, 0.2, 0.3], [0.6, 0.2, 0.2, 0.3], [0.3, 0.1, 0.6, 0.4]])
    _expect_predictions(get_predictions, A2)


@check("get_predictions")
def predictions_match_reference(get_predictions: LearnerFunction) -> None:
    """other batches: m = 1, a square (10, 10) A2, 100 examples."""
    rng = np.random.default_rng(40)
    for shape in ((10, 1), (10, 10), (10, 100)):
        A2 = rng.random(shape)
        _expect_predictions(get_predictions, A2 / A2.sum(axis=0))


# --------------------------------------------------------------- get_accuracy
def _expect_accuracy(get_accuracy: LearnerFunction, predictions: np.ndarray, Y: np.ndarray) -> None:
    got = as_float(get_accuracy, get_accuracy(predictions.copy(), Y.copy()), "the accuracy")
    expected = ref.get_accuracy(predictions, Y)
    if not np.isclose(got, expected, rtol=1e-9, atol=1e-12):
        count, m = int(np.sum(predictions == Y)), Y.size
        get_accuracy.fail("wrong accuracy.", returned=got, expected=expected,
                          mistake=accuracy_mistake(got, expected, count, m),
                          hint="accuracy = (number of predictions equal to Y) / m")


def accuracy_mistake(got: float, expected: float, count: int, m: int) -> str | None:
    """The hint for a wrong accuracy from `count` right of `m`, when the cause is recognised."""
    if np.isclose(got, expected, rtol=1e-9, atol=1e-12):
        return None
    if np.isclose(got, count) and count != expected:
        return "that is the NUMBER of correct predictions: divide by m to get a fraction"
    if np.isclose(got, 100 * expected):
        return "that is a percentage: return a fraction in [0, 1]"
    if np.isclose(got, count // m) and count // m != expected:
        return (f"`//` is floor division: {count} // {m} is {count // m}; divide with / (or take "
                f"np.mean(predictions == Y))")
    if np.isclose(got, 1 - expected):
        return "that is the error rate: count the predictions EQUAL to Y"
    return None


@check("get_accuracy", visible=True, replay="returns(rtol=1e-9, atol=1e-12)")
def fraction_correct(get_accuracy: LearnerFunction) -> None:
    """4 of 5 predictions right gives 0.8."""
    _expect_accuracy(get_accuracy, np.array([1, 2, 3, 4, 5]), np.array([1, 2, 0, 4, 5]))


@check("get_accuracy")
def accuracy_matches_reference(get_accuracy: LearnerFunction) -> None:
    """all right (1.0), none right (0.0), m = 1, and 1,000 random labels."""
    rng = np.random.default_rng(41)
    Y = rng.integers(0, 10, size=1000)
    _expect_accuracy(get_accuracy, Y.copy(), Y)
    _expect_accuracy(get_accuracy, (Y + 1) % 10, Y)
    _expect_accuracy(get_accuracy, np.array([3]), np.array([3]))
    _expect_accuracy(get_accuracy, rng.integers(0, 10, size=1000), Y)


# ------------------------------------------------------------ gradient_descent
def _tiny_problem(seed: int = 50, n_in: int = 6, m: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=(n_in, m)), rng.integers(0, 10, size=m)


def _reference_run(X: np.ndarray, Y: np.ndarray, alpha: float, iterations: int, seed: int) -> tuple:
    return ref.gradient_descent(X, Y, alpha, iterations, seed=seed, print_every=0)


def _expect_training(gradient_descent: LearnerFunction, alpha: float, iterations: int, seed: int) -> None:
    X, Y = _tiny_problem()
    result = as_tuple(gradient_descent, gradient_descent(X.copy(), Y.copy(), alpha, iterations, seed=seed),
                      PARAMS)
    got = [as_array(gradient_descent, value, name) for name, value in zip(PARAMS, result)]
    expected = _reference_run(X, Y, alpha, iterations, seed)
    for name, value, want in zip(PARAMS, got, expected):
        expect_shape(gradient_descent, value, want.shape, what=name,
                     hint="start from init_params(X.shape[0], 10, 10, seed=seed)")
    if all(close(g, w) for g, w in zip(got, expected)):
        return
    start = ref_forward.init_params(X.shape[0], 10, 10, seed=seed)
    hint = ("each iteration: forward_prop, backward_prop, then update_params with alpha; start from "
            "init_params(X.shape[0], 10, 10, seed=seed). If update_params fails its test, fix it first.")
    mistake = None
    if all(close(g, s) for g, s in zip(got, start)):
        mistake = ("the parameters are still the starting ones: in every iteration assign the result of "
                   "update_params back (W1, b1, W2, b2 = update_params(...))")
    else:
        for other in (0.1, 0.01, 0.05, 0.5, 1.0, 0.001):
            if other != alpha and all(close(g, w) for g, w in zip(got, _reference_run(X, Y, other, iterations, seed))):
                mistake = (f"it trained with a learning rate of {other}, not the alpha it was given "
                           f"({alpha}): use the alpha argument")
                break
        else:
            for count in (1, 10, 50, 100, 200, 500, 1000):
                if count != iterations and all(close(g, w) for g, w in zip(got, _reference_run(X, Y, alpha, count, seed))):
                    steps = "1 step" if count == 1 else f"{count} steps"
                    mistake = (f"it took {steps}, not the {iterations} it was asked for: loop "
                               f"`for i in range(iterations)`")
                    break
    names = ", ".join(name for name, g, w in zip(PARAMS, got, expected) if not close(g, w))
    gradient_descent.fail(f"after training, {names} differ from the reference solution's.", mistake=mistake,
                          hint=hint)


@check("gradient_descent", visible=True, replay="returns")
def zero_iterations_return_the_start(gradient_descent: LearnerFunction) -> None:
    """with iterations=0 it returns init_params(X.shape[0], 10, 10, seed=seed) unchanged."""
    _expect_training(gradient_descent, 0.1, 0, seed=3)


@check("gradient_descent", visible=True, replay="returns")
def five_steps(gradient_descent: LearnerFunction) -> None:
    """5 steps with alpha = 0.3 on 12 examples of 6 inputs end where the reference ends."""
    _expect_training(gradient_descent, 0.3, 5, seed=0)


@check("gradient_descent")
def uses_alpha_and_iterations(gradient_descent: LearnerFunction) -> None:
    """other learning rates and iteration counts: alpha 0.02 and 0.7, 1 and 12 iterations."""
    _expect_training(gradient_descent, 0.7, 1, seed=1)
    _expect_training(gradient_descent, 0.02, 12, seed=2)
    _expect_training(gradient_descent, 0.15, 7, seed=4)


@check("gradient_descent")
def history_and_falling_loss(gradient_descent: LearnerFunction) -> None:
    """history= receives one accuracy and one loss per iteration, and the loss falls."""
    X, Y = _tiny_problem(51)
    history: dict = {}
    gradient_descent(X, Y, 0.5, 20, seed=5, history=history, print_every=0)
    expected: dict = {}
    ref.gradient_descent(X, Y, 0.5, 20, seed=5, history=expected, print_every=0)
    after_update: dict = {}  # measuring after each update instead of before is fine too
    ref.gradient_descent(X, Y, 0.5, 21, seed=5, history=after_update, print_every=0)
    for key in ("accuracy", "loss"):
        if key not in history:
            has = (f"its keys are {', '.join(repr(k) for k in sorted(history))}" if history
                   else "it is still empty: nothing was recorded")
            gradient_descent.fail(f'history has no "{key}" list ({has}).',
                                  mistake=f'append every iteration\'s {key} to history["{key}"] '
                                          f'(history.setdefault("{key}", []).append(...))')
        got = np.asarray(history[key], dtype=float)
        if close(got, np.asarray(after_update[key][1:])):
            continue
        expect_close(gradient_descent, got, np.asarray(expected[key]), what=f'history["{key}"]',
                     wrong_shapes={(21,): "one entry per iteration: 20 iterations give 20 entries",
                                   (19,): "one entry per iteration: 20 iterations give 20 entries"},
                     hint=f"record the {key} of each iteration's forward pass (before the update)")
    if not history["loss"][-1] < history["loss"][0]:
        gradient_descent.fail("the loss did not fall over 20 iterations.", returned=history["loss"])


def _printed_lines(fn: LearnerFunction) -> list[str]:
    return [line for line in fn.last_output.splitlines() if line.strip()]


@check("gradient_descent")
def progress_lines_follow_print_every(gradient_descent: LearnerFunction) -> None:
    """print_every=0 prints nothing; print_every=5 over 12 iterations prints 3 lines (0, 5, 10), if any."""
    X, Y = _tiny_problem(52)
    print_each = ("print only when print_every and i % print_every == 0 (print_every=0: never), e.g. "
                  "`Iteration: 10  Accuracy: 0.250`")
    gradient_descent(X.copy(), Y.copy(), 0.1, 12, seed=6, print_every=0)
    lines = _printed_lines(gradient_descent)
    if lines:
        every = len(lines) >= 12
        gradient_descent.fail(f"with print_every=0 it printed {len(lines)} lines, the first: {lines[0].strip()!r}.",
                              mistake=("print_every is ignored: it printed every iteration; " + print_each)
                              if every else None, hint=print_each)
    gradient_descent(X.copy(), Y.copy(), 0.1, 12, seed=6, print_every=5)
    lines = _printed_lines(gradient_descent)
    if lines and len(lines) != 3:
        every = len(lines) >= 12
        gradient_descent.fail(f"with print_every=5 and 12 iterations it printed {len(lines)} lines, not 3 "
                              f"(iterations 0, 5 and 10).",
                              mistake=("print_every is ignored: it printed every iteration; " + print_each)
                              if every else None, hint=print_each)
