"""Checks of stage 06: numerical_gradient, relative_error, check_backprop (solutions/gradient_check.py).

Data only crosses the call: numerical_gradient(f, x, h) is called with f the NAME of
a function of kit_helpers.gradient_examples (the stage's adapter builds the function
beside the learner's code, see Stage.adapters), and the expected answers are worked
out here from the same example, with the reference central difference.

check_backprop runs on the learner's own forward_prop, cross_entropy and
backward_prop (stage 06 builds on the learner's files of stages 01-03), so its
checks expect what a right backprop gives and say so when the numbers look like a
broken one.
"""

import inspect

import numpy as np

from kit_helpers.gradient_examples import EXAMPLES
from solutions import gradient_check as ref

from .expect import as_array, as_float, close, expect_close, unchanged
from .fixtures import Batch, batch
from ..errors import GradingError
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("06")

PARAMS = ref.PARAM_NAMES
DEFAULT_H = inspect.signature(ref.numerical_gradient).parameters["h"].default
#: the student edition's replay of "the arrays given are as they were" (restored by arithmetic is fine),
#: as _expect_restored and _expect_errors tell it: np.allclose(after, before, rtol=1e-12, atol=1e-14)
RESTORED = "keeps_inputs(rtol=1e-12, atol=1e-14)"
EARLIER = ("check_backprop runs YOUR numerical_gradient (this stage) and YOUR forward_prop, cross_entropy and "
           "backward_prop (stages 01-03): if numerical_gradient's own checks fail too, fix it first; if "
           "`python -m pytest exercises/06_gradient_check` also reports an unfinished earlier stage, your "
           "gradient check may be right and your backprop wrong - finish that stage first")


# ------------------------------------------------------------- numerical_gradient
def _nudged_along(f, x: np.ndarray, h: float, direction: np.ndarray) -> float:
    return float(f(x + h * direction))


def _wrong_gradients(name: str, x: np.ndarray, h: float) -> list[tuple[np.ndarray, str]]:
    """What the usual mistakes make of `name`'s numerical gradient at x with step h."""
    example = EXAMPLES[name]
    f = EXAMPLES["sum_of_cubes" if name == "sum_of_cubes_read_in_place" else name].function_for(x)
    up, down, here = (np.zeros(x.shape) for _ in range(3))
    at_x = float(f(x))
    for index in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[index] = 1.0
        up[index], down[index] = _nudged_along(f, x, h, e), _nudged_along(f, x, -h, e)
        here[index] = at_x
    everything = np.ones(x.shape)
    all_at_once = (_nudged_along(f, x, h, everything) - _nudged_along(f, x, -h, everything)) / (2 * h)
    wrong = [
        ((up - here) / h, "that is the ONE-SIDED difference (f(x + h) - f(x)) / h, off by about h: use the "
                          "central difference (f(x + h) - f(x - h)) / (2h)"),
        ((here - down) / h, "that is the one-sided difference (f(x) - f(x - h)) / h: use the central "
                            "difference (f(x + h) - f(x - h)) / (2h)"),
        ((up - down) / h, "twice the gradient: the two points x - h and x + h are 2h apart, so divide by 2h"),
        ((up - here) / (2 * h), "the second point is x, not x - h: from x + h go back by 2h (or set x[i] = "
                                "old - h), and divide by 2h"),
        (np.full(x.shape, all_at_once), "every entry holds the same number: that nudges ALL of x at once; "
                                        "nudge one entry at a time (e.g. for i in np.ndindex(x.shape))"),
        (np.zeros(x.shape), "all zeros: f did not see the nudges"
                            + (" - this f ignores its argument and reads x itself, as check_backprop's loss "
                               "reads W1, so nudge x IN PLACE (x[i] = old + h), not a copy of it"
                               if example.name == "sum_of_cubes_read_in_place" else
                               " - nudge x[i] and call f(x) after each nudge")),
    ]
    if x.ndim == 2 and x.shape[0] > 1 and x.shape[1] > 1:
        def one_number_per_row(got: np.ndarray) -> bool:
            return (got.shape == x.shape and np.allclose(got, got[:, :1])
                    and not np.allclose(got, got.flat[0]))
        wrong.append((one_number_per_row, "each row holds one number: x[i] is a whole ROW of a 2-D x; visit "
                                          "every entry, e.g. for index in np.ndindex(x.shape): x[index] ..."))
    return wrong


def _h_used(name: str, x: np.ndarray, got: np.ndarray, h: float, given: bool) -> str | None:
    """For sum(x**3) the central difference is exactly 3 x**2 + h**2: the h that `got` was made with,
    when it is another one than `h` (the h given, or the default when `given` is False), as a hint."""
    if not name.startswith("sum_of_cubes") or got.shape != x.shape:
        return None
    excess = got.astype(float) - 3 * x ** 2
    if not np.all(np.isfinite(excess)):
        return None
    scale = 1e-9 * (1 + np.max(np.abs(3 * x ** 2)))
    if np.all(excess > scale) and np.allclose(excess, np.mean(excess), rtol=1e-3):
        used = float(np.sqrt(np.mean(excess)))
        if not np.isclose(used, h, rtol=1e-2) and given:
            return (f"that is the central difference with h = {used:.1g}, not the h = {h:g} given: use the "
                    f"argument h (do not set h inside the function)")
        if not np.isclose(used, h, rtol=1e-2):
            return (f"that is the central difference with h = {used:.1g}: too large an h, its error is about "
                    f"h**2 = {used ** 2:.0e}; the default in the signature is h={h:g}")
    elif np.max(np.abs(excess - h ** 2)) < 0.1 * (1 + np.max(np.abs(3 * x ** 2))):
        return ("the errors look random: that is rounding. With a very small h, f(x + h) - f(x - h) keeps "
                "only a few digits; h = 1e-5 is small enough (its error is about h**2) and large enough")
    return None


def _expect_restored(numerical_gradient: LearnerFunction, original: np.ndarray, x: np.ndarray, h: float) -> None:
    """x must be as it was (up to the last bits: restoring by arithmetic, x[i] -= h, is fine)."""
    if np.allclose(x, original, rtol=1e-12, atol=1e-14):
        return
    if np.allclose(x, original - h) or np.allclose(x, original + h):
        side = "x - h" if np.allclose(x, original - h) else "x + h"
        numerical_gradient.fail(f"it left every entry of x at {side}: x is not restored.", returned=x,
                                expected=original,
                                mistake=f"after the two calls of f, put the old value back: save old = x[i] "
                                        f"before nudging, then x[i] = old - the caller (check_backprop) "
                                        f"still needs its weights")
    numerical_gradient.fail("it changed x: when it returns, x must be exactly as it was.", returned=x,
                            expected=original,
                            hint="nudge one entry, call f, and put the entry back to its old value before the next")


def _expect_gradient(numerical_gradient: LearnerFunction, name: str, x: np.ndarray, h: float | None = None,
                     *, rtol: float = 1e-9, atol: float = 1e-9) -> np.ndarray:
    """Call numerical_gradient(<example name>, x[, h]); expect the central difference of that example."""
    step = DEFAULT_H if h is None else h
    original = x.copy()
    got = numerical_gradient(name, x) if h is None else numerical_gradient(name, x, h)
    _expect_restored(numerical_gradient, original, x, step)
    example = EXAMPLES[name]
    if h is None:  # the default h: anything close to the exact gradient will do
        expected = example.gradient(original)
    else:
        copy = original.copy()
        expected = ref.numerical_gradient(example.function_for(copy), copy, h)
    got = as_array(numerical_gradient, got, "the gradient")
    wrong = _wrong_gradients(name, original, step)
    guessed = _h_used(name, original, got, step, given=h is not None)
    if guessed:  # last: only when no other mistake explains the numbers
        wrong.append((got, guessed))
    shapes = {(original.size,): f"the gradient has x's shape {original.shape}: make it with np.zeros(x.shape)",
              (): "return the whole gradient, an array of x's shape, not one number"}
    hint = f"with {example.formula}: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h), one entry i at a time"
    if got.shape == original.shape and np.all(np.isfinite(got)) and not np.allclose(
            got.astype(float), expected, rtol=rtol, atol=atol):
        numerical_gradient.fail(f"the gradient has the wrong values ({example.formula}).", returned=got,
                                expected=expected, mistake=_recognised(got, wrong), hint=hint)
    return expect_close(numerical_gradient, got, expected, what="the gradient", wrong_answers=wrong,
                        wrong_shapes=shapes, hint=hint, loose=True)


def _recognised(got: np.ndarray, wrong: list) -> str | None:
    """The hint of the first wrong answer (an array, or a predicate on the result) that `got` matches."""
    for answer, text in wrong:
        with np.errstate(all="ignore"):
            if callable(answer):
                if answer(got):
                    return text
            elif answer.shape == got.shape and np.allclose(got.astype(float), answer, rtol=1e-6, atol=1e-9):
                return text
    return None


@check("numerical_gradient", visible=True, replay=f"{RESTORED} + returns(rtol=1e-9, atol=1e-9)")
def cubes_with_a_large_h(numerical_gradient: LearnerFunction) -> None:
    """f(x) = sum(x**3) on a (2, 3) x with h = 0.1: every entry is 3 x**2 + h**2, and x is restored."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    _expect_gradient(numerical_gradient, "sum_of_cubes", x, 0.1)


@check("numerical_gradient", visible=True, replay=f"{RESTORED} + returns(rtol=1e-7, atol=1e-7)")
def default_h_is_small(numerical_gradient: LearnerFunction) -> None:
    """called without h, on f(x) = sum(x**3): within 1e-7 of the exact gradient 3 x**2."""
    x = np.array([0.3, -1.2, 2.5, 0.8])
    _expect_gradient(numerical_gradient, "sum_of_cubes", x, rtol=1e-7, atol=1e-7)


@check("numerical_gradient")
def columns_and_matrices(numerical_gradient: LearnerFunction) -> None:
    """f(x) = sum(x)**2 + sum(sin(x)), which mixes all entries, on (4, 1), (3, 4) and (1,) arrays."""
    rng = np.random.default_rng(6)
    for shape in ((4, 1), (3, 4), (1,)):
        _expect_gradient(numerical_gradient, "square_of_sum_plus_sines", rng.uniform(-1, 1, size=shape),
                         rtol=1e-6, atol=1e-6)
    _expect_gradient(numerical_gradient, "square_of_sum_plus_sines", rng.uniform(-1, 1, size=(2, 3)), 1e-3)


@check("numerical_gradient")
def nudges_x_in_place(numerical_gradient: LearnerFunction) -> None:
    """an f that ignores its argument and reads x itself (like check_backprop's loss): x nudged in place."""
    x = np.array([[0.5, -1.0], [2.0, 1.5]])
    _expect_gradient(numerical_gradient, "sum_of_cubes_read_in_place", x, 1e-4, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------- relative_error
def _relative(relative_error: LearnerFunction, a, b) -> float:
    """Call relative_error(a, b) (copies), check the inputs are unchanged, and return one float."""
    copies = {"a": np.array(a, dtype=float), "b": np.array(b, dtype=float)}
    given = {name: value.copy() for name, value in copies.items()}
    args = (a, b) if np.ndim(a) == 0 else (copies["a"], copies["b"])
    try:
        got = relative_error(*args)
    except GradingError as error:
        if "NumPy warned" in str(error) and not np.all(np.abs(given["a"]) + np.abs(given["b"])):
            relative_error.fail("NumPy warned of 0 / 0: where a and b are both 0, |a| + |b| is 0.",
                                mistake="guard the denominator: divide by np.maximum(|a| + |b|, 1e-8), so "
                                        "two zeros agree (error 0) instead of giving NaN")
        raise
    unchanged(relative_error, given, copies)
    array = np.asarray(got) if isinstance(got, (np.ndarray, np.generic, list, float, int)) else None
    if array is not None and array.size > 1:
        relative_error.fail(f"it returned {array.size} numbers, not one.", returned=got,
                            mistake="reduce to the WORST entry: np.max over all the entries (no axis)")
    return as_float(relative_error, got, "the relative error")


def _expect_relative(relative_error: LearnerFunction, a, b) -> None:
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    got = _relative(relative_error, a, b)
    expected = ref.relative_error(a_, b_)
    if np.isclose(got, expected, rtol=1e-3, atol=1e-12):
        return
    difference, size = np.abs(a_ - b_), np.abs(a_) + np.abs(b_)
    with np.errstate(all="ignore"):
        recognised = [
            (np.mean(difference / np.maximum(size, 1e-8)), "that is the MEAN over the entries: take the worst "
                                                             "one, np.max"),
            (np.max(difference / np.maximum(np.maximum(np.abs(a_), np.abs(b_)), 1e-8)),
             "divide by |a| + |b|, not by max(|a|, |b|)"),
            (np.max(difference), "that is the absolute difference: divide each |a_i - b_i| by max(|a_i| + |b_i|, "
                                 "1e-8)"),
            (np.max(difference / np.maximum(np.abs(a_ + b_), 1e-8)), "divide by |a| + |b|, not by |a + b| "
                                                                     "(a and b may have opposite signs)"),
            (np.max(difference) / max(float(np.max(size)), 1e-8), "divide entry by entry, then take the worst: "
                                                                  "max_i (|a_i - b_i| / (|a_i| + |b_i|))"),
            (np.linalg.norm(a_ - b_) / max(float(np.linalg.norm(a_) + np.linalg.norm(b_)), 1e-8),
             "that compares whole norms: this kit's relative error goes entry by entry, "
             "max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)"),
            (np.max(difference / np.maximum(np.abs(a_), 1e-8)), "divide by |a| + |b|, not by |a| alone"),
            (np.max(difference / np.maximum(np.abs(b_), 1e-8)), "divide by |a| + |b|, not by |b| alone"),
            (np.max((a_ - b_) / np.maximum(size, 1e-8)), "take the absolute value |a_i - b_i|: a difference "
                                                         "of either sign is an error"),
            (np.max((b_ - a_) / np.maximum(size, 1e-8)), "take the absolute value |a_i - b_i|: a difference "
                                                         "of either sign is an error"),
            (np.max(difference / size) if np.all(size > 0) else np.nan,
             "without the guard, noise like 1e-12 against 0 counts as a 100% error: divide by "
             "np.maximum(|a| + |b|, 1e-8)"),
        ]
    mistake = next((text for value, text in recognised if np.isfinite(value)
                    and np.isclose(got, value, rtol=1e-6, atol=1e-12)), None)
    relative_error.fail("wrong relative error.", returned=got, expected=expected, mistake=mistake,
                        hint="rel(a, b) = max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)")


@check("relative_error", visible=True, replay="keeps_inputs + returns(rtol=1e-3, atol=1e-12)")
def small_example(relative_error: LearnerFunction) -> None:
    """a = [1, 2, 3], b = [1, 2.2, 3.6]: the worst entry is |3 - 3.6| / (3 + 3.6) = 0.6 / 6.6."""
    _expect_relative(relative_error, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.6]))


@check("relative_error", visible=True, replay="keeps_inputs + returns(rtol=1e-3, atol=1e-12)")
def zeros_agree(relative_error: LearnerFunction) -> None:
    """two equal gradients with zero entries (a dead ReLU unit's) give 0, with no 0 / 0 and no warning."""
    got = _relative(relative_error, np.array([0.0, 0.5, 0.0]), np.array([0.0, 0.5, 0.0]))
    if not np.isfinite(got) or got != 0:
        relative_error.fail("equal arrays should give 0.", returned=got, expected=0.0,
                            mistake=("NaN is 0 / 0: guard the denominator, np.maximum(|a| + |b|, 1e-8)"
                                     if np.isnan(got) else None),
                            hint="|a_i - b_i| is 0 for every entry, so the worst relative difference is 0")


@check("relative_error")
def tiny_against_zero_is_no_error(relative_error: LearnerFunction) -> None:
    """1e-12 against 0 is rounding noise: 1e-12 / 1e-8 = 1e-4, not a 100% error."""
    _expect_relative(relative_error, np.array([1e-12, 0.25]), np.array([0.0, 0.25]))


@check("relative_error")
def signs_shapes_and_numbers(relative_error: LearnerFunction) -> None:
    """2-D arrays with entries of opposite signs, a > b as well as a < b, and two plain numbers."""
    _expect_relative(relative_error, np.array([[-1.0, 2.0], [0.5, -3.0]]), np.array([[1.0, 2.0], [0.5, -2.9]]))
    _expect_relative(relative_error, np.array([2.0, 1.0]), np.array([1.0, 1.0]))
    _expect_relative(relative_error, np.array([1.0, 1.0]), np.array([1.0, 2.0]))
    _expect_relative(relative_error, 3.0, 3.3)


# ----------------------------------------------------------------- check_backprop
def _as_errors(check_backprop: LearnerFunction, result) -> dict[str, float]:
    if not isinstance(result, dict):
        check_backprop.fail(f"it should return a dict of four numbers, not {type(result).__name__}.",
                            returned=result, hint='return {"W1": ..., "b1": ..., "W2": ..., "b2": ...}')
    if sorted(result) != sorted(PARAMS):
        renamed = sorted(result) == sorted("d" + name for name in PARAMS)
        check_backprop.fail(f"the keys are {sorted(result)}, expected {list(PARAMS)}.", returned=result,
                            mistake='key each error by its PARAMETER\'s name: "W1", not "dW1"' if renamed else None,
                            hint='one entry per parameter: {"W1": ..., "b1": ..., "W2": ..., "b2": ...}')
    for name in PARAMS:
        if np.size(result[name]) > 1:
            check_backprop.fail(f'result["{name}"] holds {np.size(result[name])} numbers, not one.',
                                returned=result[name],
                                mistake="each error is ONE number, the worst entry's: relative_error must "
                                        "return a float (np.max over all the entries)")
    return {name: as_float(check_backprop, result[name], f'result["{name}"]') for name in PARAMS}


def _kinked(seed: int) -> Batch:
    """A network whose first hidden unit has Z1 = 1e-7 on the first example: ReLU's kink within h."""
    b = batch(seed, n_in=4, n_hidden=3, m=4)
    Z1 = b.W1 @ b.X + b.b1
    b1 = b.b1.copy()
    b1[0, 0] -= Z1[0, 0] - 1e-7
    return Batch(b.W1, b1, b.W2, b.b2, b.X, b.Y)


def _expect_errors(check_backprop: LearnerFunction, b: Batch, h: float | None) -> dict[str, float]:
    """check_backprop on copies of b's arrays: parameters restored, and the four errors."""
    inputs = {name: np.array(value) for name, value in zip((*PARAMS, "X", "Y"), (*b.params, b.X, b.Y))}
    given = {name: value.copy() for name, value in inputs.items()}
    args = tuple(inputs.values())
    result = check_backprop(*args) if h is None else check_backprop(*args, h)
    step = DEFAULT_H if h is None else h
    for name in (*PARAMS, "X", "Y"):
        if not np.allclose(inputs[name], given[name], rtol=1e-12, atol=1e-14):
            moved = float(np.max(np.abs(inputs[name].astype(float) - given[name])))
            check_backprop.fail(
                f"{name} is not as it was after the check: its entries moved by up to {moved:.2g}.",
                mistake=(f"that is h = {step:g}: numerical_gradient left the nudges in - it must put every "
                         f"entry back to its old value" if np.isclose(moved, step, rtol=1e-3) else None),
                hint="numerical_gradient must put every entry back, and check_backprop must not change the "
                     "arrays it is given")
    return _as_errors(check_backprop, result)


def _what_went_wrong(got: dict[str, float], b: Batch, h: float) -> str | None:
    """A hint for errors that look like a usual mistake of check_backprop."""
    nonzero = {name: bool(np.any(grad)) for name, grad in zip(PARAMS, b.gradients())}
    if all(np.isclose(got[name], 1.0) for name in PARAMS if nonzero[name]):
        return ("an error of 1 everywhere means the numerical gradient is all zeros: the loss f must be "
                "computed afresh, inside f, from the parameters numerical_gradient nudges (the same arrays, "
                "not copies)")
    for other in (1e-1, 1e-2, 1e-3, 1e-4, DEFAULT_H):
        if not np.isclose(other, h) and all(
                np.isclose(got[name], value, rtol=1e-2, atol=1e-12)
                for name, value in ref.check_backprop(*[p.copy() for p in b.params], b.X, b.Y, other).items()):
            return (f"those are the errors of h = {other:g}, not of the h = {h:g} given: check_backprop "
                    f"must pass h on to numerical_gradient, and numerical_gradient must use it")
    return None


@check("check_backprop", visible=True, replay=f"{RESTORED} + small_numbers(below=1e-6)")
def right_backprop_agrees(check_backprop: LearnerFunction) -> None:
    """a right backprop on a 4-3-10 network, 5 examples, default h: every error is below 1e-6."""
    b = batch(20, n_in=4, n_hidden=3, m=5)
    got = _expect_errors(check_backprop, b, None)
    large = {name: value for name, value in got.items() if not 0 <= value < 1e-6}
    if large:
        check_backprop.fail(f"it reports errors of {', '.join(f'{k}: {v:.2g}' for k, v in large.items())} "
                            f"(a right backprop gives below 1e-8 here).", returned=got,
                            mistake=_what_went_wrong(got, b, DEFAULT_H), hint=EARLIER)


@check("check_backprop")
def uses_the_given_h(check_backprop: LearnerFunction) -> None:
    """h = 1e-2: the errors are those of central differences with that h (about 1e-6 to 1e-3), per parameter;
    and for one example with 12 inputs."""
    _expect_reference_errors(check_backprop, batch(20, n_in=4, n_hidden=3, m=5), 1e-2)
    _expect_reference_errors(check_backprop, batch(28, n_in=12, n_hidden=5, m=1), 1e-2)


@check("check_backprop")
def reports_the_worst_entry(check_backprop: LearnerFunction) -> None:
    """a hidden unit on ReLU's kink (Z1 = 1e-7, h = 1e-5): W1's and b1's WORST errors are large, W2's and b2's not."""
    _expect_reference_errors(check_backprop, _kinked(27), DEFAULT_H, atol=1e-6)


def _expect_reference_errors(check_backprop: LearnerFunction, b: Batch, h: float, *, atol: float = 1e-12) -> None:
    """The errors the reference reports for b and h, to 10% (they are truncation or kink errors, far
    above rounding; below `atol` all are alike)."""
    got = _expect_errors(check_backprop, b, h)
    want = ref.check_backprop(*[p.copy() for p in b.params], b.X, b.Y, h)
    wrong = {name: got[name] for name in PARAMS if not np.isclose(got[name], want[name], rtol=0.1, atol=atol)}
    if not wrong:
        return
    mistake = _what_went_wrong(got, b, h)
    if mistake is None:
        means = {}
        for name, analytic, param in zip(PARAMS, b.gradients(), [p.copy() for p in b.params]):
            params = dict(zip(PARAMS, [p.copy() for p in b.params]))

            def loss(_, params=params):
                return ref.cross_entropy(ref.forward_prop(*params.values(), b.X)[3], b.Y)

            numerical = ref.numerical_gradient(loss, params[name], h)
            size = np.maximum(np.abs(analytic) + np.abs(numerical), ref.GUARD)
            means[name] = float(np.mean(np.abs(analytic - numerical) / size))
        if all(np.isclose(got[name], means[name], rtol=0.1, atol=1e-12) for name in PARAMS):
            mistake = "those are MEAN errors: report the worst entry of each parameter (relative_error's max)"
    check_backprop.fail(f"wrong errors for {', '.join(wrong)}.", returned=got, expected=want, mistake=mistake,
                        hint="for each parameter P: relative_error(dP from backward_prop, numerical_gradient(f, P, h)), "
                             "with f computing the loss of the nudged network; " + EARLIER)
