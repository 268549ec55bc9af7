"""nbgrader preprocessors of the mnist-kit course (grader/nbgrader_config.py plugs them in).

    SealedExecute          replaces nbgrader's Execute: the submission's code cells run in the
                           sealed worker, never in a kernel of ours, and each graded test cell
                           gets as its output either nothing (passed) or one error holding the
                           teaching message, which is what nbgrader scores (an error: 0 points)
    ForgetUnknownGradeIds  before OverwriteCells: a cell whose grade id is not in this notebook's
                           source (copied from another assignment) loses its nbgrader metadata
                           and runs as an ordinary cell, instead of failing the whole notebook

Both keep nbgrader's own gradebook, feedback and export as they are: what they
change is only how the outputs of the cells come about.
"""

from nbformat import from_dict
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from ..sandbox import Sandbox
from ..stages import get_stage
from . import notebooks

#: the cell metadata key holding what grading found (for `mnist-kit report`)
METADATA_KEY = "mnist_kit"


class SealedExecute(NbGraderPreprocessor):
    """Run a submission's cells in the sealed worker and grade its test cells there."""

    notebook_time_limit = Float(notebooks.NOTEBOOK_TIME_LIMIT,
                                help="Seconds one notebook may take, cells and checks together").tag(config=True)
    call_time_limit = Float(0.0, help="Seconds one call of a student's function may take "
                                      "(0: the kit's default)").tag(config=True)
    cell_time_limit = Float(0.0, help="Seconds one cell of the notebook may take (0: the kit's default)").tag(config=True)

    def preprocess(self, nb, resources):
        name = resources.get("nbgrader", {}).get("notebook") or resources.get("unique_key", "")
        try:
            stage = get_stage(name)
        except KeyError:
            self.log.error("SealedExecute: %r is not a stage of the course; its cells were not run", name)
            return nb, resources
        notebook = nb if isinstance(nb, dict) else dict(nb)
        try:
            with Sandbox() as sandbox:
                self.log.info("Grading %s in the sealed worker: %s", name, "; ".join(sandbox.report))
                result = notebooks.grade_notebook(notebook, stage, sandbox=sandbox,
                                                  time_limit=self.notebook_time_limit,
                                                  call_seconds=self.call_time_limit or None,
                                                  cell_seconds=self.cell_time_limit or None)
        except Exception as error:  # never leave an earlier score standing: every test cell says why
            result = notebooks.failed_notebook(notebook, stage, f"grading could not run: {error}")
        if result.problem:
            self.log.error("%s: %s (every test cell scores 0 and its feedback says why)", name, result.problem)
        apply_result(nb, stage, result)
        resources.setdefault(METADATA_KEY, {})[name] = result
        return nb, resources


def apply_result(nb, stage, result: notebooks.NotebookResult) -> None:
    """Write a NotebookResult into the notebook's cells: outputs, and what grading found."""
    names = {cell["id"]: cell for cell in notebooks.code_cells(nb, stage)}
    ids = iter(names)
    count = 0
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        count += 1
        cell["execution_count"] = count
        grade_id = notebooks._grade_id(cell)
        if grade_id in result.tests:
            test = result.tests[grade_id]
            cell["outputs"] = from_dict(notebooks.test_outputs(test))
            cell.setdefault("metadata", from_dict({}))[METADATA_KEY] = from_dict({
                "function": test.function, "passed": test.passed, "check": test.check, "mistake": test.mistake,
                "checks_passed": test.checks_passed, "checks_total": test.checks_total, "bonus": test.bonus})
        else:
            cell["outputs"] = from_dict(notebooks.cell_outputs(result.cells.get(next(ids, None))))


class ForgetUnknownGradeIds(NbGraderPreprocessor):
    """Strip the nbgrader metadata of cells whose grade id the notebook's source does not have."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            try:
                source = gradebook.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return nb, resources
            known = {cell.name for cell in source.source_cells}
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id is not None and grade_id not in known:
                self.log.warning("Cell %r is not part of %s: it runs as an ordinary cell", grade_id, info["notebook"])
                del cell.metadata["nbgrader"]
        return nb, resources
