"""Checks of stage 01: relu, relu_deriv, softmax (solutions/activations.py)."""

import numpy as np

from solutions import activations as ref

from .expect import as_array, close, expect_close, expect_shape, unchanged
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("01")

SMALL_Z = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])


def random_inputs(seed: int = 0):
    """(label, Z) pairs: several shapes including m = 1, float64 and float32, large values."""
    rng = np.random.default_rng(seed)
    yield "a (10, 1) batch", rng.normal(size=(10, 1))
    yield "a (10, 7) batch", rng.normal(scale=3.0, size=(10, 7))
    yield "a (4, 5) float32 batch", rng.normal(size=(4, 5)).astype(np.float32)
    yield "a 1-D array", rng.normal(size=6)
    yield "large values", rng.normal(scale=1e4, size=(10, 4))


# ---------------------------------------------------------------------- relu
def _relu_mistakes(Z: np.ndarray):
    return [
        (lambda got: close(got, Z), "it returned Z unchanged: every negative entry must become 0 "
                                    "(np.maximum(Z, 0))"),
        (lambda got: bool((got < 0).any()), "negative entries must become 0: relu(z) = max(z, 0)"),
        (lambda got: close(got, np.abs(Z)), "that is |Z|: negative entries become 0, not positive"),
        (lambda got: close(got, np.minimum(Z, 0)), "that keeps the negatives and drops the positives: "
                                                   "max(z, 0), not min(z, 0)"),
        (lambda got: close(got, Z > 0), "that is the derivative (1 where Z > 0): relu keeps the value itself"),
    ]


@check("relu", visible=True, replay="returns")
def negatives_become_zero(relu: LearnerFunction) -> None:
    """relu keeps positive entries and turns negative ones into 0."""
    Z = SMALL_Z.copy()
    expect_close(relu, relu(Z), ref.relu(SMALL_Z), wrong_answers=_relu_mistakes(SMALL_Z))


@check("relu", visible=True, replay="keeps_inputs")
def relu_leaves_input_unchanged(relu: LearnerFunction) -> None:
    """relu returns a new array and leaves its input Z as it was."""
    Z = SMALL_Z.copy()
    relu(Z)
    unchanged(relu, {"Z": SMALL_Z}, {"Z": Z})


@check("relu")
def relu_matches_reference(relu: LearnerFunction) -> None:
    """relu agrees with the reference on other shapes (m = 1, 1-D), float32 and large values."""
    for _, Z in random_inputs(1):
        original = Z.copy()
        got = relu(Z)
        unchanged(relu, {"Z": original}, {"Z": Z})
        expect_close(relu, got, ref.relu(original), wrong_answers=_relu_mistakes(original))


# ---------------------------------------------------------------- relu_deriv
def _expect_deriv(relu_deriv: LearnerFunction, Z: np.ndarray) -> None:
    """relu_deriv(Z) must be 1 where Z > 0 and 0 where Z < 0; at exactly 0 either is accepted."""
    original = Z.copy()
    got = as_array(relu_deriv, relu_deriv(Z))
    unchanged(relu_deriv, {"Z": original}, {"Z": Z})
    expected = ref.relu_deriv(original).astype(float)
    expect_shape(relu_deriv, got, expected.shape)
    values = got.astype(float)
    away_from_zero = original != 0
    at_zero_ok = np.isin(values[~away_from_zero], (0.0, 1.0)).all()
    if not close(values[away_from_zero], expected[away_from_zero]) or not at_zero_ok:
        hint = None
        if close(values, original):
            hint = "it returned Z itself: the slope of ReLU is 1 where Z > 0 and 0 elsewhere, not Z"
        elif close(values[away_from_zero], (original < 0)[away_from_zero]):
            hint = "that is 1 where Z is negative: ReLU's slope is 1 on the positive side (Z > 0)"
        elif close(values, ref.relu(original)):
            hint = "that is relu(Z) itself, not its derivative: 1 where Z > 0, 0 elsewhere"
        elif not at_zero_ok:
            hint = "at Z == 0 the derivative must be 0 or 1 (we use 0, like the original notebook)"
        relu_deriv.fail("the result has the wrong values.", returned=got, expected=expected, mistake=hint)


@check("relu_deriv", visible=True, replay="keeps_inputs + kink")
def slope_is_one_for_positive_inputs(relu_deriv: LearnerFunction) -> None:
    """relu_deriv is 1 where Z > 0 and 0 where Z < 0 (booleans are fine)."""
    _expect_deriv(relu_deriv, SMALL_Z.copy())


@check("relu_deriv")
def relu_deriv_matches_reference(relu_deriv: LearnerFunction) -> None:
    """relu_deriv agrees with the reference on other shapes, float32 and large values."""
    for _, Z in random_inputs(2):
        _expect_deriv(relu_deriv, Z)


# ------------------------------------------------------------------- softmax
def softmax_shifted_by_global_max(Z: np.ndarray) -> np.ndarray:
    """softmax computed with the largest entry of the whole matrix as the shift (a common mistake)."""
    with np.errstate(all="ignore"):
        exps = np.exp(Z - np.max(Z))
        return exps / exps.sum(axis=0, keepdims=True)


def _global_max_hint(Z: np.ndarray) -> str:
    gaps = np.max(Z) - Z.max(axis=0)
    column = int(np.argmax(gaps))
    return (f"you shifted by the largest entry of the whole matrix ({np.max(Z):g}): the column Z[:, {column}] lies "
            f"{gaps[column]:g} below it, so its exp() values underflow to 0 (a column of zeros then gives "
            f"0/0 = NaN); subtract each column's own maximum, Z - Z.max(axis=0, keepdims=True)")


def _softmax_mistakes(Z: np.ndarray):
    def columns_sum_to_one(got: np.ndarray) -> bool:
        return bool(np.allclose(got.sum(axis=0), 1.0))

    return [
        (softmax_shifted_by_global_max(Z), _global_max_hint(Z)),
        (lambda got: bool(np.isnan(got).any()), "NaN: exp() overflowed - subtract each column's "
                                                "maximum from Z before np.exp"),
        (lambda got: not columns_sum_to_one(got) and bool(np.allclose(got.sum(axis=1), 1.0)),
         "that normalises each ROW: the classes are the rows, so sum over axis 0 (one column per example)"),
        (lambda got: not columns_sum_to_one(got) and bool(np.isclose(got.sum(), 1.0)),
         "each column must sum to 1 on its own: divide by the column sums (sum(axis=0, keepdims=True)), "
         "not by the sum of the whole matrix"),
    ]


def _expect_softmax(softmax: LearnerFunction, Z: np.ndarray) -> np.ndarray:
    original = Z.copy()
    got = softmax(Z)
    unchanged(softmax, {"Z": original}, {"Z": Z})
    return expect_close(softmax, got, ref.softmax(original), wrong_answers=_softmax_mistakes(original))


@check("softmax", visible=True, replay="keeps_inputs + returns")
def small_example(softmax: LearnerFunction) -> None:
    """softmax of a small (3, 2) batch: each column turned into probabilities."""
    _expect_softmax(softmax, np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]))


@check("softmax", visible=True, replay="columns_sum_to_one(atol=1e-6)")
def columns_sum_to_one(softmax: LearnerFunction) -> None:
    """every column of softmax(Z) sums to 1 and every entry lies in [0, 1]."""
    Z = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 2.0, 0.5, 2.0], [-1.0, 0.0, 3.0, 2.0]])
    got = as_array(softmax, softmax(Z.copy()))
    expect_shape(softmax, got, Z.shape, hint="softmax returns one probability per entry of Z")
    sums = got.sum(axis=0)
    if not np.allclose(sums, 1.0, atol=1e-6):
        hint = None
        if np.allclose(got.sum(axis=1), 1.0, atol=1e-6):
            hint = ("the ROWS sum to 1: normalise each column instead (sum over axis 0, keepdims=True), "
                    "because each column is one example")
        elif np.isclose(got.sum(), 1.0, atol=1e-6):
            hint = ("the whole matrix sums to 1: divide each column by its own sum "
                    "(exps.sum(axis=0, keepdims=True)), not by the grand total")
        softmax.fail(f"the columns sum to {np.round(sums, 4)}, not 1.", returned=got, mistake=hint)
    if (got < 0).any() or (got > 1).any():
        softmax.fail("some entries are outside [0, 1].", returned=got)


@check("softmax", visible=True, replay="invariant")
def unchanged_by_adding_a_constant(softmax: LearnerFunction) -> None:
    """adding the same number to a column of logits does not change its probabilities."""
    Z = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    base = as_array(softmax, softmax(Z.copy()))
    shifted = Z + np.array([[5.0, -3.0]])
    expect_close(softmax, softmax(shifted.copy()), base, what="softmax(Z + c)",
                 hint="softmax(Z + c) must equal softmax(Z) for a constant c added to a column")


#: two columns 745 apart: shifting by the whole matrix's maximum makes the second column's exps underflow
FAR_APART_Z = np.array([[45.0, -700.0], [44.0, -701.0], [43.0, -702.0]])


@check("softmax")
def columns_far_apart(softmax: LearnerFunction) -> None:
    """a column whose logits lie 745 below another column's still gets its exact probabilities."""
    _expect_softmax(softmax, FAR_APART_Z.copy())


@check("softmax", strict_warnings=True)
def large_logits_do_not_overflow(softmax: LearnerFunction) -> None:
    """logits as large as +-1e4 give the right probabilities, with no overflow, NaN or warning."""
    Z = np.array([[1e4, -1e4, 0.0], [1e4 - 1.0, -1e4 + 2.0, 1e4], [0.0, -1e4 + 1.0, -1e4]])
    _expect_softmax(softmax, Z)


@check("softmax")
def softmax_matches_reference(softmax: LearnerFunction) -> None:
    """softmax agrees with the reference on other shapes (m = 1, 10 classes), float32 and large values."""
    rng = np.random.default_rng(3)
    for Z in (rng.normal(size=(10, 1)), rng.normal(scale=4.0, size=(10, 10)),
              rng.normal(size=(10, 6)).astype(np.float32), rng.normal(scale=300.0, size=(10, 5))):
        _expect_softmax(softmax, Z)
