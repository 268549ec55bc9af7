"""Stage 01 - grades YOUR activations.py against the reference solution.

Run it from the kit's folder:  python -m pytest exercises/01_activations
The checks themselves live in grading/checks/stage01_activations.py.
"""

from grading.frontends.pytest_support import grade


def test_relu():
    grade(__file__, "relu")


def test_relu_deriv():
    grade(__file__, "relu_deriv")


def test_softmax():
    grade(__file__, "softmax")
