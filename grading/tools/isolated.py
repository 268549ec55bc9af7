"""Grading stages in child processes, each stage with a time limit.

A learner's file can loop forever (`while True:` with a forgotten update, at the
top level or inside a function), and nothing inside the same process can stop
that. So the learner tools grade in child processes (`python -m
grading.tools.stage_results`), which report as they go in JSON lines (see that
module). A stage still running `time_limit` seconds after it started is stopped:
the function being checked is reported as timed out, the checks already
finished are kept, and a new child grades the stages that were still to come.
Ctrl-C stops every child before it propagates.

The capstone (stage 05, by far the slowest: it trains and draws) is graded in a
child of its own beside the child grading stages 01-04, which is what keeps
`mnist-kit progress` quick on two cores.
"""

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ..running.loading import CAPSTONE
from .stage_results import FAILING, NOT_RUN, TIMED_OUT, FunctionResult, StageResult, not_run, unfinished
from ..stages import EXERCISES_DIR, REPO_ROOT, Stage, get_stage

#: seconds one stage may take (the reference passes the slowest, stage 05, in about 4 s here)
DEFAULT_TIME_LIMIT = 30.0
#: seconds a child may take to start Python and import the kit before it grades anything
STARTUP_LIMIT = 120.0
POLL_SECONDS = 0.02

Event = dict[str, Any]


def new_event_file() -> BinaryIO:
    """The file a child writes its events to (its stdout), and this process reads as they come."""
    return tempfile.TemporaryFile()


def complete_lines(file: BinaryIO, offset: int) -> tuple[list[str], int]:
    """The complete lines of `file` from byte `offset` on, and the offset after the last of them.

    Read with os.pread, which leaves the file offset alone: the child's file descriptor shares
    that offset, so a seek and read here would move the child's next write (onto lines not read
    yet, or past bytes this process then never sees).
    """
    size = os.fstat(file.fileno()).st_size
    data = os.pread(file.fileno(), size - offset, offset) if size > offset else b""
    complete = data[: data.rfind(b"\n") + 1]
    return complete.decode("utf-8", errors="replace").splitlines(), offset + len(complete)


class _Grader:
    """One child process grading some stages in order, and what it has reported so far.

    Attributes:
        stages: the stages given to it, in order.
        events: stage number -> the events reported for that stage.
        current: the stage it is grading now (None before it starts one).
        current_since: when (time.monotonic()) the current stage started, as seen here.
    """

    def __init__(self, stages: list[Stage], exercises_dir: Path) -> None:
        self.stages = stages
        self.events: dict[str, list[Event]] = {}
        self.current: Stage | None = None
        self.current_since = 0.0
        self.started = time.monotonic()
        self._file = new_event_file()
        self._read = 0
        self._ready = False
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grading.tools.stage_results", str(exercises_dir), *(s.number for s in stages)],
            stdin=subprocess.DEVNULL, stdout=self._file, stderr=subprocess.DEVNULL, env=env,
        )

    def read_events(self) -> None:
        """Take in the complete lines the child has written since the last call."""
        lines, self._read = complete_lines(self._file, self._read)
        for line in lines:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "ready":
                self._ready = True
            elif event.get("event") == "stage":
                self.current = get_stage(event["stage"])
                self.current_since = time.monotonic()
                self.events[self.current.number] = []
            elif self.current is not None:
                self.events[self.current.number].append(event)

    def overdue(self, time_limit: float) -> bool:
        """True when the current stage (or the start-up) has taken longer than allowed."""
        now = time.monotonic()
        if not self._ready:
            return now - self.started > STARTUP_LIMIT
        return self.current is not None and now - self.current_since > time_limit

    def stop(self) -> None:
        """Kill the child (if it still runs) and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        self._file.close()


def grade_stages(stages: Sequence["Stage | str"], exercises_dir: "str | os.PathLike | None" = None, *,
                 time_limit: float = DEFAULT_TIME_LIMIT, jobs: int | None = None) -> list[StageResult]:
    """Grade `stages` of the learner's files in `exercises_dir`, in child processes.

    Args:
        stages: the stages to grade (any keys get_stage accepts).
        exercises_dir: the folder holding the stage folders (default: the kit's exercises/).
        time_limit: seconds each stage may run before it is stopped.
        jobs: how many children may run at once (default: the number of CPUs); with
            two or more, the capstone gets a child of its own.

    Returns:
        One StageResult per stage, in the order given.
    """
    stages = [get_stage(stage) for stage in stages]
    exercises_dir = Path(exercises_dir) if exercises_dir is not None else EXERCISES_DIR
    jobs = jobs or os.cpu_count() or 1
    results: dict[str, StageResult] = {}
    graders = [_Grader(group, exercises_dir) for group in _groups(stages, jobs)]
    try:
        while graders:
            for grader in list(graders):
                grader.read_events()
                overdue = grader.overdue(time_limit)
                if grader.process.poll() is None and not overdue:
                    continue
                grader.stop()
                grader.read_events()
                graders.remove(grader)
                still_to_grade = _collect(grader, results, timed_out=overdue, time_limit=time_limit)
                grader.close()
                if still_to_grade:
                    graders.append(_Grader(still_to_grade, exercises_dir))
            if graders:
                time.sleep(POLL_SECONDS)
    finally:  # Ctrl-C or any error: leave no grader behind
        for grader in graders:
            grader.stop()
            grader.close()
    return [results[stage.number] for stage in stages]


def grade_stage(stage: "Stage | str", exercises_dir: "str | os.PathLike | None" = None, *,
                time_limit: float = DEFAULT_TIME_LIMIT) -> StageResult:
    """Grade one stage in a child process (see grade_stages)."""
    return grade_stages([stage], exercises_dir, time_limit=time_limit)[0]


def _groups(stages: list[Stage], jobs: int) -> list[list[Stage]]:
    """The stages each child grades: the capstone on its own when there are two CPUs or more."""
    capstone = [stage for stage in stages if stage.number == CAPSTONE]
    others = [stage for stage in stages if stage.number != CAPSTONE]
    if jobs < 2 or not capstone or not others:
        return [stages]
    return [capstone, others]


def _collect(grader: _Grader, results: dict[str, StageResult], *, timed_out: bool,
             time_limit: float) -> list[Stage]:
    """Store the results of a child that has ended; return the stages it never started."""
    code = grader.process.returncode
    if not grader.events:  # it graded nothing: do not start it again
        why = (f"did not start within {STARTUP_LIMIT:g} s" if timed_out
               else f"stopped before grading anything (exit status {code})")
        for stage in grader.stages:
            results[stage.number] = not_run(stage, f"{stage.label}: the grader {why}; run `{stage.command}` "
                                                   f"to see why.")
        return []
    for stage in grader.stages:
        if stage.number in grader.events:
            finished = grader.current is None or stage != grader.current or _is_done(grader.events[stage.number])
            results[stage.number] = (_stage_result(stage, grader.events[stage.number]) if finished
                                     else _interrupted_stage(stage, grader.events[stage.number], timed_out,
                                                             time_limit, code))
    return [stage for stage in grader.stages if stage.number not in grader.events]


def _is_done(events: list[Event]) -> bool:
    return any(event.get("event") in ("done", "problem") for event in events)


def _stage_result(stage: Stage, events: list[Event]) -> StageResult:
    """The result of a stage the child graded to the end."""
    for event in events:
        if event.get("event") == "problem":
            return not_run(stage, event["message"])
    return StageResult(stage, [_function_result(event) for event in events if event.get("event") == "function"])


def _function_result(event: Event) -> FunctionResult:
    return FunctionResult(**{f.name: event[f.name] for f in dataclasses.fields(FunctionResult) if f.name in event})


def _interrupted_stage(stage: Stage, events: list[Event], timed_out: bool, time_limit: float,
                       code: int | None) -> StageResult:
    """The result of a stage stopped part-way: finished functions kept, the running one explained."""
    finished = {event["function"]: _function_result(event) for event in events if event.get("event") == "function"}
    started = [event["function"] for event in events if event.get("event") == "start"]
    running = started[-1] if started and started[-1] not in finished else None
    if running is None:  # stopped while loading the learner's file
        if timed_out:
            return not_run(stage, f"{stage.label}: loading {stage.learner_relpath} did not finish within "
                                  f"{time_limit:g} s - is there an endless loop (or a long computation) at the "
                                  f"top level of the file, outside any function?")
        return not_run(stage, f"{stage.label}: the grader stopped unexpectedly while loading "
                              f"{stage.learner_relpath} (exit status {code}); run `{stage.command}` to see why.")
    functions = []
    for function in stage.functions:
        if function in finished:
            functions.append(finished[function])
        elif function == running and timed_out:
            functions.append(unfinished(
                stage, function, TIMED_OUT,
                f"{stage.label}, {function}(): its checks were still running after {time_limit:g} s, so "
                f"grading stopped them - is there a loop that never ends (a `while` whose condition "
                f"never changes, a loop variable never updated)? The reference solution passes them "
                f"in a few seconds."))
        elif function == running:
            functions.append(unfinished(
                stage, function, FAILING,
                f"{stage.label}, {function}(): the grader stopped unexpectedly while checking it "
                f"(exit status {code}); run `{stage.command}` to see why."))
        else:
            functions.append(unfinished(stage, function, NOT_RUN))
    return StageResult(stage, functions)
