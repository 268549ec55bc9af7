"""Stage 04 - grades YOUR descent.py against the reference solution.

Run it from the kit's folder:  python -m pytest exercises/04_gradient_descent
The checks themselves live in grading/checks/stage04_gradient_descent.py.
"""

from grading.frontends.pytest_support import grade


def test_update_params():
    grade(__file__, "update_params")


def test_get_predictions():
    grade(__file__, "get_predictions")


def test_get_accuracy():
    grade(__file__, "get_accuracy")


def test_gradient_descent():
    grade(__file__, "gradient_descent")
