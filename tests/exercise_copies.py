"""Copies of the exercises for the learner-tool tests, in a test's own folder.

copy_exercises(tmp_path, solved=("01", "02")) gives tmp_path/exercises with every
stage folder's test suite, and each learner file freshly generated from
solutions/ by the kit's own stub generator (grading.render_learner_file): the
stub for most stages, the complete solution (markers dropped, imports rewritten
as in a stub) for the stages in `solved`. The repository's exercises/ (which a
learner may have edited) is only read for the test files.
"""

import shutil
from collections.abc import Iterable
from pathlib import Path

import grading
from grading.stages import EXERCISES_DIR, Stage


def learner_text(stage: Stage, *, solved: bool) -> str:
    """The learner's file of `stage` as the generator makes it: the stub, or solved."""
    return grading.render_learner_file(stage.reference_file.read_text(encoding="utf-8"), stage, solved=solved)


def write_learner_file(exercises: Path, stage: "Stage | str", text: str) -> Path:
    """Replace the learner's file of `stage` in the copy `exercises` by `text`; return its path."""
    path = grading.get_stage(stage).learner_file(exercises)
    path.write_text(text, encoding="utf-8")
    return path


def copy_exercises(tmp_path: Path, solved: Iterable[str] = ()) -> Path:
    """tmp_path/exercises: the suites, stubs everywhere except the `solved` stages."""
    solved = {grading.get_stage(key).number for key in solved}
    target = tmp_path / "exercises"
    shutil.copytree(EXERCISES_DIR, target,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "hints.md"))
    for stage in grading.STAGES:
        write_learner_file(target, stage, learner_text(stage, solved=stage.number in solved))
    return target


def check_count(stage: "Stage | str") -> int:
    """How many checks the stage has (from the checks registry)."""
    stage = grading.get_stage(stage)
    return sum(len(grading.checks_for(stage, function)) for function in stage.functions)
