"""`mnist-kit report`: what a class got right and wrong, from what grading recorded.

    report = class_report(Path("grader"))            # reads the gradebook and autograded/
    write_report(report, Path("class-report"))       # the CSVs, the PNGs, report.html

It never runs a student's code. It reads:

  * the gradebook (read only): every student, every assignment, and per graded cell
    (grade id `<function>_tests`) the points as nbgrader counts them (a manual grade
    overrides the autograder's), so the numbers are those of `nbgrader export`;
  * each autograded notebook's test cells: the cell metadata "mnist_kit" the sealed
    grader wrote (grading/frontends/nbgrader_sealed.py: passed, the failing check, the
    recognised mistake's hint or none) and the error's name ("NotWrittenYet": the
    function is still the stub).

What it writes (every file atomically):

    scores.csv      one row per student, one column per function (points), and the total
    functions.csv   per function: points, mean score, share passing (full marks), share
                    failing, share not attempted, students with a recognised mistake
    mistakes.csv    per function, each recognised mistake (its hint): how many students
                    made it, their share of the class, and which students
    score_distribution.png   per assignment, how many students got each total score
    pass_rate.png            per function, the share passing / failing / not attempted
    mistakes.png             per function, its most frequent recognised mistakes
    report.html     all of it on one page, pictures embedded: it opens from the disk,
                    no server needed

Shares are of the whole class (every student in the gradebook): a student who did not
hand in an assignment counts as not attempting its functions, with 0 points. "Not
attempted" also means the function is still the release's stub (its test says it is not
written yet, or nbgrader found its cell unchanged: "No response.").
"""

import base64
import contextlib
import html
import io
import json
import os
import sqlite3
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kit_helpers import atomic_write

METADATA_KEY = "mnist_kit"
#: how many mistakes each function shows in the picture
TOP_MISTAKES = 3


class ReportError(Exception):
    """The course cannot be reported on (one line for the instructor)."""


@dataclass
class Outcome:
    """One student's result for one function (one graded cell)."""

    student: str
    assignment: str
    function: str
    score: float
    points: float
    status: str                  # "passed", "failed", "not attempted"
    mistake: str | None = None   # the recognised mistake's hint
    check: str | None = None     # the failing check


@dataclass
class ClassReport:
    """What the report is made of; the tables are pandas DataFrames."""

    course: Path
    students: list[str]
    assignments: list[str]
    functions: list[tuple[str, str, float]]   # (assignment, function, points), in course order
    outcomes: list[Outcome]
    handed_in: set = field(default_factory=set)   # (student, assignment) with a submission in the gradebook
    without_metadata: int = 0                 # graded notebooks with no "mnist_kit" metadata
    tables: dict[str, Any] = field(default_factory=dict)
    name: str = ""                            # the course id (nbgrader's), or the folder's name


# ----------------------------------------------------------------------------- reading
def _course_paths(course: Path) -> tuple[str, Any]:
    """(db_url, CourseDirectory) as nbgrader would use them in this course folder."""
    from ..frontends.class_grading import CourseError, check_config_file

    try:
        check_config_file(course)
    except CourseError as error:
        raise ReportError(str(error)) from None
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    coursedir = CourseDirectory(config=config, root=str(course))
    return coursedir.db_url, coursedir


#: How the report names the bonus part of a function (its own graded cell, `<function>_bonus_tests`).
BONUS = " (bonus)"


def _function_of(cell_name: str) -> str:
    """The function a graded cell grades: "relu_tests" -> "relu", "save_params_bonus_tests" ->
    "save_params (bonus)"; a code cell "relu_code" -> "relu"."""
    for suffix, label in (("_bonus_tests", BONUS), ("_tests", ""), ("_code", "")):
        if cell_name.endswith(suffix):
            return cell_name[: -len(suffix)] + label
    return cell_name


def class_report(course: Path) -> ClassReport:
    """Read the course's gradebook and autograded notebooks (see the module docstring)."""
    from ..frontends.class_grading import CourseError, check_gradebook

    course = Path(course).resolve()
    db_url, coursedir = _course_paths(course)
    try:
        path = check_gradebook(db_url)
    except CourseError as error:
        raise ReportError(str(error)) from None
    if path is None:
        raise ReportError(f"mnist-kit report reads SQLite gradebooks only (this course uses {db_url})")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        students = sorted(name for (name,) in db.execute("SELECT id FROM student"))
        assignments = [name for name, _ in sorted(db.execute("SELECT name, duedate FROM assignment"),
                                                  key=lambda row: _course_order(*row))]
        cells = db.execute("""
            SELECT assignment.name, notebook.name, base_cell.name, grade_cells.max_score
            FROM grade_cells JOIN base_cell ON grade_cells.id = base_cell.id
            JOIN notebook ON base_cell.notebook_id = notebook.id
            JOIN assignment ON notebook.assignment_id = assignment.id""").fetchall()
        grades = db.execute("""
            SELECT submitted_assignment.student_id, assignment.name, notebook.name, base_cell.name,
                   grade.auto_score, grade.manual_score, grade.extra_credit
            FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
            JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
            JOIN assignment ON submitted_assignment.assignment_id = assignment.id
            JOIN notebook ON submitted_notebook.notebook_id = notebook.id
            JOIN base_cell ON grade.cell_id = base_cell.id""").fetchall()
        unanswered = db.execute("""
            SELECT submitted_assignment.student_id, assignment.name, base_cell.name
            FROM comment JOIN submitted_notebook ON comment.notebook_id = submitted_notebook.id
            JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
            JOIN assignment ON submitted_assignment.assignment_id = assignment.id
            JOIN base_cell ON comment.cell_id = base_cell.id
            WHERE comment.auto_comment = 'No response.'""").fetchall()
        # an unanswered code cell leaves its function's core and bonus part not attempted
        no_response = {(student, assignment, _function_of(cell) + part)
                       for student, assignment, cell in unanswered for part in ("", BONUS)}
    if not students or not cells:
        raise ReportError(f"{path} holds no graded work yet: autograde the submissions first "
                          f"(mnist-kit autograde, or nbgrader autograde)")
    rank = {name: i for i, name in enumerate(assignments)}
    cells.sort(key=lambda c: (rank.get(c[0], 0), c[1], _position(c[1], _function_of(c[2])), c[2]))
    functions = [(assignment, _function_of(cell), float(points)) for assignment, _, cell, points in cells]
    notebook_of = {(assignment, _function_of(cell)): notebook for assignment, notebook, cell, _ in cells}
    scored = {}
    for student, assignment, notebook, cell, auto, manual, extra in grades:
        score = manual if manual is not None else (auto or 0.0)
        scored[(student, assignment, _function_of(cell))] = float(score) + float(extra or 0.0)

    recorded: dict[tuple[str, str, str], dict] = {}
    without = 0
    for student in students:
        for assignment in assignments:
            notebooks = {notebook_of[(a, f)] for a, f, _ in functions if a == assignment}
            for notebook in notebooks:
                file = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)) / \
                    f"{notebook}.ipynb"
                if not file.is_file():
                    continue
                found, missing = _recorded_cells(file)
                without += missing
                for function, facts in found.items():
                    recorded[(student, assignment, function)] = facts

    outcomes = []
    for student in students:
        for assignment, function, points in functions:
            key = (student, assignment, function)
            score = scored.get(key)
            facts = recorded.get(key, {})
            if score is None:
                status = "not attempted"  # not handed in
                score = 0.0
            elif score >= points and points > 0:
                status = "passed"
            elif facts.get("ename") == "NotWrittenYet" or key in no_response:
                status = "not attempted"
            else:
                status = "failed"
            mistake = facts.get("mistake") if status == "failed" and not facts.get("passed") else None
            outcomes.append(Outcome(student, assignment, function, score, points, status,
                                    mistake if isinstance(mistake, str) and mistake else None,
                                    facts.get("check") if status == "failed" else None))
    handed_in = {(student, assignment) for student, assignment, *_ in grades}
    report = ClassReport(course, students, assignments, functions, outcomes, handed_in, without)
    report.name = coursedir.course_id or course.name
    report.tables = tables(report)
    return report


def _called(function: str) -> str:
    """How a picture names a graded part: "relu()", "save_params() bonus"."""
    return f"{function.removesuffix(BONUS)}() bonus" if function.endswith(BONUS) else f"{function}()"


def _course_order(assignment: str, duedate: str | None) -> tuple:
    """How the report orders assignments: by due date, then the kit's curriculum (stage 06, the
    gradient check, comes after 03), then by name."""
    from ..stages import STAGES

    folders = [stage.folder for stage in STAGES]
    return (duedate is None, duedate or "", folders.index(assignment) if assignment in folders else len(folders),
            assignment)


def _position(notebook: str, function: str) -> int:
    """Where `function` comes in its stage (the notebook's order); other cells after them."""
    from ..stages import UnknownStageError, get_stage

    try:
        functions = list(get_stage(notebook).functions)
    except (KeyError, UnknownStageError):
        return 0
    function, bonus = function.removesuffix(BONUS), function.endswith(BONUS)
    return 2 * (functions.index(function) if function in functions else len(functions)) + bonus


def _recorded_cells(path: Path) -> tuple[dict[str, dict], int]:
    """{function: {"passed", "mistake", "check", "ename"}} of the graded test cells of an autograded
    notebook, and how many of its graded cells carry no "mnist_kit" metadata."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, 0
    found, missing = {}, 0
    for cell in notebook.get("cells") or []:
        nbgrader = (cell.get("metadata") or {}).get("nbgrader") or {}
        if not nbgrader.get("grade") or not isinstance(nbgrader.get("grade_id"), str):
            continue
        facts = dict((cell.get("metadata") or {}).get(METADATA_KEY) or {})
        if not facts:
            missing += 1
        errors = [o for o in cell.get("outputs") or [] if o.get("output_type") == "error"]
        facts["ename"] = errors[0].get("ename") if errors else None
        found[_function_of(nbgrader["grade_id"])] = facts
    return found, missing


# ----------------------------------------------------------------------------- tables
def tables(report: ClassReport) -> dict[str, Any]:
    """scores, functions and mistakes as pandas DataFrames."""
    import pandas as pd

    names = [function for _, function, _ in report.functions]
    unique = len(set(names)) == len(names)
    column = {(a, f): (f if unique else f"{a}/{f}") for a, f, _ in report.functions}
    rows = pd.DataFrame([vars(o) for o in report.outcomes])
    scores = rows.pivot_table(index="student", columns=["assignment", "function"], values="score",
                              aggfunc="sum", sort=False)
    scores = scores.reindex(index=report.students,
                            columns=pd.MultiIndex.from_tuples([(a, f) for a, f, _ in report.functions]))
    scores.columns = [column[key] for key in scores.columns]
    scores["total"] = scores.sum(axis=1)
    scores.index.name = "student"

    class_size = len(report.students)
    per_function = []
    for assignment, function, points in report.functions:
        mine = rows[(rows.assignment == assignment) & (rows.function == function)]
        per_function.append({
            "assignment": assignment, "function": function, "points": points, "students": class_size,
            "mean_score": round(float(mine.score.mean()), 4),
            "share_passing": round(float((mine.status == "passed").mean()), 4),
            "share_failing": round(float((mine.status == "failed").mean()), 4),
            "share_not_attempted": round(float((mine.status == "not attempted").mean()), 4),
            "recognised_mistakes": int(mine.mistake.notna().sum()),
        })
    functions = pd.DataFrame(per_function)

    made = rows[rows.mistake.notna()]
    mistakes = []
    for (assignment, function, mistake), group in made.groupby(["assignment", "function", "mistake"], sort=False):
        mistakes.append({"assignment": assignment, "function": function, "mistake": mistake,
                         "students": int(len(group)), "share": round(len(group) / class_size, 4),
                         "checks": " ".join(sorted(set(group.check.dropna()))),
                         "which": " ".join(sorted(group.student))})
    order = {(a, f): i for i, (a, f, _) in enumerate(report.functions)}
    mistakes = pd.DataFrame(mistakes, columns=["assignment", "function", "mistake", "students", "share", "checks",
                                               "which"])
    if len(mistakes):
        mistakes["_order"] = [order[(a, f)] for a, f in zip(mistakes.assignment, mistakes.function)]
        mistakes = mistakes.sort_values(["_order", "students", "mistake"], ascending=[True, False, True])
        mistakes = mistakes.drop(columns="_order").reset_index(drop=True)
    totals = {assignment: scores[[column[(a, f)] for a, f, _ in report.functions if a == assignment]].sum(axis=1)
              for assignment in report.assignments}
    return {"scores": scores, "functions": functions, "mistakes": mistakes, "totals": totals}


# ----------------------------------------------------------------------------- pictures
def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _integers():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def score_distribution(report: ClassReport):
    """One histogram per assignment: how many of the students who handed it in got each total score."""
    import numpy as np

    assignments = report.assignments
    columns = min(3, max(1, len(assignments)))
    rows = -(-len(assignments) // columns)
    figure = _figure(4.2 * columns, 3.2 * rows + 0.6)
    figure.suptitle(f"Score distribution per assignment (of {len(report.students)} students, those who "
                    f"handed it in)", fontsize=14)
    for index, assignment in enumerate(assignments):
        axes = figure.add_subplot(rows, columns, index + 1)
        maximum = sum(points for a, _, points in report.functions if a == assignment)
        column = report.tables["totals"][assignment]
        totals = column[[(student, assignment) in report.handed_in for student in column.index]].to_numpy(float)
        edges = np.arange(-0.5, maximum + 1.0, 1.0) if maximum <= 40 else np.linspace(0, maximum, 21)
        axes.hist(totals, bins=edges, color="tab:blue", edgecolor="white")
        if not len(totals):
            axes.text(0.5, 0.5, "nobody handed it in", transform=axes.transAxes, ha="center", va="center")
            axes.set_ylim(0, 1)
            axes.set_yticks([])
        axes.set_title(f"{assignment} ({len(totals)} handed in)")
        axes.set_xlabel(f"score (points out of {maximum:g})")
        axes.set_ylabel("students")
        axes.set_xlim(edges[0], edges[-1])
        if len(totals):
            axes.yaxis.set_major_locator(_integers())
    return figure


def pass_rate(report: ClassReport):
    """Per function, the share of the class passing, failing and not attempting it."""
    functions = report.tables["functions"]
    labels = [f"{a[:2]} {_called(f)}" for a, f in zip(functions.assignment, functions.function)]
    figure = _figure(10, 0.38 * len(labels) + 1.6)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for name, colour in (("share_passing", "tab:green"), ("share_failing", "tab:red"),
                         ("share_not_attempted", "tab:gray")):
        values = (functions[name] * 100).tolist()
        axes.barh(positions, values, left=left, color=colour, label=name.removeprefix("share_").replace("_", " "))
        left = [l + v for l, v in zip(left, values)]
    for position, share in zip(positions, functions.share_passing):
        axes.text(1, position, f"{share:.0%}", va="center", ha="left", color="white", fontsize=9,
                  fontweight="bold")
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, 100)
    axes.set_xlabel("share of the class (%)")
    axes.set_ylabel("function (assignment number)")
    axes.set_title(f"Pass rate per function ({len(report.students)} students)")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=3, frameon=False)
    return figure


def _wrapped(text: str, width: int = 48, lines: int = 3) -> str:
    parts = textwrap.wrap(text, width)
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 3].rstrip() + "..."
    return "\n".join(parts)


def top_mistakes(report: ClassReport, top: int = TOP_MISTAKES):
    """Per function with recognised mistakes, its `top` most frequent ones (students per mistake)."""
    mistakes = report.tables["mistakes"]
    groups = [(key, group.head(top)) for key, group in mistakes.groupby(["assignment", "function"], sort=False)]
    if not groups:
        figure = _figure(8, 2.5)
        figure.suptitle("Top recognised mistakes per function", fontsize=14)
        axes = figure.add_subplot()
        axes.axis("off")
        axes.text(0.5, 0.5, "no recognised mistakes in this class", ha="center", va="center", fontsize=12)
        return figure
    heights = [0.9 * len(group) + 0.9 for _, group in groups]
    figure = _figure(11, sum(heights) + 0.8)
    figure.suptitle(f"Top recognised mistakes per function (students who made each, of {len(report.students)})",
                    fontsize=14)
    grid = figure.add_gridspec(len(groups), 1, height_ratios=heights)
    most = max(int(mistakes.students.max()), 1)
    for index, ((assignment, function), group) in enumerate(groups):
        axes = figure.add_subplot(grid[index])
        positions = list(range(len(group)))[::-1]
        axes.barh(positions, group.students, color="tab:orange")
        axes.set_yticks(positions, [_wrapped(m) for m in group.mistake], fontsize=9)
        for position, count in zip(positions, group.students):
            axes.text(count, position, f" {count}", va="center", fontsize=9)
        axes.set_xlim(0, most * 1.15)
        axes.set_title(f"{_called(function)}  ({assignment})", loc="left", fontsize=11)
        axes.set_xlabel("students")
        axes.xaxis.set_major_locator(_integers())
    return figure


# ----------------------------------------------------------------------------- writing
PICTURES = {"score_distribution.png": score_distribution, "pass_rate.png": pass_rate,
            "mistakes.png": top_mistakes}


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    with atomic_write(path) as file:
        file.write(data)
        os.fchmod(file.fileno(), 0o644)  # a report is for reading (atomic_write's file is private)


def write_report(report: ClassReport, out: Path) -> list[Path]:
    """Write the CSVs, the PNGs and report.html into `out` (see the module docstring)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t = report.tables
    written = []
    for name, frame, index in (("scores.csv", t["scores"], True), ("functions.csv", t["functions"], False),
                               ("mistakes.csv", t["mistakes"], False)):
        _write(out / name, frame.to_csv(index=index).encode("utf-8"))
        written.append(out / name)
    images = {}
    for name, draw in PICTURES.items():
        images[name] = _png(draw(report))
        _write(out / name, images[name])
        written.append(out / name)
    _write(out / "report.html", render_html(report, images).encode("utf-8"))
    written.append(out / "report.html")
    return written


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.note { color: #555; font-size: 0.9em; }
"""


def _table(frame, *, index: bool = False) -> str:
    return frame.to_html(index=index, border=0, escape=True, float_format=lambda x: f"{x:g}",
                         classes="data", na_rep="")


def render_html(report: ClassReport, images: dict[str, bytes]) -> str:
    """One self-contained page: the summary, the pictures (embedded) and the tables."""
    t = report.tables
    functions = t["functions"].copy()
    for name in ("share_passing", "share_failing", "share_not_attempted"):
        functions[name] = [f"{v:.0%}" for v in functions[name]]
    mistakes = t["mistakes"].copy()
    if len(mistakes):
        mistakes["share"] = [f"{v:.0%}" for v in mistakes["share"]]
    totals = []
    for assignment in report.assignments:
        column = t["totals"][assignment]
        maximum = sum(points for a, _, points in report.functions if a == assignment)
        count = sum((student, assignment) in report.handed_in for student in report.students)
        totals.append(f"<tr><td>{html.escape(assignment)}</td><td class='num'>{count}</td>"
                      f"<td class='num'>{column.mean():.2f}</td>"
                      f"<td class='num'>{column.median():g}</td><td class='num'>{maximum:g}</td>"
                      f"<td class='num'>{int((column >= maximum).sum())}</td></tr>")
    pictures = "".join(
        f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
        f"src='data:image/png;base64,{base64.b64encode(images[name]).decode()}'>"
        for name, title in (("score_distribution.png", "Score distribution per assignment"),
                            ("pass_rate.png", "Pass rate per function"),
                            ("mistakes.png", "Top recognised mistakes per function")))
    note = ""
    if report.without_metadata:
        note = (f"<p class='note'>{report.without_metadata} graded cells carry no record of what grading found "
                f"(graded before sealed grading?): their mistakes are not counted.</p>")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class report: {html.escape(report.name)}</title>
<style>{STYLE}</style></head><body>
<h1>Class report: {html.escape(report.name)}</h1>
<p>{len(report.students)} students, {len(report.assignments)} assignments, {len(report.functions)} graded
functions; made {when} from the gradebook and the autograded notebooks of {html.escape(str(report.course))}.
The tables are also in scores.csv, functions.csv and mistakes.csv beside this file.</p>{note}
<h2>Assignments</h2>
<p class='note'>Means and shares are over the whole class: a student who did not hand an assignment in
counts as 0 points and as not attempting its functions.</p>
<table><tr><th>assignment</th><th>handed in</th><th>mean score</th><th>median</th><th>points</th><th>students with full marks</th></tr>
{''.join(totals)}</table>
{pictures}
<h2>Per function</h2>{_table(functions)}
<h2>Recognised mistakes</h2>
<p class='note'>Each row: a mistake the checks recognised (its hint), how many students made it and who.</p>
{_table(mistakes) if len(mistakes) else "<p>None recognised.</p>"}
</body></html>
"""


__all__ = ["ClassReport", "Outcome", "ReportError", "class_report", "write_report"]
