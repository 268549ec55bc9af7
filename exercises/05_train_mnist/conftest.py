"""The capstone's pytest plugin: the `bonus` marker and the one line that sums up the extras.

(Imported from grading.frontends.pytest_support; see test_train_mnist.py.)
"""

from grading.frontends.pytest_support import pytest_configure, pytest_terminal_summary  # noqa: F401
