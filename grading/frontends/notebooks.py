"""Grading a submitted notebook in the sealed worker, test cell by test cell.

    result = grade_notebook(notebook, "03_backprop", sandbox=sandbox)
    result.tests["backward_prop_tests"].passed, .message, .mistake
    result.cells["one_hot_code"].output, .error        # what the student's own cells did

This is what nbgrader's autograde runs here (grading/frontends/nbgrader_sealed.py,
plugged in by grader/nbgrader_config.py) and what `mnist-kit autograde` runs on a
whole class. The notebook's code cells run in order in one namespace in the worker,
as a kernel would run them, except the graded test cells: their code never runs.
Instead, for each test cell (grade id `<function>_tests`), every check of that
function (the hidden ones too) runs here against the notebook's function, each
function graded on its own (the curriculum's other functions are the reference's
while it is). A cell that loops is ended after LOAD_TIME_LIMIT seconds and the
notebook runs again without it; the whole notebook has NOTEBOOK_TIME_LIMIT seconds.
"""

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..checks.registry import checks_for, run_checks
from ..errors import GradingError
from ..running.program import LearnerProgram
from ..sandbox import CellReport, Sandbox, SandboxError
from ..stages import Stage, get_stage

#: seconds a whole notebook may take (its cells and every check)
NOTEBOOK_TIME_LIMIT = 300.0
TEST_CELL = re.compile(r"(?P<function>\w+?)(?P<bonus>_bonus)?_tests")


@dataclass
class TestResult:
    """One graded test cell.

    Attributes:
        grade_id: the cell's nbgrader grade id, e.g. "relu_tests".
        function: the learner function it grades.
        passed: every check passed.
        ename: the error's class name when it failed ("GradingError", "NotWrittenYet", ...).
        message: the teaching message ("" when it passed).
        check: the failing check's name, or None.
        mistake: the hint of the mistake that check recognised, or None.
        checks_passed, checks_total: how far the checks got.
        bonus: the cell grades the function's bonus checks (its optional extras).
    """

    grade_id: str
    function: str
    passed: bool
    ename: str = ""
    message: str = ""
    check: str | None = None
    mistake: str | None = None
    checks_passed: int = 0
    checks_total: int = 0
    bonus: bool = False


@dataclass
class NotebookResult:
    """A graded notebook: its test cells' results and what its own cells did."""

    stage: Stage
    tests: dict[str, TestResult] = field(default_factory=dict)
    cells: dict[str, CellReport] = field(default_factory=dict)
    seconds: float = 0.0
    problem: str = ""


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _grade_id(cell: dict) -> str | None:
    nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
    value = nbgrader.get("grade_id")
    return str(value) if isinstance(value, str) else None


def test_cells(notebook: dict, stage: Stage) -> dict[str, str]:
    """{grade id: function} for the notebook's graded test cells of the stage's functions
    (`<function>_tests`: its core checks; `<function>_bonus_tests`: its bonus checks)."""
    found = {}
    for cell in notebook.get("cells") or []:
        grade_id = _grade_id(cell)
        nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
        match = TEST_CELL.fullmatch(grade_id or "")
        if cell.get("cell_type") == "code" and nbgrader.get("grade") and match \
                and match["function"] in stage.functions:
            found[grade_id] = match["function"]
    return found


def code_cells(notebook: dict, stage: Stage) -> list[dict]:
    """The code cells the worker runs, in order: every code cell but the graded test cells.

    Each is {"id", "source", "shown"}: its grade id (or cell id, or position) and how a
    message names it ("its cell" for the function's own solution cell, else "code cell N").
    """
    tests = test_cells(notebook, stage)
    cells, used = [], set()
    for position, cell in enumerate(notebook.get("cells") or []):
        if cell.get("cell_type") != "code" or _grade_id(cell) in tests:
            continue
        name = _grade_id(cell) or str(cell.get("id") or f"cell-{position}")
        while name in used:  # copies of a cell keep distinct names
            name += "'"
        used.add(name)
        cells.append({"id": name, "source": cell_source(cell), "number": position + 1})
    return cells


def notebook_message(message: str, stage: Stage, function: str, cells: list[dict]) -> str:
    """A grading message worded for a notebook: cells, not files under exercises/."""
    message = message.replace(f"in {stage.learner_relpath}", "in its cell")
    numbers = {cell["id"]: cell["number"] for cell in cells}

    def where(match: re.Match) -> str:
        cell_id = match["cell"]
        if cell_id == f"{function}_code":
            return f"raised at: its cell, line {match['line']}"
        number = numbers.get(cell_id)
        return f"raised at: cell {number}, line {match['line']}" if number else match[0]

    message = re.sub(r"raised at: <cell (?P<cell>[^>]+)>, line (?P<line>\d+)", where, message)
    return (message.replace("the README's shape table", "the shapes at the top of this notebook")
                   .replace("the equations in the README", "the equations at the top of this notebook"))


def grade_notebook(notebook: dict, stage: "Stage | str", *, sandbox: Sandbox,
                   time_limit: float = NOTEBOOK_TIME_LIMIT, call_seconds: float | None = None,
                   cell_seconds: float | None = None) -> NotebookResult:
    """Grade every test cell of `notebook` (an nbformat dict) for `stage` in `sandbox`.

    `time_limit` bounds the whole notebook, `call_seconds` one call of a learner function and
    `cell_seconds` one cell (None: the defaults of grading.running).
    """
    stage = get_stage(stage)
    started = time.monotonic()
    result = NotebookResult(stage)
    tests = test_cells(notebook, stage)
    cells = code_cells(notebook, stage)
    program = LearnerProgram.from_cells(stage, cells, sandbox=sandbox)
    program.call_seconds, program.load_seconds = call_seconds, cell_seconds
    try:
        for grade_id, function in tests.items():
            bonus = grade_id.endswith("_bonus_tests")
            total = len(checks_for(stage, function, bonus=bonus))
            if time.monotonic() - started > time_limit:
                result.tests[grade_id] = TestResult(
                    grade_id, function, False, "GradingError",
                    f"{stage.label}, {function}(): not graded - the notebook used up its {time_limit:g} s "
                    f"before this function's turn (a cell or a function that takes very long?).",
                    checks_total=total, bonus=bonus)
                continue
            try:
                names = run_checks(stage, function, program, bonus=bonus)
                result.tests[grade_id] = TestResult(grade_id, function, True, checks_passed=len(names),
                                                    checks_total=total, bonus=bonus)
            except GradingError as error:
                order = [check.name for check in checks_for(stage, function, bonus=bonus)]
                result.tests[grade_id] = TestResult(
                    grade_id, function, False, type(error).__name__,
                    notebook_message(str(error), stage, function, cells), error.check, error.mistake,
                    order.index(error.check) if error.check in order else 0, total, bonus)
            except SandboxError as error:  # its worker died (killed by the student's code?): this one fails
                result.tests[grade_id] = TestResult(
                    grade_id, function, False, "GradingError",
                    f"{stage.label}, {function}(): the grading worker stopped while checking it ({error}).",
                    checks_total=total, bonus=bonus)
        result.cells = {report.id: report for report in program.cells}
    finally:
        program.close()
    result.seconds = time.monotonic() - started
    return result


def failed_notebook(notebook: dict, stage: Stage, problem: str,
                    done: "dict[str, TestResult] | None" = None) -> NotebookResult:
    """The result of a notebook grading could not finish: every test cell not yet graded fails,
    saying why (so a regrade that failed never leaves an earlier score standing)."""
    result = NotebookResult(stage, tests=dict(done or {}), problem=problem)
    for grade_id, function in test_cells(notebook, stage).items():
        bonus = grade_id.endswith("_bonus_tests")
        result.tests.setdefault(grade_id, TestResult(grade_id, function, False, "GradingError",
                                                     f"{stage.label}, {function}(): {problem}",
                                                     checks_total=len(checks_for(stage, function, bonus=bonus)),
                                                     bonus=bonus))
    return result


def cell_outputs(report: CellReport | None) -> list[dict[str, Any]]:
    """nbformat outputs for a code cell the worker ran: its printed text, then its error."""
    if report is None:
        return []
    outputs: list[dict[str, Any]] = []
    if report.output:
        outputs.append({"output_type": "stream", "name": "stdout", "text": report.output})
    if report.timed_out:
        outputs.append({"output_type": "error", "ename": "CellTimeoutError",
                        "evalue": "this cell did not finish in time and was stopped; the notebook was run "
                                  "again without it",
                        "traceback": ["CellTimeoutError: this cell did not finish in time and was stopped"]})
    elif report.error:
        kind, message = str(report.error.get("type", "Error")), str(report.error.get("message", ""))
        where = report.error.get("where") or {}
        line = f" (line {where['line']})" if where.get("line") else ""
        outputs.append({"output_type": "error", "ename": kind, "evalue": message,
                        "traceback": [f"{kind}: {message}{line}"]})
    return outputs


def test_outputs(result: TestResult) -> list[dict[str, Any]]:
    """nbformat outputs for a graded test cell: none when it passed, else one error with the message.

    nbgrader scores a test cell with an error output 0 and one without full marks.
    """
    if result.passed:
        return []
    return [{"output_type": "error", "ename": result.ename or "GradingError", "evalue": result.message,
             "traceback": result.message.splitlines() or [result.ename]}]
