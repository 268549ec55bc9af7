"""`mnist-kit watch`: grade the current stage again each time the learner saves.

    watch(stage, exercises_dir)   # stage None: the first stage that does not pass yet

The loop: grade the stage (in a child process, see grading.tools.isolated), print how
many checks pass and the first failing check's whole message, then wait until
the learner's file changes (its modification time or size, polled every
`interval` seconds: no file-watching library needed) and grade again. When a
stage passes, move on to the next one straight away; when the last one passes,
say so and stop. Ctrl-C stops it cleanly.

A stage built on the learner's own files (the capstone, 05, on 01-04; the
gradient check, 06, on 01-03) is graded again when any of those files changes too.
Stages follow each other in the order they are taught (06 right after 03).

For tests and scripts the loop can be bounded: `max_runs` gradings, or
`stop_after` seconds.
"""

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from . import isolated
from ..running.loading import own_stages
from .progress import shown_path
from .stage_results import CANNOT_GRADE, DONE, StageResult
from ..stages import STAGES, Stage, get_stage

DEFAULT_INTERVAL = 0.5

Signature = tuple[tuple[int, int] | None, ...]


def watched_files(stage: Stage, exercises_dir: "str | os.PathLike") -> list[Path]:
    """The learner's files whose change means `stage` must be graded again."""
    stages = [*own_stages(stage), stage]  # a stage built on the learner's own files: theirs too
    return [s.learner_file(exercises_dir) for s in stages]


def signature(paths: list[Path]) -> Signature:
    """(modification time in ns, size) of each file, None for a missing one."""
    stamps = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def describe(result: StageResult, now: str) -> str:
    """What one grading run prints: a status line, then the first problem's whole message."""
    stage = result.stage
    if result.status == DONE:
        return f"[{now}] {stage.label}: all {result.total} checks pass - stage done!"
    if result.status == CANNOT_GRADE:
        return f"[{now}] {stage.label}: cannot be graded\n{result.problem}"
    return f"[{now}] {stage.label}: {result.passed} of {result.total} checks passing\n{result.first_message}"


class _Stop(Exception):
    """The bounded run is over (max_runs gradings or stop_after seconds)."""


def watch(stage: "Stage | str | None", exercises_dir: "str | os.PathLike", *,
          interval: float = DEFAULT_INTERVAL, time_limit: float = isolated.DEFAULT_TIME_LIMIT,
          max_runs: int | None = None, stop_after: float | None = None, out: TextIO | None = None) -> int:
    """Watch and grade until every stage passes, Ctrl-C, or a bound is reached; return 0.

    Args:
        stage: where to start (any key get_stage accepts); None: the first stage not done.
        exercises_dir: the folder holding the stage folders.
        interval: seconds between two looks at the files.
        time_limit: seconds one stage's checks may run (see grading.tools.isolated).
        max_runs: stop after this many gradings (None: no limit).
        stop_after: stop after this many seconds (None: no limit).
        out: where to print (default: sys.stdout).
    """
    out = out or sys.stdout
    deadline = time.monotonic() + stop_after if stop_after is not None else None
    runs = 0
    graded_files: Signature = ()  # the watched files as they were when the last grading started

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def graded(current: Stage) -> StageResult:
        nonlocal runs, graded_files
        if max_runs is not None and runs >= max_runs:
            raise _Stop(f"Stopped after {runs} gradings (--max-runs).")
        runs += 1
        graded_files = signature(watched_files(current, exercises_dir))
        result = isolated.grade_stage(current, exercises_dir, time_limit=time_limit)
        say(describe(result, time.strftime("%H:%M:%S")))
        return result

    try:
        if stage is None:
            current, result = _first_unfinished(exercises_dir, time_limit, say)
            runs += 1
            if current is None:
                return 0
            say(describe(result, time.strftime("%H:%M:%S")))
        else:
            current = get_stage(stage)
            result = graded(current)
        while True:
            if result.status == DONE:
                following = list(STAGES[STAGES.index(current) + 1:])  # in the order they are taught
                if not following:
                    say("Every stage passes: your network is complete. `mnist-kit progress` sums it up.")
                    return 0
                current = following[0]
                say(f"Moving on to {current.label}.")
                result = graded(current)
                continue
            if max_runs is not None and runs >= max_runs:
                raise _Stop(f"Stopped after {runs} gradings (--max-runs).")
            files = watched_files(current, exercises_dir)
            more = (f" (or your files of stages {current.builds_on[0]}-{current.builds_on[-1]})"
                    if current.builds_on else "")
            say(f"Waiting for you to save {shown_path(files[-1])}{more}... (Ctrl-C to stop)")
            _wait_for_change(files, interval, deadline, since=graded_files)
            result = graded(current)
    except _Stop as stop:
        say(str(stop))
        return 0
    except KeyboardInterrupt:
        say("\nStopped watching.")
        return 0


def _first_unfinished(exercises_dir: "str | os.PathLike", time_limit: float,
                      say: Callable[[str], None]) -> tuple[Stage | None, StageResult]:
    """Grade every stage; the first that does not pass and its result (None when all pass)."""
    results = isolated.grade_stages(STAGES, exercises_dir, time_limit=time_limit)
    done = [r.stage.number for r in results if r.status == DONE]
    for result in results:
        if result.status != DONE:
            if done:
                say(f"Stages passing already: {', '.join(done)}.")
            return result.stage, result
    say("Every stage passes: your network is complete. `mnist-kit progress` sums it up.")
    return None, results[-1]


def _wait_for_change(files: list[Path], interval: float, deadline: float | None,
                     since: Signature | None = None) -> None:
    """Return once one of `files` has changed and stayed the same for one more interval.

    `since`: the files' signature to compare with (default: as they are now); the watch passes
    the signature taken when its last grading started, so that a save made while it graded or
    while it printed is not missed.
    """
    before = signature(files) if since is None or len(since) != len(files) else since
    while True:
        _sleep(interval, deadline)
        now = signature(files)
        if now != before:
            _sleep(interval, deadline)  # let the editor finish writing
            if signature(files) == now:
                return
            before = now


def _sleep(seconds: float, deadline: float | None) -> None:
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Stop("Stopped (--stop-after).")
        seconds = min(seconds, left)
    time.sleep(seconds)
