"""The adversarial catalogue: hostile and broken files, options and environments against `mnist-kit`.

Every case is a command a user (or a hostile tester) could type, with inputs
generated into the case's own folder, and every case must end the same way:
the expected exit status, exactly one line on stderr naming the file (or the
option) and the problem, no traceback, and nothing left behind (no new file,
no .part). The cases run in one driver process (tests/hostile_driver.py) under
RLIMIT_AS of 1 GiB, so a bomb that gets past a limit fails its case with a
MemoryError instead of swapping the machine; downloads go to a server of this
test on 127.0.0.1.

Classes (from issue 11): bomb, download, traceback, silently-wrong, hang,
lost-or-mangled, api-leak, message, option.
"""

import bz2
import gzip
import http.server
import json
import lzma
import os
import resource
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import solutions
from data_files import csv_text, idx_bytes, tiny_images, tiny_labels
from hostile_files import (
    MIB,
    good_params,
    gzip_bomb,
    idx_header,
    make_fifo,
    make_socket_file,
    npy_bytes,
    npy_header,
    npz_members,
    npz_with,
    raw_deflate_bomb,
    sparse_file,
    tar_bytes,
    zip_bytes,
)

MEMORY_LIMIT = 1 << 30  # RLIMIT_AS of the driver: every case stays under 1 GiB of address space
DRIVER = Path(__file__).with_name("hostile_driver.py")
UNEXPECTED = "unexpected error"  # how the CLI's last-resort message starts (solutions/cli.py)
OFFICIAL = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@dataclass
class Shared:
    """The good files several cases use, and the hostile mirror's URL."""

    weights: Path
    train_csv: Path
    server: str


@dataclass
class Case:
    """One command and what it must end with. make(folder, shared) writes its inputs and returns
    {"argv": [...]} plus, if needed, "env", "faults" (see hostile_driver) and "unchanged" (path -> bytes)."""

    id: str
    kind: str
    status: int
    fragments: tuple[str, ...]
    make: object
    encoding: str = "utf-8"
    stderr_lines: int = 1
    progress: bool = False  # `download` prints progress lines ("NAME: ...") on stderr before its one error line


CASES: list[Case] = []


def case(case_id: str, kind: str, status: int, *fragments, encoding: str = "utf-8", stderr_lines: int = 1,
         progress: bool = False):
    """Register the decorated make function as a case."""
    def register(make):
        CASES.append(Case(case_id, kind, status, tuple(map(str, fragments)), make, encoding, stderr_lines, progress))
        return make
    return register


def _write(path: Path, content) -> None:
    """content: bytes, or a function(path) that makes the file (a FIFO, a sparse file, a pair)."""
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)


def data_case(case_id, kind, name, content, *fragments, command="evaluate", status=1):
    """A command reading data from FILE = `name` holding `content`; the line must name the file."""
    def make(folder: Path, shared: Shared) -> dict:
        path = folder / name
        _write(path, content)
        return {"argv": {
            "evaluate": ["evaluate", "--weights", shared.weights, "--data", path],
            "train": ["train", "--epochs", "1", "--dev", "0", "--data", path, "--weights", folder / "w.npz"],
            "test-data": ["train", "--epochs", "1", "--dev", "0", "--data", shared.train_csv,
                          "--test-data", path, "--weights", folder / "w.npz"],
            "show": ["show", "--weights", shared.weights, "--data", path, "--out", folder / "p.png"],
        }[command]}
    case(case_id, kind, status, name, *fragments)(make)


def idx_case(case_id, kind, name, content, *fragments, partner=None, command="evaluate"):
    """data_case for an IDX file, with its partner (the good labels or images) beside it."""
    images, labels = idx_pair_bytes()
    if partner is None:
        partner = labels if "images" in name else images
    other = name.replace("images-idx3", "labels-idx1") if "images" in name else name.replace("labels-idx1", "images-idx3")
    other = other.removesuffix(".gz")

    def write(path: Path) -> None:
        _write(path, content)
        _write(path.parent / other, partner)
    data_case(case_id, kind, name, write, *fragments, command=command)


def weights_case(case_id, kind, content, *fragments, name="w.npz"):
    """`mnist-kit evaluate --weights FILE` with FILE holding `content`."""
    def make(folder: Path, shared: Shared) -> dict:
        _write(folder / name, content)
        return {"argv": ["evaluate", "--weights", folder / name, "--data", shared.train_csv]}
    case(case_id, kind, 1, name, *fragments)(make)


def option_case(case_id, argv, *fragments, status=2, kind="option"):
    """A command line; {data}, {weights} and {out} stand for the good data, the good weights, an output path."""
    def make(folder: Path, shared: Shared) -> dict:
        places = {"{data}": str(shared.train_csv), "{weights}": str(shared.weights), "{out}": str(folder / "out")}
        return {"argv": [places.get(arg, arg) for arg in argv]}
    case(case_id, kind, status, *fragments)(make)


# --- the inputs --------------------------------------------------------------------------------

def idx_pair_bytes(m: int = 3) -> tuple[bytes, bytes]:
    return idx_bytes(tiny_images(m)), idx_bytes(tiny_labels(m))


def csv_rows(m: int = 3, header: bool = False, newline: str = "\n") -> bytes:
    return csv_text(m, header=header, newline=newline).encode()


def label_last_rows(m: int = 12, corner: int = 0) -> bytes:
    """MNIST-like rows (the corner pixels `corner` and 0) with the label LAST instead of first."""
    images = tiny_images(m).reshape(m, 784).astype(int)
    images[:, 0], images[:, -1] = corner, 0
    rows = [",".join(map(str, list(image) + [label])) for image, label in zip(images, tiny_labels(m))]
    return ("\n".join(rows) + "\n").encode()


def csv_lines(m: int = 3) -> list[str]:
    return csv_text(m).splitlines()


def joined(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def with_cell(row: int, column: int, value: str, m: int = 3) -> bytes:
    lines = csv_lines(m)
    cells = lines[row].split(",")
    cells[column] = value
    lines[row] = ",".join(cells)
    return joined(lines)


def html_page() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"


IMAGES, LABELS = idx_pair_bytes()
MEMBERS = npz_members(good_params())


# -- bombs and sizes: refused before the memory is taken ---------------------------------------
data_case("csv-gz-of-newlines", "bomb", "mnist_test.csv.gz", lambda p: p.write_bytes(gzip_bomb(b"", b"\n" * MIB, 1000)),
          "blank lines")
data_case("csv-gz-endless-line", "bomb", "mnist_test.csv.gz",
          lambda p: p.write_bytes(gzip_bomb(b"7", b"0," * (MIB // 2), 1000)), "line 1", "longer than")
data_case("csv-gz-spaces-forever", "bomb", "mnist_test.csv.gz", lambda p: p.write_bytes(gzip_bomb(b"", b" " * MIB, 1000)),
          "longer than")
data_case("csv-gz-header-then-zero-bytes", "bomb", "mnist_test.csv.gz",
          lambda p: p.write_bytes(gzip_bomb(csv_rows(0, header=True), bytes(MIB), 1000)), "binary data")
data_case("csv-sparse-50-gb", "bomb", "mnist_test.csv", lambda p: sparse_file(p, csv_rows(3), 50 << 30),
          "binary data")
data_case("csv-sparse-50-gb-after-a-megabyte-of-rows", "bomb", "mnist_test.csv",
          lambda p: sparse_file(p, csv_rows(700), 50 << 30), "line 701", "binary data")
data_case("csv-train-gz-of-newlines", "bomb", "mnist_train.csv.gz",
          lambda p: p.write_bytes(gzip_bomb(b"", b"\n" * MIB, 1000)), "blank lines", command="train")
data_case("csv-too-many-blank-lines", "bomb", "mnist_test.csv", csv_rows(2) + b"\n" * 5000 + csv_rows(1), "blank lines")
for _command in ("evaluate", "train", "test-data"):
    _prefix = "train" if _command == "train" else "t10k"
    idx_case(f"idx-10k-header-3-gb-data-{_command}", "bomb", f"{_prefix}-images-idx3-ubyte.gz",
             lambda p: p.write_bytes(gzip_bomb(idx_header(3, (10_000, 28, 28)), bytes(MIB), 3000)),
             "10,000 x 28 x 28 images", "extra bytes", partner=idx_bytes(tiny_labels(10_000)), command=_command)
idx_case("idx-pair-of-3.8-million-images", "bomb", "t10k-images-idx3-ubyte.gz",
         lambda p: p.write_bytes(gzip_bomb(idx_header(3, (3_800_000, 28, 28)), bytes(MIB), 2900)),
         "3,800,000", "more than the 250,000",
         partner=lambda p: p.write_bytes(gzip_bomb(idx_header(1, (3_800_000,)), bytes(MIB), 4)))
idx_case("idx-labels-claim-4-billion", "bomb", "t10k-labels-idx1-ubyte", idx_header(1, (4_000_000_000,)),
         "4,000,000,000 labels", "more than")
idx_case("idx-sparse-20-gb-of-extra-bytes", "bomb", "t10k-images-idx3-ubyte", lambda p: sparse_file(p, IMAGES, 20 << 30),
         "3 x 28 x 28 images", "extra bytes")
option_case("dev-zero-as-data", ["evaluate", "--weights", "{weights}", "--data", "/dev/zero"], "/dev/zero",
            "character device", status=1, kind="bomb")


@case("dev-zero-linked-as-mnist-test-csv", "bomb", 1, "mnist_test.csv", "character device")
def _(folder, shared):
    (folder / "mnist_test.csv").symlink_to("/dev/zero")
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder]}


_HUGE_W1 = npy_header("<f8", (500_000, 784))
weights_case("npz-3-mb-claiming-w1-500000-by-784", "bomb", lambda p: p.write_bytes(zip_bytes([
    {"name": "W1.npy", "data": raw_deflate_bomb(_HUGE_W1, bytes(MIB), 2990), "method": 8,
     "size": len(_HUGE_W1) + 500_000 * 784 * 8}] + MEMBERS[1:])), "W1", "500,000 hidden units", "1,024")
_BIG_W1 = npy_header("<f8", (20_000, 784))
weights_case("npz-self-consistent-20000-hidden-units", "bomb", lambda p: p.write_bytes(zip_bytes([
    {"name": "W1.npy", "data": raw_deflate_bomb(_BIG_W1, bytes(784 * 8 * 200), 100), "method": 8,
     "size": len(_BIG_W1) + 20_000 * 784 * 8},
    {"name": "b1.npy", "data": npy_bytes(np.zeros((20_000, 1)))},
    {"name": "W2.npy", "data": raw_deflate_bomb(npy_header("<f8", (10, 20_000)), bytes(8 * 20_000), 10), "method": 8,
     "size": 128 + 10 * 20_000 * 8},
    MEMBERS[3]])), "W1", "20,000 hidden units")
weights_case("npz-sparse-2-gb", "bomb", lambda p: sparse_file(p, b"PK\x03\x04", 2 << 30), "larger than any weights file")
option_case("hidden-ten-million", ["train", "--hidden", "10000000", "--data", "{data}"], "--hidden", "1,024", kind="bomb")
option_case("batch-size-a-trillion", ["train", "--batch-size", "1000000000000"], "--batch-size", "250,000", kind="bomb")
option_case("epochs-a-billion", ["train", "--epochs", "1000000000"], "--epochs", "100,000", kind="bomb")
option_case("iterations-a-billion", ["train", "--preset", "original", "--iterations", "1000000000"], "100,000", kind="bomb")
option_case("grid-of-a-million", ["show", "--picture", "grid", "--count", "1000000"], "--count", "360", kind="bomb")


@case("bomb-found-through-mnist-kit-data", "bomb", 1, "mnist_test.csv.gz", "blank lines")
def _(folder, shared):
    (folder / "data").mkdir()
    (folder / "data" / "mnist_test.csv.gz").write_bytes(gzip_bomb(b"", b"\n" * MIB, 1000))
    return {"argv": ["evaluate", "--weights", shared.weights], "env": {"MNIST_KIT_DATA": str(folder / "data")}}


# -- downloads: bounded in size and time; the cache never emptied -------------------------------
for _id, _prefix, _fragments, _extra in [
    ("download-endless-body", "endless", ("sent more than", "official size"), []),
    ("download-content-length-lies", "lying", ("announces", "official size"), []),
    ("download-drips-past-deadline", "drip", ("too slow", "deadline"), ["--deadline", "0.6"]),
]:
    def _make(folder, shared, prefix=_prefix, extra=_extra):
        return {"argv": ["download", "--to", folder / "cache", "--mirror", f"{shared.server}/{prefix}/",
                         "--timeout", "5", *extra]}
    case(_id, "download", 1, "could not download", *_fragments, progress=True)(_make)


@case("download-cached-wrong-file-kept-with-mirrors-down", "lost-or-mangled", 1, "HTTP 404", "kept", "wrong SHA-256",
      progress=True)
def _(folder, shared):
    (folder / "cache").mkdir()
    (folder / "cache" / OFFICIAL[3]).write_bytes(b"my old copy")
    return {"argv": ["download", "--to", folder / "cache", "--mirror", f"{shared.server}/missing/", "--timeout", "5"],
            "unchanged": {str(folder / "cache" / OFFICIAL[3]): b"my old copy"}}


@case("download-cache-read-only", "lost-or-mangled", 1, "cache", "Permission denied")
def _(folder, shared):
    (folder / "cache").mkdir()
    return {"argv": ["download", "--to", folder / "cache", "--mirror", f"{shared.server}/missing/"],
            "faults": [f"readonly:{folder / 'cache'}"]}


for _id, _value, _fragment in [
    ("download-timeout-1e10", "1e10", "86,400"), ("download-timeout-inf", "inf", "finite"),
    ("download-timeout-nan", "nan", "finite"), ("download-timeout-zero", "0", "> 0"),
    ("download-timeout-negative", "-5", "> 0"),
]:
    option_case(_id, ["download", "--timeout", _value], "--timeout", _fragment, kind="download")
option_case("download-deadline-zero", ["download", "--deadline", "0"], "--deadline", "> 0", kind="download")
for _id, _mirror, _fragment in [
    ("mirror-nonsense", "nonsense", "not a URL the kit can download from"),
    ("mirror-unclosed-ipv6", "http://[::1", "not a valid URL"),
    ("mirror-ftp", "ftp://example.org/mnist/", "not a URL the kit can download from"),
    ("mirror-no-host", "http://", "no host name"),
    ("mirror-relative-file", "file:mnist", "absolute folder"),
    ("mirror-port-not-a-number", "http://127.0.0.1:http/", "not a valid URL"),
]:
    option_case(_id, ["download", "--mirror", _mirror], "--mirror", _fragment, kind="download")


# -- what raised tracebacks ---------------------------------------------------------------------
idx_case("idx-dimensions-whose-product-wraps-to-0", "traceback", "t10k-images-idx3-ubyte",
         idx_header(3, (1 << 30, 1 << 17, 1 << 17)), "131072x131072", "28x28")
for _command in ("evaluate", "test-data"):
    idx_case(f"idx-pair-of-0-images-{_command}", "traceback", "t10k-images-idx3-ubyte", idx_header(3, (0, 28, 28)),
             "holds no images", partner=idx_header(1, (0,)), command=_command)
data_case("csv-5000-digit-cell", "traceback", "mnist_test.csv", with_cell(1, 5, "9" * 5000),
          "line 2, column 6", "5,000-digit number")
option_case("tilde-nosuchuser-in-data", ["evaluate", "--weights", "{weights}", "--data", "~nosuchuser/mnist"],
            "~nosuchuser", "no such user", status=1, kind="traceback")
for _command in ("evaluate", "train", "download"):
    def _make(folder, shared, command=_command):
        argv = {"evaluate": ["evaluate", "--weights", shared.weights],
                "train": ["train", "--weights", folder / "w.npz"],
                "download": ["download", "--mirror", f"{shared.server}/missing/"]}[command]
        return {"argv": argv, "env": {"MNIST_KIT_CACHE": "~nosuchuser/cache"}}
    case(f"tilde-nosuchuser-in-cache-{_command}", "traceback", 1, "$MNIST_KIT_CACHE=~nosuchuser", "no such user",
         progress=_command == "download")(_make)
case("tilde-nosuchuser-in-cache-help", "traceback", 0, stderr_lines=0)(
    lambda folder, shared: {"argv": ["download", "--help"], "env": {"MNIST_KIT_CACHE": "~nosuchuser/cache"}})
case("tilde-nosuchuser-in-mnist-kit-data", "traceback", 1, "$MNIST_KIT_DATA=~nosuchuser", "no such user")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights],
                            "env": {"MNIST_KIT_DATA": "~nosuchuser/mnist"}})
case("no-home-tilde-in-cache", "traceback", 1, "$MNIST_KIT_CACHE=~/cache", "$HOME is not set")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights],
                            "env": {"MNIST_KIT_CACHE": "~/cache", "HOME": None}, "faults": ["no-home"]})
case("no-home-tilde-in-data", "traceback", 1, "~/mnist", "$HOME is not set")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights, "--data", "~/mnist"],
                            "env": {"HOME": None}, "faults": ["no-home"]})
NON_UTF8 = os.fsdecode(b"mnist_\xff\xfe.csv")


@case("non-utf8-file-name-ascii-terminal", "traceback", 1, "mnist_", "has 3 columns", encoding="ascii")
def _(folder, shared):
    (folder / NON_UTF8).write_bytes(b"7,1,2\n")
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder / NON_UTF8]}


@case("non-utf8-file-name-printed-while-training", "traceback", 1, "missing", "no such file or folder", encoding="ascii")
def _(folder, shared):
    (folder / NON_UTF8).write_bytes(csv_rows(20))
    return {"argv": ["train", "--epochs", "1", "--dev", "0", "--data", folder / NON_UTF8,
                     "--weights", folder / "w.npz", "--test-data", folder / "missing"]}


weights_case("npz-password-protected", "traceback", zip_bytes([dict(MEMBERS[0], flags=1)] + MEMBERS[1:]),
             "W1", "password-protected")
weights_case("npz-unknown-compression-method", "traceback",
             zip_bytes(MEMBERS[:1] + [dict(MEMBERS[1], method=99)] + MEMBERS[2:]), "b1", "method 99")
weights_case("npz-members-without-npy-suffix", "traceback",
             zip_bytes([dict(m, name=m["name"].removesuffix(".npy")) for m in MEMBERS]),
             "missing arrays W1, b1, W2, b2", "W1 (not a .npy array)")
weights_case("npz-member-that-is-not-npy", "traceback",
             zip_bytes([dict(MEMBERS[0], data=b"just some text, not an array")] + MEMBERS[1:]), "W1.npy", "not a .npy array")
weights_case("npz-npy-version-3", "traceback",
             zip_bytes([dict(MEMBERS[0], data=b"\x93NUMPY\x03\x00" + MEMBERS[0]["data"][8:])] + MEMBERS[1:]),
             "W1", "version")
weights_case("npz-object-array", "traceback",
             zip_bytes([{"name": "W1.npy", "data": npy_header("|O", (10, 784)) + bytes(8)}] + MEMBERS[1:]),
             "W1", "dtype object")
weights_case("npz-structured-dtype", "traceback", zip_bytes(
    [{"name": "W1.npy", "data": npy_header([("a", "<f8"), ("b", "<f8")], (10, 784)) + bytes(10 * 784 * 16)}]
    + MEMBERS[1:]), "W1", "dtype")
weights_case("npz-complex-dtype", "traceback", npz_with(W1=np.zeros((10, 784), np.complex128)), "W1", "complex")
weights_case("npz-0-d-w1", "traceback", npz_with(W1=np.array(1.0)), "W1", "shape ()")
weights_case("npz-zero-hidden-units", "traceback", npz_with(W1=np.zeros((0, 784))), "W1", "(0, 784)")
weights_case("npz-header-longer-than-data", "traceback",
             zip_bytes([{"name": "W1.npy", "data": npy_header("<f8", (10, 784)) + bytes(100)}] + MEMBERS[1:]),
             "W1", "header says")
_FLIPPED = bytearray(zip_bytes(MEMBERS))
_FLIPPED[len(MEMBERS[0]["data"]) // 2 + 40] ^= 0x01  # inside W1's data: the CRC no longer matches
weights_case("npz-crc-mismatch", "traceback", bytes(_FLIPPED), "corrupt or truncated", "CRC")
weights_case("npz-bad-utf8-member-name", "traceback",
             zip_bytes(MEMBERS + [{"name": "x.npy", "data": b"", "flags": 0x800}]).replace(b"x.npy", b"\xff.npy"),
             "corrupt or truncated")


# -- silently wrong before: now refused, saying why ---------------------------------------------
data_case("headerless-csv-first-label-empty", "silently-wrong", "mnist_test.csv", with_cell(0, 0, ""),
          "line 1, column 1 (the label)", "empty cell")
data_case("headerless-csv-first-label-not-a-number", "silently-wrong", "mnist_test.csv", with_cell(0, 0, "x"),
          "line 1, column 1 (the label)", "'x' is not an integer")
data_case("headerless-csv-label-last", "silently-wrong", "mnist_test.csv", label_last_rows(), "LAST column")
data_case("headerless-csv-label-last-train", "silently-wrong", "mnist_train.csv", label_last_rows(40), "LAST column",
          command="train")
_HEADER_LABEL_LAST = ",".join([f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)] + ["label"]).encode()
data_case("csv-header-names-label-last", "silently-wrong", "mnist_test.csv", _HEADER_LABEL_LAST + b"\n" + label_last_rows(),
          "the label is column 785")
data_case("headerless-csv-label-last-corner-not-zero", "silently-wrong", "mnist_test.csv", label_last_rows(corner=200),
          "label 200", "LAST column")


# -- what hung ---------------------------------------------------------------------------------
data_case("fifo-as-data", "hang", "mnist_test.csv", make_fifo, "named pipe (FIFO)")
data_case("fifo-as-test-data", "hang", "mnist_test.csv", make_fifo, "named pipe (FIFO)", command="test-data")
data_case("fifo-as-show-data", "hang", "data.csv", make_fifo, "named pipe (FIFO)", command="show")
data_case("fifo-as-train-data", "hang", "mnist_train.csv", make_fifo, "named pipe (FIFO)", command="train")
weights_case("fifo-as-weights", "hang", make_fifo, "named pipe (FIFO)")
data_case("socket-as-data", "hang", "mnist_test.csv", make_socket_file, "socket")
weights_case("socket-as-weights", "hang", make_socket_file, "socket")


@case("fifo-named-mnist-test-csv-in-a-folder", "hang", 1, "mnist_test.csv", "named pipe (FIFO)")
def _(folder, shared):
    make_fifo(folder / "mnist_test.csv")
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder]}


@case("fifo-idx-images-in-a-folder", "hang", 1, "t10k-images-idx3-ubyte.gz", "named pipe (FIFO)")
def _(folder, shared):
    make_fifo(folder / "t10k-images-idx3-ubyte.gz")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(LABELS))
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder]}


@case("fifo-as-train-weights-output", "hang", 1, "w.npz", "named pipe (FIFO)")
def _(folder, shared):
    make_fifo(folder / "w.npz")
    return {"argv": ["train", "--epochs", "1", "--dev", "0", "--data", shared.train_csv, "--weights", folder / "w.npz"]}


@case("fifo-as-show-out", "hang", 1, "p.png", "named pipe (FIFO)")
def _(folder, shared):
    make_fifo(folder / "p.png")
    return {"argv": ["show", "--weights", shared.weights, "--data", shared.train_csv, "--out", folder / "p.png"]}


# -- lost or mangled: output places checked before the work -------------------------------------
@case("read-only-weights-folder-found-before-training", "lost-or-mangled", 1, "out", "cannot write the weights",
      "Permission denied")
def _(folder, shared):
    (folder / "out").mkdir()
    return {"argv": ["train", "--epochs", "1", "--data", shared.train_csv, "--weights", folder / "out" / "w.npz"],
            "faults": [f"readonly:{folder / 'out'}"]}


@case("read-only-plots-folder-found-before-training", "lost-or-mangled", 1, "plots", "cannot write the plots")
def _(folder, shared):
    (folder / "plots").mkdir()
    return {"argv": ["train", "--epochs", "1", "--data", shared.train_csv, "--weights", folder / "w.npz",
                     "--plots", folder / "plots"], "faults": [f"readonly:{folder / 'plots'}"]}


@case("read-only-show-out-folder", "lost-or-mangled", 1, "pics", "Permission denied")
def _(folder, shared):
    (folder / "pics").mkdir()
    return {"argv": ["show", "--weights", shared.weights, "--data", shared.train_csv, "--out", folder / "pics" / "p.png"],
            "faults": [f"readonly:{folder / 'pics'}"]}


@case("plots-path-is-a-file", "lost-or-mangled", 1, "plots", "not a folder")
def _(folder, shared):
    (folder / "plots").write_text("a file")
    return {"argv": ["train", "--epochs", "1", "--data", shared.train_csv, "--weights", folder / "w.npz",
                     "--plots", folder / "plots"]}


@case("weights-path-is-a-folder", "lost-or-mangled", 1, "w.npz", "is a folder")
def _(folder, shared):
    (folder / "w.npz").mkdir()
    return {"argv": ["train", "--epochs", "1", "--data", shared.train_csv, "--weights", folder / "w.npz"]}


# -- the API's OSError leaks, seen through the CLI ----------------------------------------------
@case("unreadable-data-folder", "api-leak", 1, "mnist", "Permission denied")
def _(folder, shared):
    (folder / "mnist").mkdir()
    (folder / "mnist" / "mnist_test.csv").write_bytes(csv_rows())
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder / "mnist"],
            "faults": [f"unreadable:{folder / 'mnist'}"]}


@case("unreadable-cache-folder", "api-leak", 1, "cache", "Permission denied")
def _(folder, shared):
    (folder / "cache").mkdir()
    return {"argv": ["evaluate", "--weights", shared.weights], "env": {"MNIST_KIT_CACHE": str(folder / "cache")},
            "faults": [f"unreadable:{folder / 'cache'}"]}


@case("unreadable-weights-file", "api-leak", 1, "w.npz", "permission denied")
def _(folder, shared):
    (folder / "w").mkdir()
    (folder / "w" / "w.npz").write_bytes(npz_with())
    return {"argv": ["evaluate", "--weights", folder / "w" / "w.npz", "--data", shared.train_csv],
            "faults": [f"unreadable:{folder / 'w'}"]}


case("over-long-name-as-data", "api-leak", 1, "d" * 300, "File name too long")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights, "--data", folder / ("d" * 300) / "x.csv"]})
case("over-long-name-as-weights", "api-leak", 1, "w" * 300, "File name too long")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", folder / ("w" * 300), "--data", shared.train_csv]})
case("over-long-name-in-mnist-kit-data", "api-leak", 1, "x" * 300, "File name too long")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights],
                            "env": {"MNIST_KIT_DATA": str(folder / ("x" * 300))}})
case("over-long-name-as-train-output", "api-leak", 1, "o" * 300, "File name too long")(
    lambda folder, shared: {"argv": ["train", "--epochs", "1", "--data", shared.train_csv,
                                     "--weights", folder / ("o" * 300) / "w.npz"]})


@case("symlink-loop-as-data", "api-leak", 1, "loop.csv", "symbolic links")
def _(folder, shared):
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder / "loop.csv"]}


@case("dangling-symlink-as-data", "api-leak", 1, "mnist_test.csv", "symbolic link to", "gone.csv", "does not exist")
def _(folder, shared):
    (folder / "mnist_test.csv").symlink_to(folder / "gone.csv")
    return {"argv": ["evaluate", "--weights", shared.weights, "--data", folder]}


@case("dangling-symlink-as-weights", "api-leak", 1, "w.npz", "gone.npz", "does not exist")
def _(folder, shared):
    (folder / "w.npz").symlink_to(folder / "gone.npz")
    return {"argv": ["evaluate", "--weights", folder / "w.npz", "--data", shared.train_csv]}


# -- messages that named the wrong problem ------------------------------------------------------
for _separator, _word in ((";", "semicolons"), ("\t", "tabs"), (" ", "spaces"), ("|", "bars")):
    data_case(f"csv-separated-by-{_word}", "message", "mnist_test.csv", csv_text(3).replace(",", _separator).encode(),
              "line 1 has 1 columns", f"separated by {_word}")
data_case("csv-with-header-separated-by-semicolons", "message", "mnist_test.csv",
          csv_text(2, header=True).replace(",", ";").encode(), "line 1", "semicolons")
data_case("csv-quoted-cells", "message", "mnist_test.csv",
          joined([",".join(f'"{v}"' for v in row.split(",")) for row in csv_lines()]), "line 1, column 1", "quoted")
data_case("csv-old-mac-line-endings", "message", "mnist_test.csv", csv_rows(3, newline="\r"), "CR line endings")
data_case("csv-old-mac-line-endings-long", "message", "mnist_test.csv", csv_rows(60, newline="\r"), "CR line endings")
data_case("csv-gzipped-twice", "message", "mnist_test.csv.gz", gzip.compress(gzip.compress(csv_rows())), "gzipped twice")
for _n, (_name, _content, _what) in enumerate([
    ("t10k-images-idx3-ubyte.gz", gzip.compress(gzip.compress(IMAGES)), "gzipped twice"),
    ("t10k-images-idx3-ubyte.gz", html_page(), "HTML page"),
    ("t10k-images-idx3-ubyte", html_page(), "HTML page"),
    ("t10k-images-idx3-ubyte", b"\n\n  " + html_page().lower(), "HTML page"),
    ("t10k-images-idx3-ubyte.gz", gzip.compress(html_page()), "HTML page"),
    ("t10k-images-idx3-ubyte", tar_bytes("t10k-images-idx3-ubyte", IMAGES), "tar archive"),
    ("t10k-images-idx3-ubyte.gz", gzip.compress(tar_bytes("t10k-images-idx3-ubyte", IMAGES)), "tar archive"),
    ("t10k-images-idx3-ubyte", zip_bytes([{"name": "t10k-images-idx3-ubyte", "data": IMAGES}]), "zip archive"),
    ("t10k-images-idx3-ubyte.gz", bz2.compress(IMAGES), "bzip2"),
    ("t10k-images-idx3-ubyte.gz", lzma.compress(IMAGES), "xz"),
    ("t10k-images-idx3-ubyte", npy_bytes(tiny_images(3)), "NumPy .npy"),
    ("t10k-images-idx3-ubyte", csv_rows(), "text (CSV?)"),
    ("t10k-images-idx3-ubyte", LABELS, "IDX labels file"),
]):
    idx_case(f"idx-{_n}-{'gz-' if _name.endswith('.gz') else ''}that-is-{_what.split()[0].lower()}", "message",
             _name, _content, _what)
for _n, (_name, _content, _what) in enumerate([
    ("mnist_test.csv", html_page(), "HTML page"),
    ("mnist_test.csv.gz", gzip.compress(html_page()), "HTML page"),
    ("mnist_test.csv", zip_bytes([{"name": "mnist_test.csv", "data": csv_rows()}]), "zip archive"),
    ("mnist_test.csv", lzma.compress(csv_rows()), "xz"),
    ("mnist_test.csv", tar_bytes("mnist_test.csv", csv_rows()), "tar archive"),
    ("mnist_test.csv", IMAGES, "binary data (an IDX file?"),
]):
    data_case(f"csv-{_n}-that-is-{_what.split()[0].lower()}", "message", _name, _content, _what)
weights_case("npz-that-is-a-gzip-data-file", "message", gzip.compress(IMAGES), "not a .npz weights file")
data_case("npz-given-as-data", "message", "data.csv", npz_with(), "zip archive")
option_case("weight-decay-1e308-named-not-alpha", ["train", "--weight-decay", "1e308", "--data", "{data}",
            "--weights", "{out}"], "--weight-decay 1e+308", "alpha x weight decay", status=1, kind="message")
case("mnist-kit-data-is-a-file", "message", 1, "MNIST_KIT_DATA", "no such folder")(
    lambda folder, shared: {"argv": ["evaluate", "--weights", shared.weights],
                            "env": {"MNIST_KIT_DATA": str(shared.train_csv)}})

# -- the classic broken files, each one line ------------------------------------------------------
_GZ = gzip.compress(IMAGES)
for _id, _name, _content, _fragments in [
    ("idx-truncated-header", "t10k-images-idx3-ubyte", IMAGES[:10], ("truncated IDX header",)),
    ("idx-truncated-data-gz", "t10k-images-idx3-ubyte.gz", gzip.compress(IMAGES[:-100]), ("truncated",)),
    ("idx-extra-bytes", "t10k-images-idx3-ubyte", IMAGES + bytes(7), ("extra bytes",)),
    ("idx-32-by-32-images", "t10k-images-idx3-ubyte", idx_header(3, (3, 32, 32)) + bytes(3 * 32 * 32), ("32x32", "28x28")),
    ("idx-truncated-gzip", "t10k-images-idx3-ubyte.gz", _GZ[:-30], ("truncated gzip",)),
    ("idx-corrupt-gzip-crc", "t10k-images-idx3-ubyte.gz", _GZ[:-8] + bytes(4) + _GZ[-4:], ("corrupt gzip",)),
    ("idx-empty-file", "t10k-images-idx3-ubyte", b"", ("too short",)),
    ("idx-label-10", "t10k-labels-idx1-ubyte", idx_bytes(np.array([1, 10, 2], np.uint8)), ("label 10",)),
]:
    idx_case(_id, "message", _name, _content, *_fragments)
idx_case("idx-counts-differ", "message", "t10k-images-idx3-ubyte", IMAGES, "3 images", "4 labels",
         partner=idx_bytes(tiny_labels(4)))
_ROWS = csv_lines()
for _id, _content, _fragments in [
    ("csv-784-columns", joined([_ROWS[0].rsplit(",", 1)[0]] + _ROWS[1:]), ("784 columns", "without labels")),
    ("csv-786-columns", joined([_ROWS[0] + ",0"] + _ROWS[1:]), ("786 columns",)),
    ("csv-pixel-256", with_cell(2, 784, "256"), ("line 3", "256", "0-255")),
    ("csv-negative-pixel", with_cell(2, 784, "-1"), ("line 3", "-1")),
    ("csv-label-10", with_cell(1, 0, "10"), ("line 2", "label 10")),
    ("csv-float-pixel", with_cell(1, 784, "0.5"), ("'0.5' is not an integer",)),
    ("csv-header-only", csv_rows(0, header=True), ("header row but no images",)),
    ("csv-empty", b"", ("empty file",)),
    ("csv-only-blank-lines", b"\n \n\t\n", ("empty file",)),
]:
    data_case(_id, "message", "mnist_test.csv", _content, *_fragments)
for _id, _content, _fragments in [
    ("npz-missing-b2", npz_with(b2=None), ("missing array b2",)),
    ("npz-nan", npz_with(W2=np.full((10, 10), np.nan)), ("W2", "NaN")),
    ("npz-inf", npz_with(b1=np.full((10, 1), np.inf)), ("b1", "infinite")),
    ("npz-w2-wrong-shape", npz_with(W2=np.zeros((10, 12))), ("W2", "(10, 12)")),
    ("npz-empty-file", b"", ("empty",)),
    ("npz-single-npy", npy_bytes(np.zeros((10, 784))), ("single .npy array",)),
    ("npz-zip-signature-then-junk", b"PK\x03\x04" + bytes(200), ("corrupt or truncated",)),
    ("npz-truncated", npz_with()[:-300], ("corrupt or truncated",)),
]:
    weights_case(_id, "message", _content, *_fragments)

# -- options --------------------------------------------------------------------------------------
for _id, _argv, _fragments, _status in [
    ("alpha-nan", ["train", "--alpha", "nan"], ("--alpha", "finite"), 2),
    ("alpha-negative", ["train", "--alpha", "-1"], ("--alpha", "> 0"), 2),
    ("seed-5000-digits", ["train", "--seed", "9" * 5000], ("--seed", "5,000 characters"), 2),
    ("seed-negative", ["train", "--seed", "-1"], ("--seed", ">= 0"), 2),
    ("dev-a-googol", ["train", "--dev", "1" + "0" * 100, "--data", "{data}", "--weights", "{out}"],
     ("--dev", "leaves no training images"), 1),
    ("hidden-zero", ["train", "--hidden", "0"], ("--hidden", ">= 1"), 2),
    ("batch-size-zero", ["train", "--batch-size", "0"], ("--batch-size",), 2),
    ("show-index-10-to-the-30", ["show", "1" + "0" * 30, "--weights", "{weights}", "--data", "{data}", "--out", "{out}.png"],
     ("image 1" + "0" * 30, "40 images"), 1),
    ("original-preset-with-hidden", ["train", "--preset", "original", "--hidden", "20"], ("--hidden",), 1),
]:
    option_case(_id, _argv, *_fragments, status=_status)


# --- the server the download cases use ----------------------------------------------------------

class HostileMirror(http.server.BaseHTTPRequestHandler):
    """/endless/NAME: a body that never ends; /lying/NAME: Content-Length of 1 GB; /drip/NAME: a byte at a time."""

    def do_GET(self):  # noqa: N802 - the http.server name
        kind = self.path.strip("/").split("/")[0]
        if kind not in ("endless", "lying", "drip"):
            self.send_error(404, "File not found")
            return
        self.send_response(200)
        if kind == "lying":
            self.send_header("Content-Length", str(10**9))
        self.end_headers()
        stop = time.monotonic() + 20
        try:
            while not self.server.closing.is_set() and time.monotonic() < stop:
                self.wfile.write(b"x" if kind == "drip" else bytes(64 * 1024))
                if kind == "drip":
                    self.wfile.flush()
                    time.sleep(0.05)
        except OSError:  # the client hung up, as it should
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mirror_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HostileMirror)
    server.daemon_threads = True
    server.closing = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.closing.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- running the catalogue ---------------------------------------------------------------------

def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under `folder` (links not followed) with its kind and size."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        found[str(path)] = (info.st_mode >> 12, info.st_size if path.is_file() and not path.is_symlink() else 0)
    return found


def run_driver(runs: list[dict], folder: Path) -> dict[str, dict]:
    """Run the cases in the driver under RLIMIT_AS; restart it after a case that kills it."""
    results: dict[str, dict] = {}
    results_path = folder / "results.jsonl"
    code = str(Path(solutions.__file__).resolve().parent.parent)  # the checkout under test
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [code, os.environ.get("PYTHONPATH")])),
                       MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    environment.pop("MNIST_KIT_DATA", None)
    environment["MNIST_KIT_CACHE"] = str(folder / "empty-cache")
    for _attempt in range(len(runs)):
        remaining = [run for run in runs if run["id"] not in results]
        if not remaining:
            break
        cases_path = folder / "cases.json"
        cases_path.write_text(json.dumps(remaining))
        process = subprocess.run([sys.executable, str(DRIVER), str(cases_path), str(results_path)],
                                 env=environment, preexec_fn=_limit_memory, capture_output=True, text=True,
                                 timeout=600)
        for line in results_path.read_text().splitlines():
            result = json.loads(line)
            results.setdefault(result["id"], result)
        after = [run for run in runs if run["id"] not in results]
        if after:  # the driver died during the first case without a result
            results[after[0]["id"]] = {"id": after[0]["id"], "status": None, "stdout": process.stdout[-2000:],
                                       "stderr": process.stderr[-2000:],
                                       "escaped": f"the driver died (exit {process.returncode}) during this case"}
    return results


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory, mirror_server):
    """Make every case's inputs, run them all in the driver, and note what each left behind."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "shared").mkdir()
    shared = Shared(root / "shared" / "good.npz", root / "shared" / "mnist_train.csv", mirror_server)
    shared.weights.write_bytes(npz_with())
    shared.train_csv.write_bytes(csv_rows(40))
    runs = []
    for entry in CASES:
        folder = root / "cases" / entry.id
        folder.mkdir(parents=True)
        made = entry.make(folder, shared)
        runs.append({"id": entry.id, "argv": [str(arg) for arg in made["argv"]], "env": made.get("env", {}),
                     "faults": made.get("faults", []), "encoding": entry.encoding, "cwd": str(folder),
                     "unchanged": {path: content.hex() for path, content in made.get("unchanged", {}).items()}})
    before = snapshot(root / "cases")
    results = run_driver(runs, root)
    after = snapshot(root / "cases")
    return {run["id"]: run for run in runs}, results, before, after


def test_the_catalogue_is_large_and_covers_every_class():
    ids = [entry.id for entry in CASES]
    assert len(ids) >= 120, f"issue 11 asks for at least 120 cases, the catalogue has {len(ids)}"
    assert len(set(ids)) == len(ids), "case ids must be unique"
    kinds = {entry.kind for entry in CASES}
    assert kinds >= {"bomb", "download", "traceback", "silently-wrong", "hang", "lost-or-mangled", "api-leak", "message"}


@pytest.mark.parametrize("entry", CASES, ids=[entry.id for entry in CASES])
def test_case(catalogue, entry):
    runs, results, before, after = catalogue
    run, result = runs[entry.id], results[entry.id]
    shown = (f"\n  argv: {run['argv']}\n  status: {result.get('status')}\n  stderr: {result.get('stderr')!r}"
             f"\n  stdout (end): {result.get('stdout', '')[-300:]!r}")
    assert result["escaped"] is None, f"an exception escaped main (a user would see a traceback):\n{result['escaped']}{shown}"
    assert "Traceback" not in result["stderr"] + result["stdout"], "no traceback, ever" + shown
    assert UNEXPECTED not in result["stderr"], "the last-resort handler must never be reached by the catalogue" + shown
    assert result["status"] == entry.status, f"exit status {result['status']}, expected {entry.status}" + shown
    lines = result["stderr"].strip().splitlines()
    if entry.progress:  # the download's progress lines, each naming its file, then the one error line
        progress = [line for line in lines[:-1] if line.split(":")[0] in OFFICIAL]
        assert progress == lines[:-1], "before the error, only progress lines naming a file" + shown
        lines = lines[-1:]
    if entry.stderr_lines == 0:
        assert lines == [], "nothing on stderr" + shown
    else:
        assert len(lines) == 1, f"exactly one line on stderr, got {len(lines)}" + shown
        said = lines[0].replace(run["cwd"], "<case folder>")  # the folder's name must not do the naming
        for fragment in entry.fragments:
            assert fragment in said, f"the line should name {fragment!r}" + shown
    mine = run["cwd"] + os.sep
    new = [path for path in after if path.startswith(mine) and path not in before]
    changed = [path for path in before if path.startswith(mine) and after.get(path) != before[path]]
    assert not new, f"left behind: {new}" + shown
    assert not changed, f"changed or removed: {changed}" + shown
    for path, content in run["unchanged"].items():
        assert Path(path).read_bytes() == bytes.fromhex(content), f"{path} must keep its content" + shown
