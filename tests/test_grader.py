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
    assert setup == "import numpy as np\n"  # relative imports of earlier stages are inlined instead
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


def test_setup_defines_the_earlier_stages_it_needs_from_the_reference() -> None:
    """A release notebook stands on its own: the earlier stages' functions it uses (and those
    they use) are inlined in the locked setup cell, exactly as the reference writes them."""
    import solutions.activations
    import solutions.backprop
    import solutions.forward
    import inspect
    needed = {"01": set(), "02": {"relu", "softmax"}, "03": {"relu_deriv"},
              "04": {"relu", "relu_deriv", "softmax", "init_params", "forward_prop", "one_hot", "cross_entropy",
                     "backward_prop"}}
    for stage, names in needed.items():
        setup = source_of(by_id(committed(stage))["setup"])
        defined = set(re.findall(r"^def (\w+)\(", setup, re.MULTILINE))
        assert defined == names, (stage, defined)
        assert "from solutions" not in setup and "import solutions" not in setup and "SOLUTION" not in setup
        for name in names:
            module = next(m for m in (solutions.activations, solutions.forward, solutions.backprop) if hasattr(m, name))
            reference = "".join(line for line in inspect.getsource(getattr(module, name)).splitlines(keepends=True)
                                if "### " not in line)
            assert reference.rstrip("\n") in setup, (stage, name)
    setup = source_of(by_id(committed("05"))["setup"])
    assert "from kit_helpers import atomic_write, random_shifts" in setup and "from ." not in setup
    assert "INIT_SCHEMES = " in setup  # a constant an inlined function needs comes with it


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_test_cells_hold_no_test_logic(stage) -> None:
    """A test cell runs the student edition's visible checks; its hidden part is a note. Grading
    never runs it (the sealed grader runs every check), so it needs no logic and holds no answer.
    A bonus test cell (`<function>_bonus_tests`) is the same, when the function has visible extras."""
    cells = by_id(committed(stage))
    for cell_id in [cell_id for cell_id in cells if cell_id.endswith("_tests")]:
        function = cell_id.removesuffix("_tests").removesuffix("_bonus")
        source = source_of(cells[cell_id])
        released = HIDDEN_BLOCK.sub("", source)
        calls = re.findall(r'^check\("(\w+)", globals\(\)\)$', released, re.MULTILINE)
        if cell_id.endswith("_bonus_tests") and not any(check.visible for check in checks_for(stage, function,
                                                                                              bonus=True)):
            assert calls == [], cell_id  # nothing to check for the student: a note says so
        else:
            assert calls == [function] and "from mnist_kit_student import check" in released, cell_id
        hidden = HIDDEN_BLOCK.search(source).group()
        assert all(line.startswith("#") for line in hidden.splitlines()), hidden
        assert "grading" not in source and "solutions" not in source


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


@pytest.fixture(scope="module")
def sandbox():
    from grading.sandbox import Sandbox

    with Sandbox() as box:
        yield box


def graded(notebook: dict, stage, sandbox) -> dict:
    from grading.frontends.notebooks import grade_notebook

    return grade_notebook(notebook, stage, sandbox=sandbox).tests


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_the_reference_passes_every_test_cell_and_the_stubs_none(stage, sandbox) -> None:
    solved = graded(committed(stage), stage, sandbox)
    assert set(solved) == {cell_id for cell_id in by_id(committed(stage)) if cell_id.endswith("_tests")}
    assert {cell.removesuffix("_tests").removesuffix("_bonus") for cell in solved} == set(stage.functions)
    assert all(result.passed and result.checks_passed == result.checks_total for result in solved.values()), {
        cell: result.message for cell, result in solved.items() if not result.passed}
    for cell, result in graded(stubbed(committed(stage)), stage, sandbox).items():
        function = cell.removesuffix("_tests").removesuffix("_bonus")
        assert not result.passed and result.ename == "NotWrittenYet", (cell, result)
        assert result.message == (f"{stage.label}: {function}() is not written yet - replace its "
                                  f"`raise NotImplementedError(...)` in its cell with your code.")


def with_cell_after_setup(notebook: dict, code: str) -> dict:
    copy = json.loads(json.dumps(notebook))
    copy["cells"].insert(3, {"cell_type": "code", "id": "student", "execution_count": None, "outputs": [],
                             "metadata": {}, "source": code})
    return copy


TAMPERING = {
    "patches NumPy": "import numpy as np\nnp.allclose = np.array_equal = np.isclose = lambda *a, **k: True\n",
    "blanks the test cells": "get_ipython().input_transformers_post.append(lambda lines: [])\n",
    "shadows globals": "globals = lambda: {'relu': lambda Z: Z}\n",
    "writes a fake grading package": ("import os\nos.makedirs('grading', exist_ok=True)\n"
                                      "open('grading/__init__.py', 'w').write('run_checks = lambda *a, **k: [1]')\n"),
    "imports the checks": "import grading\n",
}


@pytest.mark.parametrize("attack", TAMPERING, ids=lambda a: a.replace(" ", "_"))
def test_tampering_in_a_cell_changes_nothing_the_checks_see(attack, sandbox) -> None:
    """Wrong functions stay wrong whatever a student's cell does to its own process."""
    wrong = stubbed(committed("01"))
    for function in ("relu", "relu_deriv", "softmax"):
        cell = by_id(wrong)[f"{function}_code"]
        cell["source"] = source_of(cell).replace("raise NotImplementedError()", "return Z")
    results = graded(with_cell_after_setup(wrong, TAMPERING[attack]), "01", sandbox)
    assert not any(result.passed for result in results.values()), attack


def test_a_failure_is_worded_for_a_notebook(sandbox) -> None:
    """An error names the student's cell and line, and never a README the student does not have."""
    notebook = stubbed(committed("01"))
    code = by_id(notebook)["relu_code"]
    code["source"] = source_of(code).replace("raise NotImplementedError()", "W = np.ones((3, 3))\n    return W @ Z")
    message = graded(notebook, "01", sandbox)["relu_tests"].message
    assert message.startswith("Stage 01 (activations), relu(): raised ValueError")
    assert re.search(r"raised at: its cell, line \d+, in relu\(\): return W @ Z", message), message
    assert "shapes:   on that line, W (3, 3), Z (2, 3)" in message and "README" not in message


# ----------------------------------------------------------------------------- nbgrader's configuration
@pytest.fixture(scope="module")
def config():
    pytest.importorskip("nbgrader", reason="nbgrader is not installed: pip install -e '.[grader]'")
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()


def test_config_keeps_hidden_tests_out_of_feedback(config) -> None:
    assert config.CourseDirectory.course_id == "mnist-kit"
    feedback = config.GenerateFeedback.preprocessors
    assert "nbgrader.preprocessors.ClearHiddenTests" in feedback
    assert feedback.index("nbgrader.preprocessors.GetGrades") < feedback.index(
        "nbgrader.preprocessors.ClearHiddenTests")
    assert "raise NotImplementedError()" in config.ClearSolutions.code_stub["python"]
    assert config.OverwriteCells.add_missing_cells is True


def test_config_sanitizes_as_nbgrader_does_and_forgets_unknown_grade_ids(config) -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds

    from grading.frontends.nbgrader_sealed import ForgetUnknownGradeIds

    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    ours = list(config.Autograde.sanitize_preprocessors)
    assert ours.pop(ours.index(ForgetUnknownGradeIds)) is ForgetUnknownGradeIds
    assert len(ours) == len(default)
    for mine, theirs in zip(ours, default):
        if theirs is DeduplicateIds:
            assert mine is not DeduplicateIds and issubclass(mine, DeduplicateIds)
        else:
            assert mine is theirs
    names = [p.__name__ for p in config.Autograde.sanitize_preprocessors]
    assert names.index("ForgetUnknownGradeIds") == names.index("OverwriteCells") - 1


def test_config_grades_in_the_sealed_worker_instead_of_a_kernel(config) -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from grading.frontends.nbgrader_sealed import SealedExecute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = list(config.Autograde.autograde_preprocessors)
    assert default[0] is Execute and ours[0] is SealedExecute and ours[1:] == default[1:]


def test_a_generic_shape_hint_points_at_the_notebook() -> None:
    from grading.frontends.notebooks import notebook_message
    message = notebook_message("hint:     array shapes do not fit (see the README's shape table)",
                               get_stage("01"), "relu", [])
    assert message.endswith("(see the shapes at the top of this notebook)")


def test_a_test_cells_score_comes_only_from_the_grader(sandbox) -> None:
    """Whatever the student's functions display, a failing test cell holds one error (0 points)
    and a passing one nothing (full marks): nbgrader's determine_grade sees only that."""
    import nbformat
    from nbgrader.utils import determine_grade

    from grading.frontends.nbgrader_sealed import apply_result
    from grading.frontends.notebooks import grade_notebook

    notebook = stubbed(committed("01"))
    by_id(notebook)["relu_code"]["source"] = ("def relu(Z):\n    import sys\n    sys.displayhook(1.0)\n"
                                              "    print('all good')\n    return Z\n")
    by_id(notebook)["softmax_code"]["source"] = source_of(by_id(committed("01"))["softmax_code"])
    result = grade_notebook(notebook, "01", sandbox=sandbox)
    node = nbformat.from_dict(json.loads(json.dumps(notebook)))
    apply_result(node, get_stage("01"), result)
    cells = {cell.metadata.nbgrader.grade_id: cell for cell in node.cells}
    assert determine_grade(cells["relu_tests"]) == (0, 1.0)
    assert [o.output_type for o in cells["relu_tests"].outputs] == ["error"]
    assert determine_grade(cells["softmax_tests"]) == (2.0, 2.0) and cells["softmax_tests"].outputs == []
    assert cells["relu_tests"].metadata["mnist_kit"]["check"] == "negatives_become_zero"


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


def test_a_test_cell_without_the_student_edition_says_what_to_install(tmp_path: Path) -> None:
    source = source_of(by_id(committed("01"))["relu_tests"])
    # -S: no site-packages, so the student edition cannot be imported (a student's fresh Python)
    result = subprocess.run([sys.executable, "-I", "-S", "-c", source], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: the tests need the course's student edition: pip install mnist-kit-student "
        "(your instructor says from where)")
