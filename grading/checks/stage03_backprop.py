"""Checks of stage 03: one_hot, cross_entropy, backward_prop (solutions/backprop.py)."""

import numpy as np

from solutions import activations as ref_act
from solutions import backprop as ref
from solutions import forward as ref_forward

from .expect import as_array, as_float, as_tuple, close, expect_close, expect_shape, factor_text, times, unchanged
from .fixtures import Batch, batch
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("03")

GRADIENTS = ("dW1", "db1", "dW2", "db2")
BACKPROP_INPUTS = ("Z1", "A1", "Z2", "A2", "W1", "W2", "X", "Y")


# ------------------------------------------------------------------- one_hot
def one_hot_mistakes(Y: np.ndarray, num_classes: int = 10) -> list[tuple[np.ndarray, str]]:
    """(wrong result, hint) for the typical one_hot mistakes, told apart by their VALUES.

    A (Y.max() + 1)-row result can be square, and then its shape cannot say whether it
    is also transposed: only comparing it with both orientations can.
    """
    right = ref.one_hot(Y, num_classes)
    top = int(np.max(Y)) + 1
    by_max = ref.one_hot(Y, top)
    rows = (f"the number of rows must be num_classes ({num_classes}) whatever labels are present, not "
            f"Y.max() + 1 ({top} here)")
    mistakes = [(right.T, f"the result is transposed: one COLUMN per example, so shape ({num_classes}, m) - "
                          f"e.g. build it as (m, {num_classes}) and return .T")]
    if top != num_classes:
        if close(by_max, by_max.T):  # square and symmetric: the orientation cannot be seen
            mistakes.append((by_max, rows))
        else:
            mistakes.append((by_max, f"{rows}; the orientation, one column per example, is right"))
            mistakes.append((by_max.T, f"{rows}, and the result is transposed: one COLUMN per example"))
    return mistakes


def _expect_one_hot(one_hot: LearnerFunction, Y: np.ndarray, **kwargs) -> np.ndarray:
    num_classes = kwargs.get("num_classes", 10)
    original = Y.copy()
    got = as_array(one_hot, one_hot(Y, **kwargs))
    unchanged(one_hot, {"Y": original}, {"Y": Y})
    return expect_close(one_hot, got, ref.one_hot(original, num_classes),
                        wrong_answers=one_hot_mistakes(original, num_classes),
                        hint=f"one_hot(Y)[k, j] is 1 when Y[j] == k: put the 1 of example j in row Y[j] "
                             f"of column j")


@check("one_hot", visible=True, replay="keeps_inputs + returns")
def small_example(one_hot: LearnerFunction) -> None:
    """one_hot([2, 0, 1]) is (10, 3): column j has a single 1, in row Y[j]."""
    _expect_one_hot(one_hot, np.array([2, 0, 1]))


@check("one_hot", visible=True, replay="keeps_inputs + returns")
def columns_sum_to_one(one_hot: LearnerFunction) -> None:
    """a batch holding only 3s still gives 10 rows, and every column sums to 1."""
    got = _expect_one_hot(one_hot, np.array([3, 3, 3, 3]))
    if not np.allclose(got.sum(axis=0), 1):
        one_hot.fail("the columns do not sum to 1.", returned=got)


@check("one_hot")
def one_hot_matches_reference(one_hot: LearnerFunction) -> None:
    """other label arrays: m = 1, 200 random labels, uint8 labels, num_classes=4."""
    rng = np.random.default_rng(5)
    _expect_one_hot(one_hot, np.array([7]))
    _expect_one_hot(one_hot, rng.integers(0, 10, size=200))
    _expect_one_hot(one_hot, rng.integers(0, 10, size=9).astype(np.uint8))
    _expect_one_hot(one_hot, np.array([0, 3, 1, 1, 2]), num_classes=4)


# ------------------------------------------------------------- cross_entropy
def _probabilities(seed: int, m: int, *, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    A2 = ref_act.softmax(rng.normal(scale=2.0, size=(10, m))).astype(dtype)
    return A2, rng.integers(0, 10, size=m)


def loss_factor_mistake(got: float, expected: float, m: int) -> str | None:
    """The hint when the loss is the right one times -1, m, -m or 1/m (a sign and/or the mean), else None."""
    if expected == 0 or not np.isfinite(got) or np.isclose(got, expected, rtol=1e-4, atol=1e-6):
        return None
    k = got / expected
    causes = []
    if k < 0:
        causes.append("the minus sign is missing")
    size = abs(k)
    if m > 1 and np.isclose(size, m, rtol=1e-4):
        causes.append(f"it is the SUM over the {m} examples, not the mean")
    elif m > 1 and np.isclose(size, 1 / m, rtol=1e-4):
        causes.append(f"it is divided by m = {m} twice (np.mean already divides by m)")
    elif not np.isclose(size, 1.0, rtol=1e-4):
        return None
    if not causes:
        return None
    return " and ".join(causes) + ": L = -(1/m) sum_j log A2[Y[j], j], which is >= 0"


def _expect_loss(cross_entropy: LearnerFunction, A2: np.ndarray, Y: np.ndarray) -> float:
    originals = {"A2": A2.copy(), "Y": Y.copy()}
    got = as_float(cross_entropy, cross_entropy(A2, Y), "the loss")
    unchanged(cross_entropy, originals, {"A2": A2, "Y": Y})
    expected = ref.cross_entropy(originals["A2"].astype(np.float64), originals["Y"])
    m = Y.size
    if not np.isclose(got, expected, rtol=1e-4, atol=1e-6):
        picked = A2[Y, np.arange(m)].astype(np.float64)
        with np.errstate(all="ignore"):
            recognised = [
                (-expected, "the loss has the wrong sign: L = -(1/m) sum log A2[Y[j], j], which is >= 0"),
                (m * expected, "that is the SUM over the examples: take the mean (divide by m)"),
                (-np.mean(np.log(A2.astype(np.float64))), "only the probability of the TRUE class counts: "
                                                          "-(1/m) sum_j log A2[Y[j], j] (or one_hot(Y) * log A2)"),
                (-np.sum(np.log(A2.astype(np.float64))) / m, "only the probability of the TRUE class counts: "
                                                             "multiply log A2 by one_hot(Y) before summing"),
                (-np.mean(np.log10(picked)), "use the natural logarithm np.log, not np.log10"),
                (-np.mean(picked), "take the log of the probabilities: -(1/m) sum log A2[Y[j], j]"),
            ]
        mistake = next((text for value, text in recognised if np.isclose(got, value, rtol=1e-4, atol=1e-6)),
                       None) or loss_factor_mistake(got, expected, m)
        cross_entropy.fail("the loss has the wrong value.", returned=got, expected=expected, mistake=mistake,
                           hint="L = -(1/m) sum_j log A2[Y[j], j]: the mean over examples of minus the log "
                                "probability given to the true label")
    return got


@check("cross_entropy", visible=True, replay="keeps_inputs + returns(rtol=1e-4, atol=1e-6)")
def small_example(cross_entropy: LearnerFunction) -> None:
    """the mean of -log(probability of the true label) over 2 examples."""
    A2 = np.full((10, 2), 0.05)
    A2[0, 0], A2[1, 0] = 0.5, 0.1
    A2[3, 1], A2[4, 1] = 0.2, 0.4
    _expect_loss(cross_entropy, A2, np.array([0, 3]))


@check("cross_entropy", visible=True, replay="returns(rtol=0.0, atol=1e-6)")
def perfect_answers_cost_nothing(cross_entropy: LearnerFunction) -> None:
    """probability (almost) 1 on every true label gives a loss of (almost) 0."""
    Y = np.array([2, 7, 0])
    A2 = np.full((10, 3), 1e-9)
    A2[Y, np.arange(3)] = 1.0 - 9e-9
    got = as_float(cross_entropy, cross_entropy(A2, Y), "the loss")
    if abs(got) > 1e-6:
        cross_entropy.fail("a perfect, confident prediction should cost 0.", returned=got, expected=0.0,
                           hint="log(1) = 0: only the probability of the true class enters the loss")


@check("cross_entropy")
def cross_entropy_matches_reference(cross_entropy: LearnerFunction) -> None:
    """other batches: m = 1, 100 examples, float32 probabilities."""
    for seed, m, dtype in ((1, 1, np.float64), (2, 100, np.float64), (3, 7, np.float32)):
        _expect_loss(cross_entropy, *_probabilities(seed, m, dtype=dtype))


@check("cross_entropy")
def zero_probability_is_finite(cross_entropy: LearnerFunction) -> None:
    """probability 0 for a true label gives a large finite loss (about 27.6), with no warning."""
    Y = np.array([1, 0])
    A2 = np.zeros((10, 2))
    A2[0, 0] = A2[0, 1] = 1.0  # certain of class 0, but example 0 is a 1
    got = as_float(cross_entropy, cross_entropy(A2, Y), "the loss")
    if not np.isfinite(got) or got < 5:
        clip = "clip the probabilities before the log: np.log(np.maximum(p, 1e-12))"
        cross_entropy.fail("a confident wrong answer should give a large but finite loss.", returned=got,
                           expected=ref.cross_entropy(A2, Y), mistake=None if np.isfinite(got) else clip,
                           hint=clip)


# ------------------------------------------------------------- backward_prop
def _variants(b: Batch) -> dict[str, tuple[np.ndarray, ...]]:
    """The gradients that typical mistakes produce, by mistake."""
    Z1, A1, Z2, A2 = b.forward()
    T = ref.one_hot(b.Y, 10)
    m = b.m
    dZ2 = A2 - T
    dZ1 = (b.W2.T @ dZ2) * ref_act.relu_deriv(Z1)
    no_deriv = b.W2.T @ dZ2
    flipped_dZ1 = (b.W2.T @ -dZ2) * ref_act.relu_deriv(Z1)
    return {
        "no 1/m": (dZ1 @ b.X.T, dZ1.sum(axis=1, keepdims=True), dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True)),
        "dZ2 sign": (flipped_dZ1 @ b.X.T / m, flipped_dZ1.sum(axis=1, keepdims=True) / m,
                     -dZ2 @ A1.T / m, -dZ2.sum(axis=1, keepdims=True) / m),
        "no relu_deriv": (no_deriv @ b.X.T / m, no_deriv.sum(axis=1, keepdims=True) / m, None, None),
        "dW1 from A1": (dZ1 @ A1.T / m, None, None, None),
        "dW1 from Z1": (dZ1 @ Z1.T / m, None, None, None),
        "dW2 from Z1": (None, None, dZ2 @ Z1.T / m, None),
        "dW2 from X": (None, None, dZ2 @ b.X.T / m, None),
        "relu_deriv of A1 missing, relu used": ((b.W2.T @ dZ2) * ref_act.relu(Z1) @ b.X.T / m, None, None, None),
    }


_HINTS = {
    "no 1/m": "{name} is m times too big: the loss is a MEAN over the m examples, so divide by m",
    "dZ2 sign": "{name} points the wrong way: dZ2 = A2 - one_hot(Y), not one_hot(Y) - A2",
    "no relu_deriv": "the ReLU derivative is missing: dZ1 = (W2^T dZ2) * relu_deriv(Z1), elementwise",
    "dW1 from A1": "dW1 uses the wrong input: layer 1's input is X, so dW1 = (1/m) dZ1 X^T (not A1^T)",
    "dW1 from Z1": "dW1 uses the wrong input: layer 1's input is X, so dW1 = (1/m) dZ1 X^T (not Z1^T)",
    "dW2 from Z1": "dW2 uses the wrong input: layer 2's input is A1 = relu(Z1), so dW2 = (1/m) dZ2 A1^T",
    "dW2 from X": "dW2 uses the wrong input: layer 2's input is A1, so dW2 = (1/m) dZ2 A1^T",
    "relu_deriv of A1 missing, relu used": "dZ1 must be multiplied by relu_deriv(Z1) (0 or 1), not by relu(Z1)",
}


def gradient_scale_hint(name: str, k: float, m: int) -> str:
    """The hint for a gradient `name` that is k times the right one, on a batch of m examples."""
    sign = f"{name} has the wrong sign (dZ2 = A2 - one_hot(Y)) and " if k < 0 else f"{name} "
    size = abs(k)
    if np.isclose(size, 1.0, rtol=1e-4):
        return f"{name} has the wrong sign: dZ2 = A2 - one_hot(Y), not one_hot(Y) - A2"
    divisor = m / size
    if size < 1 and divisor >= 2 and abs(divisor - round(divisor)) < 1e-6 * divisor:
        return (f"{sign}is {times(size)}: it is divided by {factor_text(divisor)} instead of by m = {m}, the "
                f"number of examples in this batch; take m from the batch (m = X.shape[1]), not a fixed number")
    return (f"{sign}is {times(size)}: each gradient carries exactly one factor 1/m, with m = X.shape[1] "
            f"({m} here) the number of examples in the batch")


def _gradient_shape_hints(name: str, shape: tuple[int, ...], m: int) -> dict[tuple[int, ...], str]:
    rows, columns = shape
    hints = {(columns, rows): f"{name} is transposed: a gradient has the shape of its parameter {shape}"}
    if name.startswith("db"):
        hints.update({
            (1, 1): f"{name} has the wrong shape: did you sum over the whole matrix instead of over axis 1 "
                    f"(np.sum(dZ, axis=1, keepdims=True))?",
            (): f"{name} has the wrong shape: did you sum over the whole matrix instead of over axis 1 "
                f"(np.sum(dZ, axis=1, keepdims=True))?",
            (rows,): f"{name} lost its second axis: sum with keepdims=True to keep the shape ({rows}, 1)",
            (1, m): f"{name}: sum over the examples (axis 1), not over the units (axis 0)",
        })
    else:
        hints[(rows, rows)] = (f"{name} has shape ({rows}, {rows}): multiply dZ by the TRANSPOSE of the "
                               f"layer's input, which is X for dW1 and A1 for dW2")
    return hints


def _expect_gradients(backward_prop: LearnerFunction, b: Batch) -> None:
    forward = b.forward()
    inputs = dict(zip(BACKPROP_INPUTS, (*forward, b.W1, b.W2, b.X, b.Y)))
    copies = {name: value.copy() for name, value in inputs.items()}
    result = backward_prop(*copies.values())
    unchanged(backward_prop, inputs, copies)
    grads = as_tuple(backward_prop, result, GRADIENTS)
    expected = dict(zip(GRADIENTS, b.gradients()))
    variants = _variants(b)
    order = (2, 3, 0, 1)  # the output layer first: its mistakes explain the hidden layer's
    for index in order:
        name = GRADIENTS[index]
        wrong = [(variant[index], _HINTS[key].format(name=name)) for key, variant in variants.items()
                 if variant[index] is not None]
        expect_close(backward_prop, grads[index], expected[name], what=name, wrong_answers=wrong,
                     wrong_shapes=_gradient_shape_hints(name, expected[name].shape, b.m),
                     explain_scale=lambda k, name=name: gradient_scale_hint(name, k, b.m),
                     hint="compare with the equations in the README, gradient by gradient")


@check("backward_prop", visible=True, replay="keeps_inputs + returns")
def small_network(backward_prop: LearnerFunction) -> None:
    """a 4-3-10 network on 3 examples: every gradient has its parameter's shape and the right values."""
    _expect_gradients(backward_prop, batch(20))


@check("backward_prop")
def numerical_gradient_check(backward_prop: LearnerFunction) -> None:
    """every weight and bias: the gradient agrees with central differences of the mean cross-entropy."""
    b = batch(21, n_in=5, n_hidden=4, m=6)
    Z1, A1, Z2, A2 = b.forward()
    grads = as_tuple(backward_prop, backward_prop(Z1, A1, Z2, A2, b.W1, b.W2, b.X, b.Y), GRADIENTS)
    params = [p.copy() for p in b.params]
    h = 1e-6

    def loss() -> float:
        return ref.cross_entropy(ref_forward.forward_prop(*params, b.X)[3], b.Y)

    for index, (name, param) in enumerate(zip(("W1", "b1", "W2", "b2"), params)):
        grad = as_array(backward_prop, grads[index], GRADIENTS[index])
        expect_shape(backward_prop, grad, param.shape, what=GRADIENTS[index],
                     wrong_shapes=_gradient_shape_hints(GRADIENTS[index], param.shape, b.m))
        for position in np.ndindex(param.shape):
            saved = param[position]
            param[position] = saved + h
            up = loss()
            param[position] = saved - h
            down = loss()
            param[position] = saved
            numerical = (up - down) / (2 * h)
            if abs(grad[position] - numerical) > 1e-6 + 1e-4 * abs(numerical):
                where = f"{GRADIENTS[index]}[{', '.join(map(str, position))}]"
                backward_prop.fail(
                    f"{where} is {grad[position]:.6g}, but nudging {name}[{', '.join(map(str, position))}] "
                    f"by +-{h:g} changes the loss at a rate of {numerical:.6g}.",
                    hint=f"numerical gradient (L(+h) - L(-h)) / 2h on a 5-4-10 network, 6 examples: "
                         f"recheck the equation for {GRADIENTS[index]}")


@check("backward_prop")
def backward_matches_reference(backward_prop: LearnerFunction) -> None:
    """other batches: m = 1, 784 inputs, 10 inputs (so X and A1 have the same shape), float32."""
    for b in (batch(22, m=1), batch(23, n_in=784, n_hidden=10, m=12, scale=0.05),
              batch(24, n_in=10, n_hidden=10, m=5), batch(25, m=4, dtype=np.float32)):
        _expect_gradients(backward_prop, b)
