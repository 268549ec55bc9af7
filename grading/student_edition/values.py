"""Values as JSON data, for the student edition's expectations (standalone: NumPy only).

The kit records what the visible checks pass to a function and what comes back;
this module writes those values as JSON trees and reads them back, in the kit
(when grading.build records) and in the student's Python (mnist_kit_student):

    None, True, 3, "text", 1.5     as themselves (NaN and inf as {"float": "nan"})
    (1, 2) / [1, 2] / {"k": v}     {"tuple": [...]} / [...] / {"dict": [[key, value], ...]}
    np.ndarray                     {"array": id}: the array is stored once in a table,
                                   id -> {"dtype": "<f8", "shape": [2, 3], "data": base64}
    np.float64(2.0), np.int64(3)   {"scalar": [dtype, value]}
    a path inside a check's folder {"scratch": "runs/weights.npz"} (made again at run time)
    another path                   {"path": "..."}
    np.random.Generator            {"generator": its bit generator's state}
    bytes                          {"bytes": base64}
    anything else                  {"opaque": [type name, short repr]}

Nothing here runs code read from the data: arrays come back with np.frombuffer
(numeric and boolean dtypes only), never with pickle.

Also here: `snapshot` / `changed` (did a call change its argument in place?) and
`same` (are two values equal up to rounding?), used on both sides alike.
"""

import base64
import copy
import hashlib
import math
from pathlib import Path, PurePath
from typing import Any

import numpy as np

#: array kinds the data may hold: bool, signed and unsigned ints, floats, complex
ARRAY_KINDS = "biufc"


class Opaque:
    """A value that is not data (a figure, an object), kept as its type name and repr."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and (other.type_name, other.text) == (self.type_name, self.text)

    __hash__ = None


class Arrays:
    """The table of arrays of one data file: each distinct array stored once, by content."""

    def __init__(self, stored: "dict[str, dict] | None" = None) -> None:
        self.stored: dict[str, dict] = dict(stored or {})

    def add(self, array: np.ndarray) -> str:
        array = np.ascontiguousarray(array)
        if array.dtype.kind not in ARRAY_KINDS:
            raise TypeError(f"an array of dtype {array.dtype} cannot be stored as data")
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        raw = array.astype(dtype, copy=False).tobytes()
        key = hashlib.sha256(f"{dtype.str}{array.shape}".encode() + raw).hexdigest()[:16]
        self.stored.setdefault(key, {"dtype": dtype.str, "shape": list(array.shape),
                                     "data": base64.b64encode(raw).decode("ascii")})
        return key

    def get(self, key: str) -> np.ndarray:
        entry = self.stored[key]
        dtype = np.dtype(entry["dtype"])
        if dtype.kind not in ARRAY_KINDS:
            raise TypeError(f"the data holds an array of dtype {dtype}")
        raw = base64.b64decode(entry["data"])
        return np.frombuffer(raw, dtype=dtype).reshape(entry["shape"]).copy()


def encode(value: Any, arrays: Arrays, *, scratch: "str | None" = None) -> Any:
    """`value` as a JSON tree (arrays added to `arrays`); paths below `scratch` become relative."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.ndarray):
        return {"array": arrays.add(value)}
    if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
        return {"scalar": [value.dtype.str, encode(value.item(), arrays)]}
    if isinstance(value, tuple):
        return {"tuple": [encode(item, arrays, scratch=scratch) for item in value]}
    if isinstance(value, list):
        return [encode(item, arrays, scratch=scratch) for item in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k, arrays, scratch=scratch), encode(v, arrays, scratch=scratch)]
                         for k, v in value.items()]}
    if isinstance(value, PurePath):
        text = value.as_posix()
        if scratch and (text == scratch or text.startswith(scratch.rstrip("/") + "/")):
            return {"scratch": text[len(scratch):].lstrip("/")}
        return {"path": text}
    if isinstance(value, np.random.Generator):
        return {"generator": _plain(value.bit_generator.state)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Opaque):
        return {"opaque": [value.type_name, value.text]}
    text = repr(value)
    return {"opaque": [type(value).__name__, text if len(text) <= 200 else text[:197] + "..."]}


def _plain(state: Any) -> Any:
    """A bit generator's state with NumPy ints made Python ints (so that it is JSON)."""
    if isinstance(state, dict):
        return {str(k): _plain(v) for k, v in state.items()}
    if isinstance(state, (np.integer, int)) and not isinstance(state, bool):
        return int(state)
    if isinstance(state, np.ndarray):
        return {"uint_array": [int(v) for v in state.ravel()], "dtype": state.dtype.str}
    return state


def _unplain(state: Any) -> Any:
    if isinstance(state, dict):
        if set(state) == {"uint_array", "dtype"}:
            return np.array(state["uint_array"], dtype=np.dtype(state["dtype"]))
        return {k: _unplain(v) for k, v in state.items()}
    return state


def generator(state: dict) -> np.random.Generator:
    """A Generator whose bit generator has `state` (as `encode` wrote it)."""
    state = _unplain(state)
    name = state.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise ValueError(f"unknown bit generator {name!r}")
    bits = getattr(np.random, name)()
    bits.state = state
    return np.random.Generator(bits)


def decode(tree: Any, arrays: Arrays, *, scratch: "Path | None" = None) -> Any:
    """The value a JSON tree stands for (a fresh copy every time); scratch paths are made below `scratch`."""
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [decode(item, arrays, scratch=scratch) for item in tree]
    if not isinstance(tree, dict) or len(tree) != 1:
        raise ValueError(f"not a value tree: {tree!r:.80}")
    (tag, body), = tree.items()
    if tag == "array":
        return arrays.get(body)
    if tag == "float":
        return float(body)
    if tag == "scalar":
        return np.dtype(body[0]).type(decode(body[1], arrays))
    if tag == "tuple":
        return tuple(decode(item, arrays, scratch=scratch) for item in body)
    if tag == "dict":
        return {decode(k, arrays, scratch=scratch): decode(v, arrays, scratch=scratch) for k, v in body}
    if tag == "scratch":
        if scratch is None:
            raise ValueError("a path inside a check's folder, but no folder was made")
        return Path(scratch) / body if body else Path(scratch)
    if tag == "path":
        return Path(body)
    if tag == "generator":
        return generator(body)
    if tag == "bytes":
        return base64.b64decode(body)
    if tag == "opaque":
        return Opaque(str(body[0]), str(body[1]))
    raise ValueError(f"unknown tag {tag!r} in a value tree")


def scratch_paths(tree: Any) -> list[str]:
    """The relative paths of every {"scratch": ...} inside a value tree, in order."""
    found: list[str] = []
    if isinstance(tree, list):
        for item in tree:
            found += scratch_paths(item)
    elif isinstance(tree, dict):
        if set(tree) == {"scratch"}:
            found.append(tree["scratch"])
        else:
            for body in tree.values():
                found += scratch_paths(body)
    return found


# ------------------------------------------------------------------ in-place changes
def snapshot(value: Any) -> Any:
    """A copy of what a call could change in place: arrays, dicts, lists, a generator's state."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        return ("generator", copy.deepcopy(value.bit_generator.state))
    if isinstance(value, (dict, list)):
        return copy.deepcopy(value)
    return None


def changed(before: Any, after: Any) -> bool:
    """Did `after` (the object passed to the call) change since `before` = snapshot(it)?"""
    if isinstance(after, np.ndarray):
        return not (isinstance(before, np.ndarray) and before.shape == after.shape
                    and before.dtype == after.dtype and np.array_equal(before, after, equal_nan=True))
    if isinstance(after, np.random.Generator):
        return _plain(before[1]) != _plain(after.bit_generator.state)
    if isinstance(after, (dict, list)):
        return not same(before, after, rtol=0.0, atol=0.0)
    return False


def restore(target: Any, value: Any) -> None:
    """Make `target` (an argument) hold `value`: what a call did to it in place, done again."""
    if isinstance(target, np.ndarray) and isinstance(value, np.ndarray) and target.shape == value.shape:
        target[...] = value
    elif isinstance(target, np.random.Generator) and isinstance(value, np.random.Generator):
        target.bit_generator.state = value.bit_generator.state
    elif isinstance(target, dict) and isinstance(value, dict):
        target.clear()
        target.update(value)
    elif isinstance(target, list) and isinstance(value, list):
        target[:] = value


# ------------------------------------------------------------------ comparing
def same(a: Any, b: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """Equal values up to rounding: the same structure, arrays of one shape and close values."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list))
                and len(a) == len(b) and all(same(x, y, rtol=rtol, atol=atol) for x, y in zip(a, b)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)
                and all(same(a[k], b[k], rtol=rtol, atol=atol) for k in a))
    numeric = (np.ndarray, np.generic, int, float)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, str):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape or isinstance(a, np.ndarray) != isinstance(b, np.ndarray):
            return False
        if x.dtype.kind not in ARRAY_KINDS or y.dtype.kind not in ARRAY_KINDS:
            return False
        if (x.dtype == bool) != (y.dtype == bool):
            return False
        if x.dtype.kind in "biu" and y.dtype.kind in "biu":
            return bool(np.array_equal(x, y))
        with np.errstate(all="ignore"):
            return bool(np.allclose(x.astype(complex if "c" in x.dtype.kind + y.dtype.kind else float),
                                    y.astype(complex if "c" in x.dtype.kind + y.dtype.kind else float),
                                    rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(a, np.random.Generator) or isinstance(b, np.random.Generator):
        return (isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator)
                and _plain(a.bit_generator.state) == _plain(b.bit_generator.state))
    if isinstance(a, PurePath) or isinstance(b, PurePath):
        return isinstance(a, PurePath) and isinstance(b, PurePath) and a.as_posix() == b.as_posix()
    return type(a) is type(b) and a == b
