"""How long `python -m pytest exercises/NN_name` takes, for every stage, as a learner runs it.

    .venv/bin/python benchmarks/stage_suites.py            # 3 runs of each, median
    .venv/bin/python benchmarks/stage_suites.py --runs 5

Each stage's suite runs in a fresh process, from a temporary copy of exercises/ holding
either the shipped stubs or the reference solution (the slower case: every check runs).
The figure includes starting Python and importing NumPy, matplotlib and pytest, which is
what a learner waits for. The target is under 3 seconds per stage. On a busy machine the
wall-clock time grows with the load; the CPU time (user + system of the pytest process) and
the load average printed beside it say how much.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from grading.stages import EXERCISES_DIR, STAGES  # noqa: E402
from grading.build.stubs import render_learner_file  # noqa: E402


def copy_exercises(folder: Path, *, solved: bool) -> Path:
    """exercises/ copied into `folder`, with the reference solution in every learner file if `solved`."""
    target = folder / "exercises"
    shutil.copytree(EXERCISES_DIR, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    if solved:
        for stage in STAGES:
            text = render_learner_file(stage.reference_file.read_text(encoding="utf-8"), stage, solved=True)
            stage.learner_file(target).write_text(text, encoding="utf-8")
    return folder


def time_suite(cwd: Path, folder: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one `python -m pytest exercises/<folder>` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"exercises/{folder}"],
                   cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per stage and case (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        trees = {case: copy_exercises(Path(scratch) / case, solved=case == "solved") for case in ("stubs", "solved")}
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
              f"median of {args.runs} runs, wall-clock (CPU) seconds")
        print("| stage | stubs | reference solution |")
        print("| --- | --- | --- |")
        for stage in STAGES:
            cells = []
            for case in ("stubs", "solved"):
                runs = [time_suite(trees[case], stage.folder) for _ in range(args.runs)]
                wall = statistics.median(run[0] for run in runs)
                cpu = statistics.median(run[1] for run in runs)
                cells.append(f"{wall:.2f} ({cpu:.2f})")
            print(f"| {stage.folder} | {cells[0]} | {cells[1]} |", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
