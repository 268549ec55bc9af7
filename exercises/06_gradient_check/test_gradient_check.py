"""Stage 06 - grades YOUR gradient_check.py; check_backprop runs on YOUR functions of stages 01-03.

Run it from the kit's folder:  python -m pytest exercises/06_gradient_check
The checks themselves live in grading/checks/stage06_gradient_check.py.
"""

from grading.frontends.pytest_support import grade, grade_earlier_stages


def test_earlier_stages_are_done():
    grade_earlier_stages(__file__)


def test_numerical_gradient():
    grade(__file__, "numerical_gradient")


def test_relative_error():
    grade(__file__, "relative_error")


def test_check_backprop():
    grade(__file__, "check_backprop")
