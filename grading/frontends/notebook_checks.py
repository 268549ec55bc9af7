"""What the test cells of the nbgrader notebooks (grader/source/) call.

    passed = notebook_checks("01_activations", "relu", globals(), visible_only=True)
    assert passed, "..."

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
        GradingError: the first failing check, with the message for the student (the same
            subclass and attributes as grading.run_checks raised).
    """
    __tracebackhide__ = True
    stage = get_stage(stage)
    try:
        return run_checks(stage, function, namespace, visible_only=visible_only)
    except GradingError as error:
        failure = error
    message = str(failure).replace(f"in {stage.learner_relpath}", "in its cell")
    for pattern, replacement in _FOR_A_NOTEBOOK:
        message = re.sub(pattern, replacement, message)
    # raised outside the except block: no "During handling of the above exception" in the output
    raise type(failure)(message, stage=failure.stage, function=failure.function, check=failure.check,
                        mistake=failure.mistake)


__all__ = ["GradingError", "notebook_checks"]
