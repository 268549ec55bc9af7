"""`mnist-kit autograde`: grade a whole nbgrader class at once, on every core or on a Dask cluster.

    mnist-kit autograde                              # grader/: every submission in submitted/
    mnist-kit autograde --course COURSE --assignment 03_backprop --student ada
    mnist-kit autograde --workers 8                  # grading processes (default: one per core)
    mnist-kit autograde --dask-scheduler tcp://HOST:8786    # the cluster's workers grade instead

Every notebook is graded in the kit's sealed worker, by as many processes at once as
asked, and recorded by nbgrader's own code in the course's gradebook.db and autograded/,
exactly as `nbgrader autograde` records them (the same scores, the same notebooks), so
`nbgrader generate_feedback` and `nbgrader export` work as before. As nbgrader does, it
skips a submission already graded unless --force (or the submission is newer).

While it runs, a progress line every few seconds (stderr); at the end one summary line:
how many submissions were graded, failed to grade (each with its reason on a line of its
own; such a submission is scored 0 and flagged for manual grading, never left with an
older score) or were skipped. Exit status 0, 1 when a submission failed to grade or the
course cannot be graded (a missing or corrupt gradebook, no submitted/ folder, an unknown
assignment, an unreachable scheduler: one line, nothing written), 130 after Ctrl-C (every
student fully recorded or not at all).
"""

import argparse
import sys
from pathlib import Path

from . import CommandError
from .options import positive_float, positive_int

HELP = "grade every submission of an nbgrader course at once (all cores, or a Dask cluster)"
INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=Path("grader"), metavar="DIR",
                        help="the nbgrader course folder (default: grader/)")
    parser.add_argument("--assignment", default="*", metavar="NAME",
                        help="only this assignment (a name, or a pattern such as '0*'; default: all)")
    parser.add_argument("--student", default="*", metavar="ID", help="only this student's submissions")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=None, metavar="N",
                       help="grading processes on this machine (default: one per core)")
    where.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                       help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
                            "needs pip install 'mnist-kit[dask]' here and on every worker")
    parser.add_argument("--dask-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                        help="how long to wait for the Dask scheduler to answer (default: 10)")
    parser.add_argument("--force", "-f", action="store_true",
                        help="grade again what is already graded (as nbgrader autograde --force)")
    parser.add_argument("--log", type=Path, default=None, metavar="FILE",
                        help="write nbgrader's own log (every step it takes) to FILE")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    parser.add_argument("--timings", action="store_true",
                        help="also print where the time went (start-up, workers, grading, recording)")


def run(args: argparse.Namespace) -> int:
    from grading.frontends.class_grading import CourseError, autograde_course

    def progress(line: str) -> None:
        print(f"mnist-kit autograde: {line}", file=sys.stderr, flush=True)

    try:
        summary = autograde_course(args.course, assignment=args.assignment, student=args.student,
                                   workers=args.workers, dask_scheduler=args.dask_scheduler,
                                   dask_timeout=args.dask_timeout, force=args.force,
                                   log_file=args.log.resolve() if args.log else None,
                                   progress=None if args.quiet else progress)
    except CourseError as error:
        raise CommandError(str(error)) from None
    print(f"mnist-kit autograde: {summary.line()}")
    for line in summary.failure_lines():
        print(line)
    if summary.recovered:
        print(f"  {summary.recovered} submission(s) left half-recorded by a run that was killed were graded again")
    if args.timings:
        print(f"  {summary.timing_line()}")
    if summary.interrupted:
        return INTERRUPTED
    return 1 if summary.failed else 0
