"""Options shared by the learner's commands (progress, hint, watch)."""

import argparse
from pathlib import Path

from grading.tools.isolated import DEFAULT_TIME_LIMIT
from grading.stages import EXERCISES_DIR, STAGES

from . import CommandError
from .options import positive_float


def add_exercises_option(parser: argparse.ArgumentParser) -> None:
    """--exercises DIR: the folder holding 01_activations/ ... 05_train_mnist/."""
    parser.add_argument("--exercises", type=Path, default=EXERCISES_DIR, metavar="DIR",
                        help="the folder holding your stage folders (default: the kit's exercises/)")


def add_time_limit_option(parser: argparse.ArgumentParser) -> None:
    """--time-limit SECONDS: how long one stage's checks may run."""
    parser.add_argument("--time-limit", type=positive_float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                        help=f"stop a stage's checks after this long, as when your code loops forever "
                             f"(default: {DEFAULT_TIME_LIMIT:g})")


def exercises_dir(args: argparse.Namespace) -> Path:
    """args.exercises, checked to be a folder holding at least one stage folder."""
    folder: Path = args.exercises
    first, last = STAGES[0].folder, STAGES[-1].folder
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder (--exercises names the folder holding {first}/ ... {last}/)")
    if not any((folder / stage.folder).is_dir() for stage in STAGES):
        raise CommandError(f"{folder}: holds none of the stage folders {first}/ ... {last}/ "
                           f"(is it the exercises folder?)")
    return folder
