"""Stage 02 - grades YOUR forward.py against the reference solution.

Run it from the kit's folder:  python -m pytest exercises/02_forward_pass
The checks themselves live in grading/checks/stage02_forward_pass.py.
"""

from grading.frontends.pytest_support import grade


def test_init_params():
    grade(__file__, "init_params")


def test_forward_prop():
    grade(__file__, "forward_prop")
