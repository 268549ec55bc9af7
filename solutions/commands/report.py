"""`mnist-kit report`: what the class got right and wrong, as tables, pictures and one web page.

    mnist-kit report                                 # grader/ -> class-report/
    mnist-kit report --course COURSE --out DIR

Reads what grading recorded (the gradebook and the autograded notebooks; no student
code runs) and writes into DIR: scores.csv (student x function), functions.csv (per
function: mean score, share passing, share not attempted), mistakes.csv (per function,
each recognised mistake by its hint: how many students made it, and which),
score_distribution.png, pass_rate.png, mistakes.png, and report.html, which shows them
together and opens from the disk (no server).
"""

import argparse
from pathlib import Path

from . import CommandError

HELP = "a class report from the gradebook: scores, pass rates, the mistakes the class made"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=Path("grader"), metavar="DIR",
                        help="the nbgrader course folder (default: grader/)")
    parser.add_argument("--out", type=Path, default=Path("class-report"), metavar="DIR",
                        help="where to write the report (default: class-report/)")


def run(args: argparse.Namespace) -> int:
    from grading.tools.report import ReportError, class_report, write_report

    try:
        report = class_report(args.course)
    except ReportError as error:
        raise CommandError(str(error)) from None
    write_report(report, args.out)
    functions = report.tables["functions"]
    print(f"mnist-kit report: {len(report.students)} students, {len(report.functions)} functions, "
          f"{len(report.tables['mistakes'])} recognised mistakes -> {args.out / 'report.html'} "
          f"(and scores.csv, functions.csv, mistakes.csv, 3 PNGs)")
    attempted = functions[functions.share_not_attempted < 1]  # an assignment nobody handed in says nothing
    for row in attempted.sort_values("share_passing", kind="stable").head(1).itertuples():
        print(f"  fewest passing: {row.function} ({row.assignment}): {row.share_passing:.0%} of the class")
    return 0
