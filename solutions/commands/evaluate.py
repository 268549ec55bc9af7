"""`mnist-kit evaluate`: the accuracy of saved weights on the official MNIST test set."""

import argparse
from pathlib import Path

from ..mnist_data import load_mnist
from ..train_mnist import evaluate
from ..weights_file import read_weights
from .options import add_weights_option

HELP = "accuracy of saved weights on the official 10,000-image test set"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--weights PATH and --data PATH (the test set)."""
    add_weights_option(parser, "the trained weights to evaluate")
    parser.add_argument(
        "--data", type=Path, metavar="PATH",
        help="the test set: a folder or file (default: $MNIST_KIT_DATA, then the download cache)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the test accuracy and loss of the weights."""
    W1, b1, W2, b2 = read_weights(args.weights)
    test = load_mnist("test", args.data)
    print(f"Test data: {test.description}")
    accuracy, loss = evaluate(W1, b1, W2, b2, test.X, test.Y)
    correct = round(accuracy * test.Y.size)
    print(f"Test accuracy: {accuracy:.4f}  ({correct:,} of {test.Y.size:,} images right, "
          f"loss {loss:.3f}) for {args.weights} (784-{W1.shape[0]}-10)")
    return 0
