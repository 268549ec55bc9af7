# MISTAKE: plot_history never writes the PNG.
# EXPECT test_bonus_plot_history: no file was written
# Stage 05 (train MNIST) - this is YOUR file: replace each `raise NotImplementedError(...)`
# with your code, and edit anything else you like.
# Check your work with:  python -m pytest exercises/05_train_mnist
# (Generated from solutions/train_mnist.py by `python -m grading.build`.)
"""Stage 05 - the capstone: train your network on MNIST, mini-batch by mini-batch.

Full-batch gradient descent (stage 04) takes one step per pass over all m
examples. Mini-batch gradient descent shuffles the examples every epoch, cuts
them into batches of batch_size columns and takes one step per batch:

    for each epoch:
        order = a fresh random permutation of 0..m-1
        for each batch B (batch_size consecutive entries of order):
            gradients on X[:, B], Y[B]   ->   P <- P - alpha * (dP + weight_decay * P)

so one epoch makes about m / batch_size steps instead of one. weight_decay
(L2 regularisation) pulls the weights W1, W2 (not the biases) towards 0, which
helps a small network trained on few images to generalise.

Trained parameters are kept in a NumPy .npz file with arrays W1, b1, W2, b2,
written atomically: to a temporary file beside the target, then renamed, so an
interrupted save never leaves a half-written file behind.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kit_helpers import atomic_write, random_shifts
from backprop import backward_prop, cross_entropy
from descent import get_accuracy, get_predictions, update_params
from forward import forward_prop, init_params

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn (it is slow to import)
    from matplotlib.figure import Figure

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def make_predictions(
    X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray
) -> np.ndarray:
    """Predicted digit of every example: the argmax of the forward pass's A2.

    Args:
        X: (n_in, m) inputs.
        W1 (n_hidden, n_in), b1 (n_hidden, 1), W2 (n_out, n_hidden), b2 (n_out, 1).

    Returns:
        (m,) integer predictions.
    """
    _, _, _, A2 = forward_prop(W1, b1, W2, b2, X)
    return get_predictions(A2)


def evaluate(
    W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray, Y: np.ndarray
) -> tuple[float, float]:
    """Accuracy and mean cross-entropy loss of the network on (X, Y).

    Args:
        W1, b1, W2, b2: the network's parameters.
        X: (n_in, m) inputs.   Y: (m,) integer labels.

    Returns:
        (accuracy, loss): accuracy a float in [0, 1], loss a float >= 0.
    """
    _, _, _, A2 = forward_prop(W1, b1, W2, b2, X)
    return get_accuracy(get_predictions(A2), Y), cross_entropy(A2, Y)


def minibatch_indices(m: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle 0..m-1 and cut it into consecutive batches.

    Args:
        m: number of examples.
        batch_size: examples per batch (the last batch may be smaller).
        rng: the random generator that draws the permutation.

    Returns:
        A list of ceil(m / batch_size) integer arrays that together hold every
        index in 0..m-1 exactly once; each has batch_size entries except
        perhaps the last.
    """
    order = rng.permutation(m)
    return [order[start : start + batch_size] for start in range(0, m, batch_size)]


def mini_batch_gradient_descent(
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    epochs: int,
    batch_size: int,
    *,
    seed: int | None = None,
    n_hidden: int = 10,
    init: str = "he",
    alpha_final: float | None = None,
    weight_decay: float = 0.0,
    augment: bool = False,
    history: dict[str, list[float]] | None = None,
    X_dev: np.ndarray | None = None,
    Y_dev: np.ndarray | None = None,
    print_every: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train an n_in-n_hidden-10 network by mini-batch gradient descent.

    Starts from init_params(X.shape[0], n_hidden, 10, seed=seed, init=init);
    each epoch draws its batches with minibatch_indices(m, batch_size, rng),
    where rng = np.random.default_rng(seed), and takes one step per batch
    (see the module docstring). batch_size >= m gives full-batch descent.

    After every epoch the accuracy and loss on all of (X, Y) are appended to
    history["accuracy"] and history["loss"], and, when X_dev and Y_dev are
    given, on them to history["dev_accuracy"] and history["dev_loss"]. Every
    print_every epochs (0 for never) a progress line is printed:

        Epoch: 3  Accuracy: 0.912  Loss: 0.305

    Args:
        X: (n_in, m) inputs.   Y: (m,) integer labels.
        alpha: learning rate.  epochs: passes over the data.
        batch_size: examples per step.
        seed: seeds both the initial parameters and the shuffling.
        n_hidden: hidden units.  init: "uniform" or "he" (see init_params).
        alpha_final: if given, the learning rate falls linearly from alpha in
            the first epoch to alpha_final in the last (large steps early,
            small careful steps at the end); otherwise it stays alpha.
        weight_decay: L2 regularisation strength (0 for none).
        augment: if True, each epoch trains on random_shifts(X, rng): every
            image moved by up to one pixel (see kit_helpers/augmentation.py).
        history: optional dict that receives the per-epoch figures.
        X_dev: (n_in, m_dev) held-out inputs.   Y_dev: (m_dev,) their labels.
        print_every: how often to print a progress line.

    Returns:
        The trained W1 (n_hidden, n_in), b1 (n_hidden, 1), W2 (10, n_hidden), b2 (10, 1).
    """
    rng = np.random.default_rng(seed)
    W1, b1, W2, b2 = init_params(X.shape[0], n_hidden, 10, seed=seed, init=init)
    for epoch in range(epochs):
        epoch_alpha = alpha
        if alpha_final is not None:
            epoch_alpha = alpha + (alpha_final - alpha) * epoch / max(epochs - 1, 1)
        X_epoch = random_shifts(X, rng) if augment else X
        for batch in minibatch_indices(X.shape[1], batch_size, rng):
            X_batch, Y_batch = X_epoch[:, batch], Y[batch]
            Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X_batch)
            dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X_batch, Y_batch)
            dW1 = dW1 + weight_decay * W1
            dW2 = dW2 + weight_decay * W2
            W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, epoch_alpha)
        accuracy, loss = evaluate(W1, b1, W2, b2, X, Y)
        if history is not None:
            history.setdefault("accuracy", []).append(accuracy)
            history.setdefault("loss", []).append(loss)
            if X_dev is not None and Y_dev is not None:
                dev_accuracy, dev_loss = evaluate(W1, b1, W2, b2, X_dev, Y_dev)
                history.setdefault("dev_accuracy", []).append(dev_accuracy)
                history.setdefault("dev_loss", []).append(dev_loss)
        if print_every and epoch % print_every == 0:
            print(f"Epoch: {epoch}  Accuracy: {accuracy:.3f}  Loss: {loss:.3f}")
    return W1, b1, W2, b2


def save_params(
    path: str | os.PathLike,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
) -> Path:
    """Save the four parameters to a .npz file, atomically.

    Writes arrays named W1, b1, W2, b2 with np.savez inside
    kit_helpers.atomic_write(path), so readers see either the old
    file or the complete new one, never a partial write.

    Args:
        path: where to save (parent folders are created).
        W1, b1, W2, b2: the parameters.

    Returns:
        The path written, as a Path.
    """
    with atomic_write(path) as file:
        np.savez(file, W1=W1, b1=b1, W2=W2, b2=b2)
    return Path(path)


def load_params(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load parameters saved by save_params.

    Args:
        path: a .npz file holding arrays W1, b1, W2, b2.

    Returns:
        W1, b1, W2, b2 as saved.
    """
    with np.load(path) as archive:
        return tuple(archive[name] for name in PARAM_NAMES)


def plot_history(history: dict[str, list[float]], path: str | os.PathLike | None = None) -> "Figure":
    """Draw accuracy and loss curves from a training history.

    Two panels side by side: accuracy (left) and loss (right) against the
    epoch number, with the dev curves beside the training ones when history
    holds "dev_accuracy" / "dev_loss".

    Args:
        history: dict with lists "accuracy" and "loss" (and optionally
            "dev_accuracy", "dev_loss"), as filled by the training functions.
        path: if given, the figure is also saved there as a PNG.

    Returns:
        The matplotlib Figure. It is built without pyplot, so it works with no
        display; in a notebook, run `%matplotlib inline` once and it shows inline
        as the last value of a cell.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    accuracy_axes, loss_axes = figure.subplots(1, 2)
    for axes, key, title in ((accuracy_axes, "accuracy", "Accuracy"), (loss_axes, "loss", "Loss")):
        axes.plot(range(1, len(history[key]) + 1), history[key], label="train")
        if history.get("dev_" + key):
            axes.plot(range(1, len(history["dev_" + key]) + 1), history["dev_" + key], label="dev")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.legend()
    figure.tight_layout()
    if False:
        with atomic_write(path) as file:
            figure.savefig(file, format="png", dpi=100)
    return figure
