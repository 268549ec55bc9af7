"""The comparison rules of the student edition: what a visible check looks at (standalone: NumPy only).

A visible check of the kit says in its registration how the student edition
compares a student's function with the reference (grading/checks/stageNN_*.py):

    @check("relu", visible=True, replay="returns")
    @check("cross_entropy", visible=True, replay="keeps_inputs + returns(rtol=1e-4, atol=1e-6)")

The kit records the check's calls on the reference at build time; the student's
edition makes the same calls on the student's function and applies the rules, in
the order written. A rule turns one call's outcome into its *features* (what the
check looks at: the values returned, the shapes, which arguments changed...) and
says what is wrong when the student's features are not the reference's:

    returns(rtol, atol, exact, integers)  the value returned equals the reference's (up to rounding)
    keeps_inputs(rtol, atol)              no argument is changed in place (or, with a tolerance, each
                                          changed array is put back, up to it)
    kink                                  like returns, but where the input is 0 either 0 or 1 is right
    columns_sum_to_one(atol)              every column sums to 1, every entry in [0, 1]
    shapes(floats)                        the arrays returned have the reference's shapes
    partition                             a list of index arrays of the reference's sizes, 0..m-1 once each
    saves_npz                             the file at the path argument is an .npz of the array arguments
    figure                                a matplotlib Figure with a curve per history entry, no file written
    small_numbers(below)                  a dict with the reference's keys, each a number in [0, below)
    invariant                  (all calls) every call returns what the first one did
    seeded(differ)             (all calls) equal arguments give equal values, other arguments other values

A recorded mistake (tests/mistakes/) is recognised when the student's features are
its features, so its message, the kit's own, can be shown (runner.py).
"""

import ast
import io
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from . import values

MISSING = object()


@dataclass
class Tolerances:
    """The kit's tolerances for float results (grading/checks/expect.py), looser for float32."""

    rtol: float = 1e-5
    atol: float = 1e-8
    rtol32: float = 2e-4
    atol32: float = 1e-5

    def close(self, a: Any, b: Any, *, rtol: float | None = None, atol: float | None = None) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        loose = a.dtype == np.float32 or b.dtype == np.float32
        r = rtol if rtol is not None else self.rtol32 if loose else self.rtol
        t = atol if atol is not None else self.atol32 if loose else self.atol
        with np.errstate(all="ignore"):
            return bool(np.allclose(a.astype(float), b.astype(float), rtol=r, atol=t, equal_nan=False))


@dataclass
class Call:
    """One call a check makes, as recorded: its arguments and how the kit shows it."""

    args: tuple
    kwargs: dict
    shown: str = ""
    parameters: tuple = ()
    tree: Any = None                      # the encoded arguments: equal trees, equal arguments
    paths: list = field(default_factory=list)  # relative paths (in the check's folder) among them

    def label(self, key: Any) -> str:
        if isinstance(key, int):
            return self.parameters[key] if key < len(self.parameters) else f"arg{key + 1}"
        return str(key)


@dataclass
class Outcome:
    """What one call came to: the value returned (or the facts of what it raised), and its effects."""

    value: Any = None
    raised: "dict | None" = None
    mutated: dict = field(default_factory=dict)   # label -> the argument after the call, if it changed
    files: "dict | None" = None                   # relative name -> bytes (None: a folder)
    warnings: list = field(default_factory=list)


@dataclass
class Problem:
    """What a rule found wrong, worded like the kit's messages."""

    text: str
    returned: Any = MISSING
    expected: Any = MISSING
    hint: "str | None" = None


def ordinal(number: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(number, f"{number}th")


# ------------------------------------------------------------------ rules
class Rule:
    """One way of comparing (see the module docstring). `across` rules look at all calls at once."""

    name = ""
    across = False

    def __init__(self, tolerances: Tolerances) -> None:
        self.tolerances = tolerances

    def features(self, call: Call, outcome: Outcome) -> Any:
        return outcome.value

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        raise NotImplementedError

    def same(self, a: Any, b: Any) -> bool:
        """Are two features equal (a recorded mistake's and the student's)?"""
        return values.same(a, b, rtol=self.tolerances.rtol, atol=self.tolerances.atol)


def as_array(got: Any, what: str) -> "np.ndarray | Problem":
    """`got` as a numeric array, or the Problem (as grading.checks.expect.as_array words it)."""
    if got is None:
        return Problem(f"{what} is None.", hint="did you forget the `return` statement?")
    if isinstance(got, (np.ndarray, np.generic, int, float, bool, list)):
        try:
            array = np.asarray(got)
        except Exception:
            array = None
        if array is not None and array.dtype != object and (np.issubdtype(array.dtype, np.number)
                                                            or array.dtype == bool):
            return array
    return Problem(f"{what} should be a NumPy array, not {type(got).__name__}.", returned=got)


def as_number(got: Any, what: str) -> "float | Problem":
    """`got` as a Python float (Python and NumPy numbers, 1-element arrays), or the Problem."""
    if got is None:
        return Problem(f"{what} is None.", hint="did you forget the `return` statement?")
    if isinstance(got, (bool, np.bool_)):
        return Problem(f"{what} should be a number, not a bool.", returned=got)
    array = np.asarray(got) if isinstance(got, (int, float, np.generic, np.ndarray)) else None
    if array is None or array.size != 1 or not np.issubdtype(array.dtype, np.number):
        return Problem(f"{what} should be a single number.", returned=got)
    return float(array.reshape(()))


def as_items(got: Any, count: int, what: str) -> "list | Problem":
    """`got` as a list of `count` items (a tuple or list), or the Problem."""
    if got is None:
        return Problem(f"returned None instead of {count} values.", hint="did you forget the `return` statement?")
    if not isinstance(got, (tuple, list)) or len(got) != count:
        number = f"{len(got)} values" if isinstance(got, (tuple, list)) else type(got).__name__
        return Problem(f"should return {count} values, returned {number}.", returned=got)
    return list(got)


class Returns(Rule):
    """The value returned equals the reference's: same structure, shapes, values up to rounding."""

    name = "returns"

    def __init__(self, tolerances: Tolerances, *, rtol: float | None = None, atol: float | None = None,
                 exact: bool = False, integers: bool = False) -> None:
        super().__init__(tolerances)
        self.rtol, self.atol, self.exact, self.integers = rtol, atol, exact, integers

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        return self._compare(expected, got, "the result")

    def _compare(self, expected: Any, got: Any, what: str) -> "Problem | None":
        if isinstance(expected, (tuple, list)):
            items = as_items(got, len(expected), what)
            if isinstance(items, Problem):
                return items
            for number, (want, item) in enumerate(zip(expected, items), start=1):
                problem = self._compare(want, item, f"the {ordinal(number)} value returned")
                if problem:
                    return problem
            return None
        if isinstance(expected, np.ndarray):
            array = as_array(got, what)
            if isinstance(array, Problem):
                return array
            if array.shape != expected.shape:
                return Problem(f"{what} has shape {array.shape}, expected {expected.shape}.",
                               returned=array if array.size <= 40 else MISSING)
            if self.exact:
                if not np.array_equal(array, expected):
                    return Problem(f"{what} differs from the expected one.", returned=array, expected=expected)
            elif not np.all(np.isfinite(array)) and np.all(np.isfinite(expected)):
                return Problem(f"{what} contains NaN or inf.", returned=array,
                               hint="a value overflowed: look for np.exp of a large number or a division by zero")
            elif not self.tolerances.close(array, expected, rtol=self.rtol, atol=self.atol):
                return Problem(f"{what} has the wrong values.", returned=array, expected=expected)
            if self.integers and not np.issubdtype(array.dtype, np.integer):
                return Problem(f"{what} has dtype {array.dtype}; expected integers.", returned=array)
            return None
        if isinstance(expected, (int, float, np.number)) and not isinstance(expected, (bool, np.bool_)):
            number = as_number(got, what)
            if isinstance(number, Problem):
                return number
            rtol = self.rtol if self.rtol is not None else self.tolerances.rtol
            atol = self.atol if self.atol is not None else self.tolerances.atol
            want = float(expected)
            if (number != want) if self.exact else not abs(number - want) <= atol + rtol * abs(want):
                return Problem(f"{what} has the wrong value.", returned=number, expected=float(expected))
            return None
        if not values.same(got, expected, rtol=0.0, atol=0.0):
            return Problem(f"{what} is not the expected value.", returned=got, expected=expected)
        return None

    def same(self, a: Any, b: Any) -> bool:
        rtol = self.rtol if self.rtol is not None else self.tolerances.rtol
        atol = self.atol if self.atol is not None else self.tolerances.atol
        return values.same(a, b, rtol=0.0 if self.exact else rtol, atol=0.0 if self.exact else atol)


class KeepsInputs(Rule):
    """No argument is changed in place (the kit's `unchanged`); with rtol/atol, an array argument may
    be changed in the call and put back up to that tolerance (restored by arithmetic, x[i] -= h)."""

    name = "keeps_inputs"

    def __init__(self, tolerances: Tolerances, *, rtol: float | None = None, atol: float | None = None) -> None:
        super().__init__(tolerances)
        self.rtol, self.atol = rtol, atol

    def features(self, call: Call, outcome: Outcome) -> Any:
        if self.rtol is None and self.atol is None:
            return sorted(outcome.mutated)
        labels = {call.label(index): value for index, value in enumerate(call.args)}
        labels.update(call.kwargs)
        return sorted(label for label, after in outcome.mutated.items()
                      if not self._restored(labels.get(label, MISSING), after))

    def _restored(self, before: Any, after: Any) -> bool:
        if not isinstance(before, np.ndarray) or not isinstance(after, np.ndarray) or before.shape != after.shape:
            return False
        with np.errstate(all="ignore"):
            return bool(np.allclose(after, before, rtol=self.rtol or 0.0, atol=self.atol or 0.0))

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        extra = [name for name in got if name not in expected]
        if extra:
            name = extra[0]
            if self.rtol is not None or self.atol is not None:
                return Problem(f"it changed {name}: when it returns, {name} must be as it was.",
                               hint=f"put every entry of {name} you change back to its old value before "
                                    f"returning; the caller still needs the original.")
            return Problem(f"it changed its input {name} in place.",
                           hint=f"leave {name} as it is and compute a new array; the caller still needs the original.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return list(a) == list(b)


class Kink(Rule):
    """Like returns, but where the call's first argument is 0 either 0 or 1 is right (booleans too)."""

    name = "kink"

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        array = as_array(got, "the result")
        if isinstance(array, Problem):
            return array
        expected = np.asarray(expected).astype(float)
        if array.shape != expected.shape:
            return Problem(f"the result has shape {array.shape}, expected {expected.shape}.")
        value, inputs = array.astype(float), np.asarray(call.args[0])
        away = inputs != 0
        if not self.tolerances.close(value[away], expected[away]) or not np.isin(value[~away], (0.0, 1.0)).all():
            return Problem("the result has the wrong values.", returned=array, expected=expected)
        return None


class ColumnsSumToOne(Rule):
    """Probabilities: the reference's shape, every column summing to 1, every entry in [0, 1]."""

    name = "columns_sum_to_one"

    def __init__(self, tolerances: Tolerances, *, atol: float = 1e-6) -> None:
        super().__init__(tolerances)
        self.atol = atol

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        array = as_array(got, "the result")
        if isinstance(array, Problem):
            return array
        if array.shape != np.shape(expected):
            return Problem(f"the result has shape {array.shape}, expected {np.shape(expected)}.")
        sums = array.sum(axis=0)
        if not np.allclose(sums, 1.0, atol=self.atol):
            return Problem(f"the columns sum to {np.round(sums, 4)}, not 1.", returned=array)
        if (array < 0).any() or (array > 1).any():
            return Problem("some entries are outside [0, 1].", returned=array)
        return None


def _describe(value: Any) -> Any:
    """The shapes and dtypes of what was returned (the features of `shapes`)."""
    if isinstance(value, (tuple, list)):
        return {"items": [_describe(item) for item in value]}
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "dtype": value.dtype.str}
    if value is None:
        return None
    return {"type": type(value).__name__}


class Shapes(Rule):
    """The arrays returned have the reference's shapes (and, with floats=True, float dtypes)."""

    name = "shapes"

    def __init__(self, tolerances: Tolerances, *, floats: bool = False) -> None:
        super().__init__(tolerances)
        self.floats = floats

    def features(self, call: Call, outcome: Outcome) -> Any:
        return _describe(outcome.value)

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        return self._compare(expected, got, "the result")

    def _compare(self, expected: Any, got: Any, what: str) -> "Problem | None":
        if isinstance(expected, dict) and "items" in expected:
            count = len(expected["items"])
            if got is None:
                return Problem(f"returned None instead of {count} values.",
                               hint="did you forget the `return` statement?")
            if not isinstance(got, dict) or "items" not in got or len(got["items"]) != count:
                number = f"{len(got['items'])} values" if isinstance(got, dict) and "items" in got else \
                    (got or {}).get("type", "something else")
                return Problem(f"should return {count} values, returned {number}.")
            for number, (want, item) in enumerate(zip(expected["items"], got["items"]), start=1):
                problem = self._compare(want, item, f"the {ordinal(number)} value returned")
                if problem:
                    return problem
            return None
        if got is None:
            return Problem(f"{what} is None.", hint="did you forget the `return` statement?")
        if not isinstance(got, dict) or "shape" not in got:
            return Problem(f"{what} should be a NumPy array, not {(got or {}).get('type', 'that')}.")
        if got["shape"] != expected["shape"]:
            return Problem(f"{what} has shape {tuple(got['shape'])}, expected {tuple(expected['shape'])}.")
        if self.floats and np.dtype(got["dtype"]).kind != "f":
            return Problem(f"{what} has dtype {np.dtype(got['dtype'])}, expected floats.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return a == b


class Partition(Rule):
    """A list of integer index arrays of the reference's sizes holding 0..m-1 exactly once."""

    name = "partition"

    def features(self, call: Call, outcome: Outcome) -> Any:
        got = outcome.value
        if got is None:
            return {"kind": "None"}
        try:
            batches = [np.asarray(batch) for batch in got]
        except TypeError:
            return {"kind": type(got).__name__}
        if any(b.dtype == object or not (np.issubdtype(b.dtype, np.number) or b.dtype == bool) for b in batches):
            return {"kind": "not arrays"}
        everything = np.concatenate([b.ravel() for b in batches]) if batches else np.array([], dtype=int)
        return {"kind": "batches", "sizes": [int(b.size) for b in batches],
                "everything": sorted(int(v) for v in everything.tolist())
                if np.issubdtype(everything.dtype, np.integer) else None}

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        if got["kind"] == "None":
            return Problem("returned None.", hint="return the list of batches")
        if got["kind"] != "batches":
            return Problem("should return a list of index arrays.")
        if got["sizes"] != expected["sizes"]:
            return Problem(f"the batch sizes are {got['sizes']}, expected {expected['sizes']}.")
        if got["everything"] != expected["everything"]:
            return Problem("the batches do not hold every index 0..m-1 exactly once.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return a == b


def _npz(data: "bytes | None") -> "dict | None":
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception:
        return None


class SavesNpz(Rule):
    """The call wrote an .npz at its path argument holding the array arguments by name, and returned the path."""

    name = "saves_npz"

    def features(self, call: Call, outcome: Outcome) -> Any:
        files = outcome.files or {}
        target = call.paths[0] if call.paths else ""
        path = next((v for v in call.args if isinstance(v, PurePath)), None)
        returned = outcome.value
        returned_ok = path is not None and isinstance(returned, (str, PurePath)) and \
            PurePath(returned).as_posix() == path.as_posix()
        given = {call.label(i): a for i, a in enumerate(call.args) if isinstance(a, np.ndarray)}
        written = files.get(target) if target in files else None
        stored = _npz(written) if written is not None else None
        return {"file": target, "written": written is not None, "returned_path": returned_ok,
                "npz": None if stored is None else sorted(stored),
                "equal": None if stored is None else sorted(n for n, a in given.items()
                                                             if n in stored and np.array_equal(stored[n], a)),
                "given": sorted(given)}

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        if not got["written"]:
            return Problem(f"no file was written at {got['file']}.")
        if not got["returned_path"]:
            return Problem("it should return the path it wrote.")
        if got["npz"] is None:
            return Problem("the file is not a NumPy .npz archive.")
        for name in got["given"]:
            if name not in got["npz"]:
                return Problem(f"the file has no array named {name} (it has {got['npz']}).")
            if name not in got["equal"]:
                return Problem(f"the stored {name} differs from the one given.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return a == b


def _is_figure(value: Any) -> bool:
    return any(k.__name__ == "Figure" and k.__module__.startswith("matplotlib") for k in type(value).__mro__)


class FigureRule(Rule):
    """A matplotlib Figure with a curve for every list of the history argument; no file written."""

    name = "figure"

    def features(self, call: Call, outcome: Outcome) -> Any:
        figure = outcome.value
        history = next((a for a in call.args if isinstance(a, dict)), {})
        if not _is_figure(figure):
            return {"figure": False, "type": type(figure).__name__}
        lines = [np.asarray(line.get_ydata(), dtype=float) for axes in figure.axes for line in axes.get_lines()]
        curves = {str(key): any(self.tolerances.close(line, np.asarray(v, dtype=float)) for line in lines)
                  for key, v in history.items()}
        return {"figure": True, "curves": curves, "written": sorted(outcome.files or {})}

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        if not got["figure"]:
            return Problem(f"it should return a matplotlib Figure, not {got['type']}.")
        for key, shown in got["curves"].items():
            if not shown:
                return Problem(f'no curve of the figure shows history["{key}"].')
        if got["written"] != expected["written"]:
            return Problem(f"it wrote {got['written']} (in the current folder), though no path was given.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return a == b


class Invariant(Rule):
    """Every call returns what the check's first call returned (the student's own, e.g. softmax(Z + c))."""

    name = "invariant"
    across = True

    def features(self, calls: list, outcomes: list) -> Any:
        return [outcome.value for outcome in outcomes]

    def problem(self, expected: Any, got: Any, calls: list) -> "Problem | None":
        first = as_array(got[0], "the result")
        if isinstance(first, Problem):
            return first
        for value in got[1:]:
            array = as_array(value, "the result")
            if isinstance(array, Problem):
                return array
            if array.shape != first.shape or not self.tolerances.close(array, first):
                return Problem("this call should return what the check's first call returned.",
                               returned=array, expected=first)
        return None


class Seeded(Rule):
    """Calls with equal arguments return equal values; calls with other arguments other values
    (in at least one of the items `differ`, default all)."""

    name = "seeded"
    across = True

    def __init__(self, tolerances: Tolerances, *, differ: "list | None" = None) -> None:
        super().__init__(tolerances)
        self.differ = differ

    def features(self, calls: list, outcomes: list) -> Any:
        kinds = [_describe(o.value) for o in outcomes]
        pairs = []
        for i in range(len(calls)):
            for j in range(i + 1, len(calls)):
                a, b = outcomes[i].value, outcomes[j].value
                if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
                    equal = [bool(np.array_equal(np.asarray(x), np.asarray(y))) for x, y in zip(a, b)]
                else:
                    equal = [bool(values.same(a, b, rtol=0.0, atol=0.0))]
                pairs.append([i, j, calls[i].tree == calls[j].tree, equal])
        return {"kinds": kinds, "pairs": pairs}

    def problem(self, expected: Any, got: Any, calls: list) -> "Problem | None":
        for want, kind in zip(expected["kinds"], got["kinds"]):
            problem = _structure_problem(want, kind)
            if problem:
                return problem
        for i, j, same_arguments, equal in got["pairs"]:
            if same_arguments and not all(equal):
                item = ordinal(equal.index(False) + 1)
                return Problem(f"two calls with the same arguments gave different values (the {item} value "
                               f"returned differs).")
            if not same_arguments:
                watched = [equal[k] for k in (self.differ if self.differ is not None else range(len(equal)))
                           if k < len(equal)]
                if watched and all(watched):
                    return Problem("two calls with different arguments gave the same values.")
        return None

    def same(self, a: Any, b: Any) -> bool:
        return a == b


class SmallNumbers(Rule):
    """The result is a dict with the reference's keys, each a number from 0 to below `below`
    (stage 06's check_backprop: the worst relative error of every parameter, for a right backprop)."""

    name = "small_numbers"

    def __init__(self, tolerances: Tolerances, *, below: float = 1e-6) -> None:
        super().__init__(tolerances)
        self.below = below

    def features(self, call: Call, outcome: Outcome) -> Any:
        value = outcome.value
        if not isinstance(value, dict):
            return {"type": type(value).__name__}
        large = {str(key): number for key, number in value.items() if not _small(number, self.below)}
        # the large numbers themselves too: the kit's message shows them, and which mistake they
        # come from depends on them (an error of 1 everywhere, of 1/3 everywhere...)
        return {"keys": sorted(str(key) for key in value), "large": sorted(large),
                "numbers": [[key, _number(large[key])] for key in sorted(large)]}

    def problem(self, expected: Any, got: Any, call: Call) -> "Problem | None":
        if "keys" not in got:
            return Problem(f"it should return a dict of {len(expected['keys'])} numbers, not {got['type']}.")
        if got["keys"] != expected["keys"]:
            return Problem(f"the keys are {got['keys']}, expected {expected['keys']}.")
        if got["large"]:
            return Problem(f"it reports errors of {self.below:g} or more for {', '.join(got['large'])} "
                           f"(a right backprop gives well below that here).")
        return None

    def same(self, a: Any, b: Any) -> bool:
        if {k: v for k, v in a.items() if k != "numbers"} != {k: v for k, v in b.items() if k != "numbers"}:
            return False
        mine, theirs = a.get("numbers", []), b.get("numbers", [])
        return len(mine) == len(theirs) and all(
            x == y if x is None or y is None else bool(np.isclose(x, y, rtol=1e-3, atol=0.0, equal_nan=True))
            for (_, x), (_, y) in zip(mine, theirs))


def _number(value: Any) -> "float | None":
    """`value` as a Python float (a number or a 1-element array), else None."""
    try:
        return float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None


def _small(number: Any, below: float) -> bool:
    value = _number(number)
    return value is not None and 0 <= value < below


def _structure_problem(expected: Any, got: Any) -> "Problem | None":
    """Is `got` (features of _describe) made like `expected`: the same number of arrays?"""
    if isinstance(expected, dict) and "items" in expected:
        count = len(expected["items"])
        if got is None:
            return Problem(f"returned None instead of {count} values.", hint="did you forget the `return` statement?")
        if not isinstance(got, dict) or "items" not in got or len(got["items"]) != count:
            number = f"{len(got['items'])} values" if isinstance(got, dict) and "items" in got else \
                (got or {}).get("type", "something else")
            return Problem(f"should return {count} values, returned {number}.")
        for number, item in enumerate(got["items"], start=1):
            if not isinstance(item, dict) or "shape" not in item:
                return Problem(f"the {ordinal(number)} value returned should be a NumPy array.")
    return None


RULES: dict[str, type] = {rule.name: rule for rule in (Returns, KeepsInputs, Kink, ColumnsSumToOne, Shapes,
                                                       Partition, SavesNpz, FigureRule, Invariant, Seeded,
                                                       SmallNumbers)}


# ------------------------------------------------------------------ the replay= text
def parse(spec: str) -> list[dict]:
    """The rules of a `replay=` text, e.g. "keeps_inputs + returns(rtol=1e-4)" ->
    [{"rule": "keeps_inputs"}, {"rule": "returns", "rtol": 0.0001}].

    Raises:
        ValueError: unknown rule, positional or unknown option, a value that is not a literal.
    """
    try:
        tree = ast.parse(spec.strip(), mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"replay={spec!r} is not `rule + rule(option=value)`: {error.msg}") from None
    terms = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, ast.Name):
            terms.append((node.id, {}))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            try:
                options = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords}
            except ValueError:
                raise ValueError(f"replay={spec!r}: options must be plain values") from None
            terms.append((node.func.id, options))
        else:
            raise ValueError(f"replay={spec!r} is not `rule + rule(option=value)`")

    walk(tree)
    rules = []
    for name, options in terms:
        if name not in RULES:
            raise ValueError(f"replay={spec!r}: no rule {name!r} (the rules: {', '.join(RULES)})")
        make(dict(options, rule=name), Tolerances())  # unknown options fail here
        rules.append(dict(options, rule=name))
    return rules


def make(description: dict, tolerances: Tolerances) -> Rule:
    """The Rule a parsed description stands for."""
    options = {key: value for key, value in description.items() if key != "rule"}
    try:
        return RULES[description["rule"]](tolerances, **options)
    except TypeError as error:
        raise ValueError(f"rule {description['rule']!r}: {error}") from None
