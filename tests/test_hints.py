"""`mnist-kit hint [STAGE] [FUNCTION]`: hints per function, revealed in order, remembered between
runs, --all, --reset, the function `progress` says is next, a broken or older state file, missing
or empty hints, and hints never showing solution code.

The command runs in-process (solutions.cli.main) on a copy of the exercises in
tmp_path, so its state file is tmp_path/.mnist-kit/hints.json, never the kit's.
"""

import json
from pathlib import Path

import pytest
from exercise_copies import copy_exercises

import grading
from grading.tools.hints import (
    STATE_FOLDER,
    WITHHELD,
    HintsError,
    HintState,
    parse_hints,
    read_hints,
    secret_lines,
    state_path,
)
from grading.stages import EXERCISES_DIR
from solutions.cli import main

HINTS_01 = """# Hints for stage 01

Read these one at a time.

## relu

### Hint 1: what ReLU keeps
Positive numbers pass through; negative ones become 0.

### Hint 2
NumPy has an elementwise maximum.

## relu_deriv

### Hint 1 - a yes/no question
Compare with 0.

## softmax

### Hint 1
Columns, not rows.

### Hint 2: overflow
Subtract each column's maximum first.

## Going further
Not a hint.
"""


@pytest.fixture
def exercises(tmp_path: Path) -> Path:
    folder = copy_exercises(tmp_path)
    (folder / "01_activations" / "hints.md").write_text(HINTS_01, encoding="utf-8")
    return folder


def hint(exercises: Path, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run `mnist-kit hint ARGS --exercises <copy>`: (exit status, stdout, stderr)."""
    status = main(["hint", *args, "--exercises", str(exercises)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_functions_hints_are_revealed_one_at_a_time_in_order(exercises: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    outputs = [hint(exercises, capsys, "01", "relu") for _ in range(2)]
    assert all(status == 0 for status, _, _ in outputs)
    first, second = (out for _, out, _ in outputs)
    assert "relu(), hint 1 of 2: what ReLU keeps" in first and "Positive numbers pass through" in first
    assert "elementwise maximum" not in first and "Compare with 0" not in first
    assert "relu(), hint 2 of 2" in second and "NumPy has an elementwise maximum." in second
    assert "Positive numbers" not in second and "last hint for relu()" in second
    status, out, _ = hint(exercises, capsys, "01", "relu")
    assert status == 0 and "all 2 hints are shown" in out and "maximum" not in out


def test_each_function_has_its_own_sequence(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    """Stuck on softmax, a learner reads softmax's first hint, not relu's."""
    _, out, _ = hint(exercises, capsys, "01", "softmax")
    assert "softmax(), hint 1 of 2" in out and "Columns, not rows." in out and "Positive" not in out
    _, out, _ = hint(exercises, capsys, "01", "softmax")
    assert "hint 2 of 2: overflow" in out
    assert "Not a hint" not in out  # "## Going further" ends softmax's last hint
    _, out, _ = hint(exercises, capsys, "01", "relu")
    assert "relu(), hint 1 of 2" in out


def test_the_function_alone_names_its_stage(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, _ = hint(exercises, capsys, "relu_deriv")
    assert status == 0 and "Stage 01 (activations), relu_deriv(), hint 1 of 1: a yes/no question" in out


def test_without_a_function_the_next_function_of_progress(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    """relu solved, relu_deriv still a stub: `hint 01` (and `hint`) show relu_deriv's hints."""
    stub = exercises / "01_activations" / "activations.py"
    text = stub.read_text()
    relu_stub = next(line for line in text.splitlines() if "implement relu()" in line)
    stub.write_text(text.replace(relu_stub, "    return np.maximum(Z, 0)"))
    status, out, _ = hint(exercises, capsys, "01")
    assert status == 0
    assert "the next function is relu_deriv()" in out and "relu_deriv(), hint 1 of 1" in out
    status, out, _ = hint(exercises, capsys)
    assert status == 0 and "relu_deriv(): its one hint is shown" in out


def test_state_is_remembered_per_function(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    hint(exercises, capsys, "01", "relu")
    hint(exercises, capsys, "activations", "relu")  # any name of the stage
    hint(exercises, capsys, "01", "softmax")
    path = exercises.parent / STATE_FOLDER / "hints.json"
    assert path == state_path(exercises)
    assert json.loads(path.read_text()) == {"revealed": {"01": {"relu": 2, "softmax": 1}}}
    assert not list(path.parent.glob("*.part"))  # written atomically, nothing left behind


def test_all_shows_only_the_revealed_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, _ = hint(exercises, capsys, "01", "relu", "--all")
    assert status == 0 and "no hint shown yet for relu()" in out and "Positive" not in out
    hint(exercises, capsys, "01", "relu")
    hint(exercises, capsys, "01", "softmax")
    status, out, _ = hint(exercises, capsys, "01", "relu", "--all")
    assert "relu(), hint 1 of 2" in out and "Columns" not in out and "(1 of 2 hints shown.)" in out
    status, out, _ = hint(exercises, capsys, "01", "--all")  # the whole stage
    assert "relu(), hint 1 of 2" in out and "softmax(), hint 1 of 2" in out and "(2 of 5 hints shown.)" in out
    assert "NumPy" not in out and "Subtract" not in out
    assert json.loads(state_path(exercises).read_text()) == {"revealed": {"01": {"relu": 1, "softmax": 1}}}


def test_reset_hides_a_functions_or_a_stages_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "02_forward_pass" / "hints.md").write_text(
        "## init_params\n### Hint 1\nOne generator.\n## forward_prop\n### Hint 1\nAdd b1.\n")
    hint(exercises, capsys, "01", "relu")
    hint(exercises, capsys, "01", "softmax")
    hint(exercises, capsys, "02", "forward_prop")
    status, out, _ = hint(exercises, capsys, "01", "relu", "--reset")
    assert status == 0 and "relu()'s hints are hidden again" in out
    assert json.loads(state_path(exercises).read_text()) == {
        "revealed": {"01": {"softmax": 1}, "02": {"forward_prop": 1}}}
    hint(exercises, capsys, "01", "--reset")
    assert json.loads(state_path(exercises).read_text()) == {"revealed": {"02": {"forward_prop": 1}}}
    _, out, _ = hint(exercises, capsys, "01", "softmax")
    assert "softmax(), hint 1 of 2" in out


def test_an_older_per_stage_count_is_read_in_file_order(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    """{"01": 3} (hints were per stage) means relu's two hints and relu_deriv's first were seen."""
    path = state_path(exercises)
    path.parent.mkdir()
    path.write_text('{"revealed": {"01": 3}}')
    status, out, err = hint(exercises, capsys, "01", "softmax")
    assert status == 0 and err == "" and "softmax(), hint 1 of 2" in out
    assert json.loads(path.read_text()) == {"revealed": {"01": {"relu": 2, "relu_deriv": 1, "softmax": 1}}}


@pytest.mark.parametrize("content", [
    "{not json",
    '["a list"]',
    '{"revealed": {"01": -1}}',
    '{"revealed": {"01": "two"}}',
    '{"revealed": {"07": 1}}',
    '{"revealed": {"01": {"relu": -1}}}',
    '{"revealed": {"01": {"relu": true}}}',
    '{"revealed": {"01": {"sigmoid": 1}}}',
    "\udcff",
])
def test_corrupt_state_file_is_reset_with_a_notice(exercises: Path, capsys: pytest.CaptureFixture,
                                                   content: str) -> None:
    path = state_path(exercises)
    path.parent.mkdir()
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    status, out, err = hint(exercises, capsys, "01", "relu")
    assert status == 0
    assert "could not be read" in err and str(path) in err and "Traceback" not in err
    assert "relu(), hint 1 of 2" in out
    assert json.loads(path.read_text()) == {"revealed": {"01": {"relu": 1}}}


def test_stage_without_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "03_backprop" / "hints.md").unlink(missing_ok=True)
    status, out, err = hint(exercises, capsys, "03", "one_hot")
    assert status == 1 and out == ""
    assert "03_backprop/hints.md: no such file" in err and len(err.strip().splitlines()) == 1


def test_hints_file_without_hint_sections(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "01_activations" / "hints.md").write_text("# Hints\nJust text, no sections.\n## Hint 1\nOld.\n")
    status, _, err = hint(exercises, capsys, "01", "relu")
    assert status == 1 and "holds no hint" in err and "## <function>" in err


def test_a_section_that_is_no_function_of_the_stage(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "01_activations" / "hints.md").write_text("## relu\n### Hint 1\nx\n## sigmoid\n### Hint 1\ny\n")
    status, _, err = hint(exercises, capsys, "01", "relu")
    assert status == 1 and "`## sigmoid` is not a function of Stage 01" in err and "relu, relu_deriv" in err


def test_a_function_without_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "01_activations" / "hints.md").write_text("## relu\n### Hint 1\nx\n")
    status, _, err = hint(exercises, capsys, "01", "softmax")
    assert status == 1 and "no hints for softmax() yet" in err


@pytest.mark.parametrize("args, fragments", [
    (("9",), ("no stage called '9'", "01 (01_activations)", "nor is it a function")),
    (("01", "sigmoid"), ("has no function 'sigmoid'", "relu, relu_deriv, softmax")),
    (("--all",), ("--all needs a stage",)),
])
def test_unknown_stage_or_function(exercises: Path, capsys: pytest.CaptureFixture, args, fragments) -> None:
    status, _, err = hint(exercises, capsys, *args)
    assert status == 1 and len(err.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in err


def test_all_and_reset_together_is_a_usage_error(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, _, err = hint(exercises, capsys, "01", "--all", "--reset")
    assert status == 2 and "not allowed with" in err


def test_solution_line_in_a_hint_is_withheld(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    """Even if hints.md quotes the solution, the command does not show it."""
    (exercises / "01_activations" / "hints.md").write_text(
        "## relu\n### Hint 1\nThe answer:\n\n    return   np.maximum(Z, 0)\n\nthat is all.\n")
    _, out, _ = hint(exercises, capsys, "01", "relu")
    assert "np.maximum(Z, 0)" not in out
    assert WITHHELD in out and "The answer:" in out and "that is all." in out


def test_equations_the_stub_already_shows_are_not_withheld() -> None:
    """`A1 = relu(Z1)` is in forward_prop's docstring (and the solution): saying it gives nothing away."""
    secrets = secret_lines(grading.get_stage("02"))
    assert "A1 = relu(Z1)" not in secrets
    assert "Z1 = W1 @ X + b1" in secrets


def test_parse_ignores_headings_inside_code_blocks() -> None:
    hints = parse_hints("## relu\n### Hint 1\n```markdown\n### Hint 2\n## softmax\n```\n### Hint 2: real\ntext\n")
    assert [(h.function, h.number, h.title) for h in hints["relu"]] == [("relu", 1, ""), ("relu", 2, "real")]
    assert "### Hint 2" in hints["relu"][0].body and "softmax" not in hints


def test_state_load_and_save_round_trip(tmp_path: Path) -> None:
    state = HintState.load(tmp_path / "state" / "hints.json")
    assert state.revealed == {} and state.notice is None
    state.revealed["04"] = {"update_params": 3}
    state.save()
    assert HintState.load(tmp_path / "state" / "hints.json").revealed == {"04": {"update_params": 3}}


@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_every_function_of_every_stage_has_hints(stage: grading.Stage) -> None:
    """`mnist-kit hint NN FUNCTION` has something to show for each function a learner writes."""
    hints = read_hints(stage, EXERCISES_DIR)
    assert list(hints) == list(stage.functions)
    for function, its_hints in hints.items():
        assert its_hints, f"{stage.folder}/hints.md has no hint for {function}()"
        assert [h.number for h in its_hints] == list(range(1, len(its_hints) + 1))
        assert all(h.body.strip() for h in its_hints), f"{function}: an empty hint"


@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_the_kits_hints_never_contain_solution_code(stage: grading.Stage) -> None:
    """No line of the stage's solution blocks appears in its hints.md (lines the stub shows anyway,
    such as docstring equations, and lines under 10 characters like `else:` excepted)."""
    path = EXERCISES_DIR / stage.folder / "hints.md"
    hints = parse_hints(path.read_text(encoding="utf-8"))
    assert any(hints.values()), f"{path} holds no `### Hint N` section"
    for secret in secret_lines(stage):
        for h in (h for its_hints in hints.values() for h in its_hints):
            assert secret not in " ".join(h.body.split()), \
                f"{path}, {h.function} hint {h.number} shows the solution line {secret!r}"


def test_read_hints_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(HintsError, match="no such file"):
        read_hints(grading.get_stage("01"), tmp_path)
