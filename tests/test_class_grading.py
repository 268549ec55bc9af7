"""`mnist-kit autograde` on a whole class: the same scores as `nbgrader autograde`, and the class report.

One class of 33 students (tests/class_course.py builds their notebooks from the release)
is graded twice, each on its own copy of the course: by a serial `nbgrader autograde "*"`
(the reference: the course's own SealedExecute) and by `mnist-kit autograde --workers 2`.
The tests compare the two cell by cell, check the scores against what each student
handed in, run `nbgrader export` and `generate_feedback` after mnist-kit, grade a third
copy on a Dask LocalCluster, and check the class report's every count against the class.
Short limits (a call 5 s, a cell 5 s) keep the endless loops cheap. The tests marked
`long` run nbgrader or a cluster (tens of seconds each); CI runs them all.

The class (student: what they handed in -> what it must score):

    correct01a-d        01 (a, b also 02) the reference            full marks
    correct02a-b, correct03a-b, correct04a-b   the reference of that stage
    stubs01a-b          01 the release as handed out               0, nothing attempted
    partial01           01 relu and softmax, relu_deriv a stub     relu + softmax
    m_<mistake>[_n]     a mistake of tests/mistakes/ in one function (the others right):
                        1 to 3 students each, so the report has counts to check
    loop01              01 relu loops forever                      relu_deriv + softmax
    loopcell02          02 right, plus a cell looping at the top level   full marks
    tamper01            01 relu right, test cells edited, deleted, copied    relu
    hacker01            01 wrong functions, a cell patching the grader       0
    reference01         01 every function imported from the reference        0
    broken01            01 a file that is not JSON                  failed to grade: 0, flagged
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from class_course import (ALL, Course, cell, mistake_body, reference_bodies, solved, tampered, with_body,
                          with_cell)
from grading.build.notebooks import BONUS_POINTS, POINTS
from grading.stages import REPO_ROOT, STAGES, get_stage

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")
if not (Path(sys.executable).parent / "nbgrader").is_file():
    pytest.skip("no nbgrader command beside this Python", allow_module_level=True)

MISTAKES = REPO_ROOT / "tests" / "mistakes"
CALL_LIMIT = LOAD_LIMIT = 5.0

#: (mistake file, how many students hand it in); two files share one hint (get_predictions)
MISTAKE_STUDENTS = [
    ("01_activations/softmax_wrong_axis.py", 3),
    ("01_activations/softmax_global_sum.py", 2),
    ("01_activations/relu_keeps_negatives.py", 1),
    ("02_forward_pass/forward_missing_bias.py", 1),
    ("03_backprop/backprop_dZ2_wrong_sign.py", 1),
    ("04_gradient_descent/update_adds.py", 2),
    ("04_gradient_descent/predictions_wrong_axis.py", 1),
    ("04_gradient_descent/predictions_square_wrong_axis.py", 1),
    ("03_backprop/loss_wrong_sign.py", 1),
    ("02_forward_pass/init_ignores_seed.py", 1),
]
#: where a mistake file's `# EXPECT` phrase is in the failure's first lines, not in its hint:
#: a phrase of the hint the report shows
HINT_PHRASE = {"02_forward_pass/init_ignores_seed.py": "rng = np.random.default_rng(seed)"}
#: mistakes the checks do not recognise by name: failing, but in no row of mistakes.csv
UNRECOGNISED = ["04_gradient_descent/descent_records_accuracy_as_loss.py", "02_forward_pass/init_uniform_zero_biases.py"]


#: stage -> {what the report calls each graded cell: its points}, in the notebook's order
#: ("save_params (bonus)" is the bonus cell of save_params)
GRADED = {stage.folder: {name: points for function in stage.functions
                         for name, points in ((function, POINTS[stage.folder].get(function)),
                                              (f"{function} (bonus)", BONUS_POINTS.get(stage.folder, {}).get(function)))
                         if points is not None}
          for stage in STAGES}


# ----------------------------------------------------------------------------- the class
def the_class() -> dict[str, dict[str, tuple]]:
    """student -> stage -> (kind, detail)."""
    work: dict[str, dict[str, tuple]] = {}
    for letter in "abcd":
        work[f"correct01{letter}"] = {"01_activations": ("correct",)}
    work["correct01a"]["02_forward_pass"] = ("correct",)
    work["correct01b"]["02_forward_pass"] = ("correct",)
    for stage in ALL[1:4]:
        for letter in "ab":
            work[f"correct{stage[:2]}{letter}"] = {stage: ("correct",)}
    work["stubs01a"] = {"01_activations": ("stubs",)}
    work["stubs01b"] = {"01_activations": ("stubs",), "03_backprop": ("stubs",)}
    work["partial01"] = {"01_activations": ("partial", ("relu_deriv",))}
    for relative, count in MISTAKE_STUDENTS + [(name, 1) for name in UNRECOGNISED]:
        stage = relative.split("/")[0]
        for number in range(count):
            work[f"m_{Path(relative).stem}_{number}"] = {stage: ("mistake", relative)}
    work["m_update_adds_0"]["01_activations"] = ("correct",)  # a second assignment, right
    work["loop01"] = {"01_activations": ("loop", "relu")}
    work["loopcell02"] = {"02_forward_pass": ("loopcell",)}
    work["tamper01"] = {"01_activations": ("tamper",)}
    work["hacker01"] = {"01_activations": ("hacker",)}
    work["reference01"] = {"01_activations": ("reference",)}
    work["broken01"] = {"01_activations": ("broken",)}
    return work


CLASS = the_class()
TIMESTAMPS = {"correct01a": "2026-11-30 09:15:00.000000 UTC", "m_softmax_wrong_axis_0": "2026-11-30 23:59:59.000000 UTC"}


def notebook_for(course: Course, stage: str, kind: tuple) -> "dict | str":
    release = course.release(stage)
    what = kind[0]
    if what == "correct":
        return solved(release, stage)
    if what == "stubs":
        return release
    if what == "partial":
        return solved(release, stage, skip=kind[1])
    if what == "mistake":
        function, body, _ = mistake_body(MISTAKES / kind[1])
        return with_body(solved(release, stage, skip=(function,)), function, body)
    if what == "loop":
        return with_body(solved(release, stage, skip=(kind[1],)), kind[1], "    while True:\n        pass\n")
    if what == "loopcell":
        return with_cell(solved(release, stage), "while True:\n    pass\n")
    if what == "tamper":
        return tampered(release)
    if what == "hacker":
        notebook = release
        for function in ("relu", "relu_deriv", "softmax"):
            notebook = with_body(notebook, function, "    import sys\n    sys.displayhook(1.0)\n    return Z\n")
        return with_cell(notebook, "import grading.checks.registry as registry\n"
                                   "registry.run_checks = lambda *a, **k: ['all good']\n"
                                   "import os\nos.makedirs('grading', exist_ok=True)\n"
                                   "open('grading/__init__.py', 'w').write('run_checks = lambda *a, **k: [1]')\n")
    if what == "reference":
        notebook = with_body(release, "relu", "    from solutions.activations import relu as r\n    return r(Z)\n")
        notebook = with_body(notebook, "relu_deriv", "    import solutions\n    return solutions.relu_deriv(Z)\n")
        cell(notebook, "softmax_code")["source"] = ["from solutions.activations import softmax\n"]
        return notebook
    if what == "broken":
        return '{"cells": [ this is not JSON'
    raise ValueError(kind)


def hand_in(course: Course) -> None:
    for student, stages in CLASS.items():
        for stage, kind in stages.items():
            path = course.submit(student, stage, notebook_for(course, stage, kind))
            if student in TIMESTAMPS:
                (path.parent / "timestamp.txt").write_text(TIMESTAMPS[student])
    (course.root / "submitted" / "correct01c" / "01_activations" / "notes.txt").write_text("my notes\n")


def expected_status(stage: str, kind: tuple, function: str) -> str:
    """"passed", "failed" or "not attempted" for one function of one handed-in notebook."""
    what = kind[0]
    if function.endswith(" (bonus)") and what not in ("correct", "stubs"):
        raise ValueError(f"the class hands in {stage} as {what}: say what its bonus cells score")
    if what in ("correct", "loopcell"):
        return "passed"
    if what == "stubs":
        return "not attempted"
    if what == "partial":
        return "not attempted" if function in kind[1] else "passed"
    if what == "mistake":
        return "failed" if function == mistake_body(MISTAKES / kind[1])[0] else "passed"
    if what == "loop":
        return "failed" if function == kind[1] else "passed"
    if what == "tamper":
        return "passed" if function == "relu" else "not attempted"
    return "failed"  # hacker, reference, broken


def expected_scores() -> dict[tuple[str, str, str], float]:
    """(student, assignment, function) -> points, for every submitted assignment."""
    table = {}
    for student, stages in CLASS.items():
        for stage, kind in stages.items():
            for function, points in GRADED[stage].items():
                table[(student, stage, function)] = float(points) if expected_status(stage, kind, function) \
                    == "passed" else 0.0
    return table


# ----------------------------------------------------------------------------- the runs
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """The course released, the class handed in (nothing graded yet)."""
    course = Course.generate(tmp_path_factory.mktemp("class") / "template", call_limit=CALL_LIMIT,
                             load_limit=LOAD_LIMIT)
    hand_in(course)
    return course


@pytest.fixture(scope="module")
def by_nbgrader(template: Course, tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = template.copy(tmp_path_factory.mktemp("nbgrader"))
    course.result = course.nbgrader("autograde", "*", check=False)
    return course


@pytest.fixture(scope="module")
def by_mnist_kit(template: Course, tmp_path_factory: pytest.TempPathFactory) -> Course:
    course = template.copy(tmp_path_factory.mktemp("mnist-kit"))
    course.result = course.mnist_kit("autograde", "--course", ".", "--workers", "2", check=False)
    return course


def comparable(course: Course, *, skip: set[str] = frozenset()) -> dict:
    return {key: value for key, value in course.cell_scores().items() if key[0] not in skip}


@pytest.mark.slow
def test_the_same_scores_as_nbgrader_cell_by_cell(by_nbgrader: Course, by_mnist_kit: Course) -> None:
    assert by_nbgrader.result.returncode == 1  # nbgrader too fails on the file that is not JSON
    ours, theirs = comparable(by_mnist_kit, skip={"broken01"}), comparable(by_nbgrader, skip={"broken01"})
    assert len(ours) > 200
    assert ours == theirs, {key: (ours.get(key), theirs.get(key)) for key in set(ours) | set(theirs)
                            if ours.get(key) != theirs.get(key)}
    assert by_mnist_kit.scores() == by_nbgrader.scores()  # totals too, broken01's 0 included
    assert by_mnist_kit.timestamps() == by_nbgrader.timestamps()


@pytest.mark.slow
def test_the_scores_are_what_each_student_handed_in(by_mnist_kit: Course) -> None:
    recorded = {(student, assignment, cell.removesuffix("_tests")): value[0]
                for (student, assignment, cell), value in by_mnist_kit.cell_scores().items()
                if cell.endswith("_tests")}
    assert recorded == expected_scores()


@pytest.mark.slow
def test_the_autograded_notebooks_are_nbgraders(by_nbgrader: Course, by_mnist_kit: Course) -> None:
    def files(course: Course) -> dict[str, bytes]:
        root = course.root / "autograded"
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    ours, theirs = files(by_mnist_kit), files(by_nbgrader)
    assert set(ours) == set(theirs)
    assert "correct01c/01_activations/notes.txt" in ours  # other files are copied, as nbgrader does
    assert not any(name.startswith("broken01/") for name in ours)
    def without_cell_ids(data: bytes) -> dict:  # a cell nbgrader adds back gets a random id, each run anew
        notebook = json.loads(data)
        for each in notebook["cells"]:
            each.pop("id", None)
        return notebook

    differ = [name for name in ours if ours[name] != theirs[name]]
    assert all(name.endswith(".ipynb") and without_cell_ids(ours[name]) == without_cell_ids(theirs[name])
               for name in differ), differ
    assert len(differ) <= 1, differ  # tamper01's re-added test cell only: the rest byte for byte
    assert not (by_mnist_kit.root / ".autograding").exists()


@pytest.mark.slow
def test_one_summary_line_and_one_line_per_failure(by_mnist_kit: Course) -> None:
    lines = by_mnist_kit.result.stdout.splitlines()
    submissions = sum(len(stages) for stages in CLASS.values())
    assert by_mnist_kit.result.returncode == 1, by_mnist_kit.result.stdout + by_mnist_kit.result.stderr
    assert re.match(rf"mnist-kit autograde: {submissions - 1} graded, 1 failed to grade, 0 skipped; "
                    rf"{submissions} notebooks of {len(CLASS)} students on 2 workers on this machine in ", lines[0])
    assert len(lines) == 2 and lines[1].startswith("  failed: broken01 / 01_activations: nbgrader could not read it")
    assert lines[1].endswith("scored 0 and flagged for manual grading")
    flagged = {key: value for key, value in by_mnist_kit.cell_scores().items()
               if key[0] == "broken01" and key[2].endswith("_tests")}
    assert flagged and all(value == (0.0, 0.0, True) for value in flagged.values())
    assert "notebooks graded" in by_mnist_kit.result.stderr  # progress lines


@pytest.mark.slow
def test_nbgrader_export_and_feedback_work_afterwards(by_mnist_kit: Course) -> None:
    by_mnist_kit.nbgrader("export", "--to", "grades.csv")
    import csv

    with open(by_mnist_kit.root / "grades.csv", newline="") as file:
        exported = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(file)}
    for (student, assignment), (score, _) in by_mnist_kit.scores().items():
        assert exported[(student, assignment)] == score
    assert exported[("correct01a", "02_forward_pass")] == sum(GRADED["02_forward_pass"].values())
    by_mnist_kit.nbgrader("generate_feedback", "01_activations", "--student", "m_softmax_wrong_axis_0")
    feedback = (by_mnist_kit.root / "feedback" / "m_softmax_wrong_axis_0" / "01_activations"
                / "01_activations.html").read_text(encoding="utf-8")
    assert "normalises each ROW" in feedback and "HIDDEN TESTS" not in feedback


@pytest.mark.slow
def test_grading_again_without_force_skips_everything(by_mnist_kit: Course) -> None:
    before = by_mnist_kit.dump()
    again = by_mnist_kit.mnist_kit("autograde", "--course", ".", "--workers", "1", "--quiet", check=False)
    # the file that failed was not graded: nbgrader would try it again, and so do we
    assert re.match(r"mnist-kit autograde: 0 graded, 1 failed to grade, \d+ skipped \(already graded: "
                    r"--force grades them again\)", again.stdout), again.stdout
    after = by_mnist_kit.dump()
    assert after == before


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_scores(template: Course, by_mnist_kit: Course,
                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra: pip install -e '.[dask]'")
    course = template.copy(tmp_path_factory.mktemp("dask"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        result = course.mnist_kit("autograde", "--course", ".", "--dask-scheduler", cluster.scheduler_address,
                                  "--quiet", check=False)
    assert result.returncode == 1 and "on the Dask cluster at tcp://127.0.0.1:" in result.stdout, result.stdout
    assert comparable(course) == comparable(by_mnist_kit)


# ----------------------------------------------------------------------------- the report
@pytest.fixture(scope="module")
def report(by_mnist_kit: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = by_mnist_kit.mnist_kit("report", "--course", ".", "--out", str(out))
    assert result.stdout.startswith(f"mnist-kit report: {len(CLASS)} students, "
                                     f"{sum(len(GRADED[stage]) for stage in ALL)} functions"), result.stdout
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.slow
def test_report_scores_are_every_students_points(report: Path) -> None:
    rows = {row["student"]: row for row in read_csv(report / "scores.csv")}
    assert set(rows) == set(CLASS)
    expected = expected_scores()
    for student, row in rows.items():
        total = 0.0
        for stage in ALL:
            for function in GRADED[stage]:
                want = expected.get((student, stage, function), 0.0)
                assert float(row[function]) == want, (student, function)
                total += want
        assert float(row["total"]) == total


@pytest.mark.slow
def test_report_functions_count_passing_and_not_attempted(report: Path) -> None:
    rows = read_csv(report / "functions.csv")
    assert [row["function"] for row in rows] == [f for stage in ALL for f in GRADED[stage]]
    size = len(CLASS)
    for row in rows:
        stage, function = row["assignment"], row["function"]
        statuses = [expected_status(stage, CLASS[s][stage], function) if stage in CLASS[s] else "not attempted"
                    for s in CLASS]
        points = GRADED[stage][function]
        assert int(row["students"]) == size
        assert float(row["points"]) == points
        assert float(row["share_passing"]) == round(statuses.count("passed") / size, 4), function
        assert float(row["share_not_attempted"]) == round(statuses.count("not attempted") / size, 4), function
        assert float(row["share_failing"]) == round(statuses.count("failed") / size, 4), function
        assert float(row["mean_score"]) == round(statuses.count("passed") * points / size, 4), function


@pytest.mark.slow
def test_report_mistakes_name_each_recognised_mistake_and_who_made_it(report: Path) -> None:
    rows = read_csv(report / "mistakes.csv")
    expected: dict[tuple[str, str], set[str]] = {}
    for relative, count in MISTAKE_STUDENTS:
        function, _, phrase = mistake_body(MISTAKES / relative)
        phrase = HINT_PHRASE.get(relative, phrase)
        expected.setdefault((function, phrase), set()).update(f"m_{Path(relative).stem}_{n}" for n in range(count))
    expected[("relu", "loop")] = {"loop01"}  # the endless loop is recognised as one
    matched = []
    for (function, phrase), students in expected.items():
        matching = [row for row in rows if row["function"] == function and phrase in row["mistake"]]
        assert len(matching) == 1, (function, phrase, rows)
        row = matching[0]
        if function == "relu":  # the hacker's relu returns Z unchanged too: the same mistake
            students = students | {"hacker01"} if phrase != "loop" else students
        assert int(row["students"]) == len(students) and set(row["which"].split()) == students, row
        assert float(row["share"]) == round(len(students) / len(CLASS), 4)
        assert row["checks"]
        matched.append(row)
    # every other row is a mistake of the hacker's (its functions return their input unchanged)
    assert all(row["which"] == "hacker01" for row in rows if row not in matched), rows
    for relative in UNRECOGNISED + ["reference"]:
        student = f"m_{Path(relative).stem}_0" if "/" in relative else "reference01"
        assert not any(student in row["which"].split() for row in rows), student


@pytest.mark.slow
def test_report_pictures_and_page(report: Path) -> None:
    for name in ("score_distribution.png", "pass_rate.png", "mistakes.png"):
        data = (report / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name
    page = (report / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r"""(src|href)=["']https?:""", page)  # nothing fetched from elsewhere
    assert "normalises each ROW" in page and "m_softmax_wrong_axis_2" in page


# ----------------------------------------------------------------------------- failures and Ctrl-C
def small_course(template: Course, folder: Path, students: dict[str, dict[str, tuple]]) -> Course:
    course = template.copy(folder)
    import shutil

    shutil.rmtree(course.root / "submitted")
    for student, stages in students.items():
        for stage, kind in stages.items():
            course.submit(student, stage, notebook_for(course, stage, kind))
    return course


@pytest.mark.slow
def test_a_failed_regrade_scores_0_and_says_so(template: Course, tmp_path: Path) -> None:
    course = small_course(template, tmp_path, {"ada": {"01_activations": ("correct",)}})
    first = course.mnist_kit("autograde", "--course", ".", "--workers", "1", "--quiet")
    assert first.stdout.startswith("mnist-kit autograde: 1 graded, 0 failed")
    assert course.scores()[("ada", "01_activations")] == (4.0, 4.0)
    course.submit("ada", "01_activations", "not a notebook at all")
    again = course.mnist_kit("autograde", "--course", ".", "--workers", "1", "--quiet", "--force", check=False)
    assert again.returncode == 1
    assert again.stdout.splitlines()[1].startswith("  failed: ada / 01_activations: nbgrader could not read it")
    assert course.scores()[("ada", "01_activations")] == (0.0, 4.0)  # not the old 4 points
    grades = {key: value for key, value in course.cell_scores().items() if key[2].endswith("_tests")}
    assert all(needs_manual for _, _, needs_manual in grades.values())
    assert not (course.root / "autograded" / "ada" / "01_activations").exists()


def recorded_submissions(course: Course) -> dict[tuple[str, str], list]:
    """{(student, assignment): the auto scores of its grades} straight from the file (read only)."""
    for _ in range(50):
        try:
            with sqlite3.connect(f"file:{course.gradebook()}?mode=ro", uri=True) as db:
                rows = db.execute("""
                    SELECT submitted_assignment.student_id, assignment.name, grade.auto_score
                    FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
                    JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
                    JOIN assignment ON submitted_assignment.assignment_id = assignment.id""").fetchall()
            table: dict[tuple[str, str], list] = {}
            for student, assignment, score in rows:
                table.setdefault((student, assignment), []).append(score)
            return table
        except sqlite3.OperationalError:  # locked for a moment while a student is committed
            time.sleep(0.1)
    raise AssertionError("the gradebook stayed locked")


@pytest.mark.slow
def test_ctrl_c_leaves_every_student_fully_recorded_or_untouched(template: Course, tmp_path: Path) -> None:
    students = {f"s{n:02d}": {"01_activations": ("correct",), "02_forward_pass": ("stubs",)} for n in range(8)}
    course = small_course(template, tmp_path, students)
    process = subprocess.Popen([sys.executable, "-m", "solutions", "autograde", "--course", ".", "--workers", "1"],
                               cwd=course.root, env=course.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 300
    while not recorded_submissions(course) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert out.startswith("mnist-kit autograde: interrupted (Ctrl-C) after ") and "fully recorded or not" in out
    recorded = recorded_submissions(course)
    by_student: dict[str, set[str]] = {}
    for (student, assignment), scores in recorded.items():
        assert None not in scores, (student, assignment, scores)  # no half-recorded submission
        by_student.setdefault(student, set()).add(assignment)
        assert (course.root / "autograded" / student / assignment / f"{assignment}.ipynb").is_file()
    assert 1 <= len(by_student) < len(students), by_student
    assert all(assignments == set(students[s]) for s, assignments in by_student.items())  # whole students
    for folder in (course.root / "autograded").iterdir():
        assert folder.name in by_student
    assert not (course.root / ".autograding").exists()
    rest = course.mnist_kit("autograde", "--course", ".", "--workers", "2", "--quiet")
    assert rest.stdout.startswith(f"mnist-kit autograde: {2 * (len(students) - len(by_student))} graded, "
                                  f"0 failed to grade, {2 * len(by_student)} skipped")
    assert course.scores() == {(s, a): (4.0 if a == "01_activations" else 0.0, float(sum(GRADED[a].values())))
                               for s in students for a in students[s]}


# ----------------------------------------------------------------------------- bad input
def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(folder.rglob("*"))}


def one_line_error(capsys, argv: list[str]) -> str:
    from solutions.cli import main

    status = main(argv)
    captured = capsys.readouterr()
    assert status == 1, captured
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.fixture()
def bare(template: Course, tmp_path: Path) -> Course:
    """A copy of the course with one submission, never graded."""
    return small_course(template, tmp_path, {"ada": {"01_activations": ("correct",)}})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


BAD_INPUT = {
    "no gradebook": (lambda c: (c.root / "gradebook.db").unlink(), [], "no gradebook at "),
    "corrupt gradebook": (lambda c: (c.root / "gradebook.db").write_bytes(b"\x00garbage" * 512), [],
                          "is not a readable gradebook"),
    "not a gradebook": (lambda c: sqlite3.connect(c.root / "gradebook.db").executescript(
        "DROP TABLE grade_cells;").close(), [], "not an nbgrader gradebook"),
    "no submitted folder": (lambda c: __import__("shutil").rmtree(c.root / "submitted"), [],
                            "has no submitted/ folder"),
    "unknown assignment": (lambda c: None, ["--assignment", "06_transformers"],
                           "unknown assignment '06_transformers': the gradebook has 01_activations, "),
    "unknown student": (lambda c: None, ["--student", "nobody"], "no submissions of student 'nobody'"),
    "unreachable scheduler": (lambda c: None, ["--dask-scheduler", f"tcp://127.0.0.1:{free_port()}",
                                                "--dask-timeout", "2"], "cannot reach the Dask scheduler at "),
    "broken config": (lambda c: open(c.root / "nbgrader_config.py", "a").write("\nraise ValueError('oops')\n"),
                      [], "nbgrader_config.py does not load (ValueError: oops)"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=lambda case: case.replace(" ", "_"))
def test_bad_input_is_one_line_and_writes_nothing(case: str, bare: Course, capsys) -> None:
    if case == "unreachable scheduler":
        pytest.importorskip("distributed")
    spoil, options, message = BAD_INPUT[case]
    spoil(bare)
    before = snapshot(bare.root)
    line = one_line_error(capsys, ["autograde", "--course", str(bare.root), *options])
    assert line.startswith("mnist-kit autograde: error: ") and message in line, line
    assert snapshot(bare.root) == before


def test_a_course_folder_that_is_not_there(tmp_path: Path, capsys) -> None:
    line = one_line_error(capsys, ["autograde", "--course", str(tmp_path / "nowhere")])
    assert line == f"mnist-kit autograde: error: {tmp_path / 'nowhere'} is not a folder (give the nbgrader course " \
                   f"folder with --course)"


def test_report_of_a_course_without_gradebook_is_one_line(bare: Course, tmp_path: Path, capsys) -> None:
    (bare.root / "gradebook.db").unlink()
    line = one_line_error(capsys, ["report", "--course", str(bare.root), "--out", str(tmp_path / "out")])
    assert line.startswith("mnist-kit report: error: no gradebook at ")
    assert not (tmp_path / "out").exists()


def test_report_of_a_course_graded_by_nobody_is_one_line(bare: Course, tmp_path: Path, capsys) -> None:
    line = one_line_error(capsys, ["report", "--course", str(bare.root), "--out", str(tmp_path / "out")])
    assert "holds no graded work yet" in line


# ----------------------------------------------------------------------------- the parts
# nbgrader's harmless autoflush warnings, which mnist-kit autograde keeps off its stderr (_quiet_orm)
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_gradebook_transaction_writes_all_of_nbgrader_or_nothing(template: Course, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    from grading.frontends.gradebook_transaction import GradebookTransactions

    course = template.copy(tmp_path)
    url = f"sqlite:///{course.gradebook()}"
    before = course.dump()
    with GradebookTransactions(url) as transactions:
        with pytest.raises(RuntimeError, match="outside a transaction"):
            Gradebook(url)
        with pytest.raises(KeyboardInterrupt):
            with transactions.transaction():
                with Gradebook(url, "mnist-kit") as gradebook:  # nbgrader's own code, each step committed
                    gradebook.update_or_create_student("ada")
                    gradebook.update_or_create_submission("01_activations", "ada")
                with Gradebook(url, "mnist-kit") as gradebook:  # a second Gradebook sees the first's work
                    assert gradebook.find_student("ada").id == "ada"
                raise KeyboardInterrupt  # Ctrl-C before the end: nothing of it stays
        assert course.dump() == before
        with transactions.transaction():
            with Gradebook(url, "mnist-kit") as gradebook:
                gradebook.update_or_create_student("bob")
    with Gradebook(url, "mnist-kit") as gradebook:  # committed, and Gradebook is nbgrader's own again
        assert [student.id for student in gradebook.students] == ["bob"]


def looping_payload(course: Course) -> dict:
    from grading.frontends.grading_tasks import kit_fingerprint

    notebook = with_cell(solved(course.release("01"), "01"), "while True:\n    pass\n")
    return {"key": ["ada", "01_activations", "01_activations"], "stage": "01_activations", "notebook": notebook,
            "limits": {"call": 30.0, "load": 60.0, "notebook": 300.0}, "kit": kit_fingerprint()}


def test_a_task_past_its_deadline_or_whose_process_dies_fails_alone(template: Course) -> None:
    from grading.frontends.local_workers import LocalWorkers

    payload = looping_payload(template)
    with LocalWorkers(2, deadline=4.0) as pool:
        pool.submit("slow", payload)
        quick = json.loads(json.dumps(payload))
        quick["notebook"]["cells"] = [c for c in quick["notebook"]["cells"] if "while True" not in "".join(c["source"])]
        pool.submit("quick", quick)
        outcomes: dict = {}
        started = time.monotonic()
        while len(outcomes) < 2 and time.monotonic() - started < 120:
            outcomes.update(pool.finished(timeout=0.5))
        assert outcomes["quick"]["ok"], outcomes["quick"]
        assert not outcomes["slow"]["ok"] and "took longer than 4 s" in outcomes["slow"]["error"]
        pool.deadline = 600.0
        pool.submit("killed", payload)
        time.sleep(1.0)
        busy = next(worker for worker in pool.workers if worker.task is not None)
        os.kill(busy.process.pid, signal.SIGKILL)
        died = []
        while not died and time.monotonic() - started < 180:
            died = pool.finished(timeout=0.5)
        assert died[0][0] == "killed" and "stopped unexpectedly" in died[0][1]["error"]
        assert len(pool.workers) == 2 and all(w.process.poll() is None for w in pool.workers)  # replaced


def test_a_worker_with_another_kit_refuses_the_task(template: Course) -> None:
    from grading.frontends.grading_tasks import grade_task

    outcome = grade_task({**looping_payload(template), "kit": "0123456789abcdef"})
    assert not outcome["ok"] and "another version of the kit's checks" in outcome["error"]
