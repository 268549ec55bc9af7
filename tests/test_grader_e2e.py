"""The nbgrader course in grader/, end to end, with real nbgrader runs.

One module-scoped run, with the commands of grader/README.md's workflow as written (each
nbgrader command costs ~5 s of start-up, so the whole flow uses five of them, and every
stage is released and graded):

    copy grader/ to a throwaway course -> generate_assignment "*" (every stage)
    -> write submissions -> autograde "*" -> generate_feedback "*" -> export --to grades.csv
    -> autograde one submission again with --force (its scores read from the gradebook)

and the tests below check the release, every score, the feedback and that grading again
gave the same scores. The submissions (student: stages, what is in them, expected score):

    correct     every stage: the reference code typed into the stubs      full marks, bonus included
    stubs       every stage: the release as handed out                    0
    core_only   05: the core written, not the extras (no learning-rate schedule, a save that leaves
                a temporary file, plot_history a stub)                    the core points, no bonus
    partial     01: relu and softmax written, relu_deriv left a stub      relu + softmax
    mistake     01: softmax from tests/mistakes/ (no max subtracted), the rest written: it passes
                the visible checks, not the hidden ones                   all but softmax's points
    loop        02: init_params loops forever, forward_prop written       forward_prop's points
    tamper      01: relu written, the others stubs; relu_deriv's test cell replaced by `pass`
                and made worth 100 points, softmax's test cell deleted, relu's test cell and
                solution cell duplicated, other cells writing to stderr   relu's points
    hacker      01: wrong functions that display a score while they are checked, plus a cell
                that redefines notebook_checks, patches grading's functions and writes a
                fake grading package beside the notebook                  0
    reference   01: every function taken from the reference solution     0
"""

import ast
import copy
import csv
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading.build.notebooks import BONUS_POINTS, POINTS
from grading.stages import REPO_ROOT, STAGES, get_stage
from grading.build.stubs import SolutionBlock, split_solution_blocks
from notebook_runner import run_cells

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")

BIN = Path(sys.executable).parent
NBGRADER = BIN / "nbgrader"
if not NBGRADER.is_file():
    pytest.skip(f"no nbgrader command beside this Python ({NBGRADER})", allow_module_level=True)
ALL = [stage.folder for stage in STAGES]


# ----------------------------------------------------------------------------- helpers
README_MARK = "<!-- tests/test_grader_e2e.py runs the nbgrader commands of this block, as written -->"


def readme_workflow() -> list[list[str]]:
    """The nbgrader commands of grader/README.md's workflow block, as argument lists (without "nbgrader")."""
    text = (REPO_ROOT / "grader" / "README.md").read_text(encoding="utf-8")
    assert README_MARK in text, f"grader/README.md lost the line {README_MARK!r}"
    block = text.split(README_MARK, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True)[1:] for line in block.splitlines() if line.startswith("nbgrader ")]


def reference_bodies(stage_key: str) -> dict[str, str]:
    """{function: the code between its solution markers, indented as in the function}."""
    stage = get_stage(stage_key)
    source = stage.reference_file.read_text(encoding="utf-8")
    bodies: dict[str, str] = {}
    for piece in split_solution_blocks(source):
        if isinstance(piece, SolutionBlock):
            bodies[piece.function] = bodies.get(piece.function, "") + piece.body
    return bodies


def solution_only_lines(stage_key: str) -> set[str]:
    """Lines of the reference solution blocks that appear nowhere else in the source notebook."""
    stage = get_stage(stage_key)
    notebook = json.loads((REPO_ROOT / "grader" / "source" / stage.folder / f"{stage.folder}.ipynb").read_text())
    outside = set()
    for cell in notebook["cells"]:
        inside = False
        for line in "".join(cell["source"]).splitlines():
            if line.strip() == "### BEGIN SOLUTION":
                inside = True
            elif line.strip() == "### END SOLUTION":
                inside = False
            elif not inside:
                outside.add(line.strip())
    lines = {line.strip() for body in reference_bodies(stage_key).values() for line in body.splitlines()}
    return {line for line in lines if line and line not in outside}


#: the common mistake one submission makes, from the catalogue the pytest suites are tested with
MISTAKE_FILE = REPO_ROOT / "tests" / "mistakes" / "01_activations" / "softmax_not_stabilised.py"


def mistake() -> tuple[str, str, str]:
    """(function, its mistaken body, a fragment of the message expected) from MISTAKE_FILE.

    The file is a whole learner file whose second line reads "# EXPECT test_<function>: <fragment>".
    """
    source = MISTAKE_FILE.read_text(encoding="utf-8")
    match = re.search(r"^# EXPECT test_(\w+): (.+)$", source, re.MULTILINE)
    assert match, f"{MISTAKE_FILE}: no '# EXPECT test_<function>: <message>' line"
    function, fragment = match[1], match[2].strip()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = source.splitlines(keepends=True)
    body = "".join(lines[node.body[1].lineno - 1: node.end_lineno])  # after the docstring
    return function, body, fragment


def cell(notebook: dict, cell_id: str) -> dict:
    return next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == cell_id)


def set_source(code_cell: dict, text: str) -> None:
    code_cell["source"] = text.splitlines(keepends=True)


def fill(notebook: dict, function: str, body: str) -> None:
    """Type `body` (indented as a function body) in place of the stub of `function`."""
    code_cell = cell(notebook, f"{function}_code")
    source = "".join(code_cell["source"])
    match = re.search(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)", source,
                      re.MULTILINE)
    assert match, f"no stub in the release's {function}_code cell:\n{source}"
    set_source(code_cell, source[: match.start()] + body.rstrip("\n") + source[match.end():])


def new_code_cell(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"student-{abs(hash(text)) % 10**8}",
            "metadata": {}, "outputs": [], "source": text.splitlines(keepends=True)}


def text_of(value: "str | list[str]") -> str:
    """A notebook's multi-line string field (saved as a list of lines or as one string)."""
    return value if isinstance(value, str) else "".join(value)


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def html_text(path: Path) -> str:
    """The text of an HTML file (tags dropped, entities decoded), as a reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------- submissions
def submissions(release: Path) -> dict[str, dict[str, dict]]:
    """student -> stage -> the notebook they hand in (built from the release)."""

    def released(stage: str) -> dict:
        return json.loads((release / stage / f"{stage}.ipynb").read_text(encoding="utf-8"))

    def solved(stage: str, skip: tuple[str, ...] = ()) -> dict:
        notebook = released(stage)
        for function, body in reference_bodies(stage).items():
            if function not in skip:
                fill(notebook, function, body)
        return notebook

    work: dict[str, dict[str, dict]] = {"correct": {}, "stubs": {}}
    for stage in ALL:
        work["correct"][stage] = solved(stage)
        work["stubs"][stage] = released(stage)

    work["partial"] = {"01_activations": solved("01_activations", skip=("relu_deriv",))}

    core_only = released("05_train_mnist")
    bodies = reference_bodies("05_train_mnist")
    bodies["mini_batch_gradient_descent"] = bodies["mini_batch_gradient_descent"].replace(
        "if alpha_final is not None:", "if False:  # no schedule")
    bodies["save_params"] = ("    Path(path).parent.mkdir(parents=True, exist_ok=True)\n"
                             "    temporary = Path(str(path) + '.partial.npz')\n"
                             "    np.savez(temporary, W1=W1, b1=b1, W2=W2, b2=b2)\n"
                             "    import shutil\n    shutil.copyfile(temporary, path)  # the temporary file stays\n"
                             "    return Path(path)\n")
    for function, body in bodies.items():
        if function != "plot_history":
            fill(core_only, function, body)
    work["core_only"] = {"05_train_mnist": core_only}

    function, body, _ = mistake()
    mistaken = solved("01_activations", skip=(function,))
    fill(mistaken, function, body)
    work["mistake"] = {"01_activations": mistaken}

    loop = solved("02_forward_pass", skip=("init_params",))
    fill(loop, "init_params", "    while True:\n        pass\n")
    work["loop"] = {"02_forward_pass": loop}

    # notebook-level tricks: none may raise the score above relu's points
    tamper = solved("01_activations", skip=("relu_deriv", "softmax"))
    relu_deriv_tests = cell(tamper, "relu_deriv_tests")
    set_source(relu_deriv_tests, "pass\n")                       # a visible test edited away...
    relu_deriv_tests["metadata"]["nbgrader"]["points"] = 100      # ...and made worth more
    tamper["cells"].remove(cell(tamper, "softmax_tests"))         # a test cell deleted
    relu_tests = cell(tamper, "relu_tests")                       # a passing test cell copied
    tamper["cells"].insert(tamper["cells"].index(relu_tests), copy.deepcopy(relu_tests))
    tamper["cells"].append(copy.deepcopy(cell(tamper, "relu_code")))  # a solution cell copied
    tamper["cells"].insert(3, new_code_cell(
        "import sys, warnings\nprint('KERNEL PYTHON', sys.executable)\n"
        "print('a message on stderr', file=sys.stderr)\nwarnings.warn('a warning')\n"))
    tamper["cells"].append(new_code_cell("import sys\nprint('stderr again', file=sys.stderr)\n"))
    for index, each in enumerate(tamper["cells"]):
        each["id"] = f"cell-{index}"  # nbformat wants unique cell ids; the grade ids stay duplicated
    work["tamper"] = {"01_activations": tamper}

    # kernel-level tricks on the grader: patch the checks, shadow them with a local package
    hacker = released("01_activations")
    # wrong functions that display a value while the checks run: nbgrader would take the first
    # value a test cell shows as its score (a number) or as full marks (anything else)
    fill(hacker, "relu", "    import sys\n    sys.displayhook(1.0)\n    return Z\n")
    fill(hacker, "relu_deriv", "    get_ipython().displayhook('all good')\n    return Z\n")
    fill(hacker, "softmax", "    import sys\n    sys.displayhook(1000)\n    return Z\n")
    hacker["cells"].insert(3, new_code_cell(
        "import grading, grading.frontends.notebook_checks, grading.checks.registry\n"
        "def notebook_checks(*args, **kwargs):\n    return ['all good']\n"
        "def run_checks(*args, **kwargs):\n    return ['all good']\n"
        "grading.run_checks = grading.checks.registry.run_checks = run_checks\n"
        "grading.frontends.notebook_checks.notebook_checks = notebook_checks\n"
        "import os\n"
        "os.makedirs('grading', exist_ok=True)\n"
        "open('grading/__init__.py', 'w').close()\n"
        "with open('grading/notebook_checks.py', 'w') as file:\n"
        "    file.write('def notebook_checks(*args, **kwargs):\\n    return [\"all good\"]\\n')\n"
        "import sys\nsys.path.insert(0, os.getcwd())\n"))
    work["hacker"] = {"01_activations": hacker}

    reference = released("01_activations")
    fill(reference, "relu", "    from solutions.activations import relu as reference_relu\n"
                            "    return reference_relu(Z)\n")
    fill(reference, "relu_deriv", "    import solutions\n    return solutions.relu_deriv(Z)\n")
    set_source(cell(reference, "softmax_code"), "from solutions.activations import softmax\n")
    work["reference"] = {"01_activations": reference}
    return work


#: student -> stage -> expected score (a missing stage: not submitted)
P = POINTS
B = BONUS_POINTS


def maximum(stage: str) -> int:
    """A stage's maximum score in nbgrader: its points and its bonus points."""
    return sum(P[stage].values()) + sum(B.get(stage, {}).values())


EXPECTED: dict[str, dict[str, float]] = {
    "correct": {stage: maximum(stage) for stage in ALL},
    "core_only": {"05_train_mnist": sum(P["05_train_mnist"].values())},
    "stubs": {stage: 0 for stage in ALL},
    "partial": {"01_activations": P["01_activations"]["relu"] + P["01_activations"]["softmax"]},
    "mistake": {"01_activations": sum(P["01_activations"].values()) - P["01_activations"][mistake()[0]]},
    "loop": {"02_forward_pass": P["02_forward_pass"]["forward_prop"]},
    "tamper": {"01_activations": P["01_activations"]["relu"]},
    "hacker": {"01_activations": 0},
    "reference": {"01_activations": 0},
}


# ----------------------------------------------------------------------------- the run
class Course:
    """A throwaway copy of grader/ and a log of the nbgrader commands run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root / "course"
        self.home = root / "home"
        self.timings: list[tuple[str, float]] = []
        shutil.copytree(REPO_ROOT / "grader", self.root,
                        ignore=shutil.ignore_patterns("release", "submitted", "autograded", "feedback",
                                                      "gradebook.db", "*.csv", ".ipynb_checkpoints"))
        # The kernel "python3" must be this Python (the one with the kit installed): a kernel
        # spec in JUPYTER_PATH, which Jupyter searches before any other place.
        kernel = root / "jupyter" / "kernels" / "python3"
        kernel.mkdir(parents=True)
        (kernel / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}))
        self.home.mkdir()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("JUPYTER", "IPYTHON", "PYTHONPATH", "NBGRADER"))}
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # nbgrader runs `alembic` from here
                   HOME=str(self.home), JUPYTER_PATH=str(root / "jupyter"),
                   JUPYTER_CONFIG_DIR=str(self.home / ".jupyter"), IPYTHONDIR=str(self.home / ".ipython"),
                   JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        self.env = env

    def nbgrader(self, *args: str) -> str:
        """Run one nbgrader command in the course; its output (it exits 0 even when work fails)."""
        started = time.monotonic()
        result = subprocess.run([str(NBGRADER), *args], cwd=self.root, env=self.env, text=True,
                                capture_output=True, timeout=600)
        self.timings.append((" ".join(args), time.monotonic() - started))
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"nbgrader {' '.join(args)} exited {result.returncode}:\n{output[-4000:]}"
        return output

    def gradebook_scores(self) -> dict[str, dict[str, tuple[float, float]]]:
        """student -> assignment -> (score, max_score), read from gradebook.db (as export does)."""
        from nbgrader.api import Gradebook

        table: dict[str, dict[str, tuple[float, float]]] = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", "mnist-kit") as gradebook:
            for assignment in gradebook.assignments:
                for submission in assignment.submissions:
                    table.setdefault(submission.student.id, {})[assignment.name] = (
                        float(submission.score), float(submission.max_score))
        return table

    def scores(self, csv_name: str) -> dict[str, dict[str, tuple[float, float]]]:
        """student -> assignment -> (score, max_score) from an exported CSV."""
        table: dict[str, dict[str, tuple[float, float]]] = {}
        with open(self.root / csv_name, newline="") as file:
            for row in csv.DictReader(file):
                table.setdefault(row["student_id"], {})[row["assignment"]] = (float(row["score"]),
                                                                              float(row["max_score"]))
        return table


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    started = time.monotonic()
    course = Course(tmp_path_factory.mktemp("nbgrader"))
    probe = subprocess.run([sys.executable, "-c", "import grading.frontends.notebook_checks"], cwd=course.home,
                           env=course.env, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail("the kernel's Python cannot import grading outside the repository: reinstall the kit "
                    f"(pip install -e '.[grader]').\n{probe.stderr[-2000:]}", pytrace=False)

    # the README's commands, as written, with the students' work handed in after the release
    workflow = readme_workflow()
    assert [command[0] for command in workflow] == ["generate_assignment", "autograde", "generate_feedback",
                                                    "export"], workflow
    course.generate_log = course.nbgrader(*workflow[0])
    course.work = submissions(course.root / "release")
    for student, stages in course.work.items():
        for stage, notebook in stages.items():
            folder = course.root / "submitted" / student / stage
            folder.mkdir(parents=True)
            (folder / f"{stage}.ipynb").write_text(json.dumps(notebook, indent=1))
    course.autograde_log = course.nbgrader(*workflow[1])
    course.feedback_log = course.nbgrader(*workflow[2])
    course.nbgrader(*workflow[3])
    assert workflow[3][-1] == "grades.csv", workflow[3]
    # grading again gives the same scores (one submission: each nbgrader run costs seconds)
    course.regrade_log = course.nbgrader("autograde", "01_activations", "--student", "tamper", "--force")
    course.regraded = course.gradebook_scores()
    course.total_seconds = time.monotonic() - started

    print(f"\nnbgrader end to end: {course.total_seconds:.0f} s in all")
    for command, seconds in course.timings:
        print(f"  nbgrader {command:<40} {seconds:6.1f} s")
    scores = course.scores("grades.csv")
    print("  " + " " * 10 + "".join(f"{stage[:2]:>9}" for stage in ALL))
    for student in EXPECTED:
        print(f"  {student:<10}" + "".join(
            f"{'%g/%g' % scores[student][stage] if stage in EXPECTED[student] else '-':>9}" for stage in ALL))
    return course


# ----------------------------------------------------------------------------- the tests
def test_release_has_every_stage_without_solutions_or_hidden_tests(course: Course) -> None:
    for stage in ALL:
        folder = course.root / "release" / stage
        assert sorted(p.name for p in folder.iterdir()) == [f"{stage}.ipynb"], f"extra files released: {folder}"
        text = (folder / f"{stage}.ipynb").read_text(encoding="utf-8")
        code = "\n".join(text_of(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "visible_only=False"):
            assert marker not in text, f"{stage}: the release contains {marker!r}"
        assert len(solution_only_lines(stage)) >= len(get_stage(stage).functions)  # something to look for
        leaked = sorted(solution_only_lines(stage) & {line.strip() for line in code.splitlines()})
        assert not leaked, f"{stage}: solution lines in the release: {leaked}"
        stubs = code.count("raise NotImplementedError()")
        assert stubs == len(get_stage(stage).functions), f"{stage}: {stubs} stubs"


def test_release_visible_tests_run_for_students(course: Course, tmp_path: Path) -> None:
    """In the release, the visible checks pass on a right function and on the catalogued mistake
    (only hidden checks catch it), and explain an unwritten function."""
    release = course.root / "release" / "01_activations" / "01_activations.ipynb"
    notebook = read_notebook(release)
    function, body, _ = mistake()
    fill(notebook, "relu", reference_bodies("01")["relu"])
    fill(notebook, function, body)
    assert function != "relu_deriv"
    report = run_cells({"release": notebook}, tmp_path)["release"]
    failures = {cell_id: result["error"] for cell_id, result in report.items() if result["error"]}
    assert set(failures) == {"relu_deriv_tests"}, failures
    assert "relu_deriv() is not written yet" in failures["relu_deriv_tests"]
    assert "in its cell" in failures["relu_deriv_tests"] and "exercises/" not in failures["relu_deriv_tests"]


def test_every_score_is_exact(course: Course) -> None:
    got = course.scores("grades.csv")
    for student, stages in EXPECTED.items():
        for stage, score in stages.items():
            assert got[student][stage] == (score, maximum(stage)), (
                f"{student} / {stage}: got {got[student][stage]}, expected {score}")
        for stage in set(ALL) - set(stages):  # not submitted: nbgrader records 0
            assert got[student][stage][0] == 0, f"{student} / {stage}: {got[student][stage]}"


def test_the_extras_cost_only_their_bonus_cells(course: Course) -> None:
    """core_only: every core test cell of stage 05 scores, every bonus cell fails with its own message."""
    graded = read_notebook(course.root / "autograded" / "core_only" / "05_train_mnist" / "05_train_mnist.ipynb")
    errors = {each["metadata"]["nbgrader"]["grade_id"]: [o for o in each["outputs"] if o["output_type"] == "error"]
              for each in graded["cells"] if each["metadata"].get("nbgrader", {}).get("grade")}
    assert {cell_id for cell_id, found in errors.items() if found} == {
        f"{function}_bonus_tests" for function in B["05_train_mnist"]}, errors
    assert "learning_rate_schedule" in errors["mini_batch_gradient_descent_bonus_tests"][0]["evalue"]
    assert "replaces_atomically" in errors["save_params_bonus_tests"][0]["evalue"]
    assert "plot_history() is not written yet" in errors["plot_history_bonus_tests"][0]["evalue"]


def test_infinite_loop_timed_out_and_the_rest_was_graded(course: Course) -> None:
    assert "Timeout waiting for execute reply" in course.autograde_log
    graded = read_notebook(course.root / "autograded" / "loop" / "02_forward_pass" / "02_forward_pass.ipynb")
    errors = [o.get("ename") for o in cell(graded, "init_params_tests")["outputs"] if o["output_type"] == "error"]
    assert "KeyboardInterrupt" in errors or "CellTimeoutError" in errors, errors


def test_kernel_is_this_python_and_checks_are_quiet(course: Course) -> None:
    graded_dir = course.root / "autograded"
    tamper = read_notebook(graded_dir / "tamper" / "01_activations" / "01_activations.ipynb")
    printed = "".join(text_of(o.get("text", "")) for c in tamper["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"] if o["output_type"] == "stream")
    assert f"KERNEL PYTHON {sys.executable}\n" in printed, printed[:500]
    assert "a message on stderr" in printed  # the student's stderr cells did run
    for stage in ALL:  # a passing test cell prints nothing at all (stderr would zero it)
        graded = read_notebook(graded_dir / "correct" / stage / f"{stage}.ipynb")
        tests = [each for each in graded["cells"] if each["metadata"].get("nbgrader", {}).get("grade")]
        assert len(tests) >= len(get_stage(stage).functions)
        for each in tests:
            assert each["outputs"] == [], f"{stage} {each['metadata']['nbgrader']['grade_id']}: output"
    for student, stages in course.work.items():  # failing ones fail by their error alone
        for stage in stages:
            graded = read_notebook(graded_dir / student / stage / f"{stage}.ipynb")
            for each in graded["cells"]:
                if each["metadata"].get("nbgrader", {}).get("grade"):
                    kinds = [o["output_type"] + ":" + o.get("name", "") for o in each["outputs"]]
                    assert set(kinds) <= {"error:"}, f"{student} / {stage} / {each['id']}: {kinds}"


def test_reference_calls_are_caught_with_a_message(course: Course) -> None:
    graded = read_notebook(course.root / "autograded" / "reference" / "01_activations" / "01_activations.ipynb")
    for function in ("relu", "relu_deriv", "softmax"):
        errors = [o for o in cell(graded, f"{function}_tests")["outputs"] if o["output_type"] == "error"]
        assert errors and errors[0]["ename"] == "CallsReferenceError", (function, errors)


def test_feedback_shows_no_hidden_tests_or_solutions(course: Course) -> None:
    for student, stages in course.work.items():
        for stage, notebook in stages.items():
            feedback = course.root / "feedback" / student / stage / f"{stage}.html"
            assert feedback.is_file(), f"no feedback for {student} / {stage}"
            text = html_text(feedback)
            for marker in ("HIDDEN TESTS", "visible_only=False", "BEGIN SOLUTION"):
                assert marker not in text, f"{student} / {stage}: {marker!r} in the feedback"
            submitted = {line.strip() for c in notebook["cells"] for line in text_of(c["source"]).splitlines()}
            leaked = sorted(line for line in solution_only_lines(stage) - submitted
                            if any(line == each.strip() for each in text.splitlines()))
            assert not leaked, f"{student} / {stage}: solution lines in the feedback: {leaked}"
    # the search above finds code that is there: the correct student's own code is in their feedback
    for stage in ALL:
        lines = {each.strip() for each in html_text(course.root / "feedback" / "correct" / stage
                                                    / f"{stage}.html").splitlines()}
        assert solution_only_lines(stage) <= lines, sorted(solution_only_lines(stage) - lines)
    # a failing hidden check explains itself in the feedback (its message, not its code)
    function, _, fragment = mistake()
    feedback = html_text(course.root / "feedback" / "mistake" / "01_activations" / "01_activations.html")
    assert fragment in feedback and f"{function}()" in feedback


def test_grading_again_gives_the_same_scores(course: Course) -> None:
    assert "Skipping existing assignment" not in course.regrade_log
    first = course.scores("grades.csv")
    again = {(student, stage): score
             for student, stages in course.regraded.items() for stage, score in stages.items()}
    assert ("tamper", "01_activations") in again
    assert len(again) >= sum(len(stages) for stages in EXPECTED.values())  # every submission is in it
    assert again == {key: first[key[0]][key[1]] for key in again}
