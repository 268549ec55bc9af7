"""Pictures of a trained network: its predictions, its mistakes and its hidden units.

Every function builds a matplotlib Figure without pyplot (no global state, no
display needed), returns it (a NotebookFigure: Jupyter shows it inline when it
is the last value of a cell) and, when `path` is given, also saves it,
atomically, in the format its suffix names (.png, .jpg/.jpeg, .svg or .pdf).

    show_prediction        one test image with the predicted and the actual label
    plot_prediction_grid   a grid of digits, predicted vs actual, mistakes in red
    plot_confusion_matrix  how often each digit is taken for each other digit
    plot_hidden_units      the 10 rows of W1 seen as 28x28 images
    plot_curves            accuracy and loss curves of one or more training runs

The picture functions that draw a network's predictions take the same arguments
in the same order: the images, their labels, then the network, e.g.
plot_confusion_matrix(X, Y, W1, b1, W2, b2). The stage 05 function that learners
write, solutions.train_mnist.plot_history, draws one run's curves too.

Arrays follow the kit's convention: X (784, m) in [0, 1], one image per column;
Y (m,) integer labels; W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden),
b2 (10, 1).
"""

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from kit_helpers import atomic_write
from .notebook_figure import NotebookFigure
from .train_mnist import make_predictions

IMAGE_SIDE = 28
N_CLASSES = 10
MISTAKE_COLOUR = "tab:red"


#: file suffix -> the format matplotlib writes for it
FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg", ".pdf": "pdf"}


def figure_format(path: str | os.PathLike) -> str:
    """The format a picture saved at `path` is written in, from its suffix ("png", "jpeg", ...).

    Raises:
        ValueError: the suffix is none of FORMATS (the message lists them).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        got = f"{suffix!r}" if suffix else "no suffix"
        raise ValueError(f"{path}: a picture file needs one of the suffixes {known} (got {got})")
    return FORMATS[suffix]


def save_png(figure: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save `figure` as a PNG at `path` atomically (parent folders are created).

    Returns:
        The path written, as a Path.
    """
    with atomic_write(path) as file:
        figure.savefig(file, format="png", dpi=dpi)
    return Path(path)


def save_figure(figure: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Save `figure` at `path` atomically, in the format of its suffix (see figure_format).

    Raises:
        ValueError: the suffix names no format the kit writes.
    """
    kind = figure_format(path)
    if kind == "png":
        return save_png(figure, path, dpi)
    if kind == "jpeg":  # JPEG has no transparency: draw on white
        figure.set_facecolor("white")
    with atomic_write(path) as file:
        figure.savefig(file, format=kind, dpi=dpi)
    return Path(path)


def _finish(figure: Figure, path: str | os.PathLike | None) -> Figure:
    if path is not None:
        save_figure(figure, path)
    return figure


def _as_image(X: np.ndarray, index: int) -> np.ndarray:
    """Column `index` of X (784, m) as a (28, 28) image."""
    return X[:, index].reshape(IMAGE_SIDE, IMAGE_SIDE)


def _check_index(index: int, m: int) -> None:
    if not -m <= index < m:
        raise IndexError(f"image index {index} is out of range: there are {m} images (0..{m - 1})")


def show_prediction(
    index: int,
    X: np.ndarray,
    Y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Image `index` of X, titled with the network's prediction and the true label.

    The original notebook's test_prediction, as a Figure:

        prediction = make_predictions(X[:, index:index+1], W1, b1, W2, b2)[0]

    Args:
        index: which column of X (0..m-1).
        X: (784, m) images.   Y: (m,) labels.
        W1 (n_hidden, 784), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1): the network.
        path: if given, the figure is also saved there (see the module docstring).

    Returns:
        A one-panel Figure, titled "Predicted: 7   Actual: 7" (red when they differ).

    Raises:
        IndexError: index is not a valid column of X.
    """
    _check_index(index, X.shape[1])
    prediction = int(make_predictions(X[:, [index]], W1, b1, W2, b2)[0])
    actual = int(Y[index])
    figure = NotebookFigure(figsize=(3.2, 3.6))
    axes = figure.subplots()
    axes.imshow(_as_image(X, index), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    colour = "black" if prediction == actual else MISTAKE_COLOUR
    axes.set_title(f"Predicted: {prediction}   Actual: {actual}", color=colour)
    axes.set_xlabel(f"image {index}")
    figure.tight_layout()
    return _finish(figure, path)


def plot_prediction_grid(
    X: np.ndarray,
    Y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    *,
    indices: np.ndarray | list[int] | None = None,
    columns: int = 6,
    path: str | os.PathLike | None = None,
    images: str | None = None,
) -> Figure:
    """A grid of digits, each titled "predicted (actual)"; mistakes in red, framed.

    Args:
        X: (784, m) images.   Y: (m,) labels.
        W1, b1, W2, b2: the network (shapes as in the module docstring).
        indices: which columns of X to show (default the first 36, or all if fewer).
        columns: digits per row.
        path: if given, the figure is also saved there (see the module docstring).
        images: which images X holds, e.g. "official test set"; the title says it
            with the range of indices shown ("official test set, images 0-35").

    Returns:
        A Figure with one small panel per digit, and a title counting the mistakes.

    Raises:
        IndexError: an index is not a valid column of X.
        ValueError: indices is empty, or columns < 1.
    """
    m = X.shape[1]
    indices = np.arange(min(36, m)) if indices is None else np.asarray(indices, dtype=int)
    if indices.size == 0 or columns < 1:
        raise ValueError("plot_prediction_grid needs at least one index and columns >= 1")
    for index in indices:
        _check_index(int(index), m)
    predictions = make_predictions(X[:, indices], W1, b1, W2, b2)
    actual = Y[indices]
    rows = math.ceil(indices.size / columns)
    figure = NotebookFigure(figsize=(1.4 * columns, 1.55 * rows + 0.5))
    panels = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for panel, index, predicted, truth in zip(panels, indices, predictions, actual):
        panel.imshow(_as_image(X, int(index)), cmap="gray", vmin=0.0, vmax=1.0)
        wrong = predicted != truth
        colour = MISTAKE_COLOUR if wrong else "black"
        panel.set_title(f"{predicted} ({truth})", color=colour, fontsize=10)
        for spine in panel.spines.values():
            spine.set_color(colour)
            spine.set_linewidth(3 if wrong else 0.5)
    for panel in panels:
        panel.set_xticks([])
        panel.set_yticks([])
    for panel in panels[indices.size :]:
        panel.set_visible(False)
    mistakes = int(np.count_nonzero(predictions != actual))
    title = (f"predicted (actual): {mistakes} mistake{'s' if mistakes != 1 else ''} "
             f"of {indices.size}, in red")
    if images:
        title += f"\n{images}, {_describe_indices(indices)}"
    figure.suptitle(title)
    figure.tight_layout()
    return _finish(figure, path)


def confusion_matrix(predictions: np.ndarray, Y: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Count how often each true class is predicted as each class.

        counts[i, j] = #{k : Y[k] == i and predictions[k] == j}

    The diagonal holds the correct predictions; counts.sum() == m.

    Args:
        predictions: (m,) predicted classes in 0..n_classes-1.
        Y: (m,) true classes in 0..n_classes-1.
        n_classes: number of classes.

    Returns:
        (n_classes, n_classes) int64 counts, rows = actual, columns = predicted.
    """
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(Y, dtype=int), np.asarray(predictions, dtype=int)), 1)
    return counts


def plot_confusion_matrix(
    X: np.ndarray,
    Y: np.ndarray,
    W1: np.ndarray | None = None,
    b1: np.ndarray | None = None,
    W2: np.ndarray | None = None,
    b2: np.ndarray | None = None,
    *,
    path: str | os.PathLike | None = None,
    images: str | None = None,
) -> Figure:
    """The network's confusion matrix on (X, Y) as a heat map, with the count in every cell.

    Takes its arguments like its siblings show_prediction and plot_prediction_grid:
    plot_confusion_matrix(X, Y, W1, b1, W2, b2). The older form
    plot_confusion_matrix(predictions, Y), with (m,) predicted digits in place of the
    images and no network, still works.

    Args:
        X: (784, m) images (or, in the older form, (m,) predicted digits).
        Y: (m,) true digits.
        W1, b1, W2, b2: the network (shapes as in the module docstring).
        path: if given, the figure is also saved there (see the module docstring).
        images: which images X holds, e.g. "official test set"; the title says it.

    Returns:
        A Figure: rows are the actual digit, columns the predicted one; the
        title gives the number of images and the accuracy (the diagonal's share).

    Raises:
        TypeError: some of W1, b1, W2, b2 are given and others not, or the older form
            is used with 2-D images.
    """
    network = (W1, b1, W2, b2)
    if all(p is None for p in network):
        predictions = np.asarray(X)
        if predictions.ndim != 1:
            raise TypeError("plot_confusion_matrix(X, Y, W1, b1, W2, b2) needs the network's four "
                            "parameters (or, the older form, (m,) predictions in place of X)")
    elif any(p is None for p in network):
        raise TypeError("plot_confusion_matrix(X, Y, W1, b1, W2, b2) needs all four of W1, b1, W2, b2")
    else:
        predictions = make_predictions(X, W1, b1, W2, b2)
    counts = confusion_matrix(predictions, Y)
    figure = NotebookFigure(figsize=(6.4, 5.6))
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, label="images")
    threshold = counts.max() / 2 if counts.size else 0
    for actual in range(N_CLASSES):
        for predicted in range(N_CLASSES):
            value = counts[actual, predicted]
            if value:
                axes.text(
                    predicted, actual, str(value), ha="center", va="center", fontsize=8,
                    color="white" if value > threshold else "black",
                )
    axes.set_xticks(range(N_CLASSES))
    axes.set_yticks(range(N_CLASSES))
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("actual digit")
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else float("nan")
    what = f"\n{images}" if images else ""
    axes.set_title(f"Confusion matrix: {total:,} images, accuracy {accuracy:.1%}{what}")
    figure.tight_layout()
    return _finish(figure, path)


def plot_hidden_units(W1: np.ndarray, path: str | os.PathLike | None = None) -> Figure:
    """Each hidden unit's incoming weights (a row of W1) drawn as a 28x28 image.

    Unit i computes Z1[i] = W1[i] . x + b1[i]: pixels where W1[i] is positive
    (red) push it up, negative ones (blue) push it down, so the picture shows
    the pattern the unit responds to. One colour scale, symmetric about 0, is
    shared by all units.

    Args:
        W1: (n_hidden, 784) first-layer weights.
        path: if given, the figure is also saved there (see the module docstring).

    Returns:
        A Figure with one panel per hidden unit (5 per row).
    """
    n_hidden = W1.shape[0]
    columns = min(5, n_hidden)
    rows = math.ceil(n_hidden / columns)
    limit = float(np.max(np.abs(W1))) or 1.0
    figure = NotebookFigure(figsize=(2.0 * columns + 1.0, 2.1 * rows + 0.4), layout="constrained")
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    image = None
    for unit, panel in enumerate(panels):
        panel.set_xticks([])
        panel.set_yticks([])
        if unit >= n_hidden:
            panel.set_visible(False)
            continue
        image = panel.imshow(
            W1[unit].reshape(IMAGE_SIDE, IMAGE_SIDE), cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        panel.set_title(f"unit {unit}", fontsize=10)
    figure.suptitle("Hidden units: rows of W1 as 28x28 images")
    figure.colorbar(image, ax=list(panels), shrink=0.8, label="weight")
    return _finish(figure, path)


def _describe_indices(indices: np.ndarray) -> str:
    """ "images 0-35" for a run of consecutive indices, else "36 images from 4 on"."""
    first, last = int(indices[0]), int(indices[-1])
    if np.array_equal(indices, np.arange(first, last + 1)):
        return f"image {first}" if first == last else f"images {first}-{last}"
    return f"{indices.size} images, the first {first}"


#: the line style of each curve of a run: the training images solid, the dev images dashed
CURVE_STYLES = {"": "-", "dev_": "--"}


def plot_curves(
    runs: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    step: str = "epoch",
    path: str | os.PathLike | None = None,
) -> Figure:
    """Accuracy (left) and loss (right) of one or more training runs, on shared axes.

    The x axis counts from 0, as the training's progress lines do: the point at
    epoch 0 is what "Epoch: 0 ..." printed, the figures after the first epoch
    (for full-batch descent, "Iteration: 0 ..." and iteration 0's forward pass).

    Args:
        runs: name -> history, a history being a dict with lists "accuracy" and "loss"
            (and optionally "dev_accuracy", "dev_loss"), one value per step, as the
            training functions fill it. With one run its curves are labelled "train"
            and "dev"; with several, "<name>: train" and "<name>: dev", each run in its
            own colour (train solid, dev dashed).
        step: what the x axis counts, "epoch" or "iteration".
        path: if given, the figure is also saved there (see the module docstring).

    Returns:
        A Figure with two panels.
    """
    from matplotlib.ticker import MaxNLocator

    figure = NotebookFigure(figsize=(10, 4))
    accuracy_axes, loss_axes = figure.subplots(1, 2)
    for number, (name, history) in enumerate(runs.items()):
        colour = f"C{number}"
        # each run drawn thinner than the one before, so that equal curves still show both
        width = 1.5 + 2.0 * (len(runs) - 1 - number)
        for axes, key in ((accuracy_axes, "accuracy"), (loss_axes, "loss")):
            for prefix, style in CURVE_STYLES.items():
                values = history.get(prefix + key)
                if not values:
                    continue
                curve = "train" if not prefix else "dev"
                label = curve if len(runs) == 1 else f"{name}: {curve}"
                axes.plot(range(len(values)), values, style, color=colour, label=label, linewidth=width,
                          alpha=0.55 if number < len(runs) - 1 else 1.0)
    for axes, title in ((accuracy_axes, "Accuracy"), (loss_axes, "Loss")):
        axes.set_title(title)
        axes.set_xlabel(step)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend()
    figure.tight_layout()
    return _finish(figure, path)
