# MISTAKE: update_params steps with a learning rate of 0.1 whatever alpha is.
# EXPECT test_update_params: it stepped with a learning rate of 0.1, not the alpha it was given (0.5)
# PASSES test_gradient_descent: graded on its own (while it runs, this function is answered by the reference)
# Stage 04 (gradient descent) - this is YOUR file: replace each `raise NotImplementedError(...)`
# with your code, and edit anything else you like.
# Check your work with:  python -m pytest exercises/04_gradient_descent
# (Generated from solutions/descent.py by `python -m grading.build`.)
"""Stage 04 - gradient descent: repeat forward, backward, update.

One step of full-batch gradient descent with learning rate alpha:

    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
    W1 <- W1 - alpha dW1    b1 <- b1 - alpha db1
    W2 <- W2 - alpha dW2    b2 <- b2 - alpha db2

Every step moves each parameter a little way downhill on the loss.
"""

import numpy as np

from backprop import backward_prop, cross_entropy
from forward import forward_prop, init_params


def update_params(
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    dW1: np.ndarray,
    db1: np.ndarray,
    dW2: np.ndarray,
    db2: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One gradient descent step: ``P <- P - alpha * dP`` for every parameter P.

    Args:
        W1 (n_hidden, n_in), b1 (n_hidden, 1), W2 (n_out, n_hidden), b2 (n_out, 1):
            the current parameters.
        dW1, db1, dW2, db2: their gradients, each of the same shape as its parameter.
        alpha: the learning rate, a positive float.

    Returns:
        The updated W1, b1, W2, b2 (same shapes).
    """
    W1 = W1 - 0.1 * dW1
    b1 = b1 - 0.1 * db1
    W2 = W2 - 0.1 * dW2
    b2 = b2 - 0.1 * db2
    return W1, b1, W2, b2


def get_predictions(A2: np.ndarray) -> np.ndarray:
    """The predicted class of each example: the row of its largest probability.

        predictions[j] = argmax_k A2[k, j]

    Args:
        A2: (n_classes, m) probabilities.

    Returns:
        (m,) integer predictions.
    """
    return np.argmax(A2, axis=0)


def get_accuracy(predictions: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of predictions equal to the true labels.

        accuracy = (1/m) * #{j : predictions[j] == Y[j]}

    Args:
        predictions: (m,) integer predictions.
        Y: (m,) integer labels.

    Returns:
        A float in [0, 1] (a fraction, not a count).
    """
    return float(np.mean(predictions == Y))


def gradient_descent(
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    iterations: int,
    *,
    seed: int | None = None,
    history: dict[str, list[float]] | None = None,
    print_every: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train a 784-10-10 network by full-batch gradient descent.

    Starts from init_params(X.shape[0], 10, 10, seed=seed) and takes `iterations`
    steps of size alpha, each on all m examples (see the module docstring).

    Every print_every iterations (0 for never) it prints a progress line in the
    original notebook's format, with the accuracy of that iteration's forward pass:

        Iteration: 250  Accuracy: 0.793

    Args:
        X: (n_in, m) inputs.   Y: (m,) integer labels.
        alpha: learning rate.  iterations: number of steps.
        seed: seed for init_params.
        history: if a dict is given, the accuracy and cross-entropy loss of every
            iteration's forward pass are appended to history["accuracy"] and
            history["loss"] (lists created when missing).
        print_every: how often to print a progress line.

    Returns:
        The trained W1 (10, n_in), b1 (10, 1), W2 (10, 10), b2 (10, 1).
    """
    W1, b1, W2, b2 = init_params(X.shape[0], 10, 10, seed=seed)
    for i in range(iterations):
        Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
        dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
        W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
        accuracy = get_accuracy(get_predictions(A2), Y)
        if history is not None:
            history.setdefault("accuracy", []).append(accuracy)
            history.setdefault("loss", []).append(cross_entropy(A2, Y))
        if print_every and i % print_every == 0:
            print(f"Iteration: {i}  Accuracy: {accuracy:.3f}")
    return W1, b1, W2, b2
