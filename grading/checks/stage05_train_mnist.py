"""Checks of stage 05, the capstone: training on MNIST with mini-batches, evaluation,
saving and loading, plots (solutions/train_mnist.py).

The learner's stage 05 functions run on the learner's own functions of stages 01-04,
so a difference from the reference may come from an earlier stage: the hints say so.
"""

import io
import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from solutions import backprop as ref_backprop
from solutions import forward as ref_forward
from solutions import train_mnist as ref

from .expect import as_array, as_float, as_tuple, close, expect_close, expect_shape
from .fixtures import batch, mnist_images
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("05")

PARAMS = ("W1", "b1", "W2", "b2")
EARLIER = ("your functions of stages 01-04 do this work: if `python -m pytest exercises/05_train_mnist` "
           "also reports an unfinished earlier stage, finish that first")


def _network(seed: int, m: int = 7) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """A 784-10-10 network with He weights, and m MNIST-like inputs with labels."""
    params = ref_forward.init_params(784, 10, 10, seed=seed, init="he")
    rng = np.random.default_rng(seed)
    return params, rng.uniform(size=(784, m)), rng.integers(0, 10, size=m)


# ----------------------------------------------------------- make_predictions
@check("make_predictions", visible=True, replay="returns")
def predicted_digits(make_predictions: LearnerFunction) -> None:
    """make_predictions gives the argmax of the forward pass's A2 for each of 7 images."""
    params, X, _ = _network(60)
    got = as_array(make_predictions, make_predictions(X, *params))
    expect_close(make_predictions, got, ref.make_predictions(X, *params),
                 wrong_shapes={(10,): "one prediction per image (column): argmax over axis 0 of A2"},
                 hint="run forward_prop(W1, b1, W2, b2, X) and return get_predictions(A2); " + EARLIER)


@check("make_predictions")
def predictions_for_one_image(make_predictions: LearnerFunction) -> None:
    """a single image (m = 1) gives an array of one prediction."""
    params, X, _ = _network(61, m=1)
    expect_close(make_predictions, make_predictions(X, *params), ref.make_predictions(X, *params),
                 wrong_shapes={(): "return an array of shape (1,) for one image, not a bare number"})


# ------------------------------------------------------------------- evaluate
def _expect_evaluation(evaluate: LearnerFunction, seed: int, m: int) -> None:
    params, X, Y = _network(seed, m)
    result = as_tuple(evaluate, evaluate(*params, X, Y), ("accuracy", "loss"))
    accuracy = as_float(evaluate, result[0], "the accuracy")
    loss = as_float(evaluate, result[1], "the loss")
    want_accuracy, want_loss = ref.evaluate(*params, X, Y)
    if np.isclose(accuracy, want_loss) and np.isclose(loss, want_accuracy):
        evaluate.fail("it returned (loss, accuracy).", returned=(accuracy, loss),
                      expected=(want_accuracy, want_loss), mistake="return (accuracy, loss), in that order")
    if not np.isclose(accuracy, want_accuracy):
        evaluate.fail("wrong accuracy.", returned=accuracy, expected=want_accuracy,
                      hint="accuracy = get_accuracy(get_predictions(A2), Y) of the forward pass; " + EARLIER)
    if not np.isclose(loss, want_loss, rtol=1e-5):
        evaluate.fail("wrong loss.", returned=loss, expected=want_loss,
                      hint="loss = cross_entropy(A2, Y) of the forward pass; " + EARLIER)


@check("evaluate", visible=True, replay="returns")
def accuracy_and_loss(evaluate: LearnerFunction) -> None:
    """evaluate returns (accuracy, loss) of the network on 20 images."""
    _expect_evaluation(evaluate, 62, 20)


@check("evaluate")
def evaluate_one_image(evaluate: LearnerFunction) -> None:
    """one image (m = 1) and 300 images."""
    _expect_evaluation(evaluate, 63, 1)
    _expect_evaluation(evaluate, 64, 300)


# ---------------------------------------------------------- minibatch_indices
def _batches(minibatch_indices: LearnerFunction, m: int, batch_size: int, seed: int) -> list[np.ndarray]:
    result = minibatch_indices(m, batch_size, np.random.default_rng(seed))
    if result is None:
        minibatch_indices.fail("returned None.", hint="return the list of batches")
    try:
        batches = [as_array(minibatch_indices, b, "a batch") for b in result]
    except TypeError:
        minibatch_indices.fail("should return a list of index arrays.", returned=result)
    sizes = [b.size for b in batches]
    expected_sizes = [batch_size] * (m // batch_size) + ([m % batch_size] if m % batch_size else [])
    if sizes != expected_sizes:
        minibatch_indices.fail(f"the batch sizes are {sizes}, expected {expected_sizes}.",
                               hint="cut the shuffled indices into consecutive slices "
                                    "order[start:start + batch_size] for start in range(0, m, batch_size)")
    everything = np.concatenate(batches) if batches else np.array([], dtype=int)
    if not np.array_equal(np.sort(everything), np.arange(m)):
        minibatch_indices.fail("the batches do not hold every index 0..m-1 exactly once.", returned=batches,
                               hint="shuffle with order = rng.permutation(m), then slice it")
    return batches


@check("minibatch_indices", visible=True, replay="partition")
def every_index_once(minibatch_indices: LearnerFunction) -> None:
    """m = 10, batch_size = 3: batches of 3, 3, 3 and 1 that hold 0..9 once each."""
    _batches(minibatch_indices, 10, 3, seed=0)


@check("minibatch_indices")
def shuffled_by_the_given_rng(minibatch_indices: LearnerFunction) -> None:
    """the order is shuffled, drawn from the rng passed in (same seed, same batches)."""
    first = np.concatenate(_batches(minibatch_indices, 100, 10, seed=1))
    again = np.concatenate(_batches(minibatch_indices, 100, 10, seed=1))
    other = np.concatenate(_batches(minibatch_indices, 100, 10, seed=2))
    if np.array_equal(first, np.arange(100)):
        minibatch_indices.fail("the indices come out in order 0, 1, 2, ...: they are not shuffled.",
                               mistake="draw a new order every call: order = rng.permutation(m)")
    if not np.array_equal(first, again) or np.array_equal(first, other):
        minibatch_indices.fail("the order does not come from the rng argument.",
                               mistake="use the generator you are given (rng.permutation(m)), not "
                                    "np.random.permutation or a new default_rng")


@check("minibatch_indices")
def one_batch_when_large(minibatch_indices: LearnerFunction) -> None:
    """batch_size >= m gives one batch; m = 1 gives one batch of one index."""
    _batches(minibatch_indices, 7, 7, seed=3)
    _batches(minibatch_indices, 1, 4, seed=4)


# ------------------------------------------------------- mini_batch_gradient_descent
def _starting_params(fn: LearnerFunction, n_in: int, n_hidden: int, seed: int, init: str) -> tuple:
    """The learner's own init_params (stage 02) when their program has one, else the reference's."""
    params = fn.call_other("init_params", n_in, n_hidden, 10, seed=seed, init=init)
    if params is None:
        params = ref_forward.init_params(n_in, n_hidden, 10, seed=seed, init=init)
    return tuple(np.asarray(p) for p in params)


def _trained(fn: LearnerFunction, *args, **kwargs) -> list[np.ndarray]:
    result = as_tuple(fn, fn(*args, print_every=0, **kwargs), PARAMS)
    return [as_array(fn, value, name) for name, value in zip(PARAMS, result)]


def _expect_full_batch_step(fn: LearnerFunction, *, n_hidden: int = 10, init: str = "he",
                            weight_decay: float = 0.0) -> None:
    b = batch(70, n_in=6, m=20)
    alpha = 0.5
    keywords = {"seed": 0}
    if n_hidden != 10:
        keywords["n_hidden"] = n_hidden
    if init != "he":
        keywords["init"] = init
    if weight_decay:
        keywords["weight_decay"] = weight_decay
    got = _trained(fn, b.X, b.Y, alpha, 1, 20, **keywords)
    W1, b1, W2, b2 = _starting_params(fn, 6, n_hidden, 0, init)
    Z1, A1, Z2, A2 = ref_forward.forward_prop(W1, b1, W2, b2, b.X)
    dW1, db1, dW2, db2 = ref_backprop.backward_prop(Z1, A1, Z2, A2, W1, W2, b.X, b.Y)
    expected = (W1 - alpha * (dW1 + weight_decay * W1), b1 - alpha * db1,
                W2 - alpha * (dW2 + weight_decay * W2), b2 - alpha * db2)
    for name, value, want, start in zip(PARAMS, got, expected, (W1, b1, W2, b2)):
        wrong = [(start, f"{name} did not move: take a step on every batch"),
                 (lambda g, w=want, s=start: close(g, s + (w - s) * 2) or close(g, s + (w - s) / 2),
                  "the step has the wrong size: use alpha as given in the first epoch")]
        if weight_decay and name.startswith("b"):
            grad = (start - want) / alpha
            wrong.insert(0, (start - alpha * (grad + weight_decay * start),
                             "weight decay applies to the weights W1 and W2, not to the biases"))
        if weight_decay and name.startswith("W"):
            grad = (start - want) / alpha - weight_decay * start
            wrong.insert(0, (start - alpha * grad, f"weight_decay is ignored: step with d{name} + "
                                                   f"weight_decay * {name}"))
        expect_close(fn, value, want, what=name, wrong_answers=wrong,
                     wrong_shapes={(10, 6): "use the n_hidden argument for the hidden layer's size"},
                     hint=f"one epoch with batch_size >= m is one gradient step from init_params(X.shape[0], "
                          f"n_hidden, 10, seed=seed, init=init); {EARLIER}")


@check("mini_batch_gradient_descent", visible=True, replay="returns")
def one_full_batch_epoch(mini_batch_gradient_descent: LearnerFunction) -> None:
    """one epoch with batch_size = m is one gradient step from init_params(..., seed=seed, init="he")."""
    _expect_full_batch_step(mini_batch_gradient_descent)


@check("mini_batch_gradient_descent", bonus=True)
def keywords_n_hidden_init_weight_decay(mini_batch_gradient_descent: LearnerFunction) -> None:
    """n_hidden=7, init="uniform" and weight_decay=0.1 change that step as documented."""
    _expect_full_batch_step(mini_batch_gradient_descent, n_hidden=7, init="uniform", weight_decay=0.1)


@check("mini_batch_gradient_descent")
def one_step_per_batch(mini_batch_gradient_descent: LearnerFunction) -> None:
    """one epoch of 4 mini-batches lowers the loss more than one full-batch step."""
    b = batch(71, n_in=6, m=40)
    full = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.5, 1, 40, seed=1)
    small = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.5, 1, 10, seed=1)
    full_loss = ref.evaluate(*full, b.X, b.Y)[1]
    small_loss = ref.evaluate(*small, b.X, b.Y)[1]
    W1, b1, W2, b2 = _starting_params(mini_batch_gradient_descent, 6, 10, 1, "he")
    for _ in range(4):  # what 4 steps on ALL the examples would give
        Z1, A1, Z2, A2 = ref_forward.forward_prop(W1, b1, W2, b2, b.X)
        dW1, db1, dW2, db2 = ref_backprop.backward_prop(Z1, A1, Z2, A2, W1, W2, b.X, b.Y)
        W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
    if all(close(s, f) for s, f in zip(small, (W1, b1, W2, b2))):
        mini_batch_gradient_descent.fail(
            "with batch_size=10 and m=40 it took 4 steps, each on all 40 examples.",
            mistake="each step uses only its batch: X[:, batch] and Y[batch]")
    if all(close(f, s) for f, s in zip(full, small)):
        mini_batch_gradient_descent.fail(
            "batch_size=10 and batch_size=40 (= m) gave the same parameters.",
            mistake="take one step per mini-batch: for batch in minibatch_indices(m, batch_size, rng): "
                 "gradients on X[:, batch], Y[batch], then update")
    if not small_loss < full_loss:
        mini_batch_gradient_descent.fail(
            f"after one epoch, 4 mini-batches of 10 left the loss at {small_loss:.4f}, not below the "
            f"{full_loss:.4f} of one full-batch step.",
            hint="every mini-batch takes a whole step, P - alpha * dP, with the gradients of that "
                 "batch (X[:, batch], Y[batch])")


@check("mini_batch_gradient_descent")
def history_per_epoch(mini_batch_gradient_descent: LearnerFunction) -> None:
    """history gets accuracy and loss on (X, Y) and on (X_dev, Y_dev) after every epoch."""
    b, dev = batch(72, n_in=6, m=30), batch(73, n_in=6, m=10)
    history: dict = {}
    params = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.3, 3, 8, seed=2, history=history,
                      X_dev=dev.X, Y_dev=dev.Y)
    final = {"accuracy": ref.evaluate(*params, b.X, b.Y)[0], "loss": ref.evaluate(*params, b.X, b.Y)[1],
             "dev_accuracy": ref.evaluate(*params, dev.X, dev.Y)[0],
             "dev_loss": ref.evaluate(*params, dev.X, dev.Y)[1]}
    for key, value in final.items():
        if key not in history:
            has = (f"its keys are {', '.join(repr(k) for k in sorted(history))}" if history
                   else "it is still empty: nothing was recorded")
            mini_batch_gradient_descent.fail(f'history has no "{key}" ({has}).',
                                             mistake=f'after every epoch append to history["{key}"]')
        if len(history[key]) != 3:
            mini_batch_gradient_descent.fail(f'history["{key}"] has {len(history[key])} entries after '
                                             f'3 epochs; expected 3.', hint="append once per epoch")
        if not np.isclose(float(history[key][-1]), value, rtol=1e-5):
            mini_batch_gradient_descent.fail(
                f'history["{key}"][-1] is {float(history[key][-1]):.6g}, but the returned network '
                f'gives {value:.6g}.', hint="record the figures after each epoch's last step, on all "
                                            "of (X, Y) (and of X_dev, Y_dev)")


@check("mini_batch_gradient_descent", bonus=True)
def learning_rate_schedule(mini_batch_gradient_descent: LearnerFunction) -> None:
    """alpha_final=0 over 2 epochs: the second epoch's rate is 0, so it ends where 1 epoch ends."""
    b = batch(74, n_in=6, m=24)
    one = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.4, 1, 6, seed=3)
    two = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.4, 2, 6, seed=3, alpha_final=0.0)
    if not all(close(o, t) for o, t in zip(one, two)):
        mini_batch_gradient_descent.fail(
            "with alpha_final=0.0 the last epoch should not move the parameters.",
            hint="epoch e (0-based) uses alpha + (alpha_final - alpha) * e / max(epochs - 1, 1)")


def _mnist(fn: LearnerFunction) -> tuple[np.ndarray, np.ndarray]:
    """The first 2,000 images of the bundled sample; a clear failure when the file is gone."""
    try:
        return mnist_images()
    except (OSError, ValueError) as error:
        fn.fail(f"cannot train: {error}.", call="(before calling it)")


@check("mini_batch_gradient_descent", bonus=True)
def one_epoch_with_alpha_final(mini_batch_gradient_descent: LearnerFunction) -> None:
    """epochs=1 with alpha_final: the only epoch is the first, so it uses alpha (and nothing divides by 0)."""
    b = batch(75, n_in=6, m=12)
    plain = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.4, 1, 6, seed=4)
    scheduled = _trained(mini_batch_gradient_descent, b.X, b.Y, 0.4, 1, 6, seed=4, alpha_final=0.05)
    if not all(close(p, s) for p, s in zip(plain, scheduled)):
        mini_batch_gradient_descent.fail(
            "with epochs=1, alpha_final=0.05 changed the step of the only epoch.",
            hint="the schedule starts at alpha in the first epoch (e = 0): alpha + (alpha_final - alpha) * e / "
                 "max(epochs - 1, 1), so one epoch trains with alpha")


@check("mini_batch_gradient_descent")
def learns_mnist(mini_batch_gradient_descent: LearnerFunction) -> None:
    """trained on 1,500 MNIST images for 3 epochs, it classifies 500 other images far above chance."""
    X, Y = _mnist(mini_batch_gradient_descent)
    X_train, Y_train, X_test, Y_test = X[:, :1500], Y[:1500], X[:, 1500:2000], Y[1500:2000]
    params = _trained(mini_batch_gradient_descent, X_train, Y_train, 0.15, 3, 32, seed=0)
    accuracy = ref.evaluate(*params, X_test, Y_test)[0]
    if not accuracy >= 0.6:
        mini_batch_gradient_descent.fail(
            f"after 3 epochs on 1,500 images it classifies only {accuracy:.1%} of 500 held-out images "
            f"correctly (chance is 10%; the reference reaches about 85%).",
            call="mini_batch_gradient_descent(X_train, Y_train, 0.15, 3, 32, seed=0) on MNIST images",
            hint="if the smaller checks pass, look at your earlier stages: " + EARLIER)


@check("mini_batch_gradient_descent", bonus=True)
def augmentation_is_used(mini_batch_gradient_descent: LearnerFunction) -> None:
    """augment=True trains on shifted images: other parameters, the same for the same seed."""
    X, Y = _mnist(mini_batch_gradient_descent)
    plain = _trained(mini_batch_gradient_descent, X[:, :200], Y[:200], 0.1, 1, 50, seed=5)
    shifted = _trained(mini_batch_gradient_descent, X[:, :200], Y[:200], 0.1, 1, 50, seed=5, augment=True)
    again = _trained(mini_batch_gradient_descent, X[:, :200], Y[:200], 0.1, 1, 50, seed=5, augment=True)
    if all(close(p, s) for p, s in zip(plain, shifted)):
        mini_batch_gradient_descent.fail("augment=True gave the same parameters as augment=False.",
                                         mistake="when augment is True, train each epoch on "
                                              "random_shifts(X, rng)")
    if not all(close(s, a) for s, a in zip(shifted, again)):
        mini_batch_gradient_descent.fail("two runs with the same seed gave different parameters.",
                                         mistake="draw all randomness from rng = np.random.default_rng(seed)")


# ---------------------------------------------------------- save and load
def _saved_params(seed: int) -> tuple[np.ndarray, ...]:
    return ref_forward.init_params(784, 10, 10, seed=seed)


def _npz(fn: LearnerFunction, data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an .npz file's bytes (never unpickled); fails when it is not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as error:
        fn.fail(f"the file is not a NumPy .npz archive ({error}).",
                mistake="write it with np.savez(file, W1=W1, b1=b1, W2=W2, b2=b2)")


@check("save_params", visible=True, replay="saves_npz")
def saves_a_file_load_params_reads(save_params: LearnerFunction) -> None:
    """save_params writes an .npz (creating folders) that holds W1, b1, W2, b2 as given."""
    params = _saved_params(80)
    folder = save_params.scratch()
    path = folder.path / "runs" / "weights.npz"
    returned = save_params(path, *params)
    if not folder.is_file("runs/weights.npz"):
        save_params.fail(f"no file was written at {path.name} (in a new folder runs/).",
                         mistake="create the parent folders (atomic_write does) and write the file there")
    if not isinstance(returned, (str, os.PathLike)) or Path(returned) != Path(path):
        save_params.fail("it should return the path it wrote.", returned=returned,
                         mistake="end with `return Path(path)`")
    stored = _npz(save_params, folder.read_bytes("runs/weights.npz"))
    for name, value in zip(PARAMS, params):
        if name not in stored:
            save_params.fail(f"the file has no array named {name} (it has {sorted(stored)}).",
                             mistake="name the arrays: np.savez(file, W1=W1, b1=b1, W2=W2, b2=b2)")
        if not np.array_equal(stored[name], value):
            save_params.fail(f"the stored {name} differs from the one given.")


@check("save_params", bonus=True)
def replaces_atomically(save_params: LearnerFunction) -> None:
    """saving over an existing file replaces it and leaves no temporary file behind."""
    folder = save_params.scratch()
    path = folder.path / "weights.npz"
    save_params(path, *_saved_params(81))
    params = _saved_params(82)
    save_params(path, *params)
    leftovers = [name for name in folder.names() if name != "weights.npz"]
    if leftovers:
        save_params.fail(f"files were left behind: {leftovers}.",
                         mistake="write through kit_helpers.atomic_write(path)")
    stored = _npz(save_params, folder.read_bytes("weights.npz"))
    if "W1" not in stored:
        save_params.fail(f"the file has no array named W1 (it has {sorted(stored)}).",
                         mistake="name the arrays: np.savez(file, W1=W1, b1=b1, W2=W2, b2=b2)")
    if not np.array_equal(stored["W1"], params[0]):
        save_params.fail("saving again did not replace the old parameters.")


@check("save_params", bonus=True)
def never_writes_into_the_old_file(save_params: LearnerFunction) -> None:
    """saving over a file writes a new file and renames it over the old one (so a crash cannot leave half a file)."""
    folder = save_params.scratch()
    old = _npz_bytes(_saved_params(85))
    folder.write_bytes("weights.npz", old)
    try:  # another name for the same file: writing INTO the file changes it, replacing the file does not
        folder.link("weights.npz", "witness.npz")
    except OSError:
        return  # no hard links on this file system: this cannot be told here
    save_params(folder.path / "weights.npz", *_saved_params(86))
    if folder.read_bytes("witness.npz") != old:
        save_params.fail(
            "it wrote into the existing weights.npz instead of replacing it: a crash half-way through "
            "would leave a broken file and lose the old parameters.",
            mistake="write to a temporary file beside it and rename that over the target (atomically): "
                    "`with atomic_write(path) as file: np.savez(file, W1=W1, b1=b1, W2=W2, b2=b2)`")


@check("load_params", visible=True, replay="returns(exact=True)")
def reads_saved_parameters(load_params: LearnerFunction) -> None:
    """load_params returns W1, b1, W2, b2 exactly as save_params stored them."""
    params = _saved_params(83)
    folder = load_params.scratch()
    folder.write_bytes("weights.npz", _npz_bytes(params))
    result = as_tuple(load_params, load_params(folder.path / "weights.npz"), PARAMS)
    for name, got, want in zip(PARAMS, result, params):
        got = as_array(load_params, got, name)
        expect_shape(load_params, got, want.shape, what=name)
        if not np.array_equal(got, want):
            load_params.fail(f"{name} differs from the saved one.",
                             mistake="return the arrays in the order W1, b1, W2, b2: "
                                     "tuple(archive[name] for name in PARAM_NAMES)")


@check("load_params")
def loads_from_a_string_path(load_params: LearnerFunction) -> None:
    """a path given as a str works too, and the arrays stay usable after loading."""
    params = _saved_params(84)
    folder = load_params.scratch()
    folder.write_bytes("w.npz", _npz_bytes(params))
    result = [np.array(a) for a in as_tuple(load_params, load_params(str(folder.path / "w.npz")), PARAMS)]
    for name, got, want in zip(PARAMS, result, params):
        if not np.array_equal(got, want):
            load_params.fail(f"{name} differs from the saved one.")


def _npz_bytes(params: tuple[np.ndarray, ...]) -> bytes:
    """The .npz file the reference save_params writes, as bytes."""
    buffer = io.BytesIO()
    np.savez(buffer, **dict(zip(PARAMS, params)))
    return buffer.getvalue()


# -------------------------------------------------------------- plot_history
def _lines_of(figure: Figure) -> list[np.ndarray]:
    return [np.asarray(line.get_ydata(), dtype=float) for axes in figure.axes for line in axes.get_lines()]


def _expect_figure(plot_history: LearnerFunction, figure: object, history: dict) -> Figure:
    if not isinstance(figure, Figure):
        plot_history.fail(f"it should return a matplotlib Figure, not {type(figure).__name__}.",
                          mistake="return the figure you drew on")
    lines = _lines_of(figure)
    for key, values in history.items():
        if not any(close(line, np.asarray(values, dtype=float)) for line in lines):
            plot_history.fail(f'no curve of the figure shows history["{key}"].',
                              mistake="plot every list of history against the epoch number")
    return figure


@check("plot_history", visible=True, replay="figure", bonus=True)
def draws_accuracy_and_loss(plot_history: LearnerFunction) -> None:
    """plot_history(history) returns a Figure with the accuracy and loss curves, and writes nothing."""
    history = {"accuracy": [0.5, 0.7, 0.8], "loss": [1.6, 0.9, 0.6]}
    folder = plot_history.scratch()  # the current folder of the call: catches relative writes
    _expect_figure(plot_history, plot_history.call_in(folder, history, None), history)
    written = folder.names()
    if written:
        plot_history.fail(f"with path=None it wrote {written} (in the current folder).",
                          mistake="only save the figure when a path is given: `if path is not None:`")


@check("plot_history", bonus=True)
def writes_a_png(plot_history: LearnerFunction) -> None:
    """with dev curves and a path, it draws every curve and saves a PNG there (creating the folder)."""
    history = {"accuracy": [0.5, 0.7, 0.8, 0.85], "loss": [1.6, 0.9, 0.6, 0.5],
               "dev_accuracy": [0.45, 0.6, 0.7, 0.72], "dev_loss": [1.7, 1.1, 0.8, 0.75]}
    folder = plot_history.scratch()
    _expect_figure(plot_history, plot_history(history, folder.path / "plots" / "curves.png"), history)
    if not folder.is_file("plots/curves.png"):
        plot_history.fail("no file was written at the path given.",
                          mistake="save with figure.savefig(file, format=\"png\") inside atomic_write(path) "
                                  "(which also creates the folder)")
    if not folder.read_bytes("plots/curves.png").startswith(b"\x89PNG"):
        plot_history.fail("the file written is not a PNG image.", mistake='figure.savefig(..., format="png")')


def _legend_texts(axes) -> list[str]:
    legend = axes.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend is not None else []


@check("plot_history", bonus=True)
def curves_are_labelled(plot_history: LearnerFunction) -> None:
    """every panel says what it shows (a title, a y label or a legend), and a legend tells its curves apart."""
    history = {"accuracy": [0.5, 0.7, 0.8], "loss": [1.6, 0.9, 0.6],
               "dev_accuracy": [0.45, 0.6, 0.7], "dev_loss": [1.7, 1.1, 0.8]}
    folder = plot_history.scratch()  # the current folder of the call: a stray relative write lands there
    figure = _expect_figure(plot_history, plot_history.call_in(folder, history, None), history)
    label = ('say what each panel shows: axes.set_title("Loss") (or a y label), axes.set_xlabel("epoch"), and '
             'label="train" / "dev" on every plot call, shown with axes.legend()')
    for number, axes in enumerate(figure.axes, start=1):
        curves = len(axes.get_lines())
        if not curves:
            continue
        legend = [text for text in _legend_texts(axes) if text.strip()]
        where = f"panel {number} of {len(figure.axes)}" if len(figure.axes) > 1 else "the figure"
        if not (axes.get_title().strip() or axes.get_ylabel().strip() or legend):
            plot_history.fail(f"{where} shows {curves} curve{'s' if curves > 1 else ''} but says nothing about "
                              f"{'them' if curves > 1 else 'it'}: no title, no y label, no legend.",
                              mistake=label)
        if curves > 1 and len(set(legend)) < curves:
            plot_history.fail(f"{where} shows {curves} curves but its legend names {len(set(legend))} of them.",
                              mistake="pass label= to every plot call (\"train\", \"dev\") and call "
                                      "axes.legend()")
