"""Training the learner's own network, supervised (what `mnist-kit train --mine` runs).

`run_learner_training(exercises_dir, request, X, Y, X_dev, Y_dev)` calls the
learner's training function (their stage 05 `mini_batch_gradient_descent`, or
their stage 04 `gradient_descent`), built on their own files of the earlier
stages, in a child process:

  * with a time limit (the child is killed when it runs out), so an endless
    loop is reported, and Ctrl-C stops it;
  * its printed progress lines passed on as they come;
  * anything that goes wrong said in one line naming the learner's file and
    line (a file that does not load, an exception, a stub, a wrong result),
    with the shapes of the arrays on that line for a shape error.

The child is `python -m grading.tools.training FOLDER`: FOLDER holds
request.json and data.npz from the parent, and receives result.json (the
seconds the call took, or the error) and result.npz (the parameters and the
history). This is the one place that runs the learner's training, so a sealed
worker can take its place behind the same function.

`unfinished_stages(function, exercises_dir)` grades the stages the training
needs (grading.tools.isolated, as `mnist-kit progress` does) and returns those
not done yet.
"""

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..errors import GradingError
from ..sandbox.kit_worker.shape_errors import shapes_on_line
from ..stages import REPO_ROOT, STAGES, Stage, stage_of_function
from .isolated import DEFAULT_TIME_LIMIT, grade_stages
from .stage_results import DONE, StageResult

#: seconds the learner's training may take by default (the reference trains the default
#: preset in about 5 s on the bundled sample and 2 min on all of MNIST here)
DEFAULT_TRAINING_LIMIT = 900.0
PARAM_NAMES = ("W1", "b1", "W2", "b2")
N_CLASSES = 10


class LearnerTrainingError(Exception):
    """The learner's training could not run or failed; the message is one line for the learner."""


@dataclasses.dataclass(frozen=True)
class TrainingRequest:
    """Which of the learner's functions to call, and how (X, Y and the dev set aside).

    Attributes:
        function: "mini_batch_gradient_descent" (stage 05) or "gradient_descent" (stage 04).
        args: the positional arguments after X and Y, e.g. (alpha, epochs, batch_size).
        kwargs: the keyword arguments (numbers, strings, booleans, None), history aside.
        n_hidden: the hidden units the result must have.
        pass_dev: give the dev set as X_dev=, Y_dev= (the stage 05 function takes them).
    """

    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    n_hidden: int = 10
    pass_dev: bool = True


@dataclasses.dataclass
class LearnerRun:
    """What the learner's training gave back.

    Attributes:
        params: W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1).
        history: the curves the function recorded ("accuracy", "loss", maybe "dev_*").
        seconds: how long the call took (loading the files and the data excluded).
    """

    params: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    history: dict[str, list[float]]
    seconds: float


def needed_stages(function: str) -> list[Stage]:
    """The stages a training function is built from: its own and every one before it."""
    own = stage_of_function(function)
    return [stage for stage in STAGES if stage.number <= own.number]


def unfinished_stages(function: str, exercises_dir: "str | os.PathLike", *,
                      time_limit: float = DEFAULT_TIME_LIMIT) -> list[StageResult]:
    """The stages `function` needs that do not pass every check yet (graded in child processes)."""
    results = grade_stages(needed_stages(function), exercises_dir, time_limit=time_limit)
    return [result for result in results if result.status != DONE]


def run_learner_training(
    exercises_dir: "str | os.PathLike",
    request: TrainingRequest,
    X: np.ndarray,
    Y: np.ndarray,
    X_dev: np.ndarray | None = None,
    Y_dev: np.ndarray | None = None,
    *,
    time_limit: float = DEFAULT_TRAINING_LIMIT,
    output: TextIO | None = None,
) -> LearnerRun:
    """Call the learner's training function on (X, Y) in a child process, supervised.

    Args:
        exercises_dir: the folder holding the learner's stage folders.
        request: the function and its arguments.
        X: (784, m) images in [0, 1].   Y: (m,) labels.
        X_dev: (784, m_dev) or None.   Y_dev: (m_dev,) or None.
        time_limit: seconds the child may run (its start and the loading included).
        output: where the function's printed lines go as they come (default sys.stdout).

    Returns:
        The LearnerRun.

    Raises:
        LearnerTrainingError: the files did not load, the function raised or returned
            something else than the four parameters, or the time ran out.
        KeyboardInterrupt: Ctrl-C (the child is stopped first).
    """
    output = output if output is not None else sys.stdout
    with tempfile.TemporaryDirectory(prefix="mnist-kit-training-") as scratch:
        folder = Path(scratch)
        _write_request(folder, Path(exercises_dir), request, X, Y, X_dev, Y_dev)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        output.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", "grading.tools.training", str(folder)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            text=True, errors="replace",
        )
        relay = threading.Thread(target=_relay, args=(process.stdout, output), daemon=True)
        relay.start()
        try:
            process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            raise LearnerTrainingError(
                f"your {request.function}() did not finish within {time_limit:g} s, so it was stopped "
                f"(--time-limit SECONDS allows more): is there a loop that never ends? No weights saved."
            ) from None
        finally:  # a time-out, Ctrl-C or any error: leave no child behind
            if process.poll() is None:
                process.kill()
            process.wait()
            relay.join(timeout=5)
        return _read_result(folder, request, process.returncode)


def _relay(source: TextIO, target: TextIO) -> None:
    """Copy the child's lines to `target` as they come."""
    for line in source:
        target.write(line)
        target.flush()


def _write_request(folder: Path, exercises_dir: Path, request: TrainingRequest, X: np.ndarray,
                   Y: np.ndarray, X_dev: np.ndarray | None, Y_dev: np.ndarray | None) -> None:
    """request.json and data.npz (images as their 0-255 pixels when that loses nothing: 8x smaller)."""
    arrays: dict[str, np.ndarray] = {}
    for name, images in (("X", X), ("X_dev", X_dev)):
        if images is None:
            continue
        pixels = np.rint(images * 255).astype(np.uint8, order="K")
        if np.array_equal(pixels / 255.0, images):
            arrays[name + "_pixels"] = pixels
        else:
            arrays[name] = images
    arrays["Y"] = Y
    if Y_dev is not None:
        arrays["Y_dev"] = Y_dev
    np.savez(folder / "data.npz", **arrays)
    description = {"exercises_dir": str(exercises_dir.resolve()), **dataclasses.asdict(request),
                   "cwd": str(Path.cwd())}
    (folder / "request.json").write_text(json.dumps(description), encoding="utf-8")


def _read_result(folder: Path, request: TrainingRequest, code: int) -> LearnerRun:
    """The LearnerRun the child left, or the LearnerTrainingError it reported."""
    try:
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LearnerTrainingError(
            f"training your {request.function}() stopped unexpectedly (exit status {code}) before it "
            f"reported anything: did your code end the program (exit(), os._exit) or crash Python?"
        ) from None
    if "error" in result:
        raise LearnerTrainingError(result["error"])
    with np.load(folder / "result.npz") as saved:
        params = tuple(saved[name] for name in PARAM_NAMES)
        history = {key.removeprefix("history_"): saved[key].tolist() for key in saved.files
                   if key.startswith("history_")}
    return LearnerRun(params, history, float(result["seconds"]))  # type: ignore[arg-type]


# ----------------------------------------------------------------- the child side
def _learner_line(error: BaseException, exercises_dir: Path) -> str:
    """" at exercises/05_train_mnist/train_mnist.py, line 12, in f(): <code>" for the innermost learner frame."""
    root = str(exercises_dir.resolve()) + os.sep
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if str(Path(frame.filename).resolve()).startswith(root)]
    if not frames:
        return ""
    frame = frames[-1]
    shown = _shown(Path(frame.filename))
    code = f": {frame.line.strip()}" if frame.line else ""
    return f" at {shown}, line {frame.lineno}, in {frame.name}(){code}"


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _describe_raised(error: BaseException, function: str, exercises_dir: Path) -> str:
    """One line: what the learner's function raised, where, and the shapes on that line."""
    where = _learner_line(error, exercises_dir)
    if isinstance(error, NotImplementedError):
        return (f"your {function}() reached code that is not written yet ({error}){where}: "
                f"finish it first (`mnist-kit progress` shows where you stand).")
    line = f"your {function}() raised {type(error).__name__}: {error}{where}"
    if isinstance(error, ValueError):
        root = str(exercises_dir.resolve()) + os.sep
        shapes = shapes_on_line(error, lambda filename: str(Path(filename).resolve()).startswith(root))
        if shapes:
            line += f" (shapes on that line: {shapes})"
    return " ".join(line.split())


def _check_params(result: Any, request: TrainingRequest, n_in: int) -> tuple[np.ndarray, ...]:
    """The four parameters, as float arrays of the network's shapes; LearnerTrainingError otherwise."""
    function, h = request.function, request.n_hidden
    if not isinstance(result, (tuple, list)) or len(result) != len(PARAM_NAMES):
        got = f"a {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise LearnerTrainingError(f"your {function}() returned {got}; it must return the four trained "
                                   f"arrays W1, b1, W2, b2")
    expected = ((h, n_in), (h, 1), (N_CLASSES, h), (N_CLASSES, 1))
    params = []
    for name, value, shape in zip(PARAM_NAMES, result, expected):
        array = np.asarray(value)
        if array.shape != shape or not np.issubdtype(array.dtype, np.number):
            raise LearnerTrainingError(
                f"your {function}() returned {name} of shape {array.shape} ({array.dtype}); the "
                f"784-{h}-10 network's {name} is a {shape} array of numbers")
        params.append(array.astype(np.float64))
    return tuple(params)


def _train_in_child(folder: Path) -> dict[str, Any]:
    """Run the request in `folder`; the result.json contents (result.npz is written on success)."""
    from ..mine import load_my_stage  # imported here: the parent does not need it

    request_data = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    exercises_dir = Path(request_data.pop("exercises_dir"))
    os.chdir(request_data.pop("cwd"))  # so that paths in messages read as in the parent
    request = TrainingRequest(**{**request_data, "args": tuple(request_data["args"])})
    with np.load(folder / "data.npz") as data:
        arrays = {name: data[name] for name in data.files}
    for name in ("X", "X_dev"):
        if name + "_pixels" in arrays:
            arrays[name] = arrays.pop(name + "_pixels") / 255.0
    stage = stage_of_function(request.function)
    try:
        module = load_my_stage(stage, exercises_dir)
    except GradingError as error:
        return {"error": str(error).splitlines()[0]}
    function: Callable[..., Any] | None = getattr(module, request.function, None)
    if not callable(function):
        return {"error": f"{stage.label}: {_shown(stage.learner_file(exercises_dir))} has no function "
                         f"{request.function}() (was it renamed or deleted?)"}
    history: dict[str, list[float]] = {}
    kwargs = dict(request.kwargs, history=history)
    if request.pass_dev and "X_dev" in arrays:
        kwargs.update(X_dev=arrays["X_dev"], Y_dev=arrays["Y_dev"])
    started = time.perf_counter()
    try:
        # a diverging run overflows: the parent reports that once, instead of NumPy's warnings
        with np.errstate(over="ignore", invalid="ignore"):
            result = function(arrays["X"], arrays["Y"], *request.args, **kwargs)
    except Exception as error:
        return {"error": _describe_raised(error, request.function, exercises_dir)}
    seconds = time.perf_counter() - started
    try:
        params = _check_params(result, request, arrays["X"].shape[0])
    except LearnerTrainingError as error:
        return {"error": str(error)}
    saved = dict(zip(PARAM_NAMES, params))
    for key, values in history.items():
        try:
            saved[f"history_{key}"] = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            continue  # not a list of numbers: the curves leave it out
    np.savez(folder / "result.npz", **saved)
    return {"seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    """The child: python -m grading.tools.training FOLDER."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m grading.tools.training FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    try:
        result = _train_in_child(folder)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        result = {"error": "your code called exit() (it raised SystemExit) while training: return the "
                           "parameters instead."}
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
