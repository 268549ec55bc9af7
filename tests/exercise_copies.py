"""Copies of the exercises for the learner-tool tests (progress, hint, watch), in tmp_path.

Built on the curriculum tests' trees (tests/curriculum_trees.py): a copy of the
kit's exercises/ whose learner files are replaced as a test needs, with texts
made by the kit's own stub generator (grading.render_learner_file).
"""

from collections.abc import Iterable
from pathlib import Path

from curriculum_trees import make_tree, solved_text

import grading
from grading.stages import Stage


def learner_text(stage: "Stage | str", *, solved: bool) -> str:
    """The learner's file of `stage` as the generator makes it: solved, or the stub."""
    stage = grading.get_stage(stage)
    if solved:
        return solved_text(stage)
    return grading.render_learner_file(stage.reference_file.read_text(encoding="utf-8"), stage)


def write_learner_file(exercises: Path, stage: "Stage | str", text: str) -> Path:
    """Replace the learner's file of `stage` in the copy `exercises` by `text`; return its path."""
    path = grading.get_stage(stage).learner_file(exercises)
    path.write_text(text, encoding="utf-8")
    return path


def copy_exercises(tmp_path: Path, solved: Iterable[str] = ()) -> Path:
    """tmp_path/exercises: fresh stubs everywhere except the `solved` stages."""
    solved = {grading.get_stage(key).number for key in solved}
    files = {stage.number: learner_text(stage, solved=stage.number in solved) for stage in grading.STAGES}
    return make_tree(tmp_path, files, solved=False) / "exercises"


def check_count(stage: "Stage | str") -> int:
    """How many core checks the stage has (from the checks registry; the bonus ones are counted apart)."""
    stage = grading.get_stage(stage)
    return sum(len(grading.checks_for(stage, function, bonus=False)) for function in stage.functions)
