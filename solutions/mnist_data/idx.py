"""Read MNIST's official IDX files (``train-images-idx3-ubyte.gz`` and friends).

The IDX format (http://yann.lecun.com/exdb/mnist/), all integers big-endian:

    offset  bytes  what
    0       2      0x0000
    2       1      element type: 0x08 = unsigned byte (the only type MNIST uses)
    3       1      number of dimensions d: 3 for images, 1 for labels
    4       4*d    the size of each dimension: (n, 28, 28) for images, (n,) for labels
    4+4d    ...    n*28*28 (or n) unsigned bytes, row by row

so the "magic number" (the first 4 bytes as one integer) is 0x00000803 for
images and 0x00000801 for labels. Everything here is checked: the magic number,
that the header's sizes match the bytes that follow exactly, 28x28 images,
labels in 0..9 and the same number of images and labels.
"""

from pathlib import Path

import numpy as np

from .compressed import read_maybe_gzip
from .errors import MnistDataError

UNSIGNED_BYTE = 0x08
IMAGE_SIDE = 28
KIND_BY_NDIM = {1: "labels", 3: "images"}


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The array stored in an IDX file of unsigned bytes with `ndim` dimensions.

    Args:
        path: the file, gzipped or not.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A uint8 array whose shape is the one in the file's header.

    Raises:
        MnistDataError: wrong magic number, a header that does not match the
            file's length, or any problem reading the file.
    """
    data = read_maybe_gzip(path)
    expected_kind = KIND_BY_NDIM.get(ndim, f"{ndim}-d")
    expected_magic = (UNSIGNED_BYTE << 8) | ndim
    if len(data) < 4:
        raise MnistDataError(
            f"{path}: only {len(data)} bytes, too short for an IDX header "
            f"(expected IDX {expected_kind}, magic number 0x{expected_magic:08x})"
        )
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        found = ""
        if data[:3] == bytes([0, 0, UNSIGNED_BYTE]) and data[3] in KIND_BY_NDIM:
            found = f": this is an IDX {KIND_BY_NDIM[data[3]]} file"
        elif data[:4].isascii() and data[:4].isalnum():
            found = ": this looks like a text (CSV?) file"
        raise MnistDataError(
            f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(IDX {expected_kind}, unsigned bytes){found}"
        )
    header_length = 4 + 4 * ndim
    if len(data) < header_length:
        raise MnistDataError(
            f"{path}: truncated IDX header ({len(data)} bytes, the header alone needs {header_length})"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_bytes = int(np.prod(shape, dtype=np.int64))
    actual_bytes = len(data) - header_length
    if actual_bytes != expected_bytes:
        dims = " x ".join(f"{size:,}" for size in shape)
        problem = "truncated" if actual_bytes < expected_bytes else "has extra bytes at the end"
        raise MnistDataError(
            f"{path}: header says {dims} {expected_kind} ({expected_bytes:,} bytes of data) "
            f"but the file holds {actual_bytes:,} bytes after the header: {problem}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_length).reshape(shape)


def read_idx_images(path: Path) -> np.ndarray:
    """The images of an IDX3 file as an (n, 28, 28) uint8 array of pixels 0..255.

    Raises:
        MnistDataError: see read_idx; also when the images are not 28x28.
    """
    images = read_idx(path, ndim=3)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistDataError(
            f"{path}: images are {images.shape[1]}x{images.shape[2]} pixels, "
            f"expected {IMAGE_SIDE}x{IMAGE_SIDE} (MNIST)"
        )
    return images


def read_idx_labels(path: Path) -> np.ndarray:
    """The labels of an IDX1 file as an (n,) uint8 array of digits 0..9.

    Raises:
        MnistDataError: see read_idx; also when a label is not a digit 0..9.
    """
    labels = read_idx(path, ndim=1)
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise MnistDataError(
            f"{path}: label {labels[bad[0]]} at index {bad[0]:,} is not a digit 0-9 "
            f"({bad.size:,} such labels)"
        )
    return labels


def load_idx_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file into the kit's convention.

    Returns:
        X: (784, m) float64, pixels / 255 in [0, 1], one image per column
           (column j is image j flattened row by row).
        Y: (m,) int64 labels 0..9.

    Raises:
        MnistDataError: any problem with either file, or when the two files
            hold different numbers of images and labels.
    """
    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if images.shape[0] != labels.shape[0]:
        raise MnistDataError(
            f"{images_path} holds {images.shape[0]:,} images but {labels_path} holds "
            f"{labels.shape[0]:,} labels: they must be the same set (train with train, t10k with t10k)"
        )
    m = images.shape[0]
    X = images.reshape(m, IMAGE_SIDE * IMAGE_SIDE).T / 255.0
    Y = labels.astype(np.int64)
    return X, Y
