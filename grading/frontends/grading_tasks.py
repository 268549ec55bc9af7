"""One grading task of `mnist-kit autograde`: a sanitized notebook in, what grading found out, as data.

    outcome = grade_task({"key": ["ada", "01_activations", "01_activations"],
                          "stage": "01_activations", "notebook": {...nbformat dict...},
                          "limits": {"call": 30.0, "load": 30.0, "notebook": 300.0},
                          "kit": kit_fingerprint()})
    outcome["ok"], outcome["result"] (result_to_data of a NotebookResult), outcome["error"]

This is all a grading process does, on this machine (grading/frontends/local_workers.py)
or on a Dask worker (dask_workers.py): it never sees the course, its gradebook or any
file of it, only the notebook nbgrader's sanitize preprocessors made in the submitting
process, and it answers with plain data (no objects), which the submitting process
writes into the gradebook with nbgrader. The notebook's code runs in the sealed worker
(grading/sandbox), one Sandbox per grading thread, started on its first task and reset
after every task, so nothing a student's code leaves behind reaches the next student.

The limits travel with each task (the submitting process's, after the course's
nbgrader_config.py), so every worker grades with the same limits as a serial
`nbgrader autograde`; `kit` is a fingerprint of the kit's checks, reference solution
and data, and a worker whose own fingerprint differs refuses the task (a cluster
machine with another version of the kit would give other scores).
"""

import atexit
import dataclasses
import functools
import hashlib
import os
import socket
import threading
import time
from typing import Any

from ..stages import REPO_ROOT, get_stage

#: what the zygote imports once, so no graded function pays for it (matplotlib: stage 05's plot)
PRELOAD = ("numpy", "matplotlib.figure", "matplotlib.backends.backend_agg")
#: the files whose content decides a score: the checks and the grading machinery, the reference, the data
FINGERPRINTED = ("grading", "solutions", "kit_helpers", "data")

_local = threading.local()


@functools.lru_cache(maxsize=None)
def kit_fingerprint() -> str:
    """A short hash of every file in FINGERPRINTED (Python sources and the bundled data)."""
    digest = hashlib.sha256()
    for top in FINGERPRINTED:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            if path.is_file() and (path.suffix == ".py" or top == "data") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def current_limits() -> dict[str, float]:
    """The time limits in force in this process (after the course's nbgrader_config.py ran)."""
    from ..running import learner_function, program
    from . import notebooks

    return {"call": float(learner_function.CALL_TIME_LIMIT), "load": float(program.LOAD_TIME_LIMIT),
            "notebook": float(notebooks.NOTEBOOK_TIME_LIMIT)}


def apply_limits(limits: dict[str, float]) -> None:
    """Grade with `limits` in this process (those a task carries)."""
    from ..running import learner_function, program

    learner_function.CALL_TIME_LIMIT = float(limits["call"])
    program.LOAD_TIME_LIMIT = float(limits["load"])


def sandbox():
    """This thread's Sandbox (started on first use)."""
    from ..sandbox import Sandbox

    box = getattr(_local, "sandbox", None)
    if box is None:
        box = _local.sandbox = Sandbox(preload=PRELOAD)
        atexit.register(box.close)  # a Dask worker's threads are never told to stop
    return box


def close_sandbox() -> None:
    box = getattr(_local, "sandbox", None)
    if box is not None:
        _local.sandbox = None
        box.close()


def where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def grade_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Grade one sanitized notebook (see the module docstring); never raises."""
    from .notebooks import grade_notebook

    started = time.monotonic()
    key = list(payload.get("key") or [])
    try:
        if payload.get("kit") != kit_fingerprint():
            return {"key": key, "ok": False, "worker": where(), "seconds": 0.0,
                    "error": f"the grading worker {where()} has another version of the kit's checks "
                             f"(fingerprint {kit_fingerprint()}, the submitting machine's {payload.get('kit')}): "
                             f"install the same mnist-kit on every worker"}
        apply_limits(payload["limits"])
        stage = get_stage(payload["stage"])
        result = None
        for attempt in range(2):  # a worker that could not start is started afresh, once
            box = sandbox()
            try:
                result = grade_notebook(payload["notebook"], stage, sandbox=box,
                                        time_limit=float(payload["limits"]["notebook"]))
            finally:
                try:
                    box.reset()
                except Exception:
                    close_sandbox()
            if not result.problem:
                break
            close_sandbox()
        data = result_to_data(result)
        if result.problem:
            return {"key": key, "ok": False, "worker": where(), "seconds": time.monotonic() - started,
                    "result": data, "error": result.problem}
        return {"key": key, "ok": True, "worker": where(), "seconds": time.monotonic() - started, "result": data}
    except Exception as error:  # a bug, or a notebook nbgrader let through that grading cannot read
        close_sandbox()
        return {"key": key, "ok": False, "worker": where(), "seconds": time.monotonic() - started,
                "error": f"grading raised {type(error).__name__}: {error}"}


# ----------------------------------------------------------------------------- results as data
def result_to_data(result) -> dict[str, Any]:
    """A NotebookResult as JSON-friendly data."""
    return {"stage": result.stage.folder, "seconds": result.seconds, "problem": result.problem,
            "tests": {grade_id: dataclasses.asdict(test) for grade_id, test in result.tests.items()},
            "cells": {cell_id: dataclasses.asdict(cell) for cell_id, cell in result.cells.items()}}


def result_from_data(data: dict[str, Any]):
    """The NotebookResult that result_to_data gave."""
    from ..sandbox import CellReport
    from .notebooks import NotebookResult, TestResult

    return NotebookResult(get_stage(data["stage"]),
                          tests={grade_id: TestResult(**test) for grade_id, test in data["tests"].items()},
                          cells={cell_id: CellReport(**cell) for cell_id, cell in data["cells"].items()},
                          seconds=float(data.get("seconds", 0.0)), problem=str(data.get("problem", "")))


__all__ = ["PRELOAD", "apply_limits", "current_limits", "grade_task", "kit_fingerprint", "result_from_data",
           "result_to_data"]
