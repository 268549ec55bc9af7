"""Checks of stage 02: init_params, forward_prop (solutions/forward.py)."""

import numpy as np

from solutions import activations as ref_act
from solutions import forward as ref

from .expect import as_array, as_tuple, expect_close, expect_shape, unchanged
from .fixtures import batch, rounded_batch
from ..running.learner_function import LearnerFunction
from .registry import checker

check = checker("02")

PARAMS = ("W1", "b1", "W2", "b2")
ACTIVATIONS = ("Z1", "A1", "Z2", "A2")


# --------------------------------------------------------------- init_params
def _params(init_params: LearnerFunction, *args, **kwargs) -> list[np.ndarray]:
    result = as_tuple(init_params, init_params(*args, **kwargs), PARAMS)
    return [as_array(init_params, value, name) for name, value in zip(PARAMS, result)]


def _expect_param_shapes(init_params: LearnerFunction, params: list[np.ndarray],
                         n_in: int, n_hidden: int, n_out: int) -> None:
    expected = {"W1": (n_hidden, n_in), "b1": (n_hidden, 1), "W2": (n_out, n_hidden), "b2": (n_out, 1)}
    for name, value in zip(PARAMS, params):
        rows, columns = expected[name]
        wrong = {(columns, rows): f"{name} is transposed: it has one row per unit of its layer and "
                                  f"one column per input, so that {name} @ X works",
                 (rows,): f"keep {name} a column of shape ({rows}, 1), so it broadcasts over the m examples"}
        if name.startswith("b"):
            wrong[(1, rows)] = f"{name} must be a column ({rows}, 1), not a row"
        expect_shape(init_params, value, expected[name], what=name, wrong_shapes=wrong,
                     hint="W1 (n_hidden, n_in), b1 (n_hidden, 1), W2 (n_out, n_hidden), b2 (n_out, 1): "
                          "use the arguments, not fixed numbers")
        if not np.issubdtype(value.dtype, np.floating):
            init_params.fail(f"{name} has dtype {value.dtype}, expected floats.",
                             hint="draw the values with rng.uniform or rng.normal, which give float64")


@check("init_params", visible=True, replay="shapes(floats=True)")
def default_shapes(init_params: LearnerFunction) -> None:
    """init_params() gives W1 (10, 784), b1 (10, 1), W2 (10, 10), b2 (10, 1)."""
    _expect_param_shapes(init_params, _params(init_params), 784, 10, 10)


@check("init_params", visible=True, replay="shapes(floats=True)")
def shapes_follow_the_arguments(init_params: LearnerFunction) -> None:
    """init_params(5, 4, 3) gives W1 (4, 5), b1 (4, 1), W2 (3, 4), b2 (3, 1)."""
    _expect_param_shapes(init_params, _params(init_params, 5, 4, 3, seed=0), 5, 4, 3)


@check("init_params", visible=True, replay="seeded(differ=[0, 2])")
def same_seed_same_parameters(init_params: LearnerFunction) -> None:
    """the same seed gives the same parameters, another seed different ones."""
    first = _params(init_params, 6, 5, 10, seed=7)
    again = _params(init_params, 6, 5, 10, seed=7)
    hint = "make a generator from the seed, rng = np.random.default_rng(seed), and draw everything from rng"
    for name, a, b in zip(PARAMS, first, again):
        if not np.array_equal(a, b):
            init_params.fail(f"two calls with seed=7 gave different {name}.", mistake=hint)
    other = _params(init_params, 6, 5, 10, seed=8)
    if all(np.array_equal(a, b) for a, b in zip(first[::2], other[::2])):
        init_params.fail("seed=7 and seed=8 gave the same weights.", mistake=hint)


def _expect_spread(init_params: LearnerFunction, name: str, values: np.ndarray, std: float,
                   scheme: str, hint: str) -> None:
    if abs(values.mean()) > 0.1 * std + 3 * std / np.sqrt(values.size) or not 0.85 * std < values.std() < 1.15 * std:
        init_params.fail(f"{name} ({scheme}) has mean {values.mean():.4f} and standard deviation "
                         f"{values.std():.4f}; expected mean 0 and standard deviation {std:.4f}.", hint=hint)


def init_is_ignored(init_params: LearnerFunction, args: tuple, seed: int) -> bool:
    """Whether init="uniform" and init="he" give the very same parameters for the same seed."""
    uniform = _params(init_params, *args, seed=seed, init="uniform")
    again = _params(init_params, *args, seed=seed, init="uniform")
    he = _params(init_params, *args, seed=seed, init="he")
    seeded = all(np.array_equal(a, b) for a, b in zip(uniform, again))  # else equal draws cannot be told
    return seeded and all(np.array_equal(a, b) for a, b in zip(uniform, he))


def _fail_scheme(init_params: LearnerFunction, problem: str, hint: str, *, args: tuple, seed: int,
                 call: str, recognised: bool = False) -> None:
    """Fail with `problem`; when the init argument makes no difference, say so instead of `hint`
    (a recognised mistake when `recognised`, else general advice)."""
    __tracebackhide__ = True
    if init_is_ignored(init_params, args, seed):
        init_params.fail(problem, call=call,
                         mistake='init="uniform" and init="he" gave the very same parameters: the init argument '
                                 'is ignored. Draw every weight and bias from uniform(-0.5, 0.5) when init == '
                                 '"uniform" (the default), and He weights with zero biases when init == "he"')
    init_params.fail(problem, call=call, mistake=hint if recognised else None, hint=hint)


@check("init_params")
def uniform_scheme(init_params: LearnerFunction) -> None:
    """init="uniform" (the default) draws every weight and bias from uniform(-0.5, 0.5)."""
    params = _params(init_params, 784, 10, 10, seed=1)
    call = init_params.last_call
    hint = "draw every weight AND bias from uniform(-0.5, 0.5), e.g. rng.uniform(-0.5, 0.5, size=(10, 784))"
    scheme = {"args": (784, 10, 10), "seed": 1, "call": call}
    for name, value in zip(PARAMS, params):
        if value.min() < -0.5 or value.max() > 0.5:
            _fail_scheme(init_params, f"{name} has values from {value.min():.3f} to {value.max():.3f}, "
                                      f"outside [-0.5, 0.5].", hint, **scheme)
        if np.unique(value).size < value.size // 2:
            _fail_scheme(init_params, f"{name} has many equal values: every entry should be drawn at random.",
                         hint, **scheme)
    W1 = params[0]
    std = 1 / np.sqrt(12)
    if abs(W1.mean()) > 0.1 * std + 3 * std / np.sqrt(W1.size) or not 0.85 * std < W1.std() < 1.15 * std:
        _fail_scheme(init_params, f"W1 (uniform) has mean {W1.mean():.4f} and standard deviation {W1.std():.4f}; "
                                  f"expected mean 0 and standard deviation {std:.4f}.", hint, **scheme)


@check("init_params")
def he_scheme(init_params: LearnerFunction) -> None:
    """init="he" draws weights from normal(0, sqrt(2 / fan_in)) and starts biases at 0."""
    params = _params(init_params, 784, 50, 10, seed=2, init="he")
    W1, b1, W2, b2 = params
    call = init_params.last_call
    hint = ("He initialisation: W from normal(0, sqrt(2 / fan_in)), where fan_in is n_in for W1 and "
            "n_hidden for W2; biases np.zeros")
    for name, value in (("b1", b1), ("b2", b2)):
        if np.any(value != 0):
            _fail_scheme(init_params, f"with init=\"he\", {name} should start at 0.",
                         "with He initialisation the biases start at 0: b1 = np.zeros((n_hidden, 1)), "
                         "b2 = np.zeros((n_out, 1)); only the weights are drawn at random",
                         args=(784, 50, 10), seed=2, call=call, recognised=True)
    _expect_spread(init_params, "W1", W1, np.sqrt(2 / 784), "he", hint)
    _expect_spread(init_params, "W2", W2, np.sqrt(2 / 50), "he", hint)


# -------------------------------------------------------------- forward_prop
def _forward_mistakes(b, name: str) -> list:
    """Recognisers for the typical mistakes, for output `name` of the forward pass."""
    W1, b1, W2, b2, X = b.W1, b.b1, b.W2, b.b2, b.X
    Z1 = W1 @ X + b1
    A1 = ref_act.relu(Z1)
    Z2 = W2 @ A1 + b2
    if name == "Z1":
        return [(W1 @ X, "Z1 = W1 X + b1: the bias b1 is missing"),
                (lambda got: got.shape == (X.shape[1], W1.shape[0]),
                 "Z1 is transposed: Z1 = W1 @ X has one column per example")]
    if name == "A1":
        return [(Z1, "A1 is the same as Z1: you returned the pre-activations; A1 = relu(Z1)"),
                (ref_act.softmax(Z1), "the hidden layer uses ReLU: A1 = relu(Z1), not softmax")]
    if name == "Z2":
        return [(W2 @ A1, "Z2 = W2 A1 + b2: the bias b2 is missing"),
                (W2 @ Z1 + b2, "Z2 must use the activations A1 = relu(Z1), not Z1"),
                (ref_act.relu(Z2), "Z2 went through ReLU: the output logits Z2 = W2 A1 + b2 stay as they "
                                   "are and go straight into softmax")]
    return [(Z2, "A2 is the same as Z2: you returned the logits; A2 = softmax(Z2)"),
            (ref_act.softmax(ref_act.relu(Z2)), "ReLU was applied to the output: A2 = softmax(Z2), "
                                                "with no ReLU on Z2"),
            (ref_act.relu(Z2), "the output layer uses softmax, not ReLU: A2 = softmax(Z2)")]


def _expect_forward(forward_prop: LearnerFunction, b) -> None:
    inputs = {name: value.copy() for name, value in zip(PARAMS + ("X",), b.params + (b.X,))}
    result = forward_prop(*inputs.values())
    unchanged(forward_prop, dict(zip(PARAMS + ("X",), b.params + (b.X,))), inputs)
    outputs = as_tuple(forward_prop, result, ACTIVATIONS)
    for name, got, expected in zip(ACTIVATIONS, outputs, b.forward()):
        expect_close(forward_prop, got, expected, what=name, wrong_answers=_forward_mistakes(b, name),
                     hint="follow the equations: Z1 = W1 X + b1, A1 = relu(Z1), Z2 = W2 A1 + b2, "
                          "A2 = softmax(Z2) (@ for matrix products)")


@check("forward_prop", visible=True, replay="keeps_inputs + returns")
def small_network(forward_prop: LearnerFunction) -> None:
    """a 3-2-3 network on 2 examples: Z1, A1, Z2, A2 match the equations."""
    _expect_forward(forward_prop, rounded_batch(13))


@check("forward_prop", visible=True, replay="shapes")
def mnist_shapes(forward_prop: LearnerFunction) -> None:
    """a 784-10-10 network on 5 images: the four results have shape (10, 5)."""
    W1, b1, W2, b2 = ref.init_params(784, 10, 10, seed=0)
    X = np.random.default_rng(0).uniform(size=(784, 5))
    outputs = as_tuple(forward_prop, forward_prop(W1, b1, W2, b2, X), ACTIVATIONS)
    for name, value in zip(ACTIVATIONS, outputs):
        expect_shape(forward_prop, as_array(forward_prop, value, name), (10, 5), what=name,
                     wrong_shapes={(5, 10): f"{name} is transposed: one column per example"})


@check("forward_prop")
def forward_matches_reference(forward_prop: LearnerFunction) -> None:
    """other networks and batches: m = 1, 784 inputs, a wider hidden layer, float32 inputs."""
    for b in (batch(10, m=1), batch(11, n_in=784, n_hidden=10, m=8, scale=0.05),
              batch(12, n_in=6, n_hidden=16, m=5), batch(13, m=4, dtype=np.float32)):
        _expect_forward(forward_prop, b)
