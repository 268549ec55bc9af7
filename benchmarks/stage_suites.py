"""How long `python -m pytest exercises/NN_name` takes, for every stage, as a learner runs it.

    .venv/bin/python benchmarks/stage_suites.py            # 3 runs of each, median
    .venv/bin/python benchmarks/stage_suites.py --runs 5

Each stage's suite runs in a fresh process, from a temporary copy of exercises/ holding
either the shipped stubs or the reference solution (the slower case: every check runs).
The figure includes starting Python and importing NumPy, matplotlib and pytest, which is
what a learner waits for. The target is under 3 seconds per stage.
"""

import argparse
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
from grading.stubs import render_learner_file  # noqa: E402


def copy_exercises(folder: Path, *, solved: bool) -> Path:
    """exercises/ copied into `folder`, with the reference solution in every learner file if `solved`."""
    target = folder / "exercises"
    shutil.copytree(EXERCISES_DIR, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    if solved:
        for stage in STAGES:
            text = render_learner_file(stage.reference_file.read_text(encoding="utf-8"), stage, solved=True)
            stage.learner_file(target).write_text(text, encoding="utf-8")
    return folder


def time_suite(cwd: Path, folder: str) -> float:
    """Wall-clock seconds of one `python -m pytest exercises/<folder>` run."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"exercises/{folder}"],
                   cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per stage and case (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        trees = {case: copy_exercises(Path(scratch) / case, solved=case == "solved") for case in ("stubs", "solved")}
        print("| stage | stubs (s) | reference solution (s) |")
        print("| --- | --- | --- |")
        for stage in STAGES:
            medians = [statistics.median(time_suite(trees[case], stage.folder) for _ in range(args.runs))
                       for case in ("stubs", "solved")]
            print(f"| {stage.folder} | {medians[0]:.2f} | {medians[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
