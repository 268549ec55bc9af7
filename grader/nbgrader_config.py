"""nbgrader configuration of the mnist-kit course (run nbgrader from this folder; see README.md).

Autograding is sealed: a submission's code never runs in nbgrader's kernel nor in this
process. grading.frontends.nbgrader_sealed.SealedExecute takes the place of nbgrader's
Execute: the notebook's cells run in the kit's grading worker (no network, no view of
this course, its gradebook or the kit, limited memory, processes and time), every
check runs here, and each graded test cell gets as its output nothing (passed) or
one error with the teaching message, which nbgrader scores as usual.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from grading.frontends.nbgrader_sealed import ForgetUnknownGradeIds, SealedExecute

c = get_config()  # noqa: F821 - nbgrader provides get_config when it loads this file

c.CourseDirectory.course_id = "mnist-kit"
# generate_assignment copies every other file of source/<stage>/ into the release: keep
# editor and Python leftovers out of it (the source folders hold only the notebook).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".pytest_cache", "feedback"]

# What a student sees in place of the solution code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Test cells a student deleted come back from the instructor's copy (as edited ones do).
c.OverwriteCells.add_missing_cells = True

# Feedback without the hidden tests (nbgrader's default feedback shows them).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]


class DeduplicateIdsKeepingMetadataValid(DeduplicateIds):
    """DeduplicateIds that leaves valid metadata behind.

    A student who copies a cell copies its nbgrader metadata, grade id included. nbgrader
    0.9.6 keeps the last copy and sets the metadata of the others to {}, which its own
    metadata check then rejects ("old version of the nbgrader metadata format"), so the
    whole submission goes ungraded (jupyter/nbgrader#1083). Here the earlier copies lose
    the metadata entirely: they run as ordinary cells and the last copy is graded.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


# nbgrader's own list, with DeduplicateIds replaced and ForgetUnknownGradeIds before
# OverwriteCells (a kit test checks it against nbgrader's default)
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIdsKeepingMetadataValid, OverwriteKernelspec, ForgetUnknownGradeIds, OverwriteCells,
    CheckCellMetadata,
]

# nbgrader's own list, with Execute replaced by SealedExecute
c.Autograde.autograde_preprocessors = [
    SealedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
    CheckCellMetadata,
]
