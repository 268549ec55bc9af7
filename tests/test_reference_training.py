"""Stage 05 of the reference (mini-batches, evaluation, save/load, plots) and its helpers."""

import os

import numpy as np
import pytest
from toy_problems import separable_problem

from solutions import (
    evaluate,
    forward_prop,
    init_params,
    load_params,
    make_predictions,
    mini_batch_gradient_descent,
    minibatch_indices,
    plot_history,
    save_params,
)
from kit_helpers import atomic_write
from kit_helpers import random_shifts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("m, batch_size", [(10, 3), (9, 3), (1, 5), (5, 5)])
def test_minibatch_indices_cover_every_example_once(m, batch_size):
    batches = minibatch_indices(m, batch_size, np.random.default_rng(0))
    assert len(batches) == -(-m // batch_size)
    assert all(len(b) == batch_size for b in batches[:-1])
    assert sorted(np.concatenate(batches).tolist()) == list(range(m))


def test_minibatch_indices_shuffle():
    first = np.concatenate(minibatch_indices(100, 10, np.random.default_rng(0)))
    assert first.tolist() != list(range(100))


def test_make_predictions_and_evaluate_by_hand():
    # W1 = identity on 2 inputs, W2 = identity: the larger input wins
    W1, b1 = np.eye(2), np.zeros((2, 1))
    W2, b2 = np.eye(2), np.zeros((2, 1))
    X = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 4.0]])
    np.testing.assert_array_equal(make_predictions(X, W1, b1, W2, b2), [0, 1, 1])
    accuracy, loss = evaluate(W1, b1, W2, b2, X, np.array([0, 1, 0]))
    assert accuracy == pytest.approx(2 / 3)
    # loss = -(log softmax(3,0)[0] + log softmax(0,2)[1] + log softmax(1,4)[0]) / 3
    expected = (np.log1p(np.exp(-3)) + np.log1p(np.exp(-2)) + np.log1p(np.exp(3))) / 3
    assert loss == pytest.approx(expected)


def test_mini_batch_descent_learns_and_records_history(capsys):
    X, Y = separable_problem(m=300)
    X_dev, Y_dev = separable_problem(m=100, seed=1)
    history = {}
    params = mini_batch_gradient_descent(
        X, Y, 0.5, 6, 32, seed=0, history=history, X_dev=X_dev, Y_dev=Y_dev, print_every=2
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["0", "2", "4"]
    assert lines[0].startswith("Epoch: 0  Accuracy: ")
    for key in ("accuracy", "loss", "dev_accuracy", "dev_loss"):
        assert len(history[key]) == 6, key
    assert history["loss"][-1] < history["loss"][0]
    assert evaluate(*params, X_dev, Y_dev)[0] > 0.9


def test_mini_batch_with_whole_batch_is_full_batch_descent():
    # one batch of every example: shuffling only reorders columns, so the step is the same
    X, Y = separable_problem(m=40)
    fast = mini_batch_gradient_descent(X, Y, 0.3, 3, 40, seed=5, init="uniform", print_every=0)
    from solutions import gradient_descent

    slow = gradient_descent(X, Y, 0.3, 3, seed=5, print_every=0)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_weight_decay_and_schedule_change_the_result():
    X, Y = separable_problem(m=50)
    plain = mini_batch_gradient_descent(X, Y, 0.3, 3, 10, seed=0, print_every=0)
    decayed = mini_batch_gradient_descent(X, Y, 0.3, 3, 10, seed=0, weight_decay=0.1, print_every=0)
    scheduled = mini_batch_gradient_descent(X, Y, 0.3, 3, 10, seed=0, alpha_final=0.0, print_every=0)
    assert np.linalg.norm(decayed[0]) < np.linalg.norm(plain[0])
    assert not np.allclose(scheduled[0], plain[0])


def test_save_and_load_round_trip(tmp_path):
    params = init_params(seed=0)
    path = save_params(tmp_path / "nested" / "weights.npz", *params)
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["weights.npz"]  # no temporary left
    for saved, loaded in zip(params, load_params(path)):
        np.testing.assert_array_equal(saved, loaded)


def test_save_over_an_existing_file_is_atomic(tmp_path, monkeypatch):
    path = save_params(tmp_path / "weights.npz", *init_params(seed=0))
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_params(path, *init_params(seed=1))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["weights.npz"]


def test_atomic_write_leaves_no_file_on_error(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as file:
            file.write(b"half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_plot_history_writes_a_png(tmp_path):
    history = {"accuracy": [0.1, 0.5, 0.8], "loss": [2.3, 1.0, 0.5], "dev_accuracy": [0.1, 0.4, 0.7], "dev_loss": [2.3, 1.2, 0.7]}
    figure = plot_history(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_SIGNATURE
    assert len(figure.axes) == 2
    assert [len(axes.lines) for axes in figure.axes] == [2, 2]


def test_random_shifts_moves_each_image_by_at_most_one_pixel():
    rng = np.random.default_rng(0)
    image = np.zeros((28, 28))
    image[10, 12] = 1.0
    X = np.repeat(image.reshape(784, 1), 200, axis=1)
    shifted = random_shifts(X, rng)
    assert shifted.shape == X.shape and np.array_equal(X[:, 0], image.ravel())  # input untouched
    positions = {divmod(int(np.argmax(column)), 28) for column in shifted.T}
    assert positions == {(10 + dy, 12 + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}
    assert np.allclose(shifted.sum(axis=0), 1.0)


def test_random_shifts_drops_pixels_pushed_past_the_edge():
    image = np.zeros((28, 28))
    image[0, :] = 1.0  # the top row
    X = np.repeat(image.reshape(784, 1), 300, axis=1)
    totals = set(np.round(random_shifts(X, np.random.default_rng(1)).sum(axis=0)).astype(int))
    # moved up: the row falls off (0 left); moved sideways: one pixel falls off (27)
    assert totals == {0, 27, 28}


def test_forward_prop_on_saved_params_is_unchanged(tmp_path):
    params = init_params(seed=2, init="he")
    X = np.random.default_rng(0).uniform(size=(784, 4))
    loaded = load_params(save_params(tmp_path / "w.npz", *params))
    np.testing.assert_array_equal(forward_prop(*params, X)[3], forward_prop(*loaded, X)[3])
