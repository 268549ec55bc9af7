"""Grading of the mnist-kit curriculum: the checks of every stage and how to run them.

The same checks grade the pytest suites in exercises/ and the nbgrader notebooks:

    import grading
    program = grading.LearnerProgram.from_files("01")               # exercises/01_activations/activations.py
    grading.run_checks("01", "softmax", program)                    # in the sealed grading worker
    grading.run_checks("01", "softmax", program, visible_only=True) # only the visible checks
    grading.list_checks()          # {"01": {"relu": [Check, ...], ...}, ...}
    grading.load_learner_module("02")   # the learner's file in THIS process, for their own scripts

A failing check raises GradingError (an AssertionError) carrying the message for
the learner. See ARCHITECTURE.md, "Grading API".
"""

from .errors import CallsReferenceError, GradingError, LearnerFileError, NotWrittenYet
from .running.loading import load_learner_module
from .running.program import LearnerProgram
from .checks.registry import Check, checks_for, list_checks, run_checks
from .stages import STAGES, Stage, get_stage
from .build.stubs import SolutionBlock, render_learner_file, split_solution_blocks

__all__ = [
    "CallsReferenceError",
    "Check",
    "GradingError",
    "LearnerFileError",
    "LearnerProgram",
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
