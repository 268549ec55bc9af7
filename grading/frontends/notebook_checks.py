"""What the test cells of the nbgrader notebooks (grader/source/) call.

    passed = notebook_checks("01_activations", "relu", globals(), visible_only=True)
    assert passed, "..."
    passed = notebook_bonus_checks("05_train_mnist", "plot_history", globals())   # the extras' own cell

It runs the same checks as the pytest suites (grading.run_checks) on the
function the notebook defined, and words the failure for a notebook: a stub
is "not written yet" in its cell, not in a file under exercises/, and an error
is raised in "its cell", not in a numbered file of the kernel's. A failure
raises GradingError (an AssertionError), which nbgrader scores as 0 for that
test cell; success returns the names of the checks that ran, so the cell can
assert that some did (a cell whose checks all went missing must not score).
"""

import re
from collections.abc import Mapping
from typing import Any

from ..errors import GradingError
from ..checks.registry import run_checks
from ..stages import get_stage


#: What the harness says about a learner's file, and what it means in a notebook. The ipykernel
#: names a cell's code after a number ("/tmp/ipykernel_123/4567.py"), which says nothing to a student.
_FOR_A_NOTEBOOK: tuple[tuple[str, str], ...] = (
    (r"raised at: \d+\.py, line (\d+)", r"raised at: its cell, line \1"),
    (r"the README's shape table", "the shapes at the top of this notebook"),
    (r"the equations in the README", "the equations at the top of this notebook"),
)


def notebook_checks(stage: Any, function: str, namespace: Mapping[str, Any], *, visible_only: bool) -> list[str]:
    """Run the visible core checks (visible_only=True) or all the core checks of the notebook's `function`
    (its bonus checks have a cell of their own: notebook_bonus_checks).

    Args:
        stage: the stage, e.g. "01_activations".
        function: the function's name, e.g. "relu".
        namespace: the notebook's globals(), where the function was defined.
        visible_only: True for the checks students see and run; False for all of them, the
            hidden ones included (what grading runs).

    Returns:
        The names of the checks that ran (all passed).

    Raises:
        GradingError: the first failing check, with the message for the student (the same
            subclass and attributes as grading.run_checks raised).
    """
    __tracebackhide__ = True
    stage = get_stage(stage)
    try:
        return run_checks(stage, function, namespace, visible_only=visible_only, bonus=False)
    except GradingError as error:
        failure = error
    _raise_for_a_notebook(stage, failure)


def notebook_bonus_checks(stage: Any, function: str, namespace: Mapping[str, Any]) -> list[str]:
    """Run every bonus check of the notebook's `function` (the optional extras of stage 05).

    The extras are not split into visible and hidden checks: a bonus test cell runs, for the
    student, exactly the checks that grade it. Returns and raises as notebook_checks does.
    """
    __tracebackhide__ = True
    stage = get_stage(stage)
    try:
        return run_checks(stage, function, namespace, bonus=True)
    except GradingError as error:
        failure = error
    _raise_for_a_notebook(stage, failure)


def _raise_for_a_notebook(stage: Any, failure: GradingError) -> None:
    """Raise `failure` again, its message worded for a notebook cell."""
    __tracebackhide__ = True
    message = str(failure).replace(f"in {stage.learner_relpath}", "in its cell")
    for pattern, replacement in _FOR_A_NOTEBOOK:
        message = re.sub(pattern, replacement, message)
    # raised outside the except block: no "During handling of the above exception" in the output
    raise type(failure)(message, stage=failure.stage, function=failure.function, check=failure.check,
                        mistake=failure.mistake)


__all__ = ["GradingError", "notebook_bonus_checks", "notebook_checks"]
