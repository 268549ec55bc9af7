"""The nbgrader course in grader/, end to end, with real nbgrader runs: one student per attack.

One module-scoped run, with the commands of grader/README.md's workflow as written:

    copy grader/ to a throwaway course -> generate_assignment "*" -> write the submissions
    -> autograde "*" -> generate_feedback "*" -> export --to grades.csv
    -> autograde two submissions again with --force (scores read from the gradebook)

Autograding is sealed (grader/nbgrader_config.py: SealedExecute): every submission's
cells run in the grading worker. The students, what they hand in, and the score each
deserves (EXPECTED below): the honest ones (correct, stubs, partial, a classic mistake),
the careless ones (an endless loop, a loop that swallows interrupts, a cell copied from
another notebook, deleted or edited test cells, stray files beside the notebook, a 2 GB
allocation, the original notebook's one_hot), and the hostile ones (patching NumPy or
the checks, fake packages beside the notebook, reading or importing the reference,
writing the gradebook, other students' notebooks, the course's source folder or a .pth,
leaving a process behind, `%xmode Verbose`). The tests check every score, that nothing
they planted is anywhere, that no process of theirs is alive, and that no feedback shows
a hidden check or a solution line.
"""

import csv
import html
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from class_course import gradebook_scores

import solutions.activations
from grading.build.notebooks import BONUS_POINTS, POINTS
from grading.build.stubs import SolutionBlock, split_solution_blocks
from grading.sandbox import containment_kind
from grading.stages import REPO_ROOT, STAGES, get_stage

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")

BIN = Path(sys.executable).parent
NBGRADER = BIN / "nbgrader"
if not NBGRADER.is_file():
    pytest.skip(f"no nbgrader command beside this Python ({NBGRADER})", allow_module_level=True)
ALL = [stage.folder for stage in STAGES]
SEALED = containment_kind() != "none"
#: a process the "leaver" student starts; none may be alive once autograde is done
LEAVER_MARK = "4321.987"


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
    bodies: dict[str, str] = {}
    for piece in split_solution_blocks(stage.reference_file.read_text(encoding="utf-8")):
        if isinstance(piece, SolutionBlock):
            bodies[piece.function] = bodies.get(piece.function, "") + piece.body
    return bodies


def solution_lines(stage_key: str) -> set[str]:
    """The stage's solution lines that are long enough to be telling (an answer if found elsewhere)."""
    return {line.strip() for body in reference_bodies(stage_key).values() for line in body.splitlines()
            if len(line.strip()) >= 16}


def cell(notebook: dict, grade_id: str) -> dict:
    return next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def text_of(value: "str | list[str]") -> str:
    return value if isinstance(value, str) else "".join(value)


def set_source(code_cell: dict, text: str) -> None:
    code_cell["source"] = text.splitlines(keepends=True)


def fill(notebook: dict, function: str, body: str) -> None:
    """Type `body` (indented as a function body) in place of the stub of `function`."""
    code_cell = cell(notebook, f"{function}_code")
    source = text_of(code_cell["source"])
    match = re.search(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)", source,
                      re.MULTILINE)
    assert match, f"no stub in the release's {function}_code cell:\n{source}"
    set_source(code_cell, source[: match.start()] + body.rstrip("\n") + source[match.end():])


def new_code_cell(text: str, cell_id: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def html_text(path: Path) -> str:
    """The text of an HTML file (tags dropped, entities decoded), as a reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def mistake_body(path: Path, function: str) -> str:
    """The body (after the docstring) of `function` in a catalogued mistake file."""
    import ast
    source = path.read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    return "".join(source.splitlines(keepends=True)[node.body[1].lineno - 1: node.end_lineno])


# ----------------------------------------------------------------------------- submissions
P = POINTS
S1 = "01_activations"
B = BONUS_POINTS
FULL = {stage: sum(P[stage].values()) + sum(B.get(stage, {}).values()) for stage in ALL}


def submissions(release: Path, course: Path, targets: dict[str, Path]) -> tuple[dict, dict, dict]:
    """(student -> stage -> notebook, student -> stage -> expected score, extra files to hand in)."""

    def released(stage: str) -> dict:
        return json.loads((release / stage / f"{stage}.ipynb").read_text(encoding="utf-8"))

    def solved(stage: str, skip: tuple[str, ...] = ()) -> dict:
        notebook = released(stage)
        for function, body in reference_bodies(stage).items():
            if function not in skip:
                fill(notebook, function, body)
        return notebook

    def add(notebook: dict, code: str, position: int = 3) -> dict:
        notebook["cells"].insert(position, new_code_cell(code, f"student-{len(notebook['cells'])}"))
        return notebook

    work: dict[str, dict[str, dict]] = {"correct": {}, "stubs": {}}
    expected: dict[str, dict[str, float]] = {"correct": dict(FULL), "stubs": {stage: 0 for stage in ALL}}
    extra: dict[str, dict[str, str]] = {}
    for stage in ALL:
        work["correct"][stage] = solved(stage)
        work["stubs"][stage] = released(stage)

    def one(student: str, notebook: dict, score: float, stage: str = S1, files: dict | None = None) -> None:
        work[student] = {stage: notebook}
        expected[student] = {stage: score}
        if files:
            extra[student] = files

    # --- honest
    one("partial", solved(S1, skip=("relu_deriv",)), FULL[S1] - P[S1]["relu_deriv"])
    mistaken = solved(S1, skip=("softmax",))
    fill(mistaken, "softmax", mistake_body(REPO_ROOT / "tests/mistakes/01_activations/softmax_not_stabilised.py",
                                           "softmax"))
    one("mistake", mistaken, FULL[S1] - P[S1]["softmax"])
    where = solved("03_backprop", skip=("cross_entropy",))  # correct, but np.log(0) warns
    fill(where, "cross_entropy", "    p = A2[Y, np.arange(Y.shape[0])]\n"
                                 "    return float(-np.mean(np.where(p > 0, np.log(p), np.log(1e-12))))\n")
    one("where_log", where, FULL["03_backprop"], "03_backprop")

    # --- careless: each costs only what it should
    loop = solved("02_forward_pass", skip=("init_params",))
    fill(loop, "init_params", "    while True:\n        pass\n")
    one("loop", loop, P["02_forward_pass"]["forward_prop"], "02_forward_pass")
    swallow = solved("02_forward_pass", skip=("init_params",))
    fill(swallow, "init_params", "    import signal\n    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):\n"
                                 "        signal.signal(s, signal.SIG_IGN)\n    while True:\n        try:\n"
                                 "            pass\n        except BaseException:\n            pass\n")
    add(swallow, "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n", 5)
    one("swallow", swallow, P["02_forward_pass"]["forward_prop"], "02_forward_pass")
    one_hot = solved("03_backprop", skip=("one_hot",))  # the original notebook's one_hot
    fill(one_hot, "one_hot", "    one_hot_Y = np.zeros((Y.size, Y.max() + 1))\n"
                             "    one_hot_Y[np.arange(Y.size), Y] = 1\n    return one_hot_Y.T\n")
    one("notebook_one_hot", one_hot, FULL["03_backprop"] - P["03_backprop"]["one_hot"], "03_backprop")
    count = solved("04_gradient_descent", skip=("get_accuracy",))
    fill(count, "get_accuracy", "    return np.sum(predictions == Y)\n")
    one("accuracy_count", count, FULL["04_gradient_descent"] - P["04_gradient_descent"]["get_accuracy"],
        "04_gradient_descent")
    capstone = solved("05_train_mnist", skip=("evaluate", "minibatch_indices"))
    fill(capstone, "evaluate", "    _, _, _, A2 = forward_prop(W1, b1, W2, b2, X)\n"
                               "    return cross_entropy(A2, Y), get_accuracy(get_predictions(A2), Y)\n")
    fill(capstone, "minibatch_indices", "    order = np.random.permutation(m)\n"
                                        "    return [order[i:i + batch_size] for i in range(0, m, batch_size)]\n")
    one("capstone_helpers", capstone, FULL["05_train_mnist"] - P["05_train_mnist"]["evaluate"]
        - P["05_train_mnist"]["minibatch_indices"], "05_train_mnist")
    core_only = released("05_train_mnist")  # the core written, not the optional extras
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
    one("core_only", core_only, sum(P["05_train_mnist"].values()), "05_train_mnist")
    copied = solved(S1)
    other = solved("02_forward_pass")
    copied["cells"].append(json.loads(json.dumps(cell(other, "init_params_code"))))  # unknown grade id here
    one("copied_cell", copied, FULL[S1])
    no_tests = solved(S1)
    no_tests["cells"] = [c for c in no_tests["cells"] if not c["metadata"].get("nbgrader", {}).get("grade")]
    one("deleted_tests", no_tests, FULL[S1])
    tamper = solved(S1, skip=("relu_deriv", "softmax"))
    set_source(cell(tamper, "relu_deriv_tests"), "pass\n")
    cell(tamper, "relu_deriv_tests")["metadata"]["nbgrader"]["points"] = 100
    tamper["cells"].remove(cell(tamper, "softmax_tests"))
    relu_tests = cell(tamper, "relu_tests")
    tamper["cells"].insert(tamper["cells"].index(relu_tests), json.loads(json.dumps(relu_tests)))
    tamper["cells"].append(json.loads(json.dumps(cell(tamper, "relu_code"))))
    add(tamper, "import sys\nprint('a message on stderr', file=sys.stderr)\n")
    for index, each in enumerate(tamper["cells"]):
        each["id"] = f"cell-{index}"
    one("tamper", tamper, P[S1]["relu"])
    one("stray_files", solved(S1), FULL[S1], files={
        "solutions.py": "# my notes on relu\nraise SystemExit('notes, not code')\n",
        "grading/__init__.py": "raise RuntimeError('not the grader')\n"})
    memory = solved(S1, skip=("relu",))
    fill(memory, "relu", "    big = np.ones(2 * 1024**3 // 8)\n    return np.maximum(Z, 0)\n")
    add(memory, "import numpy as np\nhuge = np.ones(2 * 1024**3 // 8)\nprint(huge.sum())\n")
    one("memory", memory, FULL[S1] - P[S1]["relu"])

    # --- hostile: none of it gets a point for wrong code, or reaches anything
    wrong = released(S1)
    for function in get_stage(S1).functions:
        fill(wrong, function, "    import sys\n    sys.displayhook(1.0)\n    print('all good')\n    return Z\n")
    add(wrong, "import numpy as np\nnp.allclose = np.array_equal = np.isclose = lambda *a, **k: True\n"
               "globals = lambda: {}\n"
               "get_ipython().input_transformers_post.append(lambda lines: [])\n")
    add(wrong, "%xmode Verbose\n", 4)
    one("hacker", wrong, 0, files={
        "solutions/__init__.py": "from .activations import *\n",
        "solutions/activations.py": "relu = relu_deriv = softmax = lambda Z: Z\n",
        "grading/__init__.py": "run_checks = lambda *args, **kwargs: ['ok']\n",
        "grading/checks/__init__.py": "",
        "grading/checks/registry.py": "run_checks = lambda *args, **kwargs: ['ok']\n"})
    reader = released(S1)
    reference_file = str(Path(solutions.activations.__file__))
    fill(reader, "relu", "    from solutions.activations import relu as reference\n    return reference(Z)\n")
    fill(reader, "relu_deriv", f"    namespace = {{}}\n"
                               f"    exec(compile(open({reference_file!r}).read(), 'mine.py', 'exec'), namespace)\n"
                               f"    return namespace['relu_deriv'](Z)\n")
    fill(reader, "softmax", "    import pkgutil, threading\n    box = []\n"
                            "    text = pkgutil.get_data('solutions', 'activations.py')\n"
                            "    threading.Thread(target=lambda: box.append(text)).start()\n"
                            "    return Z\n")
    one("reference", reader, 0)
    writer = solved(S1)
    add(writer, "import os, sqlite3, subprocess\n"
                f"targets = {json.dumps({k: str(v) for k, v in targets.items()})}\n"
                "for name, path in targets.items():\n"
                "    try:\n"
                "        if name == 'gradebook':\n"
                "            db = sqlite3.connect(path)\n"
                "            db.execute('update grade set auto_score = 99')\n"
                "            db.commit()\n"
                "        else:\n"
                "            os.makedirs(os.path.dirname(path), exist_ok=True)\n"
                "            open(path, 'w').write('import os; open(\"/tmp/mnist-kit-owned\", \"w\")\\n')\n"
                "    except Exception as error:\n"
                "        print(name, type(error).__name__)\n"
                f"subprocess.Popen(['sleep', '{LEAVER_MARK}'], start_new_session=True)\n")
    one("writer", writer, FULL[S1])
    return work, expected, extra


# ----------------------------------------------------------------------------- the run
class Course:
    """A throwaway copy of grader/ and a log of the nbgrader commands run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root / "course"
        self.home = root / "home"
        self.timings: list[tuple[str, float]] = []
        shutil.copytree(REPO_ROOT / "grader", self.root,
                        ignore=shutil.ignore_patterns("release", "submitted", "autograded", "feedback", "student",
                                                      "gradebook.db", "*.csv", ".ipynb_checkpoints"))
        with open(self.root / "nbgrader_config.py", "a", encoding="utf-8") as config:  # quick loops for the test
            config.write("\nc.SealedExecute.call_time_limit = 8\nc.SealedExecute.cell_time_limit = 3\n")
        self.home.mkdir()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("JUPYTER", "IPYTHON", "PYTHONPATH", "NBGRADER"))}
        env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",  # nbgrader runs `alembic` from here
                   HOME=str(self.home), JUPYTER_CONFIG_DIR=str(self.home / ".jupyter"),
                   IPYTHONDIR=str(self.home / ".ipython"), JUPYTER_PLATFORM_DIRS="1")
        self.env = env

    def nbgrader(self, *args: str) -> str:
        """Run one nbgrader command in the course; its output (it exits 0 even when work fails)."""
        started = time.monotonic()
        result = subprocess.run([str(NBGRADER), *args], cwd=self.root, env=self.env, text=True,
                                capture_output=True, timeout=900)
        self.timings.append((" ".join(args), time.monotonic() - started))
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"nbgrader {' '.join(args)} exited {result.returncode}:\n{output[-4000:]}"
        return output

    def gradebook_scores(self) -> dict[tuple[str, str], tuple[float, float]]:
        """(student, assignment) -> (score, max_score), read from gradebook.db."""
        return gradebook_scores(self.root / "gradebook.db")

    def scores(self, csv_name: str) -> dict[tuple[str, str], tuple[float, float]]:
        with open(self.root / csv_name, newline="") as file:
            return {(row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
                    for row in csv.DictReader(file)}


def _alive_with(mark: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if mark in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(entry)
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    if not SEALED and os.environ.get("MNIST_KIT_REQUIRE_SANDBOX") == "1":
        pytest.fail("MNIST_KIT_REQUIRE_SANDBOX=1, but this machine allows no namespaces for the grading worker")
    started = time.monotonic()
    course = Course(tmp_path_factory.mktemp("nbgrader"))
    workflow = readme_workflow()
    assert [command[0] for command in workflow] == ["generate_assignment", "autograde", "generate_feedback",
                                                    "export"], workflow
    course.generate_log = course.nbgrader(*workflow[0])
    import numpy
    course.targets = {
        "gradebook": course.root / "gradebook.db",
        "other_student": course.root / "submitted" / "correct" / S1 / f"{S1}.ipynb",
        "source": course.root / "source" / S1 / "planted.py",
        "pth": Path(numpy.__file__).parent.parent / "mnist-kit-planted.pth",
    }
    course.work, course.expected, extra = submissions(course.root / "release", course.root, course.targets)
    for student, stages in course.work.items():
        for stage, notebook in stages.items():
            folder = course.root / "submitted" / student / stage
            folder.mkdir(parents=True)
            (folder / f"{stage}.ipynb").write_text(json.dumps(notebook, indent=1))
            for name, text in extra.get(student, {}).items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(text)
    course.other_before = (course.targets["other_student"]).read_bytes()
    course.autograde_log = course.nbgrader(*workflow[1])
    course.alive_after_autograde = _alive_with(LEAVER_MARK)
    course.feedback_log = course.nbgrader(*workflow[2])
    course.nbgrader(*workflow[3])
    assert workflow[3][-1] == "grades.csv", workflow[3]
    course.first = course.scores("grades.csv")
    # grading again gives the same scores (and would run anything planted during the first run)
    course.regrade_log = course.nbgrader("autograde", S1, "--student", "tamper", "--force")
    course.regrade_log += course.nbgrader("autograde", S1, "--student", "hacker", "--force")
    course.regraded = course.gradebook_scores()
    course.total_seconds = time.monotonic() - started
    print(f"\nnbgrader end to end: {course.total_seconds:.0f} s in all")
    for command, seconds in course.timings:
        print(f"  nbgrader {command:<40} {seconds:6.1f} s")
    yield course
    for pid in _alive_with(LEAVER_MARK):  # never leave one behind, even when a test fails
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
    course.targets["pth"].unlink(missing_ok=True)


# ----------------------------------------------------------------------------- the tests
def test_every_score_is_exact(course: Course) -> None:
    wrong = {}
    for student, stages in course.expected.items():
        for stage, score in stages.items():
            got = course.first[(student, stage)]
            if got != (score, FULL[stage]):
                wrong[(student, stage)] = (got, score)
        for stage in set(ALL) - set(stages):  # not submitted: nbgrader records 0
            assert course.first[(student, stage)][0] == 0, (student, stage)
    assert not wrong, f"scores off: {wrong}"


def test_grading_again_gives_the_same_scores(course: Course) -> None:
    assert "Skipping existing assignment" not in course.regrade_log
    for key in (("tamper", S1), ("hacker", S1)):
        assert course.regraded[key] == course.first[key], key
    assert {key: course.first[key] for key in course.regraded} == course.regraded


def test_nothing_planted_is_anywhere_and_the_gradebook_holds_only_nbgraders_scores(course: Course) -> None:
    if not SEALED:
        pytest.skip("without namespaces the worker can reach this user's files (see grader/README.md)")
    assert not course.targets["source"].exists()
    assert not course.targets["pth"].exists()
    assert not Path("/tmp/mnist-kit-owned").exists()
    assert course.targets["other_student"].read_bytes() == course.other_before
    with sqlite3.connect(course.root / "gradebook.db") as db:
        assert db.execute("select count(*) from grade where auto_score = 99").fetchone()[0] == 0
    assert "planted" not in " ".join(p.name for p in (course.root / "release").rglob("*"))


def test_no_process_of_a_student_outlives_autograde(course: Course) -> None:
    assert course.alive_after_autograde == []


def test_loops_cost_only_their_function(course: Course) -> None:
    graded = json.loads((course.root / "autograded" / "swallow" / "02_forward_pass" / "02_forward_pass.ipynb")
                        .read_text())
    errors = [o for o in cell(graded, "init_params_tests")["outputs"] if o["output_type"] == "error"]
    assert errors and "did not return within 8 seconds" in errors[0]["evalue"], errors
    looping_cell = next(c for c in graded["cells"] if "except BaseException" in text_of(c["source"])
                        and c["metadata"].get("nbgrader") is None)
    assert [o.get("ename") for o in looping_cell["outputs"]] == ["CellTimeoutError"]


def test_a_failing_test_cell_shows_the_teaching_message_only(course: Course) -> None:
    graded = json.loads((course.root / "autograded" / "mistake" / S1 / f"{S1}.ipynb").read_text())
    outputs = cell(graded, "softmax_tests")["outputs"]
    assert [o["output_type"] for o in outputs] == ["error"]
    assert "softmax()" in outputs[0]["evalue"] and "hint:" in outputs[0]["evalue"]
    assert cell(graded, "softmax_tests")["metadata"]["mnist_kit"]["check"]
    for function in ("relu", "relu_deriv"):
        assert cell(graded, f"{function}_tests")["outputs"] == []


def test_the_reference_is_out_of_reach(course: Course) -> None:
    graded = json.loads((course.root / "autograded" / "reference" / S1 / f"{S1}.ipynb").read_text())
    relu = cell(graded, "relu_tests")["outputs"][0]
    assert relu["ename"] == "CallsReferenceError", relu
    if SEALED:
        assert "FileNotFoundError" in cell(graded, "relu_deriv_tests")["outputs"][0]["evalue"]


def test_release_has_no_solutions_or_hidden_tests(course: Course) -> None:
    for stage in ALL:
        folder = course.root / "release" / stage
        assert sorted(p.name for p in folder.iterdir()) == [f"{stage}.ipynb"], f"extra files released: {folder}"
        notebook = json.loads((folder / f"{stage}.ipynb").read_text(encoding="utf-8"))
        text = json.dumps(notebook)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
            assert marker not in text, f"{stage}: the release contains {marker!r}"
        assert not re.search(r"\b(import|from) (grading|solutions)\b", text), f"{stage}: imports the kit"
        outside_setup = "\n".join(text_of(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"
                                  and c["metadata"].get("nbgrader", {}).get("grade_id") != "setup")
        released_lines = {line.strip() for line in outside_setup.splitlines()}
        leaked = sorted(solution_lines(stage) & released_lines)
        assert not leaked, f"{stage}: solution lines in the release: {leaked}"
        solution_cells = "\n".join(text_of(c["source"]) for c in notebook["cells"]
                                   if c["metadata"].get("nbgrader", {}).get("solution"))
        stubs = solution_cells.count("raise NotImplementedError()")
        assert stubs == len(get_stage(stage).functions), f"{stage}: {stubs} stubs"


def test_feedback_shows_no_hidden_check_or_solution_line(course: Course) -> None:
    checks = "\n".join(path.read_text() for path in (REPO_ROOT / "grading" / "checks").glob("stage*.py"))
    # lines of check code (not the message strings they hold, which feedback shows on purpose)
    check_lines = {line.strip() for line in checks.splitlines() if len(line.strip()) >= 24
                   and not line.strip().startswith(("#", '"', "f\"", "'", "def ", "@check", "hint=", "mistake="))
                   and re.search(r"\b(np|ref|ref_\w+)\.|expect_\w+\(|_trained\(|batch\(", line)}
    for student, stages in course.work.items():
        for stage, notebook in stages.items():
            feedback = course.root / "feedback" / student / stage / f"{stage}.html"
            assert feedback.is_file(), f"no feedback for {student} / {stage}"
            text = html_text(feedback)
            assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, (student, stage)
            submitted = {line.strip() for c in notebook["cells"] for line in text_of(c["source"]).splitlines()}
            shown = {line.strip() for line in text.splitlines()}
            leaked = sorted((solution_lines(stage) - submitted) & shown)
            assert not leaked, f"{student} / {stage}: solution lines in the feedback: {leaked}"
            assert not ((check_lines - submitted) & shown), f"{student} / {stage}: check code in the feedback"
    feedback = html_text(course.root / "feedback" / "mistake" / S1 / f"{S1}.html")
    assert "softmax()" in feedback and "hint:" in feedback  # a failing check explains itself
