"""The learner's program as the checks grade it: their files or cells, loaded in the sealed worker.

    program = LearnerProgram.from_files("03")            # exercises/03_backprop/backprop.py
    program = LearnerProgram.from_cells("03", cells)     # a notebook's code cells, in order
    with program.worker("backward_prop") as worker: ...  # what registry.run_checks does

The learner's code never runs in this process. It is loaded once per program in
the sandbox (grading/sandbox), and each function is graded in a fresh process
forked from it, with the other curriculum functions it may call answered by the
reference here (callbacks), so one wrong function costs only its own points:

  * stages 02-04 from files: the earlier stages' modules (`from activations import
    relu`) are proxies answered by the reference, and so are the stage's other
    functions while one of them is graded;
  * a stage that builds on the learner's own work (Stage.builds_on: the capstone 05
    on 01-04, the gradient check 06 on 01-03), from files: the learner's OWN files of
    those stages are loaded too (the capstone trains the network built from the
    learner's functions); only the stage's other functions are answered by the reference;
  * a notebook (any stage): while one function is graded, the stage's other functions
    are answered by the reference here, and the earlier stages' by the functions the
    notebook's locked setup cell defined (the instructor's copy, holding their reference
    code), whatever the student's own cells bound to those names later.

A file that does not load becomes a LearnerFileError naming the file and the line
(the same messages as before sealed grading, built from the worker's facts).
"""

import atexit
import contextlib
import importlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CallsReferenceError, LearnerFileError
from ..sandbox import Kernel, Sandbox, Worker, WorkerLost
from ..stages import STAGE_BY_MODULE, STAGES, Stage, get_stage, stage_of_function
from .import_errors import explain_import_error

CAPSTONE = "05"
#: seconds loading a learner's file (or running one notebook cell) may take
LOAD_TIME_LIMIT = 30.0
#: seconds one reference answer to a callback may take (main thread only)
CALLBACK_TIME_LIMIT = 60.0
#: the packages graded code must not use: an import of them is "calling the reference"
REFERENCE_PACKAGES = ("solutions", "grading")


def earlier_stages(stage: Stage) -> list[Stage]:
    """The stages numbered before `stage`, in order."""
    return [s for s in STAGES if s.number < stage.number]


def own_stages(stage: Stage) -> list[Stage]:
    """The stages whose learner files `stage` runs on (its `builds_on`), in order; [] for most."""
    return [get_stage(number) for number in stage.builds_on]


def builds_on_text(stage: Stage) -> str:
    """"01-04": the stages `stage` builds on."""
    return f"{stage.builds_on[0]}-{stage.builds_on[-1]}"


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """The sandbox of this process (started on first use, ended at exit): pytest, progress, watch."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox(preload=("numpy",))
            atexit.register(_shared.close)
        return _shared


def display_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (as a learner would type it)."""
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


@dataclass
class _File:
    stage: Stage
    path: Path
    shown: str
    source: str


class LearnerProgram:
    """One learner's program of one stage, to be graded function by function.

    Attributes:
        stage: the Stage graded.
        notebook: True for a notebook's cells, False for stage files.
        sandbox: where it runs.
    """

    def __init__(self, stage: "Stage | str", request: dict, *, notebook: bool, files: list[_File] = (),
                 sandbox: Sandbox | None = None) -> None:
        #: seconds one call of a learner function may take (None: grading.running.learner_function's
        #: CALL_TIME_LIMIT), and one file load or notebook cell (None: LOAD_TIME_LIMIT)
        self.call_seconds: float | None = None
        self.load_seconds: float | None = None
        self.stage = get_stage(stage)
        self.request = request
        self.notebook = notebook
        self.files = list(files)
        self.sandbox = sandbox or shared_sandbox()
        self._kernel: Kernel | None = None
        self.cells: list = []

    # ------------------------------------------------------------ making one
    @classmethod
    def from_files(cls, stage: "Stage | str", path: "str | os.PathLike | None" = None, *,
                   exercises_dir: "str | os.PathLike | None" = None, sandbox: Sandbox | None = None) -> "LearnerProgram":
        """The learner's file of `stage` (default: in the kit's exercises/), and their files of the
        stages it builds on (05: 01-04, 06: 01-03) beside it.

        Raises:
            LearnerFileError: a file is missing.
        """
        stage = get_stage(stage)
        path = Path(path) if path is not None else stage.learner_file(exercises_dir)
        exercises = Path(exercises_dir) if exercises_dir is not None else path.resolve().parent.parent
        wanted = [(s, s.learner_file(exercises)) for s in own_stages(stage)]
        files = [_read(s, p, needed_by=stage if s != stage else None) for s, p in wanted + [(stage, path)]]
        return cls._of_files(stage, files, sandbox)

    @classmethod
    def from_source(cls, stage: "Stage | str", source: str, *, filename: str | None = None,
                    earlier: "dict[str, str] | None" = None, sandbox: Sandbox | None = None) -> "LearnerProgram":
        """A program from source text (the kit's tests): `earlier` maps a stage module to its source (stage 05)."""
        stage = get_stage(stage)
        files = [_File(STAGE_BY_MODULE[module], Path(f"{module}.py"), f"{module}.py", text)
                 for module, text in (earlier or {}).items()]
        files.append(_File(stage, Path(filename or f"{stage.module}.py"), filename or f"{stage.module}.py", source))
        return cls._of_files(stage, files, sandbox)

    @classmethod
    def _of_files(cls, stage: Stage, files: list[_File], sandbox: Sandbox | None) -> "LearnerProgram":
        own = {f.stage.module for f in files}
        proxies = [{"name": s.module, "functions": list(s.functions)} for s in earlier_stages(stage)
                   if s.module not in own]
        request = {"kind": "modules", "main": stage.module, "proxies": proxies,
                   "modules": [{"name": f.stage.module, "filename": f.shown, "source": f.source} for f in files]}
        return cls(stage, request, notebook=False, files=files, sandbox=sandbox)

    @classmethod
    def from_cells(cls, stage: "Stage | str", cells: list[dict], *, setup_cell: str = "setup",
                   sandbox: Sandbox | None = None) -> "LearnerProgram":
        """A notebook's code cells ({"id", "source"}), run in order in one namespace; `setup_cell`
        is the id of the locked cell that defines the earlier stages' functions."""
        stage = get_stage(stage)
        request = {"kind": "cells", "cells": [{"id": str(c["id"]), "source": str(c["source"])} for c in cells],
                   "setup": {"cell": setup_cell, "names": cls._earlier_names(stage)}}
        return cls(stage, request, notebook=True, sandbox=sandbox)

    @staticmethod
    def _earlier_names(stage: Stage) -> list[str]:
        return [name for s in earlier_stages(stage) for name in s.functions]

    # ------------------------------------------------------------ grading
    def callbacks_for(self, function: str) -> list[str]:
        """The names bound to the reference here while `function` is graded: the stage's others,
        except those whose arguments are not data (a function taking a callable, Stage.adapters:
        stage 06's check_backprop runs the learner's own numerical_gradient)."""
        return [name for name in self.stage.functions if name != function and not self.stage.adapter(name)]

    def kept_for(self, function: str) -> list[str]:
        """The names bound to the setup cell's functions while `function` is graded (notebooks)."""
        return self._earlier_names(self.stage) if self.notebook else []

    def allowed_callbacks(self, function: str) -> set[str]:
        """What the graded `function` may ask the reference for: the stage's other functions and,
        unless they are the learner's own (the capstone), the earlier stages'."""
        names = set(self.callbacks_for(function))
        if self.notebook or not self.stage.builds_on:
            names.update(self._earlier_names(self.stage))
        return names

    def answer_for(self, function: str):
        """The callback answerer while `function` is graded: the reference result, or an error."""
        allowed = self.allowed_callbacks(function)

        def answer(name: str, args: tuple, kwargs: dict) -> Any:
            if name not in allowed:
                raise CallbackRefused(f"{name}() is not available to {function}()")
            reference = getattr(importlib.import_module(stage_of_function(name).reference_module), name)
            with _time_limit(CALLBACK_TIME_LIMIT):
                return reference(*args, **kwargs)

        return answer

    def kernel(self) -> Kernel:
        """The loaded program (loaded again after the sandbox ended it); LearnerFileError if it does not load."""
        if self._kernel is None or not self._kernel.alive:
            try:
                self._kernel = self.sandbox.load(self.request, timeout=self.load_seconds or LOAD_TIME_LIMIT,
                                                 answer=self.answer_for(""))
            except WorkerLost as error:
                raise LearnerFileError(self._load_failed(str(error)), stage=self.stage.number) from None
            self.cells = self._kernel.cells
        if self._kernel.problem is not None:
            raise self._problem(self._kernel.problem)
        return self._kernel

    @contextlib.contextmanager
    def worker(self, function: str) -> Iterator[Worker]:
        """A fresh worker for grading `function` (the program loaded, or LearnerFileError)."""
        worker = self.kernel().fork()
        try:
            yield worker
        finally:
            worker.close()

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()
            self._kernel = None

    # ------------------------------------------------------------ load problems
    def _load_failed(self, why: str) -> str:
        if self.notebook:
            return f"{self.stage.label}: the notebook's cells could not be run ({why})."
        main = self.files[-1]
        if "longer than" in why:
            return (f"{self.stage.label}: loading {main.shown} did not finish within "
                    f"{self.load_seconds or LOAD_TIME_LIMIT:g} s - is "
                    f"there an endless loop (or a long computation) at the top level of the file, outside any "
                    f"function?")
        return f"{self.stage.label}: loading {main.shown} stopped unexpectedly ({why})."

    def _problem(self, facts: dict) -> LearnerFileError:
        """The LearnerFileError for a file that failed to load (facts from the worker)."""
        module = facts.get("module")
        file = next((f for f in self.files if f.stage.module == module), self.files[-1] if self.files else None)
        stage = file.stage if file else self.stage
        shown = file.shown if file else str(facts.get("filename"))
        context = (f" ({self.stage.label} uses your own files of stages {builds_on_text(self.stage)})"
                   if stage != self.stage else "")
        if facts.get("kind") == "syntax" and facts.get("syntax"):
            syntax = facts["syntax"]
            line = str(syntax.get("text") or "").rstrip("\n")
            pointer = ""
            offset = syntax.get("offset")
            if line and isinstance(offset, int) and offset > 0:
                pointer = "\n      " + " " * max(offset - 1 - (len(line) - len(line.lstrip())), 0) + "^"
            shown_line = f"\n      {line.strip()}{pointer}" if line.strip() else ""
            return LearnerFileError(f"{stage.label}: {shown}, line {syntax.get('line')}: {syntax.get('msg')} "
                                    f"(a syntax error){context}{shown_line}", stage=stage.number)
        where = facts.get("where") or {}
        at = f", line {where['line']}" if where.get("line") else ""
        if facts.get("kind") == "system_exit":
            return LearnerFileError(f"{stage.label}: loading {shown}{at} called exit() (it raised SystemExit): "
                                    f"remove that call from the top level of the file.", stage=stage.number)
        if facts.get("module") in REFERENCE_PACKAGES or str(facts.get("module", "")).split(".")[0] in REFERENCE_PACKAGES:
            return calls_reference(stage, None, f"{shown}{at}")
        explained = explain_import_error(facts, stage, f"{shown}{at}",
                                         reference_modules=self._reference_modules())
        if explained is not None:
            return LearnerFileError(explained + context, stage=stage.number)
        hint = ""
        if facts.get("type") == "ModuleNotFoundError" and facts.get("module") in STAGE_BY_MODULE:
            hint = (f" - keep the file in exercises/{stage.folder}/ and import earlier stages as "
                    f"`from {facts['module']} import ...`")
        return LearnerFileError(f"{stage.label}: loading {shown}{at} raised {facts.get('type')}: "
                                f"{facts.get('message')}{context}{hint}", stage=stage.number)

    def _reference_modules(self) -> set[str]:
        return {proxy["name"] for proxy in self.request.get("proxies", [])}


class CallbackRefused(RuntimeError):
    """The learner's code asked for a reference function it may not use."""


def calls_reference(stage: Stage, function: str | None, where: str) -> CallsReferenceError:
    """The error for learner code that imports the reference solution or the checks."""
    who = f"{function}()" if function else "your file"
    return CallsReferenceError(
        f"{stage.label}{', ' + function + '()' if function else ''}: {who} imports the reference solution "
        f"or the grader ({where}), which graded code cannot use: write it with NumPy (and, where the README "
        f"says so, earlier stages' functions).", stage=stage.number, function=function)


def _read(stage: Stage, path: Path, *, needed_by: Stage | None) -> _File:
    shown = display_path(path)
    if not path.is_file():
        context = f" ({needed_by.label} uses your own files of stages {builds_on_text(needed_by)})" if needed_by else ""
        raise LearnerFileError(f"{stage.label}: {shown} is missing{context} - restore it with "
                               f"`git checkout {stage.learner_relpath}`.", stage=stage.number)
    return _File(stage, path, shown, path.read_text(encoding="utf-8", errors="replace"))


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a reference computation after `seconds` (POSIX main thread, no other timer)."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the reference took longer than {seconds:g} s on these arguments")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
