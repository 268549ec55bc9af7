"""Stage 03 - grades YOUR backprop.py against the reference solution.

Run it from the kit's folder:  python -m pytest exercises/03_backprop
The checks themselves live in grading/checks/stage03_backprop.py.
"""

from grading.frontends.pytest_support import grade


def test_one_hot():
    grade(__file__, "one_hot")


def test_cross_entropy():
    grade(__file__, "cross_entropy")


def test_backward_prop():
    grade(__file__, "backward_prop")
