"""Option types and options shared by several commands.

Each *_type function is an argparse `type=`: it turns the option's text into a
value or raises argparse.ArgumentTypeError with a message saying what was
expected, which argparse prints as "argument --alpha: must be ... (got '-1')".
"""

import argparse
import math
from pathlib import Path

DEFAULT_WEIGHTS = Path("runs") / "weights.npz"
FULL_BATCH = "full"


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {noun}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def batch_size_type(text: str) -> int | str:
    """An integer >= 1, or the word "full" (every training image in each step)."""
    if text.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    value = _number(text, int) if text.strip().lstrip("-").isdigit() else None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'full', got {text!r}")
    return value


def add_weights_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """--weights PATH, default runs/weights.npz (relative to the current folder)."""
    parser.add_argument(
        "--weights", type=Path, default=DEFAULT_WEIGHTS, metavar="PATH",
        help=f"{help_text} (default: {DEFAULT_WEIGHTS})",
    )
