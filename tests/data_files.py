"""Helpers for the data-layer tests: write small IDX and CSV files, good or deliberately bad.

Written independently of solutions.mnist_data (from the format descriptions), so the
tests do not check the reader against itself.
"""

import gzip
from pathlib import Path

import numpy as np
import pytest

from solutions.mnist_data import MnistDataError

# Label counts of the official 10,000-image test set (published widely, e.g. in torchvision's docs).
T10K_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
T10K_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def tiny_images(m: int = 3) -> np.ndarray:
    """(m, 28, 28) uint8 images, all different: pixel (r, c) of image j is (j + 3r + 7c) % 256."""
    j, r, c = np.meshgrid(np.arange(m), np.arange(28), np.arange(28), indexing="ij")
    return ((j + 3 * r + 7 * c) % 256).astype(np.uint8)


def tiny_labels(m: int = 3) -> np.ndarray:
    """(m,) uint8 labels 0, 1, ..., 9, 0, ..."""
    return (np.arange(m) % 10).astype(np.uint8)


def write_bytes(path: Path, data: bytes, gz: bool | None = None) -> Path:
    """Write `data` to `path`, gzipped when gz is True (default: when the name ends in .gz)."""
    if gz is None:
        gz = path.name.endswith(".gz")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def idx_bytes(array: np.ndarray, magic: int | None = None, dims: tuple[int, ...] | None = None) -> bytes:
    """IDX encoding of a uint8 array: 0x0000, 0x08, ndim, big-endian sizes, the bytes.

    `magic` and `dims` override the header (to craft bad files)."""
    if magic is None:
        magic = 0x0800 | array.ndim
    dims = array.shape if dims is None else dims
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return header + array.astype(np.uint8).tobytes()


def write_idx_pair(folder: Path, prefix: str, m: int = 3, gz: bool = True) -> tuple[Path, Path]:
    """Write <prefix>-images-idx3-ubyte(.gz) and <prefix>-labels-idx1-ubyte(.gz) of tiny_images(m)."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    images = write_bytes(folder / f"{prefix}-images-idx3-ubyte{ext}", idx_bytes(tiny_images(m)))
    labels = write_bytes(folder / f"{prefix}-labels-idx1-ubyte{ext}", idx_bytes(tiny_labels(m)))
    return images, labels


def csv_text(m: int = 3, header: bool = False, newline: str = "\n") -> str:
    """tiny_images(m) / tiny_labels(m) as MNIST CSV text (Kaggle header optional)."""
    lines = []
    if header:
        lines.append(",".join(["label"] + [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)]))
    for image, label in zip(tiny_images(m), tiny_labels(m)):
        lines.append(",".join([str(label)] + [str(p) for p in image.ravel()]))
    return newline.join(lines) + newline


def expected_xy(m: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """What a correct loader returns for tiny_images(m): X[28r + c, j] = image_j[r, c] / 255."""
    images = tiny_images(m).astype(np.float64)
    X = np.stack([image.ravel() for image in images], axis=1) / 255.0
    return X, tiny_labels(m).astype(np.int64)


def assert_same_array(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Fast exact comparison (np.testing's is slow on millions of entries) with a useful message."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    different = actual != expected
    if different.any():
        first = np.unravel_index(np.flatnonzero(different)[0], actual.shape)
        raise AssertionError(
            f"{what}: {int(different.sum()):,} entries differ; first at {tuple(map(int, first))}: "
            f"got {actual[first]!r}, expected {expected[first]!r}"
        )


def raises_one_line(call, *fragments):
    """Assert that call() raises MnistDataError whose one-line message holds every fragment."""
    with pytest.raises(MnistDataError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, f"the message should be one line, got: {message!r}"
    for fragment in fragments:
        assert str(fragment) in message, f"expected {fragment!r} in the error message, got: {message!r}"
    assert caught.value.__cause__ is None, "the error should not chain a low-level traceback"
    return message
