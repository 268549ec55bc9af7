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

`from solutions import relu` works as usual; each stage module is imported on
first use (PEP 562 __getattr__), so that `mnist-kit`, which lives in this
package, starts without NumPy and can handle Ctrl-C from its very first line.
"""

import importlib

#: Each function this package exports, and the stage module that defines it.
_EXPORTS = {
    "relu": "activations", "relu_deriv": "activations", "softmax": "activations",
    "init_params": "forward", "forward_prop": "forward",
    "one_hot": "backprop", "cross_entropy": "backprop", "backward_prop": "backprop",
    "update_params": "descent", "get_predictions": "descent", "get_accuracy": "descent",
    "gradient_descent": "descent",
    "make_predictions": "train_mnist", "evaluate": "train_mnist", "minibatch_indices": "train_mnist",
    "mini_batch_gradient_descent": "train_mnist", "save_params": "train_mnist",
    "load_params": "train_mnist", "plot_history": "train_mnist",
}

#: The stage modules, reachable as solutions.activations etc. after a plain `import solutions`.
_STAGE_MODULES = set(_EXPORTS.values())

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """Import the stage module that defines (or is) `name` the first time it is asked for."""
    if name in _STAGE_MODULES:
        return importlib.import_module(f".{name}", __name__)  # the import sets the attribute too
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | _STAGE_MODULES)
