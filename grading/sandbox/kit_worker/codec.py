"""Data-only messages between the checker and the grading worker.

A message is one frame on a stream socket:

    b"MKW1" | header length (4 bytes) | header: UTF-8 JSON object | blob count (4 bytes)
            | for each blob: length (8 bytes) | the bytes of one .npy file

Values inside the header are JSON trees with a one-key tag for everything JSON
lacks, and arrays travel as .npy blobs read back with `allow_pickle=False`:

    None, True, 3, "text"           as themselves (ints beyond 64 bits as {"int": "123..."})
    1.5, nan, inf                   {"float": "0x1.8p+0"}   (float.hex: exact, NaN and inf included)
    (1, 2) / [1, 2]                 {"tuple": [...]} / {"list": [...]}
    {"loss": [..]}                  {"dict": [[key, value], ...]}
    np.ndarray / np.float64(2.0)    {"array": k} / {"scalar": k}   (k: the blob's index)
    Path("runs/w.npz")              {"path": "runs/w.npz"}
    np.random.Generator             {"generator": <its bit generator's state>}
    a matplotlib Figure             {"figure": ...}   (figures.py; worker -> checker only)
    anything else                   {"opaque": {"type": "Foo", "repr": "<Foo ...>"}}

Only numeric and boolean arrays are accepted (no object, void or string dtypes),
nesting is bounded and every size is checked against the receiver's limits before
anything is allocated: the learner's side of a channel is never trusted.
"""

import io
import json
import math
import os
import re
import select
import socket
import struct
import time
import weakref
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import numpy as np

MAGIC = b"MKW1"
#: array kinds that may cross: bool, signed and unsigned ints, floats, complex
ARRAY_KINDS = "biufc"
MAX_DEPTH = 32
MAX_ITEMS = 200_000
MAX_STRING = 1 << 20
MAX_INT_DIGITS = 200
#: default bound on one message (header and blobs); a receiver may pass its own
DEFAULT_MAX_BYTES = 512 << 20
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class ChannelError(Exception):
    """The other side sent something that is not a valid message (or nothing in time)."""


class ChannelClosed(ChannelError):
    """The other side closed the channel (usually: its process ended)."""


class ChannelTimeout(ChannelError):
    """No complete message arrived before the deadline."""


# ------------------------------------------------------------------ values
class Opaque:
    """A value that cannot cross as data, described by its type name and a short repr.

    `decode` makes a subclass named after the original type, so a message can say
    "returned a generator" as it would have for the real value.
    """

    type_name = "object"

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _opaque_class(name: str) -> type:
    safe = name if _IDENTIFIER.fullmatch(name) else "object"
    return type(safe, (Opaque,), {"type_name": safe})


class Encoder:
    """Turns values into a JSON tree plus .npy blobs (see the module docstring)."""

    def __init__(self, describe_figure: Callable[[Any, "Encoder"], Any] | None = None) -> None:
        self.blobs: list[bytes] = []
        self._describe_figure = describe_figure

    def array(self, value: np.ndarray) -> int:
        self.blobs.append(npy_bytes(value))
        return len(self.blobs) - 1

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            return {"opaque": {"type": type(value).__name__, "repr": "(nested too deeply)"}}
        if value is None or isinstance(value, (bool, str)):
            return value if not isinstance(value, str) or len(value) <= MAX_STRING else value[:MAX_STRING]
        if isinstance(value, int):
            return value if -(1 << 63) <= value < (1 << 63) else {"int": str(value)[: MAX_INT_DIGITS + 1]}
        if isinstance(value, float):
            return {"float": value.hex()}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in ARRAY_KINDS:
                return {"array": self.array(value)}
            return self._opaque(value, f"array of dtype {value.dtype}")
        if isinstance(value, np.generic):
            if value.dtype.kind in ARRAY_KINDS:
                return {"scalar": self.array(np.asarray(value))}
            return self._opaque(value)
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v, depth + 1) for v in value[:MAX_ITEMS]]}
        if isinstance(value, list):
            return {"list": [self.encode(v, depth + 1) for v in value[:MAX_ITEMS]]}
        if isinstance(value, dict):
            return {"dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                             for k, v in list(value.items())[:MAX_ITEMS]]}
        if isinstance(value, PurePath):
            return {"path": str(value)}
        if isinstance(value, np.random.Generator):
            return {"generator": self.encode(value.bit_generator.state, depth + 1)}
        if self._describe_figure is not None:
            described = self._describe_figure(value, self)
            if described is not None:
                return {"figure": described}
        return self._opaque(value)

    def _opaque(self, value: Any, text: str | None = None) -> dict:
        try:
            shown = text or repr(value)
        except Exception:
            shown = f"<{type(value).__name__}>"
        return {"opaque": {"type": type(value).__name__, "repr": shown[:200]}}


class Decoder:
    """Turns a JSON tree and its blobs back into values, checking every limit."""

    def __init__(self, blobs: list[bytes], *, rebuild_figure: Callable[[Any, "Decoder"], Any] | None = None) -> None:
        self.blobs = blobs
        self.items = 0
        self._rebuild_figure = rebuild_figure

    def array(self, index: Any) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(self.blobs):
            raise ChannelError(f"a message refers to array #{index!r}, which it does not hold")
        return read_npy(self.blobs[index], f"array #{index}")

    def decode(self, tree: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS * 4:
            raise ChannelError("a message is nested too deeply or holds too many values")
        if tree is None or isinstance(tree, bool):
            return tree
        if isinstance(tree, int):
            return tree
        if isinstance(tree, str):
            if len(tree) > MAX_STRING:
                raise ChannelError("a message holds a string that is too long")
            return tree
        if isinstance(tree, list):  # a bare JSON list only appears inside tagged values
            raise ChannelError("a message holds an untagged list")
        if not isinstance(tree, dict) or len(tree) != 1:
            raise ChannelError("a message holds a value that is not tagged")
        (tag, body), = tree.items()
        if tag == "float":
            return _float(body)
        if tag == "int":
            if not isinstance(body, str) or len(body) > MAX_INT_DIGITS + 1 or not re.fullmatch(r"-?\d+", body):
                raise ChannelError("a message holds an integer that is not one")
            return int(body)
        if tag in ("tuple", "list"):
            items = [self.decode(v, depth + 1) for v in _sequence(body)]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict":
            result = {}
            for pair in _sequence(body):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ChannelError("a message holds a dict entry that is not a pair")
                key = self.decode(pair[0], depth + 1)
                if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                    raise ChannelError("a message holds a dict key that is not a plain value")
                result[key] = self.decode(pair[1], depth + 1)
            return result
        if tag == "array":
            return self.array(body)
        if tag == "scalar":
            array = self.array(body)
            if array.shape != ():
                raise ChannelError("a scalar in a message is not 0-dimensional")
            return array[()]
        if tag == "path":
            if not isinstance(body, str) or len(body) > 4096 or "\0" in body:
                raise ChannelError("a message holds a path that is not one")
            from pathlib import Path
            return Path(body)
        if tag == "generator":
            return _generator(self.decode(body, depth + 1))
        if tag == "figure":
            if self._rebuild_figure is None:
                raise ChannelError("a message holds a figure where none may be")
            return self._rebuild_figure(body, self)
        if tag == "opaque":
            if not isinstance(body, dict) or not isinstance(body.get("type"), str):
                raise ChannelError("a message holds an opaque value without a type")
            return _opaque_class(body["type"][:64])(str(body.get("repr", ""))[:200])
        raise ChannelError(f"a message holds a value tagged {tag!r}")


def _sequence(body: Any) -> list:
    if not isinstance(body, list) or len(body) > MAX_ITEMS:
        raise ChannelError("a message holds a sequence that is not one, or too long")
    return body


def _float(body: Any) -> float:
    if not isinstance(body, str) or len(body) > 40:
        raise ChannelError("a message holds a float that is not one")
    try:
        return float.fromhex(body)
    except (ValueError, OverflowError):
        if body in ("nan", "inf", "-inf"):
            return float(body)
        raise ChannelError("a message holds a float that is not one") from None


def _generator(state: Any) -> np.random.Generator:
    """A Generator with the given bit generator state (only NumPy's own bit generators)."""
    if not isinstance(state, dict) or state.get("bit_generator") not in _BIT_GENERATORS:
        raise ChannelError("a message holds a random generator of an unknown kind")
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except Exception as error:
        raise ChannelError(f"a message holds a random generator state that is not valid ({error})") from None
    return np.random.Generator(bit_generator)


_NPY_HEADER = re.compile(rb"\{'descr': '(?P<descr>[<>|=][biufc][0-9]{1,2})', 'fortran_order': (?P<fortran>True|False), "
                         rb"'shape': \((?P<shape>(?:[0-9]{1,12}, ?)*[0-9]{0,12})\), \} *\n")


def npy_bytes(value: np.ndarray) -> bytes:
    """The .npy file (format 1.0) of a numeric array."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, value if value.flags.c_contiguous else value.copy(order="C"),
                              allow_pickle=False)
    return buffer.getvalue()


def read_npy(blob: bytes, what: str = "an array") -> np.ndarray:
    """The array of a .npy blob, read by a strict parser of its header: numeric dtypes only.

    Nothing is evaluated and nothing can be unpickled: the header must be the exact
    dictionary NumPy writes for a plain array, and the data exactly as long as it says.
    """
    if blob[:6] != b"\x93NUMPY" or len(blob) < 10:
        raise ChannelError(f"{what} is not a .npy blob")
    major = blob[6]
    if major == 1:
        (length,), start = struct.unpack("<H", blob[8:10]), 10
    elif major in (2, 3):
        (length,), start = struct.unpack("<I", blob[8:12]), 12
    else:
        raise ChannelError(f"{what} has an unknown .npy version")
    match = _NPY_HEADER.fullmatch(blob[start:start + length])
    if match is None:
        raise ChannelError(f"{what} has a dtype or header that may not cross")
    dtype = np.dtype(match["descr"].decode())
    shape = tuple(int(n) for n in match["shape"].split(b",") if n.strip())
    count = math.prod(shape)
    data = memoryview(blob)[start + length:]
    if dtype.kind not in ARRAY_KINDS or len(data) != count * dtype.itemsize:
        raise ChannelError(f"{what} does not hold the data its header announces")
    array = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if match["fortran"] == b"True" else "C")
    return array.copy()  # writable, and owning its memory


def encode_value(value: Any, **options: Any) -> tuple[Any, list[bytes]]:
    """(JSON tree, blobs) for one value."""
    encoder = Encoder(**options)
    return encoder.encode(value), encoder.blobs


# ------------------------------------------------------------------ mutations
def snapshot(value: Any) -> Any:
    """A private copy of a mutable argument (array, dict, list, generator), to compare after a call."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        return value.bit_generator.state
    if isinstance(value, (dict, list)):
        try:
            return _deep_copy(value)
        except Exception:
            return None
    return None


def _deep_copy(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError("too deep")
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _deep_copy(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v, depth + 1) for v in value]
    return value


def changed(before: Any, after: Any) -> bool:
    """True when a mutable argument differs from its snapshot."""
    if isinstance(after, np.ndarray):
        return not (isinstance(before, np.ndarray) and before.shape == after.shape
                    and before.dtype == after.dtype and np.array_equal(before, after, equal_nan=True))
    if isinstance(after, np.random.Generator):
        return before != after.bit_generator.state
    if isinstance(after, (dict, list)):
        return not _same(before, after)
    return False


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def apply_mutation(target: Any, new: Any) -> None:
    """Make `target` (the caller's own object) look like `new`, as if changed in place."""
    if isinstance(target, np.ndarray) and isinstance(new, np.ndarray):
        if target.shape != new.shape:
            try:
                target.resize(new.shape, refcheck=False)
            except (ValueError, TypeError):
                target[...] = np.nan if target.dtype.kind in "fc" else 0  # changed beyond repair: still "changed"
                return
        with np.errstate(all="ignore"):
            np.copyto(target, new, casting="unsafe")
    elif isinstance(target, np.random.Generator) and isinstance(new, np.random.Generator):
        target.bit_generator.state = new.bit_generator.state
    elif isinstance(target, dict) and isinstance(new, dict):
        target.clear()
        target.update(new)
    elif isinstance(target, list) and isinstance(new, list):
        target[:] = new


# ------------------------------------------------------------------ frames
def send_message(sock: socket.socket, header: dict, blobs: list[bytes] = (), *, fds: list[int] = ()) -> None:
    """Send one frame (and, with `fds`, file descriptors beside its first bytes)."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    parts = [MAGIC, struct.pack("<I", len(head)), head, struct.pack("<I", len(blobs))]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    data = b"".join(parts)
    if fds:
        sent = socket.send_fds(sock, [data[:8]], list(fds))
        data = data[sent:]
    sock.sendall(data)


def receive_message(sock: socket.socket, *, deadline: float | None = None,
                    max_bytes: int = DEFAULT_MAX_BYTES, want_fds: int = 0) -> tuple[dict, list[bytes], list[int]]:
    """Read one frame: (header, blobs, received fds). `deadline` is a time.monotonic() value."""
    reader = _Reader(sock, deadline, want_fds)
    if reader.exactly(4) != MAGIC:
        raise ChannelError("the other side sent something that is not a message")
    (length,) = struct.unpack("<I", reader.exactly(4))
    if length > max_bytes:
        raise ChannelError(f"a message header of {length:,} bytes is over the limit")
    try:
        header = json.loads(reader.exactly(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ChannelError(f"a message header is not valid JSON ({type(error).__name__})") from None
    if not isinstance(header, dict):
        raise ChannelError("a message header is not a JSON object")
    (count,) = struct.unpack("<I", reader.exactly(4))
    if count > 10_000:
        raise ChannelError("a message holds too many arrays")
    total, blobs = length, []
    for _ in range(count):
        (size,) = struct.unpack("<Q", reader.exactly(8))
        total += size
        if total > max_bytes:
            raise ChannelError(f"a message of more than {max_bytes:,} bytes is over the limit")
        blobs.append(reader.exactly(size))
    return header, blobs, reader.fds


class _Reader:
    """Exact reads from a socket through a buffer, every wait bounded by the deadline."""

    CHUNK = 1 << 16

    def __init__(self, sock: socket.socket, deadline: float | None, want_fds: int) -> None:
        self.sock, self.deadline, self.want_fds = sock, deadline, want_fds
        self.fds: list[int] = []
        self.buffer = _BUFFERS.setdefault(sock, bytearray())

    def exactly(self, count: int) -> bytes:
        if len(self.buffer) >= count:
            data = bytes(self.buffer[:count])
            del self.buffer[:count]
            return data
        parts = [bytes(self.buffer)]
        missing = count - len(self.buffer)
        self.buffer.clear()
        while missing:
            self._wait()
            if self.want_fds:  # every read: descriptors travel with the bytes they came with
                data, fds, _, _ = socket.recv_fds(self.sock, max(min(missing, 1 << 24), self.CHUNK), self.want_fds)
                self.fds += list(fds)
            else:
                data = self.sock.recv(max(min(missing, 1 << 24), self.CHUNK))
            if not data:
                raise ChannelClosed("the other side closed the channel")
            if len(data) > missing:  # the start of the next message: keep it for later
                self.buffer += data[missing:]
                data = data[:missing]
            parts.append(data)
            missing -= len(data)
        return b"".join(parts)

    def _wait(self) -> None:
        if self.deadline is None:
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
            raise ChannelTimeout("no answer in time")


#: bytes read past the end of a message, per socket (a read may take in the beginning of
#: the next message); kept only as long as the socket object lives
_BUFFERS: "weakref.WeakKeyDictionary[socket.socket, bytearray]" = weakref.WeakKeyDictionary()


def close_fds(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


