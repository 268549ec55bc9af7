"""Regenerate every generated file of the curriculum from the reference modules.

    python -m grading.build           # write the learner stubs in exercises/, the notebooks in grader/
                                      # and the student edition in grader/student/
    python -m grading.build --check   # only compare; exit status 1 when one is out of date

The stubs are the learner's own files once the kit is cloned, so run this only
when a reference module in solutions/ changes (a kit test fails until you do).
The student edition's recorded data is recorded again only for the stages whose
inputs changed (grading/build/student_edition.py).
"""

import argparse
import sys
from pathlib import Path

from kit_helpers import atomic_write

from . import student_edition
from .notebooks import generated_files as course_files
from ..stages import EXERCISES_DIR, REPO_ROOT, STAGES
from .stubs import render_learner_file


def stub_files(exercises_dir: Path = EXERCISES_DIR) -> dict[Path, str]:
    """The learner's stub of every stage (its path inside `exercises_dir`) and the text it must hold."""
    files = {}
    for stage in STAGES:
        source = stage.reference_file.read_text(encoding="utf-8")
        files[stage.learner_file(exercises_dir)] = render_learner_file(source, stage)
    return files


def generated_files(exercises_dir: Path = EXERCISES_DIR) -> dict[Path, str]:
    """Every generated file (its path) and the text it must hold."""
    files = stub_files(exercises_dir)
    files.update(course_files())  # the nbgrader course (grading/build/notebooks.py)
    files.update(student_edition.code_files())  # the student edition's code (its data: outdated_data)
    return files


def outdated_files(exercises_dir: Path = EXERCISES_DIR) -> list[Path]:
    """The generated files that are missing or differ from the generator's output (data included)."""
    stale = [path for path, text in generated_files(exercises_dir).items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    return stale + outdated_data()


def outdated_data() -> list[Path]:
    """The student edition's data files that must be recorded again (or removed)."""
    stale = [student_edition.data_path(function) for stage in student_edition.outdated_stages()
             for function in stage.functions]
    return stale + student_edition.stray_data()


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date files")
    parser.add_argument("--exercises", type=Path, default=EXERCISES_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stale = outdated_files(args.exercises)
    if args.check:
        for path in stale:
            print(f"out of date: {_shown(path)} (run python -m grading.build)")
        return 1 if stale else 0
    for path, text in generated_files(args.exercises).items():
        if path in stale:
            with atomic_write(path) as file:
                file.write(text.encode("utf-8"))
            print(f"wrote {_shown(path)}")
    stages = student_edition.outdated_stages()
    if stages or student_edition.stray_data():
        print(f"recording the student edition's checks of {', '.join(s.folder for s in stages) or 'no stage'} ...")
        student_edition.write_data(stages, log=lambda line: print(line.replace(str(REPO_ROOT) + "/", "")))
    if not stale:
        print("all generated files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
