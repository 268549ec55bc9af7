"""How a check calls the learner's function: in the sealed worker, and phrasing what went wrong.

A check never touches the learner's code: it calls a `LearnerFunction`, which sends
the arguments to the worker process grading this function (grading/sandbox) and
gets back what the call came to, as data:

  * the value it returned; the arguments it changed in place are changed here too,
    so a check still sees a learner who writes into Z or fills history=;
  * what it printed (kept in `.last_output`) and the NumPy warnings it caused
    (`.last_warnings`): a warning fails a check only where the function's contract
    says warnings are wrong (checks registered with strict_warnings=True, e.g.
    softmax of logits of +-1e4); elsewhere the message of a later failure notes it;
  * or what it raised, as facts, turned into a GradingError with a teaching message:
    a stub's NotImplementedError becomes "not written yet", any other exception names
    the learner's line that raised it; importing the reference solution or the
    grader (which do not exist in the worker) is "calling the reference";
  * or that it ran out of time (CALL_TIME_LIMIT, measured here: a loop that swallows
    every interrupt is ended with its process) or that its process died.

While it runs, the stage's other functions (and, before the capstone, the earlier
stages') are answered by the reference here, so one wrong function costs only its
own points (grading/running/program.py says which).
"""

import importlib
import inspect
import re
from typing import Any, NoReturn

import numpy as np

from ..checks.show import show
from ..errors import GradingError, NotWrittenYet
from ..sandbox import Scratch, Worker
from ..sandbox.kit_worker.shape_errors import format_shapes
from ..stages import Stage, get_stage
from .program import REFERENCE_PACKAGES, LearnerProgram, calls_reference
from .raised_hints import explain_raised

_STUB_MESSAGE = re.compile(r"Stage (?P<number>\d\d) \([^)]*\): implement (?P<function>\w+)\(\)")

#: seconds one call of the learner's function may take (the slowest check needs well under 1)
CALL_TIME_LIMIT = 30.0


class LearnerFunction:
    """The learner's `function` of `stage`, callable like the original, running in `worker`.

    Attributes:
        stage: the Stage being graded.
        name: the function's name, e.g. "softmax".
        program: the LearnerProgram it belongs to.
        last_call: how the last call looked, e.g. "softmax(Z) with Z = [[...]]".
        last_output: what the last call printed.
        last_warnings: the NumPy warnings of the last call, as texts.
        strict_warnings: set by the registry for checks whose contract forbids warnings.
    """

    def __init__(self, stage: "Stage | str", name: str, program: LearnerProgram, worker: Worker) -> None:
        self.stage = get_stage(stage)
        self.name = name
        self.program = program
        self.worker = worker
        self.last_call = f"{name}()"
        self.last_output = ""
        self.last_warnings: list[str] = []
        self.strict_warnings = False
        self._parameter_names = _reference_parameter_names(self.stage, name)
        self._answer = program.answer_for(name)
        self._callbacks = program.callbacks_for(name)
        self._kept = program.kept_for(name)

    # ----------------------------------------------------------------- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function in the worker; see the module docstring for what comes back."""
        __tracebackhide__ = True
        self.last_call = self.describe_call(args, kwargs)
        return self._run(self.name, args, kwargs, callbacks=self._callbacks, kept=self._kept)

    def call_in(self, folder: Scratch, *args: Any, **kwargs: Any) -> Any:
        """Call it with `folder` as the current folder (to see what it writes by relative path)."""
        __tracebackhide__ = True
        self.last_call = self.describe_call(args, kwargs)
        return self._run(self.name, args, kwargs, callbacks=self._callbacks, kept=self._kept,
                         cwd=str(folder.path))

    def call_other(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call another function of the learner's program as it is (e.g. the capstone's own init_params).

        Returns None when the program has no such function.
        """
        __tracebackhide__ = True
        if not self.worker.describe([name])[name].get("callable"):
            return None
        return self._run(name, args, kwargs, callbacks=[])

    def scratch(self) -> Scratch:
        """An empty folder inside the worker for this check's files (see grading/sandbox)."""
        return self.program.sandbox.scratch()

    def _run(self, name: str, args: tuple, kwargs: dict, *, callbacks: list[str], kept: list[str] = (),
             cwd: str | None = None) -> Any:
        __tracebackhide__ = True
        limit = self.program.call_seconds or CALL_TIME_LIMIT
        adapter = self.stage.adapter(name) if name == self.name else None  # see Stage.adapters
        outcome = self.worker.call(name, args, kwargs, timeout=limit, answer=self._answer,
                                   callbacks=callbacks, kept=kept, cwd=cwd, adapter=adapter)
        self.last_output = outcome.stdout
        self.last_warnings = outcome.warnings
        if outcome.kind == "timed out":
            self.fail(f"it did not return within {limit:g} seconds, so grading stopped it.",
                      mistake="is there a loop that never ends (a while loop whose condition never "
                              "changes, a counter that is never increased)?")
        if outcome.kind == "crashed":
            self.fail("the process running it stopped before it returned (os._exit(), a crash in C code, "
                      "or a message that could not be read).",
                      hint="return the result; do not end the process")
        if outcome.kind == "raised":
            self._raise_for(outcome.raised, outcome.facts)
        if self.strict_warnings and outcome.warnings:
            message = outcome.warnings[0]
            self.fail(f"NumPy warned: {message}.",
                      mistake="a warning means a number overflowed, was divided by zero or became NaN; "
                              + _warning_hint(message))
        return outcome.value

    def _raise_for(self, kind: str, facts: dict) -> NoReturn:
        __tracebackhide__ = True
        if kind == "not_implemented":
            raise self._not_written(facts)
        if kind == "system_exit":
            raise GradingError(f"{self.stage.label}, {self.name}(): your code called exit() (it raised SystemExit), "
                               f"which would stop the grader - return the result instead.",
                               stage=self.stage.number, function=self.name)
        if kind == "memory":
            limit = self.program.sandbox.limits.memory_bytes
            self.fail(f"it ran out of memory (grading allows {limit / 2**30:.1f} GiB).",
                      mistake="is an array much larger than it should be (m x m instead of 10 x m)?")
        module = str(facts.get("module") or "").split(".")[0]
        if facts.get("type") in ("ModuleNotFoundError", "ImportError") and module in REFERENCE_PACKAGES:
            where = facts.get("where") or {}
            raise calls_reference(self.stage, self.name, f"{where.get('file')}, line {where.get('line')}")
        raise self._raised(facts)

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
        if self.last_warnings and not problem.startswith("NumPy warned"):
            lines.append(f"  note:     NumPy warned during that call: {self.last_warnings[0]}")
        raise GradingError("\n".join(lines), stage=self.stage.number, function=self.name,
                           mistake=mistake or None)

    def _not_written(self, facts: dict) -> NotWrittenYet:
        """The message for a stub: which function is unwritten, and where it lives."""
        match = _STUB_MESSAGE.search(str(facts.get("message", "")))
        if match:
            missing_stage, missing = get_stage(match["number"]), match["function"]
        else:
            missing_stage, missing = self.stage, facts.get("innermost") or self.name
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

    def _raised(self, facts: dict) -> GradingError:
        """The message for an exception the learner's code raised, worded from the worker's facts alone."""
        type_name, message = str(facts.get("type", "Exception")), str(facts.get("message", ""))
        where = facts.get("where")
        line = None
        if isinstance(where, dict) and where.get("file"):
            code = f": {where['code']}" if where.get("code") else ""
            line = f"{where['file']}, line {where.get('line')}, in {where.get('function')}(){code}"
        shapes = {str(operand): tuple(int(n) for n in shape) for operand, shape in _pairs(facts.get("shapes"))}
        explanation = explain_raised(type_name, message, line, shapes)
        lines = [f"{self.stage.label}, {self.name}(): raised {type_name}: {message}",
                 f"  called:   {self.last_call}"]
        if line:
            lines.append(f"  raised at: {line}")
        if explanation.mistake or explanation.hint:
            lines.append(f"  hint:     {explanation.mistake or explanation.hint}")
        if explanation.show_shapes and format_shapes(shapes):
            lines.append(f"  shapes:   on that line, {format_shapes(shapes)}")
        return GradingError("\n".join(lines), stage=self.stage.number, function=self.name,
                            mistake=explanation.mistake)


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """[(operand, shape)] from the facts' "shapes", ignoring anything not of that form."""
    if not isinstance(value, list):
        return []
    return [(item[0], item[1]) for item in value if isinstance(item, list) and len(item) == 2
            and isinstance(item[0], str) and isinstance(item[1], list) and all(isinstance(n, int) for n in item[1])]


# --------------------------------------------------------------------- helpers
def _reference_parameter_names(stage: Stage, name: str) -> tuple[str, ...]:
    module = importlib.import_module(stage.reference_module)
    function = getattr(module, name, None)
    if function is None:
        return ()
    return tuple(inspect.signature(function).parameters)


def _inline(value: Any) -> str:
    text = show(value)
    return text if "\n" not in text and len(text) < 40 else type(value).__name__


def _is_trivial(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bool, dict, np.random.Generator))


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
