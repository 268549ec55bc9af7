"""`mnist-kit watch [STAGE]`: grade your stage again each time you save your file.

Starts at STAGE, or at the first stage that does not pass yet; prints how many
checks pass and the first failing check's message, then waits for you to save
your file and grades again. When the stage passes it moves on to the next one.
Stop it with Ctrl-C. (It looks at the file's modification time every
--interval seconds.)
"""

import argparse

from grading.stages import UnknownStageError, get_stage
from grading.tools.watch import DEFAULT_INTERVAL, watch

from . import CommandError
from .learner_options import add_exercises_option, add_time_limit_option, exercises_dir
from .options import positive_float, positive_int

HELP = "grade your current stage each time you save your file, moving on when it passes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[STAGE], --interval, --max-runs, --stop-after, --time-limit, --exercises."""
    parser.add_argument("stage", metavar="STAGE", nargs="?",
                        help="where to start: 01..05 or a name (default: the first stage not done)")
    parser.add_argument("--interval", type=positive_float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                        help=f"how often to look at your file (default: {DEFAULT_INTERVAL:g})")
    parser.add_argument("--max-runs", type=positive_int, metavar="N",
                        help="stop after grading N times (default: never)")
    parser.add_argument("--stop-after", type=positive_float, metavar="SECONDS",
                        help="stop after this long (default: never)")
    add_time_limit_option(parser)
    add_exercises_option(parser)


def run(args: argparse.Namespace) -> int:
    """Watch until Ctrl-C, every stage passing, or a bound."""
    stage = None
    if args.stage is not None:
        try:
            stage = get_stage(args.stage)
        except UnknownStageError as error:
            raise CommandError(str(error)) from None
    return watch(stage, exercises_dir(args), interval=args.interval, time_limit=args.time_limit,
                 max_runs=args.max_runs, stop_after=args.stop_after)
