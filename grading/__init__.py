"""Grading of the mnist-kit curriculum: the checks of every stage and how to run them.

The same checks grade the pytest suites in exercises/ and the nbgrader notebooks:

    import grading
    grading.run_checks("01", "softmax", globals())                 # a notebook's functions
    grading.run_checks("01", "softmax", module, visible_only=True) # only the visible checks
    grading.list_checks()          # {"01": {"relu": [Check, ...], ...}, ...}
    grading.load_learner_module("02")   # exercises/02_forward_pass/forward.py, imports resolved

A failing check raises GradingError (an AssertionError) carrying the message for
the learner. See ARCHITECTURE.md, "Grading API".
"""

from .errors import CallsReferenceError, GradingError, LearnerFileError, NotWrittenYet
from .running.loading import load_learner_module
from .checks.registry import Check, checks_for, list_checks, run_checks
from .stages import STAGES, Stage, get_stage
from .build.stubs import SolutionBlock, render_learner_file, split_solution_blocks

__all__ = [
    "CallsReferenceError",
    "Check",
    "GradingError",
    "LearnerFileError",
    "NotWrittenYet",
    "STAGES",
    "SolutionBlock",
    "Stage",
    "checks_for",
    "get_stage",
    "list_checks",
    "load_learner_module",
    "render_learner_file",
    "run_checks",
    "split_solution_blocks",
]
