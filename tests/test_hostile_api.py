"""The Python API under hostile files, in-process: the limits, the error types, the writes.

What the CLI catalogue (test_hostile_cli.py) cannot show from outside: that
load_mnist / read_weights raise only MnistDataError / WeightsFileError (never
OSError, PermissionError, MemoryError) whatever the file system or a flipped
byte does, that each limit is applied (with the limit made small, so the test
stays quick), and how atomic_write treats modes, links, FIFOs and stale parts.
"""

import errno
import gzip
import io
import os
import re
import socket
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from data_files import csv_text, expected_xy, idx_bytes, raises_one_line, tiny_images, tiny_labels, write_idx_pair
from hostile_files import good_params, npz_members, zip_bytes
from kit_helpers import atomic_files, atomic_write
from solutions.mnist_data import MnistDataError, csv_files, download, idx, load_mnist
from solutions.mnist_data.csv_files import read_mnist_csv
from solutions.weights_file import WeightsFileError, read_weights

# Names this suite checks that the code before issue 11 did not have are looked up when a test
# runs (atomic_files.probe_writable, ...), so that each test fails on its own there.


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_KIT_DATA", raising=False)
    monkeypatch.setenv("MNIST_KIT_CACHE", str(tmp_path / "no-cache"))
    return tmp_path


# --- the limits, each applied (made small so that the files stay small) --------------------------

def test_csv_row_limit(isolated, monkeypatch):
    monkeypatch.setattr(csv_files, "MAX_IMAGES", 5)
    monkeypatch.setattr(csv_files, "ROWS_PER_CHUNK", 2)
    path = isolated / "mnist_test.csv"
    path.write_text(csv_text(6))
    raises_one_line(lambda: read_mnist_csv(path), path, "more than 5 rows")
    path.write_text(csv_text(5))
    assert read_mnist_csv(path)[1].size == 5, "the limit itself is allowed"


def test_csv_byte_limit_stops_a_gzip_before_it_expands(isolated, monkeypatch):
    monkeypatch.setattr(csv_files, "MAX_CSV_BYTES", 10_000)
    path = isolated / "mnist_test.csv.gz"
    path.write_bytes(gzip.compress(csv_text(20).encode()))
    raises_one_line(lambda: read_mnist_csv(path), path, "more than", "after gunzip", "gzip bomb")


def test_csv_line_length_limit(isolated, monkeypatch):
    monkeypatch.setattr(csv_files, "MAX_CSV_LINE_BYTES", 1000)
    path = isolated / "mnist_test.csv"
    path.write_text(csv_text(2))
    raises_one_line(lambda: read_mnist_csv(path), path, "line 1", "longer than")


def test_idx_image_limit_is_checked_from_the_header(isolated, monkeypatch):
    monkeypatch.setattr(idx, "MAX_IMAGES", 2)
    images, _ = write_idx_pair(isolated, "t10k", m=3)
    raises_one_line(lambda: idx.read_idx_images(images), images, "3 x 28 x 28 images", "more than the 2")


def test_the_limits_leave_room_for_full_mnist():
    from solutions.mnist_data import limits
    assert limits.MAX_IMAGES >= 4 * 60_000, "full MNIST (60,000 training images) must fit generously"
    assert limits.MAX_CSV_BYTES >= 4 * 110_000_000, "the 110 MB training CSV must fit generously"


# --- header and label-column detection ------------------------------------------------------------

@pytest.mark.parametrize("label", ["", "x", "?", "label", "seven", '"'])
def test_a_data_row_with_a_broken_label_is_never_taken_for_a_header(isolated, label):
    lines = csv_text(3).splitlines()
    lines[0] = label + lines[0][1:]
    path = isolated / "mnist_test.csv"
    path.write_text("\n".join(lines) + "\n")
    raises_one_line(lambda: read_mnist_csv(path), path, "line 1, column 1 (the label)")


def test_a_header_of_names_is_still_a_header(isolated):
    path = isolated / "mnist_test.csv"
    path.write_text(csv_text(3, header=True).replace("label,", '"label",', 1))
    X, Y = read_mnist_csv(path)
    expected_X, expected_Y = expected_xy(3)
    assert Y.tolist() == expected_Y.tolist() and np.array_equal(X, expected_X)


def test_label_last_is_refused_even_in_a_small_file(isolated):
    images = tiny_images(4).reshape(4, 784).astype(int)
    images[:, 0] = 0
    rows = [",".join(map(str, list(image[:-1]) + [0, label])) for image, label in zip(images, [3, 1, 4, 1])]
    path = isolated / "mnist_test.csv"
    path.write_text("\n".join(rows) + "\n")
    raises_one_line(lambda: read_mnist_csv(path), path, "LAST column")


def test_a_file_of_one_digit_is_not_mistaken_for_label_last(isolated):
    lines = csv_text(10).splitlines()
    lines = ["7" + line[1:] for line in lines]  # every label 7, the last pixel as tiny_images made it
    path = isolated / "sevens.csv"
    path.write_text("\n".join(lines) + "\n")
    assert set(read_mnist_csv(path)[1].tolist()) == {7}


@pytest.mark.parametrize("variant", ["leading zeros", "plus signs", "spaces", "crlf", "tabs around"])
def test_the_fast_parser_and_the_general_one_agree(isolated, variant):
    rng = np.random.default_rng(1)
    values = np.column_stack([rng.integers(0, 10, 50), rng.integers(0, 256, (50, 784))])
    cell = {"leading zeros": "{:03d}", "plus signs": "+{}", "spaces": " {} ", "crlf": "{}",
            "tabs around": "\t{}"}[variant]
    newline = "\r\n" if variant == "crlf" else "\n"
    text = newline.join(",".join(cell.format(v) for v in row) for row in values) + newline
    path = isolated / "mnist_test.csv"
    path.write_text(text)
    X, Y = read_mnist_csv(path)
    assert Y.tolist() == values[:, 0].tolist()
    assert np.array_equal(X, values[:, 1:].T / 255.0)


# --- only MnistDataError / WeightsFileError leave the API ---------------------------------------

def _denied(path):
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def test_an_unreadable_folder_is_a_data_error(isolated, monkeypatch):
    folder = isolated / "mnist"
    write_idx_pair(folder, "t10k")
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": (_ for _ in ()).throw(_denied(path))
                        if os.fspath(path) == str(folder) else real_listdir(path))
    raises_one_line(lambda: load_mnist("test", folder), folder, "cannot look inside it", "Permission denied")
    monkeypatch.setenv("MNIST_KIT_DATA", str(folder))
    raises_one_line(lambda: load_mnist("test"), folder, "Permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder: the simulated case above stands in")
def test_a_really_unreadable_folder_is_a_data_error(isolated):
    folder = isolated / "mnist"
    write_idx_pair(folder, "t10k")
    folder.chmod(0)
    try:
        raises_one_line(lambda: load_mnist("test", folder), folder)
    finally:
        folder.chmod(0o755)


def test_an_unreadable_file_is_a_data_error(isolated, monkeypatch):
    images, _ = write_idx_pair(isolated / "d", "t10k")
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args, **kwargs: (_ for _ in ()).throw(_denied(path))
                        if os.fspath(path) == str(images) else real_open(path, *args, **kwargs))
    raises_one_line(lambda: load_mnist("test", isolated / "d"), images, "permission denied")


@pytest.mark.parametrize("where", ["source", "env", "cache"])
def test_an_over_long_name_is_a_data_error(isolated, monkeypatch, where):
    long = isolated / ("n" * 300)
    if where == "env":
        monkeypatch.setenv("MNIST_KIT_DATA", str(long))
    call = {"source": lambda: load_mnist("test", long), "env": lambda: load_mnist("test"),
            "cache": lambda: load_mnist("test", cache_dir=long)}[where]
    raises_one_line(call, "n" * 300, "File name too long")


def test_running_out_of_memory_is_a_data_error(isolated, monkeypatch):
    path = isolated / "mnist_test.csv"
    path.write_text(csv_text(3))

    def no_memory(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr("solutions.mnist_data.load.read_mnist_csv", no_memory)
    raises_one_line(lambda: load_mnist("test", path), path, "not enough memory")


@pytest.mark.parametrize("name", ["~nosuchuser/mnist", "~nosuchuser"])
def test_tilde_of_no_such_user_is_a_data_error(isolated, name):
    raises_one_line(lambda: load_mnist("test", name), "~nosuchuser", "no such user")


def _small_npz() -> bytes:
    """An .npz of a 784-1-10 network in float16 (2 KB), so that every byte can be flipped quickly."""
    params = {name: array.astype(np.float16) for name, array in good_params(n_hidden=1).items()}
    return zip_bytes(npz_members(params))


def test_every_flipped_byte_gives_a_weights_error_or_a_valid_network(tmp_path):
    original = _small_npz()
    w1_data = range(original.index(b"\x93NUMPY") + 128, original.index(b"\x93NUMPY") + 128 + 784 * 2)
    positions = [p for p in range(len(original)) if p not in w1_data or p % 8 == 0]  # every header and zip byte
    path = tmp_path / "w.npz"
    outcomes = {"error": 0, "valid": 0}
    for position in positions:
        for flip in (0x01, 0x80):
            damaged = bytearray(original)
            damaged[position] ^= flip
            path.write_bytes(bytes(damaged))
            try:
                W1, b1, W2, b2 = read_weights(path)
            except WeightsFileError as error:
                assert "\n" not in str(error) and str(path) in str(error)
                outcomes["error"] += 1
                continue
            assert W1.shape[1] == 784 and W2.shape[0] == 10 and all(np.isfinite(a).all() for a in (W1, b1, W2, b2))
            outcomes["valid"] += 1
    assert outcomes["error"] > len(positions), f"most flips must be caught (the CRC covers the data): {outcomes}"


def test_a_header_claiming_a_huge_array_is_refused_before_reading(tmp_path):
    # a stored member whose .npy header claims (100000, 784) with only 10 bytes of data
    from hostile_files import npy_header
    path = tmp_path / "w.npz"
    members = npz_members(good_params())
    members[0] = {"name": "W1.npy", "data": npy_header("<f8", (100_000, 784)) + bytes(10)}
    path.write_bytes(zip_bytes(members))
    with pytest.raises(WeightsFileError, match="100,000 hidden units"):
        read_weights(path)


def test_weights_written_by_numpy_both_ways_still_read(tmp_path):
    params = good_params(n_hidden=7)
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "w.npz", **params)
        for got, (name, expected) in zip(read_weights(tmp_path / "w.npz"), params.items()):
            assert np.array_equal(got, expected), name
            assert got.flags.writeable, "callers may update the weights in place"
    np.savez(tmp_path / "f.npz", **{name: np.asfortranarray(a) for name, a in params.items()})
    assert np.array_equal(read_weights(tmp_path / "f.npz")[0], params["W1"])


def test_zip_members_zipfile_writes_with_other_methods_read(tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        for name, array in good_params().items():
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    assert read_weights(path)[0].shape == (10, 784)


# --- downloads: arguments checked ---------------------------------------------------------------

@pytest.mark.parametrize("mirror", ["nonsense", "http://[::1", "gopher://x/", "https://", "file:data"])
def test_a_mirror_that_is_not_a_url_is_a_data_error(mirror):
    with pytest.raises(MnistDataError, match="mirror"):
        download.check_mirror(mirror)


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan"), 1e10])
def test_timeout_and_deadline_out_of_range(tmp_path, seconds):
    with pytest.raises(ValueError, match="timeout"):
        download.download_mnist(tmp_path, ["http://127.0.0.1:9/"], timeout=seconds)
    with pytest.raises(ValueError, match="deadline"):
        download.download_mnist(tmp_path, ["http://127.0.0.1:9/"], deadline=seconds)


# --- atomic writes --------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / "f.bin") as file:
            file.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o666 & ~umask


def test_a_symlink_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "weights.npz"
    target.write_bytes(b"old")
    link = tmp_path / "weights.npz"
    link.symlink_to(target)
    with atomic_write(link) as file:
        file.write(b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["weights.npz"]


@pytest.mark.parametrize("kind", ["fifo", "folder", "socket"])
def test_a_non_regular_target_is_refused_not_replaced(tmp_path, kind):
    path = tmp_path / "out"
    {"fifo": lambda: os.mkfifo(path), "folder": path.mkdir,
     "socket": lambda: socket.socket(socket.AF_UNIX).bind(str(path))}[kind]()
    with pytest.raises(OSError, match="not a regular file|expected a file"):
        with atomic_write(path) as file:
            file.write(b"x")
    assert not stat.S_ISREG(os.lstat(path).st_mode), "the FIFO / folder / socket is still there"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_parts_of_gone_writers_go_and_nothing_else(tmp_path):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        try:
            dead, target = _dead_pid(), tmp_path / "w.npz"
            parts = {
                "gone": f".w.npz.{_host()}.{dead}.0123abcd.part",
                "alive": f".w.npz.{_host()}.{alive.pid}.0123abcd.part",
                "other host": f".w.npz.elsewhere.{dead}.0123abcd.part",
                "not ours": f".w.npz.k1ll3d.part",
                "another file": f".x.npz.{_host()}.{dead}.0123abcd.part",
            }
            for name in parts.values():
                (tmp_path / name).write_bytes(b"half")
            removed = atomic_files.remove_stale_parts(target)
        finally:
            alive.kill()
    assert [p.name for p in removed] == [parts["gone"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in parts.items() if k != "gone")


def test_probe_writable_leaves_nothing(tmp_path):
    atomic_files.probe_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError):
        atomic_files.probe_writable(tmp_path / "missing")


def test_idx_readers_refuse_zero_and_wrapping_sizes(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(tiny_labels(0)))
    raises_one_line(lambda: idx.read_idx_labels(path), path, "holds no labels")
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((0, 28, 28), np.uint8), dims=(2**32 - 1, 28, 28)))
    raises_one_line(lambda: idx.read_idx_images(path), path, "4,294,967,295 x 28 x 28", "more than")
