"""`mnist-kit show`: draw what saved weights do, as a PNG file.

The picture is always written to a file (--out, default in runs/), so it works
with no display, over ssh and in CI; open the file to look at it. In a
notebook, call the functions of solutions.pictures instead: they return the
figure, which Jupyter shows inline.
"""

import argparse
from pathlib import Path

from ..mnist_data import MnistData, MnistDataNotFound, load_mnist
from ..train_mnist import make_predictions
from ..weights_file import read_weights
from . import CommandError
from .options import add_weights_option, check_output_file, grid_count_type, non_negative_int

HELP = "draw a test image with its predicted and actual label (or a grid, ...) as a picture file"
PICTURES = ("prediction", "grid", "confusion", "hidden-units")
RUNS = Path("runs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """INDEX, --picture, --count, --weights, --data, --out."""
    parser.add_argument("index", nargs="?", type=non_negative_int, default=0,
                        help="which image (the first one of the grid) (default: 0)")
    parser.add_argument(
        "--picture", choices=PICTURES, default="prediction",
        help="prediction (default): one image, predicted vs actual; grid: --count images "
        "from INDEX on, mistakes in red; confusion: the confusion matrix of the whole set; "
        "hidden-units: the rows of W1 as 28x28 images",
    )
    parser.add_argument("--count", type=grid_count_type, default=36,
                        help="images in the grid (default: 36, at most 360)")
    add_weights_option(parser, "the trained weights")
    parser.add_argument(
        "--data", type=Path, metavar="PATH",
        help="the images: a folder or file (default: the official test set when it is found, "
        "else the training data)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="where to write the picture, as .png, .jpg, .svg or .pdf by its suffix "
                        "(default: runs/prediction_INDEX.png, runs/grid_INDEX.png, runs/confusion.png, "
                        "runs/hidden-units.png)")


def _images(source: Path | None) -> tuple[MnistData, str]:
    """The test set (from source, or wherever it is found), else the training data, with a note.

    Returns the data and what it is ("official test set", "training images").
    """
    if source is not None:
        data = load_mnist("test", source)
    else:
        try:
            data = load_mnist("test")
        except MnistDataNotFound:  # a broken file is reported, not skipped
            data = load_mnist("train")
            print("No official test set found (`mnist-kit download` fetches it): "
                  "showing training images instead")
            return data, "training images"
    return data, "official test set" if data.Y.size == 10_000 else "test set"


def default_out(picture: str, index: int) -> Path:
    """runs/prediction_<index>.png, runs/grid_<index>.png, runs/confusion.png, runs/hidden-units.png."""
    if picture in ("prediction", "grid"):
        return RUNS / f"{picture}_{index}.png"
    return RUNS / f"{picture}.png"


def run(args: argparse.Namespace) -> int:
    """Draw the picture asked for and save it."""
    # matplotlib is imported only by the commands that draw: `mnist-kit hint` and the
    # other commands build the same parser and should not wait for it.
    from ..pictures import (
        figure_format,
        plot_confusion_matrix,
        plot_hidden_units,
        plot_prediction_grid,
        show_prediction,
    )

    out = args.out if args.out is not None else default_out(args.picture, args.index)
    check_output_file(out, "the picture")
    try:
        figure_format(out)
    except ValueError as error:
        raise CommandError(str(error)) from None
    W1, b1, W2, b2 = read_weights(args.weights)
    if args.picture == "hidden-units":
        plot_hidden_units(W1, path=out)
        print(f"Saved {out}")
        return 0

    data, images = _images(args.data)
    m = data.Y.size
    if args.index >= m:
        raise CommandError(f"image {args.index} does not exist: the data has {m:,} images "
                           f"(0..{m - 1}): {data.description}")
    if args.picture == "prediction":
        show_prediction(args.index, data.X, data.Y, W1, b1, W2, b2, path=out)
        predicted = make_predictions(data.X[:, [args.index]], W1, b1, W2, b2)[0]
        verdict = "right" if predicted == data.Y[args.index] else "WRONG"
        print(f"Image {args.index}: predicted {predicted}, actual {data.Y[args.index]} "
              f"({verdict}; the {images})")
    elif args.picture == "grid":
        indices = list(range(args.index, min(args.index + args.count, m)))
        plot_prediction_grid(data.X, data.Y, W1, b1, W2, b2, indices=indices, path=out, images=images)
    else:
        plot_confusion_matrix(data.X, data.Y, W1, b1, W2, b2, path=out, images=images)
    print(f"Saved {out}")
    return 0
