"""nbgrader configuration of the mnist-kit course (run nbgrader from this folder; see README.md)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

c = get_config()  # noqa: F821 - nbgrader provides get_config when it loads this file

c.CourseDirectory.course_id = "mnist-kit"
# generate_assignment copies every other file of source/<stage>/ into the release: keep
# editor and Python leftovers out of it (the source folders hold only the notebook).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".pytest_cache", "feedback"]

# What a student sees in place of the solution code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Running the submissions. The notebooks ask for the kernel "python3": run nbgrader from the
# kit's virtual environment so that kernel is its Python (with numpy and grading installed).
# Each cell gets this many seconds; a cell still running then (an endless loop) is
# interrupted and scores 0, and the rest of the notebook is graded as usual.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True
# Short tracebacks: a failing check shows its message, not the source lines of the test cell
# (which would print the hidden tests into the feedback).
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

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


# nbgrader's own list, with DeduplicateIds replaced (a kit test checks it against nbgrader's default)
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIdsKeepingMetadataValid, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]


class IgnoreValuesShownByTestCells(NbGraderPreprocessor):
    """Drop the values ("Out[n]:" results) a test cell displayed before its grade is read.

    nbgrader scores a test cell by its outputs: an error or stderr gives 0, and otherwise the
    first displayed value, if it is a number, IS the score (any other value: full marks). The
    kit's test cells display nothing (they end in an assert), so a value there can only come
    from a student's function run by the checks, e.g. one calling sys.displayhook("ok") to
    claim full marks for wrong code, or displaying 1000 to crash the grading of the notebook.
    Without those values, a test cell scores by its errors and stderr alone.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [output for output in cell.outputs if output.output_type != "execute_result"]
        return cell, resources


# nbgrader's own list, with IgnoreValuesShownByTestCells run before the grades are saved
c.Autograde.autograde_preprocessors = [
    Execute, IgnoreValuesShownByTestCells, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
