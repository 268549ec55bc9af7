"""The student edition's `check`: a function's visible checks, run from recorded data (standalone).

    from mnist_kit_student import check
    check("relu", globals())      # in a notebook's test cell

This module is copied into grader/student/mnist_kit_student/ by `python -m grading.build`
and runs in the student's Python with NumPy only: it holds no solution and no check.
What it replays was recorded by the kit at build time (grading/student_edition/recorder.py)
from the visible checks, one data file per function (expectations/<function>.json):

  * each check's calls: the arguments, as data, and how the kit shows the call;
  * what the reference's outcome of each call looks like under the check's rules
    (rules.py: the values returned, the shapes, which arguments changed...);
  * the recognised mistakes of the kit's catalogue (and a function that returns
    nothing): the same features of their outcomes, and the kit's own message for
    each, in parts;
  * the stage's other functions' answers to the calls the reference made of them
    (while a function is checked, those calls are answered from the data, as the
    sealed grader answers them with the reference; other calls reach the student's own).

For each check, in order, the student's function is called with the recorded
arguments (in a fresh folder when the check uses files) and each rule compares its
outcome with the reference's. At the first difference the message is the kit's
message of the recorded mistake whose features the student's outcome has, with the
student's own values where the kit's message shows what was returned; otherwise a
message in the kit's layout from the rule. An exception of the student's code is
reported with the line that raised it and the sealed grader's hint for it
(raised_hints.py); the stub's NotImplementedError as the one line "... is not written yet".
"""

import contextlib
import functools
import importlib
import io
import json
import linecache
import os
import re
import sys
import tempfile
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import rules, values
from .raised_hints import explain_raised
from .shape_errors import array_shapes_on_line, format_shapes
from .show import show

#: where the recorded data lives (beside this file; the kit points it at grader/student's copy)
DATA_DIR = Path(__file__).resolve().parent / "expectations"
_HERE = os.path.dirname(os.path.abspath(__file__))
_STUB_MESSAGE = re.compile(r"Stage (?P<number>\d\d) \([^)]*\): implement (?P<function>\w+)\(\)")
#: the text in recorded call texts that stands for the check's folder
FOLDER = "<folder>"


class GradingError(AssertionError):
    """A visible check failed; str(error) is the whole message (the kit's layout)."""

    def __init__(self, message: str, *, function: str = "", check: "str | None" = None,
                 mistake: "str | None" = None) -> None:
        super().__init__(message)
        self.function, self.check, self.mistake = function, check, mistake

    def __str__(self) -> str:
        return str(self.args[0])

    def _render_traceback_(self) -> list:
        """What a Jupyter notebook shows for this error: the message, no traceback of the checks."""
        return f"{type(self).__name__}: {self}".splitlines()


class NotWrittenYet(GradingError):
    """The function (or one it needs) still raises the stub's NotImplementedError."""


class LearnerFileError(GradingError):
    """The function is not defined in the notebook (or is not a function)."""


@dataclass
class Failure:
    """Where the replay of a check stopped: a rule's problem at a call (or across the calls)."""

    rule: int
    call: "int | None"
    problem: rules.Problem


# ------------------------------------------------------------------ the data
def load(function: str, data_dir: "Path | None" = None) -> dict:
    """The recorded data of `function` (expectations/<function>.json)."""
    path = Path(data_dir or DATA_DIR) / f"{function}.json"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", function) or not path.is_file():
        known = sorted(p.stem for p in Path(data_dir or DATA_DIR).glob("*.json"))
        raise KeyError(f"{function!r} is not one of the course's functions ({', '.join(known)})")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["_arrays"] = values.Arrays(data.get("arrays"))
    return data


# ------------------------------------------------------------------ check()
def check(function: str, namespace: "dict | types.ModuleType", *, data_dir: "Path | None" = None,
          quiet: bool = False) -> list:
    """Run the visible checks of `function` on the one defined in `namespace` (a notebook's globals()).

    Prints one line when they all pass and returns their names; raises GradingError
    (an AssertionError; NotWrittenYet for a stub) with the message at the first failure.
    """
    __tracebackhide__ = True
    if isinstance(namespace, types.ModuleType):
        namespace = vars(namespace)
    data = load(function, data_dir)
    try:
        passed = _check(function, namespace, data)
    except GradingError as failure:
        raise failure.with_traceback(None) from None
    if not quiet:
        count = len(passed)
        print(f"{data['label']}, {function}(): {'the' if count > 1 else 'its'} {count} visible "
              f"check{'s' if count > 1 else ''} passed (grading also runs hidden checks).")
    return passed


def _check(function: str, namespace: dict, data: dict) -> list:
    label = data["label"]
    if function not in namespace:
        raise LearnerFileError(f"{label}: there is no function {function}() - define it with `def {function}(...)` "
                               f"(keep the name: the tests call it by that name).", function=function)
    learner = namespace[function]
    if not callable(learner):
        raise LearnerFileError(f"{label}: {function} is a {type(learner).__name__}, not a function (did "
                               f"something overwrite it?).", function=function)
    tolerances = rules.Tolerances(**data["tolerances"])
    invoke = learner
    if data.get("adapter"):  # a function that takes a callable: called as the grader calls it (Stage.adapters)
        module, _, name = data["adapter"].partition(":")
        invoke = functools.partial(getattr(importlib.import_module(module), name), learner)
    passed = []
    for recorded in data["checks"]:
        Replay(data, recorded, learner, namespace, tolerances, invoke=invoke).run()
        passed.append(recorded["name"])
    return passed


# ------------------------------------------------------------------ one check
class Replay:
    """One visible check made again on the student's function."""

    def __init__(self, data: dict, recorded: dict, learner: Any, namespace: dict,
                 tolerances: rules.Tolerances, *, invoke: Any = None) -> None:
        self.data, self.recorded, self.learner, self.namespace = data, recorded, learner, namespace
        self.invoke = invoke or learner  # how a call reaches it (through the stage's adapter, if any)
        self.function = data["function"]
        self.arrays = data["_arrays"]
        self.rules = [rules.make(description, tolerances) for description in recorded["rules"]]
        self.calls: list = []
        self.outcomes: list = []
        self.features: list = [[] if not rule.across else None for rule in self.rules]

    def run(self) -> None:
        __tracebackhide__ = True
        with tempfile.TemporaryDirectory(prefix="mnist-kit-check-") if self.recorded.get("folder") else \
                _no_folder() as folder:
            self.folder = Path(folder) if folder else None
            expected = [self.decode(tree) for tree in self.recorded["expected"]]
            for index, recorded_call in enumerate(self.recorded["calls"]):
                call, outcome = self.call(recorded_call)
                self.calls.append(call)
                self.outcomes.append(outcome)
                if outcome.raised is not None:
                    raise self.raised(call, outcome)
                for number, rule in enumerate(self.rules):
                    if not rule.across:
                        self.features[number].append(rule.features(call, outcome))
                for number, rule in enumerate(self.rules):
                    if not rule.across:
                        problem = rule.problem(expected[number][index], self.features[number][index], call)
                        if problem:
                            raise self.failed(Failure(number, index, problem))
            for number, rule in enumerate(self.rules):
                if rule.across:
                    self.features[number] = rule.features(self.calls, self.outcomes)
                    problem = rule.problem(expected[number], self.features[number], self.calls)
                    if problem:
                        raise self.failed(Failure(number, None, problem))

    def decode(self, tree: Any) -> Any:
        return values.decode(tree, self.arrays, scratch=self.folder)

    # -------------------------------------------------------------- a call
    def call(self, recorded: dict) -> tuple:
        """Make one recorded call on the student's function; (Call, Outcome)."""
        for name, tree in (recorded.get("files") or {}).items():
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.decode(tree))
        tree = [recorded["args"], recorded["kwargs"]]
        call = rules.Call(self.decode(recorded["args"]), self.decode(recorded["kwargs"]),
                          shown=self.shown(recorded["shown"]), parameters=tuple(self.data["parameters"]),
                          tree=tree, paths=values.scratch_paths(recorded["args"]))
        args, kwargs = self.decode(recorded["args"]), self.decode(recorded["kwargs"])
        before = ([values.snapshot(a) for a in args], {k: values.snapshot(v) for k, v in kwargs.items()})
        outcome = rules.Outcome()
        home = os.getcwd()
        printed = io.StringIO()  # what the function prints is not shown (as when it is graded)
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"), \
                Helpers(self), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            warnings.simplefilter("always")
            try:
                if recorded.get("cwd") and self.folder is not None:
                    os.chdir(self.folder)
                outcome.value = _materialise(self.invoke(*args, **kwargs))
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # the student's code raised: say what and where
                outcome.raised = self.facts(error)
            finally:
                os.chdir(home)
        outcome.warnings = list(dict.fromkeys(str(w.message) for w in caught
                                              if issubclass(w.category, RuntimeWarning)))[:10]
        for index, value in enumerate(args):
            if values.changed(before[0][index], value):
                outcome.mutated[call.label(index)] = value
        for key, value in kwargs.items():
            if values.changed(before[1][key], value):
                outcome.mutated[key] = value
        if self.folder is not None:
            outcome.files = folder_files(self.folder)
        return call, outcome

    def shown(self, text: str) -> str:
        return text.replace(FOLDER, str(self.folder)) if self.folder is not None else text

    # -------------------------------------------------------------- failing
    def failed(self, failure: Failure) -> GradingError:
        """The message for the first difference: a recognised mistake's, else the rule's."""
        mistake = self.recognise(failure)
        if mistake is not None:
            message = mistake["message"]
            return self.error(message["problem"], called=self.shown(message["called"]),
                              returned=self.part(message.get("returned")), expected=self.part(message.get("expected")),
                              hint=message.get("hint"), mistake=message.get("mistake"))
        problem = failure.problem
        call = self.calls[failure.call if failure.call is not None else -1]
        returned = show(problem.returned, indent=12) if problem.returned is not rules.MISSING else None
        expected = show(problem.expected, indent=12) if problem.expected is not rules.MISSING else None
        return self.error(problem.text, called=call.shown, returned=returned, expected=expected, hint=problem.hint)

    def recognise(self, failure: Failure) -> "dict | None":
        """The recorded mistake whose outcome has the student's features up to this failure, if any.

        A mistake that failed a rule across the calls may have made fewer calls than the
        reference (the kit's check stopped at the call that showed it, e.g. the second of
        init_params' three): the student's features are then taken over as many calls.
        """
        for mistake in self.recorded.get("mistakes", []):
            if mistake["failed"] != [failure.rule, failure.call]:
                continue
            count = mistake.get("calls", len(self.calls))
            if failure.call is None and not 0 < count <= len(self.calls):
                continue
            features = [self.decode(tree) for tree in mistake["features"]]
            if all(self._same(number, features[number], failure, count) for number in range(len(self.rules))):
                return mistake
        return None

    def _same(self, number: int, recorded: Any, failure: Failure, count: int) -> bool:
        rule, mine = self.rules[number], self.features[number]
        if rule.across:
            if mine is None:
                return True
            if failure.call is None and count < len(self.calls):  # the mistake's calls only
                mine = rule.features(self.calls[:count], self.outcomes[:count])
            return rule.same(recorded, mine)
        last = failure.call if failure.call is not None else count - 1
        if len(recorded) <= last or len(mine) <= last:
            return False
        return all(rule.same(recorded[index], mine[index]) for index in range(last + 1))

    def part(self, recorded: "dict | None") -> "str | None":
        """A value of a recorded message: the student's own where the kit showed what came back."""
        if not recorded:
            return None
        at = recorded.get("at")
        if at is not None:
            try:
                value = _convert(_value_at(self.outcomes[at[0]], at[1]), at[2])
                return show(value, indent=12)
            except Exception:
                pass
        return recorded.get("shown")

    def error(self, problem: str, *, called: str, returned: "str | None" = None, expected: "str | None" = None,
              hint: "str | None" = None, mistake: "str | None" = None) -> GradingError:
        lines = [f"{self.data['label']}, {self.function}(): {problem}", f"  called:   {called}"]
        if returned is not None:
            lines.append(f"  returned: {returned}")
        if expected is not None:
            lines.append(f"  expected: {expected}")
        if mistake or hint:
            lines.append(f"  hint:     {mistake or hint}")
        warned = self.outcomes[-1].warnings if self.outcomes else []
        if warned and not problem.startswith("NumPy warned"):
            lines.append(f"  note:     NumPy warned during that call: {warned[0]}")
        lines.append(f"  check:    {self.recorded['name']} - {self.recorded['description']}")
        return GradingError("\n".join(lines), function=self.function, check=self.recorded["name"],
                            mistake=mistake)

    # -------------------------------------------------------------- raising
    def facts(self, error: BaseException) -> dict:
        """What the student's exception says, and the line of their code that raised it."""
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if is_learner_file(frame.filename)]
        where = None
        if frames:
            frame = frames[-1]
            where = {"file": frame.filename, "line": frame.lineno, "function": frame.name,
                     "code": (frame.line or linecache.getline(frame.filename, frame.lineno) or "").strip()}
        try:
            shapes = {str(operand): tuple(int(n) for n in shape)
                      for operand, shape in array_shapes_on_line(error, is_learner_file).items()}
        except Exception:
            shapes = {}
        try:
            message = str(error)
        except Exception:
            message = "(its message could not be shown)"
        return {"type": type(error).__name__, "message": message[:2000], "where": where,
                "innermost": frames[-1].name if frames else None, "shapes": shapes,
                "not_implemented": isinstance(error, NotImplementedError)}

    def raised(self, call: rules.Call, outcome: rules.Outcome) -> GradingError:
        facts, label, name = outcome.raised, self.data["label"], self.function
        if facts["not_implemented"]:
            match = _STUB_MESSAGE.search(facts["message"])
            missing = match["function"] if match else facts.get("innermost") or name
            if missing == name or missing not in self.namespace:
                return NotWrittenYet(f"{label}: {name}() is not written yet - replace its "
                                     f"`raise NotImplementedError(...)` in its cell with your code.", function=name)
            return NotWrittenYet(f"{label}: {name}() calls {missing}(), which is not written yet - write "
                                 f"{missing}() first.", function=name)
        kind, message = facts["type"], facts["message"]
        lines = [f"{label}, {name}(): raised {kind}: {message}", f"  called:   {call.shown}"]
        where, line = facts.get("where"), None
        if where:
            code = f": {where['code']}" if where.get("code") else ""
            line = f"{self.cell_of(where)}, line {where['line']}, in {where['function']}(){code}"
            lines.append(f"  raised at: {line}")
        shapes = facts.get("shapes") or {}
        explanation = explain_raised(kind, message, line, shapes)  # the sealed grader's own hint
        if explanation.mistake or explanation.hint:
            lines.append(f"  hint:     {for_a_notebook(explanation.mistake or explanation.hint)}")
        if explanation.show_shapes and format_shapes(shapes):
            lines.append(f"  shapes:   on that line, {format_shapes(shapes)}")
        if outcome.warnings:
            lines.append(f"  note:     NumPy warned during that call: {outcome.warnings[0]}")
        lines.append(f"  check:    {self.recorded['name']} - {self.recorded['description']}")
        return GradingError("\n".join(lines), function=name, check=self.recorded["name"],
                            mistake=explanation.mistake)

    def cell_of(self, where: dict) -> str:
        """"its cell" for the checked function's own cell, else the cell of the function that raised."""
        code = getattr(self.learner, "__code__", None)
        if code is not None and where["file"] == code.co_filename:
            return "its cell"
        other = self.namespace.get(where["function"])
        if getattr(getattr(other, "__code__", None), "co_filename", None) == where["file"]:
            return f"the cell of {where['function']}()"
        return "another cell" if where["file"].startswith("<") or "ipykernel" in where["file"] else where["file"]


class _no_folder:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# ------------------------------------------------------------------ the stage's other functions
class Helpers:
    """While a call runs, the stage's other functions answer from the recorded data where they can.

    The sealed grader answers them with the reference, so one wrong function costs only
    its own points; here each call the reference made of them is answered as recorded
    (arguments equal up to rounding, generator states equal), and any other call reaches
    the student's own function.
    """

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        data = replay.data
        self.recorded: dict = {}
        for entry in data.get("helpers", []):
            self.recorded.setdefault(entry["function"], []).append(entry)
        self.scope = getattr(replay.learner, "__globals__", replay.namespace)
        self.saved: dict = {}

    def __enter__(self) -> "Helpers":
        for name in self.recorded:
            if name == self.replay.function:
                continue
            self.saved[name] = self.scope.get(name, _MISSING)
            self.scope[name] = self._answering(name, self.saved[name])
        return self

    def __exit__(self, *exc: object) -> None:
        for name, previous in self.saved.items():
            if previous is _MISSING:
                self.scope.pop(name, None)
            else:
                self.scope[name] = previous

    def _answering(self, name: str, own: Any) -> Any:
        entries, replay = self.recorded[name], self.replay

        def answer(*args: Any, **kwargs: Any) -> Any:
            for entry in entries:
                wanted_args, wanted_kwargs = replay.decode(entry["args"]), replay.decode(entry["kwargs"])
                if values.same(list(args), list(wanted_args), rtol=1e-7, atol=1e-10) and \
                        values.same(kwargs, wanted_kwargs, rtol=1e-7, atol=1e-10):
                    for key, tree in entry.get("mutated", []):
                        target = args[key] if isinstance(key, int) and key < len(args) else kwargs.get(key)
                        values.restore(target, replay.decode(tree))
                    return replay.decode(entry["returned"])
            if own is _MISSING:
                raise NameError(f"name {name!r} is not defined")
            return own(*args, **kwargs)

        answer.__name__ = answer.__qualname__ = name
        answer.__wrapped__ = own if own is not _MISSING else None
        return answer


_MISSING = object()


# ------------------------------------------------------------------ helpers
def for_a_notebook(text: str) -> str:
    """A kit's hint worded for a notebook, as the sealed grader words it (grading/frontends/notebooks.py)."""
    return (text.replace("the README's shape table", "the shapes at the top of this notebook")
                .replace("the equations in the README", "the equations at the top of this notebook"))


def _materialise(value: Any) -> Any:
    """Generators and ranges become lists (a list of batches written with `yield` is still a list)."""
    if isinstance(value, (types.GeneratorType, range, map, filter, zip)):
        return list(value)
    return value


def folder_files(folder: Path) -> dict:
    """Every file (its bytes) and folder (None) below `folder`, by relative path."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            found[relative] = path.read_bytes() if path.is_file() else None
    return dict(sorted(found.items()))


def _library_roots() -> tuple:
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, _HERE)}
    roots.update(os.path.realpath(p) for p in sys.path if p and "site-packages" in p)
    for name in ("kit_helpers", "numpy"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            roots.add(os.path.dirname(os.path.realpath(module.__file__)))
    return tuple(sorted(roots))


def is_learner_file(filename: str) -> bool:
    """True for a file holding the student's code (a notebook cell's file included)."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    resolved = os.path.realpath(filename)
    return not any(resolved == root or resolved.startswith(root + os.sep) for root in _library_roots())


def _value_at(outcome: rules.Outcome, path: list) -> Any:
    value: Any = outcome
    for step in path:
        if step == "value":
            value = value.value
        elif isinstance(step, list) and step[0] == "mutated":
            value = value.mutated[step[1]]
        else:
            value = value[step]
    return value


def _convert(value: Any, how: "str | list | None") -> Any:
    if how == "float":
        return float(np.asarray(value).reshape(()))
    if how == "array":
        return np.asarray(value)
    if how == "arrays":
        return [np.asarray(item) for item in value]
    if isinstance(how, list) and how[:1] == ["floats"]:  # a dict of numbers, as floats, in the kit's order
        return {key: float(np.asarray(value[key]).reshape(())) for key in how[1]}
    return value


__all__ = ["GradingError", "LearnerFileError", "NotWrittenYet", "check"]
