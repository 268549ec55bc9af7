"""Data augmentation: more training images for free, by shifting the ones we have.

A digit moved one pixel left, right, up or down is still the same digit, but to
a network that sees raw pixels it is a new example. Showing each image at a
random small offset every epoch stops a small network from memorising the
exact pixels of a few thousand training images, and it generalises better.
"""

import numpy as np

IMAGE_SIDE = 28


def random_shifts(X: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """Shift every image by its own random offset of up to max_shift pixels.

    Each column of X is a flattened 28x28 image. Image j is moved by
    (dy_j, dx_j), both drawn uniformly from -max_shift..max_shift; pixels that
    move past an edge are dropped and the uncovered border is filled with 0.

    Args:
        X: (784, m) images, one per column.
        rng: the random generator that draws the offsets.
        max_shift: largest shift in pixels along each axis.

    Returns:
        A new (784, m) array of the same dtype; X is not modified.
    """
    m = X.shape[1]
    images = X.T.reshape(m, IMAGE_SIDE, IMAGE_SIDE)
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    offsets = rng.integers(0, 2 * max_shift + 1, size=(2, m))
    shifted = np.empty_like(images)
    for dy in range(2 * max_shift + 1):
        for dx in range(2 * max_shift + 1):
            chosen = (offsets[0] == dy) & (offsets[1] == dx)
            shifted[chosen] = padded[chosen, dy : dy + IMAGE_SIDE, dx : dx + IMAGE_SIDE]
    return shifted.reshape(m, -1).T
