"""`mnist-kit notebook NN`: a learner's own notebook beside the stage file, executed headless.

Every stage's generated notebook runs top to bottom in a real Jupyter kernel, on a copy whose
stages are solved and on a copy of fresh stubs, all in ONE kernel (each kernel costs seconds):
the solved capstone's notebook first, so that its pictures are checked in a fresh kernel; each
notebook after it starts in its own folder, as Jupyter starts a kernel. Then, still in the same
kernel, a stub file is replaced by a solution and the notebook's names see the change
(autoreload).
"""

import json
import re
from pathlib import Path

import pytest
from curriculum_trees import run_pytest
from exercise_copies import copy_exercises, learner_text, write_learner_file

import grading
from grading.tools.notebook import build_notebook, notebook_path
from solutions.cli import main

nbformat = pytest.importorskip("nbformat", reason="needs nbformat (pip install -e '.[grader]')")
nbclient = pytest.importorskip("nbclient", reason="needs nbclient (pip install -e '.[grader]')")

ALL = [stage.number for stage in grading.STAGES]
CAPSTONE = grading.STAGES[-1]


def test_the_command_writes_the_notebook_beside_the_stage_file(tmp_path: Path, capsys) -> None:
    exercises = copy_exercises(tmp_path)
    assert main(["notebook", "03", "--exercises", str(exercises)]) == 0
    out = capsys.readouterr().out
    path = exercises / "03_backprop" / "03_backprop.ipynb"
    assert path == notebook_path(grading.get_stage("03"), exercises) and path.is_file()
    assert f"Wrote {path}" in out and "Open it" in out
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert main(["notebook", "03", "--exercises", str(exercises)]) == 1  # it may hold the learner's work
    assert "exists already" in capsys.readouterr().err
    path.write_text("{}")
    assert main(["notebook", "backprop", "--exercises", str(exercises), "--force"]) == 0
    assert json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_the_notebook_imports_with_autoreload_and_runs_shell_commands_with_the_kernels_python(stage) -> None:
    cells = build_notebook(stage)["cells"]
    setup = cells[1]["source"]
    assert "%load_ext autoreload\n%autoreload 2" in setup and "%matplotlib inline" in setup
    assert f"from {stage.module} import {', '.join(stage.functions)}" in setup
    code = "\n".join(cell["source"] for cell in cells if cell["cell_type"] == "code")
    shell = [line for line in code.splitlines() if line.startswith("!")]
    assert shell and all(line.startswith('!"{sys.executable}" -m ') for line in shell), shell
    for function in stage.functions:
        assert f'check("{function}")' in code


def run_in_one_kernel(notebooks: list[tuple[Path, dict]], extra: list[tuple[Path, str]]) -> list[dict]:
    """Execute each (path, notebook) in order in one kernel, each from its own folder, then the `extra`
    cells (folder, source). Fails on the first cell that raises. Returns the extra cells, executed."""
    first_folder = notebooks[0][0].parent
    client = nbclient.NotebookClient(notebooks[0][1], timeout=300, kernel_name="python3")
    executed = []
    with client.setup_kernel(cwd=str(first_folder)):
        for path, notebook in [*notebooks, *[(folder / "extra", None) for folder, _ in extra]]:
            cells = notebook["cells"] if notebook is not None else [
                nbformat.v4.new_code_cell(extra[len(executed)][1])]
            chdir = nbformat.v4.new_code_cell(f"import os\nos.chdir({str(path.parent)!r})")
            client.nb = nbformat.v4.new_notebook(cells=[chdir, *cells])  # the cells get their outputs
            for index, cell in enumerate(client.nb.cells):
                client.execute_cell(cell, index)
            if notebook is None:
                executed.append(cells[0])
    return executed


def outputs(cell: dict, kind: str) -> list[dict]:
    return [output for output in cell["outputs"] if output["output_type"] == kind]


def text_of(cell: dict) -> str:
    results = outputs(cell, "execute_result")
    return results[0]["data"]["text/plain"] if results else ""


def streamed(cell: dict) -> str:
    return "".join(output["text"] for output in outputs(cell, "stream"))


def check_cells(notebook: dict) -> dict[str, dict]:
    """`check("name")` cell -> name; `check()` under the key ""."""
    found = {}
    for cell in notebook["cells"]:
        match = re.fullmatch(r'check\("(\w+)"\)|check\(\)', cell["source"].strip()) if cell["cell_type"] == "code" \
            else None
        if match:
            found[match.group(1) or ""] = cell
    return found


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    """Both copies' notebooks, executed: ({stage: solved notebook}, {stage: stub notebook}, what pytest says of
    the stubs, the extra cells)."""
    solved = copy_exercises(tmp_path_factory.mktemp("solved"), solved=ALL)
    stubs = copy_exercises(tmp_path_factory.mktemp("stubs"))
    # the capstone first (a fresh kernel), stage 01 last (its file is edited afterwards)
    order = [CAPSTONE, *reversed([stage for stage in grading.STAGES if stage != CAPSTONE])]
    runs = []
    for exercises in (solved, stubs):
        for stage in order:
            runs.append((notebook_path(stage, exercises), nbformat.from_dict(build_notebook(stage))))
    # autoreload: stage 01's stub file becomes a solution while the kernel runs
    solution = learner_text("01", solved=True)
    rewrite = (f"from pathlib import Path\nPath({str(grading.get_stage('01').learner_file(stubs))!r})"
               f".write_text({solution!r})")
    extra = [(stubs / "01_activations", rewrite),
             (stubs / "01_activations", "relu(np.array([[-1.0, 2.0]]))"),
             (stubs / "01_activations", 'check("relu")')]
    suites = run_pytest(stubs.parent, "exercises")  # what pytest says of the stubs, before the edit
    extra_cells = run_in_one_kernel(runs, extra)
    by_stage = [{stage.number: notebook for (path, notebook), stage in zip(runs[start:start + len(order)], order)}
                for start in (0, len(order))]
    return by_stage[0], by_stage[1], suites.stdout, extra_cells


@pytest.mark.slow
@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_solved_notebook_every_check_passes(executed, stage) -> None:
    notebook = executed[0][stage.number]
    checks = check_cells(notebook)
    for function in stage.functions:
        core, bonus = (len(grading.checks_for(stage, function, bonus=part)) for part in (False, True))
        said = {(True, False): f"all {core} checks pass.", (False, True): f"all {bonus} bonus checks pass.",
                (True, True): f"all {core} checks pass (and all {bonus} bonus checks)."}[(core > 0, bonus > 0)]
        assert text_of(checks[function]) == f"{stage.label}, {function}(): {said}"
    total = sum(len(grading.checks_for(stage, function, bonus=False)) for function in stage.functions)
    assert text_of(checks[""]) == f"{stage.label}: all {total} checks pass - stage done!"
    pytest_cell = next(cell for cell in notebook["cells"] if cell["source"].startswith("!"))
    suite = stage.learner_file().parent / stage.test_file
    tests = len(re.findall(r"^def test_", suite.read_text(), re.MULTILINE))
    assert re.search(rf"(?<!\d){tests} passed", streamed(pytest_cell)), streamed(pytest_cell)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell["source"].startswith("if check.passes("):
            assert "This cell waits" not in streamed(cell)


@pytest.mark.slow
def test_solved_capstone_notebook_shows_plot_history_inline_in_a_fresh_kernel(executed) -> None:
    notebook = executed[0][CAPSTONE.number]
    try_it = [cell for cell in notebook["cells"] if cell["source"].startswith("if check.passes(")]
    training = try_it[0]
    assert "plot_history(history)" in training["source"]
    pictures = [output for output in outputs(training, "display_data") if "image/png" in output["data"]]
    assert pictures, f"plot_history's figure was not shown as a picture: {training['outputs']}"
    assert re.search(r"^Epoch: 9 ", streamed(training), re.M)
    assert sum("image/png" in output["data"] for output in outputs(try_it[1], "display_data")) == 2


@pytest.mark.slow
def test_solved_stage_01_notebook_draws_relu(executed) -> None:
    notebook = executed[0]["01"]
    drawn = [cell for cell in notebook["cells"] if "relu_deriv(z)" in cell["source"]]
    assert any("image/png" in output["data"] for output in outputs(drawn[0], "display_data"))


@pytest.mark.slow
@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_stub_notebook_gives_the_messages_pytest_gives(executed, stage) -> None:
    notebook, pytest_output = executed[1][stage.number], executed[2]
    checks = check_cells(notebook)
    for function in stage.functions:
        message = text_of(checks[function])
        assert "is not written yet" in message, message
        if grading.checks_for(stage, function, bonus=False):
            assert message in pytest_output, f"pytest says otherwise:\n{pytest_output}"
        else:  # plot_history: bonus checks only, which pytest shows as one line (their messages with -m bonus)
            assert f"{function}() (not written yet)" in pytest_output, pytest_output
    assert f"{stage.label}: 0 of " in text_of(checks[""])
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell["source"].startswith("if check.passes("):
            assert "This cell waits for" in streamed(cell)
    pytest_cell = next(cell for cell in notebook["cells"] if cell["source"].startswith("!"))
    assert "failed" in streamed(pytest_cell)


@pytest.mark.slow
def test_an_edit_of_the_stage_file_reaches_the_notebook_without_a_restart(executed) -> None:
    _, relu_result, relu_check = executed[3]
    assert text_of(relu_result) == "array([[0., 2.]])", relu_result["outputs"]
    count = len(grading.checks_for("01", "relu"))
    assert text_of(relu_check) == f"Stage 01 (activations), relu(): all {count} checks pass."


def test_a_notebook_for_a_stage_file_that_is_missing(tmp_path: Path, capsys) -> None:
    exercises = copy_exercises(tmp_path)
    grading.get_stage("02").learner_file(exercises).unlink()
    assert main(["notebook", "02", "--exercises", str(exercises)]) == 1
    err = capsys.readouterr().err
    assert "forward.py: no such file" in err and len(err.strip().splitlines()) == 1
    write_learner_file(exercises, "02", learner_text("02", solved=False))


def test_check_of_a_function_with_bonus_checks_says_how_its_optional_part_stands(tmp_path: Path) -> None:
    """The core of mini_batch_gradient_descent passes, its schedule (a bonus check) is ignored: check()
    passes and says which bonus check is next. plot_history (bonus checks only) as the stub fails."""
    from grading.tools.notebook import StageChecks

    exercises = copy_exercises(tmp_path, solved=ALL)
    text = learner_text("05", solved=True).replace("    if alpha_final is not None:\n", "    if False:\n")
    assert "if False:" in text
    write_learner_file(exercises, "05", text)
    check = StageChecks(CAPSTONE, exercises)
    result = check("mini_batch_gradient_descent")
    core, bonus = (len(grading.checks_for(CAPSTONE, "mini_batch_gradient_descent", bonus=b)) for b in (False, True))
    assert result.passed and result.text.startswith(
        f"Stage 05 (train MNIST), mini_batch_gradient_descent(): all {core} checks pass; the optional bonus "
        f"checks, 1 of {bonus} passing so far:\n"), result.text
    assert "check:    learning_rate_schedule" in result.text
    write_learner_file(exercises, "05", learner_text("05", solved=False))
    stub = check("plot_history")
    assert not stub.passed and "plot_history() is not written yet" in stub.text, stub.text


def test_the_gradient_check_notebook_imports_the_learners_own_backprop(tmp_path: Path) -> None:
    """Stage 06 builds on the learner's stages 01-03 (as its tests do): setup("06") puts those folders
    on sys.path; stages 04 and 05 are the reference's."""
    import sys

    from grading.mine import forget_stage_folders, forget_stage_modules
    from grading.tools.notebook import setup

    exercises = copy_exercises(tmp_path, solved=ALL)
    saved = list(sys.path)
    try:
        setup("06", exercises)
        import backprop
        import descent
        import gradient_check

        assert Path(backprop.__file__) == grading.get_stage("03").learner_file(exercises)
        assert Path(gradient_check.__file__) == grading.get_stage("06").learner_file(exercises)
        assert descent.__name__ == "solutions.descent"
    finally:
        forget_stage_folders()
        forget_stage_modules()
        sys.path[:] = saved
