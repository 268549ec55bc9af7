"""The hint for an exception the student's code raised, for the runner: in the kit, grading/running/raised_hints.py.

The student edition (grader/student/mnist_kit_student/) gets a copy of
grading/running/raised_hints.py under this name (its import of parse_line pointed at
the copy of shape_errors.py beside it), so that a student's exception gets the
sealed grader's own hint: Python's max() on an array, `*` for a matrix product, a
flattened bias, a transpose needed...
"""

from ..running.raised_hints import SHAPES_HINT, explain_raised

__all__ = ["SHAPES_HINT", "explain_raised"]
