"""How fast a whole class is graded: `nbgrader autograde "*"` against `mnist-kit autograde`, in one run.

    .venv/bin/python benchmarks/class_grading.py                    # 30 students x 5 notebooks
    .venv/bin/python benchmarks/class_grading.py --students 300 --workers 1 2 --repeats 2

Builds a synthetic course (grader/ copied, every stage released with nbgrader
generate_assignment, then N students x 5 notebooks, a seeded mix of what a class
hands in: the reference typed in, one mistake of the catalogue tests/mistakes/,
half done, not started, a function that raises), copies it once per contender and
times each on its own copy, round-robin when repeated:

    nbgrader autograde "*"                         (serial; each notebook in the sealed worker)
    mnist-kit autograde --workers W                 for each W of --workers

and prints, for each: wall-clock seconds, notebooks per minute, the speed-up over
nbgrader, the CPU seconds of the command and everything it started, and mnist-kit's own
account of where its time went (--timings). Scores are compared cell by cell: every
contender must give the same, and the script says if one does not. The machine is
shared: the load average is printed before and after each run; measure again when it is
high. Nothing is asserted (tests/ checks correctness, never time).
"""

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

from class_course import ALL, Course, mistake_body, mistake_files, solved, with_body  # noqa: E402
from grading.stages import get_stage  # noqa: E402

#: what a student hands in for one stage, and how often (shares of the class)
MIX = (("correct", 0.45), ("mistake", 0.30), ("half done", 0.10), ("not started", 0.10), ("raises", 0.05))


def submission(course: Course, stage: str, kind: str, rng: random.Random) -> dict:
    release = course.release(stage)
    functions = list(get_stage(stage).functions)
    if kind == "correct":
        return solved(release, stage)
    if kind == "not started":
        return release
    if kind == "half done":
        return solved(release, stage, skip=tuple(rng.sample(functions, len(functions) // 2 + 1)))
    if kind == "raises":
        function = rng.choice(functions)
        return with_body(solved(release, stage, skip=(function,)), function,
                         "    raise ValueError('not sure what goes here')\n")
    path = rng.choice(mistake_files(stage))
    function, body, _ = mistake_body(path)
    return with_body(solved(release, stage, skip=(function,)), function, body)


def build(folder: Path, students: int, seed: int) -> tuple[Course, dict[str, int]]:
    course = Course.generate(folder)
    rng = random.Random(seed)
    kinds, weights = zip(*MIX)
    counts = {kind: 0 for kind in kinds}
    for number in range(students):
        for stage in ALL:
            kind = rng.choices(kinds, weights)[0]
            counts[kind] += 1
            course.submit(f"student{number:04d}", stage, submission(course, stage, kind, rng))
    return course, counts


def timed(course: Course, argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its children, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = course.run(argv, timeout=24 * 3600, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}:\n{(result.stdout + result.stderr)[-3000:]}")
    return wall, cpu, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each contender (the median is shown)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="build the courses in this folder and keep them")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="class-grading-")) if args.keep is None else args.keep
    try:
        print(f"building {args.students} students x {len(ALL)} notebooks (seed {args.seed}) ...", flush=True)
        template, counts = build(scratch / "template", args.students, args.seed)
        notebooks = args.students * len(ALL)
        print("mix: " + ", ".join(f"{kind} {count}" for kind, count in counts.items()))
        contenders = [('nbgrader autograde "*"', [str(Path(sys.executable).parent / "nbgrader"), "autograde", "*"])]
        contenders += [(f"mnist-kit autograde --workers {w}",
                        [sys.executable, "-m", "solutions", "autograde", "--course", ".", "--workers", str(w),
                         "--quiet", "--timings"]) for w in args.workers]
        walls: dict[str, list[float]] = {name: [] for name, _ in contenders}
        cpus: dict[str, list[float]] = {name: [] for name, _ in contenders}
        scores: dict[str, dict] = {}
        notes: dict[str, str] = {}
        for repeat in range(args.repeats):
            for index, (name, argv) in enumerate(contenders):
                course = template.copy(scratch / f"run{repeat}-{index}")
                load_before = os.getloadavg()[0]
                wall, cpu, output = timed(course, argv)
                load_after = os.getloadavg()[0]
                walls[name].append(wall)
                cpus[name].append(cpu)
                scores[name] = course.cell_scores()
                timing = [line.strip() for line in output.splitlines() if line.strip().startswith("time:")]
                notes[name] = timing[0] if timing else ""
                print(f"  run {repeat + 1}: {name:<34} {wall:7.1f} s wall, {cpu:7.1f} s CPU "
                      f"(load average {load_before:.1f} -> {load_after:.1f})", flush=True)
                shutil.rmtree(course.root.parent, ignore_errors=True)
        baseline = statistics.median(walls[contenders[0][0]])
        print(f"\n{notebooks} notebooks ({args.students} students x {len(ALL)}), median of {args.repeats}; "
              f"{os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}\n")
        print("| command | wall s | notebooks/min | speed-up | CPU s |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, _ in contenders:
            wall = statistics.median(walls[name])
            print(f"| `{name}` | {wall:.1f} | {60 * notebooks / wall:.0f} | {baseline / wall:.1f}x | "
                  f"{statistics.median(cpus[name]):.1f} |")
        for name, note in notes.items():
            if note:
                print(f"\n{name}: {note}")
        reference = scores[contenders[0][0]]
        for name, _ in contenders[1:]:
            differ = {key: (reference.get(key), scores[name].get(key))
                      for key in set(reference) | set(scores[name]) if reference.get(key) != scores[name].get(key)}
            print(f"\nscores of {name}: " + ("the same as nbgrader's, cell by cell" if not differ else
                                            f"{len(differ)} differ from nbgrader's: {sorted(differ.items())[:5]}"))
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
