"""A learner's own notebook for a stage (`mnist-kit notebook 03`), and what its cells call.

The notebook sits beside the stage file (exercises/03_backprop/03_backprop.ipynb)
and works on that file; the learner keeps writing their code in backprop.py.
Its first cell

    %load_ext autoreload
    %autoreload 2                  # every cell sees backprop.py as last saved
    %matplotlib inline             # figures show inline, plot_history's included
    from grading.tools.notebook import setup
    check = setup("03")
    from backprop import one_hot, cross_entropy, backward_prop

puts the stage folder on sys.path the way the stage's tests see it: for stages
02-04 the earlier stages' imports (`from activations import relu_deriv`) give
the reference functions, as under pytest; for the capstone they give the
learner's own files. `check("backward_prop")` grades the function in a child
process (grading.tools.isolated, as `mnist-kit progress` does: a time limit,
and the very messages pytest shows) and shows the result as the cell's value;
the grading of a stage is reused until one of its files changes.
`check.passes("relu", "softmax")` says quietly whether they all pass (the
notebook's "try it" cells wait for it). Shell commands use the kernel's own
Python: `!"{sys.executable}" -m pytest .`.

write_notebook(stage, exercises_dir) builds the notebook as plain JSON
(nbformat 4), so writing one needs no Jupyter.
"""

import importlib
import inspect
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit_helpers import atomic_write

from ..mine import find_exercises, forget_stage_folders, forget_stage_modules
from ..running.program import CAPSTONE, builds_on_text, earlier_stages, own_stages
from ..stages import Stage, get_stage
from .isolated import DEFAULT_TIME_LIMIT, grade_stage
from .stage_results import DONE, PASSED, StageResult
from .watch import signature, watched_files


# ------------------------------------------------------------------ in the notebook
@dataclass(frozen=True)
class CheckResult:
    """What check() shows: the text (the cell's output) and whether everything checked passes."""

    text: str
    passed: bool

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython shows the text as it is
        printer.text(self.text)


class StageChecks:
    """check(function) for one stage's notebook: the stage's checks on the learner's file.

    Attributes:
        stage: the Stage.   exercises: the exercises folder.
        time_limit: seconds the stage's checks may run (as for `mnist-kit progress`).
    """

    def __init__(self, stage: Stage, exercises: Path, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        self.stage = stage
        self.exercises = exercises
        self.time_limit = time_limit
        self._graded: tuple[Any, StageResult] | None = None

    def results(self) -> StageResult:
        """The stage graded now, or the last grading when none of its files changed since."""
        stamp = signature(watched_files(self.stage, self.exercises))
        if self._graded is None or self._graded[0] != stamp:
            self._graded = (stamp, grade_stage(self.stage, self.exercises, time_limit=self.time_limit))
        return self._graded[1]

    def __call__(self, function: str | None = None) -> CheckResult:
        """Grade `function` (default: the whole stage); the text is what pytest would say."""
        result = self.results()
        if function is None:
            return self._stage(result)
        if function not in self.stage.functions:
            return CheckResult(f"{self.stage.label} has no function {function!r}: its functions are "
                               f"{', '.join(self.stage.functions)}", False)
        if result.problem:
            return CheckResult(result.problem, False)
        found = next(r for r in result.functions if r.function == function)
        name = f"{self.stage.label}, {function}()"
        if found.is_core and found.status != PASSED:
            return CheckResult(found.message or f"{name}: {found.status}.", False)
        if not found.bonus_total:
            return CheckResult(f"{name}: all {found.total} checks pass.", True)
        if found.bonus_status != PASSED:  # the core passes (or there is none): the optional bonus part is next
            bonus = found.bonus_message or f"{name}: its bonus checks: {found.bonus_status}."
            if not found.is_core:  # plot_history: bonus checks only
                return CheckResult(bonus, False)
            return CheckResult(f"{name}: all {found.total} checks pass; the optional bonus checks, "
                               f"{found.bonus_passed} of {found.bonus_total} passing so far:\n{bonus}", True)
        if not found.is_core:  # plot_history: bonus checks only
            return CheckResult(f"{name}: all {found.bonus_total} bonus checks pass.", True)
        return CheckResult(f"{name}: all {found.total} checks pass (and all {found.bonus_total} bonus checks).",
                           True)

    def passes(self, *functions: str) -> bool:
        """True when each of `functions` (default: the whole stage) passes all its checks; prints nothing."""
        result = self.results()
        if result.problem:
            return False
        wanted = set(functions or self.stage.functions)
        return all(r.status == PASSED for r in result.functions if r.function in wanted)

    def _stage(self, result: StageResult) -> CheckResult:
        if result.status == DONE:
            return CheckResult(f"{self.stage.label}: all {result.total} checks pass - stage done!", True)
        if result.problem:
            return CheckResult(result.problem, False)
        lines = [f"{self.stage.label}: {result.passed} of {result.total} checks pass."]
        for r in result.functions:
            lines.append(f"  {r.function + '()':<32} {r.status:<12} {r.passed:>2} of {r.total}")
        pending = result.next_function
        if pending is not None and pending.message:
            lines += ["", pending.message]
        return CheckResult("\n".join(lines), False)


def setup(stage: "Stage | str", exercises: "str | os.PathLike | None" = None, *,
          time_limit: float = DEFAULT_TIME_LIMIT) -> StageChecks:
    """Make `from <stage module> import ...` import the learner's file as the stage's tests see it.

    The stage's folder goes on sys.path, and so do the folders of the stages it builds on
    (Stage.builds_on: the capstone's imports reach the learner's own files of stages 01-04,
    the gradient check's those of 01-03); every other earlier stage is the reference module
    (as under pytest, each stage graded on its own).

    Args:
        stage: the stage of the notebook.
        exercises: the exercises folder (default: found from the current folder, see
            grading.mine.find_exercises: a notebook beside the stage file finds it).
        time_limit: seconds the stage's checks may run.

    Returns:
        The notebook's check().
    """
    stage = get_stage(stage)
    folder = find_exercises(exercises).resolve()
    own = [stage, *own_stages(stage)]
    forget_stage_folders()
    for mine in own:
        sys.path.insert(0, str(folder / mine.folder))
    forget_stage_modules()
    for earlier in earlier_stages(stage):
        if earlier not in own:
            sys.modules[earlier.module] = importlib.import_module(earlier.reference_module)
    return StageChecks(stage, folder, time_limit)


# ------------------------------------------------------------------ writing it
NOTEBOOK_SUFFIX = ".ipynb"


def notebook_path(stage: Stage, exercises_dir: "str | os.PathLike") -> Path:
    """exercises/03_backprop/03_backprop.ipynb."""
    return Path(exercises_dir) / stage.folder / f"{stage.folder}{NOTEBOOK_SUFFIX}"


def _call_signature(stage: Stage, function: str) -> str:
    """E.g. "one_hot(Y, num_classes=10)": the reference's parameters, without annotations."""
    reference = getattr(importlib.import_module(stage.reference_module), function)
    parts = []
    keyword_only = False
    for parameter in inspect.signature(reference).parameters.values():
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        default = "" if parameter.default is parameter.empty else f"={parameter.default!r}"
        parts.append(f"{parameter.name}{default}")
    return f"{function}({', '.join(parts)})"


def _summary(stage: Stage, function: str) -> str:
    """The first line of the reference's docstring (the learner's stub has the same docstring)."""
    reference = getattr(importlib.import_module(stage.reference_module), function)
    return (inspect.getdoc(reference) or "").splitlines()[0] if inspect.getdoc(reference) else ""


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}


def _code(text: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text.strip("\n")}


#: per stage: (markdown, code) cells that use the learner's functions once they pass
TRY_IT: dict[str, list[tuple[str, str]]] = {
    "01": [(
        "ReLU and its slope, drawn from your functions:",
        '''
if check.passes("relu", "relu_deriv"):
    z = np.linspace(-3, 3, 601).reshape(1, -1)   # one row of 601 numbers
    figure = Figure(figsize=(8, 3))
    left, right = figure.subplots(1, 2)
    left.plot(z[0], relu(z)[0]); left.set_title("relu(z)")
    right.plot(z[0], np.asarray(relu_deriv(z), dtype=float)[0]); right.set_title("relu_deriv(z)")
    display(figure)
else:
    print("This cell waits for relu() and relu_deriv(): check() above says what is missing.")
'''), (
        "Softmax turns each column into probabilities (each column sums to 1):",
        '''
if check.passes("softmax"):
    Z = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    A = softmax(Z)
    print(A.round(4), "\\ncolumn sums:", A.sum(axis=0))
else:
    print("This cell waits for softmax(): check() above says what is missing.")
''')],
    "02": [(
        "Your untrained network's belief about the first digit of the bundled sample "
        "(with random weights it is a guess):",
        '''
if check.passes("init_params", "forward_prop"):
    data = load_mnist("train")                      # offline: the bundled 5,000-image sample
    W1, b1, W2, b2 = init_params(seed=0)
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, data.X[:, :1])
    figure = Figure(figsize=(8, 3))
    image, bars = figure.subplots(1, 2)
    image.imshow(data.X[:, 0].reshape(28, 28), cmap="gray"); image.set_title(f"label {data.Y[0]}")
    bars.bar(range(10), A2[:, 0]); bars.set_xticks(range(10)); bars.set_title("A2[:, 0]")
    display(figure)
else:
    print("This cell waits for init_params() and forward_prop(): check() above says what is missing.")
''')],
    "03": [(
        "Your one-hot labels and the loss of a network that guesses uniformly "
        "(it should be log 10 = 2.3026):",
        '''
if check.passes("one_hot", "cross_entropy"):
    print(one_hot(np.array([3, 0, 1]), 4))
    print(cross_entropy(np.full((10, 5), 0.1), np.array([0, 1, 2, 3, 4])))
else:
    print("This cell waits for one_hot() and cross_entropy(): check() above says what is missing.")
''')],
    "04": [(
        "Your gradient descent on 1,000 images of the bundled sample, 100 full-batch steps:",
        '''
if check.passes("gradient_descent"):
    data = load_mnist("train")                      # offline: the bundled 5,000-image sample
    history = {}
    W1, b1, W2, b2 = gradient_descent(data.X[:, :1000], data.Y[:1000], 0.1, 100, seed=0,
                                      history=history, print_every=20)
    figure = Figure(figsize=(5, 3))
    axes = figure.subplots()
    axes.plot(history["accuracy"]); axes.set_xlabel("iteration"); axes.set_title("training accuracy")
    display(figure)
else:
    print("This cell waits for gradient_descent(): check() above says what is missing.")
''')],
    "06": [(
        "Your gradient check of YOUR backprop (your files of stages 01-03) on a small random network "
        "(errors below 1e-7: your backward_prop agrees with the numerical gradient):",
        '''
if check.passes("numerical_gradient", "relative_error", "check_backprop"):
    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    W2, b2 = rng.standard_normal((10, 3)), rng.standard_normal((10, 1))
    X, Y = rng.random((4, 5)), rng.integers(0, 10, size=5)
    for name, error in check_backprop(W1, b1, W2, b2, X, Y).items():
        print(f"{name}: relative error {error:.1e}")
else:
    print("This cell waits for numerical_gradient(), relative_error() and check_backprop(): "
          "check() above says what is missing.")
''')],
    "05": [(
        "Your network, trained by your own functions on the bundled sample (10 epochs, a few "
        "seconds), and your `plot_history` of it:",
        '''
if check.passes("mini_batch_gradient_descent", "plot_history"):
    data = load_mnist("train")                      # offline: the bundled 5,000-image sample
    X, Y, X_dev, Y_dev = data.X[:, 500:], data.Y[500:], data.X[:, :500], data.Y[:500]
    history = {}
    params = mini_batch_gradient_descent(X, Y, 0.1, 10, 32, seed=0, alpha_final=0.01,
                                         weight_decay=1e-3, history=history,
                                         X_dev=X_dev, Y_dev=Y_dev)
    display(plot_history(history))
else:
    print("This cell waits for mini_batch_gradient_descent() and plot_history(): "
          "check() above says what is missing.")
'''), (
        "What it gets right and wrong on the 500 held-out images:",
        '''
if check.passes("mini_batch_gradient_descent", "plot_history", "make_predictions"):
    from solutions.pictures import plot_confusion_matrix, plot_prediction_grid
    display(plot_prediction_grid(X_dev, Y_dev, *params, images="dev set"))
    display(plot_confusion_matrix(X_dev, Y_dev, *params, images="dev set"))
else:
    print("This cell waits for your training and make_predictions(): check() above says what is missing.")
''')],
}


def build_notebook(stage: "Stage | str") -> dict[str, Any]:
    """The notebook of `stage` as nbformat-4 JSON (a dict)."""
    stage = get_stage(stage)
    learner_file = f"{stage.module}.py"
    functions = ", ".join(stage.functions)
    first = stage.functions[0]
    own = (f"Its imports of stages {builds_on_text(stage)} are your own files, as in the stage's tests."
           if stage.builds_on else
           "Its imports of earlier stages get the reference functions, as in the stage's tests, so it "
           "does not matter whether those stages are done.")
    cells = [_markdown(f'''
# {stage.label}: your notebook

Your code stays in **`{learner_file}`** beside this notebook: edit it there (in Jupyter, open it
from the file browser) and save. This notebook imports it with `%autoreload` on, so every cell
uses the file as last saved, without restarting the kernel. {own}

`check("{first}")` runs that function's checks, with the same messages as
`python -m pytest exercises/{stage.folder}`; `check()` grades the whole stage. The task and the
maths are in `README.md`; stuck? `mnist-kit hint {stage.number} {first}` in a terminal gives one hint
at a time.
'''), _code(f'''
%load_ext autoreload
%autoreload 2
%matplotlib inline
import sys
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure
try:
    from grading.tools.notebook import setup
except ModuleNotFoundError:
    raise ModuleNotFoundError(f"this kernel's Python ({{sys.executable}}) does not have mnist-kit: "
                              "choose the kit's .venv as the kernel, or run `pip install -e <the kit's folder>` "
                              "with this Python") from None
from solutions.mnist_data import load_mnist

check = setup("{stage.number}")   # your stage folder on sys.path; check("{first}") grades a function
from {stage.module} import {functions}
''')]
    for function in stage.functions:
        summary = _summary(stage, function)
        cells.append(_markdown(f"## `{_call_signature(stage, function)}`\n\n{summary}"))
        cells.append(_code(f'check("{function}")'))
    try_it = TRY_IT.get(stage.number, [])
    if try_it:
        cells.append(_markdown("## Try it\n\nThese cells use your functions once they pass their checks."))
        for text, code in try_it:
            cells.append(_markdown(text))
            cells.append(_code(code))
    cells.append(_markdown(f'''
## The whole stage

`check()` grades every function; the cell after it runs the stage's pytest suite with this
kernel's Python (`sys.executable`: a plain `!python` may find another Python, without the kit).
'''))
    cells.append(_code("check()"))
    cells.append(_code('!"{sys.executable}" -m pytest -p no:cacheprovider .'))
    if stage.number == CAPSTONE:
        cells.append(_markdown('''
## On all of MNIST

In a terminal, `mnist-kit train --mine --plots runs/plots` trains your network with the
reference's settings (`mnist-kit download` fetches the full data set first), and
`mnist-kit compare` puts it beside the reference network. From any script or notebook,
`from grading.mine import network` gives every function you wrote (`network().relu`, ...).
'''))
    for index, cell in enumerate(cells):
        cell["id"] = f"{stage.folder.replace('_', '-')}-{index}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "mnist_kit": {"stage": stage.number},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class NotebookExists(FileExistsError):
    """The notebook is there already (it may hold the learner's work); the message says what to do."""


def write_notebook(stage: "Stage | str", exercises_dir: "str | os.PathLike", *, force: bool = False) -> Path:
    """Write the stage's notebook beside the stage file (atomically) and return its path.

    Raises:
        NotebookExists: it exists and `force` is False.
    """
    stage = get_stage(stage)
    path = notebook_path(stage, exercises_dir)
    if path.exists() and not force:
        raise NotebookExists(f"{path} exists already (it may hold your work): open it, or pass --force "
                             f"to write it afresh")
    text = json.dumps(build_notebook(stage), indent=1, ensure_ascii=False) + "\n"
    with atomic_write(path) as file:
        file.write(text.encode("utf-8"))
    return path

