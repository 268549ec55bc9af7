"""`mnist-kit autograde`: a whole class graded on every core (or a Dask cluster), recorded as nbgrader does.

    summary = autograde_course(Path("grader"), workers=4)              # or dask_scheduler="tcp://host:8786"
    print(summary.line())                                              # graded / failed to grade / skipped

What runs where:

    the submitting process (this one)                     grading processes (local_workers.py, dask_workers.py)
    ---------------------------------                     ---------------------------------------------------
    check the course: config, submitted/, gradebook
    nbgrader's list of submissions; skip what nbgrader
      would skip (already graded, not newer)
    each notebook sanitized by the course's own      ──►  grade_task (grading_tasks.py): the cells run in
      sanitize preprocessors (nbgrader's code)             the sealed worker, every check of every test
                                                           cell runs; the result comes back as data
    when all of a student's work is back, the       ◄──
      student is recorded in ONE transaction
      (gradebook_transaction.py) by nbgrader's own Autograde: the student, the submission and
      its timestamp, the files copied from source/, missing notebooks scored 0, the sanitized
      notebook written where nbgrader's sanitize step writes it (the sanitize preprocessors
      only read, so their output from before grading stands), then the autograde
      preprocessors with SealedExecute replaced by ApplyResult (the result already computed,
      written by nbgrader_sealed.apply_result), then IgnorePattern, LimitOutput,
      SaveAutoGrades, AssignLatePenalties, CheckCellMetadata as configured. The notebooks
      are written to a staging folder (.autograding/ in the course) and moved into
      autograded/ just before the commit.

So the gradebook and autograded/ are what `nbgrader autograde` writes (the same scores, the
same notebooks), and `nbgrader generate_feedback` / `nbgrader export` work unchanged. Only
this process touches the gradebook.

Failures: a submission that cannot be graded (a notebook that is not JSON, metadata nbgrader
refuses, a grading process that died or ran past its deadline, a worker that could not start)
does not stop the others. It is recorded as scored 0 with every graded cell flagged for manual
grading (`needs_manual_grade`), its autograded/ folder removed as nbgrader does on a failure,
and the summary names it with the reason: a failed regrade never leaves an old score looking
current. Ctrl-C: a student being recorded is finished first, then the run stops; every student
is either fully recorded or not touched. A run killed outright (SIGKILL, power) leaves its
staging folder behind: the next run grades those submissions again.
"""

import contextlib
import fnmatch
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

#: the course folder where a student's notebooks are written before they move into autograded/
STAGING = ".autograding"
#: seconds between progress lines
PROGRESS_SECONDS = 5.0


class CourseError(Exception):
    """The course cannot be graded as asked (the message is one line for the instructor)."""


@dataclass
class Summary:
    """What a run did, submission by submission (student, assignment)."""

    graded: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    notebooks: int = 0
    students: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    where: str = ""
    recovered: int = 0
    unrecorded: set = field(default_factory=set)   # failed, and not even that could be written
    timings: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        skipped = f"{len(self.skipped)} skipped"
        reasons = sorted({reason for _, _, reason in self.skipped})
        if reasons:
            skipped += f" ({'; '.join(reasons)})"
        rate = f", {60 * self.notebooks / self.seconds:.0f} notebooks/min" if self.seconds > 0 and self.notebooks else ""
        text = (f"{len(self.graded)} graded, {len(self.failed)} failed to grade, {skipped}; "
                f"{self.notebooks} notebook{'s' if self.notebooks != 1 else ''} of {self.students} "
                f"student{'s' if self.students != 1 else ''} on {self.where} in {_duration(self.seconds)}{rate}")
        if self.interrupted:
            text = "interrupted (Ctrl-C) after " + text + " - every student is fully recorded or not at all; " \
                                                          "run it again to grade the rest"
        return text

    def failure_lines(self) -> list[str]:
        return [f"  failed: {student} / {assignment}: {reason}" + (
                    "" if (student, assignment) in self.unrecorded else " - scored 0 and flagged for manual grading")
                for student, assignment, reason in self.failed]

    def timing_line(self) -> str:
        t = self.timings
        return ("time: nbgrader and the course's config {setup:.1f} s; workers ready after {ready:.1f} s "
                "(imports {imports:.1f} s, sandbox {sandbox:.1f} s); grading {grading:.1f} s in the workers "
                "({per_notebook:.2f} s per notebook); here: sanitize {sanitize:.1f} s (CPU {sanitize_cpu:.1f} s), "
                "record {record:.1f} s (CPU {record_cpu:.1f} s)"
                ).format(**{key: t.get(key, 0.0) for key in
                            ("setup", "ready", "imports", "sandbox", "grading", "per_notebook", "sanitize",
                             "sanitize_cpu", "record", "record_cpu")})


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds} s"


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- checking the course
def check_config_file(course: Path) -> None:
    """The course folder exists and its nbgrader_config.py loads (nbgrader itself would only log a failure)."""
    if not course.is_dir():
        raise CourseError(f"{course} is not a folder (give the nbgrader course folder with --course)")
    config = course / "nbgrader_config.py"
    if not config.is_file():
        raise CourseError(f"{course} has no nbgrader_config.py: is it an nbgrader course folder?")
    from traitlets.config.loader import PyFileConfigLoader

    try:
        PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    except BaseException as error:  # noqa: B036 - a config file may raise anything, SystemExit included
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise CourseError(f"{config} does not load ({type(error).__name__}: {reason})") from None


def check_gradebook(db_url: str) -> Path | None:
    """An SQLite gradebook exists and is nbgrader's (read only: nothing is created or changed)."""
    if not db_url.startswith("sqlite:///"):
        return None  # another database: nbgrader's own errors say what is wrong with it
    path = Path(db_url[len("sqlite:///"):])
    if not path.is_file():
        raise CourseError(f"no gradebook at {path}: run `nbgrader generate_assignment` for each assignment "
                          f"first (it creates the gradebook)")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"assignment", "notebook", "grade_cells", "alembic_version"} <= tables:
                raise CourseError(f"{path} is an SQLite database but not an nbgrader gradebook "
                                  f"(it has no nbgrader tables)")
            version = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise CourseError(f"{path} is not a readable gradebook ({error})") from None
    if version is None or version[0] != _nbgrader_schema():
        raise CourseError(f"{path} was written by another version of nbgrader: back it up, then run "
                          f"`nbgrader db upgrade`")
    return path


def _nbgrader_schema() -> str:
    """The gradebook schema this nbgrader writes (its newest alembic revision; nbgrader's own
    get_alembic_version runs the `alembic` command and writes /tmp/gradebook.db to find out)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def gradebook_assignments(db_url: str) -> list[str]:
    """The assignments in the gradebook, read without writing anything."""
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return sorted(name for (name,) in db.execute("SELECT name FROM assignment"))
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return sorted(assignment.name for assignment in gradebook.assignments)


# ----------------------------------------------------------------------------- nbgrader, adapted
def _stamp(path: str) -> tuple[int, int]:
    """(size, modification time) of a submitted file: that it is still the one sanitized."""
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def _make_converter_classes():
    """ApplyResult and ClassAutograde (defined late: importing nbgrader takes seconds)."""
    from traitlets.utils.importstring import import_item
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import NbGraderPreprocessor

    from .nbgrader_sealed import SealedExecute, apply_result

    class SubmissionChanged(RuntimeError):
        pass

    class ApplyResult(NbGraderPreprocessor):
        """SealedExecute's place in the autograde preprocessors: the result grading computed for this notebook."""

        results: dict = {}

        def preprocess(self, nb, resources):
            info = resources["nbgrader"]
            result = self.results[(info["student"], info["assignment"], info["notebook"])]
            apply_result(nb, result.stage, result)
            return nb, resources

    def is_sealed_execute(entry: Any) -> bool:
        if isinstance(entry, str):
            entry = import_item(entry)
        return (isinstance(entry, type) and issubclass(entry, SealedExecute)) or isinstance(entry, SealedExecute)

    class ClassAutograde(Autograde):
        """nbgrader's Autograde, split in two: sanitize (before grading) and record (after it), staged."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.results: dict = {}
            self.sanitized_output: dict = {}
            self._staging = False

        @property
        def _input_directory(self) -> str:
            if self._sanitizing:
                return self.coursedir.submitted_directory
            return STAGING if self._staging else self.coursedir.autograded_directory

        @property
        def _output_directory(self) -> str:
            return STAGING if self._staging else self.coursedir.autograded_directory

        def uses_sealed_grading(self) -> bool:
            return any(is_sealed_execute(entry) for entry in self.autograde_preprocessors)

        def _init_preprocessors(self) -> None:
            self.exporter._preprocessors = []
            if self._sanitizing:
                for entry in self.sanitize_preprocessors:
                    self.exporter.register_preprocessor(entry)
                return
            for entry in self.autograde_preprocessors:
                if is_sealed_execute(entry):
                    applier = ApplyResult(parent=self.exporter)
                    applier.results = self.results
                    self.exporter.register_preprocessor(applier)
                else:
                    self.exporter.register_preprocessor(entry)

        def start_exporter(self) -> None:
            from nbconvert.writers import FilesWriter

            self.writer = FilesWriter(parent=self, config=self.config)
            self.exporter = self.exporter_class(parent=self, config=self.config)

        def sanitized(self, notebook_filename: str) -> tuple[str, dict]:
            """The first half of nbgrader's Autograde.convert_single_notebook: the notebook after the
            course's sanitize preprocessors (nbformat text, and its resources), nothing written yet."""
            self._sanitizing = True
            self._init_preprocessors()
            resources = self.init_single_notebook_resources(notebook_filename)
            return self.exporter.from_filename(notebook_filename, resources=resources)

        def autograde_sanitized(self, notebook_filename: str, sanitized: tuple[str, dict, Any]) -> None:
            """The second half: the sanitized notebook written where nbgrader writes it, then the
            autograde preprocessors on it (the sanitize preprocessors only read the gradebook and the
            notebook, so their output from before grading is what running them again would give;
            the submitted file is checked to be the one sanitized)."""
            import copy

            from nbgrader import utils

            output, resources, stamp = sanitized
            if _stamp(notebook_filename) != stamp:
                raise SubmissionChanged("the submitted notebook changed while it was graded: grade it again")
            self.write_single_notebook(output, copy.deepcopy(resources))
            graded = os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))
            self._sanitizing = False
            self._init_preprocessors()
            try:
                with utils.setenv(NBGRADER_EXECUTION="autograde"):
                    super(Autograde, self).convert_single_notebook(graded)
            finally:
                self._sanitizing = True

        def record(self, assignment: str, student: str, notebooks: list[str], failed: dict[str, str]) -> None:
            """nbgrader's autograding of one submission, into the staging folder, with the results
            in self.results; the notebooks of `failed` ({notebook id: reason}) scored 0 and flagged."""
            from nbgrader.api import Gradebook, MissingEntry

            self._staging = True
            try:
                self.notebooks = sorted(notebooks)
                self.run_pre_convert_hook()
                try:
                    self.init_assignment(assignment, student)
                except Exception:
                    if not failed:
                        raise  # else: nothing of it can be graded anyway; its old scores are zeroed below
                for notebook in self.notebooks:
                    if Path(notebook).stem not in failed:
                        self.autograde_sanitized(notebook, self.sanitized_output[(student, assignment,
                                                                                   Path(notebook).stem)])
                if failed:
                    with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                        for notebook_id in failed:
                            try:
                                submitted = gradebook.find_submission_notebook(notebook_id, assignment, student)
                            except MissingEntry:
                                continue
                            for grade in submitted.grades:
                                grade.auto_score = 0
                                grade.needs_manual_grade = True
                        gradebook.db.commit()
                else:
                    self.set_permissions(assignment, student)
                self.run_post_convert_hook()
            finally:
                self._staging = False
                self._sanitizing = True

    return ClassAutograde, SubmissionChanged


@contextlib.contextmanager
def _schema_checked_once():
    """nbgrader validates every cell's nbgrader metadata with jsonschema.validate(metadata, schema),
    which checks the (constant) schema itself before each cell: three quarters of what recording
    a notebook cost here. While this is active, the schema is checked once, each cell is validated
    as jsonschema.validate does it (the same error, best_match, for invalid metadata), and metadata
    already found valid (the same cell in another student's notebook) is not validated again."""
    import jsonschema
    from nbgrader.nbgraderformat import common

    validators: dict[int, Any] = {}
    valid: set[str] = set()  # metadata seen valid: a class's cells mostly carry the same

    class Once:
        ValidationError = jsonschema.ValidationError

        @staticmethod
        def validate(instance: Any, schema: Any, *args: Any, **kwargs: Any) -> None:
            if args or kwargs:
                return jsonschema.validate(instance, schema, *args, **kwargs)
            try:
                seen = json.dumps([id(schema), instance], sort_keys=True)
            except (TypeError, ValueError):
                seen = None
            if seen is not None and seen in valid:
                return
            entry = validators.get(id(schema))
            if entry is None or entry[0] is not schema:
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                entry = validators[id(schema)] = (schema, cls(schema))
            error = jsonschema.exceptions.best_match(entry[1].iter_errors(instance))
            if error is not None:
                raise error
            if seen is not None:
                valid.add(seen)

        def __getattr__(self, name: str) -> Any:
            return getattr(jsonschema, name)

    original = common.jsonschema
    common.jsonschema = Once()
    try:
        yield
    finally:
        common.jsonschema = original


@contextlib.contextmanager
def _quiet_orm():
    """nbgrader's use of SQLAlchemy warns ("Object of type <SubmittedAssignment> not in session ...",
    autoflush while it builds a submission) on every submission, harmlessly: not on our stderr."""
    import warnings

    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        yield


# ----------------------------------------------------------------------------- Ctrl-C
class _Interrupts:
    """SIGINT raises KeyboardInterrupt, except inside `deferred()`, where it waits for the block's end."""

    def __init__(self) -> None:
        self.requested = False
        self.deferring = False
        self.previous = None

    def __enter__(self) -> "_Interrupts":
        if sys.platform != "win32":
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
            except ValueError:  # not the main thread: Ctrl-C is someone else's business
                self.previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        if not self.deferring:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self):
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.requested:
            raise KeyboardInterrupt


# ----------------------------------------------------------------------------- the run
@dataclass
class _Submission:
    student: str
    assignment: str
    notebooks: list[str]                       # paths in submitted/
    failed: dict[str, str] = field(default_factory=dict)   # notebook id -> reason
    waiting: set = field(default_factory=set)  # notebook ids still being graded
    sent: bool = False
    recorded: bool = False


def autograde_course(course: Path, *, assignment: str = "*", student: str = "*", workers: int | None = None,
                     dask_scheduler: str | None = None, dask_timeout: float = 10.0, force: bool = False,
                     log_file: Path | None = None, progress: Callable[[str], None] | None = None,
                     progress_seconds: float = PROGRESS_SECONDS) -> Summary:
    """Grade the course's submissions (see the module docstring); CourseError for bad input
    (raised before anything is written)."""
    began = time.monotonic()
    course = Path(course).resolve()
    check_config_file(course)
    pool = None
    summary = Summary()
    try:
        if not dask_scheduler:  # the workers warm up while nbgrader loads here
            from .local_workers import LocalWorkers

            pool = LocalWorkers(workers or default_workers(), deadline=DEFAULT_DEADLINE)
        with _in_folder(course):
            app, converter_class, changed_error = _nbgrader_app(course, assignment, student, force, log_file)
            coursedir = app.coursedir
            if not Path(coursedir.submitted_directory if os.path.isabs(coursedir.submitted_directory)
                        else course / coursedir.submitted_directory).is_dir():
                raise CourseError(f"{course} has no {coursedir.submitted_directory}/ folder: collect the "
                                  f"submissions first (nbgrader collect, or copy each to "
                                  f"{coursedir.submitted_directory}/<student>/<assignment>/)")
            check_gradebook(coursedir.db_url)
            known = gradebook_assignments(coursedir.db_url)
            if assignment != "*" and not fnmatch.filter(known, assignment):
                raise CourseError(f"unknown assignment {assignment!r}: the gradebook has "
                                  f"{', '.join(known) or 'no assignments (run nbgrader generate_assignment)'}")
            converter = converter_class(coursedir=coursedir, parent=app)
            converter.start_exporter()
            if not converter.uses_sealed_grading():
                raise CourseError(f"{course}/nbgrader_config.py does not grade in the kit's sealed worker "
                                  f"(Autograde.autograde_preprocessors has no SealedExecute): mnist-kit "
                                  f"autograde grades only such courses")
            if dask_scheduler:
                from .dask_workers import DaskUnavailable, DaskWorkers

                try:
                    pool = DaskWorkers(dask_scheduler, connect_seconds=dask_timeout)
                except DaskUnavailable as error:
                    raise CourseError(str(error)) from None
            else:
                pool.deadline = _deadline(app)
            summary.where = pool.description
            summary.timings["setup"] = time.monotonic() - began
            with _Interrupts() as interrupts, _schema_checked_once(), _quiet_orm():
                _Run(app, converter, changed_error, pool, summary, interrupts, progress, progress_seconds,
                     known).run()
    except BaseException:
        if pool is not None:
            pool.close(now=True)  # bad input, or a bug: the workers are not waited for
            pool = None
        raise
    finally:
        if pool is not None:
            pool.close(now=summary.interrupted)
    summary.seconds = time.monotonic() - began
    return summary


@contextlib.contextmanager
def _in_folder(folder: Path):
    """nbgrader runs in the course folder (and reads its config from there)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _nbgrader_app(course: Path, assignment: str, student: str, force: bool, log_file: Path | None):
    """nbgrader's AutogradeApp, configured as `nbgrader autograde` run in the course folder would be."""
    from nbgrader.apps.autogradeapp import AutogradeApp

    argv = [assignment, f"--student={student}"] + (["--force"] if force else [])
    app = AutogradeApp()
    app.initialize(argv)
    app.coursedir.assignment_id = assignment
    logger = app.log
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = False
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    else:
        logger.addHandler(logging.NullHandler())
        logger.setLevel(logging.ERROR)
    converter_class, changed_error = _make_converter_classes()
    return app, converter_class, changed_error


#: seconds a grading task may run before its process is ended (twice the notebook's limit, and a minute)
DEFAULT_DEADLINE = 2 * 300.0 + 60


def _deadline(app) -> float:
    """DEFAULT_DEADLINE for the notebook time limit the course's config sets."""
    from . import notebooks

    limit = app.config.get("SealedExecute", {}).get("notebook_time_limit", notebooks.NOTEBOOK_TIME_LIMIT)
    return 2 * float(limit) + 60


class _Run:
    """One run's state: the plan, the tasks out, the results back, the students recorded."""

    def __init__(self, app, converter, changed_error, pool, summary: Summary, interrupts: _Interrupts,
                 progress, progress_seconds: float, known: list[str]) -> None:
        from . import grading_tasks
        from .gradebook_transaction import GradebookTransactions

        self.app, self.converter, self.changed_error = app, converter, changed_error
        self.coursedir = app.coursedir
        self.pool, self.summary, self.interrupts = pool, summary, interrupts
        self.progress, self.progress_seconds = progress, progress_seconds
        self.known = set(known)
        self.transactions = GradebookTransactions(self.coursedir.db_url)
        self.limits = grading_tasks.current_limits()
        self.limits["notebook"] = float(app.config.get("SealedExecute", {}).get(
            "notebook_time_limit", self.limits["notebook"]))
        self.kit = grading_tasks.kit_fingerprint()
        self.by_student: dict[str, list[_Submission]] = defaultdict(list)
        self.open_tasks = 0
        self.notebooks_total = 0
        self.notebooks_done = 0
        self.started = time.monotonic()
        self.last_progress = self.started
        self.timings: dict[str, float] = defaultdict(float)

    # ------------------------------------------------------------ the plan
    def plan(self) -> deque[_Submission]:
        from nbgrader.converters.base import NbGraderException

        converter = self.converter
        try:
            converter.init_notebooks()
        except NbGraderException:
            who = "" if self.coursedir.student_id == "*" else f" of student {self.coursedir.student_id!r}"
            what = "" if self.coursedir.assignment_id == "*" else f" for {self.coursedir.assignment_id!r}"
            raise CourseError(f"no submissions{who}{what} in {self.coursedir.submitted_directory}/ "
                              f"(each goes to {self.coursedir.submitted_directory}/<student>/<assignment>/"
                              f"<notebook>.ipynb)") from None
        pattern = re.compile(converter._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True))
        excluded = set(filter(None, self.coursedir.student_id_exclude.split(",")))
        planned: list[_Submission] = []
        for folder in sorted(converter.assignments):
            match = pattern.match(folder)
            if match is None:
                continue
            assignment, student = match["assignment_id"], match["student_id"]
            if student in excluded:
                self.summary.skipped.append((student, assignment, "excluded by CourseDirectory.student_id_exclude"))
                continue
            notebooks = sorted(converter.assignments[folder])
            reason = self._skip_reason(assignment, student, notebooks)
            if reason:
                self.summary.skipped.append((student, assignment, reason))
                continue
            planned.append(_Submission(student, assignment, notebooks))
        planned.sort(key=lambda s: (s.student, s.assignment))
        for submission in planned:
            self.by_student[submission.student].append(submission)
        self.summary.students = len(self.by_student)
        return deque(planned)

    def _skip_reason(self, assignment: str, student: str, notebooks: list[str]) -> str:
        """nbgrader's BaseConverter.init_destination without what it deletes: why to skip, or ""."""
        coursedir = self.coursedir
        if self.converter.force:
            return ""
        dest = os.path.normpath(coursedir.format_path(coursedir.autograded_directory, student, assignment))
        if coursedir.notebook_id == "*":
            if not os.path.exists(dest):
                return ""
        elif any(not os.path.exists(os.path.join(dest, Path(n).stem + ".ipynb")) for n in notebooks):
            return ""
        new = coursedir.get_existing_timestamp(coursedir.format_path(coursedir.submitted_directory, student,
                                                                     assignment))
        old = coursedir.get_existing_timestamp(dest)
        if new is not None and old is not None and new > old:
            return ""
        return "already graded: --force grades them again"

    # ------------------------------------------------------------ the loop
    def run(self) -> None:
        with self.transactions:
            self.recover()
            queue = self.plan()
            self.notebooks_total = sum(len(s.notebooks) for s in queue)
            try:
                while queue or self.open_tasks:
                    while queue and self.open_tasks < self.pool.capacity:
                        self.send(queue.popleft())
                    for task_id, outcome in self.pool.finished(timeout=0.5):
                        self.receive(task_id, outcome)
                    self.report_progress()
            except KeyboardInterrupt:
                self.summary.interrupted = True
            finally:
                self.finish_timings()
                shutil.rmtree(Path(self.coursedir.root) / STAGING, ignore_errors=True)

    def send(self, submission: _Submission) -> None:
        """Sanitize the submission's notebooks here and hand them to the grading processes."""
        from ..stages import UnknownStageError, get_stage

        began, cpu = time.monotonic(), time.process_time()
        with self.transactions.transaction(commit=False):  # reads only: rolled back
            known = self._notebooks_of(submission.assignment)
            for path in submission.notebooks:
                name = Path(path).stem
                if known is None:
                    submission.failed[name] = (f"assignment {submission.assignment!r} is not in the gradebook "
                                               f"(run nbgrader generate_assignment {submission.assignment})")
                    continue
                if name not in known:
                    submission.failed[name] = (f"{name}.ipynb is not a notebook of {submission.assignment} "
                                               f"(it has {', '.join(sorted(known)) or 'none'})")
                    continue
                try:
                    stage = get_stage(name)
                except (KeyError, UnknownStageError):
                    submission.failed[name] = f"{name} is not one of the kit's stages"
                    continue
                try:
                    stamp = _stamp(path)
                    output, resources = self.converter.sanitized(path)
                    notebook = json.loads(output)
                except Exception as error:
                    submission.failed[name] = f"nbgrader could not read it ({_one_line(error)})"
                    continue
                key = (submission.student, submission.assignment, name)
                self.converter.sanitized_output[key] = (output, resources, stamp)
                submission.waiting.add(name)
                self.pool.submit(key, {"key": list(key), "stage": stage.folder, "notebook": notebook,
                                       "limits": self.limits, "kit": self.kit})
                self.open_tasks += 1
        submission.sent = True
        self.notebooks_done += len(submission.notebooks) - len(submission.waiting)
        self.timings["sanitize"] += time.monotonic() - began
        self.timings["sanitize_cpu"] += time.process_time() - cpu
        self.maybe_record(submission.student)

    def _notebooks_of(self, assignment: str) -> set[str] | None:
        """The notebook names of `assignment` in the gradebook (None: no such assignment)."""
        from nbgrader.api import Gradebook, MissingEntry

        if assignment not in self.known:
            return None
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            try:
                return {notebook.name for notebook in gradebook.find_assignment(assignment).notebooks}
            except MissingEntry:
                return None

    def receive(self, task_id: tuple, outcome: dict) -> None:
        from .grading_tasks import result_from_data

        self.open_tasks -= 1
        self.notebooks_done += 1
        student, assignment, name = task_id
        submission = next(s for s in self.by_student[student] if s.assignment == assignment)
        submission.waiting.discard(name)
        self.timings["grading"] += float(outcome.get("seconds") or 0.0)
        if outcome.get("ok"):
            self.converter.results[task_id] = result_from_data(outcome["result"])
        else:
            submission.failed[name] = _one_line(outcome.get("error") or "grading failed")
        self.maybe_record(student)

    def maybe_record(self, student: str) -> None:
        """Record the student once every one of their submissions is back."""
        submissions = self.by_student[student]
        if all(s.sent and not s.waiting and not s.recorded for s in submissions):
            with self.interrupts.deferred():
                began, cpu = time.monotonic(), time.process_time()
                self.record_student(student, submissions)
                self.timings["record"] += time.monotonic() - began
                self.timings["record_cpu"] += time.process_time() - cpu

    # ------------------------------------------------------------ recording
    def record_student(self, student: str, submissions: list[_Submission]) -> None:
        """Every submission of `student` in one transaction; one that nbgrader refuses is recorded
        as failed and the student again (at worst nothing of the student is written)."""
        recorded = False
        for _ in range(len(submissions) + 1):
            try:
                self._record_once(student, submissions)
                recorded = True
                break
            except _RecordingFailed as error:
                culprit = error.submission
                for name in (Path(p).stem for p in culprit.notebooks):
                    culprit.failed.setdefault(name, error.reason)
                if error.final:
                    break
        for submission in submissions:
            submission.recorded = True
            if not recorded:
                reason = "; ".join(sorted(set(submission.failed.values()))) or "nbgrader refused to record it"
                self.summary.unrecorded.add((student, submission.assignment))
                self.summary.failed.append((student, submission.assignment,
                                            f"{reason} - nothing of this student could be written: an older score "
                                            f"may still be in the gradebook, check it"))
            elif submission.failed:
                self.summary.failed.append((student, submission.assignment,
                                            "; ".join(sorted(set(submission.failed.values())))))
            else:
                self.summary.graded.append((student, submission.assignment))
            for name in (Path(p).stem for p in submission.notebooks):
                self.converter.results.pop((student, submission.assignment, name), None)
                self.converter.sanitized_output.pop((student, submission.assignment, name), None)
        self.summary.notebooks += sum(len(s.notebooks) for s in submissions)

    def _record_once(self, student: str, submissions: list[_Submission]) -> None:
        coursedir = self.coursedir
        moves: list[tuple[Path, Path]] = []
        try:
            with self.transactions.transaction(commit=True):
                for submission in submissions:
                    if submission.assignment not in self.known:
                        continue  # nothing of it can be recorded: the summary says why
                    staged = Path(coursedir.format_path(STAGING, student, submission.assignment))
                    shutil.rmtree(staged, ignore_errors=True)
                    try:
                        self.converter.record(submission.assignment, student, submission.notebooks,
                                              dict(submission.failed))
                    except Exception as error:
                        raise _RecordingFailed(submission, error, final=bool(submission.failed)) from error
                for submission in submissions:
                    moves.extend(self._swap(student, submission))
        except BaseException as error:
            for done, back in reversed(moves):  # autograded/ back as it was
                if done.exists():
                    if back.exists():
                        shutil.rmtree(back)
                    done.rename(back)
            if isinstance(error, Exception) and not isinstance(error, _RecordingFailed):
                raise _RecordingFailed(submissions[0], error, final=True) from error
            raise
        finally:
            shutil.rmtree(Path(coursedir.format_path(STAGING, student, ".")), ignore_errors=True)

    def _swap(self, student: str, submission: _Submission) -> list[tuple[Path, Path]]:
        """Move the staged notebooks into autograded/ (a failed submission: remove what was there)."""
        coursedir = self.coursedir
        final = Path(coursedir.format_path(coursedir.autograded_directory, student, submission.assignment))
        staged = Path(coursedir.format_path(STAGING, student, submission.assignment))
        old = staged.with_name(staged.name + ".replaced")
        moves = []
        if final.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            final.rename(old)
            moves.append((old, final))
        if not submission.failed and staged.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            staged.rename(final)
            moves.append((final, staged))
        return moves

    def recover(self) -> None:
        """Submissions left in the staging folder by a run killed outright are graded again."""
        import glob

        staging = Path(self.coursedir.root) / STAGING
        if not staging.exists():
            return
        for leftover in glob.glob(self.coursedir.format_path(STAGING, "*", "*")):
            left = Path(leftover)
            final = Path(self.coursedir.format_path(self.coursedir.autograded_directory, left.parent.name,
                                                    left.name.removesuffix(".replaced")))
            if final.exists():
                shutil.rmtree(final)
            self.summary.recovered += 1
        shutil.rmtree(staging, ignore_errors=True)

    # ------------------------------------------------------------ progress
    def report_progress(self) -> None:
        now = time.monotonic()
        if self.progress is None or now - self.last_progress < self.progress_seconds:
            return
        self.last_progress = now
        elapsed = now - self.started
        rate = self.notebooks_done / elapsed * 60 if elapsed > 0 else 0.0
        left = self.notebooks_total - self.notebooks_done
        eta = f", about {_duration(left / rate * 60)} left" if rate > 0 and left > 0 else ""
        self.progress(f"{self.notebooks_done} of {self.notebooks_total} notebooks graded, "
                      f"{len(self.summary.graded)} submissions recorded, {len(self.summary.failed)} failed; "
                      f"{rate:.0f} notebooks/min{eta}")

    def finish_timings(self) -> None:
        timings = self.summary.timings
        timings.update(self.timings)
        readiness = getattr(self.pool, "readiness", [])
        if readiness:
            timings["ready"] = max(r["after"] for r in readiness)
            timings["imports"] = max(r.get("imports", 0.0) for r in readiness)
            timings["sandbox"] = max(r.get("sandbox", 0.0) for r in readiness)
        if self.notebooks_done:
            timings["per_notebook"] = timings.get("grading", 0.0) / self.notebooks_done


class _RecordingFailed(Exception):
    """nbgrader refused to record `submission` (`final`: even as a failure)."""

    def __init__(self, submission: _Submission, error: BaseException, *, final: bool = False) -> None:
        self.reason = _one_line(error)
        super().__init__(self.reason)
        self.submission, self.final = submission, final


def _one_line(error: Any) -> str:
    text = str(error).strip() or type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = lines[0] if lines else text
    if isinstance(error, BaseException) and not isinstance(error, (CourseError,)) and \
            type(error).__name__ not in text and type(error).__name__ not in ("RuntimeError", "_RecordingFailed"):
        text = f"{type(error).__name__}: {text}"
    return text[:300]
