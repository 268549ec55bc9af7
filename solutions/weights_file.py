"""Read a trained network's weights file and check it before anything uses it.

solutions.train_mnist.load_params returns whatever the .npz file holds. A file
that is missing, is not an .npz archive, is truncated, lacks one of the arrays,
has an array of the wrong shape or holds NaN would otherwise surface as a NumPy
or zipfile traceback far from its cause. read_weights turns each of these into
one WeightsFileError whose message names the file, the array and the problem.

A valid file holds, for a network with n_hidden hidden units (10 for 784-10-10):

    W1 (n_hidden, 784)   b1 (n_hidden, 1)   W2 (10, n_hidden)   b2 (10, 1)

all finite real numbers.
"""

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .train_mnist import PARAM_NAMES, load_params

N_PIXELS = 784
N_CLASSES = 10

#: Errors np.load and NpzFile raise on a damaged or foreign file.
_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)


class WeightsFileError(Exception):
    """A weights file is missing, unreadable or does not hold a valid network.

    The message is one line for the user: the file, the array (when there is
    one) and what is wrong.
    """


def expected_shapes(n_hidden: int) -> dict[str, tuple[int, int]]:
    """The shape each parameter must have for a 784-n_hidden-10 network."""
    return {
        "W1": (n_hidden, N_PIXELS),
        "b1": (n_hidden, 1),
        "W2": (N_CLASSES, n_hidden),
        "b2": (N_CLASSES, 1),
    }


ZIP_MAGIC = b"PK\x03\x04"
NPY_MAGIC = b"\x93NUMPY"


def _stored_names(path: Path) -> list[str]:
    """The array names inside the .npz archive at path (WeightsFileError if it is not one)."""
    if not path.exists():
        raise WeightsFileError(f"{path}: no such file (train a network first: mnist-kit train)")
    if path.is_dir():
        raise WeightsFileError(f"{path}: is a folder, expected a .npz weights file")
    try:
        with open(path, "rb") as file:
            start = file.read(len(NPY_MAGIC))
        if not start:
            raise WeightsFileError(f"{path}: is empty (0 bytes), expected a .npz weights file")
        if start.startswith(NPY_MAGIC):
            raise WeightsFileError(
                f"{path}: holds a single .npy array, expected a .npz archive with "
                f"arrays {', '.join(PARAM_NAMES)} (as saved by save_params)"
            )
        if not start.startswith(ZIP_MAGIC):
            raise WeightsFileError(
                f"{path}: not a .npz weights file (it does not start like a zip archive)"
            )
        with np.load(path, allow_pickle=False) as archive:
            return list(archive.files)
    except WeightsFileError:
        raise
    except _READ_ERRORS as error:
        raise WeightsFileError(
            f"{path}: not a readable .npz weights file (corrupt or truncated?): {error}"
        ) from None


def read_weights(
    path: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load W1, b1, W2, b2 with load_params, after checking the file holds a valid network.

    Args:
        path: a .npz file written by solutions.train_mnist.save_params.

    Returns:
        W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1),
        as float64 arrays.

    Raises:
        WeightsFileError: the file is missing, not an .npz archive, corrupt or
            truncated, lacks an array, or an array has the wrong shape, a
            non-numeric type, or a NaN / infinite entry.
    """
    path = Path(path)
    names = _stored_names(path)
    missing = [name for name in PARAM_NAMES if name not in names]
    if missing:
        raise WeightsFileError(
            f"{path}: missing array{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(it holds {', '.join(names) or 'no arrays'}; expected {', '.join(PARAM_NAMES)})"
        )
    try:
        params = load_params(path)
    except _READ_ERRORS as error:
        raise WeightsFileError(
            f"{path}: cannot read the arrays (corrupt or truncated?): {error}"
        ) from None

    for name, array in zip(PARAM_NAMES, params):
        if array.dtype.kind not in "iuf":
            raise WeightsFileError(
                f"{path}: array {name} has dtype {array.dtype}, expected real numbers"
            )
    W1 = params[0]
    if W1.ndim != 2 or W1.shape[0] < 1 or W1.shape[1] != N_PIXELS:
        raise WeightsFileError(
            f"{path}: array W1 has shape {W1.shape}, expected (n_hidden, {N_PIXELS})"
        )
    shapes = expected_shapes(n_hidden=W1.shape[0])
    for name, array in zip(PARAM_NAMES, params):
        if array.shape != shapes[name]:
            raise WeightsFileError(
                f"{path}: array {name} has shape {array.shape}, expected {shapes[name]} "
                f"(W1 has {W1.shape[0]} hidden units)"
            )
        if not np.all(np.isfinite(array)):
            bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
            raise WeightsFileError(
                f"{path}: array {name} has {bad} NaN or infinite "
                f"entr{'ies' if bad > 1 else 'y'} (training diverged? try a smaller --alpha)"
            )
    return tuple(np.asarray(array, dtype=np.float64) for array in params)
