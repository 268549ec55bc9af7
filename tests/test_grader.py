"""The nbgrader course in grader/ without running nbgrader: generated files, cell layout, config.

(tests/test_grader_e2e.py runs the course for real.) Running a notebook here means running its
code cells in order in a fresh Python process, as a kernel would, and noting which cells
raised what and whether anything was printed.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grading.build import notebooks
from grading.build.notebooks import (BONUS_POINTS, POINTS, NotebookSourceError, build_notebook, module_parts,
                                     notebook_path)
from grading.checks.registry import checks_for
from grading.stages import REPO_ROOT, STAGES, get_stage
from grading.build.stubs import MarkerError
from notebook_runner import run_cells

COURSE = REPO_ROOT / "grader"
HIDDEN_BLOCK = re.compile(r"^### BEGIN HIDDEN TESTS\n.*?^### END HIDDEN TESTS\n?", re.MULTILINE | re.DOTALL)
SOLUTION_BLOCK = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n?",
                            re.MULTILINE | re.DOTALL)


def source_of(cell: dict) -> str:
    return "".join(cell["source"])


def by_id(notebook: dict) -> dict[str, dict]:
    return {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in notebook["cells"]}


def committed(stage) -> dict:
    return json.loads(notebook_path(stage).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- generated files
def test_committed_notebooks_and_points_table_are_up_to_date() -> None:
    stale = [str(path.relative_to(REPO_ROOT)) for path in notebooks.outdated_files()]
    assert not stale, f"out of date: {stale} - run python -m grading.build.notebooks"


def test_check_mode_reports_a_stale_notebook_and_writing_fixes_it(tmp_path: Path, capsys) -> None:
    course = tmp_path / "grader"
    for path, text in notebooks.generated_files().items():
        target = course / path.relative_to(COURSE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert notebooks.main(["--check"], course) == 0
    stale = course / "source" / "03_backprop" / "03_backprop.ipynb"
    stale.write_text(stale.read_text().replace("backward_prop", "backwards_prop"))
    (course / "source" / "01_activations" / "01_activations.ipynb").unlink()
    capsys.readouterr()
    assert notebooks.main(["--check"], course) == 1
    out = capsys.readouterr().out
    assert "out of date: grader/source/01_activations/01_activations.ipynb" in out
    assert "out of date: grader/source/03_backprop/03_backprop.ipynb" in out
    assert notebooks.main([], course) == 0
    assert "wrote grader/source/03_backprop/03_backprop.ipynb" in capsys.readouterr().out
    assert notebooks.main(["--check"], course) == 0


def test_readme_without_the_points_table_markers_is_an_error(tmp_path: Path, capsys) -> None:
    course = tmp_path / "grader"
    course.mkdir()
    (course / "README.md").write_text("# A course\n")
    assert notebooks.main([], course) == 2
    assert "error: grader/README.md: the markers" in capsys.readouterr().err


def test_source_folders_hold_only_the_notebook() -> None:
    """generate_assignment copies every other file of source/<stage>/ to the students."""
    folders = sorted(p.name for p in (COURSE / "source").iterdir())
    assert folders == sorted(stage.folder for stage in STAGES)
    for stage in STAGES:
        files = sorted(p.name for p in (COURSE / "source" / stage.folder).iterdir())
        assert files == [f"{stage.folder}.ipynb"], files


# ----------------------------------------------------------------------------- the generator's errors
STAGE_01 = get_stage("01")
GOOD = '''"""Stage 01 - title.

Maths.
"""

import numpy as np

from .helpers import thing


def relu(Z):
    """Doc."""
    ### BEGIN SOLUTION
    return np.maximum(Z, 0)
    ### END SOLUTION


def relu_deriv(Z):
    """Doc."""
    ### BEGIN SOLUTION
    return Z > 0
    ### END SOLUTION


def softmax(Z):
    """Doc."""
    ### BEGIN SOLUTION
    return Z
    ### END SOLUTION
'''


def test_module_parts_splits_setup_and_functions() -> None:
    docstring, setup, functions = module_parts(STAGE_01, GOOD, "solutions/activations.py")
    assert docstring.startswith("Stage 01 - title.")
    assert setup == "import numpy as np\n\nfrom solutions.helpers import thing\n"
    assert list(functions) == ["relu", "relu_deriv", "softmax"]
    assert functions["relu"].startswith("def relu(Z):") and functions["relu"].endswith("### END SOLUTION\n")


@pytest.mark.parametrize("broken, message", [
    (GOOD.replace('"""Stage 01 - title.\n\nMaths.\n"""\n', ""), "the module has no docstring"),
    (GOOD.replace("    ### BEGIN SOLUTION\n    return Z\n    ### END SOLUTION\n", "    return Z\n"),
     "are not the stage's functions"),
    (GOOD + "\n\ndef helper():\n    pass\n", "line 32: helper is not one of the stage's functions"),
])
def test_module_parts_rejects_a_module_it_cannot_split(broken: str, message: str) -> None:
    with pytest.raises(NotebookSourceError, match=re.escape(message)) as raised:
        module_parts(STAGE_01, broken, "solutions/activations.py")
    assert str(raised.value).startswith("solutions/activations.py")


def test_module_parts_rejects_unbalanced_markers() -> None:
    with pytest.raises(MarkerError, match="solutions/activations.py, line 27: ### BEGIN SOLUTION is never closed"):
        module_parts(STAGE_01, GOOD.replace("    return Z\n    ### END SOLUTION\n", "    return Z\n"),
                     "solutions/activations.py")


def test_points_must_list_the_stage_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(POINTS, "01_activations", {"relu": 1, "softmax": 2})
    with pytest.raises(NotebookSourceError, match=r"POINTS\['01_activations'\] lists \['relu', 'softmax'\]"):
        build_notebook("01")


def test_bonus_points_must_list_the_functions_with_bonus_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BONUS_POINTS, "05_train_mnist", {"plot_history": 1})
    with pytest.raises(NotebookSourceError, match=r"BONUS_POINTS\['05_train_mnist'\] lists \['plot_history'\], "
                                                  r"but the stage's functions with bonus checks are "
                                                  r"\['mini_batch_gradient_descent', 'save_params', 'plot_history'\]"):
        build_notebook("05")
    monkeypatch.setitem(BONUS_POINTS, "01_activations", {"relu": 1})
    with pytest.raises(NotebookSourceError, match=r"BONUS_POINTS\['01_activations'\] lists \['relu'\]"):
        build_notebook("01")


def test_points_table_has_a_bonus_column() -> None:
    table = notebooks.points_table()
    assert "| assignment | function | points | bonus points |" in table
    assert "| `05_train_mnist` | `plot_history` | - | 1 |" in table
    assert f"| `05_train_mnist` | **total** | **{sum(POINTS['05_train_mnist'].values())}** | " \
           f"**{sum(BONUS_POINTS['05_train_mnist'].values())}** |" in table
    assert "| `06_gradient_check` | `numerical_gradient` |" in table


# ----------------------------------------------------------------------------- cell layout
@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_notebook_layout(stage) -> None:
    notebook = committed(stage)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = notebook["cells"]
    ids = [cell["metadata"]["nbgrader"]["grade_id"] for cell in cells]
    assert len(set(ids)) == len(ids), "grade ids must be unique"
    assert [cell["id"] for cell in cells] == ids
    expected = ["intro", "how_it_is_graded", "setup"]
    bonus_points = BONUS_POINTS.get(stage.folder, {})
    for function in stage.functions:
        expected += [f"{function}_task", f"{function}_code"]
        expected += [f"{function}_tests"] if checks_for(stage, function, bonus=False) else []
        expected += [f"{function}_bonus_tests"] if checks_for(stage, function, bonus=True) else []
    assert ids == expected
    for cell in cells:
        meta = cell["metadata"]["nbgrader"]
        if cell["id"].endswith("_code"):  # students write here; not graded by itself
            assert (meta["solution"], meta["locked"], meta["grade"]) == (True, False, False)
            assert "### BEGIN SOLUTION" in source_of(cell)
        elif cell["id"].endswith("_bonus_tests"):
            function = cell["id"].removesuffix("_bonus_tests")
            assert (meta["solution"], meta["locked"], meta["grade"]) == (False, True, True)
            assert meta["points"] == bonus_points[function]
        elif cell["id"].endswith("_tests"):
            function = cell["id"].removesuffix("_tests")
            assert (meta["solution"], meta["locked"], meta["grade"]) == (False, True, True)
            assert meta["points"] == POINTS[stage.folder][function]
        else:
            assert (meta["solution"], meta["locked"], meta["grade"]) == (False, True, False)
    core = sum(c["metadata"]["nbgrader"].get("points", 0) for c in cells if not c["id"].endswith("_bonus_tests"))
    extra = sum(c["metadata"]["nbgrader"].get("points", 0) for c in cells if c["id"].endswith("_bonus_tests"))
    assert (core, extra) == (sum(POINTS[stage.folder].values()), sum(bonus_points.values()))
    if extra:
        assert f"({core} in all, plus {extra} bonus points for the optional extras" in source_of(cells[1])
    else:
        assert f"({core} in all)" in source_of(cells[1])


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_markdown_comes_from_the_module_docstrings(stage) -> None:
    cells = by_id(committed(stage))
    module = ast.parse(stage.reference_file.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(module)
    assert source_of(cells["intro"]) == f"# {docstring.strip()}"
    for node in module.body:
        if isinstance(node, ast.FunctionDef):
            first = " ".join(ast.get_docstring(node).split("\n\n")[0].split())
            assert first in source_of(cells[f"{node.name}_task"])


def test_setup_provides_earlier_stages_from_the_reference() -> None:
    setup = source_of(by_id(committed("02"))["setup"])
    assert "from solutions.activations import relu, softmax" in setup
    assert "from ." not in source_of(by_id(committed("05"))["setup"])


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_test_cells_assert_with_messages_and_end_in_no_bare_expression(stage) -> None:
    cells = by_id(committed(stage))
    for cell_id in [cell_id for cell_id in cells if cell_id.endswith("_tests")]:
        source = source_of(cells[cell_id])
        for version in (source, HIDDEN_BLOCK.sub("", source)):  # as graded, and as released
            tree = ast.parse(version)
            assert isinstance(tree.body[-1], ast.Assert), f"{cell_id}: the cell must end in an assert"
            assert not [n for n in tree.body if isinstance(n, ast.Expr)], f"{cell_id}: a bare expression"
            asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
            assert asserts and all(a.msg is not None for a in asserts), f"{cell_id}: an assert without message"
        if cell_id.endswith("_bonus_tests"):  # every bonus check, for this function only; none hidden
            function = cell_id.removesuffix("_bonus_tests")
            calls = re.findall(r'notebook_bonus_checks\("([^"]+)", "([^"]+)", globals\(\)\)', source)
            assert calls == [(stage.folder, function)] and "notebook_checks(" not in source
            assert not HIDDEN_BLOCK.search(source)
            continue
        # the same checks as the pytest suites, called for this function only, visible then all
        function = cell_id.removesuffix("_tests")
        calls = re.findall(r'notebook_checks\("([^"]+)", "([^"]+)", globals\(\), visible_only=(\w+)\)', source)
        assert calls == [(stage.folder, function, "True"), (stage.folder, function, "False")]
        assert HIDDEN_BLOCK.search(source).group().count("visible_only=False") == 1


def test_every_function_has_visible_checks_and_hidden_ones() -> None:
    """Students run the visible checks; the hidden block of a test cell must add further ones: every
    core part has a visible check, and every function hidden ones (in its core or its bonus part,
    whose cell runs them all)."""
    from grading import list_checks

    for stage_number, functions in list_checks().items():
        for function, checks in functions.items():
            core = [check for check in checks if not check.bonus]
            assert not core or any(check.visible for check in core), f"stage {stage_number} {function}()"
            assert any(not check.visible for check in checks), f"stage {stage_number} {function}(): no hidden check"


# ----------------------------------------------------------------------------- running the cells
def stubbed(notebook: dict) -> dict:
    """The notebook with every solution block replaced by nbgrader's stub (what students get)."""
    copy = json.loads(json.dumps(notebook))
    for cell in copy["cells"]:
        def stub(match: re.Match) -> str:
            return f"{match['indent']}# YOUR CODE HERE\n{match['indent']}raise NotImplementedError()\n"

        text = SOLUTION_BLOCK.sub(stub, source_of(cell) + "\n")
        cell["source"] = text.rstrip("\n").splitlines(keepends=True)
    return copy


def test_every_test_cell_passes_quietly_on_the_reference_and_fails_on_the_stubs(tmp_path: Path) -> None:
    """The source notebooks as instructors run them: solutions in (all pass) and stubbed (all fail)."""
    named = {}
    for stage in STAGES:
        named[f"{stage.folder}-solved"] = committed(stage)
        named[f"{stage.folder}-stubs"] = stubbed(committed(stage))
    report = run_cells(named, tmp_path)
    for stage in STAGES:
        for cell_id, result in report[f"{stage.folder}-solved"].items():
            assert result == {"error": None, "stdout": "", "stderr": ""}, (stage.folder, cell_id, result)
        stubs = report[f"{stage.folder}-stubs"]
        assert stubs["setup"]["error"] is None
        for cell_id in [cell_id for cell_id in stubs if cell_id.endswith("_tests")]:
            result = stubs[cell_id]
            assert result["error"] and result["error"].startswith("NotWrittenYet: "), (cell_id, result)
            assert result["stderr"] == ""
    # a stub's message points at the notebook cell, not at a file under exercises/
    assert ("relu() is not written yet - replace its `raise NotImplementedError(...)` in its cell"
            in report["01_activations-stubs"]["relu_tests"]["error"])


PATCH_THE_CHECKS = """\
import grading, grading.frontends.notebook_checks, grading.checks.registry
def notebook_checks(*args, **kwargs):
    return ["all good"]
grading.run_checks = grading.checks.registry.run_checks = notebook_checks
grading.frontends.notebook_checks.notebook_checks = notebook_checks
"""
SHADOW_THE_CHECKS = """\
import os, sys
os.makedirs("grading/frontends", exist_ok=True)
open("grading/__init__.py", "w").close()
open("grading/frontends/__init__.py", "w").close()
with open("grading/frontends/notebook_checks.py", "w") as file:
    file.write("def notebook_checks(*args, **kwargs):\\n    return ['all good']\\n")
sys.path.insert(0, os.getcwd())
"""


def with_cell_after_setup(notebook: dict, code: str) -> dict:
    copy = json.loads(json.dumps(notebook))
    copy["cells"].insert(3, {"cell_type": "code", "id": "student", "execution_count": None, "outputs": [],
                             "metadata": {"nbgrader": {"grade_id": "student"}}, "source": code})
    return copy


def with_naive_imports(notebook: dict) -> dict:
    """The test cells with a plain `from grading.frontends.notebook_checks import notebook_checks` instead."""
    copy = json.loads(json.dumps(notebook))
    for cell in copy["cells"]:
        if cell["id"].endswith("_tests"):
            text = source_of(cell).replace(notebooks.TEST_CELL_IMPORT,
                                           "from grading.frontends.notebook_checks import notebook_checks\n")
            assert "del sys.modules" not in text
            cell["source"] = text
    return copy


def test_test_cells_ignore_patched_and_shadowed_checks(tmp_path: Path) -> None:
    """A student cell that patches the checks or saves a fake grading package beside the notebook
    makes stubs pass test cells that import naively, and not the course's test cells."""
    stubs = stubbed(committed("01"))
    named = {}
    for attack, code in (("patch", PATCH_THE_CHECKS), ("shadow", SHADOW_THE_CHECKS)):
        for cells, notebook in (("course", stubs), ("naive", with_naive_imports(stubs))):
            folder = tmp_path / f"{attack}-{cells}"
            folder.mkdir()
            named[f"{attack}-{cells}"] = (folder, with_cell_after_setup(notebook, code))
    for name, (folder, notebook) in named.items():
        report = run_cells({name: notebook}, folder)[name]
        errors = [report[f"{function}_tests"]["error"] for function in get_stage("01").functions]
        assert report["student"]["error"] is None, report["student"]
        if name.endswith("naive"):
            assert errors == [None, None, None], (name, errors)  # the attack works on naive cells...
        else:
            assert all(e and e.startswith("NotWrittenYet") for e in errors), (name, errors)  # ...not here


# ----------------------------------------------------------------------------- nbgrader's configuration
@pytest.fixture(scope="module")
def config():
    pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()


def test_config_keeps_hidden_tests_out_of_feedback_and_limits_cells(config) -> None:
    assert config.CourseDirectory.course_id == "mnist-kit"
    assert 5 <= config.Execute.timeout <= 60
    assert config.Execute.interrupt_on_timeout is True
    assert "--InteractiveShell.xmode=Minimal" in config.Execute.extra_arguments
    feedback = config.GenerateFeedback.preprocessors
    assert "nbgrader.preprocessors.ClearHiddenTests" in feedback
    assert feedback.index("nbgrader.preprocessors.GetGrades") < feedback.index(
        "nbgrader.preprocessors.ClearHiddenTests")
    assert "raise NotImplementedError()" in config.ClearSolutions.code_stub["python"]


def test_config_replaces_only_deduplicate_ids_in_autograde(config) -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds

    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    ours = config.Autograde.sanitize_preprocessors
    assert len(ours) == len(default)
    for mine, theirs in zip(ours, default):
        if theirs is DeduplicateIds:
            assert mine is not DeduplicateIds and issubclass(mine, DeduplicateIds)
        else:
            assert mine is theirs


def test_config_adds_one_preprocessor_before_the_grades_are_read(config) -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = list(config.Autograde.autograde_preprocessors)
    added = ours.pop(1)
    assert ours == default and default[0] is Execute
    assert added.__name__ == "IgnoreValuesShownByTestCells"


def test_values_shown_by_test_cells_do_not_count(config) -> None:
    """nbgrader reads a displayed number as the cell's score; the config drops such values."""
    import nbformat
    from nbgrader.utils import determine_grade

    drop = next(p for p in config.Autograde.autograde_preprocessors
                if p.__name__ == "IgnoreValuesShownByTestCells")
    notebook = nbformat.reads(json.dumps(committed("01")), as_version=4)
    shown = nbformat.v4.new_output("execute_result", data={"text/plain": "'all good'"}, execution_count=1)
    error = nbformat.v4.new_output("error", ename="GradingError", evalue="wrong", traceback=[])
    tests = next(c for c in notebook.cells if c.id == "relu_tests")
    setup = next(c for c in notebook.cells if c.id == "setup")
    tests.outputs, setup.outputs = [shown, error], [shown]
    assert determine_grade(tests) == (1.0, 1.0)  # what nbgrader alone would give: full marks
    processed, _ = drop().preprocess(notebook, {})
    assert [o.output_type for o in next(c for c in processed.cells if c.id == "relu_tests").outputs] == ["error"]
    assert determine_grade(next(c for c in processed.cells if c.id == "relu_tests")) == (0, 1.0)
    assert next(c for c in processed.cells if c.id == "setup").outputs == [shown]  # other cells untouched


def test_duplicated_cells_keep_valid_metadata(config) -> None:
    """The last copy of a duplicated cell keeps its grade id; the others become plain cells."""
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator

    fix = next(p for p in config.Autograde.sanitize_preprocessors if p.__name__.startswith("Deduplicate"))
    notebook = nbformat.reads(json.dumps(committed("01")), as_version=4)
    tests = next(c for c in notebook.cells if c.id == "relu_tests")
    notebook.cells.insert(0, nbformat.from_dict(json.loads(json.dumps(tests))))
    notebook.cells[0].id = "copy"
    notebook_copy = json.loads(nbformat.writes(notebook))
    fixed, _ = fix().preprocess(notebook, {})
    assert "nbgrader" not in fixed.cells[0].metadata
    assert next(c for c in fixed.cells if c.id == "relu_tests").metadata.nbgrader.grade_id == "relu_tests"
    MetadataValidator().validate_nb(fixed)
    # nbgrader's own DeduplicateIds leaves {} behind, which its validator rejects (jupyter/nbgrader#1083)
    broken, _ = fix.__mro__[1]().preprocess(nbformat.reads(json.dumps(notebook_copy), as_version=4), {})
    assert broken.cells[0].metadata.nbgrader == {}
    with pytest.raises(Exception, match="Outdated schema version"):
        MetadataValidator().validate_nb(broken)


def test_a_failure_is_worded_for_a_notebook(tmp_path: Path) -> None:
    """An error names the student's cell and line (the kernel names a cell's code like 1452990798.py)."""
    notebook = stubbed(committed("01"))
    code = by_id(notebook)["relu_code"]
    code["source"] = source_of(code).replace("raise NotImplementedError()", "W = np.ones((3, 3))\n    return W @ Z")
    code["id"] = "1452990798"  # as ipykernel names it
    error = run_cells({"shapes": notebook}, tmp_path)["shapes"]["relu_tests"]["error"]
    assert error.startswith("GradingError: Stage 01 (activations), relu(): raised ValueError")
    assert re.search(r"raised at: its cell, line \d+, in relu\(\)", error), error  # (+ the line, in a kernel)
    assert "the shapes at the top of this notebook" in error and "README" not in error


def test_a_test_cell_without_the_kit_says_what_to_install(tmp_path: Path) -> None:
    source = source_of(by_id(committed("01"))["relu_tests"])
    # -S: no site-packages, so neither grading nor numpy can be imported (a kernel without the kit)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", source], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'grading': the tests need the mnist-kit package installed "
        "in this notebook's Python (pip install -e <the kit's folder>)")
