# MISTAKE: relu_deriv is 1 where Z < 0 instead of Z > 0.
# EXPECT test_relu_deriv: 1 where Z is negative
# Stage 01 (activations) - this is YOUR file: replace each `raise NotImplementedError(...)`
# with your code, and edit anything else you like.
# Check your work with:  python -m pytest exercises/01_activations
# (Generated from solutions/activations.py by `python -m grading.build`.)
"""Stage 01 - activations: the non-linearities of the 784-10-10 network.

Array convention (the original "MNIST from scratch" notebook's): one column per
example, so a batch of m pre-activations is an array Z of shape (units, m).

    relu(Z)       = max(Z, 0)                       elementwise
    relu_deriv(Z) = 1 where Z > 0, else 0           elementwise
    softmax(Z)    = exp(Z) / sum_k exp(Z_k)         column by column
"""

import numpy as np


def relu(Z: np.ndarray) -> np.ndarray:
    """Rectified linear unit, elementwise: ``relu(z) = max(z, 0)``.

    Args:
        Z: pre-activations of any shape, e.g. Z1 of shape (10, m).

    Returns:
        A new array of the same shape and dtype as Z, with every negative entry
        replaced by 0. Z itself is left unchanged.
    """
    return np.maximum(Z, 0)


def relu_deriv(Z: np.ndarray) -> np.ndarray:
    """Derivative of ReLU with respect to its input, elementwise.

        d relu(z) / dz = 1 if z > 0 else 0

    (At z = 0 the derivative is undefined; like the original notebook we use 0.)

    Args:
        Z: pre-activations of any shape, e.g. Z1 of shape (10, m).

    Returns:
        An array of the same shape as Z holding 1 where Z > 0 and 0 elsewhere
        (booleans or numbers: both multiply correctly with a float array).
    """
    return (Z < 0).astype(Z.dtype)


def softmax(Z: np.ndarray) -> np.ndarray:
    """Column-wise softmax: turns each column of logits into probabilities.

        softmax(Z)[k, j] = exp(Z[k, j]) / sum_i exp(Z[i, j])

    Subtracting each column's maximum first leaves the result unchanged
    (softmax(z + c) = softmax(z)) but keeps exp() from overflowing, so logits
    as large as +-1e4 give no overflow, no NaN and no warning.

    Args:
        Z: logits of shape (n_classes, m), e.g. Z2 of shape (10, m).

    Returns:
        A2 of shape (n_classes, m): every entry in [0, 1], every column sums to 1,
        a new array. Z itself is left unchanged (the caller still needs it:
        forward_prop returns Z2 beside A2 = softmax(Z2)), so shift a copy,
        `Z - Z.max(...)`, never `Z -= ...`.
    """
    shifted = Z - Z.max(axis=0, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=0, keepdims=True)
