"""Read a trained network's weights file and check it before anything uses it.

The file is an .npz archive (a zip of .npy arrays, as save_params writes it).
A file that is missing, is not an .npz archive, is truncated, lacks one of the
arrays, has an array of the wrong shape or holds NaN would otherwise surface as
a NumPy or zipfile traceback far from its cause, or, for a file whose header
claims a huge array, as gigabytes allocated before anything is checked.
read_weights reads the archive itself, in this order, so that each check comes
before the memory it guards:

1. the file: a regular file (not a FIFO, which would hang), at most
   MAX_FILE_BYTES, starting like a zip archive;
2. the archive's list of members: each array present as NAME.npy, not
   encrypted, stored or compressed in a way zipfile reads;
3. each array's .npy header (dtype, shape) against the network's shapes, with
   at most MAX_HIDDEN hidden units;
4. only then the data, exactly as many bytes as the header says (the zip's
   CRC checked), and that every entry is finite.

Each failure is one WeightsFileError whose message names the file, the array
and the problem. A valid file holds, for a network with n_hidden hidden units
(10 for 784-10-10):

    W1 (n_hidden, 784)   b1 (n_hidden, 1)   W2 (10, n_hidden)   b2 (10, 1)

all finite real numbers.
"""

import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kit_helpers.regular_files import NotRegularFile, open_regular

from .train_mnist import PARAM_NAMES

N_PIXELS = 784
N_CLASSES = 10
#: The most hidden units a weights file may have (`mnist-kit train --hidden` allows as many).
MAX_HIDDEN = 1024
#: The largest weights file read: 784-1024-10 in float64, uncompressed, is 6.5 MB.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Ways of storing a member that zipfile reads (np.savez stores, np.savez_compressed deflates).
READABLE_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
                    zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
ENCRYPTED_FLAG = 0x1

#: Errors zipfile and numpy's .npy reader raise on a damaged or foreign file.
_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, RuntimeError, OverflowError,
                zipfile.BadZipFile, zlib.error, struct.error)

ZIP_MAGIC = b"PK\x03\x04"
NPY_MAGIC = b"\x93NUMPY"


class WeightsFileError(Exception):
    """A weights file is missing, unreadable or does not hold a valid network.

    The message is one line for the user: the file, the array (when there is
    one) and what is wrong.
    """


def expected_shapes(n_hidden: int) -> dict[str, tuple[int, int]]:
    """The shape each parameter must have for a 784-n_hidden-10 network."""
    return {
        "W1": (n_hidden, N_PIXELS),
        "b1": (n_hidden, 1),
        "W2": (N_CLASSES, n_hidden),
        "b2": (N_CLASSES, 1),
    }


def _open(path: Path) -> BinaryIO:
    """The weights file, opened, when it is a regular file of a plausible size that starts like a zip."""
    try:
        file = open_regular(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise WeightsFileError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist") from None
        raise WeightsFileError(f"{path}: no such file (train a network first: mnist-kit train)") from None
    except NotRegularFile as error:
        what = error.strerror.replace("expected a file", "expected a .npz weights file")
        raise WeightsFileError(f"{path}: {what}") from None
    except PermissionError:
        raise WeightsFileError(f"{path}: cannot read it (permission denied)") from None
    except OSError as error:
        raise WeightsFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        size = os.fstat(file.fileno()).st_size
        start = file.read(len(NPY_MAGIC))
        file.seek(0)
    except OSError as error:
        file.close()
        raise WeightsFileError(f"{path}: cannot read it ({error.strerror or error})") from None
    problem = None
    if not start:
        problem = "is empty (0 bytes), expected a .npz weights file"
    elif size > MAX_FILE_BYTES:
        problem = (f"is {size / 1e6:,.1f} MB, larger than any weights file of the networks the kit trains "
                   f"(at most {MAX_HIDDEN:,} hidden units: {MAX_FILE_BYTES / 1e6:.0f} MB)")
    elif start.startswith(NPY_MAGIC):
        problem = (f"holds a single .npy array, expected a .npz archive with arrays "
                   f"{', '.join(PARAM_NAMES)} (as saved by save_params)")
    elif not start.startswith(ZIP_MAGIC):
        problem = "not a .npz weights file (it does not start like a zip archive)"
    if problem:
        file.close()
        raise WeightsFileError(f"{path}: {problem}")
    return file


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The member of each array of PARAM_NAMES, checked readable (WeightsFileError if one is missing or not)."""
    infos = {info.filename: info for info in archive.infolist()}
    missing = [name for name in PARAM_NAMES if f"{name}.npy" not in infos]
    if missing:
        held = [name.removesuffix(".npy") if name.endswith(".npy") else f"{name} (not a .npy array)"
                for name in infos]
        raise WeightsFileError(
            f"{path}: missing array{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(it holds {', '.join(held) or 'no arrays'}; expected {', '.join(PARAM_NAMES)})"
        )
    members = {name: infos[f"{name}.npy"] for name in PARAM_NAMES}
    for name, info in members.items():
        if info.flag_bits & ENCRYPTED_FLAG:
            raise WeightsFileError(f"{path}: array {name} is password-protected (encrypted); save it without a password")
        if info.compress_type not in READABLE_METHODS:
            raise WeightsFileError(
                f"{path}: array {name} is compressed with zip method {info.compress_type}, which cannot be "
                f"read here (np.savez stores, np.savez_compressed uses deflate)"
            )
    return members


def _read_header(path: Path, name: str, member: BinaryIO) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The (shape, fortran_order, dtype) in a member's .npy header."""
    if member.read(len(NPY_MAGIC)) != NPY_MAGIC:
        raise WeightsFileError(f"{path}: member {name}.npy is not a .npy array (no .npy header)")
    version = tuple(member.read(2))
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise WeightsFileError(f"{path}: array {name} has .npy format version {version}, expected 1.0 or 2.0")
    shape, fortran_order, dtype = readers[version](member)
    if dtype.kind not in "iuf" or dtype.hasobject:
        raise WeightsFileError(f"{path}: array {name} has dtype {dtype}, expected real numbers")
    return shape, fortran_order, dtype


def _check_shape(path: Path, name: str, shape: tuple[int, ...], shapes: dict | None) -> dict:
    """Check one array's shape (W1 first: it decides the others); return the expected shapes."""
    if shapes is None:  # this is W1
        if len(shape) != 2 or shape[0] < 1 or shape[1] != N_PIXELS:
            raise WeightsFileError(f"{path}: array W1 has shape {shape}, expected (n_hidden, {N_PIXELS})")
        if shape[0] > MAX_HIDDEN:
            raise WeightsFileError(
                f"{path}: array W1 has shape {shape}: {shape[0]:,} hidden units, more than the "
                f"{MAX_HIDDEN:,} the kit works with"
            )
        return expected_shapes(n_hidden=shape[0])
    if shape != shapes[name]:
        raise WeightsFileError(
            f"{path}: array {name} has shape {shape}, expected {shapes[name]} "
            f"(W1 has {shapes['W1'][0]} hidden units)"
        )
    return shapes


def _read_array(path: Path, name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, shapes):
    """One array, its header checked before its data is read: (array, expected shapes)."""
    with archive.open(info) as member:
        shape, fortran_order, dtype = _read_header(path, name, member)
        shapes = _check_shape(path, name, shape, shapes)
        size = int(np.prod(shape)) * dtype.itemsize
        if info.file_size != member.tell() + size:
            raise WeightsFileError(
                f"{path}: array {name}: its header says {size:,} bytes of data but the archive holds "
                f"{info.file_size - member.tell():,} (corrupt or truncated?)"
            )
        data = member.read(size)
        if len(data) != size or member.read(1):  # reading to the end checks the CRC
            raise WeightsFileError(f"{path}: array {name} is truncated (corrupt file?)")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return array, shapes


def read_weights(
    path: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load W1, b1, W2, b2 from a file written by save_params, checking it holds a valid network.

    Args:
        path: a .npz file written by solutions.train_mnist.save_params.

    Returns:
        W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1),
        as float64 arrays, with 1 <= n_hidden <= MAX_HIDDEN.

    Raises:
        WeightsFileError: the file is missing, not a regular file, too large, not
            an .npz archive, corrupt or truncated, lacks an array, or an array is
            encrypted, has the wrong shape, a non-numeric type, or a NaN /
            infinite entry (the message names the file and the array).
    """
    path = Path(path)
    params, shapes = [], None
    with _open(path) as file:
        try:
            with zipfile.ZipFile(file) as archive:
                members = _members(path, archive)
                for name in PARAM_NAMES:
                    array, shapes = _read_array(path, name, archive, members[name], shapes)
                    params.append(array)
        except WeightsFileError:
            raise
        except _READ_ERRORS as error:
            said = " ".join(str(error).split())  # one line, however the library put it
            raise WeightsFileError(
                f"{path}: not a readable .npz weights file (corrupt or truncated?): "
                f"{said[:200] + '...' if len(said) > 200 else said}"
            ) from None
    for name, array in zip(PARAM_NAMES, params):
        if not np.all(np.isfinite(array)):
            bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
            raise WeightsFileError(
                f"{path}: array {name} has {bad} NaN or infinite "
                f"entr{'ies' if bad > 1 else 'y'} (training diverged? try a smaller --alpha)"
            )
    return tuple(np.array(array, dtype=np.float64) for array in params)  # writable copies
