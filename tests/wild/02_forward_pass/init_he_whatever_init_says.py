# MISTAKE: init_params always draws He weights and zero biases; the default init="uniform" is never written.
# EXPECT test_init_params: the init argument is ignored
# Stage 02 (forward pass) - this is YOUR file: replace each `raise NotImplementedError(...)`
# with your code, and edit anything else you like.
# Check your work with:  python -m pytest exercises/02_forward_pass
# (Generated from solutions/forward.py by `python -m grading.build`.)
"""Stage 02 - the forward pass: parameters in, probabilities out.

Shapes for the 784-10-10 network on a batch of m images:

    X  (784, m)    pixels / 255, one image per column
    W1 (10, 784)   b1 (10, 1)
    W2 (10, 10)    b2 (10, 1)

    Z1 = W1 X + b1      (10, m)    hidden pre-activations
    A1 = relu(Z1)       (10, m)    hidden activations
    Z2 = W2 A1 + b2     (10, m)    output logits
    A2 = softmax(Z2)    (10, m)    class probabilities, each column sums to 1
"""

import numpy as np

from activations import relu, softmax

INIT_SCHEMES = ("uniform", "he")


def init_params(
    n_in: int = 784,
    n_hidden: int = 10,
    n_out: int = 10,
    *,
    seed: int | None = None,
    init: str = "uniform",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random starting parameters for an n_in-n_hidden-n_out network.

    init="uniform" (the original notebook's scheme): every weight and bias drawn
    from uniform(-0.5, 0.5).
    init="he" (He et al., 2015, suited to ReLU): weights drawn from
    normal(0, sqrt(2 / fan_in)), where fan_in is the number of inputs of the
    layer (n_in for W1, n_hidden for W2); biases start at 0.

    Args:
        n_in: inputs per example (784 pixels).
        n_hidden: hidden units (10).
        n_out: output classes (10).
        seed: seed for np.random.default_rng; the same seed gives the same parameters.
        init: "uniform" or "he".

    Returns:
        W1 (n_hidden, n_in), b1 (n_hidden, 1), W2 (n_out, n_hidden), b2 (n_out, 1),
        all float64.
    """
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_hidden, n_in)) * np.sqrt(2 / n_in)
    b1 = np.zeros((n_hidden, 1))
    W2 = rng.standard_normal((n_out, n_hidden)) * np.sqrt(2 / n_hidden)
    b2 = np.zeros((n_out, 1))
    return W1, b1, W2, b2


def forward_prop(
    W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the network on a batch of examples.

        Z1 = W1 X + b1,  A1 = relu(Z1),  Z2 = W2 A1 + b2,  A2 = softmax(Z2)

    The biases, of shape (units, 1), broadcast across the m columns.

    Args:
        W1: (n_hidden, n_in)   b1: (n_hidden, 1)
        W2: (n_out, n_hidden)  b2: (n_out, 1)
        X: (n_in, m) inputs, one example per column.

    Returns:
        Z1 (n_hidden, m), A1 (n_hidden, m), Z2 (n_out, m), A2 (n_out, m).
    """
    Z1 = W1 @ X + b1
    A1 = relu(Z1)
    Z2 = W2 @ A1 + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2
