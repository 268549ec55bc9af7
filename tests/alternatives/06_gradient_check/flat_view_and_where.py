# ALTERNATIVE: a flat view of x (x.reshape(-1) shares x's memory), np.where for the guard, a loop over the four parameters
# Stage 06 (gradient check) - this is YOUR file: replace each `raise NotImplementedError(...)`
# with your code, and edit anything else you like.
# Check your work with:  python -m pytest exercises/06_gradient_check
# (Generated from solutions/gradient_check.py by `python -m grading.build`.)
"""Stage 06 - gradient checking: prove YOUR backprop with the definition of a derivative.

(Do this stage right after stage 03: it checks your own backward_prop.)

A derivative is a rate of change: nudge one entry x_i of x by a small h and watch f.
The central difference

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2h)        e_i: 1 at entry i, 0 elsewhere

is off by about h^2 (the one-sided (f(x + h e_i) - f(x)) / h by about h). Doing it
for every entry i gives the numerical gradient, an array of x's shape. A smaller
h is not always better: f(x + h) - f(x - h) loses digits to rounding as h shrinks
(about 1e-16 |f| / h), so in float64 h = 1e-5 balances the two errors.

Two gradients are compared with the relative error, entry by entry, worst entry:

    rel(a, b) = max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)

The guard 1e-8 keeps 0 / 0 (a gradient entry that is exactly 0 in both, such as a
dead ReLU unit's) at 0 and stops noise like 1e-12 against 0 from looking like a
100% error. Below about 1e-7 the two agree to rounding; above 1e-2 something is wrong.

The gradient check of the network: for each parameter P in W1 (10, 784), b1 (10, 1),
W2 (10, 10), b2 (10, 1), compare backward_prop's dP with the numerical gradient of

    L(W1, b1, W2, b2) = cross_entropy(forward_prop(W1, b1, W2, b2, X)[3], Y)     a float

taken with respect to P (every entry of P nudged in turn, the other parameters fixed).
Near ReLU's kink (a hidden pre-activation Z1 within h of 0) the numerical gradient
averages the two slopes, so a large error there is the check's limit, not a bug.
"""

import numpy as np

from backprop import backward_prop, cross_entropy
from forward import forward_prop

PARAM_NAMES = ("W1", "b1", "W2", "b2")
#: the smallest denominator of the relative error
GUARD = 1e-8


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The gradient of f at x by central differences, one entry of x at a time.

        grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)     for every index i of x

    f is called with x itself, nudged IN PLACE (x[i] set to x[i] + h, then to
    x[i] - h), so f may also read x under another name, as check_backprop's loss
    reads the network's parameters. Put every entry back to its old value before
    moving on: when the function returns, x must be exactly as it was.

    Args:
        f: a function of one array, f(x) -> a number (a float).
        x: a float array of any shape, e.g. (3,), (10, 784) or (10, 1).
        h: the nudge.

    Returns:
        grad: a float array of x's shape.
    """
    flat = x.reshape(-1)  # a view: writing flat[i] writes x
    grad = np.empty(flat.size)
    for i in range(flat.size):
        old = float(flat[i])
        flat[i] = old + h
        plus = f(x)
        flat[i] = old - h
        minus = f(x)
        flat[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(x.shape)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """The worst relative difference between two arrays of the same shape.

        rel(a, b) = max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)

    Args:
        a, b: arrays of the same shape (any shape), or two numbers.

    Returns:
        A float >= 0: 0 when a == b (zeros included), at most 1 (a_i and b_i of
        opposite signs, or one of them 0 and the other large).
    """
    a, b = np.atleast_1d(np.asarray(a, dtype=float)), np.atleast_1d(np.asarray(b, dtype=float))
    size = np.abs(a) + np.abs(b)
    ratios = np.abs(a - b) / np.where(size > GUARD, size, GUARD)
    return float(ratios.max())


def check_backprop(
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    h: float = 1e-5,
) -> dict[str, float]:
    """Gradient check of YOUR backward_prop on one network and batch.

    Runs forward_prop and backward_prop once for the gradients dW1, db1, dW2, db2,
    then, for each parameter P, numerical_gradient of the loss
    L = cross_entropy(forward_prop(W1, b1, W2, b2, X)[3], Y) with respect to P
    (with this h), and compares the two with relative_error.

    Args:
        W1: (n_hidden, n_in)   b1: (n_hidden, 1)   W2: (n_out, n_hidden)   b2: (n_out, 1)
        X: (n_in, m) inputs.   Y: (m,) integer labels.
        h: the nudge, passed on to numerical_gradient.

    Returns:
        {"W1": rel(dW1, numerical dW1), "b1": ..., "W2": ..., "b2": ...}: the worst
        relative error of each parameter's gradient (below 1e-7: backprop is right).
        The parameters are left as they were.
    """
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    analytic = dict(zip(PARAM_NAMES, backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)))

    def loss(_):  # reads W1, b1, W2, b2 themselves, which numerical_gradient nudges in place
        return cross_entropy(forward_prop(W1, b1, W2, b2, X)[3], Y)

    result = {}
    for name, param in zip(PARAM_NAMES, (W1, b1, W2, b2)):
        numerical = numerical_gradient(loss, param, h)
        result[name] = relative_error(analytic[name], numerical)
    return result
