"""Small synthetic problems for the reference's training tests."""

import numpy as np


def separable_problem(m: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """784-pixel inputs whose label is readable from one bright pixel: descent must learn it.

    Returns X (784, m) with background noise in [0, 0.1) and pixel 70 * Y[j] of
    column j set to 1, and Y (m,) labels in 0..9.
    """
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 10, size=m)
    X = rng.uniform(0, 0.1, size=(784, m))
    X[Y * 70, np.arange(m)] = 1.0
    return X, Y
