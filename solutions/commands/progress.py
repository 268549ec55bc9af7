"""`mnist-kit progress`: where you stand in the exercises, and what to do next.

Grades every stage of your files in exercises/ quietly (each stage in a child
process, stopped after --time-limit seconds, so an endless loop cannot hang it)
and prints a table: done, in progress with N of M checks passing, or not
started; then the next function to write or fix and the command that grades it.
"""

import argparse

from grading.tools.isolated import grade_stages
from grading.tools.progress import progress_report
from grading.stages import STAGES

from .learner_options import add_exercises_option, add_time_limit_option, exercises_dir

HELP = "show which stages of your exercises pass, and what to do next"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--exercises DIR, --time-limit SECONDS."""
    add_exercises_option(parser)
    add_time_limit_option(parser)


def run(args: argparse.Namespace) -> int:
    """Grade every stage and print the table and the next step."""
    folder = exercises_dir(args)
    results = grade_stages(STAGES, folder, time_limit=args.time_limit)
    print(progress_report(results, folder))
    return 0
