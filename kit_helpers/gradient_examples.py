"""Functions whose gradients are known, to try a numerical gradient on (stage 06).

    from kit_helpers.gradient_examples import EXAMPLES
    example = EXAMPLES["sum_of_cubes"]
    x = np.array([[0.5, -1.0, 2.0]])
    numerical_gradient(example.function_for(x), x)   # ~ example.gradient(x) = 3 x**2

Each example is a function f(x) -> float of an array x of any shape. The grading
also calls a learner's numerical_gradient through `call_with_example`: the check
sends only data (the example's NAME, the array x, h) and the callable is built
here, beside the learner's code (in the grading worker once grading is sealed),
never passed across from the checks.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Example:
    """One function with its exact gradient.

    Attributes:
        name: the key in EXAMPLES.
        formula: f in words, for messages, e.g. "f(x) = sum(x**3)".
        build: build(x) -> f, the function handed to numerical_gradient for the array x
            (most ignore x; "sum_of_cubes_read_in_place" reads x itself).
        gradient: gradient(x) -> an array of x's shape, the exact gradient of f at x.
    """

    name: str
    formula: str
    build: Callable[[np.ndarray], Callable[[np.ndarray], float]]
    gradient: Callable[[np.ndarray], np.ndarray]

    def function_for(self, x: np.ndarray) -> Callable[[np.ndarray], float]:
        """The function f to differentiate at x."""
        return self.build(x)


def _sum_of_cubes(y: np.ndarray) -> float:
    return float(np.sum(y ** 3))


def _square_of_sum_plus_sines(y: np.ndarray) -> float:
    return float(np.sum(y) ** 2 + np.sum(np.sin(y)))


def _read_in_place(x: np.ndarray) -> Callable[[np.ndarray], float]:
    def f(_: np.ndarray) -> float:  # ignores its argument: reads x, as a network's loss reads its weights
        return float(np.sum(x ** 3))
    return f


EXAMPLES: dict[str, Example] = {example.name: example for example in (
    Example("sum_of_cubes", "f(x) = sum(x**3), whose gradient is 3 x**2",
            lambda x: _sum_of_cubes, lambda x: 3 * np.asarray(x, dtype=float) ** 2),
    Example("square_of_sum_plus_sines", "f(x) = sum(x)**2 + sum(sin(x)), whose gradient is 2 sum(x) + cos(x)",
            lambda x: _square_of_sum_plus_sines,
            lambda x: 2 * np.sum(x) + np.cos(np.asarray(x, dtype=float))),
    Example("sum_of_cubes_read_in_place",
            "f(_) = sum(x**3) that ignores its argument and reads x itself (as check_backprop's loss reads "
            "W1), whose gradient is 3 x**2",
            _read_in_place, lambda x: 3 * np.asarray(x, dtype=float) ** 2),
)}


def call_with_example(numerical_gradient: Callable[..., Any], f: str, x: np.ndarray, *args: Any,
                      **kwargs: Any) -> Any:
    """numerical_gradient(EXAMPLES[f].function_for(x), x, *args, **kwargs).

    How the checks call a learner's numerical_gradient with data only: `f` is the
    NAME of an example, and the function itself is built here, on the learner's side.
    """
    return numerical_gradient(EXAMPLES[f].function_for(x), x, *args, **kwargs)
