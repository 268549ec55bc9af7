"""`mnist-kit hint [STAGE] [FUNCTION]`: the hints for the function you are stuck on, one at a time.

    mnist-kit hint 03 backward_prop   the next hint for backward_prop() you have not seen
    mnist-kit hint backward_prop      the same (the stage is found from the function)
    mnist-kit hint 03                 the next hint for the function `mnist-kit progress` says
                                      is next in stage 03 (your file is graded first)
    mnist-kit hint                    the same for the first stage that does not pass yet
    --all                             show again the hints seen so far (of the function, or
                                      with only STAGE, of every function of the stage)
    --reset                           hide them again

The hints come from exercises/NN_name/hints.md, a section per function. Which
ones you have seen is remembered in .mnist-kit/hints.json (git-ignored), so
running the command again shows the next hint. Hints never show the
solution's code.
"""

import argparse
import sys
from pathlib import Path

from grading.tools.hints import Hints, HintsError, HintState, format_hint, read_hints, state_path
from grading.tools.isolated import grade_stages
from grading.tools.progress import kit_command
from grading.tools.stage_results import DONE
from grading.stages import STAGES, Stage, UnknownStageError, get_stage, stage_of_function

from . import CommandError
from .learner_options import add_exercises_option, add_time_limit_option, exercises_dir

HELP = "show the next hint for the function you are on (or: hint 03 backward_prop; --all, --reset)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[STAGE] [FUNCTION], --all | --reset, --exercises DIR, --time-limit SECONDS."""
    parser.add_argument("stage", metavar="STAGE", nargs="?",
                        help="the stage: 01..05 or its name (activations, ...); or a function's name "
                             "(default: the first stage that does not pass yet)")
    parser.add_argument("function", metavar="FUNCTION", nargs="?",
                        help="the function, e.g. backward_prop (default: the one `mnist-kit progress` "
                             "says is next)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="show every hint revealed so far")
    which.add_argument("--reset", action="store_true", help="hide the hints again")
    add_exercises_option(parser)
    add_time_limit_option(parser)


def _target(args: argparse.Namespace) -> tuple[Stage | None, str | None]:
    """The stage and function named on the command line (either may be None)."""
    if args.stage is None:
        return None, None
    try:
        stage = get_stage(args.stage)
    except UnknownStageError as error:
        if args.function is not None:
            raise CommandError(str(error)) from None
        try:
            stage = stage_of_function(args.stage)
        except KeyError:
            functions = ", ".join(f for s in STAGES for f in s.functions)
            raise CommandError(f"{error}; nor is it a function of a stage ({functions})") from None
        return stage, args.stage
    if args.function is not None and args.function.removesuffix("()") not in stage.functions:
        raise CommandError(f"{stage.label} has no function {args.function!r}: its functions are "
                           f"{', '.join(stage.functions)}")
    return stage, args.function.removesuffix("()") if args.function else None


def _next_function(stage: Stage | None, folder: Path, time_limit: float) -> tuple[Stage | None, str | None]:
    """What `mnist-kit progress` says is next: in `stage`, or in the first stage not done (None, None: all done)."""
    stages = [stage] if stage is not None else list(STAGES)
    for result in grade_stages(stages, folder, time_limit=time_limit):
        if result.status != DONE and result.next_function is not None:
            return result.stage, result.next_function.function
    return stage, None


def run(args: argparse.Namespace) -> int:
    """Reveal the next hint (or list the revealed ones, or reset)."""
    folder = exercises_dir(args)
    stage, function = _target(args)
    if stage is not None:
        hints = _read(stage, folder)
        if function is not None and function not in hints:
            raise CommandError(f"{stage.label}: hints.md has no hints for {function}() yet; its README.md "
                               f"explains the maths")
    if args.reset or args.all:
        if stage is None:
            raise CommandError(f"--{'reset' if args.reset else 'all'} needs a stage (and perhaps a function): "
                               f"e.g. `mnist-kit hint 03 --{'reset' if args.reset else 'all'}`")
        state = _state(folder)
        seen = state.seen(stage, hints)
        functions = [function] if function is not None else list(hints)
        return _reset(state, stage, functions, folder) if args.reset else _show_all(stage, hints, seen, functions,
                                                                                      folder)
    if function is None:
        stage, function = _next_function(stage, folder, args.time_limit)
        if function is None:
            where = f"{stage.label} passes" if stage is not None else "Every stage passes"
            one = stage.number if stage is not None else "03"
            print(f"{where} every check: no hint needed. A function's hints: "
                  f"`{kit_command(f'hint {one} FUNCTION', folder)}`.")
            return 0
        assert stage is not None
        hints = _read(stage, folder)
        if function not in hints:
            raise CommandError(f"{stage.label}: the next function to write is {function}(), and hints.md has "
                               f"no hints for it yet; its README.md explains the maths")
        print(f"(`mnist-kit progress` says the next function is {function}() of {stage.label}.)\n")
    state = _state(folder)
    return _reveal(state, stage, function, hints, folder)


def _read(stage: Stage, folder: Path) -> Hints:
    try:
        return read_hints(stage, folder)
    except HintsError as error:
        raise CommandError(str(error)) from None


def _state(folder: Path) -> HintState:
    state = HintState.load(state_path(folder))
    if state.notice:
        print(state.notice, file=sys.stderr)
    return state


def _reveal(state: HintState, stage: Stage, function: str, hints: Hints, folder: Path) -> int:
    its_hints = hints[function]
    seen = state.seen(stage, hints)
    shown = min(seen.get(function, 0), len(its_hints))
    again = kit_command(f"hint {stage.number} {function}", folder)
    if shown == len(its_hints):
        shown_all = "its one hint is shown" if len(its_hints) == 1 else f"all {len(its_hints)} hints are shown"
        print(f"{stage.label}, {function}(): {shown_all}; `{again} --all` shows it all again. The README's "
              f"maths and the failure message's hint: line say more.")
        return 0
    seen[function] = shown + 1
    state.save()
    print(format_hint(stage, its_hints[shown], shown + 1, len(its_hints)))
    if shown + 1 < len(its_hints):
        print(f"\n(Hint {shown + 1} of {len(its_hints)} for {function}(): `{again}` shows the next one.)")
    else:
        print(f"\n(That was the last hint for {function}(); `{again} --all` shows them all again.)")
    return 0


def _show_all(stage: Stage, hints: Hints, seen: dict[str, int], functions: list[str], folder: Path) -> int:
    shown = [(function, index) for function in functions
             for index in range(min(seen.get(function, 0), len(hints[function])))]
    if not shown:
        which = f"{functions[0]}()" if len(functions) == 1 else "any function"
        first = kit_command(f"hint {stage.number} {functions[0]}" if len(functions) == 1
                            else f"hint {stage.number}", folder)
        print(f"{stage.label}: no hint shown yet for {which}; `{first}` shows the first.")
        return 0
    print("\n\n".join(format_hint(stage, hints[function][index], index + 1, len(hints[function]))
                      for function, index in shown))
    total = sum(len(hints[function]) for function in functions)
    print(f"\n({len(shown)} of {total} hints shown.)")
    return 0


def _reset(state: HintState, stage: Stage, functions: list[str], folder: Path) -> int:
    counts = state.revealed.setdefault(stage.number, {})
    for function in functions:
        counts.pop(function, None)
    state.save()
    which = f"{functions[0]}()'s hints are" if len(functions) == 1 else "hints are all"
    print(f"{stage.label}: {which} hidden again; `{kit_command(f'hint {stage.number}', folder)}` "
          f"shows the next one you need.")
    return 0
