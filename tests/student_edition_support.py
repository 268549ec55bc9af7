"""Helpers for the student edition's tests: its package, notebooks run in-process, the real grader's verdicts,
and a release made by nbgrader.

The student edition is grader/student/mnist_kit_student, imported from that folder (what
students install). A catalogue entry (tests/mistakes/..., the reference, the stubs...) is
run as a notebook would run it: grading.student_edition.recorder.notebook_cells turns the
learner file into the stage's locked setup cell plus one cell per function, executed here
in one namespace (as a kernel does) for the student edition, and graded by the sealed
grader (`run_checks(..., visible_only=True)` on `LearnerProgram.from_cells`) for the verdict
the student edition must agree with.
"""

import concurrent.futures
import json
import linecache
import multiprocessing
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from grading.stages import REPO_ROOT, STAGES, get_stage

STUDENT_DIR = REPO_ROOT / "grader" / "student"
BIN = Path(sys.executable).parent
NBGRADER = BIN / "nbgrader"


def student_edition():
    """The mnist_kit_student package of grader/student/ (imported from there, whatever else is installed)."""
    if str(STUDENT_DIR) not in sys.path:
        sys.path.insert(0, str(STUDENT_DIR))
    import mnist_kit_student

    assert Path(mnist_kit_student.__file__).resolve().is_relative_to(STUDENT_DIR), mnist_kit_student.__file__
    return mnist_kit_student


def run_cells(cells: list[dict]) -> dict:
    """Execute notebook cells ({"id", "source"}) in order in one fresh namespace, as a kernel does."""
    namespace = {"__name__": "__main__"}
    for cell in cells:
        filename = f"<cell {cell['id']}>"
        linecache.cache[filename] = (len(cell["source"]), None, cell["source"].splitlines(keepends=True), filename)
        exec(compile(cell["source"], filename, "exec"), namespace)
    return namespace


@dataclass
class Verdict:
    """One function's visible checks on one program: passed, or the message (worded for a notebook)."""

    passed: bool
    message: str = ""
    kind: str = ""
    mistake: "str | None" = None


def real_verdicts(stage_key: str, kinds: tuple) -> dict:
    """{(entry name, function): Verdict} of the sealed grader, for every catalogue entry of a stage."""
    from grading.build.student_edition import recording_sandbox
    from grading.checks.registry import run_checks
    from grading.errors import GradingError
    from grading.frontends.notebooks import notebook_message
    from grading.running.program import LearnerProgram
    from grading.student_edition import recorder

    stage = get_stage(stage_key)
    verdicts = {}
    with recording_sandbox() as sandbox:
        for entry in recorder.catalogue(stage, kinds):
            cells = recorder.notebook_cells(stage, entry.text)
            program = LearnerProgram.from_cells(stage, cells, sandbox=sandbox)
            try:
                for function in stage.functions:
                    try:
                        run_checks(stage, function, program, visible_only=True)
                        verdicts[(entry.name, function)] = Verdict(True)
                    except GradingError as error:
                        verdicts[(entry.name, function)] = Verdict(
                            False, notebook_message(str(error), stage, function, cells), type(error).__name__,
                            error.mistake)
            finally:
                program.close()
    return verdicts


def all_real_verdicts(kinds: tuple) -> dict:
    """real_verdicts of every stage, the stages graded side by side in their own processes."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=len(STAGES), mp_context=context) as pool:
        futures = {stage.number: pool.submit(real_verdicts, stage.number, kinds) for stage in STAGES}
        return {number: future.result(timeout=900) for number, future in futures.items()}


# ------------------------------------------------------------------ a release, made by nbgrader
def nbgrader_env(root: Path) -> dict:
    """An environment for nbgrader in a throwaway course (as tests/test_grader_e2e.py makes one)."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "IPYTHON", "PYTHONPATH", "NBGRADER"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home),
               JUPYTER_CONFIG_DIR=str(home / ".jupyter"), IPYTHONDIR=str(home / ".ipython"),
               JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def generate_release(root: Path) -> Path:
    """Copy grader/ to `root`/course, run `nbgrader generate_assignment "*"` there; the release folder."""
    course = root / "course"
    shutil.copytree(REPO_ROOT / "grader", course,
                    ignore=shutil.ignore_patterns("release", "submitted", "autograded", "feedback", "gradebook.db",
                                                  "*.csv", ".ipynb_checkpoints", "__pycache__"))
    result = subprocess.run([str(NBGRADER), "generate_assignment", "*"], cwd=course, env=nbgrader_env(root),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return course / "release"


def release_notebook(release: Path, stage_key: str) -> dict:
    stage = get_stage(stage_key)
    return json.loads((release / stage.folder / f"{stage.folder}.ipynb").read_text(encoding="utf-8"))
