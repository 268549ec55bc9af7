"""The fast float32 training step computes what the textbook stage functions compute.

solutions/fast_training.py rearranges forward_prop + backward_prop + update_params
for speed (float32, chunks of columns, in-place buffers). These tests hold it to
the float64 textbook form, the reference, on several shapes: m = 1, m a multiple
of the chunk size, m not a multiple, chunks of one column, a chunk wider than m.

Tolerance: float32 carries about 7 significant digits; the observed difference
from the float64 textbook is about 3e-7 of the largest entry of each gradient.
Every comparison allows 1e-5 of that largest entry (30 times the observed
difference), far below what any mistake in the equations would give.

Speed is measured by benchmarks/training_speed.py, never asserted here.
"""

import contextlib
import re

import numpy as np
import pytest

from solutions.backprop import backward_prop, cross_entropy
from solutions.descent import get_accuracy, get_predictions, gradient_descent, update_params
import solutions.fast_training
from solutions.fast_training import (
    DEFAULT_CHUNK_SIZE,
    FullBatchTrainer,
    Workspace,
    fast_gradient_descent,
    full_batch_gradients,
)
from solutions.forward import forward_prop, init_params

RELATIVE_TOLERANCE = 1e-5
NAMES = ("dW1", "db1", "dW2", "db2")


def mnist_like(n_in: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n_in, m) float64 in [0, 1], about 80% zeros like MNIST's pixels; Y (m,) labels 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_in, m)) * (rng.random((n_in, m)) < 0.2)
    return X, rng.integers(0, 10, size=m)


def as_float32(arrays):
    return tuple(np.asarray(a, dtype=np.float32) for a in arrays)


def assert_close_to_reference(fast, reference, names, what):
    """Each fast array within RELATIVE_TOLERANCE * max|reference| of the reference array."""
    for name, fast_value, reference_value in zip(names, fast, reference):
        assert fast_value.shape == reference_value.shape, (
            f"{what}: {name} has shape {fast_value.shape}, the textbook's has {reference_value.shape}"
        )
        scale = max(float(np.abs(reference_value).max()), 1e-12)
        worst = float(np.abs(fast_value - reference_value).max())
        assert worst <= RELATIVE_TOLERANCE * scale, (
            f"{what}: {name} differs from the textbook's by up to {worst:.3g}, "
            f"more than {RELATIVE_TOLERANCE:g} x its largest entry {scale:.3g}; "
            "a chunk left out, a missing 1/m, or a wrong equation would do this"
        )


# (n_in, m, chunk_size): m = 1; m a multiple of the chunk; m not a multiple;
# chunks of 1 column; a chunk as wide as m; the default chunk with a short last chunk.
SHAPES = [
    (784, 1, DEFAULT_CHUNK_SIZE),
    (784, 256, 128),
    (784, 300, 128),
    (20, 37, 5),
    (784, 6, 1),
    (784, 500, 500),
    (20, DEFAULT_CHUNK_SIZE + 77, DEFAULT_CHUNK_SIZE),
]


@pytest.mark.parametrize("init", ["uniform", "he"])
@pytest.mark.parametrize(("n_in", "m", "chunk_size"), SHAPES)
def test_gradients_match_the_textbook_backward_prop(n_in, m, chunk_size, init):
    X, Y = mnist_like(n_in, m, seed=m)
    params = init_params(n_in, 10, 10, seed=1, init=init)
    W1, b1, W2, b2 = params
    expected = backward_prop(*forward_prop(W1, b1, W2, b2, X), W1, W2, X, Y)

    workspace = Workspace.for_shapes(n_in, 10, 10, chunk_size)
    gradients, _ = full_batch_gradients(*as_float32(params), X.astype(np.float32), Y, workspace)

    assert all(g.dtype == np.float32 for g in gradients)
    assert_close_to_reference(
        gradients, expected, NAMES,
        f"full_batch_gradients on X {X.shape} in chunks of {chunk_size}, {init} init",
    )


@pytest.mark.parametrize(("n_in", "m", "chunk_size"), SHAPES)
def test_loss_and_correct_count_match_the_textbook(n_in, m, chunk_size):
    X, Y = mnist_like(n_in, m, seed=m + 1)
    params = init_params(n_in, 10, 10, seed=2, init="he")
    A2 = forward_prop(*params, X)[3]

    workspace = Workspace.for_shapes(n_in, 10, 10, chunk_size)
    _, result = full_batch_gradients(
        *as_float32(params), X.astype(np.float32), Y, workspace, with_loss=True
    )

    assert result.correct == round(get_accuracy(get_predictions(A2), Y) * m)
    assert result.loss == pytest.approx(cross_entropy(A2, Y), rel=RELATIVE_TOLERANCE)


def test_loss_is_left_out_unless_asked_for():
    X, Y = mnist_like(20, 9, seed=0)
    params = as_float32(init_params(20, 10, 10, seed=0))
    _, result = full_batch_gradients(*params, X.astype(np.float32), Y, Workspace.for_shapes(20, 10, 10, 4))
    assert result.loss is None


def test_a_confidently_wrong_answer_costs_the_same_clipped_loss_as_the_textbook():
    # b2 makes class 0 about e^100 times likelier than the rest: every label-1
    # column has a probability of about e^-100 for its truth, below float32's
    # normal range, clipped at 1e-12 as cross_entropy does: -log(1e-12) = 27.63.
    X, _ = mnist_like(20, 6, seed=3)
    Y = np.array([1, 1, 0, 1, 0, 1])
    W1, b1, W2, b2 = init_params(20, 10, 10, seed=3, init="he")
    W2 = np.zeros_like(W2)
    b2 = np.zeros_like(b2)
    b2[0] = 100.0
    expected = cross_entropy(forward_prop(W1, b1, W2, b2, X)[3], Y)
    assert expected == pytest.approx(4 / 6 * -np.log(1e-12))  # the case this test is about

    _, result = full_batch_gradients(
        *as_float32((W1, b1, W2, b2)), X.astype(np.float32), Y,
        Workspace.for_shapes(20, 10, 10, 4), with_loss=True,
    )
    assert result.loss == pytest.approx(expected, rel=RELATIVE_TOLERANCE)


def test_the_workspace_can_be_reused_without_leaking_one_step_into_the_next():
    X, Y = mnist_like(30, 11, seed=4)
    params = as_float32(init_params(30, 10, 10, seed=4))
    workspace = Workspace.for_shapes(30, 10, 10, 4)
    first, _ = full_batch_gradients(*params, X.astype(np.float32), Y, workspace)
    second, _ = full_batch_gradients(*params, X.astype(np.float32), Y, workspace)
    for name, a, b in zip(NAMES, first, second):
        np.testing.assert_array_equal(a, b, err_msg=f"{name} changed between two identical calls")


@pytest.fixture
def no_threadpoolctl(monkeypatch):
    """Run the split between workers without threadpoolctl (BLAS keeps its threads; results are the same)."""
    monkeypatch.setattr(solutions.fast_training, "ThreadpoolController", object)
    monkeypatch.setattr(solutions.fast_training, "one_blas_thread", contextlib.nullcontext)


@pytest.mark.parametrize(("m", "chunk_size", "workers"), [(1, 8, 1), (50, 16, 1), (64, 16, 1), (1, 8, 2), (101, 16, 2), (90, 7, 3)])
def test_one_step_updates_the_parameters_in_place_like_update_params(m, chunk_size, workers, no_threadpoolctl):
    X, Y = mnist_like(784, m, seed=5)
    params = init_params(seed=5)
    W1, b1, W2, b2 = params
    gradients = backward_prop(*forward_prop(W1, b1, W2, b2, X), W1, W2, X, Y)
    expected = update_params(W1, b1, W2, b2, *gradients, alpha=0.5)

    fast_params = as_float32(params)
    arrays_before = [id(p) for p in fast_params]
    with FullBatchTrainer(X, Y, chunk_size=chunk_size, workers=workers) as trainer:
        trainer.step(fast_params, 0.5)

    assert [id(p) for p in fast_params] == arrays_before
    assert_close_to_reference(
        fast_params, expected, ("W1", "b1", "W2", "b2"),
        f"FullBatchTrainer.step on m = {m}, {workers} worker(s), chunks of {chunk_size}",
    )


@pytest.mark.parametrize(("m", "workers"), [(2, 2), (301, 2), (300, 4), (3, 5)])
def test_columns_split_between_workers_give_the_textbook_gradients_loss_and_count(m, workers, no_threadpoolctl):
    X, Y = mnist_like(784, m, seed=10)
    params = init_params(seed=10, init="he")
    Z1, A1, Z2, A2 = forward_prop(*params, X)
    expected = backward_prop(Z1, A1, Z2, A2, params[0], params[2], X, Y)

    with FullBatchTrainer(X, Y, chunk_size=64, workers=workers) as trainer:
        gradients, result = trainer.gradients(*as_float32(params), with_loss=True)

    assert sum(part.stop - part.start for part, _ in trainer.parts) == m
    assert_close_to_reference(gradients, expected, NAMES, f"{workers} workers on m = {m}")
    assert result.correct == round(get_accuracy(get_predictions(A2), Y) * m)
    assert result.loss == pytest.approx(cross_entropy(A2, Y), rel=RELATIVE_TOLERANCE)


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_blank_in_every_image_are_skipped_with_the_same_gradients(workers, no_threadpoolctl):
    X, Y = mnist_like(784, 200, seed=14)
    X[:300] = 0.0  # like MNIST's border: pixels that are 0 in every image
    X[500] = 0.0
    params = init_params(seed=14)
    expected = backward_prop(*forward_prop(*params, X), params[0], params[2], X, Y)

    with FullBatchTrainer(X, Y, chunk_size=64, workers=workers) as trainer:
        gradients, _ = trainer.gradients(*as_float32(params))

    assert trainer.X.shape == (784 - 301, 200)
    assert not np.any(gradients[0][:, :300]) and not np.any(gradients[0][:, 500])
    assert_close_to_reference(gradients, expected, NAMES, "X with 301 blank rows")


def test_an_all_blank_X_trains_the_biases_only(no_threadpoolctl):
    X = np.zeros((784, 30))
    Y = np.arange(30) % 10
    params = init_params(seed=15)
    expected = backward_prop(*forward_prop(*params, X), params[0], params[2], X, Y)

    with FullBatchTrainer(X, Y, chunk_size=8, workers=1) as trainer:
        gradients, _ = trainer.gradients(*as_float32(params))

    assert trainer.X.shape == (0, 30)
    assert_close_to_reference(gradients, expected, NAMES, "an all-zero X")


def test_the_workers_run_with_blas_held_to_one_thread_and_only_while_they_run(monkeypatch):
    # A stand-in for threadpoolctl that records when the limit is on.
    limit_on = []

    @contextlib.contextmanager
    def recording_limit():
        limit_on.append(True)
        yield
        limit_on.append(False)

    monkeypatch.setattr(solutions.fast_training, "ThreadpoolController", object)
    monkeypatch.setattr(solutions.fast_training, "one_blas_thread", recording_limit)
    X, Y = mnist_like(30, 40, seed=16)
    params = as_float32(init_params(30, 10, 10, seed=16))
    with FullBatchTrainer(X, Y, chunk_size=8, workers=2) as trainer:
        trainer.step(params, 0.1)
        trainer.step(params, 0.1)
        assert limit_on == [True, False, True, False], "each step turns the limit on, then off again"
    with FullBatchTrainer(X, Y, chunk_size=8, workers=1) as trainer:
        trainer.step(params, 0.1)
    assert len(limit_on) == 4, "one worker leaves the BLAS threads alone"


def test_with_threadpoolctl_blas_keeps_its_threads_outside_the_steps():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is optional")
    blas_threads = lambda: [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    before = blas_threads()
    X, Y = mnist_like(30, 40, seed=17)
    with FullBatchTrainer(X, Y, chunk_size=8, workers=2) as trainer:
        trainer.step(as_float32(init_params(30, 10, 10, seed=17)), 0.1)
        assert blas_threads() == before
        with solutions.fast_training.one_blas_thread():
            assert set(blas_threads()) <= {1}


def test_several_workers_need_the_with_block(no_threadpoolctl):
    X, Y = mnist_like(20, 10, seed=11)
    trainer = FullBatchTrainer(X, Y, n_hidden=10, workers=2)
    with pytest.raises(RuntimeError, match="with block"):
        trainer.gradients(*as_float32(init_params(20, 10, 10, seed=0)))


def test_several_workers_without_threadpoolctl_are_refused(monkeypatch):
    monkeypatch.setattr(solutions.fast_training, "ThreadpoolController", None)
    X, Y = mnist_like(20, 10, seed=12)
    with pytest.raises(ValueError, match=r"workers=2 needs threadpoolctl"):
        FullBatchTrainer(X, Y, workers=2)


@pytest.mark.parametrize(("chunk_size", "workers"), [(7, 1), (DEFAULT_CHUNK_SIZE, 1), (16, 2)])
def test_fast_gradient_descent_trains_like_gradient_descent(chunk_size, workers, capsys, no_threadpoolctl):
    X, Y = mnist_like(784, 300, seed=6)
    expected_history: dict[str, list[float]] = {}
    expected = gradient_descent(X, Y, 0.1, 25, seed=7, history=expected_history, print_every=10)
    expected_lines = capsys.readouterr().out

    history: dict[str, list[float]] = {}
    trained = fast_gradient_descent(
        X, Y, 0.1, 25, seed=7, history=history, print_every=10, chunk_size=chunk_size, workers=workers
    )
    lines = capsys.readouterr().out

    assert all(p.dtype == np.float64 for p in trained)
    assert_close_to_reference(trained, expected, ("W1", "b1", "W2", "b2"), "after 25 iterations")
    assert re.fullmatch(r"(Iteration: \d+  Accuracy: \d\.\d{3}\n){3}", lines), lines
    assert lines == expected_lines
    assert history.keys() == expected_history.keys() == {"accuracy", "loss"}
    assert history["accuracy"] == expected_history["accuracy"]
    np.testing.assert_allclose(history["loss"], expected_history["loss"], rtol=RELATIVE_TOLERANCE)


def test_fast_gradient_descent_records_dev_curves_of_the_parameters_each_iteration_starts_from():
    X, Y = mnist_like(784, 200, seed=10)
    X_dev, Y_dev = mnist_like(784, 50, seed=11)
    history: dict[str, list[float]] = {}
    fast_gradient_descent(X, Y, 0.1, 4, seed=3, history=history, X_dev=X_dev, Y_dev=Y_dev, print_every=0)
    assert {key: len(values) for key, values in history.items()} == {
        "accuracy": 4, "loss": 4, "dev_accuracy": 4, "dev_loss": 4}
    # iteration 0 starts from init_params(seed=3): its dev figures are that network's, in float64
    W1, b1, W2, b2 = init_params(784, 10, 10, seed=3)
    A2 = forward_prop(W1, b1, W2, b2, X_dev)[3]
    assert history["dev_accuracy"][0] == get_accuracy(get_predictions(A2), Y_dev)
    assert history["dev_loss"][0] == pytest.approx(cross_entropy(A2, Y_dev), rel=RELATIVE_TOLERANCE)
    # and the train figures of iteration 0 come from the same parameters
    A2_train = forward_prop(W1, b1, W2, b2, X)[3]
    assert history["accuracy"][0] == get_accuracy(get_predictions(A2_train), Y)


def test_fast_gradient_descent_is_silent_with_print_every_zero_and_needs_no_history(capsys):
    X, Y = mnist_like(784, 10, seed=8)
    W1, b1, W2, b2 = fast_gradient_descent(X, Y, 0.1, 3, seed=0, print_every=0)
    assert capsys.readouterr().out == ""
    assert (W1.shape, b1.shape, W2.shape, b2.shape) == ((10, 784), (10, 1), (10, 10), (10, 1))


def test_fast_gradient_descent_leaves_the_callers_arrays_alone():
    X, Y = mnist_like(784, 20, seed=9)
    X32 = X.astype(np.float32)
    X_before, Y_before = X32.copy(), Y.copy()
    fast_gradient_descent(X32, Y, 0.1, 2, seed=0, print_every=0, chunk_size=8)
    np.testing.assert_array_equal(X32, X_before)
    np.testing.assert_array_equal(Y, Y_before)


@pytest.mark.parametrize(
    ("X", "Y", "chunk_size", "message"),
    [
        (np.zeros(784), np.zeros(1, int), 8, r"X must be a 2-D \(n_in, m\) array, got shape \(784,\)"),
        (np.zeros((784, 0)), np.zeros(0, int), 8, r"X has no columns \(m = 0\)"),
        (np.full((784, 2), "a"), np.zeros(2, int), 8, r"X must hold real numbers, got dtype <U1"),
        (np.zeros((784, 3)), np.zeros(2, int), 8, r"Y must have shape \(3,\) to match X \(784, 3\), got \(2,\)"),
        (np.zeros((784, 2)), np.zeros((2, 1), int), 8, r"Y must have shape \(2,\)"),
        (np.zeros((784, 2)), np.array([0.0, 1.0]), 8, r"Y must hold integer labels, got dtype float64"),
        (np.zeros((784, 2)), np.array([3, 10]), 8, r"labels must be in 0\.\.9, got values from 3 to 10"),
        (np.zeros((784, 2)), np.array([-1, 2]), 8, r"labels must be in 0\.\.9, got values from -1 to 2"),
        (np.zeros((784, 2)), np.array([0, 1]), 0, r"chunk_size must be a positive integer, got 0"),
        (np.zeros((784, 2)), np.array([0, 1]), 2.5, r"chunk_size must be a positive integer, got 2\.5"),
        (np.zeros((784, 2)), np.array([0, 1]), True, r"chunk_size must be a positive integer, got True"),
    ],
)
def test_bad_input_is_refused_with_a_message_saying_what_is_wrong(X, Y, chunk_size, message):
    with pytest.raises(ValueError, match=message):
        fast_gradient_descent(X, Y, 0.1, 1, print_every=0, chunk_size=chunk_size)


@pytest.mark.parametrize(("workers", "message"), [(0, "got 0"), (1.5, "got 1.5"), (False, "got False")])
def test_a_bad_number_of_workers_is_refused(workers, message):
    X, Y = mnist_like(20, 4, seed=13)
    with pytest.raises(ValueError, match=f"workers must be a positive integer, {message}"):
        fast_gradient_descent(X, Y, 0.1, 1, print_every=0, workers=workers)
