"""What students receive, made as an instructor makes it: `nbgrader generate_assignment "*"` in a copy of
grader/, and `pip install` of grader/student/ in a fresh virtual environment.

* The release notebooks hold no answer (tests/answer_lines.py): no line of the stage's own solution
  anywhere, earlier stages' reference code only in the locked setup cell, no hidden check; and
  their code imports only NumPy, the student edition and kit_helpers (which it installs).
* In a virtual environment holding only NumPy and grader/student/ (no kit, no Jupyter), a release
  notebook whose solution cells hold the reference code passes every visible test cell, and the
  release as handed out fails each with the one-line "not written yet" message (a function whose
  checks are all bonus, stage 05's plot_history, has only its bonus test cell). plot_history needs
  matplotlib, which that environment lacks: its test cell says so.

Slow (nbgrader ~10-35 s, the environment ~20-60 s, on a shared machine): the times are printed.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path

import pytest
from answer_lines import release_allows, scan, texts_of
from student_edition_support import NBGRADER, STUDENT_DIR, generate_release, release_notebook

from grading.build.notebooks import BONUS_POINTS, POINTS
from grading.build.stubs import SolutionBlock, split_solution_blocks
from grading.checks.registry import checks_for
from grading.stages import STAGES, get_stage
from grading.student_edition.answers import answer_lines

pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")
if not NBGRADER.is_file():
    pytest.skip(f"no nbgrader command beside this Python ({NBGRADER})", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    started = time.monotonic()
    folder = generate_release(tmp_path_factory.mktemp("release"))
    print(f"\nnbgrader generate_assignment: {time.monotonic() - started:.1f} s")
    return folder


def test_the_release_holds_no_answer(release: Path) -> None:
    texts = texts_of(release)
    assert {t.file.name for t in texts} == {f"{s.folder}.ipynb" for s in STAGES}
    hits = scan(texts, answer_lines(), allowed=release_allows)
    assert not hits, "\n".join(map(str, hits))


def test_the_release_imports_only_numpy_and_the_student_edition(release: Path) -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "mnist_kit_student", "kit_helpers", "matplotlib"}
    for stage in STAGES:
        for cell in release_notebook(release, stage)["cells"]:
            if cell["cell_type"] != "code":
                continue
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    assert name.split(".")[0] in allowed, (stage.folder, cell["id"], name)


# ----------------------------------------------------------------------------- a fresh environment
RUN_CELLS = textwrap.dedent('''
    import contextlib, io, json, linecache, sys
    report = {}
    for path in sys.argv[1:]:
        notebook = json.load(open(path))
        namespace, results = {"__name__": "__main__"}, {}
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source, name = "".join(cell["source"]), "<cell " + cell["id"] + ">"
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(source, name, "exec"), namespace)
                error = None
            except BaseException as raised:
                error = {"type": type(raised).__name__, "message": str(raised),
                         "assertion": isinstance(raised, AssertionError)}
            results[cell["id"]] = {"error": error, "stdout": out.getvalue()}
        report[path] = results
    json.dump(report, sys.stdout)
''')


def reference_bodies(stage) -> dict[str, str]:
    """{function: the code between its solution markers}."""
    bodies: dict[str, str] = {}
    for piece in split_solution_blocks(stage.reference_file.read_text(encoding="utf-8")):
        if isinstance(piece, SolutionBlock):
            bodies[piece.function] = bodies.get(piece.function, "") + piece.body
    return bodies


def solved(notebook: dict, stage) -> dict:
    """The release notebook with the reference code typed in place of every stub (a correct student)."""
    copy = json.loads(json.dumps(notebook))
    bodies = reference_bodies(stage)
    for cell in copy["cells"]:
        function = cell["id"].removesuffix("_code")
        if cell["id"].endswith("_code") and function in bodies:
            source = "".join(cell["source"])
            stub = re.search(r"^[ \t]*# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)\n?", source, re.MULTILINE)
            assert stub, f"{stage.folder}: no stub in {cell['id']}"
            cell["source"] = source[: stub.start()] + bodies[function] + source[stub.end():]
    return copy


def fresh_environment(folder: Path) -> Path:
    """A virtual environment with NumPy and the student edition (installed from a copy of grader/student/)."""
    venv.create(folder / "venv", with_pip=True, clear=True)
    python = folder / "venv" / "bin" / "python"
    package = folder / "student"
    shutil.copytree(STUDENT_DIR, package, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    for arguments in (["numpy"], [str(package)]):
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                 *arguments], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
    return python


def test_a_fresh_environment_runs_the_visible_tests(release: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    python = fresh_environment(tmp_path)
    installed = time.monotonic()
    listing = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                             capture_output=True, text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(listing)}
    assert {"numpy", "mnist-kit-student"} <= names <= {"numpy", "mnist-kit-student", "pip", "setuptools"}, names
    paths = {}
    for stage in STAGES:
        notebook = release_notebook(release, stage)
        for kind, content in (("solved", solved(notebook, stage)), ("stubs", notebook)):
            paths[(stage.number, kind)] = tmp_path / f"{stage.folder}-{kind}.ipynb"
            paths[(stage.number, kind)].write_text(json.dumps(content))
    (tmp_path / "run_cells.py").write_text(RUN_CELLS)
    work = tmp_path / "work"  # not the repository: nothing of the kit is importable from there
    work.mkdir()
    result = subprocess.run([str(python), "-I", str(tmp_path / "run_cells.py"), *map(str, paths.values())],
                            cwd=work, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = {key: json.loads(result.stdout)[str(path)] for key, path in paths.items()}
    finished = time.monotonic()
    print(f"\nfresh environment: {installed - started:.1f} s to create and install, "
          f"{finished - installed:.1f} s to run 10 notebooks")

    problems = []
    for stage in STAGES:
        good, stubs = report[(stage.number, "solved")], report[(stage.number, "stubs")]
        for cell_id, outcome in good.items():
            if not cell_id.endswith("_tests") and outcome["error"]:
                problems.append(f"{stage.folder} {cell_id} (solved): {outcome['error']}")
        for function in stage.functions:
            checking = checking_cells(stage, function)
            assert checking, f"{stage.folder}: no test cell runs the visible checks of {function}()"
            for cell_id in checking:
                test, stub = good[cell_id], stubs[cell_id]["error"]
                if function == "plot_history":  # needs matplotlib, which only NumPy's environment lacks
                    for error in (test["error"], stub):  # the stub imports it before its `raise`
                        assert error["type"] == "GradingError", (cell_id, error)
                        assert "raised ModuleNotFoundError: No module named 'matplotlib'" in error["message"]
                    continue
                if test["error"] or not test["stdout"].startswith(f"{stage.label}, {function}(): "):
                    problems.append(f"{stage.folder} {cell_id} (solved): {test}")
                expected = (f"{stage.label}: {function}() is not written yet - replace its "
                            f"`raise NotImplementedError(...)` in its cell with your code.")
                if not stub or stub["type"] != "NotWrittenYet" or not stub["assertion"] or stub["message"] != expected:
                    problems.append(f"{stage.folder} {cell_id} (stubs): {stub}")
            for cell_id in (f"{function}_tests", f"{function}_bonus_tests"):  # a bonus cell with a note only
                if cell_id in good and cell_id not in checking:
                    for kind, outcome in (("solved", good[cell_id]), ("stubs", stubs[cell_id])):
                        if outcome["error"] or outcome["stdout"]:
                            problems.append(f"{stage.folder} {cell_id} ({kind}): {outcome}")
    assert not problems, "\n".join(problems)


def checking_cells(stage, function: str) -> list[str]:
    """The test cells of `function` that run its visible checks (grading/build/notebooks.py's layout):
    `<function>_tests` for its core checks, `<function>_bonus_tests` when some of its bonus checks are
    visible (stage 05's plot_history has only that one)."""
    cells = [f"{function}_tests"] if function in POINTS[stage.folder] else []
    if function in BONUS_POINTS.get(stage.folder, {}) and any(
            check.visible for check in checks_for(stage, function, bonus=True)):
        cells.append(f"{function}_bonus_tests")
    return cells
