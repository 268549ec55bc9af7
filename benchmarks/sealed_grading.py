"""What sealed grading costs an instructor: `nbgrader autograde` of a course, seconds per notebook.

    .venv/bin/python benchmarks/sealed_grading.py                        # this checkout, 20 students
    .venv/bin/python benchmarks/sealed_grading.py --against /tmp/old     # and another checkout (before)

For each checkout it copies that checkout's grader/ into a temporary course, runs
`nbgrader generate_assignment "*"`, hands in N students' notebooks (a third each: the
reference typed into the stubs, the stubs as released, only the first function of every
stage written) and times `nbgrader autograde "*"` alone. The other checkout's kit is put
first on PYTHONPATH, so its nbgrader_config.py and its checks are the ones that run; the
checkout before sealed grading ran every notebook in a Jupyter kernel (the kernel spec
"python3" is this Python, given in JUPYTER_PATH), this one runs them in the grading worker.
It prints seconds per notebook and the CPU time of the nbgrader process and its children.
"""

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STUB = re.compile(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)", re.MULTILINE)
BLOCK = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(?P<body>.*?)^[ \t]*### END SOLUTION", re.MULTILINE | re.DOTALL)


def solution_bodies(checkout: Path, stage: str) -> dict[str, str]:
    """{function: its solution block} from the checkout's source notebook of `stage`."""
    notebook = json.loads((checkout / "grader" / "source" / stage / f"{stage}.ipynb").read_text())
    bodies = {}
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        match = BLOCK.search("".join(cell["source"]))
        if grade_id.endswith("_code") and match:
            bodies[grade_id.removesuffix("_code")] = match["body"]
    return bodies


def handed_in(release: Path, checkout: Path, stage: str, kind: str) -> dict:
    notebook = json.loads((release / stage / f"{stage}.ipynb").read_text())
    bodies = solution_bodies(checkout, stage)
    for number, (function, body) in enumerate(bodies.items()):
        if kind == "stubs" or (kind == "first" and number > 0):
            continue
        cell = next(c for c in notebook["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == f"{function}_code")
        source = "".join(cell["source"])
        cell["source"] = STUB.sub(lambda m: body.rstrip("\n"), source, count=1)
    return notebook


def environment(checkout: Path, home: Path, kernels: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "PYTHONPATH", "NBGRADER"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), PYTHONPATH=str(checkout),
               JUPYTER_PATH=str(kernels), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               IPYTHONDIR=str(home / ".ipython"), JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    return env


def time_course(checkout: Path, students: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mnist-kit-bench-") as folder:
        root = Path(folder)
        course, home, kernels = root / "course", root / "home", root / "jupyter"
        shutil.copytree(checkout / "grader", course, ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "student", "gradebook.db", "*.csv"))
        home.mkdir()
        (kernels / "kernels" / "python3").mkdir(parents=True)
        (kernels / "kernels" / "python3" / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}))
        env = environment(checkout, home, kernels)
        nbgrader = [str(BIN / "nbgrader")]
        subprocess.run(nbgrader + ["generate_assignment", "*"], cwd=course, env=env, check=True, capture_output=True)
        stages = sorted(p.name for p in (course / "release").iterdir())
        for number in range(students):
            kind = ("reference", "stubs", "first")[number % 3]
            for stage in stages:
                target = course / "submitted" / f"student{number:03d}" / stage
                target.mkdir(parents=True)
                (target / f"{stage}.ipynb").write_text(json.dumps(handed_in(course / "release", checkout, stage, kind)))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(nbgrader + ["autograde", "*"], cwd=course, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"nbgrader autograde failed in {checkout}:\n{result.stderr[-3000:]}")
        notebooks = students * len(stages)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"checkout": str(checkout), "stages": len(stages), "notebooks": notebooks, "seconds": seconds,
                "per_notebook": seconds / notebooks, "cpu_per_notebook": cpu / notebooks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--against", type=Path, action="append", default=[],
                        help="another checkout of the kit to time the same way (e.g. the one before sealed grading)")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows = [time_course(checkout.resolve(), args.students) for checkout in [*args.against, REPO_ROOT]]
    print(f"{'checkout':<40} {'stages':>6} {'notebooks':>9} {'s total':>8} {'s/notebook':>10} {'CPU s/nb':>9}")
    for row in rows:
        print(f"{row['checkout']:<40} {row['stages']:>6} {row['notebooks']:>9} {row['seconds']:>8.1f} "
              f"{row['per_notebook']:>10.2f} {row['cpu_per_notebook']:>9.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
