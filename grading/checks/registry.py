"""The checks of every stage, and running them.

Each stage's checks live in grading/stageNN_<name>.py as small functions
registered with the `checker` decorator:

    check = checker("01")

    @check("relu", visible=True)
    def negatives_become_zero(relu: LearnerFunction) -> None:
        \"\"\"Negative entries become 0, the others are kept.\"\"\"
        ...

A check receives the learner's function wrapped in a LearnerFunction and raises a
GradingError (through the helpers in grading.checks.expect) when it finds a problem.
Visible checks are a few small readable cases meant to be shown to students (the
notebooks show them); hidden ones try other seeds, shapes and extreme values and
hunt for the typical mistakes. Checks run in the order they are registered.

A check registered with `bonus=True` grades an optional extra (stage 05's
learning-rate schedule, atomic save, plot, ...): it is reported on its own and
never keeps a stage from being done. `run_checks(..., bonus=False)` runs a
function's core checks, `bonus=True` its bonus checks (each part stops at its own
first failure), and the default both, in order.
"""

import importlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import CallsReferenceError, GradingError, LearnerFileError, NotWrittenYet
from ..running.learner_function import LearnerFunction
from ..running.program import LearnerProgram
from ..sandbox import Worker
from ..stages import STAGES, get_stage

CheckFunction = Callable[[LearnerFunction], None]


@dataclass(frozen=True)
class Check:
    """One registered check.

    Attributes:
        stage: "01".."06".   function: the learner's function it grades.
        name: the check's name (its Python name).   visible: shown to students?
        description: the first line of its docstring.   run: the check itself.
        strict_warnings: a NumPy warning during the check is a failure (the contract says so).
        replay: for a visible check, how the student edition compares a student's outcome with the
            reference's (rules in grading/student_edition/rules.py, e.g. "keeps_inputs + returns").
        bonus: grades an optional extra, which does not count towards the stage being done.
    """

    stage: str
    function: str
    name: str
    visible: bool
    description: str
    run: CheckFunction
    strict_warnings: bool = False
    replay: str | None = None
    bonus: bool = False


_REGISTRY: dict[str, dict[str, list[Check]]] = {}
_CHECK_MODULES = {
    "01": "grading.checks.stage01_activations",
    "02": "grading.checks.stage02_forward_pass",
    "03": "grading.checks.stage03_backprop",
    "04": "grading.checks.stage04_gradient_descent",
    "05": "grading.checks.stage05_train_mnist",
    "06": "grading.checks.stage06_gradient_check",
}


def checker(stage_key: str) -> Callable[..., Callable[[CheckFunction], CheckFunction]]:
    """A decorator factory registering checks for one stage (see the module docstring)."""
    stage = get_stage(stage_key)

    def check(function: str, *, visible: bool = False, strict_warnings: bool = False,
              replay: str | None = None, bonus: bool = False) -> Callable[[CheckFunction], CheckFunction]:
        if function not in stage.functions:
            raise ValueError(f"{function!r} is not a function of {stage.label}")
        if replay is not None and not visible:
            raise ValueError("replay= is for visible checks (the student edition replays only those)")

        def register(run: CheckFunction) -> CheckFunction:
            doc = (run.__doc__ or run.__name__).strip().splitlines()[0]
            entry = Check(stage.number, function, run.__name__, visible, doc, run, strict_warnings, replay, bonus)
            checks = _REGISTRY.setdefault(stage.number, {}).setdefault(function, [])
            if any(c.name == entry.name for c in checks):
                raise ValueError(f"two checks named {entry.name!r} for {function}()")
            checks.append(entry)
            return run

        return register

    return check


def _load_stage_checks(number: str) -> None:
    importlib.import_module(_CHECK_MODULES[number])


def checks_for(stage: Any, function: str, *, bonus: bool | None = None) -> list[Check]:
    """The checks of one learner function, in order: all of them, or only the core ones
    (bonus=False) or only the bonus ones (bonus=True)."""
    stage = get_stage(stage)
    if function not in stage.functions:
        raise KeyError(f"{function!r} is not a function of {stage.label}: "
                       f"it has {', '.join(stage.functions)}")
    _load_stage_checks(stage.number)
    checks = _REGISTRY.get(stage.number, {}).get(function, [])
    return [check for check in checks if bonus is None or check.bonus == bonus]


def list_checks() -> dict[str, dict[str, list[Check]]]:
    """Every check: stage number -> function -> checks in order (for tools and notebooks)."""
    listing: dict[str, dict[str, list[Check]]] = {}
    for stage in STAGES:
        listing[stage.number] = {function: checks_for(stage, function) for function in stage.functions}
    return listing


def find_function(stage: Any, function: str, worker: Worker) -> None:
    """Fail with LearnerFileError unless the learner's program defines `function` as a function."""
    stage = get_stage(stage)
    described = worker.describe([function])[function]
    if not described.get("defined"):
        raise LearnerFileError(
            f"{stage.label}: there is no function {function}() - define it with "
            f"`def {function}(...)` (keep the name: the tests call it by that name).",
            stage=stage.number, function=function)
    if not described.get("callable"):
        raise LearnerFileError(
            f"{stage.label}: {function} is a {described.get('type')}, not a function "
            f"(did something overwrite it?).", stage=stage.number, function=function)


def as_program(stage: Any, learner: "LearnerProgram | ModuleType | str | Path") -> LearnerProgram:
    """The LearnerProgram to grade: given as one, or as the path (or module) of a learner file."""
    if isinstance(learner, LearnerProgram):
        return learner
    path = getattr(learner, "__file__", None) if isinstance(learner, ModuleType) else learner
    if isinstance(path, (str, Path)):
        return LearnerProgram.from_files(stage, Path(path))
    raise TypeError("run_checks grades a LearnerProgram (or a learner file's path): the learner's code "
                    "runs in the grading worker, never in this process")


def run_checks(stage: Any, function: str, learner: "LearnerProgram | ModuleType | str | Path", *,
               visible_only: bool = False, hidden_only: bool = False, bonus: bool | None = None) -> list[str]:
    """Run the checks of the learner's `function` of `stage`, in order, stopping at the first failure.

    Args:
        stage: "01", 1, "activations", "01_activations", ... (see grading.stages.get_stage).
        function: e.g. "softmax".
        learner: the LearnerProgram holding the learner's function (or the path of their file).
        visible_only: run only the checks meant to be shown to students.
        hidden_only: run only the others.
        bonus: None for every check; False for the core checks only (what "done" means);
            True for the bonus checks only (the optional extras).

    Returns:
        The names of the checks that ran (all passed).

    Raises:
        GradingError (an AssertionError) with the teaching message, on the first failing check;
        its subclasses NotWrittenYet, LearnerFileError and CallsReferenceError say more.
    """
    __tracebackhide__ = True
    stage = get_stage(stage)
    checks = checks_for(stage, function, bonus=bonus)
    program = as_program(stage, learner)
    passed = []
    with program.worker(function) as worker:
        find_function(stage, function, worker)
        learner_function = LearnerFunction(stage, function, program, worker)
        for check in checks:
            if (visible_only and not check.visible) or (hidden_only and check.visible):
                continue
            learner_function.strict_warnings = check.strict_warnings
            learner_function.last_warnings = []
            with warnings.catch_warnings(record=True), np.errstate(all="ignore"):
                warnings.simplefilter("always")  # nothing a check does may reach stderr
                try:
                    check.run(learner_function)
                except GradingError as error:
                    error.check = check.name
                    if not isinstance(error, (NotWrittenYet, CallsReferenceError, LearnerFileError)):
                        error.args = (f"{error}\n  check:    {check.name} - {check.description}",)
                    raise
                except Exception as error:  # the check could not use what the function returned
                    raise GradingError(
                        f"{stage.label}, {function}(): the grader could not use what it returned "
                        f"({type(error).__name__}: {error}).\n"
                        f"  called:   {learner_function.last_call}\n"
                        f"  hint:     check the type and shape of what you return against the docstring "
                        f"(check {check.name}: {check.description})",
                        stage=stage.number, function=function, check=check.name) from None
            passed.append(check.name)
    return passed


__all__ = ["Check", "checker", "checks_for", "find_function", "list_checks", "run_checks"]
