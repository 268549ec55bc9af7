"""`mnist-kit hint STAGE`: the stage's hints, one more each time you ask.

The hints come from exercises/NN_name/hints.md. Which ones you have seen is
remembered in .mnist-kit/hints.json (git-ignored), so running the command again
shows the next hint; --all shows again those seen so far, --reset hides them.
Hints never show the solution's code.
"""

import argparse
import sys

from grading.tools.hints import HintsError, HintState, format_hint, read_hints, state_path
from grading.tools.progress import kit_command
from grading.stages import UnknownStageError, get_stage

from . import CommandError
from .learner_options import add_exercises_option, exercises_dir

HELP = "show the next hint for a stage (--all: the ones seen so far, --reset: hide them again)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """STAGE, --all | --reset, --exercises DIR."""
    parser.add_argument("stage", metavar="STAGE", help="the stage: 01..05, or its name (activations, ...)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="show every hint revealed so far")
    which.add_argument("--reset", action="store_true", help="hide this stage's hints again")
    add_exercises_option(parser)


def run(args: argparse.Namespace) -> int:
    """Reveal the next hint (or list the revealed ones, or reset)."""
    try:
        stage = get_stage(args.stage)
    except UnknownStageError as error:
        raise CommandError(str(error)) from None
    folder = exercises_dir(args)
    try:
        hints = read_hints(stage, folder)
    except HintsError as error:
        raise CommandError(str(error)) from None
    state = HintState.load(state_path(folder))
    if state.notice:
        print(state.notice, file=sys.stderr)
    shown = min(state.revealed.get(stage.number, 0), len(hints))
    again = kit_command(f"hint {stage.number}", folder)

    if args.reset:
        state.revealed.pop(stage.number, None)
        state.save()
        print(f"{stage.label}: its {len(hints)} hints are hidden again; `{again}` shows the first.")
        return 0
    if args.all:
        if shown == 0:
            print(f"{stage.label}: no hint shown yet; `{again}` shows the first of {len(hints)}.")
            return 0
        print("\n\n".join(format_hint(stage, hint, index, len(hints))
                          for index, hint in enumerate(hints[:shown], start=1)))
        print(f"\n({shown} of {len(hints)} hints shown.)")
        return 0
    if shown == len(hints):
        print(f"{stage.label}: all {len(hints)} hints are shown; `{again} --all` shows them again.")
        return 0
    state.revealed[stage.number] = shown + 1
    state.save()
    print(format_hint(stage, hints[shown], shown + 1, len(hints)))
    if shown + 1 < len(hints):
        print(f"\n(Hint {shown + 1} of {len(hints)}: `{again}` shows the next one.)")
    else:
        print(f"\n(That was the last hint of {stage.label}; `{again} --all` shows them all again.)")
    return 0
