"""grader/student/ holds no answer: no line of any stage's solution and no line of any hidden check.

Which lines count is grading/student_edition/answers.py's rule (at least 12 characters, not a
comment or docstring, not a bare `return` of names, not given to students anyway); finding
them is tests/answer_lines.py (whitespace ignored, JSON read by its strings). The release
notebooks made by nbgrader are scanned in tests/test_student_release.py. Here: the student
edition, and that the scan does find a planted line.
"""

import json
import shutil
from pathlib import Path

import pytest
from answer_lines import Text, release_allows, scan, texts_of
from student_edition_support import STUDENT_DIR

from grading.stages import STAGES, get_stage
from grading.student_edition.answers import REDACTED, AnswerLine, answer_lines, redact, solution_lines


@pytest.fixture(scope="module")
def lines() -> list[AnswerLine]:
    return answer_lines()


def test_the_answer_lines_are_the_solutions_and_the_hidden_checks(lines) -> None:
    solution = {(line.stage, line.text) for line in lines if line.kind == "solution"}
    assert ("01", "return np.maximum(Z, 0)") in solution
    assert ("05", "order = rng.permutation(m)") in solution
    assert ("02", "rng = np.random.default_rng(seed)") in solution
    # given to students anyway: the docstring's maths, a bare return of names, kit_helpers' code
    assert ("02", "A1 = relu(Z1)") not in solution                 # forward.py's module docstring
    assert ("05", "rng = np.random.default_rng(seed)") not in solution  # mini_batch_gradient_descent's docstring
    assert not any(text.startswith("return W1, b1, W2, b2") for _, text in solution)
    assert ("03", "m = X.shape[1]") not in solution                # also in kit_helpers/augmentation.py
    assert every_stage_has_answers(lines)
    hidden = {line.origin for line in lines if line.kind == "hidden check"}
    assert "relu/relu_matches_reference" in hidden and "softmax/large_logits_do_not_overflow" in hidden
    assert not any(line.origin.endswith("/negatives_become_zero") for line in lines)  # a visible check
    # a hidden check's line that students are given anyway (kit_helpers/atomic_files.py), or a bare
    # `except` clause, is no answer; the check's own lines are
    hidden_texts = {(line.origin, line.text) for line in lines if line.kind == "hidden check"}
    assert not any(text == "except OSError:" for _, text in hidden_texts)
    assert ("save_params/never_writes_into_the_old_file", 'folder.link("weights.npz", "witness.npz")') in hidden_texts


def every_stage_has_answers(lines) -> bool:
    return {line.stage for line in lines if line.kind == "solution"} == {stage.number for stage in STAGES}


def test_the_student_edition_holds_no_answer(lines) -> None:
    texts = texts_of(STUDENT_DIR)
    assert any(t.file.name == "relu.json" for t in texts) and any(t.file.name == "runner.py" for t in texts)
    hits = scan(texts, lines)
    assert not hits, "\n".join(map(str, hits))


def test_hints_that_quote_an_answer_are_recorded_with_it_hidden() -> None:
    data = json.loads((STUDENT_DIR / "mnist_kit_student" / "expectations" / "save_params.json").read_text())
    hints = [m["message"]["hint"] for check in data["checks"] for m in check["mistakes"]]
    assert f"end with `{REDACTED}`" in hints  # the kit says "end with `return Path(path)`"
    assert redact("x = 1; order = rng.permutation( m ) then") == f"x = 1; {REDACTED} then"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    copy = tmp_path / "student"
    shutil.copytree(STUDENT_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_scan_finds_a_planted_solution_line(planted: Path, lines) -> None:
    line = next(l for l in solution_lines("03") if l.origin == "backward_prop")
    assert not scan(texts_of(planted), lines)
    data = planted / "mnist_kit_student" / "expectations" / "one_hot.json"
    body = json.loads(data.read_text())
    body["checks"][0]["description"] = f'try "{line.text}"'  # quotes escaped in the file: read as JSON
    data.write_text(json.dumps(body))
    runner = planted / "mnist_kit_student" / "runner.py"
    runner.write_text(runner.read_text() + "\n" + "    " + line.text.replace(" ", "  ") + "\n")  # reformatted
    hits = scan(texts_of(planted), lines)
    assert {(hit.text.file.name, hit.line.text) for hit in hits} >= {("one_hot.json", line.text),
                                                                     ("runner.py", line.text)}


def test_the_scan_finds_a_planted_hidden_check_line(planted: Path, lines) -> None:
    line = next(l for l in lines if l.kind == "hidden check")
    (planted / "mnist_kit_student" / "extra.py").write_text(line.text + "\n")
    assert [hit.line for hit in scan(texts_of(planted), lines)] == [line]


def test_a_release_notebook_may_hold_earlier_answers_only_in_its_setup_cell(lines) -> None:
    earlier = next(l for l in solution_lines("01"))
    own = next(l for l in solution_lines("03"))
    notebook = Path("release/03_backprop/03_backprop.ipynb")

    def found(line, where: str) -> bool:
        return bool(scan([Text(notebook, where, f"x\n{line.text}\n")], [line], allowed=release_allows))

    assert not found(earlier, "setup")
    assert found(earlier, "one_hot_code") and found(own, "setup") and found(own, "one_hot_code")
    later = next(l for l in solution_lines("04"))
    assert found(later, "setup")
    assert get_stage("03").folder == notebook.stem
