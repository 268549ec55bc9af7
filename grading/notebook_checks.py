"""What the test cells of the nbgrader notebooks (grader/source/) call.

    passed = notebook_checks("01_activations", "relu", globals(), visible_only=True)
    assert passed, "..."

It runs the same checks as the pytest suites (grading.run_checks) on the
function the notebook defined, and words the failure for a notebook: a stub
is "not written yet" in its cell, not in a file under exercises/. A failure
raises GradingError (an AssertionError), which nbgrader scores as 0 for that
test cell; success returns the names of the checks that ran, so the cell can
assert that some did (a cell whose checks all went missing must not score).
"""

from collections.abc import Mapping
from typing import Any

from .errors import GradingError, NotWrittenYet
from .registry import run_checks
from .stages import get_stage


def notebook_checks(stage: Any, function: str, namespace: Mapping[str, Any], *, visible_only: bool) -> list[str]:
    """Run the visible checks (visible_only=True) or all the checks of the notebook's `function`.

    Args:
        stage: the stage, e.g. "01_activations".
        function: the function's name, e.g. "relu".
        namespace: the notebook's globals(), where the function was defined.
        visible_only: True for the checks students see and run; False for all of them, the
            hidden ones included (what grading runs).

    Returns:
        The names of the checks that ran (all passed).

    Raises:
        GradingError: the first failing check, with the message for the student.
    """
    __tracebackhide__ = True
    stage = get_stage(stage)
    message = None
    try:
        return run_checks(stage, function, namespace, visible_only=visible_only)
    except NotWrittenYet as error:
        # the harness names the learner's file under exercises/; here the function lives in a cell
        message = str(error).replace(f"in {stage.learner_relpath}", "in its cell")
    raise NotWrittenYet(message, stage=stage.number, function=function)


__all__ = ["GradingError", "notebook_checks"]
