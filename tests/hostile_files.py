"""Make hostile and broken files for the adversarial tests: bombs, crafted zips, archives, FIFOs.

Everything is generated (nothing large is committed) and written independently
of the code under test, from the formats' own descriptions: gzip (RFC 1952),
zip (PKWARE's APPNOTE), .npy (NumPy's format document), IDX (LeCun's page).
A gzip bomb is made without ever holding its expansion: after a full flush a
deflate stream's output for the same input block is the same bytes, so the
compressed block is repeated.
"""

import io
import os
import socket
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np

MIB = 1 << 20


def _deflate_repeated(prefix: bytes, block: bytes, repeats: int, wbits: int) -> bytes:
    """A deflate stream (wbits as for zlib: 31 gzip, -15 raw) of prefix + block * repeats, made in O(1) memory.

    The stream's trailer (gzip CRC and size) covers only the first two blocks:
    a reader that stops early never reaches it, one that reads everything
    expands the whole bomb before it finds out.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == again, "a full flush should make a block's output repeatable"
    return head + first * repeats + compressor.flush()


def gzip_bomb(prefix: bytes, block: bytes, repeats: int) -> bytes:
    """gzip bytes that expand to prefix + block * repeats (len(block) * repeats can be gigabytes)."""
    return _deflate_repeated(prefix, block, repeats, wbits=31)


def raw_deflate_bomb(prefix: bytes, block: bytes, repeats: int) -> bytes:
    """A raw deflate stream (as in a zip member) that expands to prefix + block * repeats."""
    return _deflate_repeated(prefix, block, repeats, wbits=-15)


def idx_header(ndim_code: int, dims: tuple[int, ...]) -> bytes:
    """An IDX header: 0x0000, type 0x08 (unsigned byte), the number of dims, big-endian sizes."""
    return bytes([0, 0, 0x08, ndim_code]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


def npy_header(descr: str, shape: tuple, fortran: bool = False, version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy header (format version 1.0 or 2.0) declaring an array of `descr` and `shape`."""
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {tuple(shape)!r}, }}".encode("latin1")
    length_bytes = 2 if version == (1, 0) else 4
    total = 6 + 2 + length_bytes + len(text) + 1
    text += b" " * ((-total) % 64) + b"\n"
    length = struct.pack("<H" if length_bytes == 2 else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text


def npy_bytes(array: np.ndarray) -> bytes:
    """A whole .npy file of `array` (C order)."""
    array = np.array(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    return npy_header(array.dtype.str, array.shape) + array.tobytes()


def zip_bytes(members: list[dict]) -> bytes:
    """A zip archive written by hand, so that any field can lie.

    Each member: name, data (as stored, already compressed if method is 8),
    and optionally method (0 stored, 8 deflate, anything else), flags (bit 0:
    encrypted), crc, size (the uncompressed size claimed).
    """
    out, central = bytearray(), bytearray()
    for member in members:
        name = member["name"].encode()
        data = member["data"]
        method, flags = member.get("method", 0), member.get("flags", 0)
        size = member.get("size", len(data))
        crc = member.get("crc", zlib.crc32(data) if method == 0 else 0)
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, len(data), size, len(name), 0)
        out += name + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc, len(data), size,
            len(name), 0, 0, 0, 0, 0, offset,
        ) + name
    count = len(members)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + eocd)


def good_params(n_hidden: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """W1, b1, W2, b2 of a 784-n_hidden-10 network with small random entries."""
    rng = np.random.default_rng(seed)
    shapes = {"W1": (n_hidden, 784), "b1": (n_hidden, 1), "W2": (10, n_hidden), "b2": (10, 1)}
    return {name: rng.normal(0, 0.1, shape) for name, shape in shapes.items()}


def npz_members(params: dict[str, np.ndarray]) -> list[dict]:
    """zip_bytes members (stored) holding each array as NAME.npy."""
    return [{"name": f"{name}.npy", "data": npy_bytes(array)} for name, array in params.items()]


def npz_with(**replace) -> bytes:
    """A stored .npz of good_params with some arrays replaced (a value of None drops that array)."""
    params = good_params()
    for name, value in replace.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    return zip_bytes(npz_members(params))


def tar_bytes(name: str, content: bytes) -> bytes:
    """A tar archive holding one file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_socket_file(path: Path) -> Path:
    """A Unix socket's file at `path` (left after the socket is closed)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return path


def sparse_file(path: Path, start: bytes, size: int) -> Path:
    """`start`, then zero bytes up to `size` that take no disk space (a sparse file)."""
    with open(path, "wb") as file:
        file.write(start)
        file.truncate(size)
    return path
