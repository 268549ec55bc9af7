"""How long does `python -m pytest exercises/<stage>` take, for each stage?

    .venv/bin/python benchmarks/stage_test_times.py            # under a minute
    .venv/bin/python benchmarks/stage_test_times.py --repeats 5

Times each stage's suite as a learner runs it, in a fresh Python process
(interpreter start-up and imports included), twice over:

    stubs    the shipped files, nothing written yet: every check stops at the
             first NotImplementedError
    solved   every learner file replaced by the reference solution (what
             grading.stubs.render_learner_file(..., solved=True) makes, in a
             temporary copy of exercises/): every check runs to the end

and prints the median wall-clock seconds of --repeats runs, with the pytest
summary line of the last one. The goal is under 3 seconds per stage.
This is a benchmark, not a test: it checks no numbers.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading.stages import EXERCISES_DIR, STAGES
from grading.stubs import render_learner_file


def solved_copy(destination: Path) -> Path:
    """A copy of exercises/ under `destination` with every learner file solved."""
    exercises = destination / "exercises"
    shutil.copytree(EXERCISES_DIR, exercises, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for stage in STAGES:
        source = stage.reference_file.read_text(encoding="utf-8")
        stage.learner_file(exercises).write_text(render_learner_file(source, stage, solved=True), encoding="utf-8")
    return exercises


def time_suite(folder: Path, cwd: Path, repeats: int) -> tuple[float, str]:
    """Median seconds of `python -m pytest <folder>` run from `cwd`, and its last summary line."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)]
    seconds = []
    summary = ""
    for _ in range(repeats):
        start = time.perf_counter()
        run = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        lines = [line for line in run.stdout.splitlines() if line.strip()]
        summary = lines[-1].strip("= ") if lines else f"no output (exit {run.returncode})"
    return statistics.median(seconds), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per suite (default 3)")
    args = parser.parse_args(argv)

    print(f"{'stage':22} {'stubs (s)':>9}  {'solved (s)':>10}  solved summary")
    with tempfile.TemporaryDirectory(prefix="mnist-kit-stage-times-") as temporary:
        solved = solved_copy(Path(temporary))
        for stage in STAGES:
            if not (EXERCISES_DIR / stage.folder / stage.test_file).is_file():
                print(f"{stage.folder:22} (no test file yet)")
                continue
            stub_seconds, _ = time_suite(EXERCISES_DIR / stage.folder, EXERCISES_DIR.parent, args.repeats)
            solved_seconds, summary = time_suite(solved / stage.folder, Path(temporary), args.repeats)
            print(f"{stage.folder:22} {stub_seconds:9.2f}  {solved_seconds:10.2f}  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
