"""Where load_mnist looks, in which order, and what it says about what it found."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from data_files import csv_text, expected_xy, raises_one_line, write_bytes, write_idx_pair
from solutions.mnist_data import CACHE_ENV_VAR, ENV_VAR, MnistDataError, MnistDataNotFound, default_cache_dir, default_sample_path, load_mnist
from solutions.mnist_data.locate import repo_root

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $MNIST_KIT_DATA, an empty cache and a tiny 2-image 'bundled sample', all in tmp_path."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    (tmp_path / "sample").mkdir()
    sample = write_bytes(tmp_path / "sample" / "mnist_sample_5k.csv.gz", csv_text(2).encode())
    cache = tmp_path / "cache"
    cache.mkdir()

    def load(split, source=None):
        return load_mnist(split, source, cache_dir=cache, sample_path=sample)

    load.cache, load.sample, load.tmp = cache, sample, tmp_path
    return load


# --- finding a split in a folder by its conventional names ------------------------------------


@pytest.mark.parametrize("split, prefix", [("train", "train"), ("test", "t10k")])
@pytest.mark.parametrize("gz", [True, False])
def test_folder_with_idx_pair(isolated, split, prefix, gz):
    write_idx_pair(isolated.tmp / "d", prefix, m=3, gz=gz)
    data = isolated(split, isolated.tmp / "d")
    X, Y = expected_xy(3)
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.Y, Y)
    assert not data.is_sample
    assert f"{prefix}-images-idx3-ubyte" in data.description and "3 images" in data.description


def test_folder_with_dotted_idx_names(isolated):
    images, labels = write_idx_pair(isolated.tmp / "d", "t10k", m=3, gz=False)
    images.rename(images.with_name("t10k-images.idx3-ubyte"))
    labels.rename(labels.with_name("t10k-labels.idx1-ubyte"))
    assert isolated("test", isolated.tmp / "d").Y.size == 3


@pytest.mark.parametrize(
    "split, name, header",
    [
        ("train", "mnist_train.csv", True),
        ("train", "mnist_train.csv.gz", True),
        ("train", "mnist_train_small.csv", False),
        ("train", "mnist_train_small.csv.gz", False),
        ("test", "mnist_test.csv", True),
        ("test", "mnist_test.csv.gz", False),
    ],
)
def test_folder_with_csv(isolated, split, name, header):
    folder = isolated.tmp / "d"
    folder.mkdir()
    write_bytes(folder / name, csv_text(4, header=header).encode())
    data = isolated(split, folder)
    assert data.Y.tolist() == [0, 1, 2, 3] and name in data.description


def test_idx_pair_preferred_over_csv(isolated):
    folder = isolated.tmp / "d"
    write_idx_pair(folder, "t10k", m=3)
    write_bytes(folder / "mnist_test.csv", csv_text(5).encode())
    data = isolated("test", folder)
    assert data.Y.size == 3 and "IDX" in data.description


def test_labels_without_images_then_csv_is_used(isolated):
    folder = isolated.tmp / "d"
    images, _ = write_idx_pair(folder, "train", m=3)
    images.unlink()
    write_bytes(folder / "mnist_train.csv.gz", csv_text(5, header=True).encode())
    assert isolated("train", folder).Y.size == 5


def test_explicit_folder_with_only_labels_is_an_error(isolated):
    folder = isolated.tmp / "d"
    images, _ = write_idx_pair(folder, "train", m=3)
    images.unlink()
    raises_one_line(
        lambda: isolated("train", folder), folder, "train-labels-idx1-ubyte.gz", "no train-images-idx3-ubyte", "mnist-kit download"
    )


def test_explicit_folder_with_only_images_is_an_error(isolated):
    folder = isolated.tmp / "d"
    _, labels = write_idx_pair(folder, "t10k", m=3)
    labels.unlink()
    raises_one_line(lambda: isolated("test", folder), folder, "no t10k-labels-idx1-ubyte")


def test_explicit_folder_without_the_split_is_an_error(isolated):
    folder = isolated.tmp / "d"
    write_idx_pair(folder, "t10k", m=3)
    raises_one_line(lambda: isolated("train", folder), folder, "no train set", "mnist_train.csv")


def test_shared_folder_has_test_set_but_only_train_labels(isolated, shared_mnist):
    assert isolated("test", shared_mnist).Y.size == 10_000
    raises_one_line(lambda: isolated("train", shared_mnist), "train-labels-idx1-ubyte.gz", "no train-images-idx3-ubyte")


# --- an explicit file --------------------------------------------------------------------------


@pytest.mark.parametrize("which", [0, 1], ids=["images-file", "labels-file"])
def test_explicit_idx_file_finds_its_partner(isolated, which):
    pair = write_idx_pair(isolated.tmp / "d", "t10k", m=3)
    assert isolated("test", pair[which]).Y.size == 3


def test_explicit_idx_file_without_partner(isolated):
    images, labels = write_idx_pair(isolated.tmp / "d", "t10k", m=3)
    labels.unlink()
    raises_one_line(lambda: isolated("test", images), images, "t10k-labels-idx1-ubyte(.gz) is not in the same folder")


def test_explicit_csv_file_any_name(isolated):
    path = write_bytes(isolated.tmp / "digits.csv", csv_text(6).encode())
    data = isolated("train", path)
    assert data.Y.size == 6 and str(path) in data.description and not data.is_sample


def test_explicit_missing_path(isolated):
    path = isolated.tmp / "nowhere"
    raises_one_line(lambda: isolated("train", path), path, "no such file or folder")


def test_explicit_bad_file_is_reported_not_skipped(isolated):
    folder = isolated.tmp / "d"
    images, _ = write_idx_pair(folder, "t10k", m=3)
    images.write_bytes(b"\x1f\x8b garbage")
    raises_one_line(lambda: isolated("test", folder), images, "gzip")


# --- the resolution order: source, $MNIST_KIT_DATA, cache, bundled sample ---------------------


def test_order_source_then_env_then_cache_then_sample(isolated, monkeypatch):
    write_idx_pair(isolated.cache, "train", m=4)
    env = isolated.tmp / "env"
    write_idx_pair(env, "train", m=5)
    source = isolated.tmp / "src"
    write_idx_pair(source, "train", m=6)
    monkeypatch.setenv(ENV_VAR, str(env))
    assert isolated("train", source).Y.size == 6, "an explicit source comes first"
    data = isolated("train")
    assert data.Y.size == 5 and f"${ENV_VAR}" in data.description, "then $MNIST_KIT_DATA"
    monkeypatch.delenv(ENV_VAR)
    data = isolated("train")
    assert data.Y.size == 4 and "download cache" in data.description, "then the download cache"
    for path in isolated.cache.iterdir():
        path.unlink()
    data = isolated("train")
    assert data.Y.size == 2 and data.is_sample, "then the bundled sample"


def test_sample_description_is_one_line_saying_how_to_get_full_mnist(isolated):
    data = isolated("train")
    assert data.is_sample
    assert "\n" not in data.description
    for fragment in ("sample", "not full MNIST", "mnist-kit download"):
        assert fragment in data.description, f"{fragment!r} missing from {data.description!r}"
    assert "skipped" not in data.description, "an empty cache is normal, not worth a note"


def test_env_folder_without_train_set_is_skipped_with_a_note(isolated, monkeypatch):
    env = isolated.tmp / "env"
    write_idx_pair(env, "t10k", m=3)  # a folder of test files only: fine for "test", skipped for "train"
    monkeypatch.setenv(ENV_VAR, str(env))
    assert isolated("test").Y.size == 3
    data = isolated("train")
    assert data.is_sample and f"skipped ${ENV_VAR}" in data.description and str(env) in data.description


def test_env_folder_with_only_train_labels_is_skipped_with_a_note(isolated, monkeypatch, shared_mnist):
    monkeypatch.setenv(ENV_VAR, str(shared_mnist))
    data = isolated("train")
    assert data.is_sample and "no train-images-idx3-ubyte" in data.description
    assert isolated("test").Y.size == 10_000


def test_env_pointing_nowhere_is_an_error(isolated, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(isolated.tmp / "typo"))
    raises_one_line(lambda: isolated("train"), ENV_VAR, "typo", "no such folder")


def test_empty_env_is_unset(isolated, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "")
    assert isolated("train").is_sample


def test_incomplete_cache_is_skipped_with_a_note(isolated):
    images, _ = write_idx_pair(isolated.cache, "train", m=3)
    images.unlink()
    data = isolated("train")
    assert data.is_sample and "skipped download cache" in data.description
    assert "no train-images-idx3-ubyte" in data.description


def test_corrupt_file_in_cache_is_an_error_not_a_silent_fallback(isolated):
    images, _ = write_idx_pair(isolated.cache, "train", m=3)
    write_bytes(images, b"\x1f\x8b\x08\x00 not really gzip", gz=False)
    raises_one_line(lambda: isolated("train"), images, "gzip")


def test_no_test_set_anywhere_explains_how_to_get_one(isolated):
    message = raises_one_line(lambda: isolated("test"), "no MNIST test set found", "mnist-kit download", "--data", ENV_VAR)
    assert "t10k" in message and "mnist_test.csv" in message
    with pytest.raises(MnistDataNotFound):
        isolated("test")


def test_not_found_is_told_apart_from_broken(isolated, monkeypatch):
    """Callers with a fallback catch MnistDataNotFound; a broken file must not look like 'not found'."""
    folder = isolated.tmp / "d"
    write_idx_pair(folder, "t10k", m=3)
    with pytest.raises(MnistDataNotFound):
        isolated("train", folder)  # an explicit folder without the split
    images, _ = write_idx_pair(isolated.cache, "t10k", m=3)
    images.write_bytes(b"junk")
    with pytest.raises(MnistDataError) as caught:
        isolated("test")
    assert not isinstance(caught.value, MnistDataNotFound), f"a broken file raised {caught.value!r}"
    monkeypatch.setenv(ENV_VAR, str(isolated.tmp / "typo"))
    with pytest.raises(MnistDataError) as caught:
        isolated("test")
    assert not isinstance(caught.value, MnistDataNotFound), "a mistyped $MNIST_KIT_DATA is a mistake to report"


def test_no_sample_either(isolated):
    isolated.sample.unlink()
    raises_one_line(lambda: isolated("train"), "no MNIST training set found", str(isolated.sample), "mnist-kit download")


def test_empty_source_means_not_given(isolated):
    assert isolated("train", "").is_sample


def test_unknown_split(isolated):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        isolated("validation")


# --- the real defaults of this repository -----------------------------------------------------


def test_repo_root_and_default_locations(monkeypatch):
    monkeypatch.delenv(CACHE_ENV_VAR, raising=False)
    assert repo_root() == REPO
    assert default_cache_dir() == REPO / "data" / "cache"
    assert default_sample_path() == REPO / "data" / "mnist_sample_5k.csv.gz"
    assert "data/cache/" in (REPO / ".gitignore").read_text().splitlines(), "the cache must stay out of git"


def test_cache_moved_by_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    write_idx_pair(tmp_path / "elsewhere", "t10k", m=3)
    data = load_mnist("test")
    assert data.Y.size == 3 and "download cache" in data.description


def test_default_train_is_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    data = load_mnist("train", cache_dir=tmp_path)  # an empty cache, whatever data/cache/ holds here
    assert data.is_sample and data.X.shape == (784, 5_000)
    assert np.bincount(data.Y, minlength=10).tolist() == [500] * 10
    assert data.X.dtype == np.float64 and data.Y.dtype == np.int64


def test_explicit_sample_path_counts_as_sample(isolated):
    copy = isolated.tmp / "copy.csv.gz"
    shutil.copy(isolated.sample, copy)
    assert isolated("train", isolated.sample).is_sample
    assert not isolated("train", copy).is_sample, "only the bundled file itself is 'the sample'"
