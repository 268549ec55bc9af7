"""The CSV reader: Kaggle (header) and Colab (no header) layouts, good files and bad ones."""

import gzip
import hashlib

import numpy as np
import pytest

from data_files import T10K_FIRST_LABELS, assert_same_array, csv_text, expected_xy, raises_one_line, write_bytes
from solutions.mnist_data import default_sample_path
from solutions.mnist_data.csv_files import read_mnist_csv
from solutions.mnist_data.idx import load_idx_pair


@pytest.mark.parametrize("header", [True, False], ids=["kaggle-header", "colab-no-header"])
@pytest.mark.parametrize("name", ["mnist_test.csv", "mnist_test.csv.gz"])
def test_both_layouts_gzipped_or_not(tmp_path, header, name):
    path = write_bytes(tmp_path / name, csv_text(3, header=header).encode())
    X, Y = read_mnist_csv(path)
    X_expected, Y_expected = expected_xy(3)
    assert X.shape == (784, 3), f"read_mnist_csv returned X of shape {X.shape}; expected (784, 3), one image per column"
    assert X.dtype == np.float64 and Y.dtype == np.int64, f"got X {X.dtype}, Y {Y.dtype}; expected float64, int64"
    np.testing.assert_array_equal(X, X_expected, err_msg="X[28*r + c, j] must be pixel (r, c) of row j / 255")
    np.testing.assert_array_equal(Y, Y_expected)


def test_windows_line_endings_bom_and_blank_lines(tmp_path):
    text = "\ufeff" + csv_text(3, header=False, newline="\r\n") + "\r\n\r\n"
    X, Y = read_mnist_csv(write_bytes(tmp_path / "a.csv", text.encode("utf-8")))
    X_expected, Y_expected = expected_xy(3)
    np.testing.assert_array_equal(X, X_expected)
    np.testing.assert_array_equal(Y, Y_expected, err_msg="a UTF-8 BOM must not turn the first row into a 'header'")


def test_single_row(tmp_path):
    X, Y = read_mnist_csv(write_bytes(tmp_path / "one.csv", csv_text(1).encode()))
    assert X.shape == (784, 1) and Y.tolist() == [0]


def test_kaggle_test_csv_equals_idx_test_set(shared_mnist):
    X_csv, Y_csv = read_mnist_csv(shared_mnist / "mnist_test.csv.gz")
    X_idx, Y_idx = load_idx_pair(shared_mnist / "t10k-images-idx3-ubyte.gz", shared_mnist / "t10k-labels-idx1-ubyte.gz")
    assert X_csv.shape == (784, 10_000)
    assert Y_csv[:10].tolist() == T10K_FIRST_LABELS
    assert_same_array(Y_csv, Y_idx, "Y from the Kaggle CSV vs the IDX labels")
    assert_same_array(X_csv, X_idx, "X from the Kaggle CSV vs the IDX images")


def test_kaggle_test_csv_uncompressed(shared_mnist, tmp_path):
    path = tmp_path / "mnist_test.csv"
    path.write_bytes(gzip.decompress((shared_mnist / "mnist_test.csv.gz").read_bytes()))
    assert path.read_bytes().startswith(b"label,1x1,1x2,"), "the Kaggle file should start with its header"
    X, Y = read_mnist_csv(path)
    assert X.shape == (784, 10_000) and Y[:10].tolist() == T10K_FIRST_LABELS


def test_bundled_sample_is_colab_layout_500_per_digit():
    path = default_sample_path()
    assert gzip.decompress(path.read_bytes())[:2] in {f"{d},".encode() for d in range(10)}, "no header expected"
    X, Y = read_mnist_csv(path)
    assert X.shape == (784, 5_000) and Y.shape == (5_000,)
    assert np.bincount(Y, minlength=10).tolist() == [500] * 10
    assert X.min() == 0.0 and X.max() == 1.0


def test_bundled_sample_is_byte_identical_to_shared(shared_mnist):
    sums = dict(line.split()[::-1] for line in (shared_mnist / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert hashlib.sha256(default_sample_path().read_bytes()).hexdigest() == sums["mnist_sample_5k.csv.gz"]


def test_bundled_sample_uncompressed(tmp_path):
    path = tmp_path / "mnist_train_small.csv"
    path.write_bytes(gzip.decompress(default_sample_path().read_bytes()))
    X, Y = read_mnist_csv(path)
    X_gz, Y_gz = read_mnist_csv(default_sample_path())
    assert_same_array(X, X_gz, "X uncompressed vs gzipped")
    assert_same_array(Y, Y_gz, "Y uncompressed vs gzipped")


# --- bad files: one clear error naming the file, the line and the column -----------------------


def with_cell(row: int, column: int, value: str, header: bool = False, m: int = 3) -> str:
    """csv_text(m) with the cell at data row `row` (from 0), column `column` (from 0) replaced."""
    lines = csv_text(m, header=header).splitlines()
    cells = lines[row + header].split(",")
    cells[column] = value
    lines[row + header] = ",".join(cells)
    return "\n".join(lines) + "\n"


def test_row_with_too_many_columns(tmp_path):
    lines = csv_text(3).splitlines()
    lines[1] += ",0"
    path = write_bytes(tmp_path / "mnist_train.csv", ("\n".join(lines) + "\n").encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 2 has 786 columns", "expected 785")


def test_row_with_too_few_columns_after_header(tmp_path):
    lines = csv_text(3, header=True).splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0]
    path = write_bytes(tmp_path / "mnist_test.csv.gz", ("\n".join(lines) + "\n").encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 4 has 784 columns", "without labels")


def test_header_with_wrong_column_count(tmp_path):
    lines = csv_text(2, header=True).splitlines()
    lines[0] += ",extra"
    path = write_bytes(tmp_path / "k.csv", ("\n".join(lines) + "\n").encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 1 has 786 columns")


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("abc", "'abc' is not an integer"),
        ("", "an empty cell"),
        ("3.5", "'3.5' is not an integer"),
        ("1e2", "'1e2' is not an integer"),
        ("nan", "'nan'"),
        ("99999999999999999999", "'99999999999999999999' is far outside 0-255"),
        ("-3000000000", "'-3000000000' is far outside 0-255"),
    ],
)
def test_cell_that_is_not_an_integer(tmp_path, value, fragment):
    path = write_bytes(tmp_path / "c.csv.gz", with_cell(row=1, column=100, value=value, header=True).encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 3, column 101 (pixel 99)", fragment)


def test_non_numeric_label(tmp_path):
    path = write_bytes(tmp_path / "c.csv", with_cell(row=2, column=0, value="seven").encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 3, column 1 (the label)", "'seven'")


@pytest.mark.parametrize("value", ["256", "-1", "1000"])
def test_pixel_outside_0_255(tmp_path, value):
    path = write_bytes(tmp_path / "p.csv", with_cell(row=0, column=784, value=value).encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 1, column 785 (pixel 783)", f"pixel value {value} is outside 0-255")


@pytest.mark.parametrize("value", ["10", "-1"])
def test_label_outside_0_9(tmp_path, value):
    path = write_bytes(tmp_path / "l.csv", with_cell(row=1, column=0, value=value, header=True).encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "line 3, column 1 (the label)", f"label {value} is not a digit 0-9")


@pytest.mark.parametrize(
    "name, content",
    [("e.csv", b""), ("e.csv", b"\n\n  \n"), ("e.csv.gz", gzip.compress(b"")), ("e.csv.gz", b"")],
    ids=["zero-bytes", "blank-lines", "empty-gzip", "zero-bytes-named-gz"],
)
def test_empty_file(tmp_path, name, content):
    path = write_bytes(tmp_path / name, content, gz=False)
    raises_one_line(lambda: read_mnist_csv(path), path, "empty file")


def test_header_with_label_not_first(tmp_path):
    lines = csv_text(2, header=True).splitlines()
    names = lines[0].split(",")
    names[0], names[-1] = names[-1], names[0]
    lines[0] = ",".join(names)
    path = write_bytes(tmp_path / "k.csv", ("\n".join(lines) + "\n").encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "the label is column 785", "expected it first")


def test_any_header_names_with_label_first(tmp_path):
    lines = csv_text(2, header=True).splitlines()
    lines[0] = ",".join(["label"] + [f"pixel{k}" for k in range(784)])  # Kaggle digit-recognizer's train.csv
    X, Y = read_mnist_csv(write_bytes(tmp_path / "train.csv", ("\n".join(lines) + "\n").encode()))
    assert Y.tolist() == [0, 1]


def test_header_only(tmp_path):
    path = write_bytes(tmp_path / "h.csv", csv_text(0, header=True).encode())
    raises_one_line(lambda: read_mnist_csv(path), path, "header row but no images")


def test_missing_file(tmp_path):
    path = tmp_path / "mnist_test.csv"
    raises_one_line(lambda: read_mnist_csv(path), path, "not found")


def test_truncated_gzip(tmp_path):
    whole = gzip.compress(csv_text(3).encode())
    path = write_bytes(tmp_path / "mnist_test.csv.gz", whole[:-20], gz=False)
    raises_one_line(lambda: read_mnist_csv(path), path, "truncated gzip")


def test_binary_file(tmp_path):
    path = write_bytes(tmp_path / "mnist_test.csv", bytes([0, 0, 8, 3]) + bytes(100))
    raises_one_line(lambda: read_mnist_csv(path), path, "not a CSV")
