"""The reference solution: a 784-10-10 NumPy network that classifies MNIST digits.

Each stage of the curriculum is one module, and the learner's stub files in
exercises/ are generated from these modules (the code between the
``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers is what learners write):

    activations   stage 01   relu, relu_deriv, softmax
    forward       stage 02   init_params, forward_prop
    backprop      stage 03   one_hot, cross_entropy, backward_prop
    descent       stage 04   update_params, get_predictions, get_accuracy, gradient_descent
    train_mnist   stage 05   mini-batches, evaluation, save/load, plots

The names and the array convention are the original "MNIST from scratch"
notebook's: X is (784, m) with one image per column, Y is (m,) integer labels.
"""

from .activations import relu, relu_deriv, softmax
from .backprop import backward_prop, cross_entropy, one_hot
from .descent import get_accuracy, get_predictions, gradient_descent, update_params
from .forward import forward_prop, init_params
from .train_mnist import (
    evaluate,
    load_params,
    make_predictions,
    mini_batch_gradient_descent,
    minibatch_indices,
    plot_history,
    save_params,
)

__all__ = [
    "relu",
    "relu_deriv",
    "softmax",
    "init_params",
    "forward_prop",
    "one_hot",
    "cross_entropy",
    "backward_prop",
    "update_params",
    "get_predictions",
    "get_accuracy",
    "gradient_descent",
    "make_predictions",
    "evaluate",
    "minibatch_indices",
    "mini_batch_gradient_descent",
    "save_params",
    "load_params",
    "plot_history",
]
