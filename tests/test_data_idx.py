"""The IDX reader: the official MNIST format, good files and every kind of bad one."""

import gzip

import numpy as np
import pytest

from data_files import (
    T10K_FIRST_LABELS,
    T10K_LABEL_COUNTS,
    assert_same_array,
    expected_xy,
    idx_bytes,
    raises_one_line,
    tiny_images,
    tiny_labels,
    write_bytes,
    write_idx_pair,
)
from solutions.mnist_data.idx import load_idx_pair, read_idx_images, read_idx_labels



@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "uncompressed"])
def test_pair_gives_784_by_m_columns_scaled_to_0_1(tmp_path, gz):
    images, labels = write_idx_pair(tmp_path, "t10k", m=3, gz=gz)
    X, Y = load_idx_pair(images, labels)
    X_expected, Y_expected = expected_xy(3)
    assert X.shape == (784, 3), f"load_idx_pair returned X of shape {X.shape}; expected (784, m) = (784, 3), one image per column"
    assert X.dtype == np.float64 and Y.dtype == np.int64, f"got X {X.dtype}, Y {Y.dtype}; expected float64 and int64"
    np.testing.assert_array_equal(X, X_expected, err_msg="X[28*r + c, j] must be pixel (r, c) of image j divided by 255")
    np.testing.assert_array_equal(Y, Y_expected)


def test_real_t10k_files(shared_mnist):
    X, Y = load_idx_pair(shared_mnist / "t10k-images-idx3-ubyte.gz", shared_mnist / "t10k-labels-idx1-ubyte.gz")
    assert X.shape == (784, 10_000) and Y.shape == (10_000,)
    assert Y[:10].tolist() == T10K_FIRST_LABELS
    assert np.bincount(Y, minlength=10).tolist() == T10K_LABEL_COUNTS
    assert X.min() == 0.0 and X.max() == 1.0
    # Independent oracle: the raw bytes after the 16-byte header, image j = bytes [784j, 784j + 784).
    raw = np.frombuffer(gzip.decompress((shared_mnist / "t10k-images-idx3-ubyte.gz").read_bytes()), np.uint8, offset=16)
    for j in (0, 1, 4321, 9999):
        np.testing.assert_array_equal(X[:, j], raw[784 * j : 784 * (j + 1)] / 255.0, err_msg=f"image {j}")


def test_real_t10k_uncompressed(shared_mnist, tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(gzip.decompress((shared_mnist / f"{name}.gz").read_bytes()))
    X, Y = load_idx_pair(tmp_path / "t10k-images-idx3-ubyte", tmp_path / "t10k-labels-idx1-ubyte")
    X_gz, Y_gz = load_idx_pair(shared_mnist / "t10k-images-idx3-ubyte.gz", shared_mnist / "t10k-labels-idx1-ubyte.gz")
    assert_same_array(X, X_gz, "X uncompressed vs gzipped")
    assert_same_array(Y, Y_gz, "Y uncompressed vs gzipped")


def test_real_train_labels(shared_mnist):
    labels = read_idx_labels(shared_mnist / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60_000,)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]


def test_missing_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raises_one_line(lambda: read_idx_images(path), path, "not found")


def test_empty_file(tmp_path):
    path = write_bytes(tmp_path / "t10k-labels-idx1-ubyte", b"")
    raises_one_line(lambda: read_idx_labels(path), path, "too short")


def test_labels_file_given_as_images(tmp_path):
    path = write_bytes(tmp_path / "x.gz", idx_bytes(tiny_labels(3)))
    raises_one_line(lambda: read_idx_images(path), path, "wrong magic number 0x00000801", "0x00000803", "labels file")


def test_wrong_magic_number(tmp_path):
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(tiny_images(2), magic=0x12345678))
    raises_one_line(lambda: read_idx_images(path), path, "wrong magic number 0x12345678")


def test_csv_given_as_idx(tmp_path):
    path = write_bytes(tmp_path / "t10k-labels-idx1-ubyte", b"label,1x1\n5,0\n")
    raises_one_line(lambda: read_idx_labels(path), path, "wrong magic number", "CSV")


def test_header_count_larger_than_data_is_truncation(tmp_path):
    path = write_bytes(tmp_path / "i.gz", idx_bytes(tiny_images(3), dims=(4, 28, 28)))
    raises_one_line(lambda: read_idx_images(path), path, "4 x 28 x 28", "3,136 bytes", "2,352 bytes", "truncated")


def test_header_count_smaller_than_data(tmp_path):
    path = write_bytes(tmp_path / "l", idx_bytes(tiny_labels(5), dims=(4,)))
    raises_one_line(lambda: read_idx_labels(path), path, "4 labels", "5 bytes", "extra bytes")


def test_truncated_header(tmp_path):
    path = write_bytes(tmp_path / "i", idx_bytes(tiny_images(1))[:10])
    raises_one_line(lambda: read_idx_images(path), path, "truncated IDX header")


def test_images_not_28_by_28(tmp_path):
    path = write_bytes(tmp_path / "i", idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    raises_one_line(lambda: read_idx_images(path), path, "32x32", "28x28")


def test_label_outside_0_9(tmp_path):
    labels = tiny_labels(5)
    labels[3] = 10
    path = write_bytes(tmp_path / "l.gz", idx_bytes(labels))
    raises_one_line(lambda: read_idx_labels(path), path, "label 10 at index 3", "0-9")


def test_image_and_label_counts_differ(tmp_path):
    images = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(tiny_images(3)))
    labels = write_bytes(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(tiny_labels(4)))
    raises_one_line(lambda: load_idx_pair(images, labels), images, labels, "3 images", "4 labels")


def test_truncated_gzip(tmp_path):
    whole = gzip.compress(idx_bytes(tiny_images(3)))
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", whole[: len(whole) // 2], gz=False)
    raises_one_line(lambda: read_idx_images(path), path, "truncated gzip")


def test_corrupt_gzip(tmp_path):
    whole = bytearray(gzip.compress(idx_bytes(tiny_images(3))))
    whole[-8] ^= 0xFF  # the CRC-32 of the uncompressed data
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", bytes(whole), gz=False)
    raises_one_line(lambda: read_idx_images(path), path, "corrupt gzip")


def test_corrupt_gzip_stream(tmp_path):
    whole = bytearray(gzip.compress(idx_bytes(tiny_images(3))))
    whole[12:40] = b"\xff" * 28  # garbage in the deflate stream itself
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", bytes(whole), gz=False)
    raises_one_line(lambda: read_idx_images(path), path, "gzip")


def test_gz_name_that_is_not_gzip(tmp_path):
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", b"<html>404 Not Found</html>", gz=False)
    raises_one_line(lambda: read_idx_images(path), path, "not a gzip file")


def test_folder_instead_of_file(tmp_path):
    raises_one_line(lambda: read_idx_images(tmp_path), tmp_path, "is a folder")
