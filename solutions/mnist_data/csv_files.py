"""Read MNIST as CSV: one image per line, the label first, then its 784 pixels.

Two layouts are in common use, and both are read (gzipped or not):

* Kaggle "mnist-in-csv" (``mnist_train.csv``, ``mnist_test.csv``): a header row
  ``label,1x1,1x2,...,28x28`` then one row per image;
* Colab's ``sample_data/mnist_train_small.csv`` / ``mnist_test.csv``: the same
  rows with no header.

A header is recognised by its first cell not being a number. Every cell is
checked, and the first problem is reported with its line and column (both
counted from 1, as an editor shows them): a row without exactly 785 columns,
a cell that is not a number, a label outside 0..9, a pixel outside 0..255.
"""

import re
from pathlib import Path

import numpy as np

from .compressed import read_maybe_gzip
from .errors import MnistDataError

PIXELS = 28 * 28
COLUMNS = 1 + PIXELS
UTF8_BOM = b"\xef\xbb\xbf"
INTEGER = re.compile(rb"\s*[+-]?[0-9]+\s*")


def read_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST CSV file, with or without a header row.

    Returns:
        X: (784, m) float64, pixels / 255 in [0, 1], one image per column.
        Y: (m,) int64 labels 0..9.

    Raises:
        MnistDataError: the file is missing, empty, not a CSV, or has a bad row
            or cell (the message gives its line and column).
    """
    path = Path(path)
    data = read_maybe_gzip(path)
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if b"\x00" in data[:4096]:
        raise MnistDataError(
            f"{path}: binary data, not a CSV file (an IDX file? those are named like "
            "t10k-images-idx3-ubyte.gz)"
        )
    numbered = [(number, line) for number, line in enumerate(data.split(b"\n"), start=1) if line.strip()]
    del data  # the lines hold the text now (a 60,000-row CSV is ~110 MB)
    if not numbered:
        raise MnistDataError(f"{path}: empty file, expected rows of a label and 784 pixel values")
    _check_column_counts(path, numbered)
    if _is_header(numbered[0][1]):
        _check_header(path, numbered[0][1])
        numbered = numbered[1:]
        if not numbered:
            raise MnistDataError(f"{path}: has a header row but no images (an empty file?)")
    line_numbers = np.array([number for number, _ in numbered])
    values = _parse_numbers(path, numbered)
    del numbered
    _check_values(path, values, line_numbers)
    X = values[:, 1:].T / 255.0
    Y = values[:, 0].astype(np.int64)
    return X, Y


def _is_header(line: bytes) -> bool:
    """True when the line's first cell is not a number (Kaggle's ``label,1x1,...``)."""
    try:
        float(line.split(b",", 1)[0])
    except ValueError:
        return True
    return False


def _check_header(path: Path, header: bytes) -> None:
    """A header may name its columns anything, but a 'label' column must come first."""
    names = [name.strip().strip(b'"').lower() for name in header.split(b",")]
    if names[0] != b"label" and b"label" in names:
        raise MnistDataError(
            f"{path}: line 1 (the header): the label is column {names.index(b'label') + 1}, "
            "expected it first (label, then 784 pixels)"
        )


def _column_name(column: int) -> str:
    """Describe column `column` (counted from 1) as the user would think of it."""
    return "the label" if column == 1 else f"pixel {column - 2}"


def _check_column_counts(path: Path, numbered: list[tuple[int, bytes]]) -> None:
    """Every non-blank line (the header included) must have exactly 785 columns."""
    for number, line in numbered:
        columns = line.count(b",") + 1
        if columns != COLUMNS:
            hint = ""
            if columns == PIXELS:
                hint = " (784 looks like pixels without labels, e.g. Kaggle digit-recognizer's test.csv)"
            raise MnistDataError(
                f"{path}: line {number} has {columns} columns, expected {COLUMNS} "
                f"(the label, then 784 pixel values){hint}"
            )


def _parse_numbers(path: Path, numbered: list[tuple[int, bytes]]) -> np.ndarray:
    """The rows as an (m, 785) int32 array; a cell that is not an integer is reported by line and column."""
    try:
        return np.loadtxt([line for _, line in numbered], delimiter=",", dtype=np.int32, comments=None, ndmin=2)
    except ValueError:
        pass
    # Slow, but only on the error path: find the first cell that is not an integer.
    for number, line in numbered:
        for column, cell in enumerate(line.split(b","), start=1):
            if not INTEGER.fullmatch(cell) or not -(2**31) <= int(cell) < 2**31:
                shown = cell.strip().decode("utf-8", errors="replace")[:20]
                what = "an empty cell" if not shown else f"{shown!r} is not an integer"
                if INTEGER.fullmatch(cell):
                    what = f"{shown!r} is far outside 0-255"
                raise MnistDataError(
                    f"{path}: line {number}, column {column} ({_column_name(column)}): {what} "
                    "(expected whole numbers: labels 0-9, pixels 0-255)"
                ) from None
    raise MnistDataError(f"{path}: cannot be read as CSV of integers")


def _check_values(path: Path, values: np.ndarray, line_numbers: np.ndarray) -> None:
    """Labels (column 1) must be 0..9 and pixels (columns 2..785) 0..255."""
    checks = [
        (values[:, :1], 0, 9, 0, "label {value} is not a digit 0-9"),
        (values[:, 1:], 0, 255, 1, "pixel value {value} is outside 0-255"),
    ]
    for block, low, high, first_column, message in checks:
        bad = (block < low) | (block > high)
        if not bad.any():
            continue
        row, column = divmod(int(np.flatnonzero(bad)[0]), bad.shape[1])
        column += first_column
        raise MnistDataError(
            f"{path}: line {line_numbers[row]}, column {column + 1} ({_column_name(column + 1)}): "
            + message.format(value=values[row, column])
            + f" ({int(bad.sum()):,} such cells)"
        )
