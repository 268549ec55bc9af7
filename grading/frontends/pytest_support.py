"""What the thin test files in exercises/ call: grade one learner function under pytest.

    # exercises/01_activations/test_activations.py
    from grading.frontends.pytest_support import grade

    def test_relu():
        grade(__file__, "relu")

The stage is the name of the test file's folder and the learner's file sits
beside the test file. A failure becomes a pytest failure showing only the
teaching message (no traceback), so a fresh stub gives one short line.
"""

import os
from pathlib import Path

import pytest

from ..errors import GradingError
from ..running.loading import load_learner_module, own_stages
from ..checks.registry import run_checks
from ..stages import get_stage


def grade(test_file: "str | os.PathLike", function: str) -> None:
    """Load the learner's file next to `test_file` and run every check of `function`."""
    __tracebackhide__ = True
    folder = Path(test_file).resolve().parent
    stage = get_stage(folder.name)
    message = None
    try:
        module = load_learner_module(stage, folder / f"{stage.module}.py")
        run_checks(stage, function, module)
    except GradingError as error:
        message = str(error)
    if message is not None:  # outside the except block: no "during handling..." chain
        pytest.fail(message, pytrace=False)


def grade_earlier_stages(test_file: "str | os.PathLike") -> None:
    """For a stage that builds on the learner's own files (05 on 01-04, 06 on 01-03): every
    check of those stages on the learner's own files.

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
            module = load_learner_module(earlier, exercises_dir=exercises_dir)
            for function in earlier.functions:
                run_checks(earlier, function, module)
        except GradingError as error:
            first_line = str(error).splitlines()[0]
        if first_line is not None:
            pytest.fail(f"{stage.label} {what} YOUR functions of stages "
                        f"{stage.builds_on[0]}-{stage.builds_on[-1]}, "
                        f"and {earlier.label.lower()} is not finished yet: {first_line}\n"
                        f"  Finish it first:  {earlier.command}", pytrace=False)
