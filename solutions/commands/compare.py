"""`mnist-kit compare`: your network beside the reference, trained the same way.

Trains the reference network and then the network built from YOUR functions
(as `mnist-kit train` and `mnist-kit train --mine` do: the same data, preset,
options and seed), and prints, side by side, each one's training, dev and test
accuracy, final loss and training time. The accuracy and loss curves of both
runs go into one picture (--out, default runs/compare.png). No weights are
saved: `mnist-kit train [--mine]` does that.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..train_mnist import evaluate
from . import CommandError
from .learner_network import add_mine_arguments, prepare_mine
from ..cli import stopped
from .train import (
    add_training_arguments,
    load_training_data,
    resolve_config,
    runs_as_original,
    train_network,
)

HELP = "train your network and the reference the same way, and compare accuracy, curves and time"
DEFAULT_OUT = Path("runs") / "compare.png"
NAMES = ("yours", "reference")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The training options of `mnist-kit train`, --exercises, --time-limit and --out."""
    add_training_arguments(parser)
    add_mine_arguments(parser, always=True)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"where to draw both runs' curves (.png, .jpg, .svg or .pdf; default: {DEFAULT_OUT})")


def run(args: argparse.Namespace) -> int:
    """Train both networks, print the comparison, draw the curves."""
    from ..pictures import figure_format  # matplotlib only for the commands that draw

    config = resolve_config(args)
    try:
        figure_format(args.out)
    except ValueError as error:
        raise CommandError(str(error)) from None
    learner = prepare_mine(args, config, always=True)
    assert learner is not None
    test, X, Y, X_dev, Y_dev = load_training_data(args)
    dev_note = f", {Y_dev.size:,} held out as dev set" if Y_dev is not None else ""
    print(f"Training 784-{config.n_hidden}-10 on {Y.size:,} images{dev_note}: {config.describe()}, "
          f"seed {args.seed}, twice")

    runs: dict[str, tuple[tuple[np.ndarray, ...], dict[str, list[float]], float]] = {}
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            print("\nThe reference network:", flush=True)
            history: dict[str, list[float]] = {}
            started = time.perf_counter()
            params = train_network(config, args.seed, X, Y, X_dev, Y_dev, history)
            runs["reference"] = (params, history, time.perf_counter() - started)
            print(f"\nYours: {learner.describe()}", flush=True)
            history = {}
            params = learner.train(config, args.seed, X, Y, X_dev, Y_dev, history)
            runs["yours"] = (params, history, learner.seconds)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (see cli.Terminated)
        what, status = stopped(stop)
        print(f"mnist-kit compare: {what}", file=sys.stderr)
        return status

    sets = [("training", X, Y)]
    if Y_dev is not None:
        sets.append(("dev", X_dev, Y_dev))
    if test is not None:
        sets.append(("test", test.X, test.Y))
    rows = [("", *NAMES)]
    for name, X_set, Y_set in sets:
        figures = [_figures(runs[who][0], X_set, Y_set) for who in NAMES]
        rows.append((f"{name} accuracy", *(accuracy for accuracy, _ in figures)))
        rows.append((f"{name} loss", *(loss for _, loss in figures)))
    rows.append(("training time", *(f"{runs[who][2]:.1f} s" for who in NAMES)))
    print()
    width = max(len(row[0]) for row in rows)
    for row in rows:
        print(f"  {row[0]:<{width}}   {row[1]:>9}   {row[2]:>9}")
    if test is None:
        print("  (no official test set found: `mnist-kit download`, or --test-data DIR)")

    from ..pictures import plot_curves

    step = "iteration" if runs_as_original(config) else "epoch"
    plot_curves({who: runs[who][1] for who in NAMES}, step=step, path=args.out)
    print(f"\nSaved {args.out}: accuracy and loss of both runs, per {step} (yours and the reference's)")
    return 0


def _figures(params: tuple[np.ndarray, ...], X: np.ndarray, Y: np.ndarray) -> tuple[str, str]:
    """The accuracy and loss of a network on (X, Y), formatted; "diverged" for NaN weights."""
    if not all(np.all(np.isfinite(p)) for p in params):
        return "diverged", "-"
    accuracy, loss = evaluate(*params, X, Y)
    return f"{accuracy:.4f}", f"{loss:.3f}"
