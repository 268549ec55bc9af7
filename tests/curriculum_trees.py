"""Helpers for the curriculum tests: temporary copies of exercises/ and pytest runs in them.

A "tree" is a folder holding a copy of the kit's exercises/ in which some learner
files are replaced (by the solved reference, an alternative, a mistake...). The
suites are then run the way a learner runs them, `python -m pytest exercises/...`
in a fresh process, from the tree's folder.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from grading.checks.registry import checks_for
from grading.stages import EXERCISES_DIR, STAGES, Stage, get_stage
from grading.build.stubs import render_learner_file

TESTS_DIR = Path(__file__).resolve().parent
MISTAKES_DIR = TESTS_DIR / "mistakes"
ALTERNATIVES_DIR = TESTS_DIR / "alternatives"


def expectations(path: Path) -> dict[str, str]:
    """{test name: phrase}, in order, from a learner file's `# EXPECT test_x: phrase` header lines
    (the mistake catalogue, tests/mistakes/, and the wild files, tests/wild/)."""
    return dict(re.findall(r"^# EXPECT (test_\w+): (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE))


def graded_function(test: str) -> str:
    """The function a stage test grades: test_relu -> relu, test_bonus_save_params -> save_params."""
    return test.removeprefix("test_").removeprefix("bonus_")


def solved_text(stage: Stage) -> str:
    """A complete, correct learner file: the reference module with its solutions kept."""
    return render_learner_file(stage.reference_file.read_text(encoding="utf-8"), stage, solved=True)


def suite_tests(stage: Stage) -> list[str]:
    """The tests of the stage's suite, by name, from the stage table and the checks registry:
    test_earlier_stages_are_done (a stage built on the learner's own files), test_<function> (a
    function with core checks), test_bonus_<function> (a function with bonus checks)."""
    tests = ["test_earlier_stages_are_done"] if stage.builds_on else []
    tests += [f"test_{function}" for function in stage.functions if checks_for(stage, function, bonus=False)]
    tests += [f"test_bonus_{function}" for function in stage.functions if checks_for(stage, function, bonus=True)]
    return tests


def make_tree(folder: Path, files: dict[str, str] | None = None, *, solved: bool = True) -> Path:
    """Copy exercises/ into `folder`; learner files solved (or stubs), then `files` written over.

    Args:
        folder: where to put the copy (created); the exercises end up in folder / "exercises".
        files: {stage key: text of that stage's learner file}.
        solved: start from the reference solution of every stage (else from the shipped stubs).
    """
    target = folder / "exercises"
    shutil.copytree(EXERCISES_DIR, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    if solved:
        for stage in STAGES:
            stage.learner_file(target).write_text(solved_text(stage), encoding="utf-8")
    for key, text in (files or {}).items():
        get_stage(key).learner_file(target).write_text(text, encoding="utf-8")
    return folder


def run_pytest(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m pytest ARGS` in `cwd`, as a learner runs it (output captured as text)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@dataclass
class SuiteResult:
    """What one stage suite reported in a batch: test name -> failure message (None when it passed).

    A bonus test whose extra fails is reported xfailed, not failed (it does not keep the stage from
    being done): it counts among `failed` with its message, and its name is in `xfailed` too.
    """

    outcomes: dict[str, str | None]
    xfailed: set[str] = field(default_factory=set)

    @property
    def failed(self) -> set[str]:
        return {name for name, message in self.outcomes.items() if message is not None}


def run_batch(folder: Path, trees: dict[str, tuple[Path, str, list[str] | None]], *,
              workers: int = 2) -> dict[str, SuiteResult]:
    """Run many stage suites in a few pytest processes (`workers` at a time) and report each.

    Args:
        folder: a scratch folder; every tree must lie inside it.
        trees: {name: (tree folder, stage folder name, the tests to run or None for all)}.

    The learner's command is `python -m pytest exercises/NN_name`; to run dozens of
    trees in one process (for speed) this adds --import-mode=importlib, so that the
    same test file name can appear in several trees, and reads the results from
    JUnit XML reports.
    """
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    suites = {str((tree / "exercises" / stage_folder).relative_to(folder)): name
              for name, (tree, stage_folder, _) in trees.items()}
    arguments = []
    for name, (tree, stage_folder, tests) in trees.items():
        suite = (tree / "exercises" / stage_folder).relative_to(folder)
        if tests is None:
            arguments.append([str(suite)])
        else:
            test_file = get_stage(stage_folder).test_file
            arguments.append([f"{suite}/{test_file}::{test}" for test in tests])
    chunks = [[arg for group in arguments[index::workers] for arg in group] for index in range(workers)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    running = []
    for index, paths in enumerate(chunk for chunk in chunks if chunk):
        report = folder / f"report{index}.xml"
        command = [sys.executable, "-m", "pytest", "-c", "pytest.ini", "--rootdir", ".", "-p", "no:cacheprovider",
                   "--import-mode=importlib", "-q", "-o", "junit_family=xunit1", f"--junitxml={report}", *paths]
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        running.append((process, report))
    results = {name: SuiteResult({}) for name in trees}
    for process, report in running:
        output, _ = process.communicate(timeout=600)
        if not report.is_file():
            raise AssertionError(f"pytest wrote no report:\n{output}")
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            file = case.get("file", "")
            name = next((n for prefix, n in suites.items() if file.startswith(prefix + "/")), None)
            if name is None:
                raise AssertionError(f"a test outside the trees ran: {file}::{case.get('name')}\n{output}")
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            message = None
            if problem is not None:
                message = (problem.get("message") or "") + "\n" + (problem.text or "")
            skipped = case.find("skipped")
            if problem is None and skipped is not None and skipped.get("type") == "pytest.xfail":
                message = skipped.get("message") or ""
                results[name].xfailed.add(case.get("name"))
            results[name].outcomes[case.get("name")] = message
    return results
