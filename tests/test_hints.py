"""`mnist-kit hint STAGE`: reveal order, memory between runs, --all, --reset, a broken
state file, missing or empty hints, and hints never showing solution code.

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
    HintState,
    parse_hints,
    secret_lines,
    state_path,
)
from grading.stages import EXERCISES_DIR
from solutions.cli import main

HINTS_01 = """# Hints for stage 01

Read these one at a time.

## Hint 1: what ReLU keeps
Positive numbers pass through; negative ones become 0.

## Hint 2
NumPy has an elementwise maximum.

## Hint 3 - softmax overflows
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


def test_hints_are_revealed_one_at_a_time_in_order(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    outputs = [hint(exercises, capsys, "01") for _ in range(3)]
    assert all(status == 0 for status, _, _ in outputs)
    first, second, third = (out for _, out, _ in outputs)
    assert "hint 1 of 3: what ReLU keeps" in first and "Positive numbers pass through" in first
    assert "elementwise maximum" not in first and "Subtract" not in first
    assert "hint 2 of 3" in second and "NumPy has an elementwise maximum." in second
    assert "Positive numbers" not in second
    assert "hint 3 of 3: softmax overflows" in third and "last hint" in third
    assert "Not a hint" not in first + second + third  # "## Going further" ends hint 3
    status, out, _ = hint(exercises, capsys, "01")
    assert status == 0 and "all 3 hints are shown" in out and "Subtract" not in out


def test_state_is_remembered_in_the_state_file(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    hint(exercises, capsys, "01")
    hint(exercises, capsys, "activations")  # any name of the stage
    path = exercises.parent / STATE_FOLDER / "hints.json"
    assert path == state_path(exercises)
    assert json.loads(path.read_text()) == {"revealed": {"01": 2}}
    assert not list(path.parent.glob("*.part"))  # written atomically, nothing left behind


def test_all_shows_only_the_revealed_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, out, _ = hint(exercises, capsys, "01", "--all")
    assert status == 0 and "no hint shown yet" in out and "Positive" not in out
    hint(exercises, capsys, "01")
    hint(exercises, capsys, "01")
    status, out, _ = hint(exercises, capsys, "01", "--all")
    assert "hint 1 of 3" in out and "hint 2 of 3" in out and "(2 of 3 hints shown.)" in out
    assert "Subtract" not in out
    assert json.loads(state_path(exercises).read_text()) == {"revealed": {"01": 2}}  # --all reveals nothing


def test_reset_hides_the_stage_hints_again(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "02_forward_pass" / "hints.md").write_text("## Hint 1\nW1 @ X.\n## Hint 2\nAdd b1.\n")
    hint(exercises, capsys, "01")
    hint(exercises, capsys, "01")
    hint(exercises, capsys, "02")
    status, out, _ = hint(exercises, capsys, "01", "--reset")
    assert status == 0 and "hidden again" in out
    assert json.loads(state_path(exercises).read_text()) == {"revealed": {"02": 1}}  # stage 02 untouched
    _, out, _ = hint(exercises, capsys, "01")
    assert "hint 1 of 3" in out


@pytest.mark.parametrize("content", [
    "{not json",
    '["a list"]',
    '{"revealed": {"01": -1}}',
    '{"revealed": {"01": "two"}}',
    '{"revealed": {"07": 1}}',
    "\udcff",
])
def test_corrupt_state_file_is_reset_with_a_notice(exercises: Path, capsys: pytest.CaptureFixture,
                                                   content: str) -> None:
    path = state_path(exercises)
    path.parent.mkdir()
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    status, out, err = hint(exercises, capsys, "01")
    assert status == 0
    assert "could not be read" in err and str(path) in err and "Traceback" not in err
    assert "hint 1 of 3" in out
    assert json.loads(path.read_text()) == {"revealed": {"01": 1}}


def test_stage_without_hints(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "03_backprop" / "hints.md").unlink(missing_ok=True)
    status, out, err = hint(exercises, capsys, "03")
    assert status == 1 and out == ""
    assert "03_backprop/hints.md: no such file" in err and len(err.strip().splitlines()) == 1


def test_hints_file_without_hint_sections(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    (exercises / "01_activations" / "hints.md").write_text("# Hints\nJust text, no sections.\n")
    status, _, err = hint(exercises, capsys, "01")
    assert status == 1 and "holds no hint" in err and "## Hint 1" in err


def test_unknown_stage(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, _, err = hint(exercises, capsys, "9")
    assert status == 1 and "no stage called '9'" in err and "01 (01_activations)" in err


def test_all_and_reset_together_is_a_usage_error(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    status, _, err = hint(exercises, capsys, "01", "--all", "--reset")
    assert status == 2 and "not allowed with" in err


def test_solution_line_in_a_hint_is_withheld(exercises: Path, capsys: pytest.CaptureFixture) -> None:
    """Even if hints.md quotes the solution, the command does not show it."""
    (exercises / "01_activations" / "hints.md").write_text(
        "## Hint 1\nThe answer:\n\n    return   np.maximum(Z, 0)\n\nthat is all.\n")
    _, out, _ = hint(exercises, capsys, "01")
    assert "np.maximum(Z, 0)" not in out
    assert WITHHELD in out and "The answer:" in out and "that is all." in out


def test_equations_the_stub_already_shows_are_not_withheld() -> None:
    """`A1 = relu(Z1)` is in forward_prop's docstring (and the solution): saying it gives nothing away."""
    secrets = secret_lines(grading.get_stage("02"))
    assert "A1 = relu(Z1)" not in secrets
    assert "Z1 = W1 @ X + b1" in secrets


def test_parse_ignores_headings_inside_code_blocks() -> None:
    hints = parse_hints("## Hint 1\n```markdown\n## Hint 2\n```\n## Hint 2: real\ntext\n")
    assert [(h.number, h.title) for h in hints] == [(1, ""), (2, "real")]
    assert "## Hint 2" in hints[0].body


def test_state_load_and_save_round_trip(tmp_path: Path) -> None:
    state = HintState.load(tmp_path / "state" / "hints.json")
    assert state.revealed == {} and state.notice is None
    state.revealed["04"] = 3
    state.save()
    assert HintState.load(tmp_path / "state" / "hints.json").revealed == {"04": 3}


@pytest.mark.parametrize("stage", grading.STAGES, ids=lambda stage: stage.folder)
def test_the_kits_hints_never_contain_solution_code(stage: grading.Stage) -> None:
    """No line of the stage's solution blocks appears in its hints.md (lines the stub shows anyway,
    such as docstring equations, and lines under 10 characters like `else:` excepted)."""
    path = EXERCISES_DIR / stage.folder / "hints.md"
    if not path.is_file():
        pytest.skip(f"{path} is not written yet")
    text = path.read_text(encoding="utf-8")
    hints = [(f"hint {h.number}", h.body) for h in parse_hints(text)]
    if not hints and "\n### Hint 1" in text:  # the per-function format (issue 12): the file as a whole
        hints = [("the file", text)]
    assert hints, f"{path} holds no `## Hint N` section"
    for secret in secret_lines(stage):
        for where, body in hints:
            assert secret not in " ".join(body.split()), f"{path}, {where} shows the solution line {secret!r}"
