"""Grading a whole stage quietly: how many checks of each function pass.

pytest reports a stage test by test; the learner tools (`mnist-kit progress`,
`mnist-kit watch`) want a summary instead: for each of the stage's functions,
how many of its checks pass, whether it is still the stub, and the message of
its first failure. `grade_stage` computes that in this process.

Checks run in order and stop at a function's first failure (as under pytest),
so "passed" counts the checks before that failure: 3 of 5 means the first three
pass and the fourth does not; the fifth has not run.

Bonus checks (stage 05's optional extras) are counted apart, in the `bonus_*`
fields, and run after the function's core checks: a stage is done when every
core check passes, whatever its extras do. A function whose checks are all bonus
(plot_history) has no core checks (total 0) and never holds a stage back.

Run as a program, it grades one stage and writes one JSON object per line on
stdout (what `grading.tools.isolated` reads, from a child process it can stop when a
learner's infinite loop would otherwise hang the tools):

    python -m grading.tools.stage_results path/to/exercises 01 02
    {"event": "ready"}
    {"event": "stage", "stage": "01"}
    {"event": "loading"}
    {"event": "start", "function": "relu"}
    {"event": "function", "function": "relu", "status": "passed", "passed": 3, "total": 3, "message": "",
     "bonus_status": "", "bonus_passed": 0, "bonus_total": 0, "bonus_message": ""}
    ...
    {"event": "done"}
    {"event": "stage", "stage": "02"}
    ...

("problem" replaces the function events of a stage whose file does not load.)
"""

import dataclasses
import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GradingError, NotWrittenYet
from ..running.program import LearnerProgram, shared_sandbox
from ..checks.registry import checks_for, run_checks
from ..stages import EXERCISES_DIR, Stage, get_stage
from ..build.stubs import stub_message

# What became of one function's checks.
PASSED = "passed"            # every check passes
FAILING = "failing"          # written, and a check fails (message says which and why)
NOT_WRITTEN = "not written"  # the stub's `raise NotImplementedError(...)` is still there
TIMED_OUT = "timed out"      # its checks did not finish in time (set by grading.tools.isolated)
NOT_RUN = "not run"          # the file did not load, or grading stopped before it

# What a stage's results add up to.
DONE = "done"
IN_PROGRESS = "in progress"
NOT_STARTED = "not started"
CANNOT_GRADE = "cannot be graded"  # the file does not load, or grading could not finish

Event = dict[str, Any]


@dataclass
class FunctionResult:
    """The checks of one learner function.

    Attributes:
        function: its name, e.g. "softmax".
        status: PASSED, FAILING, NOT_WRITTEN, TIMED_OUT or NOT_RUN, of its core checks (PASSED when it
            has none, NOT_WRITTEN while such a function is still the stub).
        passed: how many of its core checks pass (those before the first failure).
        total: how many core checks it has.
        message: the first failure's message for the learner ("" when it passes).
        bonus_status: the same for its bonus checks ("" when it has none).
        bonus_passed, bonus_total, bonus_message: the same for its bonus checks.
    """

    function: str
    status: str
    passed: int
    total: int
    message: str = ""
    bonus_status: str = ""
    bonus_passed: int = 0
    bonus_total: int = 0
    bonus_message: str = ""

    @property
    def is_core(self) -> bool:
        """True when it has core checks (only those count towards the stage being done)."""
        return self.total > 0


@dataclass
class StageResult:
    """Every function of one stage, graded.

    Attributes:
        stage: the Stage.
        functions: one FunctionResult per learner function, in the stage's order.
        problem: why the stage could not be graded at all ("" when it could): the
            file does not load, loading it never finished, or the grader crashed.
    """

    stage: Stage
    functions: list[FunctionResult]
    problem: str = ""

    @property
    def passed(self) -> int:
        """Checks passing, over the whole stage."""
        return sum(result.passed for result in self.functions)

    @property
    def total(self) -> int:
        """Checks of the whole stage."""
        return sum(result.total for result in self.functions)

    @property
    def bonus_passed(self) -> int:
        """Bonus checks passing, over the whole stage."""
        return sum(result.bonus_passed for result in self.functions)

    @property
    def bonus_total(self) -> int:
        """Bonus checks of the whole stage (0 for most stages)."""
        return sum(result.bonus_total for result in self.functions)

    @property
    def status(self) -> str:
        """DONE, IN_PROGRESS, NOT_STARTED or CANNOT_GRADE (from the core checks only)."""
        if self.problem:
            return CANNOT_GRADE
        if all(result.status == PASSED for result in self.functions if result.is_core):
            return DONE
        if all(result.status == NOT_WRITTEN for result in self.functions):
            return NOT_STARTED
        return IN_PROGRESS

    @property
    def next_function(self) -> FunctionResult | None:
        """The first function whose core checks do not pass yet (None when the stage is done)."""
        return next((result for result in self.functions if result.is_core and result.status != PASSED), None)

    @property
    def next_bonus(self) -> FunctionResult | None:
        """The first function whose bonus checks do not all pass (None when every extra passes)."""
        return next((result for result in self.functions if result.bonus_total and result.bonus_status != PASSED),
                    None)

    @property
    def first_message(self) -> str:
        """What the learner should read first: the problem, else the first failure's message."""
        if self.problem:
            return self.problem
        result = self.next_function
        return result.message if result is not None else ""


def check_counts(stage: Stage, *, bonus: bool = False) -> dict[str, int]:
    """function -> number of core checks (or with bonus=True of bonus checks), for every function of `stage`."""
    return {function: len(checks_for(stage, function, bonus=bonus)) for function in stage.functions}


def unfinished(stage: Stage, function: str, status: str, message: str = "") -> FunctionResult:
    """The result of a function whose checks did not run to the end (NOT_RUN, TIMED_OUT, ...)."""
    total, bonus_total = len(checks_for(stage, function, bonus=False)), len(checks_for(stage, function, bonus=True))
    return FunctionResult(function, status, 0, total, message,
                          bonus_status=status if bonus_total else "", bonus_total=bonus_total)


def not_run(stage: Stage, problem: str) -> StageResult:
    """The result of a stage whose checks could not run at all."""
    return StageResult(stage, [unfinished(stage, f, NOT_RUN) for f in stage.functions], problem)


def is_stub(stage: Stage, function: str, source: str) -> bool:
    """True while the learner's file still holds the generated stub of `function`."""
    return stub_message(stage, function) in source


def _grade_part(stage: Stage, function: str, program: LearnerProgram, source: str, *,
                bonus: bool) -> tuple[str, int, int, str]:
    """(status, passed, total, message) of the core (or bonus) checks of `function`."""
    names = [check.name for check in checks_for(stage, function, bonus=bonus)]
    if not names:
        return ((NOT_WRITTEN if is_stub(stage, function, source) else PASSED) if not bonus else "", 0, 0, "")
    try:
        run_checks(stage, function, program, bonus=bonus)
    except GradingError as error:
        passed = names.index(error.check) if error.check in names else 0
        stub = isinstance(error, NotWrittenYet) and is_stub(stage, function, source)
        return NOT_WRITTEN if stub else FAILING, passed, len(names), str(error)
    return PASSED, len(names), len(names), ""


def grade_function(stage: Stage, function: str, program: LearnerProgram, source: str) -> FunctionResult:
    """Run `function`'s core checks, then its bonus checks, on the learner's `program` (the text of
    their file is `source`)."""
    status, passed, total, message = _grade_part(stage, function, program, source, bonus=False)
    bonus_status, bonus_passed, bonus_total, bonus_message = _grade_part(stage, function, program, source,
                                                                         bonus=True)
    return FunctionResult(function, status, passed, total, message, bonus_status, bonus_passed, bonus_total,
                          bonus_message)


def grade_stage(stage: "Stage | str", exercises_dir: "str | os.PathLike | None" = None, *,
                report: Callable[[Event], None] = lambda event: None) -> StageResult:
    """Grade every function of `stage` in the learner's file inside `exercises_dir`.

    Args:
        stage: any key grading.get_stage accepts.
        exercises_dir: the folder holding the stage folders (default: the kit's exercises/).
        report: called with each event (see the module docstring) as grading goes.

    Returns:
        The StageResult. The learner's code runs in the grading worker: nothing it prints
        reaches this process's output.
    """
    stage = get_stage(stage)
    exercises_dir = Path(exercises_dir) if exercises_dir is not None else EXERCISES_DIR
    path = stage.learner_file(exercises_dir)
    report({"event": "loading"})
    try:
        program = LearnerProgram.from_files(stage, path, exercises_dir=exercises_dir)
        program.kernel()
    except GradingError as error:
        report({"event": "problem", "message": str(error)})
        return not_run(stage, str(error))
    source = path.read_text(encoding="utf-8", errors="replace")
    results = []
    for function in stage.functions:
        report({"event": "start", "function": function})
        result = grade_function(stage, function, program, source)
        report({"event": "function", **dataclasses.asdict(result)})
        results.append(result)
    program.close()
    report({"event": "done"})
    return StageResult(stage, results)


def main(argv: list[str] | None = None) -> int:
    """Grade stages one after the other, writing the events as JSON lines on stdout.

    Usage: python -m grading.tools.stage_results EXERCISES_DIR STAGE [STAGE ...]
    """
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print("usage: python -m grading.tools.stage_results EXERCISES_DIR STAGE [STAGE ...]", file=sys.stderr)
        return 2
    exercises_dir, stages = argv[0], [get_stage(key) for key in argv[1:]]
    # The events get their own copy of stdout; whatever the learner's file prints
    # (even from C code) goes to stderr, which the parent ignores.
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def report(event: Event) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    for stage in stages:  # import the reference and the checks first: the time limits are for the learner's code
        importlib.import_module(stage.reference_module)
        check_counts(stage)
    shared_sandbox().start()  # and start the grading worker
    report({"event": "ready"})
    for stage in stages:
        report({"event": "stage", "stage": stage.number})
        grade_stage(stage, exercises_dir, report=report)
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
