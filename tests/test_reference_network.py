"""The reference stage functions: shapes, hand-computed values and a numerical gradient check.

Expected values here are worked out by hand (or from first principles, like the
finite-difference gradients), never copied from the code under test.
"""

import warnings

import numpy as np
import pytest
from toy_problems import separable_problem

from solutions import (
    backward_prop,
    cross_entropy,
    forward_prop,
    get_accuracy,
    get_predictions,
    gradient_descent,
    init_params,
    one_hot,
    relu,
    relu_deriv,
    softmax,
    update_params,
)


def small_problem(m=7, n_in=6, n_hidden=5, n_out=4, seed=0):
    """A tiny network and batch, small enough for a finite-difference gradient check."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(n_hidden, n_in))
    b1 = rng.normal(size=(n_hidden, 1))
    W2 = rng.normal(size=(n_out, n_hidden))
    b2 = rng.normal(size=(n_out, 1))
    X = rng.uniform(size=(n_in, m))
    Y = rng.integers(0, n_out, size=m)
    return W1, b1, W2, b2, X, Y


# --- stage 01: activations ---------------------------------------------------------------


def test_relu_by_hand():
    Z = np.array([[-2.0, -0.0, 0.5], [3.0, -1e-9, 0.0]])
    np.testing.assert_array_equal(relu(Z), [[0.0, 0.0, 0.5], [3.0, 0.0, 0.0]])


def test_relu_leaves_input_unchanged_and_keeps_dtype():
    Z = np.array([[-1.0, 2.0]], dtype=np.float32)
    out = relu(Z)
    np.testing.assert_array_equal(Z, [[-1.0, 2.0]])
    assert out.dtype == np.float32


def test_relu_deriv_by_hand():
    Z = np.array([[-2.0, 0.0, 0.5], [3.0, -1.0, 1e-12]])
    np.testing.assert_array_equal(relu_deriv(Z), [[0, 0, 1], [1, 0, 1]])


def test_softmax_by_hand():
    # column 0: logits (0, ln 3) -> probabilities (1/4, 3/4); column 1: equal logits -> (1/2, 1/2)
    Z = np.array([[0.0, 5.0], [np.log(3.0), 5.0]])
    np.testing.assert_allclose(softmax(Z), [[0.25, 0.5], [0.75, 0.5]])


def test_softmax_is_column_wise_and_shift_invariant():
    Z = np.random.default_rng(1).normal(size=(10, 6))
    A = softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), np.ones(6))
    np.testing.assert_allclose(softmax(Z + np.arange(6.0)), A)  # a constant per column


@pytest.mark.parametrize("scale", [1e2, 1e3, 1e4])
def test_softmax_is_stable_for_huge_logits(scale):
    Z = np.array([[scale, -scale, 0.0], [-scale, scale, 0.0], [0.0, 0.0, scale]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            A = softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=0), np.ones(3))
    np.testing.assert_allclose(np.diag(A), [1.0, 1.0, 1.0])


# --- stage 02: forward pass ---------------------------------------------------------------


def test_init_params_shapes_and_uniform_range():
    W1, b1, W2, b2 = init_params(seed=0)
    assert [W1.shape, b1.shape, W2.shape, b2.shape] == [(10, 784), (10, 1), (10, 10), (10, 1)]
    for P in (W1, b1, W2, b2):
        assert P.min() >= -0.5 and P.max() < 0.5
    # uniform(-0.5, 0.5) has mean 0 and standard deviation 1/sqrt(12) = 0.2887
    assert abs(W1.mean()) < 0.02 and abs(W1.std() - 12**-0.5) < 0.01


def test_init_params_seed_reproducible_and_sizes():
    first = init_params(5, 3, 2, seed=42)
    second = init_params(5, 3, 2, seed=42)
    other = init_params(5, 3, 2, seed=43)
    assert [P.shape for P in first] == [(3, 5), (3, 1), (2, 3), (2, 1)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], other[0])


def test_init_params_he():
    W1, b1, W2, b2 = init_params(784, 200, 10, seed=0, init="he")
    assert abs(W1.std() - np.sqrt(2 / 784)) < 0.002
    assert abs(W2.std() - np.sqrt(2 / 200)) < 0.01
    assert not b1.any() and not b2.any()


def test_init_params_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="init must be one of"):
        init_params(init="xavier")


def test_forward_prop_by_hand():
    # one input, two hidden units, two classes; every number is easy to follow
    W1 = np.array([[1.0], [-1.0]])
    b1 = np.array([[0.0], [0.5]])
    W2 = np.array([[1.0, 0.0], [0.0, 1.0]])
    b2 = np.array([[0.0], [np.log(3.0)]])
    X = np.array([[2.0]])
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    np.testing.assert_allclose(Z1, [[2.0], [-1.5]])
    np.testing.assert_allclose(A1, [[2.0], [0.0]])
    np.testing.assert_allclose(Z2, [[2.0], [np.log(3.0)]])
    # softmax(2, ln 3) = (e^2, 3) / (e^2 + 3)
    e2 = np.exp(2.0)
    np.testing.assert_allclose(A2, [[e2 / (e2 + 3)], [3 / (e2 + 3)]])


@pytest.mark.parametrize("m", [1, 3, 64])
def test_forward_prop_shapes(m):
    W1, b1, W2, b2 = init_params(seed=0)
    X = np.random.default_rng(0).uniform(size=(784, m))
    shapes = [a.shape for a in forward_prop(W1, b1, W2, b2, X)]
    assert shapes == [(10, m)] * 4


# --- stage 03: backprop --------------------------------------------------------------------


def test_one_hot_by_hand():
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 2]), 3), [[0, 1, 0], [0, 0, 0], [1, 0, 1]])


def test_one_hot_does_not_depend_on_labels_present():
    T = one_hot(np.array([3, 3]))
    assert T.shape == (10, 2)
    np.testing.assert_array_equal(T.sum(axis=0), [1, 1])
    assert T[3].tolist() == [1, 1]


def test_cross_entropy_by_hand():
    A2 = np.array([[0.5, 0.1], [0.5, 0.9]])
    Y = np.array([0, 1])
    # -(ln 0.5 + ln 0.9) / 2
    expected = -(np.log(0.5) + np.log(0.9)) / 2
    loss = cross_entropy(A2, Y)
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected)


def test_cross_entropy_of_a_certain_wrong_answer_is_finite():
    assert cross_entropy(np.array([[1.0], [0.0]]), np.array([1])) == pytest.approx(-np.log(1e-12))


def mean_loss(W1, b1, W2, b2, X, Y):
    return cross_entropy(forward_prop(W1, b1, W2, b2, X)[3], Y)


@pytest.mark.parametrize("m", [1, 7])
def test_backward_prop_matches_finite_differences_for_every_parameter(m):
    W1, b1, W2, b2, X, Y = small_problem(m=m)
    params = [W1, b1, W2, b2]
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    analytic = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
    step = 1e-6
    for name, P, dP in zip(["W1", "b1", "W2", "b2"], params, analytic):
        assert dP.shape == P.shape, name
        numeric = np.zeros_like(P)
        for index in np.ndindex(P.shape):
            saved = P[index]
            P[index] = saved + step
            plus = mean_loss(*params, X, Y)
            P[index] = saved - step
            minus = mean_loss(*params, X, Y)
            P[index] = saved
            numeric[index] = (plus - minus) / (2 * step)
        np.testing.assert_allclose(dP, numeric, rtol=1e-5, atol=1e-8, err_msg=f"d{name}")


def test_bias_gradients_are_per_unit_not_summed_over_everything():
    # two hidden units that see different errors must get different bias gradients
    W1, b1, W2, b2, X, Y = small_problem(m=9)
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    _, db1, _, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
    # the output bias gradient is the mean of A2 - one_hot(Y) over the examples, unit by unit
    np.testing.assert_allclose(db2[:, 0], (A2 - one_hot(Y, 4)).mean(axis=1))
    assert len(set(np.round(db1[:, 0], 12))) > 1


# --- stage 04: gradient descent ------------------------------------------------------------


def test_update_params_by_hand():
    ones = [np.ones((2, 2)), np.ones((2, 1)), np.ones((1, 2)), np.ones((1, 1))]
    grads = [np.full((2, 2), 2.0), np.full((2, 1), -1.0), np.zeros((1, 2)), np.full((1, 1), 10.0)]
    W1, b1, W2, b2 = update_params(*ones, *grads, 0.5)
    np.testing.assert_allclose(W1, np.zeros((2, 2)))
    np.testing.assert_allclose(b1, np.full((2, 1), 1.5))
    np.testing.assert_allclose(W2, np.ones((1, 2)))
    np.testing.assert_allclose(b2, [[-4.0]])


def test_predictions_and_accuracy_by_hand():
    A2 = np.array([[0.1, 0.8, 0.3], [0.9, 0.2, 0.7]])
    predictions = get_predictions(A2)
    np.testing.assert_array_equal(predictions, [1, 0, 1])
    accuracy = get_accuracy(predictions, np.array([1, 1, 1]))
    assert isinstance(accuracy, float)
    assert accuracy == pytest.approx(2 / 3)


def test_gradient_descent_learns_and_reports_like_the_original(capsys):
    X, Y = separable_problem()
    history = {}
    W1, b1, W2, b2 = gradient_descent(X, Y, 0.5, 41, seed=0, history=history)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5  # iterations 0, 10, 20, 30, 40
    assert lines[0].startswith("Iteration: 0  Accuracy: 0.")
    assert lines[-1].startswith("Iteration: 40  Accuracy: ")
    assert len(history["accuracy"]) == len(history["loss"]) == 41
    assert history["loss"][-1] < history["loss"][0]
    assert [P.shape for P in (W1, b1, W2, b2)] == [(10, 784), (10, 1), (10, 10), (10, 1)]
    final = get_accuracy(get_predictions(forward_prop(W1, b1, W2, b2, X)[3]), Y)
    assert final > 0.5


def test_gradient_descent_same_seed_same_result():
    X, Y = separable_problem(m=50)
    first = gradient_descent(X, Y, 0.1, 5, seed=3, print_every=0)
    second = gradient_descent(X, Y, 0.1, 5, seed=3, print_every=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
