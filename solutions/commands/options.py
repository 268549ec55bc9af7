"""Option types, limits and options shared by several commands.

Each *_type function is an argparse `type=`: it turns the option's text into a
value or raises argparse.ArgumentTypeError with a message saying what was
expected, which argparse prints as "argument --alpha: must be ... (got '-1')".
Sizes are bounded (hidden units, batch size, epochs, seconds), each message
saying the limit, so that a typo like --hidden 10000000 is refused at once
instead of ending in a MemoryError. check_output_file and check_output_folder
find an output place that cannot be written before a long run, not after it.
"""

import argparse
import math
import os
from pathlib import Path

from kit_helpers.atomic_files import probe_writable, write_target
from kit_helpers.regular_files import check_regular

from ..mnist_data.download import MAX_SECONDS
from ..mnist_data.limits import MAX_IMAGES
from ..weights_file import MAX_HIDDEN
from . import CommandError

DEFAULT_WEIGHTS = Path("runs") / "weights.npz"
FULL_BATCH = "full"
#: The most epochs (or full-batch iterations) one run may ask for; the presets use 60 and 500.
MAX_EPOCHS = 100_000
#: The most digits a picture grid may show (6 per row).
MAX_GRID = 360


def _shown(text: str) -> str:
    """The option's text as a message quotes it: repr, cut short when it is long."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text):,} characters)"


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {noun}, got {_shown(text)}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {_shown(text)}")
    return value


def _at_most(value: int | float, limit: int | float, text: str, what: str) -> int | float:
    if value > limit:
        raise argparse.ArgumentTypeError(f"at most {limit:,g} {what}, got {_shown(text)}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {_shown(text)}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {_shown(text)}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {_shown(text)}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {_shown(text)}")
    return value


def batch_size_type(text: str) -> int | str:
    """An integer in 1..MAX_IMAGES, or the word "full" (every training image in each step)."""
    if text.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    value = _number(text, int) if text.strip().lstrip("-").isdigit() else None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'full', got {_shown(text)}")
    return _at_most(value, MAX_IMAGES, text, "images per batch (the most a data file holds)")


def hidden_units_type(text: str) -> int:
    """An integer in 1..MAX_HIDDEN."""
    return _at_most(positive_int(text), MAX_HIDDEN, text, "hidden units")


def epochs_type(text: str) -> int:
    """An integer in 1..MAX_EPOCHS."""
    return _at_most(positive_int(text), MAX_EPOCHS, text, "epochs or iterations")


def grid_count_type(text: str) -> int:
    """An integer in 1..MAX_GRID."""
    return _at_most(positive_int(text), MAX_GRID, text, "images in a grid")


def seconds_type(text: str) -> float:
    """A finite number of seconds > 0, at most MAX_SECONDS."""
    return _at_most(positive_float(text), MAX_SECONDS, text, "seconds (a day)")


def check_step_sizes(alpha: float, weight_decay: float) -> None:
    """Refuse a weight decay that makes every step overshoot, naming --weight-decay (not --alpha).

    A step is P <- P - alpha * (dP + weight_decay * P) = (1 - alpha * weight_decay) * P - alpha * dP,
    so with alpha * weight_decay >= 1 the decay alone flips or blows up the weights. With a
    learning rate above 1 the rate is the likelier culprit: training then reports the
    divergence and names --alpha.

    Raises:
        CommandError: alpha * weight_decay >= 1 with alpha <= 1.
    """
    if alpha <= 1 and alpha * weight_decay >= 1:
        raise CommandError(
            f"--weight-decay {weight_decay:g} with --alpha {alpha:g}: each step multiplies the weights by "
            f"1 - alpha x weight decay = {1 - alpha * weight_decay:.3g}, so training cannot converge; "
            "keep alpha x weight decay below 1 (the default preset uses 0.1 x 0.001)"
        )


def check_output_file(path: Path, what: str) -> None:
    """Make sure `path` can be written, before the work that produces it starts.

    Refuses a folder / FIFO / device at the path and a folder that cannot be
    written (see check_output_folder).

    Raises:
        CommandError: naming the path, what it is for and what is wrong.
    """
    target = write_target(path)
    if target.is_dir():
        raise CommandError(f"{path}: is a folder; {what} need a file path")
    check_output_folder(target.parent, what)
    try:
        if os.path.lexists(target):
            check_regular(path, os.stat(target).st_mode)
    except OSError as error:
        raise CommandError(f"{path}: cannot write {what} there ({error.strerror or error})") from None


def check_output_folder(folder: Path, what: str) -> None:
    """Check that `folder` is, or can be made, a folder where a file can be written; create nothing.

    The nearest part of the path that exists must be a folder in which a
    temporary file can be created (a read-only folder fails here, not after a
    long run). Nothing is left behind when the command fails later: the folders
    are made when the file is written.

    Raises:
        CommandError: naming the folder, what it is for and what is wrong.
    """
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{folder}: cannot create the folder for {what} ({existing} is not a folder)")
    try:
        probe_writable(existing)
    except OSError as error:
        raise CommandError(f"{existing}: cannot write {what} in this folder ({error.strerror or error})") from None


def add_weights_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """--weights PATH, default runs/weights.npz (relative to the current folder)."""
    parser.add_argument(
        "--weights", type=Path, default=DEFAULT_WEIGHTS, metavar="PATH",
        help=f"{help_text} (default: {DEFAULT_WEIGHTS})",
    )
