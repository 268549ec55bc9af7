"""`mnist-kit train`: train the reference network on MNIST, report accuracy, save the weights.

Two presets of the same 784-10-10 network:

    better    (default) mini_batch_gradient_descent: He init, 60 epochs of
              batches of 32, alpha 0.1 falling to 0.01, weight decay 1e-3,
              images shifted by up to a pixel each epoch.
    original  the notebook's configuration: uniform init, alpha 0.1, 500
              full-batch iterations, run by fast_gradient_descent (the
              same steps as solutions.descent.gradient_descent, in float32
              chunks; see solutions/fast_training.py).

The first --dev images (default 500) are held out as a dev set, as the original
notebook held out 1,000: they give the dev curves and the dev accuracy. The
official test set is used only for the final test accuracy, when it is found.
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from ..fast_training import fast_gradient_descent
from ..mnist_data import MnistData, MnistDataNotFound, load_mnist
from ..train_mnist import evaluate, mini_batch_gradient_descent
from ..train_mnist import save_params
from ..cli import stopped
from . import CommandError
from .learner_network import add_mine_arguments, prepare_mine
from .options import (
    FULL_BATCH,
    add_weights_option,
    batch_size_type,
    check_output_file,
    check_output_folder,
    check_step_sizes,
    epochs_type,
    hidden_units_type,
    non_negative_float,
    non_negative_int,
    positive_float,
)

HELP = "train the 784-10-10 network and save its weights (offline: on the bundled 5k sample; --mine: yours)"
DEFAULT_DEV_SIZE = 500


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides how the network is trained (the seed aside)."""

    epochs: int
    alpha: float
    alpha_final: float | None
    batch_size: int | str  # an int, or FULL_BATCH
    n_hidden: int
    init: str
    weight_decay: float
    augment: bool

    def describe(self) -> str:
        """One line, e.g. 'He init, 60 epochs of batches of 32, alpha 0.1 -> 0.01, ...'."""
        plural = "s" if self.epochs != 1 else ""
        if self.batch_size == FULL_BATCH:
            steps = f"{self.epochs} full-batch iteration{plural}"
        else:
            steps = f"{self.epochs} epoch{plural} of batches of {self.batch_size}"
        alpha = f"alpha {self.alpha:g}"
        if self.alpha_final is not None:
            alpha += f" -> {self.alpha_final:g}"
        parts = [f"{INIT_NAMES[self.init]} init", steps, alpha]
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        if self.augment:
            parts.append("images shifted by up to 1 pixel")
        return ", ".join(parts)


INIT_NAMES = {"he": "He", "uniform": "uniform"}
PRESETS = {
    "better": TrainingConfig(
        epochs=60, alpha=0.1, alpha_final=0.01, batch_size=32, n_hidden=10, init="he",
        weight_decay=1e-3, augment=True,
    ),
    "original": TrainingConfig(
        epochs=500, alpha=0.1, alpha_final=None, batch_size=FULL_BATCH, n_hidden=10,
        init="uniform", weight_decay=0.0, augment=False,
    ),
}
#: The command-line option that sets each TrainingConfig field.
OPTION_OF_FIELD = {
    "epochs": "--epochs", "alpha": "--alpha", "alpha_final": "--alpha-final",
    "batch_size": "--batch-size", "n_hidden": "--hidden", "init": "--init",
    "weight_decay": "--weight-decay", "augment": "--augment/--no-augment",
}
#: The fields --preset original lets the user set: it runs gradient_descent, which has no others.
ORIGINAL_OPTIONS = {"epochs", "alpha"}
PLOT_FILES = ("curves.png", "predictions.png", "confusion_matrix.png", "hidden_units.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `mnist-kit train` (training options default to the preset's)."""
    add_training_arguments(parser)
    output = parser.add_argument_group("output")
    add_weights_option(output, "where to save the trained weights (.npz)")
    output.add_argument(
        "--plots", type=Path, metavar="DIR",
        help="also save pictures there as PNG: " + ", ".join(PLOT_FILES),
    )
    add_mine_arguments(parser)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The preset, training and data options (shared with `mnist-kit compare`)."""
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="better",
        help="better (default): mini-batches, He init, >= 90%% on the test set; "
        "original: the notebook's 500 full-batch iterations, uniform init, alpha 0.1",
    )
    training = parser.add_argument_group("training (each defaults to the preset's value)")
    training.add_argument(
        "--epochs", "--iterations", dest="epochs", type=epochs_type, metavar="N",
        help="passes over the training images; with full batches, one pass is one iteration",
    )
    training.add_argument("--alpha", type=positive_float, metavar="A", help="learning rate")
    training.add_argument(
        "--alpha-final", type=positive_float, metavar="A",
        help="learning rate of the last epoch (it falls linearly from --alpha)",
    )
    training.add_argument(
        "--batch-size", type=batch_size_type, metavar="N|full", help="images per step"
    )
    training.add_argument("--hidden", dest="n_hidden", type=hidden_units_type, metavar="N",
                          help="hidden units (10 in the 784-10-10 network)")
    training.add_argument("--init", choices=("uniform", "he"), help="weight initialisation")
    training.add_argument("--weight-decay", type=non_negative_float, metavar="L",
                          help="L2 regularisation strength")
    training.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                          help="shift every image by up to a pixel each epoch")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed for the initial weights and the shuffling (default: 0)")
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", type=Path, metavar="PATH",
        help="training data: a folder or file (default: $MNIST_KIT_DATA, the download cache, "
        "then the bundled 5k sample)",
    )
    data.add_argument(
        "--test-data", type=Path, metavar="PATH",
        help="official test set for the final accuracy (default: $MNIST_KIT_DATA or the "
        "download cache; skipped when not found)",
    )
    data.add_argument(
        "--dev", type=non_negative_int, default=DEFAULT_DEV_SIZE, metavar="N",
        help=f"hold out the first N training images as a dev set (default: {DEFAULT_DEV_SIZE}; "
        "0 for none)",
    )


def resolve_config(args: argparse.Namespace) -> TrainingConfig:
    """The preset's configuration with every option the user gave put in its place.

    Raises:
        CommandError: --preset original with an option value the notebook's gradient_descent
            cannot honour (values equal to the preset's are accepted).
    """
    preset = PRESETS[args.preset]
    given = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(TrainingConfig)
        if getattr(args, field.name) is not None
    }
    if args.preset == "original":
        extra = sorted(
            name for name, value in given.items()
            if name not in ORIGINAL_OPTIONS and value != getattr(preset, name)
        )
        if extra:
            names = ", ".join(OPTION_OF_FIELD[name] for name in extra)
            raise CommandError(
                f"--preset original runs the notebook's gradient_descent as it is and takes "
                f"only --iterations, --alpha, --seed; not {names} (use the default preset "
                "with --batch-size full for full-batch variants)"
            )
    config = dataclasses.replace(preset, **given)
    check_step_sizes(config.alpha, config.weight_decay)
    return config


def split_dev(
    data: MnistData, n_dev: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Hold out the first n_dev images: X_train (784, m - n_dev), Y_train, X_dev (784, n_dev), Y_dev.

    X_dev and Y_dev are None when n_dev is 0.

    Raises:
        CommandError: n_dev leaves no image to train on.
    """
    m = data.Y.size
    if n_dev >= m:
        raise CommandError(
            f"--dev {n_dev} leaves no training images: the training data has only {m:,}"
        )
    if n_dev == 0:
        return data.X, data.Y, None, None
    return data.X[:, n_dev:], data.Y[n_dev:], data.X[:, :n_dev], data.Y[:n_dev]


def runs_as_original(config: TrainingConfig) -> bool:
    """True when config is the original preset, perhaps with other epochs or alpha."""
    original = PRESETS["original"]
    return config == dataclasses.replace(original, epochs=config.epochs, alpha=config.alpha)


def train_network(
    config: TrainingConfig,
    seed: int,
    X: np.ndarray,
    Y: np.ndarray,
    X_dev: np.ndarray | None,
    Y_dev: np.ndarray | None,
    history: dict[str, list[float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train with the stage functions, printing progress; fill `history` with the curves.

    The original preset (uniform init, full batch, constant alpha, 10 hidden
    units, nothing else) goes through fast_gradient_descent (gradient_descent's
    steps, in float32 chunks), which prints the notebook's
    "Iteration: 250  Accuracy: 0.793" lines; everything else through
    mini_batch_gradient_descent. Both record the dev curves when X_dev is given
    (per iteration and per epoch respectively).

    Args:
        X: (784, m) training images.   Y: (m,) labels.
        X_dev: (784, m_dev) dev images or None.   Y_dev: (m_dev,) or None.

    Returns:
        W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1).
    """
    if runs_as_original(config):
        # the same steps as solutions.descent.gradient_descent, in float32 chunks (see fast_training)
        return fast_gradient_descent(X, Y, config.alpha, config.epochs, seed=seed, history=history,
                                     X_dev=X_dev, Y_dev=Y_dev)
    batch_size = Y.size if config.batch_size == FULL_BATCH else config.batch_size
    return mini_batch_gradient_descent(
        X, Y, config.alpha, config.epochs, batch_size, seed=seed, n_hidden=config.n_hidden,
        init=config.init, alpha_final=config.alpha_final, weight_decay=config.weight_decay,
        augment=config.augment, history=history, X_dev=X_dev, Y_dev=Y_dev,
        print_every=max(1, config.epochs // 50),
    )


def _find_test_set(source: Path | None) -> MnistData | None:
    """The official test set: from `source` (errors are the user's), else wherever it is found."""
    if source is not None:
        return load_mnist("test", source)
    try:
        return load_mnist("test")
    except MnistDataNotFound:  # a broken file is reported, not skipped
        print("No official test set found: skipping the test accuracy "
              "(`mnist-kit download` fetches it, or pass --test-data DIR)")
        return None


def save_plots(
    folder: Path,
    history: dict[str, list[float]],
    params: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    step: str = "epoch",
    images: str | None = None,
) -> list[Path]:
    """Write curves, a prediction grid, a confusion matrix (on X, Y) and the hidden units as PNGs.

    `step` names the curves' x axis: "epoch", or "iteration" for full-batch descent;
    the curves count from 0, as the progress lines do. `images` says which images
    X holds ("official test set", ...), in the titles of the grid and the matrix.
    """
    # matplotlib is imported only when pictures are drawn (see show.run).
    from ..pictures import plot_confusion_matrix, plot_curves, plot_hidden_units, plot_prediction_grid

    W1 = params[0]
    curves, grid, confusion, hidden = (folder / name for name in PLOT_FILES)
    plot_curves({"": history}, step=step, path=curves)
    plot_prediction_grid(X, Y, *params, path=grid, images=images)
    plot_confusion_matrix(X, Y, *params, path=confusion, images=images)
    plot_hidden_units(W1, path=hidden)
    return [curves, grid, confusion, hidden]


def load_training_data(
    args: argparse.Namespace,
) -> tuple[MnistData | None, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The data of --data / --test-data / --dev, saying where it came from: (test, X, Y, X_dev, Y_dev)."""
    data = load_mnist("train", args.data)
    print(f"Training data: {data.description}")
    test = _find_test_set(args.test_data)
    X, Y, X_dev, Y_dev = split_dev(data, args.dev)
    return test, X, Y, X_dev, Y_dev


def shown_images(test: MnistData | None, X: np.ndarray, Y: np.ndarray, X_dev: np.ndarray | None,
                 Y_dev: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The images the pictures show: the test set, else the dev set, else the training images.

    Returns X (784, k), Y (k,) and what they are, e.g. "official test set".
    """
    if test is not None:
        return test.X, test.Y, "official test set" if test.Y.size == 10_000 else "test set"
    if Y_dev is not None:
        return X_dev, Y_dev, f"dev set (the first {Y_dev.size:,} training images, held out)"
    return X, Y, "training images (no dev or test set)"


def run(args: argparse.Namespace) -> int:
    """Load the data, train, print the accuracies, save the weights (and plots)."""
    config = resolve_config(args)
    check_output_file(args.weights, "the weights")  # fail now, not after training
    if args.plots is not None:
        check_output_folder(args.plots, "the plots")
    learner = prepare_mine(args, config)  # None unless --mine; your stages are checked first

    test, X, Y, X_dev, Y_dev = load_training_data(args)
    dev_note = f", {Y_dev.size:,} held out as dev set" if Y_dev is not None else ""
    print(f"Training 784-{config.n_hidden}-10 on {Y.size:,} images{dev_note}: {config.describe()}, "
          f"seed {args.seed}")
    if learner is not None:
        print(f"With {learner.describe()}")

    history: dict[str, list[float]] = {}
    started = time.perf_counter()
    try:
        # a diverging run overflows; that is reported below, once, instead of warnings
        with np.errstate(over="ignore", invalid="ignore"):
            if learner is None:
                params = train_network(config, args.seed, X, Y, X_dev, Y_dev, history)
            else:
                params = learner.train(config, args.seed, X, Y, X_dev, Y_dev, history)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (see cli.Terminated)
        what, status = stopped(stop)
        print(f"mnist-kit train: {what}; no weights saved", file=sys.stderr)
        return status
    seconds = time.perf_counter() - started if learner is None else learner.seconds
    if not all(np.all(np.isfinite(p)) for p in params):
        raise CommandError(
            f"training diverged (NaN or infinite weights) with alpha {config.alpha:g}: "
            "try a smaller --alpha; no weights saved"
        )

    print(f"Trained in {seconds:.1f} s")
    results = [("Training", X, Y, f"{Y.size:,} training images")]
    if Y_dev is not None:
        results.append(("Dev", X_dev, Y_dev, f"{Y_dev.size:,} held-out images"))
    if test is not None:
        results.append(("Test", test.X, test.Y, test.description))
    for name, X_set, Y_set, what in results:
        accuracy, loss = evaluate(*params, X_set, Y_set)
        print(f"{name + ' accuracy:':19} {accuracy:.4f}  (loss {loss:.3f}; {what})")

    try:
        save_params(args.weights, *params)
    except OSError as error:
        raise CommandError(f"{args.weights}: cannot save the weights ({error.strerror})") from None
    print(f"Saved weights to {args.weights}")
    if args.plots is not None:
        # the digits and confusion matrix show images the network was not trained on, if any
        X_shown, Y_shown, images = shown_images(test, X, Y, X_dev, Y_dev)
        step = "iteration" if runs_as_original(config) else "epoch"
        written = save_plots(args.plots, history, params, X_shown, Y_shown, step, images)
        print(f"Saved plots to {args.plots}: {', '.join(path.name for path in written)} "
              f"(digits and confusion matrix of the {images})")
    if learner is not None:
        print(learner.next_steps(args.weights))
    return 0
