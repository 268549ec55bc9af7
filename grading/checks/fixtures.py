"""Inputs the checks feed to the learner's functions: small networks, batches, MNIST images.

Everything is drawn from fixed seeds, so a check sees the same inputs on every run.
The output layer always has 10 units, because the learner's one_hot defaults to 10
classes; the number of inputs and hidden units varies so that mistakes that only
show when shapes differ (or coincide) are caught.
"""

import functools
import gzip
from dataclasses import dataclass

import numpy as np

from solutions import backprop as ref_backprop
from solutions import forward as ref_forward

from ..stages import REPO_ROOT

N_CLASSES = 10
#: the bundled MNIST sample (CSV, label first, then 784 pixels 0-255; see data/ATTRIBUTION.md)
SAMPLE_PATH = REPO_ROOT / "data" / "mnist_sample_5k.csv.gz"


@dataclass(frozen=True)
class Batch:
    """A network and a batch: parameters, inputs X (n_in, m), labels Y (m,), and its forward pass."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    X: np.ndarray
    Y: np.ndarray

    @property
    def params(self) -> tuple[np.ndarray, ...]:
        return self.W1, self.b1, self.W2, self.b2

    @property
    def m(self) -> int:
        return self.X.shape[1]

    def forward(self) -> tuple[np.ndarray, ...]:
        """The reference forward pass: Z1, A1, Z2, A2."""
        return ref_forward.forward_prop(*self.params, self.X)

    def gradients(self) -> tuple[np.ndarray, ...]:
        """The reference gradients: dW1, db1, dW2, db2."""
        Z1, A1, Z2, A2 = self.forward()
        return ref_backprop.backward_prop(Z1, A1, Z2, A2, self.W1, self.W2, self.X, self.Y)


def batch(seed: int, *, n_in: int = 4, n_hidden: int = 3, m: int = 3, n_out: int = N_CLASSES,
          dtype: type = np.float64, scale: float = 1.0) -> Batch:
    """A random network and batch; hidden pre-activations are kept away from ReLU's kink at 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n_in, m))
    Y = rng.integers(0, n_out, size=m)
    W1 = rng.normal(scale=scale, size=(n_hidden, n_in))
    b1 = rng.normal(scale=0.5, size=(n_hidden, 1))
    W2 = rng.normal(scale=scale, size=(n_out, n_hidden))
    b2 = rng.normal(scale=0.5, size=(n_out, 1))
    Z1 = W1 @ X + b1
    b1 = b1 + np.where(np.abs(Z1).min(axis=1, keepdims=True) < 1e-3, 0.01, 0.0)  # no entry exactly at the kink
    cast = [a.astype(dtype) for a in (W1, b1, W2, b2, X)]
    return Batch(*cast[:4], cast[4], Y)


def rounded_batch(seed: int, *, n_in: int = 3, n_hidden: int = 2, m: int = 2, n_out: int = 3) -> Batch:
    """A small batch with one-decimal numbers, readable when printed in a message."""
    rng = np.random.default_rng(seed)

    def draw(*shape: int) -> np.ndarray:
        return np.round(rng.uniform(-1.0, 1.0, size=shape), 1)

    X = np.round(rng.uniform(0.0, 1.0, size=(n_in, m)), 1)
    return Batch(draw(n_hidden, n_in), draw(n_hidden, 1), draw(n_out, n_hidden), draw(n_out, 1),
                 X, rng.integers(0, n_out, size=m))


@functools.lru_cache(maxsize=1)
def mnist_images(count: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images of the bundled sample: X (784, count) in [0, 1], Y (count,) int64.

    Read directly (not with load_mnist) so that only the rows needed are parsed.
    """
    if not SAMPLE_PATH.is_file():
        raise FileNotFoundError(f"the bundled MNIST sample {SAMPLE_PATH} is missing (restore it with "
                                f"`git checkout data/`): the capstone's training checks need it")
    with gzip.open(SAMPLE_PATH, "rt") as file:
        lines = [line for _, line in zip(range(count), file)]
    table = np.loadtxt(lines, delimiter=",", dtype=np.uint8, ndmin=2)
    return table[:, 1:].T / 255.0, table[:, 0].astype(np.int64)
