"""Throwaway nbgrader courses with a whole class of submissions (class-grading tests, benchmark).

    template = Course.generate(tmp / "template")       # grader/ copied, `nbgrader generate_assignment "*"`
    course = template.copy(tmp / "course")              # a cheap copy of it (gradebook and release)
    course.submit("ada", "01_activations", solved(course.release("01_activations"), "01"))
    course.nbgrader("autograde", "*")                   # nbgrader itself, in an isolated HOME / Jupyter
    course.mnist_kit("autograde", "--workers", "2")     # the kit's command, the same environment
    course.scores()                                     # {(student, assignment): (score, max_score)}

Submissions are built from the released notebooks, the way a student hands them in:
`solved` (the reference code typed into the stubs), `with_body` (one function's body
replaced, e.g. by a mistake of tests/mistakes/ with `mistake_body`), `tampered`,
`with_cell` (an extra code cell, e.g. an endless loop at the top level).

nbgrader runs with HOME, JUPYTER_* and IPYTHONDIR pointing inside the throwaway folder
(as in tests/test_grader_e2e.py), so nothing of the user's own Jupyter set-up is used.
"""

import ast
import copy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from curriculum_trees import expectations, graded_function

from grading.build.stubs import SolutionBlock, split_solution_blocks
from grading.stages import REPO_ROOT, STAGES, get_stage

BIN = Path(sys.executable).parent
NBGRADER = BIN / "nbgrader"
ALL = [stage.folder for stage in STAGES]
MISTAKES = REPO_ROOT / "tests" / "mistakes"

#: appended to the copy's nbgrader_config.py: short limits, read by nbgrader and by mnist-kit alike
SHORT_LIMITS = """
# tests: short time limits (an endless loop is ended after 2 s, a looping cell after 3 s)
import grading.running.learner_function as _calls, grading.running.program as _loading
_calls.CALL_TIME_LIMIT = {call}
_loading.LOAD_TIME_LIMIT = {load}
"""


def gradebook_scores(db: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """{(student, assignment): (score, max_score)} for every submission in the gradebook file `db`."""
    from nbgrader.api import Gradebook

    table = {}
    with Gradebook(f"sqlite:///{db}", "mnist-kit") as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                table[(submission.student.id, assignment.name)] = (float(submission.score),
                                                                   float(submission.max_score))
    return table


class Course:
    """A throwaway copy of grader/ and the environment nbgrader and mnist-kit run in."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.timings: list[tuple[str, float]] = []
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("JUPYTER", "IPYTHON", "PYTHONPATH", "NBGRADER"))}
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # nbgrader runs `alembic` from here
                   HOME=str(home), JUPYTER_PATH=str(home / "jupyter"),
                   JUPYTER_CONFIG_DIR=str(home / ".jupyter"), IPYTHONDIR=str(home / ".ipython"),
                   JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        self.env = env

    # ------------------------------------------------------------ making one
    @classmethod
    def generate(cls, folder: Path, *, call_limit: float | None = None, load_limit: float | None = None) -> "Course":
        """grader/ copied into folder/course and every stage released (a gradebook with the five assignments)."""
        folder.mkdir(parents=True, exist_ok=True)
        root, home = folder / "course", folder / "home"
        shutil.copytree(REPO_ROOT / "grader", root,
                        ignore=shutil.ignore_patterns("release", "submitted", "autograded", "feedback", "student",
                                                      "gradebook.db", "*.csv", ".ipynb_checkpoints", "__pycache__"))
        home.mkdir()
        if call_limit is not None or load_limit is not None:
            with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
                config.write(SHORT_LIMITS.format(call=call_limit or 30.0, load=load_limit or 30.0))
        course = cls(root, home)
        course.nbgrader("generate_assignment", "*")
        return course

    def copy(self, folder: Path) -> "Course":
        """Another course with this one's configuration, gradebook, release and submissions."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.root, folder / "course")
        (folder / "home").mkdir()
        return Course(folder / "course", folder / "home")

    # ------------------------------------------------------------ running things
    def run(self, argv: list[str], *, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run(argv, cwd=self.root, env=self.env, text=True, capture_output=True, timeout=timeout)
        self.timings.append((" ".join(argv[1:3]), time.monotonic() - started))
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, argv))} exited {result.returncode}:\n"
                                 f"{(result.stdout + result.stderr)[-4000:]}")
        return result

    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run([str(NBGRADER), *args], check=check)

    def mnist_kit(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`mnist-kit ARGS` (as `python -m solutions`), run from the course folder."""
        return self.run([sys.executable, "-m", "solutions", *args], check=check)

    # ------------------------------------------------------------ submissions
    def release(self, stage: str) -> dict:
        stage = get_stage(stage).folder
        return json.loads((self.root / "release" / stage / f"{stage}.ipynb").read_text(encoding="utf-8"))

    def submit(self, student: str, stage: str, notebook: "dict | str") -> Path:
        """Hand in `notebook` (a dict, or raw text for a broken file) as student's work for stage."""
        stage = get_stage(stage).folder
        folder = self.root / "submitted" / student / stage
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stage}.ipynb"
        path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1), encoding="utf-8")
        return path

    # ------------------------------------------------------------ results
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    def scores(self) -> dict[tuple[str, str], tuple[float, float]]:
        """{(student, assignment): (score, max_score)} for every submission in the gradebook."""
        return gradebook_scores(self.gradebook())

    def cell_scores(self) -> dict[tuple[str, str, str], tuple]:
        """{(student, assignment, grade id): (score, auto_score, needs_manual_grade)}, and for each
        solution cell (student, assignment, cell): its auto comment, for every submission."""
        from nbgrader.api import Gradebook

        table: dict[tuple[str, str, str], tuple] = {}
        with Gradebook(f"sqlite:///{self.gradebook()}", "mnist-kit") as gradebook:
            for assignment in gradebook.assignments:
                for submission in assignment.submissions:
                    for notebook in submission.notebooks:
                        for grade in notebook.grades:
                            table[(submission.student.id, assignment.name, grade.name)] = (
                                float(grade.score), grade.auto_score, bool(grade.needs_manual_grade))
                        for comment in notebook.comments:
                            table[(submission.student.id, assignment.name, comment.name)] = (comment.auto_comment,)
                        table[(submission.student.id, assignment.name, "late penalty")] = (
                            notebook.late_submission_penalty,)
        return table

    def timestamps(self) -> dict[tuple[str, str], object]:
        """{(student, assignment): the submission's timestamp} as recorded in the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.gradebook()}", "mnist-kit") as gradebook:
            return {(submission.student.id, assignment.name): submission.timestamp
                    for assignment in gradebook.assignments for submission in assignment.submissions}

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table of the gradebook (to compare two states exactly)."""
        with sqlite3.connect(self.gradebook()) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {table: sorted(map(repr, db.execute(f'SELECT * FROM "{table}"').fetchall())) for table in tables}


# ----------------------------------------------------------------------------- notebooks
def reference_bodies(stage: str) -> dict[str, str]:
    """{function: the code between its solution markers, indented as in the function}."""
    source = get_stage(stage).reference_file.read_text(encoding="utf-8")
    bodies: dict[str, str] = {}
    for piece in split_solution_blocks(source):
        if isinstance(piece, SolutionBlock):
            bodies[piece.function] = bodies.get(piece.function, "") + piece.body
    return bodies


def cell(notebook: dict, grade_id: str) -> dict:
    return next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _source(code_cell: dict) -> str:
    value = code_cell["source"]
    return value if isinstance(value, str) else "".join(value)


def with_body(notebook: dict, function: str, body: str) -> dict:
    """A copy of the notebook with `body` (indented as a function body) typed in place of function's stub."""
    notebook = copy.deepcopy(notebook)
    code_cell = cell(notebook, f"{function}_code")
    source = _source(code_cell)
    match = re.search(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)", source,
                      re.MULTILINE)
    if not match:
        raise ValueError(f"no stub left in the {function}_code cell")
    code_cell["source"] = (source[: match.start()] + body.rstrip("\n") + source[match.end():]).splitlines(True)
    return notebook


def solved(notebook: dict, stage: str, *, skip: tuple[str, ...] = ()) -> dict:
    """The release with the reference code typed into every stub but those of `skip`."""
    for function, body in reference_bodies(stage).items():
        if function not in skip:
            notebook = with_body(notebook, function, body)
    return notebook


def with_cell(notebook: dict, code: str, *, position: int = 3) -> dict:
    """A copy with a new code cell (after the setup cell by default)."""
    notebook = copy.deepcopy(notebook)
    notebook["cells"].insert(position, {"cell_type": "code", "execution_count": None,
                                        "id": f"student-{len(notebook['cells'])}-{abs(hash(code)) % 10**6}",
                                        "metadata": {}, "outputs": [], "source": code.splitlines(True)})
    return notebook


def tampered(notebook: dict) -> dict:
    """Stage 01 with relu written and the others stubs, and every trick of tests/test_grader_e2e.py's
    "tamper" student: relu_deriv's test cell replaced by `pass` and made worth 100 points,
    softmax's test cell deleted, relu's test and solution cells duplicated, cells writing to stderr."""
    notebook = solved(notebook, "01", skip=("relu_deriv", "softmax"))
    tests = cell(notebook, "relu_deriv_tests")
    tests["source"] = ["pass\n"]
    tests["metadata"]["nbgrader"]["points"] = 100
    notebook["cells"].remove(cell(notebook, "softmax_tests"))
    relu_tests = cell(notebook, "relu_tests")
    notebook["cells"].insert(notebook["cells"].index(relu_tests), copy.deepcopy(relu_tests))
    notebook["cells"].append(copy.deepcopy(cell(notebook, "relu_code")))
    notebook = with_cell(notebook, "import sys, warnings\nprint('a message on stderr', file=sys.stderr)\n"
                                   "warnings.warn('a warning')\n")
    for index, each in enumerate(notebook["cells"]):
        each["id"] = f"cell-{index}"  # nbformat wants unique cell ids; the grade ids stay duplicated
    return notebook


def mistake_body(path: Path) -> tuple[str, str, str]:
    """(function, its mistaken body after the docstring, the phrase its `# EXPECT` line names) of a
    mistake file of tests/mistakes/ (a whole learner file, one function wrong)."""
    source = path.read_text(encoding="utf-8")
    expected = expectations(path)
    if not expected:
        raise ValueError(f"{path}: no '# EXPECT test_<function>: <phrase>' line")
    test, phrase = next(iter(expected.items()))
    function, phrase = graded_function(test), phrase.strip()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    first = node.body[1] if isinstance(node.body[0], ast.Expr) and len(node.body) > 1 else node.body[0]
    lines = source.splitlines(keepends=True)
    return function, "".join(lines[first.lineno - 1: node.end_lineno]), phrase


def mistake_files(stage: str) -> list[Path]:
    return sorted((MISTAKES / get_stage(stage).folder).glob("*.py"))
