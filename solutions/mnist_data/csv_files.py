"""Read MNIST as CSV: one image per line, the label first, then its 784 pixels.

Two layouts are in common use, and both are read (gzipped or not):

* Kaggle "mnist-in-csv" (``mnist_train.csv``, ``mnist_test.csv``): a header row
  ``label,1x1,1x2,...,28x28`` then one row per image;
* Colab's ``sample_data/mnist_train_small.csv`` / ``mnist_test.csv``: the same
  rows with no header.

The file is read in blocks of a megabyte and parsed in chunks of rows, so
memory stays near the size of the result whatever the file holds, and the
limits (limits.py: rows, line length, blank lines, total size) stop a file
that no MNIST CSV can be before it costs more.

The first line is a header when none of its cells is a number, so a data row
whose label is broken is reported, never skipped. Every cell is checked, and
the first problem is reported with its line and column (both counted from 1,
as an editor shows them): a row without exactly 785 columns (saying which
other separator the line uses, if any), a cell that is not a number (quoted,
empty, ...), a label outside 0..9, a pixel outside 0..255, and a file whose
label looks like it is the last column instead of the first.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .compressed import DataStream, open_data
from .content import looks_like
from .errors import MnistDataError
from .limits import MAX_CSV_BLANK_LINES, MAX_CSV_BYTES, MAX_CSV_LINE_BYTES, MAX_IMAGES, megabytes

PIXELS = 28 * 28
COLUMNS = 1 + PIXELS
UTF8_BOM = b"\xef\xbb\xbf"
INTEGER = re.compile(rb"\s*[+-]?[0-9]+\s*")
BLOCK_BYTES = 1 << 20
ROWS_PER_CHUNK = 2048
#: Separators a CSV saved with other settings uses instead of commas, as messages name them.
OTHER_SEPARATORS = ((b";", "semicolons (;)"), (b"\t", "tabs"), (b"|", "bars (|)"), (b" ", "spaces"))


def read_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST CSV file, with or without a header row.

    Returns:
        X: (784, m) float64, pixels / 255 in [0, 1], one image per column.
        Y: (m,) int64 labels 0..9.

    Raises:
        MnistDataError: the file is missing, empty, not a CSV, past a limit, or
            has a bad row or cell (the message gives its line and column).
    """
    path = Path(path)
    chunks, line_numbers = [], []
    with open_data(path, limit=MAX_CSV_BYTES) as stream:
        lines = _lines(stream)
        first = next(lines, None)
        if first is None:
            raise MnistDataError(f"{path}: empty file, expected rows of a label and 784 pixel values")
        if _is_header(first[1]):
            _check_columns(path, *first)
            _check_header(path, first[1])
            first = None
        rows = 0
        for chunk in _chunks(first, lines):
            rows += len(chunk)
            if rows > MAX_IMAGES:
                raise MnistDataError(
                    f"{path}: more than {MAX_IMAGES:,} rows, more than the kit reads from one file "
                    "(full MNIST has 60,000 training images)"
                )
            chunks.append(_parse_numbers(path, chunk))
            line_numbers.extend(number for number, _ in chunk)
    if not chunks:
        raise MnistDataError(f"{path}: has a header row but no images (an empty file?)")
    values = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    del chunks
    _check_values(path, values, np.array(line_numbers))
    X = values[:, 1:].T / 255.0
    Y = values[:, 0].astype(np.int64)
    return X, Y


def _lines(stream: DataStream) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each non-blank line, without its line ending (\\n or \\r\\n).

    Raises:
        MnistDataError: binary data, a line longer than MAX_CSV_LINE_BYTES, more
            than MAX_CSV_BLANK_LINES blank lines.
    """
    path, number, blank, rest = stream.path, 0, 0, b""
    first_block = True
    while True:
        block = stream.read(BLOCK_BYTES)
        if first_block:
            first_block = False
            block = block.removeprefix(UTF8_BOM)
            _check_text(path, block)
        if not block:
            break
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_CSV_LINE_BYTES:
            _line_too_long(path, number + len(lines) + 1, rest)
        for line in lines:
            number += 1
            if len(line) > MAX_CSV_LINE_BYTES:
                _line_too_long(path, number, line)
            line = line.removesuffix(b"\r")
            if line.strip():
                yield number, line
                continue
            blank += 1
            if blank > MAX_CSV_BLANK_LINES:
                raise MnistDataError(
                    f"{path}: more than {MAX_CSV_BLANK_LINES:,} blank lines (line {number:,} is blank): "
                    "not an MNIST CSV"
                )
    if rest.strip():
        yield number + 1, rest.removesuffix(b"\r")


def _check_text(path: Path, start: bytes) -> None:
    """A CSV starts as text: refuse an HTML page, an archive, binary data, naming what it looks like."""
    what = looks_like(start[:512])
    if what is None and b"\x00" in start:
        what = "binary data (an IDX file? those are named like t10k-images-idx3-ubyte.gz)"
    if what:
        raise MnistDataError(f"{path}: not a CSV file: it looks like {what}")


def _line_too_long(path: Path, number: int, line: bytes) -> None:
    if b"\x00" in line:
        raise MnistDataError(f"{path}: line {number:,} holds binary data (zero bytes), not CSV text")
    if b"\r" in line:
        raise MnistDataError(
            f"{path}: line {number:,} is longer than {megabytes(MAX_CSV_LINE_BYTES)}: the file uses CR "
            "line endings (old Mac); convert them to \\n (for example: tr '\\r' '\\n' < old.csv > new.csv)"
        )
    raise MnistDataError(
        f"{path}: line {number:,} is longer than {megabytes(MAX_CSV_LINE_BYTES)}, the longest line the kit "
        "reads (a row of 785 values is at most 3,140 bytes): not an MNIST CSV"
    )


def _chunks(first: tuple[int, bytes] | None, lines: Iterator[tuple[int, bytes]]) -> Iterator[list]:
    """The data lines in lists of ROWS_PER_CHUNK (first, when not None, leads the first list)."""
    chunk = [first] if first is not None else []
    for item in lines:
        chunk.append(item)
        if len(chunk) == ROWS_PER_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _cells(line: bytes) -> list[bytes]:
    return [cell.strip().strip(b'"').strip() for cell in line.split(b",")]


def _is_header(line: bytes) -> bool:
    """True when no cell of the line is a number (Kaggle's ``label,1x1,...``): a data row always has some."""
    return not any(INTEGER.fullmatch(cell) for cell in _cells(line))


def _check_header(path: Path, header: bytes) -> None:
    """A header may name its columns anything, but a 'label' column must come first."""
    names = [name.lower() for name in _cells(header)]
    if names[0] != b"label" and b"label" in names:
        raise MnistDataError(
            f"{path}: line 1 (the header): the label is column {names.index(b'label') + 1}, "
            "expected it first (label, then 784 pixels)"
        )


def _column_name(column: int) -> str:
    """Describe column `column` (counted from 1) as the user would think of it."""
    return "the label" if column == 1 else f"pixel {column - 2}"


def _check_columns(path: Path, number: int, line: bytes) -> None:
    """A line must have exactly 785 columns; the message says what the line looks like instead."""
    columns = line.count(b",") + 1
    if columns == COLUMNS:
        return
    hint = ""
    if b"\r" in line:
        hint = " (the file uses CR line endings (old Mac): convert them to \\n)"
    elif columns == PIXELS:
        hint = " (784 looks like pixels without labels, e.g. Kaggle digit-recognizer's test.csv)"
    else:
        for separator, name in OTHER_SEPARATORS:
            found = len(line.split()) - 1 if separator == b" " else line.count(separator)
            if found >= 100:
                hint = f" (its cells are separated by {name}, {found:,} of them: save the CSV with commas)"
                break
    raise MnistDataError(
        f"{path}: line {number} has {columns} columns, expected {COLUMNS} "
        f"(the label, then 784 pixel values){hint}"
    )


def _parse_numbers(path: Path, chunk: list[tuple[int, bytes]]) -> np.ndarray:
    """The rows of `chunk` as an (n, 785) int16 array; a row without 785 columns, or a cell
    that is not an integer, is reported by line and column.

    Rows of plain digits and commas (every real MNIST CSV) take a fast vectorised
    path; anything else (spaces, signs, bad cells) goes through np.loadtxt.
    """
    lines = [line for _, line in chunk]
    fast = _parse_plain_digits(b"\n".join(lines) + b"\n", len(lines))
    if fast is not None:
        return fast
    for number, line in chunk:
        if line.count(b",") != COLUMNS - 1:
            _check_columns(path, number, line)
    try:
        return np.loadtxt(lines, delimiter=",", dtype=np.int16, comments=None, ndmin=2)
    except (ValueError, OverflowError):
        pass
    # Slow, but only on the error path: find the first cell that is not an integer.
    for number, line in chunk:
        for column, cell in enumerate(line.split(b","), start=1):
            _check_cell(path, number, column, cell)
    raise MnistDataError(f"{path}: cannot be read as CSV of integers")


def _check_cell(path: Path, number: int, column: int, cell: bytes) -> None:
    """Raise the message for a cell that np.loadtxt cannot read as a small integer."""
    shown = cell.strip().decode("utf-8", errors="replace")
    quoted = shown[:20] + ("..." if len(shown) > 20 else "")
    if INTEGER.fullmatch(cell):
        digits = len(shown.lstrip("+-"))
        if digits <= 4:
            return  # fits (np.loadtxt failed on another cell)
        what = f"{quoted!r} is far outside 0-255" if digits < 50 else f"a {digits:,}-digit number is far outside 0-255"
    elif not shown:
        what = "an empty cell"
    elif shown.startswith('"'):
        what = f"{quoted!r} is quoted; the kit reads plain numbers (save the CSV without quotes)"
    else:
        what = f"{quoted!r} is not an integer"
    raise MnistDataError(
        f"{path}: line {number}, column {column} ({_column_name(column)}): {what} "
        "(expected whole numbers: labels 0-9, pixels 0-255)"
    )


def _parse_plain_digits(text: bytes, rows: int) -> np.ndarray | None:
    """(rows, 785) int16 values of `text`: `rows` lines of 785 comma-separated numbers of 1-3 digits, each ending in \n.

    None when `text` is anything else (then np.loadtxt parses it, and reports errors).
    Each number ends just before a separator; its value is its last digit,
    plus 10 x the digit before and 100 x the one before that, where it has them.
    """
    buffer = np.frombuffer(text, dtype=np.uint8)
    digit = buffer - np.uint8(ord("0"))  # a byte that is not a digit wraps to 10 or more
    ends = np.flatnonzero(digit >= 10)  # the separator after each number
    if ends.size != rows * COLUMNS:
        return None
    separators = buffer[ends].reshape(rows, COLUMNS)
    if not (np.all(separators[:, :-1] == ord(",")) and np.all(separators[:, -1] == ord("\n"))):
        return None
    lengths = np.diff(ends, prepend=-1) - 1  # digits of each number
    if lengths.min() < 1 or lengths.max() > 3:
        return None
    values = digit[ends - 1].astype(np.int16)
    for place, scale in ((2, 10), (3, 100)):
        longer = np.flatnonzero(lengths >= place)
        values[longer] += scale * digit[ends[longer] - place].astype(np.int16)
    return values.reshape(rows, COLUMNS)


def _check_values(path: Path, values: np.ndarray, line_numbers: np.ndarray) -> None:
    """Labels (column 1) must be 0..9 and pixels (columns 2..785) 0..255, and the label must not look last."""
    checks = [
        (values[:, :1], 0, 9, 0, "label {value} is not a digit 0-9"),
        (values[:, 1:], 0, 255, 1, "pixel value {value} is outside 0-255"),
    ]
    label_last = _label_looks_last(values)
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
            + (f"; {label_last}" if label_last and first_column == 0 else "")
        )
    labels = values[:, 0]
    if label_last and np.all(labels == labels[0]):
        raise MnistDataError(
            f"{path}: every label (column 1) is {labels[0]}, {label_last}"
        )


def _label_looks_last(values: np.ndarray) -> str:
    """A phrase for the message when the last column holds several different digits 0-9 and nothing else, else ''."""
    last = values[:, -1]
    if last.size < 2 or last.min() < 0 or last.max() > 9 or np.all(last == last[0]):
        return ""
    return (
        "while the last column holds only digits 0-9: the label looks like the LAST column; "
        "the kit reads it from the first (label, then 784 pixels): move it first"
    )
