"""Stage 05, the capstone - grades YOUR train_mnist.py, running on YOUR functions of stages 01-04.

Run it from the kit's folder:  python -m pytest exercises/05_train_mnist
The checks themselves live in grading/checks/stage05_train_mnist.py.

The stage is done when the tests above the line pass. The bonus tests below it grade
the optional extras (the learning-rate schedule, the n_hidden / init / weight_decay
keywords, shifted images, the atomic save, the plot): a failing extra is reported as
"xfailed" and in one line at the end, and does not keep the stage from being done.
See why an extra fails:  python -m pytest exercises/05_train_mnist -m bonus
"""

from grading.frontends.pytest_support import bonus, grade, grade_bonus, grade_earlier_stages


def test_earlier_stages_are_done():
    grade_earlier_stages(__file__)


def test_make_predictions():
    grade(__file__, "make_predictions")


def test_evaluate():
    grade(__file__, "evaluate")


def test_minibatch_indices():
    grade(__file__, "minibatch_indices")


def test_mini_batch_gradient_descent():
    grade(__file__, "mini_batch_gradient_descent")


def test_save_params():
    grade(__file__, "save_params")


def test_load_params():
    grade(__file__, "load_params")


# ---------------------------------------------------------------- bonus: the optional extras
@bonus
def test_bonus_mini_batch_gradient_descent():
    grade_bonus(__file__, "mini_batch_gradient_descent")


@bonus
def test_bonus_save_params():
    grade_bonus(__file__, "save_params")


@bonus
def test_bonus_plot_history():
    grade_bonus(__file__, "plot_history")
