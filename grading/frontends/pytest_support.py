"""What the thin test files in exercises/ call: grade one learner function under pytest.

    # exercises/01_activations/test_activations.py
    from grading.frontends.pytest_support import grade

    def test_relu():
        grade(__file__, "relu")

The stage is the name of the test file's folder and the learner's file sits
beside the test file. The learner's code runs in the sealed grading worker, never
in pytest's own process (grading/running/program.py). A failure becomes a pytest
failure showing only the teaching message (no traceback), so a fresh stub gives
one short line.

Bonus checks (the optional extras of stage 05) have tests of their own,
`test_bonus_<function>`, marked `bonus`, which call `grade_bonus`:

    @bonus
    def test_bonus_plot_history():
        grade_bonus(__file__, "plot_history")

A failing extra does not fail the suite: its test is reported as xfailed (the
stage is done without it), and one line at the end of the run sums the extras up
(this module is also the pytest plugin that prints it; the stage folder's
conftest.py imports its hooks). Asked for with `-m bonus`, a failing extra fails
with its whole message.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..errors import GradingError, NotWrittenYet
from ..running.program import LearnerProgram, own_stages
from ..checks.registry import checks_for, run_checks
from ..stages import get_stage

def bonus(test):
    """Mark `test` as a bonus test: `python -m pytest exercises/05_train_mnist -m bonus` runs only those.

    (The mark is made when a test is decorated, after the stage's conftest.py registered it, so that
    a suite without bonus tests never meets an unknown mark.)
    """
    return pytest.mark.bonus(test)


def grade(test_file: "str | os.PathLike", function: str) -> None:
    """Load the learner's file next to `test_file` and run the core checks of `function`."""
    __tracebackhide__ = True
    folder = Path(test_file).resolve().parent
    stage = get_stage(folder.name)
    assert checks_for(stage, function, bonus=False), f"{function}() has only bonus checks: use grade_bonus"
    message = None
    try:
        program = LearnerProgram.from_files(stage, folder / f"{stage.module}.py")
        run_checks(stage, function, program, bonus=False)
    except GradingError as error:
        message = str(error)
    if message is not None:  # outside the except block: no "during handling..." chain
        pytest.fail(message, pytrace=False)


def grade_bonus(test_file: "str | os.PathLike", function: str) -> None:
    """Run the bonus checks of `function`: xfail on a failure (it does not block the stage), unless
    the bonus tests were asked for (`-m bonus`), then fail with the whole message."""
    __tracebackhide__ = True
    folder = Path(test_file).resolve().parent
    stage = get_stage(folder.name)
    checks = checks_for(stage, function, bonus=True)
    assert checks, f"{function}() has no bonus checks: use grade"
    error = None
    try:
        program = LearnerProgram.from_files(stage, folder / f"{stage.module}.py")
        run_checks(stage, function, program, bonus=True)
    except GradingError as raised:
        error = raised
    _BONUS.results.append(BonusResult(stage.folder, function, len(checks), error))
    if error is None:
        return
    if _BONUS.asked:
        pytest.fail(str(error), pytrace=False)
    pytest.xfail(str(error))


def grade_earlier_stages(test_file: "str | os.PathLike") -> None:
    """For a stage that builds on the learner's own files (05 on 01-04, 06 on 01-03): every
    check of those stages (the bonus ones aside) on the learner's own files.

    Fails naming the first stage that is not finished and the command that grades it.
    """
    __tracebackhide__ = True
    folder = Path(test_file).resolve().parent
    stage = get_stage(folder.name)
    assert stage.builds_on, f"{stage.label} is graded on its own: it has no earlier stages to grade"
    exercises_dir = folder.parent
    what = ("trains the network built from" if stage.number == "05" else "checks the gradients of")
    for earlier in own_stages(stage):
        first_line = None
        try:
            program = LearnerProgram.from_files(earlier, exercises_dir=exercises_dir)
            for function in earlier.functions:
                run_checks(earlier, function, program, bonus=False)
        except GradingError as error:
            first_line = str(error).splitlines()[0]
        if first_line is not None:
            pytest.fail(f"{stage.label} {what} YOUR functions of stages "
                        f"{stage.builds_on[0]}-{stage.builds_on[-1]}, "
                        f"and {earlier.label.lower()} is not finished yet: {first_line}\n"
                        f"  Finish it first:  {earlier.command}", pytrace=False)


# ------------------------------------------------------------------ the bonus summary (a pytest plugin)
@dataclass
class BonusResult:
    """One bonus test: the stage folder, the function, how many extras it checks, and its failure (or None)."""

    folder: str
    function: str
    checks: int
    error: GradingError | None


@dataclass
class _BonusState:
    results: list[BonusResult] = field(default_factory=list)
    asked: bool = False          # -m bonus
    summarised: bool = False


_BONUS = _BonusState()


def pytest_configure(config: pytest.Config) -> None:
    """Register the `bonus` marker and note whether the bonus tests were asked for."""
    config.addinivalue_line("markers", "bonus: an optional extra; failing it does not keep the stage from "
                                       "being done (reported as xfailed, summed up in one line)")
    _BONUS.results.clear()
    _BONUS.asked = "bonus" in (config.getoption("markexpr", "") or "").replace("not bonus", "")
    _BONUS.summarised = False


def bonus_summary(results: list[BonusResult], *, asked: bool = False) -> str:
    """The one line summing up the extras, e.g.
    "Bonus (optional, not needed for done): 1 of 3 extras pass - not yet: plot_history() (not written yet) ..."."""
    passing = [r for r in results if r.error is None]
    if len(passing) == len(results):
        return f"Bonus (optional extras): all {len(results)} pass - well done."
    pending = []
    for result in results:
        if result.error is None:
            continue
        why = ("not written yet" if isinstance(result.error, NotWrittenYet)
               else f"check {result.error.check}" if result.error.check else "fails")
        pending.append(f"{result.function}() ({why})")
    folders = sorted({r.folder for r in results})
    where = " ".join(f"exercises/{folder}" for folder in folders)
    see_why = "" if asked else f". See why: python -m pytest {where} -m bonus"
    return (f"Bonus (optional extras, not needed for the stage to be done): {len(passing)} of {len(results)} "
            f"pass - not yet: {', '.join(pending)}{see_why}")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Print the bonus line once, after the run (when bonus tests ran)."""
    if _BONUS.results and not _BONUS.summarised:
        _BONUS.summarised = True
        terminalreporter.write_line(bonus_summary(_BONUS.results, asked=_BONUS.asked))
