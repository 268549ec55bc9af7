"""Calling the learner's code under supervision, and phrasing what went wrong.

A check never calls the learner's function directly: it calls a `LearnerFunction`,
which runs it

  * with its printed output captured (kept in `.last_output`),
  * with every NumPy floating-point warning recorded and turned into a failure
    (nbgrader scores a cell that writes to stderr as failed, and a learner should
    hear about an overflow, not see it scroll past),
  * watched by a profiler hook that notices when the code runs the reference
    solution of the stage being graded (calling earlier stages' reference
    building blocks is fine),

and turns whatever it raises into a GradingError with a teaching message: a stub's
NotImplementedError becomes "not written yet", any other exception names the
learner's line that raised it.
"""

import contextlib
import importlib
import inspect
import io
import re
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..errors import CallsReferenceError, GradingError, NotWrittenYet
from .raised_hints import explain_raised
from .shape_errors import array_shapes_on_line, format_shapes
from ..checks.show import show
from ..stages import Stage, get_stage

_STUB_MESSAGE = re.compile(r"Stage (?P<number>\d\d) \([^)]*\): implement (?P<function>\w+)\(\)")
_LIBRARY_PREFIXES = tuple({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


class LearnerFunction:
    """The learner's `function` of `stage`, callable like the original.

    Attributes:
        stage: the Stage being graded.
        name: the function's name, e.g. "softmax".
        func: the learner's function object.
        namespace: where it came from (a module or a dict such as a notebook's globals()).
        last_call: how the last call looked, e.g. "softmax(Z) with Z = [[...]]".
        last_output: what the last call printed.
    """

    def __init__(self, stage: "Stage | str", name: str, func: Callable[..., Any],
                 namespace: Mapping[str, Any] | None = None) -> None:
        self.stage = get_stage(stage)
        self.name = name
        self.func = func
        self.namespace = namespace or {}
        self.last_call = f"{name}()"
        self.last_output = ""
        self._reference_file = _reference_file(self.stage)
        self._parameter_names = _reference_parameter_names(self.stage, name)

    # ----------------------------------------------------------------- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function; see the module docstring for what is watched."""
        __tracebackhide__ = True
        self.last_call = self.describe_call(args, kwargs)
        if _code_file(self.func) == self._reference_file:
            self._fail_reference()
        output = io.StringIO()
        called_reference = False

        def watch(frame: Any, event: str, arg: Any) -> None:
            nonlocal called_reference
            if event == "call" and frame.f_code.co_filename == self._reference_file:
                called_reference = True

        previous_profile = sys.getprofile()
        watch_removed = False  # set when the function switches the watch off (sys.setprofile)
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
            warnings.simplefilter("always")
            # pyplot's reminder to close figures is not the learner's numerics (and re-running
            # a notebook's test cells would trip it): ignore it.
            warnings.filterwarnings("ignore", message="More than .* figures have been opened")
            try:
                with contextlib.redirect_stdout(output), _time_limit(CALL_TIME_LIMIT):
                    sys.setprofile(watch)
                    try:
                        result = self.func(*args, **kwargs)
                    finally:
                        watch_removed = sys.getprofile() is not watch
                        sys.setprofile(previous_profile)
            except _TooSlow:
                self.last_output = output.getvalue()
                self.fail(f"it did not return within {CALL_TIME_LIMIT:g} seconds, so grading stopped it.",
                          hint="is there a loop that never ends (a while loop whose condition never "
                               "changes, a counter that is never increased)?")
            except NotImplementedError as error:
                self.last_output = output.getvalue()
                raise self._not_written(error) from None
            except GradingError:
                raise
            except Exception as error:  # the learner's code raised: say where
                self.last_output = output.getvalue()
                if called_reference or watch_removed:
                    self._fail_reference()
                raise self._raised(error) from None
        self.last_output = output.getvalue()
        if called_reference or watch_removed:
            self._fail_reference()
        numpy_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if numpy_warnings:
            self.fail(f"NumPy warned: {numpy_warnings[0].message}.",
                      hint="a warning means a number overflowed, was divided by zero or became NaN; "
                           + _warning_hint(str(numpy_warnings[0].message)))
        return result

    def describe_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        """E.g. 'softmax(Z) with Z = [[1. 2.]]' (arguments named as in the reference signature)."""
        names = list(self._parameter_names)
        shown = []
        values = []
        for index, value in enumerate(args):
            label = names[index] if index < len(names) else f"arg{index + 1}"
            if isinstance(value, (bool, int, float, str)) or value is None:
                shown.append(f"{label}={value!r}")  # small values inline: alpha=0.3
                continue
            shown.append(label)
            values.append((label, value))
        for key, value in kwargs.items():
            shown.append(f"{key}={_inline(value)}")
        text = f"{self.name}({', '.join(shown)})"
        described = [(label, value) for label, value in values if not _is_trivial(value)]
        if described:
            lines = [f"\n      {label} = {show(value, indent=9 + len(label))}" for label, value in described]
            text += " with" + "".join(lines)
        return text

    # ---------------------------------------------------------------- failing
    def fail(self, problem: str, *, returned: Any = ..., expected: Any = ..., hint: str | None = None,
             mistake: str | None = None, call: str | None = None) -> NoReturn:
        """Raise a GradingError: what was called, what came back, what was expected, the likely cause.

        Args:
            problem: what is wrong, one sentence.
            returned, expected: shown when given.
            hint: general advice, shown when no mistake was recognised.
            mistake: the hint of a mistake the check RECOGNISED (shown instead of `hint`, and
                recorded as the error's `.mistake` for the class report).
            call: how the call is shown (default: the last call).
        """
        __tracebackhide__ = True
        lines = [f"{self.stage.label}, {self.name}(): {problem}",
                 f"  called:   {call if call is not None else self.last_call}"]
        if returned is not ...:
            lines.append(f"  returned: {show(returned, indent=12)}")
        if expected is not ...:
            lines.append(f"  expected: {show(expected, indent=12)}")
        if mistake or hint:
            lines.append(f"  hint:     {mistake or hint}")
        raise GradingError("\n".join(lines), stage=self.stage.number, function=self.name,
                           mistake=mistake or None)

    def _fail_reference(self) -> NoReturn:
        raise CallsReferenceError(
            f"{self.stage.label}, {self.name}(): your {self.name}() calls the reference solution "
            f"(solutions/{self.stage.module}.py) instead of computing the result itself. "
            f"Write it with NumPy (and, where the README says so, earlier stages' functions).",
            stage=self.stage.number, function=self.name)

    def _not_written(self, error: NotImplementedError) -> NotWrittenYet:
        """The message for a stub: which function is unwritten, and where it lives."""
        match = _STUB_MESSAGE.search(str(error))
        if match:
            missing_stage, missing = get_stage(match["number"]), match["function"]
        else:
            missing_stage, missing = self.stage, _innermost_function(error) or self.name
        if missing_stage != self.stage:
            message = (f"{self.stage.label}: {self.name}() needs your {missing}() from "
                       f"{missing_stage.label.lower()}, which is not written yet - finish that stage "
                       f"first: {missing_stage.command}")
        elif missing != self.name:
            message = (f"{self.stage.label}: {self.name}() calls {missing}(), which is not written yet "
                       f"- write {missing}() first.")
        else:
            message = (f"{self.stage.label}: {self.name}() is not written yet - replace its "
                       f"`raise NotImplementedError(...)` in {self.stage.learner_relpath} with your code.")
        return NotWrittenYet(message, stage=self.stage.number, function=self.name)

    def _raised(self, error: Exception) -> GradingError:
        # the facts (these are gathered next to the learner's frames) ...
        type_name, message = type(error).__name__, str(error)
        where = _learner_line(error)
        shapes = array_shapes_on_line(error, lambda filename: not _is_library_file(filename))
        # ... and the message, worded from them alone
        explanation = explain_raised(type_name, message, where, shapes)
        lines = [f"{self.stage.label}, {self.name}(): raised {type_name}: {message}",
                 f"  called:   {self.last_call}"]
        if where:
            lines.append(f"  raised at: {where}")
        if explanation.mistake or explanation.hint:
            lines.append(f"  hint:     {explanation.mistake or explanation.hint}")
        if explanation.show_shapes and format_shapes(shapes):
            lines.append(f"  shapes:   on that line, {format_shapes(shapes)}")
        return GradingError("\n".join(lines), stage=self.stage.number, function=self.name,
                            mistake=explanation.mistake)


# --------------------------------------------------------------------- helpers
#: seconds one call of the learner's function may take (the slowest check needs well under 1)
CALL_TIME_LIMIT = 60.0


class _TooSlow(BaseException):
    """Raised inside the learner's code when CALL_TIME_LIMIT runs out (a BaseException, so that
    the learner's own `except Exception` cannot swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` with _TooSlow, where a SIGALRM timer is available
    (POSIX, main thread) and no other timer is running; elsewhere, no limit."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TooSlow()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _reference_file(stage: Stage) -> str:
    module = importlib.import_module(stage.reference_module)
    return module.__file__ or ""


def _reference_parameter_names(stage: Stage, name: str) -> tuple[str, ...]:
    module = importlib.import_module(stage.reference_module)
    function = getattr(module, name, None)
    if function is None:
        return ()
    return tuple(inspect.signature(function).parameters)


def _code_file(func: Callable[..., Any]) -> str | None:
    code = getattr(func, "__code__", None)
    return code.co_filename if code is not None else None


def _inline(value: Any) -> str:
    text = show(value)
    return text if "\n" not in text and len(text) < 40 else type(value).__name__


def _is_trivial(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool, dict, np.random.Generator))


def _is_library_file(filename: str) -> bool:
    """True for Python's, the installed libraries' and grading's own files."""
    if filename.startswith("<"):
        return False  # a notebook cell or exec'd text: the learner's
    resolved = str(Path(filename).resolve())
    grading_dir = str(Path(__file__).resolve().parent) + "/"
    return ("site-packages" in resolved or resolved.startswith(grading_dir)
            or any(resolved.startswith(prefix + "/") for prefix in _LIBRARY_PREFIXES))


def _learner_frames(error: BaseException) -> list[traceback.FrameSummary]:
    """The traceback's frames outside Python's and the libraries' own files (innermost last)."""
    return [frame for frame in traceback.extract_tb(error.__traceback__)
            if not _is_library_file(frame.filename)]


def _learner_line(error: BaseException) -> str | None:
    frames = _learner_frames(error)
    if not frames:
        return None
    frame = frames[-1]
    name = Path(frame.filename).name if not frame.filename.startswith("<") else frame.filename
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"{name}, line {frame.lineno}, in {frame.name}(){code}"


def _innermost_function(error: BaseException) -> str | None:
    frames = _learner_frames(error)
    return frames[-1].name if frames else None


def _warning_hint(message: str) -> str:
    """What a NumPy floating-point warning most likely means (from its message alone)."""
    if "overflow" in message and "exp" in message:
        return ("exp() overflowed: subtract each column's maximum from Z before np.exp "
                "(softmax(Z) = softmax(Z - max))")
    if "log" in message or "divide by zero" in message:
        return "log(0) or a division by zero: clip probabilities away from 0 before np.log"
    if "invalid value" in message and "divide" in message:
        return ("0/0 (or inf/inf): a column whose exp() values all underflowed to 0 divided by its sum 0 - "
                "in softmax, shift each column by its OWN maximum (Z.max(axis=0, keepdims=True)), not by "
                "one number for the whole matrix")
    if "invalid value" in message and ("subtract" in message or "multiply" in message or "add" in message):
        return ("inf - inf or inf * 0 gave NaN: a number overflowed to inf earlier in the computation "
                "(look for np.exp of a large number)")
    if "invalid value" in message:
        return "a NaN appeared (inf - inf, 0/0 or inf * 0): look for an overflow earlier in the computation"
    if "overflow" in message:
        return "a number grew beyond the largest float: look for np.exp, ** or a product of large numbers"
    return "look at the line that computes it"
