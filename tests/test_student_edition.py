"""The student edition (grader/student/, mnist_kit_student) agrees with the sealed grader's visible checks.

For the reference, the stubs, every mistake and every alternative of the catalogue (and a
function returning None), run as a notebook: the student edition's verdict on each function
is the sealed grader's visible verdict, and when it fails its message is the grader's
message (worded for a notebook; the check's folder may be another one; an answer line a
hint quotes is hidden). Then what the runner does on its own: the one-line stub message,
the success line, a student's exception with its line, the stage's other functions answered
from the data, a short error in a notebook. And the build: every visible check says how it
is replayed, `python -m grading.build --check` fails when grader/student is out of date.
"""

import json
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest
from student_edition_support import STUDENT_DIR, Verdict, all_real_verdicts, run_cells, student_edition

from grading import list_checks
from grading.build import student_edition as build
from grading.stages import REPO_ROOT, STAGES, get_stage
from grading.student_edition import recorder, rules
from grading.student_edition.answers import redact

KINDS = ("reference", "stubs", "mistake", "nothing", "alternative")
_FOLDER = re.compile(r"(?<=')/[^']*/(?:s\d+|mnist-kit-check-[A-Za-z0-9_]+)(?=/)")


def _paths_shown_alike(message: str) -> str:
    return _FOLDER.sub("<folder>", message)


@pytest.fixture(scope="module")
def real() -> dict:
    """The sealed grader's visible verdicts on the whole catalogue, every stage (slow: about a minute)."""
    return all_real_verdicts(KINDS)


def student_verdicts(stage) -> dict:
    mnist_kit_student = student_edition()
    verdicts = {}
    for entry in recorder.catalogue(stage, KINDS):
        namespace = run_cells(recorder.notebook_cells(stage, entry.text))
        for function in stage.functions:
            try:
                mnist_kit_student.check(function, namespace, quiet=True)
                verdicts[(entry.name, function)] = Verdict(True)
            except AssertionError as error:
                verdicts[(entry.name, function)] = Verdict(False, str(error), type(error).__name__,
                                                           getattr(error, "mistake", None))
    return verdicts


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_the_student_edition_agrees_with_the_sealed_grader(stage, real) -> None:
    theirs, mine = real[stage.number], student_verdicts(stage)
    assert set(mine) == set(theirs)
    verdicts = [f"{name}/{function}: grader {'passes' if theirs[k].passed else 'fails'}, student edition "
                f"{'passes' if mine[k].passed else 'fails'}\n{theirs[k].message or mine[k].message}"
                for k in sorted(theirs) for name, function in [k] if theirs[k].passed != mine[k].passed]
    assert not verdicts, "\n\n".join(verdicts)
    messages = []
    for key in sorted(theirs):
        if theirs[key].passed:
            continue
        expected, got = _paths_shown_alike(theirs[key].message), _paths_shown_alike(mine[key].message)
        if got not in (expected, redact(expected)):
            messages.append(f"{key}:\n--- sealed grader\n{expected}\n--- student edition\n{got}")
        assert mine[key].kind == theirs[key].kind or theirs[key].kind == "GradingError", key
    assert not messages, "\n\n".join(messages)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.folder)
def test_each_recorded_mistake_is_one_of_the_catalogue(stage) -> None:
    """The data recognises the catalogue's mistakes that the visible checks catch (a few per function)."""
    names = {p.stem for p in (REPO_ROOT / "tests" / "mistakes" / stage.folder).glob("*.py")} | {recorder.RETURNS_NOTHING}
    recognised = set()
    for function in stage.functions:
        data = json.loads(build.data_path(function).read_text(encoding="utf-8"))
        for check in data["checks"]:
            recognised |= {mistake["name"] for mistake in check["mistakes"]}
    assert recognised <= names and len(recognised) >= 3, recognised


# ----------------------------------------------------------------------------- the runner on its own
STAGE_01 = get_stage("01")


def notebook(stage, replacements: dict[str, str] | None = None) -> dict:
    """The namespace of the stage's notebook solved by the reference, with some functions replaced."""
    cells = recorder.notebook_cells(stage, recorder.catalogue(stage, ("reference",))[0].text)
    for cell in cells:
        name = cell["id"].removesuffix("_code")
        if replacements and name in replacements:
            cell["source"] = replacements[name]
    return run_cells(cells)


def test_a_passing_function_prints_one_line(capsys) -> None:
    names = student_edition().check("softmax", notebook(STAGE_01))
    assert names == [c.name for c in list_checks()["01"]["softmax"] if c.visible]
    assert capsys.readouterr().out == ("Stage 01 (activations), softmax(): the 3 visible checks passed "
                                       "(grading also runs hidden checks).\n")


def test_a_stub_gives_the_one_line_message() -> None:
    mnist_kit_student = student_edition()
    namespace = notebook(STAGE_01, {"relu": "def relu(Z):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"})
    with pytest.raises(mnist_kit_student.NotWrittenYet) as raised:
        mnist_kit_student.check("relu", namespace)
    assert isinstance(raised.value, AssertionError)
    assert str(raised.value) == ("Stage 01 (activations): relu() is not written yet - replace its "
                                 "`raise NotImplementedError(...)` in its cell with your code.")
    inside = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(STUDENT_DIR)]
    assert inside == ["check"]  # raised afresh from check(): no frame of the replay behind it


def test_an_error_in_a_notebook_shows_only_the_message() -> None:
    """IPython shows an exception's _render_traceback_() instead of a traceback of the runner."""
    mnist_kit_student = student_edition()
    namespace = notebook(STAGE_01, {"relu": "def relu(Z):\n    return Z\n"})
    with pytest.raises(mnist_kit_student.GradingError) as raised:
        mnist_kit_student.check("relu", namespace)
    shown = raised.value._render_traceback_()
    assert shown[0] == "GradingError: Stage 01 (activations), relu(): the result has the wrong values."
    assert shown[1:] == str(raised.value).splitlines()[1:]
    assert shown[-1].startswith("  check:    negatives_become_zero - ")
    assert any(line.startswith("  hint:     it returned Z unchanged") for line in shown)


def test_the_students_exception_names_its_line() -> None:
    """With the sealed grader's hint for it (grading/running/raised_hints.py): a recognised cause, or
    the general advice, worded for a notebook."""
    mnist_kit_student = student_edition()
    namespace = notebook(STAGE_01, {"relu": "def relu(Z):\n    W = np.ones((4, 4))\n    return W @ Z\n"})
    with pytest.raises(mnist_kit_student.GradingError) as raised:
        mnist_kit_student.check("relu", namespace)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("Stage 01 (activations), relu(): raised ValueError: matmul")
    assert "  raised at: its cell, line 3, in relu(): return W @ Z" in lines
    assert "  shapes:   on that line, W (4, 4), Z (2, 3)" in lines
    assert any("see the shapes at the top of this notebook" in line for line in lines)
    assert raised.value.mistake is None

    namespace = notebook(STAGE_01, {"relu": "def relu(Z):\n    W = np.ones((3, 3))\n    return W @ Z\n"})
    with pytest.raises(mnist_kit_student.GradingError) as raised:
        mnist_kit_student.check("relu", namespace)
    hint = "`W @ Z` needs as many columns in W (3) as rows in Z (2): Z.T has 3 rows, so use `W @ Z.T`"
    assert f"  hint:     {hint}" in str(raised.value).splitlines()
    assert raised.value.mistake == hint


def test_an_unrecognised_wrong_answer_gets_the_kits_layout() -> None:
    mnist_kit_student = student_edition()
    namespace = notebook(STAGE_01, {"relu": "def relu(Z):\n    return np.maximum(Z, 0) + 0.5\n"})
    with pytest.raises(mnist_kit_student.GradingError) as raised:
        mnist_kit_student.check("relu", namespace)
    assert str(raised.value) == (
        "Stage 01 (activations), relu(): the result has the wrong values.\n"
        "  called:   relu(Z) with\n"
        "      Z = [[-2.  -0.5  0. ]\n"
        "           [ 0.5  1.   3. ]]  (shape (2, 3), float64)\n"
        "  returned: [[0.5 0.5 0.5]\n"
        "             [1.  1.5 3.5]]  (shape (2, 3), float64)\n"
        "  expected: [[0.  0.  0. ]\n"
        "             [0.5 1.  3. ]]  (shape (2, 3), float64)\n"
        "  check:    negatives_become_zero - relu keeps positive entries and turns negative ones into 0.")


def test_a_missing_function_and_a_wrong_name() -> None:
    mnist_kit_student = student_edition()
    with pytest.raises(mnist_kit_student.LearnerFileError, match=r"there is no function relu\(\)"):
        mnist_kit_student.check("relu", {"np": np})
    with pytest.raises(KeyError, match="not one of the course's functions"):
        mnist_kit_student.check("rleu", {})


def test_the_stages_other_functions_answer_from_the_data() -> None:
    """backward_prop is checked on its own: a wrong one_hot of the same notebook does not fail it,
    as in the sealed grader; a call the reference never made reaches the student's own function."""
    mnist_kit_student = student_edition()
    stage = get_stage("03")
    wrong = "def one_hot(Y, num_classes=10):\n    return np.zeros((num_classes, Y.size)) + 7\n"
    mnist_kit_student.check("backward_prop", notebook(stage, {"one_hot": wrong}), quiet=True)
    asked = []
    spy = "def one_hot(Y, num_classes=10):\n    asked.append(num_classes)\n    return np.eye(num_classes)[Y].T\n"
    namespace = notebook(stage, {"one_hot": spy})
    namespace["asked"] = asked
    mnist_kit_student.check("backward_prop", namespace, quiet=True)
    assert asked == []  # every call was one the reference made: answered from the data
    namespace["backward_prop"].__globals__["one_hot"](np.array([1, 2]), num_classes=3)
    assert asked == [3]  # the notebook's own one_hot is back afterwards


def test_what_the_function_prints_is_not_shown(capsys) -> None:
    student_edition().check("gradient_descent", notebook(get_stage("04")), quiet=True)
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- the build
def test_every_visible_check_says_how_it_is_replayed() -> None:
    for functions in list_checks().values():
        for checks in functions.values():
            for check in checks:
                if check.visible:
                    assert check.replay, f"{check.function}/{check.name}: add replay=... to its @check"
                    rules.parse(check.replay)  # a known rule with known options
                else:
                    assert check.replay is None, f"{check.function}/{check.name}"


def test_replay_texts_are_checked() -> None:
    assert rules.parse("keeps_inputs + returns(rtol=1e-4, atol=1e-6)") == [
        {"rule": "keeps_inputs"}, {"rule": "returns", "rtol": 1e-4, "atol": 1e-6}]
    for wrong in ("equal", "returns(1e-4)", "returns(tolerance=1)", "returns(rtol=x)", "returns - shapes"):
        with pytest.raises(ValueError):
            rules.parse(wrong)
    from grading.checks.registry import checker

    with pytest.raises(ValueError, match="visible"):
        checker("01")("relu", replay="returns")


def test_the_student_edition_imports_only_numpy_and_itself() -> None:
    import ast

    allowed = set(sys.stdlib_module_names) | {"numpy"}
    for path in STUDENT_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(REPO_ROOT)} imports {name}"


def test_the_student_edition_is_up_to_date() -> None:
    stale = [p for p in build.code_files() if not p.is_file() or p.read_text(encoding="utf-8") != build.code_files()[p]]
    assert not stale, f"run python -m grading.build: {stale}"
    assert not build.outdated_stages(), "run python -m grading.build (the recorded checks are out of date)"
    assert not build.stray_data()


def _kit_copy(folder: Path) -> Path:
    """What `python -m grading.build` reads and writes, copied to `folder`."""
    root = folder / "kit"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", "release", "submitted", "autograded",
                                    "feedback", "gradebook.db", "*.egg-info")
    for name in ("grading", "solutions", "kit_helpers", "exercises", "grader"):
        shutil.copytree(REPO_ROOT / name, root / name, ignore=ignore)
    for name in ("mistakes", "alternatives"):
        shutil.copytree(REPO_ROOT / "tests" / name, root / "tests" / name, ignore=ignore)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grading.build", "--check"], cwd=root, capture_output=True,
                          text=True, timeout=300)


def test_build_check_fails_when_the_student_edition_is_stale(tmp_path: Path) -> None:
    root = _kit_copy(tmp_path)
    fresh = _check(root)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    package = root / "grader" / "student" / "mnist_kit_student"

    (package / "runner.py").write_text((package / "runner.py").read_text() + "# edited\n")  # a copy edited
    data = package / "expectations" / "relu.json"
    body = json.loads(data.read_text())
    body["checks"][0]["description"] = "edited by hand"  # the data edited
    data.write_text(json.dumps(body))
    hint = root / "grading" / "checks" / "stage03_backprop.py"  # an input changed: stage 03 recorded again
    hint.write_text(hint.read_text().replace("the loss has the wrong sign", "the loss has a wrong sign"))
    stale = _check(root)
    assert stale.returncode == 1
    reported = set(re.findall(r"out of date: (\S+)", stale.stdout))
    # a stage is recorded as a whole: the edited relu.json makes stage 01 out of date, the hint stage 03
    assert reported == {"grader/student/mnist_kit_student/runner.py",
                        *(f"grader/student/mnist_kit_student/expectations/{f}.json"
                          for key in ("01", "03") for f in get_stage(key).functions)}, stale.stdout
