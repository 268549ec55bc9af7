"""The stub generator: solution markers, import rewriting, and committed stubs that match it."""

import re

import pytest

from grading.build import generated as build
from grading.stages import STAGES, get_stage
from grading.build.stubs import (MarkerError, SolutionBlock, render_learner_file, replace_solution_blocks,
                           rewrite_imports, split_solution_blocks)

SOURCE = '''import numpy as np

from .activations import relu
from kit_helpers import atomic_write


def f(x):
    """Doc."""
    if x is None:
        raise ValueError("x")
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


class Box:
    def g(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION
'''


def test_split_finds_each_block_with_its_function_and_lines() -> None:
    pieces = split_solution_blocks(SOURCE)
    blocks = [piece for piece in pieces if isinstance(piece, SolutionBlock)]
    assert [(b.function, b.begin_line, b.end_line, b.indent) for b in blocks] == [
        ("f", 11, 14, "    "), ("g", 19, 21, "        ")]
    assert blocks[0].body == "    y = x + 1\n    return y\n"


def test_split_loses_nothing_but_the_markers() -> None:
    pieces = split_solution_blocks(SOURCE)
    rebuilt = "".join(p if isinstance(p, str) else
                      f"{p.indent}### BEGIN SOLUTION\n{p.body}{p.indent}### END SOLUTION\n" for p in pieces)
    assert rebuilt == SOURCE


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### END SOLUTION\n", "<source>, line 2: ### END SOLUTION without a ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "<source>, line 2: ### BEGIN SOLUTION inside the block opened on line 1"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n", "<source>, line 2: ### BEGIN SOLUTION is never closed"),
])
def test_unbalanced_markers_name_the_line(source: str, message: str) -> None:
    with pytest.raises(MarkerError, match=re.escape(message)):
        split_solution_blocks(source)


def test_replace_solution_blocks_uses_the_replacement() -> None:
    text = replace_solution_blocks(SOURCE, lambda block: f"{block.indent}pass  # {block.function}\n")
    assert "    pass  # f\n" in text and "        pass  # g\n" in text and "SOLUTION" not in text


def test_imports_of_stages_become_plain_and_helpers_absolute() -> None:
    text = rewrite_imports(SOURCE)
    assert "from activations import relu\n" in text
    assert "from kit_helpers import atomic_write\n" in text
    assert "import numpy as np\n" in text


def test_a_relative_import_of_a_helper_is_refused() -> None:
    with pytest.raises(MarkerError, match=r"from \.atomic_files import.*kit_helpers"):
        rewrite_imports("from .atomic_files import atomic_write\n")


def test_stub_names_stage_and_function_and_keeps_the_rest() -> None:
    stage = get_stage("02")
    stub = render_learner_file(stage.reference_file.read_text(), stage)
    assert stub.startswith("# Stage 02 (forward pass) - this is YOUR file")
    assert "python -m pytest exercises/02_forward_pass" in stub.splitlines()[2]
    assert 'raise NotImplementedError("Stage 02 (forward pass): implement init_params() - see ' \
           'exercises/02_forward_pass/README.md")' in stub
    assert 'raise ValueError(f"init must be one of' in stub  # code outside the markers stays
    assert "from activations import relu, softmax" in stub
    assert "SOLUTION" not in stub and "rng.uniform" not in stub


def test_every_function_of_every_stage_has_exactly_one_stub() -> None:
    for stage in STAGES:
        stub = render_learner_file(stage.reference_file.read_text(), stage)
        for function in stage.functions:
            assert stub.count(f"implement {function}()") == 1, (stage.number, function)
        assert stub.count('raise NotImplementedError("') == len(stage.functions)


def test_solved_file_is_the_reference_without_markers() -> None:
    stage = get_stage("01")
    solved = render_learner_file(stage.reference_file.read_text(), stage, solved=True)
    assert 'raise NotImplementedError("' not in solved and "SOLUTION" not in solved
    assert "    return np.maximum(Z, 0)\n" in solved


def test_committed_stubs_match_the_generator() -> None:
    stale = [path for path, text in build.stub_files().items() if path.read_text() != text]
    assert not stale, f"regenerate with `python -m grading.build`: {stale}"


def test_check_mode_reports_a_stale_stub(tmp_path, capsys) -> None:
    exercises = tmp_path / "exercises"
    for path, text in build.stub_files(exercises).items():
        path.parent.mkdir(parents=True)
        path.write_text(text)

    def stale_stubs() -> list:
        return [path for path in build.outdated_files(exercises) if exercises in path.parents]

    assert stale_stubs() == []
    stale = get_stage("03").learner_file(exercises)
    stale.write_text(stale.read_text() + "# edited\n")
    assert stale_stubs() == [stale]
    assert build.main(["--check", "--exercises", str(exercises)]) == 1
    assert f"out of date: {stale}" in capsys.readouterr().out
