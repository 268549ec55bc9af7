"""Comparing what the learner's function returned with what it should return.

Every helper takes the LearnerFunction being graded (so a failure message can say
what was called) and fails with a GradingError whose hint names the likely cause
(recorded as the error's `.mistake` when a recogniser matched):
`wrong_answers` lists (recogniser, hint) pairs, where a recogniser is either an
array the typical mistake would have produced or a predicate on the returned
array; the first one that matches gives the hint. When none matches,
`general_mistake` tries the mistakes any result can have: the right values times
a constant k (a scale or a sign), or a square result transposed.
"""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..running.learner_function import LearnerFunction

#: (recogniser, hint) pairs; a recogniser is the array a mistake would give, or a predicate on the result
WrongAnswers = Sequence[tuple["np.ndarray | Callable[[np.ndarray], bool]", str]]

#: tolerances for float64 results; float32 anywhere loosens them
RTOL, ATOL = 1e-5, 1e-8
RTOL32, ATOL32 = 2e-4, 1e-5


def as_array(fn: LearnerFunction, value: Any, what: str = "the result") -> np.ndarray:
    """`value` as a numeric array; fails when it is None or not array-like."""
    __tracebackhide__ = True
    if value is None:
        fn.fail(f"{what} is None.", mistake="did you forget the `return` statement?")
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, list)):
        array = np.asarray(value)
        if array.dtype != object and (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            return array
    fn.fail(f"{what} should be a NumPy array, not {type(value).__name__}.", returned=value)


def as_float(fn: LearnerFunction, value: Any, what: str = "the result") -> float:
    """`value` as a Python float; accepts Python and NumPy scalars and 0-d or 1-element arrays."""
    __tracebackhide__ = True
    if value is None:
        fn.fail(f"{what} is None.", mistake="did you forget the `return` statement?")
    if isinstance(value, (bool, np.bool_)):
        fn.fail(f"{what} should be a number, not a bool.", returned=value)
    array = np.asarray(value) if isinstance(value, (int, float, np.generic, np.ndarray)) else None
    if array is None or array.size != 1 or not np.issubdtype(array.dtype, np.number):
        fn.fail(f"{what} should be a single number.", returned=value,
                mistake="a mean or a fraction is one number: did you forget to average (np.mean)?")
    return float(array.reshape(()))


def as_tuple(fn: LearnerFunction, value: Any, names: Sequence[str]) -> tuple[Any, ...]:
    """`value` as a tuple of len(names) items; fails naming the expected items otherwise."""
    __tracebackhide__ = True
    wanted = ", ".join(names)
    if value is None:
        fn.fail(f"returned None instead of ({wanted}).", mistake="did you forget the `return` statement?")
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        count = f"{len(value)} values" if isinstance(value, (tuple, list)) else type(value).__name__
        fn.fail(f"should return the {len(names)} values ({wanted}), returned {count}.", returned=value,
                hint=f"end with `return {wanted}`")
    return tuple(value)


def expect_shape(fn: LearnerFunction, got: np.ndarray, shape: tuple[int, ...], what: str = "the result",
                 hint: str | None = None, wrong_shapes: dict[tuple[int, ...], str] | None = None) -> None:
    """Fail unless got.shape == shape; `wrong_shapes` maps typical wrong shapes to their hint."""
    __tracebackhide__ = True
    if got.shape != tuple(shape):
        specific = (wrong_shapes or {}).get(got.shape)
        fn.fail(f"{what} has shape {got.shape}, expected {tuple(shape)}.", mistake=specific, hint=hint)


def close(a: np.ndarray, b: np.ndarray, *, loose: bool = False) -> bool:
    """Same shape and equal up to rounding (looser when float32 is involved)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    loose = loose or a.dtype == np.float32 or b.dtype == np.float32
    rtol, atol = (RTOL32, ATOL32) if loose else (RTOL, ATOL)
    with np.errstate(all="ignore"):
        return bool(np.allclose(a.astype(float), b.astype(float), rtol=rtol, atol=atol, equal_nan=False))


def recognise(got: np.ndarray, wrong_answers: WrongAnswers, *, loose: bool = False) -> str | None:
    """The hint of the first wrong answer that `got` matches, or None."""
    for recogniser, hint in wrong_answers:
        try:
            if callable(recogniser):
                with np.errstate(all="ignore"):
                    if recogniser(got):
                        return hint
            elif close(got, recogniser, loose=loose):
                return hint
        except Exception:  # a recogniser that does not apply to this shape
            continue
    return None


def factor_text(k: float) -> str:
    """A factor as a learner reads it: 14000, 2.5, 0.001 (integers without decimals)."""
    if abs(k - round(k)) <= 1e-6 * max(1.0, abs(k)):
        return f"{round(k):d}"
    return f"{k:.4g}"


def times(k: float) -> str:
    """'14000 times too small', '3 times too large' for a positive factor k != 1."""
    if k > 1:
        return f"{factor_text(k)} times too large"
    return f"{factor_text(1 / k)} times too small"


def scale_factor(got: np.ndarray, expected: np.ndarray, *, loose: bool = False) -> float | None:
    """k when `got` is k * expected for one constant k (least squares), with k neither 1 nor 0; else None."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape or not np.all(np.isfinite(got)) or not np.all(np.isfinite(expected)):
        return None
    norm = float(np.sum(expected * expected))
    if norm == 0.0:
        return None
    k = float(np.sum(got * expected)) / norm
    if k == 0.0 or np.isclose(k, 1.0, rtol=1e-4, atol=0.0) or not close(got, k * expected, loose=loose):
        return None
    return k


#: how a factor k on a result is explained: k -> hint (see general_mistake)
ScaleExplainer = Callable[[float], str]


def general_mistake(got: np.ndarray, expected: np.ndarray, what: str = "the result", *,
                    explain_scale: ScaleExplainer | None = None, loose: bool = False) -> str | None:
    """The hint for mistakes any array result can have, or None: the right values times a constant
    (a wrong sign, a wrong scale or both) or, for a square result, the right values transposed.

    `explain_scale(k)` words the hint for a factor k (default: "k times too small/large").
    Never fires on a result close to `expected`.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape or close(got, expected, loose=loose):
        return None
    if (got.ndim == 2 and got.shape[0] == got.shape[1] > 1 and close(got, expected.T, loose=loose)):
        return (f"{what} is transposed: its rows and columns are swapped (it is square, so its shape "
                f"looks right)")
    if not np.issubdtype(expected.dtype, np.floating):
        return None  # labels, counts, indices: a factor on them means nothing
    k = scale_factor(got, expected, loose=loose)
    if k is None:
        return None
    if explain_scale is not None:
        return explain_scale(k)
    if np.isclose(k, -1.0, rtol=1e-4):
        return f"{what} has the wrong sign: every entry is minus the right one"
    sign = "has the wrong sign and is " if k < 0 else "is "
    return f"{what} {sign}{times(abs(k))}: every entry is off by the same factor {factor_text(k)}"


def expect_close(fn: LearnerFunction, got: Any, expected: np.ndarray, *, what: str = "the result",
                 wrong_answers: WrongAnswers = (), hint: str | None = None, loose: bool = False,
                 wrong_shapes: dict[tuple[int, ...], str] | None = None,
                 explain_scale: ScaleExplainer | None = None) -> np.ndarray:
    """Fail unless `got` is an array of expected's shape with equal values (up to rounding).

    On failure the hint is the first matching wrong answer's, else the general mistake's
    (see general_mistake; `explain_scale` words a constant factor), else `hint`.
    Returns `got` as an array.
    """
    __tracebackhide__ = True
    array = as_array(fn, got, what)
    expected = np.asarray(expected)
    if array.shape != expected.shape:
        specific = recognise(array, wrong_answers, loose=loose) or (wrong_shapes or {}).get(array.shape)
        fn.fail(f"{what} has shape {array.shape}, expected {expected.shape}.",
                returned=array if array.size <= 40 else ..., mistake=specific, hint=hint)
    if not np.all(np.isfinite(array)) and np.all(np.isfinite(expected)):
        fn.fail(f"{what} contains NaN or inf.", returned=array,
                mistake=recognise(array, wrong_answers, loose=loose),
                hint=hint or "a value overflowed: look for np.exp of a large number or a division by zero")
    if not close(array, expected, loose=loose):
        mistake = (recognise(array, wrong_answers, loose=loose)
                   or general_mistake(array, expected, what, explain_scale=explain_scale, loose=loose))
        fn.fail(f"{what} has the wrong values.", returned=array, expected=expected, mistake=mistake, hint=hint)
    return array


def unchanged(fn: LearnerFunction, before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> None:
    """Fail when the learner's function changed one of its input arrays in place."""
    __tracebackhide__ = True
    for name, original in before.items():
        if not np.array_equal(original, after[name], equal_nan=True):
            fn.fail(f"it changed its input {name} in place.",
                    mistake=f"leave {name} as it is and compute a new array (e.g. `{name} - x`, not `{name} -= x`, "
                         f"and no `{name}[...] = ...`); the caller still needs the original.")
