"""What `mnist-kit progress` prints: where the learner stands, and what to do next.

    Your progress (exercises):

      stage                  status        checks passing
      01 activations         done          10 of 10
      02 forward pass        in progress    5 of 8
      03 backprop            not started    0 of 10
      06 gradient check      not started    0 of 11
      ...
      05 train MNIST         not started    0 of 14   bonus 0 of 6

    Next: fix forward_prop() in exercises/02_forward_pass/forward.py
      Stage 02 (forward pass), forward_prop(): A2 has shape (2, 3), expected (3, 2).
      Grade it:  python -m pytest exercises/02_forward_pass/test_forward.py::test_forward_prop
      ...
      Stuck?     mnist-kit hint 02 forward_prop

The stages come in the order they are taught (06, the gradient check, right after
03). A stage is done when its core checks pass; the bonus checks (stage 05's
optional extras) get a column of their own and, once every stage is done, a next
step of their own, and never hold a stage back.

The grading itself is grading.tools.isolated's (each stage in a child process with a
time limit); this module only turns StageResults into text.
"""

import os
from collections.abc import Sequence
from pathlib import Path

from .stage_results import CANNOT_GRADE, DONE, IN_PROGRESS, NOT_STARTED, NOT_WRITTEN, StageResult
from ..stages import EXERCISES_DIR, Stage

STATUS_WORDS = {DONE: "done", IN_PROGRESS: "in progress", NOT_STARTED: "not started",
                CANNOT_GRADE: "cannot be graded"}


def shown_path(path: "str | os.PathLike") -> str:
    """`path` as a learner would type it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if relative.startswith("..") else relative


def stage_command(stage: Stage, exercises_dir: "str | os.PathLike") -> str:
    """The command that grades the whole stage, e.g. `python -m pytest exercises/01_activations`."""
    return f"python -m pytest {shown_path(Path(exercises_dir) / stage.folder)}"


def function_command(stage: Stage, function: str, exercises_dir: "str | os.PathLike", *, bonus: bool = False) -> str:
    """The command that grades one function (the stage's test of it is test_<function>), or with
    bonus=True its extras (test_bonus_<function>, run with -m bonus so that a failure shows its message)."""
    test_file = shown_path(Path(exercises_dir) / stage.folder / stage.test_file)
    if bonus:
        return f"python -m pytest {test_file}::test_bonus_{function} -m bonus"
    return f"python -m pytest {test_file}::test_{function}"


def kit_command(words: str, exercises_dir: "str | os.PathLike") -> str:
    """`mnist-kit <words>`, with --exercises DIR when DIR is not the kit's own exercises/."""
    if Path(exercises_dir).resolve() != EXERCISES_DIR.resolve():
        words += f" --exercises {shown_path(exercises_dir)}"
    return f"mnist-kit {words}"


def hints_exist(stage: Stage, exercises_dir: "str | os.PathLike") -> bool:
    """True when the stage folder has a hints.md for `mnist-kit hint`."""
    return (Path(exercises_dir) / stage.folder / "hints.md").is_file()


def _bonus_cell(passed: int, total: int) -> str:
    return f"   bonus {passed} of {total}" if total else ""


def format_table(results: Sequence[StageResult]) -> str:
    """One row per stage: number and name, status, checks passing (core checks; the bonus ones beside)."""
    rows = [("stage", "status", "checks passing", "")]
    for result in results:
        rows.append((f"{result.stage.number} {result.stage.name}", STATUS_WORDS[result.status],
                     f"{result.passed:>2} of {result.total}", _bonus_cell(result.bonus_passed, result.bonus_total)))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [f"  {row[0]:<{widths[0]}}   {row[1]:<{widths[1]}}   {row[2]:<{widths[2]}}{row[3]}".rstrip()
             for row in rows]
    passed, total = sum(r.passed for r in results), sum(r.total for r in results)
    bonus = _bonus_cell(sum(r.bonus_passed for r in results), sum(r.bonus_total for r in results))
    lines.append(f"  {'all stages':<{widths[0]}}   {'':<{widths[1]}}   {f'{passed:>2} of {total}':<{widths[2]}}"
                 f"{bonus}".rstrip())
    return "\n".join(lines)


def next_step(results: Sequence[StageResult], exercises_dir: "str | os.PathLike") -> str:
    """What to do next: the first stage not done, the function to write or fix, the command."""
    pending = next((result for result in results if result.status != DONE), None)
    if pending is None:
        return all_done(results, exercises_dir)
    stage = pending.stage
    learner_file = shown_path(stage.learner_file(exercises_dir))
    lines = []
    if pending.status == CANNOT_GRADE:
        lines.append(f"Next: fix {learner_file} - it cannot be graded:")
        lines.extend(_indented(pending.problem))
        lines.append(f"  Grade it:  {stage_command(stage, exercises_dir)}")
    else:
        function = pending.next_function
        assert function is not None  # a stage that is not done has one
        verb = "write" if function.status == NOT_WRITTEN else "fix"
        lines.append(f"Next: {verb} {function.function}() in {learner_file}")
        if function.status != NOT_WRITTEN and function.message:
            message = function.message.splitlines()
            lines.append("  " + message[0])
            lines.extend("  " + line for line in message[1:] if line.lstrip().startswith(("hint:", "shapes:")))
        lines.append(f"  Grade it:  {function_command(stage, function.function, exercises_dir)}")
        lines.append(f"  The stage: {stage_command(stage, exercises_dir)}")
    if hints_exist(stage, exercises_dir):
        function_name = pending.next_function.function if pending.status != CANNOT_GRADE else None
        words = f"hint {stage.number} {function_name}" if function_name else f"hint {stage.number}"
        lines.append(f"  Stuck?     {kit_command(words, exercises_dir)}")
    lines.append(f"  Or run `{kit_command('watch', exercises_dir)}`: it grades again each time you save.")
    for other in results:
        if other.status == CANNOT_GRADE and other is not pending:
            lines.append(f"\nLater: {shown_path(other.stage.learner_file(exercises_dir))} cannot be graded either:")
            lines.extend(_indented(other.problem))
    return "\n".join(lines)


def all_done(results: Sequence[StageResult], exercises_dir: "str | os.PathLike") -> str:
    """The message when every stage passes, pointing at training the learner's own network, then at
    the optional extras left."""
    total = sum(result.total for result in results)
    lines = [f"All {len(results)} stages pass ({total} checks): your 784-10-10 network is complete, "
             f"trained by your own functions.",
             f"  Train it on MNIST:  {kit_command('train --mine --plots runs/plots', exercises_dir)}"
             f"   (your functions; accuracy, weights in runs/weights.npz, pictures)",
             f"  Beside the reference: {kit_command('compare', exercises_dir)}   (accuracy, curves, time)",
             "  From a script or notebook: `from grading.mine import network` "
             "(see the README, \"Your own network\")."]
    extras = bonus_step(results, exercises_dir)
    if extras:
        lines += ([""] if len(extras) > 1 else []) + extras
    return "\n".join(lines)


def bonus_step(results: Sequence[StageResult], exercises_dir: "str | os.PathLike") -> list[str]:
    """The lines about the optional extras once every stage is done: the next one to do, or all done."""
    passed = sum(result.bonus_passed for result in results)
    total = sum(result.bonus_total for result in results)
    pending = next((result for result in results if result.next_bonus is not None), None)
    if not total:
        return []
    if pending is None:
        return [f"  And every optional extra passes too ({total} bonus checks)."]
    function = pending.next_bonus
    assert function is not None
    verb = "write" if function.bonus_status == NOT_WRITTEN else "fix"
    lines = [f"Optional, not needed for done: {passed} of {total} bonus checks pass. Next extra: {verb} "
             f"{function.function}() in {shown_path(pending.stage.learner_file(exercises_dir))}"]
    if function.bonus_status != NOT_WRITTEN and function.bonus_message:
        message = function.bonus_message.splitlines()
        lines.append("  " + message[0])
        lines.extend("  " + line for line in message[1:] if line.lstrip().startswith(("hint:", "shapes:")))
    lines.append(f"  Grade it:  {function_command(pending.stage, function.function, exercises_dir, bonus=True)}")
    if hints_exist(pending.stage, exercises_dir):
        lines.append(f"  Stuck?     {kit_command(f'hint {pending.stage.number}', exercises_dir)}")
    return lines


def progress_report(results: Sequence[StageResult], exercises_dir: "str | os.PathLike") -> str:
    """The whole report: a title, the table and the next step."""
    return (f"Your progress ({shown_path(exercises_dir)}):\n\n{format_table(results)}\n\n"
            f"{next_step(results, exercises_dir)}")


def _indented(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]
