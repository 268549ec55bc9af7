"""`--mine`: training the network built from the learner's own functions (train, compare).

    mnist-kit train --mine [--exercises DIR] [--time-limit SECONDS] [training options]

The learner's stages are graded first (as `mnist-kit progress` does); a stage
that does not pass yet stops the command with one line naming it and the
command that grades it. Then their training function runs on the data and
options that `mnist-kit train` would use for the reference:

    default preset    their stage 05 mini_batch_gradient_descent(X, Y, alpha, epochs,
                      batch_size, seed=..., n_hidden=..., init=..., alpha_final=...,
                      weight_decay=..., augment=..., history=..., X_dev=..., Y_dev=...,
                      print_every=...)
    --preset original their stage 04 gradient_descent(X, Y, alpha, iterations, seed=...,
                      history=..., print_every=10)

in a child process (grading.tools.training: a time limit, one-line errors
naming their file and line). The kit then measures the accuracies, saves the
weights and draws the pictures exactly as for the reference.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grading.tools.progress import kit_command, shown_path, stage_command
from grading.tools.stage_results import CANNOT_GRADE, StageResult
from grading.tools.training import (
    DEFAULT_TRAINING_LIMIT,
    LearnerTrainingError,
    TrainingRequest,
    needed_stages,
    run_learner_training,
    unfinished_stages,
)
from grading.stages import EXERCISES_DIR, STAGES, stage_of_function

from . import CommandError
from .options import FULL_BATCH, positive_float

if TYPE_CHECKING:
    from .train import TrainingConfig


def add_mine_arguments(parser: argparse.ArgumentParser, *, always: bool = False) -> None:
    """--mine (unless `always`: the command always trains the learner's network), --exercises, --time-limit."""
    group = parser.add_argument_group("your own network")
    if not always:
        group.add_argument(
            "--mine", action="store_true",
            help="train the network built from YOUR functions in exercises/ (stages 01-05; with "
                 "--preset original, your stage 04 gradient_descent), once those stages pass",
        )
    group.add_argument("--exercises", type=Path, metavar="DIR",
                       help="the folder holding your stage folders (default: the kit's exercises/)")
    group.add_argument("--time-limit", type=positive_float, metavar="SECONDS",
                       help=f"stop your training after this long (default: {DEFAULT_TRAINING_LIMIT:g})")


def training_function(config: "TrainingConfig") -> str:
    """The learner's function that trains with `config`: gradient_descent for the original preset."""
    from .train import runs_as_original

    return "gradient_descent" if runs_as_original(config) else "mini_batch_gradient_descent"


@dataclass
class LearnerTraining:
    """The learner's training, once their stages pass.

    Attributes:
        exercises: their exercises folder.
        function: the training function called ("mini_batch_gradient_descent", ...).
        time_limit: seconds it may take.
        seconds: how long the last train() call took (set by train()).
    """

    exercises: Path
    function: str
    time_limit: float
    seconds: float = 0.0

    def describe(self) -> str:
        """E.g. "your mini_batch_gradient_descent() (exercises/05_train_mnist/train_mnist.py), on your stages 01-04"."""
        stage = stage_of_function(self.function)
        earlier = needed_stages(self.function)[:-1]
        on = f", on your stages {earlier[0].number}-{earlier[-1].number}" if earlier else ""
        return f"your {self.function}() ({shown_path(stage.learner_file(self.exercises))}){on}"

    def request(self, config: "TrainingConfig", seed: int, m: int) -> TrainingRequest:
        """The call that trains with `config` on m images, as train_network makes it for the reference."""
        if self.function == "gradient_descent":
            return TrainingRequest(self.function, (config.alpha, config.epochs),
                                   {"seed": seed, "print_every": 10}, pass_dev=False)
        batch_size = m if config.batch_size == FULL_BATCH else config.batch_size
        return TrainingRequest(
            self.function, (config.alpha, config.epochs, batch_size),
            {"seed": seed, "n_hidden": config.n_hidden, "init": config.init,
             "alpha_final": config.alpha_final, "weight_decay": config.weight_decay,
             "augment": config.augment, "print_every": max(1, config.epochs // 50)},
            n_hidden=config.n_hidden,
        )

    def train(self, config: "TrainingConfig", seed: int, X: np.ndarray, Y: np.ndarray,
              X_dev: np.ndarray | None, Y_dev: np.ndarray | None,
              history: dict[str, list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Run the learner's training; fill `history` with its curves and return W1, b1, W2, b2.

        Raises:
            CommandError: the training failed (one line naming the learner's file and line).
        """
        try:
            run = run_learner_training(self.exercises, self.request(config, seed, Y.size), X, Y, X_dev, Y_dev,
                                       time_limit=self.time_limit)
        except LearnerTrainingError as error:
            raise CommandError(str(error)) from None
        history.update(run.history)
        self.seconds = run.seconds
        return run.params

    def next_steps(self, weights: Path) -> str:
        """What to do with the trained weights."""
        extra = "" if weights == Path("runs") / "weights.npz" else f" --weights {weights}"
        compare = kit_command("compare", self.exercises)
        return (f"Your network's weights: `mnist-kit evaluate{extra}` (the official test set), "
                f"`mnist-kit show 0{extra}` (a test image); `{compare}` puts your run beside the reference's.")


def prepare_mine(args: argparse.Namespace, config: "TrainingConfig", *,
                 always: bool = False) -> LearnerTraining | None:
    """The learner's training for args (None without --mine, unless `always`), once their stages pass.

    Raises:
        CommandError: --exercises or --time-limit without --mine, no such exercises folder, or
            a stage the training needs does not pass yet (the message names the first such stage).
    """
    if not always and not args.mine:
        given = [name for name, value in (("--exercises", args.exercises), ("--time-limit", args.time_limit))
                 if value is not None]
        if given:
            raise CommandError(f"{' and '.join(given)} go with --mine (they say how to train YOUR network)")
        return None
    exercises = _exercises_folder(args.exercises)
    function = training_function(config)
    stages = needed_stages(function)
    print(f"Checking your stages {stages[0].number}-{stages[-1].number} before training "
          f"(as `mnist-kit progress` does) ...", flush=True)
    unfinished = unfinished_stages(function, exercises)
    if unfinished:
        raise CommandError(_finish_first(unfinished[0], function, exercises))
    limit = args.time_limit if args.time_limit is not None else DEFAULT_TRAINING_LIMIT
    return LearnerTraining(exercises, function, limit)


def _exercises_folder(folder: Path | None) -> Path:
    folder = folder if folder is not None else EXERCISES_DIR
    first, last = STAGES[0].folder, STAGES[-1].folder
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder (--exercises names the folder holding {first}/ ... {last}/)")
    if not any((folder / stage.folder).is_dir() for stage in STAGES):
        raise CommandError(f"{folder}: holds none of the stage folders {first}/ ... {last}/ "
                           f"(is it the exercises folder?)")
    return folder


def _finish_first(result: StageResult, function: str, exercises: Path) -> str:
    """One line: the stage to finish first, why, and the command that grades it."""
    stage = result.stage
    training = f"your {function}() is built on your stages {needed_stages(function)[0].number}-" \
               f"{needed_stages(function)[-1].number}"
    if result.status == CANNOT_GRADE:
        why = f"{stage.label} cannot be graded ({result.problem.splitlines()[0]})"
    else:
        pending = result.next_function
        what = f"; next: {pending.function}()" if pending is not None else ""
        why = f"{stage.label} does not pass yet ({result.passed} of {result.total} checks{what})"
    return (f"{training}, and {why}: finish that stage first - `{stage_command(stage, exercises)}` "
            f"grades it, `{kit_command('progress', exercises)}` shows every stage.")
