"""Read MNIST's official IDX files (``train-images-idx3-ubyte.gz`` and friends).

The IDX format (http://yann.lecun.com/exdb/mnist/), all integers big-endian:

    offset  bytes  what
    0       2      0x0000
    2       1      element type: 0x08 = unsigned byte (the only type MNIST uses)
    3       1      number of dimensions d: 3 for images, 1 for labels
    4       4*d    the size of each dimension: (n, 28, 28) for images, (n,) for labels
    4+4d    ...    n*28*28 (or n) unsigned bytes, row by row

so the "magic number" (the first 4 bytes as one integer) is 0x00000803 for
images and 0x00000801 for labels. Everything here is checked, and the header
is checked before any data is read: the magic number, the sizes (at least one
image, at most limits.MAX_IMAGES, 28x28 images), that the header's sizes match
the bytes that follow exactly (a gzip that expands past them is stopped one
byte later), labels in 0..9 and the same number of images and labels.
"""

from pathlib import Path

import numpy as np

from .compressed import DataStream, open_data
from .content import looks_like
from .errors import MnistDataError
from .limits import MAX_IMAGES

UNSIGNED_BYTE = 0x08
IMAGE_SIDE = 28
KIND_BY_NDIM = {1: "labels", 3: "images"}
SNIFF_BYTES = 512  # what is read before the header is checked (enough to say what a wrong file is)
EXTRA_BYTES_COUNTED = 1 << 20  # past the data, count this many extra bytes for the message, then stop


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The array stored in an IDX file of unsigned bytes with `ndim` dimensions.

    Args:
        path: the file, gzipped or not.
        ndim: the number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A uint8 array whose shape is the one in the file's header: (n, 28, 28)
        for images, (n,) for labels, with 1 <= n <= MAX_IMAGES.

    Raises:
        MnistDataError: wrong magic number (saying what the file looks like), a
            header with sizes no MNIST file has, a header that does not match
            the file's length, or any problem reading the file.
    """
    with open_data(path, limit=SNIFF_BYTES) as stream:
        shape = _read_header(stream, ndim)
        expected_bytes = int(np.prod(shape, dtype=object))  # Python integers: no overflow
        header_length = 4 + 4 * ndim
        if stream.file_size is not None and stream.file_size - header_length != expected_bytes:
            _size_mismatch(path, shape, expected_bytes, stream.file_size - header_length)
        stream.limit = header_length + expected_bytes + EXTRA_BYTES_COUNTED
        data = np.empty(expected_bytes, dtype=np.uint8)
        got = stream.readinto(memoryview(data))
        if got < expected_bytes:
            _size_mismatch(path, shape, expected_bytes, got)
        extra = len(stream.read(EXTRA_BYTES_COUNTED))  # a gzip bomb stops here
        if extra:
            at_least = "at least " if extra == EXTRA_BYTES_COUNTED else ""
            _size_mismatch(path, shape, expected_bytes, expected_bytes + extra, at_least)
    return data.reshape(shape)


def _describe(shape: tuple[int, ...]) -> str:
    """'4 x 28 x 28 images', '4 labels'."""
    return " x ".join(f"{size:,}" for size in shape) + f" {KIND_BY_NDIM.get(len(shape), 'values')}"


def _size_mismatch(path: Path, shape: tuple[int, ...], expected: int, actual: int, more: str = "") -> None:
    problem = "truncated" if actual < expected else "has extra bytes at the end"
    raise MnistDataError(
        f"{path}: header says {_describe(shape)} ({expected:,} bytes of data) "
        f"but the file holds {more}{actual:,} bytes after the header: {problem}"
    )


def _read_header(stream: DataStream, ndim: int) -> tuple[int, ...]:
    """Read and check the magic number and the sizes; return the shape the header gives.

    Raises:
        MnistDataError: see read_idx (nothing past the header has been read).
    """
    path = stream.path
    expected_kind = KIND_BY_NDIM.get(ndim, f"{ndim}-d")
    expected_magic = (UNSIGNED_BYTE << 8) | ndim
    start = stream.read(4)
    if len(start) < 4:
        raise MnistDataError(
            f"{path}: only {len(start)} bytes, too short for an IDX header "
            f"(expected IDX {expected_kind}, magic number 0x{expected_magic:08x})"
        )
    magic = int.from_bytes(start, "big")
    if magic != expected_magic:
        raise MnistDataError(
            f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(IDX {expected_kind}, unsigned bytes){_what_it_is(start, stream)}"
        )
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise MnistDataError(
            f"{path}: truncated IDX header ({4 + len(sizes)} bytes, the header alone needs {4 + 4 * ndim})"
        )
    shape = tuple(int.from_bytes(sizes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    if ndim == 3 and shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistDataError(
            f"{path}: images are {shape[1]}x{shape[2]} pixels, expected {IMAGE_SIDE}x{IMAGE_SIDE} (MNIST)"
        )
    if shape[0] == 0:
        raise MnistDataError(f"{path}: holds no {expected_kind} (the header says {_describe(shape)})")
    if shape[0] > MAX_IMAGES:
        raise MnistDataError(
            f"{path}: header says {_describe(shape)}, more than the {MAX_IMAGES:,} the kit reads "
            "from one file (full MNIST has 60,000 training images): a damaged header, or not MNIST"
        )
    return shape


def _what_it_is(start: bytes, stream: DataStream) -> str:
    """': this is an IDX labels file', ': it looks like an HTML page (...)', or ''."""
    if start[:3] == bytes([0, 0, UNSIGNED_BYTE]) and start[3] in KIND_BY_NDIM:
        return f": this is an IDX {KIND_BY_NDIM[start[3]]} file"
    head = start + stream.read(508)
    what = looks_like(head)
    if what:
        return f": it looks like {what}"
    if head.isascii() and head.replace(b"\r", b"").replace(b"\n", b"").replace(b"\t", b"").decode().isprintable():
        return ": this looks like a text (CSV?) file"
    return ""


def read_idx_images(path: Path) -> np.ndarray:
    """The images of an IDX3 file as an (n, 28, 28) uint8 array of pixels 0..255.

    Raises:
        MnistDataError: see read_idx (images that are not 28x28 included).
    """
    return read_idx(path, ndim=3)


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
