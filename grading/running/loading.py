"""Loading a learner's stage file into THIS process, for the learner's own scripts and notebooks.

Grading never does this: the checks grade a LearnerProgram, which runs the learner's
code in the sealed worker (grading/running/program.py). This in-process loader is for
the learner's own use of their work, where nothing needs sealing.

`load_learner_module(stage, path)` executes the learner's file as a fresh module
(it is never left in sys.modules). While it runs, the plain imports of earlier
stages that the file makes (`from activations import relu`) are resolved to

  * the reference modules (solutions.activations, ...) for stages 02-04, so that
    each stage is graded on its own, whether or not the earlier ones are done;
  * the learner's own files of the stages a stage builds on (`Stage.builds_on`):
    01-04 for stage 05, the capstone, which trains the network built from the
    learner's own functions, and 01-03 for stage 06, which checks the learner's
    own backward_prop.

A file that cannot be loaded (syntax error, failing import, an exception at top
level) raises LearnerFileError with a message naming the file and the line.
"""

import contextlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from ..errors import LearnerFileError
from ..stages import STAGES, Stage, get_stage
from .import_errors import explain_import_error
from .program import CAPSTONE, earlier_stages, own_stages



def load_learner_module(stage: "Stage | str", path: "str | os.PathLike | None" = None, *,
                        exercises_dir: "str | os.PathLike | None" = None) -> ModuleType:
    """Execute the learner's file of `stage` and return it as a module.

    Args:
        stage: the stage (any key get_stage accepts).
        path: the learner's file; default: the stage's file inside `exercises_dir`.
        exercises_dir: the exercises folder holding every stage's folder (default:
            the folder above `path`, else the kit's exercises/). Only stages that
            build on the learner's own files use it (05: 01-04, 06: 01-03).

    Raises:
        LearnerFileError: the file is missing, has a syntax error, or fails while loading.
    """
    stage = get_stage(stage)
    if path is None:
        path = stage.learner_file(exercises_dir)
    path = Path(path)
    if exercises_dir is None:
        exercises_dir = path.resolve().parent.parent
    if stage.builds_on:
        providers = {}
        for earlier in own_stages(stage):
            with _stage_modules(providers):
                providers[earlier.module] = _execute(earlier, earlier.learner_file(exercises_dir),
                                                     needed_by=stage)
    else:
        providers = {s.module: importlib.import_module(s.reference_module) for s in earlier_stages(stage)}
    with _stage_modules(providers):
        return _execute(stage, path)


@contextlib.contextmanager
def _stage_modules(providers: dict[str, ModuleType]) -> Iterator[None]:
    """Make `import <name>` give providers[name] for the duration of the block."""
    saved = {name: sys.modules.get(name) for name in providers}
    sys.modules.update(providers)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _execute(stage: Stage, path: Path, *, needed_by: Stage | None = None) -> ModuleType:
    """Run the file at `path` as a new module named after the stage's module."""
    shown = _display_path(path)
    context = (f" ({needed_by.label} uses your own files of stages {_numbers(needed_by)})" if needed_by else "")
    if not path.is_file():
        raise LearnerFileError(f"{stage.label}: {shown} is missing{context} - restore it with "
                               f"`git checkout {stage.learner_relpath}`.", stage=stage.number)
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as error:
        line = (error.text or "").rstrip("\n")
        pointer = ""
        if line and error.offset:
            pointer = "\n      " + " " * (error.offset - 1 - (len(line) - len(line.lstrip()))) + "^"
        shown_line = f"\n      {line.strip()}{pointer}" if line else ""
        raise LearnerFileError(
            f"{stage.label}: {shown}, line {error.lineno}: {error.msg} (a syntax error){context}"
            f"{shown_line}", stage=stage.number) from None
    module = ModuleType(stage.module)
    module.__file__ = str(path)
    saved = sys.modules.get(stage.module)
    sys.modules[stage.module] = module  # so that dataclasses and the like find their module
    try:
        exec(code, module.__dict__)
    except Exception as error:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
        where = f", line {frames[-1].lineno}" if frames else ""
        facts = {"type": type(error).__name__, "message": str(error), "module": getattr(error, "name", None)}
        references = set() if stage.builds_on else {s.module for s in earlier_stages(stage)}
        explained = explain_import_error(facts, stage, f"{shown}{where}", reference_modules=references)
        if explained is not None:
            raise LearnerFileError(explained + context, stage=stage.number) from None
        hint = ""
        if isinstance(error, ModuleNotFoundError) and error.name in {s.module for s in STAGES}:
            hint = f" - keep the file in exercises/{stage.folder}/ and import earlier stages as `from {error.name} import ...`"
        raise LearnerFileError(
            f"{stage.label}: loading {shown}{where} raised {type(error).__name__}: {error}{context}{hint}",
            stage=stage.number) from None
    finally:
        if saved is None:
            sys.modules.pop(stage.module, None)
        else:
            sys.modules[stage.module] = saved
    return module


def _numbers(stage: Stage) -> str:
    """"01-04": the stages `stage` builds on."""
    return f"{stage.builds_on[0]}-{stage.builds_on[-1]}"


def _display_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it (as a learner would type it)."""
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
