"""Recording the visible checks for the student edition (the kit's side; `python -m grading.build` runs it).

For every stage, the visible checks of each function are run, in the sealed grader,
on a notebook made of the stage's locked setup cell and one learner file of the kit's
catalogue (`notebook_cells`):

    the reference              (solutions/, solved)   -> the calls, and what their outcomes look like
    each tests/mistakes/ file  (one bug each)          -> the same features of its outcomes, the message
    a function returning None  (the commonest slip)    -> likewise
    each tests/alternatives/ file                      -> the stage's other functions' answers it asked for

A RecordingFunction is the LearnerFunction the checks are given: it passes every call
on to the worker as usual and keeps a copy of the arguments, what came back, what the
check wrote into its folder, the answers given for the stage's other functions, and the
parts of the message when the check fails (problem, returned, expected, hint).
`function_data` turns that into the data the runner replays (runner.py, rules.py).
"""

import ast
import copy
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import expect
from ..checks.registry import Check, checks_for, find_function
from ..checks.show import show
from ..errors import GradingError, LearnerFileError
from ..running.learner_function import LearnerFunction
from ..running.program import LearnerProgram
from ..sandbox import Sandbox, Scratch
from ..stages import REPO_ROOT, STAGE_BY_MODULE, Stage, get_stage
from . import answers, rules, values
from .runner import FOLDER

TESTS_DIR = REPO_ROOT / "tests"
FORMAT = 1
#: the name of the synthetic learner whose every function returns None
RETURNS_NOTHING = "(returns None)"


# ------------------------------------------------------------------ the catalogue
@dataclass(frozen=True)
class Entry:
    """One learner program of the catalogue: `kind` is reference, mistake, alternative, nothing or stubs."""

    name: str
    kind: str
    text: str


def catalogue(stage: "Stage | str", kinds: tuple = ("reference", "mistake", "nothing", "alternative")) -> list[Entry]:
    """The learner files the student edition is recorded from (and tested against), in a fixed order."""
    from ..build.stubs import render_learner_file

    stage = get_stage(stage)
    source = stage.reference_file.read_text(encoding="utf-8")
    entries = []
    if "reference" in kinds:
        entries.append(Entry("reference", "reference", render_learner_file(source, stage, solved=True)))
    if "stubs" in kinds:
        entries.append(Entry("stubs", "stubs", render_learner_file(source, stage)))
    if "mistake" in kinds:
        entries += [Entry(p.stem, "mistake", p.read_text(encoding="utf-8"))
                    for p in sorted((TESTS_DIR / "mistakes" / stage.folder).glob("*.py"))]
    if "nothing" in kinds:
        entries.append(Entry(RETURNS_NOTHING, "nothing", "".join(
            f"def {name}(*args, **kwargs):\n    return None\n\n\n" for name in stage.functions)))
    if "alternative" in kinds:
        entries += [Entry(p.stem, "alternative", p.read_text(encoding="utf-8"))
                    for p in sorted((TESTS_DIR / "alternatives" / stage.folder).glob("*.py"))]
    return entries


def setup_cell(stage: "Stage | str") -> str:
    """The source of the stage's locked setup cell, as the source notebook holds it."""
    from ..build.notebooks import build_notebook

    cell = next(c for c in build_notebook(stage)["cells"] if c["id"] == "setup")
    return "".join(cell["source"])


def notebook_cells(stage: "Stage | str", text: str) -> list[dict]:
    """A learner file as a notebook's code cells: the setup cell, the file's other code, one cell per function.

    The file's imports of the stage modules are left out (in a notebook the setup cell
    defines those functions); each function goes in its own cell, `<function>_code`.
    """
    stage = get_stage(stage)
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    rest, functions = [], []
    for position, node in enumerate(tree.body):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        segment = "".join(lines[start:node.end_lineno])
        if position == 0 and isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # the module docstring
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in STAGE_BY_MODULE:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append((node.name, segment))
        else:
            rest.append(segment)
    cells = [{"id": "setup", "source": setup_cell(stage)}]
    if rest:
        cells.append({"id": "learner_setup", "source": "\n".join(rest)})
    for name, source in functions:
        cells.append({"id": f"{name}_code" if name in stage.functions else f"{name}_helper", "source": source})
    for number, cell in enumerate(cells, start=1):
        cell["number"] = number
    return cells


# ------------------------------------------------------------------ recording
@dataclass
class RecordedCall:
    """One call a check made: the arguments before it (copies), how it was shown, and its outcome."""

    args: tuple
    kwargs: dict
    shown: str
    cwd: bool
    files: dict
    folder: "str | None"
    outcome: "rules.Outcome | None" = None


@dataclass
class CheckRecording:
    """One visible check run on one learner program."""

    check: Check
    calls: list
    helpers: list
    failure: "dict | None"
    error: "GradingError | None"

    @property
    def raised(self) -> bool:
        """Did it fail on a call that raised (or timed out), rather than on what came back?"""
        return self.error is not None and (self.failure is None or not self.calls or
                                           self.calls[-1].outcome is None or self.calls[-1].outcome.raised is not None)


class RecordingScratch:
    """A check's folder, noting the files the check writes into it before a call."""

    def __init__(self, folder: Scratch, function: "RecordingFunction") -> None:
        self._folder, self._function = folder, function
        self.path = folder.path

    def write_bytes(self, relative: str, data: bytes) -> None:
        self._function.pending[relative] = bytes(data)
        self._folder.write_bytes(relative, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._folder, name)


class RecordingFunction(LearnerFunction):
    """A LearnerFunction that keeps what the check did with it (see the module docstring)."""

    def __init__(self, stage: Stage, name: str, program: LearnerProgram, worker: Any) -> None:
        super().__init__(stage, name, program, worker)
        self.calls: list = []
        self.helpers: list = []
        self.failure: "dict | None" = None
        self.folder: "Scratch | None" = None
        self.pending: dict = {}
        answer = self._answer

        def recording_answer(helper: str, args: tuple, kwargs: dict) -> Any:
            entry = {"function": helper, "args": copy.deepcopy(args), "kwargs": copy.deepcopy(kwargs)}
            before = ([values.snapshot(a) for a in args], {k: values.snapshot(v) for k, v in kwargs.items()})
            value = answer(helper, args, kwargs)
            entry["returned"] = copy.deepcopy(value)
            entry["mutated"] = [[i, copy.deepcopy(a)] for i, a in enumerate(args) if values.changed(before[0][i], a)]
            entry["mutated"] += [[k, copy.deepcopy(v)] for k, v in kwargs.items() if values.changed(before[1][k], v)]
            self.helpers.append(entry)
            return value

        self._answer = recording_answer

    def scratch(self) -> RecordingScratch:
        self.folder = super().scratch()
        return RecordingScratch(self.folder, self)

    def _run(self, name: str, args: tuple, kwargs: dict, *, callbacks: list, kept: list = (),
             cwd: "str | None" = None) -> Any:
        __tracebackhide__ = True
        if name != self.name:  # call_other: the program's own other function, not recorded
            return super()._run(name, args, kwargs, callbacks=callbacks, kept=kept, cwd=cwd)
        call = RecordedCall(copy.deepcopy(args), copy.deepcopy(kwargs), self.last_call, cwd is not None,
                            self.pending, str(self.folder.path) if self.folder is not None else None)
        self.pending = {}
        self.calls.append(call)
        before = ([values.snapshot(a) for a in args], {k: values.snapshot(v) for k, v in kwargs.items()})
        try:
            value = super()._run(name, args, kwargs, callbacks=callbacks, kept=kept, cwd=cwd)
        except GradingError:
            call.outcome = rules.Outcome(raised={"kind": "raised"})
            raise
        labels = _labels(self._parameter_names, len(args))
        mutated = {labels[i]: a for i, a in enumerate(args) if values.changed(before[0][i], a)}
        mutated.update({k: v for k, v in kwargs.items() if values.changed(before[1][k], v)})
        files = None
        if self.folder is not None:
            files = {n: (self.folder.read_bytes(n) if self.folder.is_file(n) else None) for n in self.folder.names()}
        call.outcome = rules.Outcome(value=value, mutated=mutated, files=files, warnings=list(self.last_warnings))
        return value

    def fail(self, problem: str, *, returned: Any = ..., expected: Any = ..., hint: "str | None" = None,
             mistake: "str | None" = None, call: "str | None" = None) -> Any:
        __tracebackhide__ = True
        if self.failure is None:
            self.failure = {"problem": problem, "returned": returned, "expected": expected,
                            "hint": mistake or hint, "mistake": mistake,
                            "called": call if call is not None else self.last_call}
        return super().fail(problem, returned=returned, expected=expected, hint=hint, mistake=mistake, call=call)


def _labels(parameters: tuple, count: int) -> list[str]:
    return [parameters[i] if i < len(parameters) else f"arg{i + 1}" for i in range(count)]


def record_function(stage: Stage, function: str, program: LearnerProgram) -> list[CheckRecording]:
    """Run the visible checks of `function` on `program` as run_checks does, recording each, up to the first failure."""
    recordings = []
    with program.worker(function) as worker:
        try:
            find_function(stage, function, worker)
        except LearnerFileError:
            return recordings
        for check in checks_for(stage, function):
            if not check.visible:
                continue
            fn = RecordingFunction(stage, function, program, worker)
            fn.strict_warnings = check.strict_warnings
            error = None
            with warnings.catch_warnings(record=True), np.errstate(all="ignore"):
                warnings.simplefilter("always")
                try:
                    check.run(fn)
                except GradingError as raised:
                    error = raised
                except Exception as raised:  # the check could not use what came back
                    error = GradingError(f"{stage.label}, {function}(): the grader could not use what it returned "
                                         f"({type(raised).__name__}: {raised}).")
                    fn.failure = None
            recordings.append(CheckRecording(check, fn.calls, fn.helpers, fn.failure, error))
            if error is not None:
                break
    return recordings


def record(stage: "Stage | str", entry: Entry, *, sandbox: "Sandbox | None" = None) -> dict[str, list[CheckRecording]]:
    """Every function of `stage` on the catalogue entry, as a notebook: {function: its check recordings}."""
    stage = get_stage(stage)
    program = LearnerProgram.from_cells(stage, notebook_cells(stage, entry.text), sandbox=sandbox)
    try:
        return {function: record_function(stage, function, program) for function in stage.functions}
    finally:
        program.close()


# ------------------------------------------------------------------ the data
class Encoder:
    """Values to JSON trees for one data file (its array table)."""

    def __init__(self) -> None:
        self.arrays = values.Arrays()

    def __call__(self, value: Any, folder: "str | None" = None) -> Any:
        return values.encode(value, self.arrays, scratch=folder)


def _call(recorded: RecordedCall, parameters: tuple, encode: Encoder) -> rules.Call:
    args_tree = encode(tuple(recorded.args), recorded.folder)
    kwargs_tree = encode(dict(recorded.kwargs), recorded.folder)
    return rules.Call(recorded.args, recorded.kwargs, shown=recorded.shown, parameters=parameters,
                      tree=[args_tree, kwargs_tree], paths=values.scratch_paths(args_tree))


def _features(made: list, recording: CheckRecording, parameters: tuple, encode: Encoder) -> tuple[list, list]:
    """([Call], features per rule) of a recording's calls (per-call rules: one per call made)."""
    calls = [_call(c, parameters, encode) for c in recording.calls if c.outcome is not None and c.outcome.raised is None]
    outcomes = [c.outcome for c in recording.calls if c.outcome is not None and c.outcome.raised is None]
    features = []
    for rule in made:
        if rule.across:
            features.append(rule.features(calls, outcomes))
        else:
            features.append([rule.features(call, outcome) for call, outcome in zip(calls, outcomes)])
    return calls, features


def first_failure(made: list, expected: list, features: list, calls: list) -> "list | None":
    """[rule, call] (call None for a rule across calls) where the runner's rules first find a problem."""
    for index, call in enumerate(calls):
        for number, rule in enumerate(made):
            if not rule.across and rule.problem(expected[number][index], features[number][index], call):
                return [number, index]
    for number, rule in enumerate(made):
        if rule.across and rule.problem(expected[number], features[number], calls):
            return [number, None]
    return None


def _locate(target: Any, outcomes: list, *, identical_only: bool = False) -> "list | None":
    """[call index, path, conversion]: where the value a message showed came from, in the calls' outcomes."""
    if target is ... or target is None or isinstance(target, (bool, int, str)):
        return None
    for index in reversed(range(len(outcomes))):
        outcome = outcomes[index]
        candidates = [(["value"], outcome.value)]
        if isinstance(outcome.value, (tuple, list)):
            candidates += [(["value", i], item) for i, item in enumerate(outcome.value)]
        candidates += [([["mutated", label]], value) for label, value in outcome.mutated.items()]
        for path, value in candidates:
            if value is target:
                return [index, path, None]
        if identical_only:
            continue
        for path, value in candidates:
            try:
                if isinstance(target, float) and not isinstance(value, (bool, np.bool_, str)) and \
                        np.asarray(value).size == 1 and float(np.asarray(value).reshape(())) == target:
                    return [index, path, "float"]
                if isinstance(target, np.ndarray) and not isinstance(value, np.ndarray) and \
                        np.array_equal(np.asarray(value), target) and np.asarray(value).dtype == target.dtype:
                    return [index, path, "array"]
                if isinstance(target, list) and isinstance(value, (list, tuple)) and len(value) == len(target) and \
                        all(np.array_equal(np.asarray(v), t) for v, t in zip(value, target)):
                    return [index, path, "arrays"]
                if isinstance(target, dict) and target and isinstance(value, dict) and set(value) == set(target) \
                        and all(isinstance(key, str) and isinstance(number, float) for key, number in target.items()) \
                        and all(float(np.asarray(value[key]).reshape(())) == number for key, number in target.items()):
                    return [index, path, ["floats", list(target)]]  # a dict of numbers, as floats, in this order
            except Exception:
                continue
    return None


def _message(recording: CheckRecording, outcomes: list, word: Any) -> dict:
    failure = recording.failure
    parts = {"problem": word(failure["problem"]), "called": word(_folder_text(failure["called"], recording)),
             "hint": word(failure["hint"]) if failure["hint"] else None, "mistake": failure["mistake"]}
    for key in ("returned", "expected"):
        value = failure[key]
        if value is ...:
            parts[key] = None
            continue
        # what came back is shown as the student's own; what was expected only when it was
        # one of their own results (the first call's, for a rule like `invariant`)
        at = _locate(value, outcomes, identical_only=key == "expected")
        parts[key] = {"shown": _folder_text(show(value, indent=12), recording), "at": at}
    return parts


def _folder_text(text: str, recording: CheckRecording) -> str:
    for call in recording.calls:
        if call.folder:
            text = text.replace(call.folder, FOLDER)
    return text


def function_data(stage: Stage, function: str, reference: list, others: list, helpers_from: list,
                  word: Any) -> dict:
    """The data of one function (expectations/<function>.json, without its array table).

    Args:
        reference: the reference's recordings of the function's visible checks (all pass).
        others: (name, recordings) of the catalogue's mistakes (and the None-returner).
        helpers_from: recordings whose answers for the stage's other functions are kept.
        word: rewords a kit message for a notebook (grading.frontends.notebooks.notebook_message).
    """
    encode = Encoder()
    parameters = _reference_parameters(stage, function)
    tolerances = rules.Tolerances(expect.RTOL, expect.ATOL, expect.RTOL32, expect.ATOL32)
    checks = []
    for position, recording in enumerate(reference):
        check = recording.check
        if recording.error is not None:
            raise ValueError(f"{stage.label}, {function}(): the reference fails its visible check {check.name}: "
                             f"{recording.error}")
        if not check.replay:
            raise ValueError(f"grading/checks: the visible check {function}/{check.name} has no replay= rule "
                             "(see grading/student_edition/rules.py)")
        described = rules.parse(check.replay)
        made = [rules.make(d, tolerances) for d in described]
        calls, expected = _features(made, recording, parameters, encode)
        entry = {
            "name": check.name, "description": check.description, "rules": described,
            "folder": any(c.folder for c in recording.calls),
            "calls": [{"args": call.tree[0], "kwargs": call.tree[1],
                       "shown": _folder_text(recorded.shown, recording), "cwd": recorded.cwd,
                       "files": {name: encode(data) for name, data in recorded.files.items()}}
                      for call, recorded in zip(calls, recording.calls)],
            "expected": [encode(f) for f in expected],
            "mistakes": [],
        }
        for name, recordings in others:
            mine = next((r for r in recordings if r.check.name == check.name), None)
            if mine is None or mine.error is None or mine.raised or mine.failure is None:
                continue
            their_calls, features = _features(made, mine, parameters, encode)
            if any(a.tree != b.tree for a, b in zip(their_calls, calls)):
                continue  # other arguments than the reference got: not comparable
            failed = first_failure(made, expected, features, their_calls)
            if failed is None:
                continue  # the runner would not see this failure (tests/test_student_edition.py says so)
            outcomes = [c.outcome for c in mine.calls if c.outcome is not None]
            entry["mistakes"].append({"name": name, "failed": failed, "features": [encode(f) for f in features],
                                      "calls": len(their_calls), "message": _message(mine, outcomes, word)})
        checks.append(entry)
    helpers = []
    seen = set()
    for recording in helpers_from:
        for helper in recording.helpers:
            tree = {"function": helper["function"], "args": encode(helper["args"]),
                    "kwargs": encode(helper["kwargs"]), "returned": encode(helper["returned"]),
                    "mutated": [[key, encode(value)] for key, value in helper["mutated"]]}
            key = repr(tree)
            if key not in seen:
                seen.add(key)
                helpers.append(tree)
    lines = answers.answer_lines()
    return {"format": FORMAT, "function": function, "stage": stage.number, "label": stage.label,
            "adapter": stage.adapter(function), "parameters": list(parameters), "tolerances": vars(tolerances), "checks": _redacted(checks, lines),
            "helpers": helpers, "arrays": encode.arrays.stored}


def _redacted(tree: Any, lines: list) -> Any:
    """`tree` with every answer line in its texts hidden (a few of the kit's hints quote one)."""
    if isinstance(tree, str):
        return answers.redact(tree, lines)
    if isinstance(tree, list):
        return [_redacted(item, lines) for item in tree]
    if isinstance(tree, dict):
        return {key: _redacted(value, lines) for key, value in tree.items()}
    return tree


def _reference_parameters(stage: Stage, function: str) -> tuple:
    import importlib
    import inspect

    module = importlib.import_module(stage.reference_module)
    return tuple(inspect.signature(getattr(module, function)).parameters)
