"""Fast full-batch gradient descent: the maths of stages 02-04, arranged for speed.

One step of full-batch gradient descent on the 784-10-10 network is, in the
textbook form of solutions/forward.py, backprop.py and descent.py:

    Z1 = W1 X + b1           A1 = relu(Z1)          (10, m)
    Z2 = W2 A1 + b2          A2 = softmax(Z2)       (10, m)
    dZ2 = A2 - one_hot(Y)                           (10, m)
    dW2 = (1/m) dZ2 A1^T     db2 = (1/m) dZ2 1      (10, 10), (10, 1)
    dZ1 = (W2^T dZ2) * [Z1 > 0]                     (10, m)
    dW1 = (1/m) dZ1 X^T      db1 = (1/m) dZ1 1      (10, 784), (10, 1)
    P  <- P - alpha dP       for P in W1, b1, W2, b2

This module computes exactly those equations, with six tricks that make a
step at m = 59,000 several times faster than the float64 textbook form
(figures in the README's "Speed" section, from benchmarks/training_speed.py):

1. float32. X is copied to float32 once per training run, not once per step,
   and the parameters are kept in float32 while training. Half the bytes to
   read, twice as many numbers per SIMD instruction. The gradients agree with
   the float64 ones to about 1e-5 relative (tests/test_fast_training.py).

2. Chunks of columns. Every sum over examples (dW1, db1, dW2, db2, the loss,
   the number correct) is a sum of per-example terms, and each example's
   terms need only its own column of X. So the m columns are processed in
   chunks of `chunk_size`: forward pass, backward pass and the chunk's share
   of every gradient, then the next chunk. The (10, m) intermediates are never
   held whole: only (10, chunk_size) buffers, allocated once per training run
   (`Workspace`). With chunks small enough to stay in the CPU cache between
   W1 X and X dZ1^T (a few thousand columns), X would be read from memory
   once per step instead of twice; measured on the 2-core machine of the
   README, that did not pay: BLAS copies (packs) its operands into blocks of
   its own anyway, and smaller products each pay BLAS's fixed costs. So the
   default chunk is large (DEFAULT_CHUNK_SIZE); `benchmarks/training_speed.py
   --chunk-sizes` compares others on your machine.

3. No temporaries. Every intermediate is written into its buffer with out=
   arguments or an in-place operator (+=, -=, *=, /=), so a step allocates
   almost nothing. The softmax is the numerically stable one, done in place:
   subtract each column's maximum, exponentiate, divide by the column sums.
   dZ2 = A2 - one_hot(Y) becomes "subtract 1 at each column's label",
   without building the one-hot matrix.

4. dW1 is accumulated transposed, as X_chunk dZ1^T of shape (784, 10): for a
   matrix with only 10 rows, OpenBLAS multiplies measurably faster in that
   orientation than dZ1 X_chunk^T (10, 784).

5. One BLAS thread per core, the columns split between cores. A multi-threaded
   BLAS splits each product between its threads and makes them wait for each
   other several times per step; when another program wants the CPU too,
   those waits cost whole time slices. Instead the m columns are
   cut into one contiguous part per core, each part is worked through chunk
   by chunk by its own Python thread (NumPy and BLAS release the GIL) with a
   single-threaded BLAS, and the parts' gradients are added up at the end.
   Limiting BLAS to one thread needs the small package threadpoolctl, so this
   is optional (workers=2); by default one thread works through all columns,
   with the BLAS's own threads.

6. Blank pixels left out. A pixel that is 0 in every training image (MNIST's
   border) contributes nothing to W1 X, and its column of dW1 = dZ1 X^T is 0:
   X is stored without those rows and W1 multiplied without those columns.
   The same numbers, about 10% less work on MNIST.

The textbook functions stay the reference: tests check that this module's
gradients and parameters match them on several shapes.
"""

import contextlib
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .forward import init_params
from .train_mnist import evaluate

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional: without it, one worker (trick 5)
    ThreadpoolController = None

#: Columns per chunk. In benchmarks/training_speed.py on the README's machine
#: chunks of 2,048 were slower than 16,384, and those no faster than one chunk
#: per worker (29,500 columns each with 2 workers at m = 59,000), so the
#: default is large: one or two chunks per worker for MNIST, while the buffers
#: stay bounded (4 x 10 x 32,768 float32 = 5.2 MB) however large m is.
DEFAULT_CHUNK_SIZE = 32768

#: Probabilities are clipped below at this value in the loss, as in
#: solutions.backprop.cross_entropy.
MIN_PROBABILITY = 1e-12


@dataclasses.dataclass
class Workspace:
    """Buffers for one chunk, allocated once and reused by every step.

    Attributes (n_hidden, n_out, chunk_size: c):
        Z1: (n_hidden, c) hidden pre-activations.
        A1: (n_hidden, c) hidden activations.
        Z2: (n_out, c) logits; overwritten in place by A2, then by dZ2.
        dZ1: (n_hidden, c) hidden gradients.
        dW1_chunk_T: (n_in, n_hidden) one chunk's X_chunk dZ1^T.
        columns: (c,) the integers 0..c-1, to pick each column's label row.
    """

    Z1: np.ndarray
    A1: np.ndarray
    Z2: np.ndarray
    dZ1: np.ndarray
    dW1_chunk_T: np.ndarray
    columns: np.ndarray

    @classmethod
    def for_shapes(cls, n_in: int, n_hidden: int, n_out: int, chunk_size: int) -> "Workspace":
        """Fresh float32 buffers for chunks of up to chunk_size columns."""
        return cls(
            Z1=np.empty((n_hidden, chunk_size), np.float32),
            A1=np.empty((n_hidden, chunk_size), np.float32),
            Z2=np.empty((n_out, chunk_size), np.float32),
            dZ1=np.empty((n_hidden, chunk_size), np.float32),
            dW1_chunk_T=np.empty((n_in, n_hidden), np.float32),
            columns=np.arange(chunk_size),
        )


@dataclasses.dataclass
class StepResult:
    """What one pass over the data gives besides the gradients.

    Attributes:
        correct: how many columns' argmax of A2 equals the label.
        loss: mean cross-entropy of A2 against Y (as solutions.backprop.cross_entropy),
            or None when it was not asked for.
    """

    correct: int
    loss: float | None


def check_training_data(X: np.ndarray, Y: np.ndarray, n_out: int = 10) -> None:
    """Raise ValueError with a one-line reason unless X, Y are a valid training set.

    Args:
        X: should be a 2-D (n_in, m) array of real numbers, m >= 1.
        Y: should be an (m,) array of integer labels in [0, n_out).
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D (n_in, m) array, got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
    if X.shape[1] == 0:
        raise ValueError("X has no columns (m = 0): there is nothing to train on")
    if Y.shape != (X.shape[1],):
        raise ValueError(f"Y must have shape ({X.shape[1]},) to match X {X.shape}, got {Y.shape}")
    if not np.issubdtype(Y.dtype, np.integer):
        raise ValueError(f"Y must hold integer labels, got dtype {Y.dtype}")
    if Y.min() < 0 or Y.max() >= n_out:
        raise ValueError(f"labels must be in 0..{n_out - 1}, got values from {Y.min()} to {Y.max()}")


def full_batch_gradients(
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    workspace: Workspace,
    *,
    with_loss: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], StepResult]:
    """Gradients of the mean cross-entropy over all m columns, chunk by chunk.

    The same numbers as backward_prop(*forward_prop(W1, b1, W2, b2, X), W1, W2, X, Y)
    up to float32 rounding (see the module docstring for the equations).

    Args:
        W1: (n_hidden, n_in)  b1: (n_hidden, 1)  W2: (n_out, n_hidden)  b2: (n_out, 1),
            all float32.
        X: (n_in, m) float32 inputs.   Y: (m,) integer labels in [0, n_out).
        workspace: buffers from Workspace.for_shapes; its chunk size is the
            number of columns processed at once.
        with_loss: also compute the mean cross-entropy (a log per column).

    Returns:
        ((dW1, db1, dW2, db2), StepResult): each gradient float32 and of its
        parameter's shape; the StepResult counts the correct predictions of
        this forward pass (and holds the loss when with_loss is True).
    """
    n_in, m = X.shape
    chunk_size = workspace.columns.size
    dW1_T = np.zeros((n_in, W1.shape[0]), np.float32)  # dW1 transposed (trick 4)
    db1 = np.zeros(b1.shape, np.float32)
    dW2 = np.zeros(W2.shape, np.float32)
    db2 = np.zeros(b2.shape, np.float32)
    correct = 0
    loss_sum = 0.0
    for start in range(0, m, chunk_size):
        X_chunk = X[:, start : start + chunk_size]  # a view: (n_in, c), no copy
        Y_chunk = Y[start : start + chunk_size]
        c = Y_chunk.size
        # The chunk's slices of the buffers; the last chunk may be narrower.
        Z1, A1, Z2, dZ1 = (buffer[:, :c] for buffer in (workspace.Z1, workspace.A1, workspace.Z2, workspace.dZ1))
        label_entries = (Y_chunk, workspace.columns[:c])  # Z2[label_entries]: each column's label row

        # Forward: Z1 = W1 X + b1, A1 = relu(Z1), Z2 = W2 A1 + b2.
        np.matmul(W1, X_chunk, out=Z1)
        Z1 += b1
        np.maximum(Z1, 0, out=A1)
        np.matmul(W2, A1, out=Z2)
        Z2 += b2
        correct += int(np.count_nonzero(Z2.argmax(axis=0) == Y_chunk))

        # A2 = softmax(Z2), stable and in place: Z2 becomes A2.
        Z2 -= Z2.max(axis=0)
        np.exp(Z2, out=Z2)
        Z2 /= Z2.sum(axis=0)
        if with_loss:
            probabilities_of_truth = np.maximum(Z2[label_entries], MIN_PROBABILITY)
            loss_sum -= float(np.log(probabilities_of_truth).sum(dtype=np.float64))

        # dZ2 = A2 - one_hot(Y): subtract 1 at each column's label, in place.
        Z2[label_entries] -= 1
        dZ2 = Z2

        # This chunk's terms of dW2 = dZ2 A1^T and db2 = sum of dZ2's columns.
        dW2 += dZ2 @ A1.T
        db2 += dZ2.sum(axis=1, keepdims=True)

        # dZ1 = (W2^T dZ2) * relu'(Z1), then dW1^T += X dZ1^T while X_chunk is in cache.
        np.matmul(W2.T, dZ2, out=dZ1)
        dZ1 *= Z1 > 0
        np.matmul(X_chunk, dZ1.T, out=workspace.dW1_chunk_T)
        dW1_T += workspace.dW1_chunk_T
        db1 += dZ1.sum(axis=1, keepdims=True)

    for gradient in (dW1_T, db1, dW2, db2):
        gradient /= m
    loss = loss_sum / m if with_loss else None
    return (dW1_T.T, db1, dW2, db2), StepResult(correct=correct, loss=loss)


_blas_controller = None


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A with-block in which the BLAS uses a single thread (needs threadpoolctl)."""
    global _blas_controller
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()  # finds the loaded BLAS libraries, once
    return _blas_controller.limit(limits=1, user_api="blas")


class FullBatchTrainer:
    """What every step of one training run reuses: X in float32, buffers, worker threads.

    Use it as a context manager: with more than one worker it owns a thread
    pool, and each step runs with BLAS at one thread per worker (trick 5).

        with FullBatchTrainer(X, Y) as trainer:
            for i in range(iterations):
                result = trainer.step(params, alpha)

    Attributes:
        n_in: rows of the X given (784).
        used_rows: the indices of the rows of X that are not 0 in every column.
        X: (len(used_rows), m) float32 copy of those rows of the inputs.
        Y: (m,) integer labels.
        parts: one (columns, Workspace) pair per worker: a contiguous slice
            of the m columns and the buffers to work through it with.
    """

    def __init__(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        *,
        n_hidden: int = 10,
        n_out: int = 10,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        workers: int = 1,
    ) -> None:
        """Check and convert the data, split the columns, allocate the buffers.

        Args:
            X: (n_in, m) inputs.   Y: (m,) integer labels in [0, n_out).
            n_hidden, n_out: the network's layer sizes (10, 10).
            chunk_size: columns processed at once by each worker.
            workers: threads to split the columns between (trick 5); more than
                one needs threadpoolctl. The default, 1, runs like the textbook form,
                with the BLAS's own threads: measured here, 2 workers were faster
                at best and under heavy load, but slower by the median on a lightly
                loaded machine (README, "Speed").

        Raises:
            ValueError: X, Y, chunk_size or workers are not valid (the message says why).
        """
        check_training_data(X, Y, n_out)
        for name, value in (("chunk_size", chunk_size), ("workers", workers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if workers > 1 and ThreadpoolController is None:
            raise ValueError(f"workers={workers} needs threadpoolctl (pip install threadpoolctl)")
        X = np.asarray(X, dtype=np.float32)  # the one copy per run (trick 1)
        self.n_in = X.shape[0]
        # Trick 6: rows of X that are 0 in every column (MNIST's blank border
        # pixels) add nothing to Z1 = W1 X, and their columns of dW1 = dZ1 X^T
        # are 0; leaving them out gives the same numbers with less work.
        self.used_rows = np.flatnonzero(np.any(X != 0, axis=1))
        self.X = X if self.used_rows.size == self.n_in else X[self.used_rows]
        self.Y = np.asarray(Y)
        n_in, m = self.X.shape
        workers = min(workers, m)
        bounds = [m * k // workers for k in range(workers + 1)]
        self.parts = [
            (slice(a, b), Workspace.for_shapes(n_in, n_hidden, n_out, min(chunk_size, b - a)))
            for a, b in zip(bounds, bounds[1:])
        ]
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> "FullBatchTrainer":
        if len(self.parts) > 1:
            self._pool = ThreadPoolExecutor(len(self.parts))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def gradients(
        self, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, *, with_loss: bool = False
    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], StepResult]:
        """full_batch_gradients over all m columns, each worker taking its part.

        A part of m_k columns gives its mean gradient g_k; the mean over all m
        columns is sum_k (m_k / m) g_k, and likewise for the loss.

        Args:
            W1, b1, W2, b2: float32 parameters (see full_batch_gradients).
            with_loss: also compute the mean cross-entropy.

        Returns:
            ((dW1, db1, dW2, db2), StepResult), as full_batch_gradients.
        """

        W1_used = W1[:, self.used_rows]  # (n_hidden, rows used): W1's columns that meet X (trick 6)

        def part_gradients(part: tuple[slice, Workspace]):
            columns, workspace = part
            return full_batch_gradients(
                W1_used, b1, W2, b2, self.X[:, columns], self.Y[columns], workspace, with_loss=with_loss
            )

        if self._pool is None and len(self.parts) > 1:
            raise RuntimeError("use FullBatchTrainer in a with block when it has several workers")
        if self._pool is None:
            results = [part_gradients(self.parts[0])]
        else:
            with one_blas_thread():  # only while the workers run: other code keeps its BLAS threads
                results = list(self._pool.map(part_gradients, self.parts))
        m = self.Y.size
        weights = [np.float32((part.stop - part.start) / m) for part, _ in self.parts]
        dW1_used, db1, dW2, db2 = (
            sum(weight * part_result[0][k] for weight, part_result in zip(weights, results))
            for k in range(4)
        )
        dW1 = np.zeros((W1.shape[0], self.n_in), np.float32)
        dW1[:, self.used_rows] = dW1_used
        correct = sum(part_result[1].correct for part_result in results)
        loss = None
        if with_loss:
            loss = sum(float(w) * part_result[1].loss for w, part_result in zip(weights, results))
        return (dW1, db1, dW2, db2), StepResult(correct=correct, loss=loss)

    def step(
        self, params: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], alpha: float, *,
        with_loss: bool = False,
    ) -> StepResult:
        """One full-batch step, in place: ``P <- P - alpha * dP`` for P in W1, b1, W2, b2.

        Args:
            params: (W1, b1, W2, b2), float32 arrays, updated in place (no new arrays).
            alpha: the learning rate.
            with_loss: also compute the loss of this step's forward pass.

        Returns:
            The StepResult of this step's forward pass (before the update).
        """
        gradients, result = self.gradients(*params, with_loss=with_loss)
        for parameter, gradient in zip(params, gradients):
            parameter -= np.float32(alpha) * gradient
        return result


def fast_gradient_descent(
    X: np.ndarray,
    Y: np.ndarray,
    alpha: float,
    iterations: int,
    *,
    seed: int | None = None,
    history: dict[str, list[float]] | None = None,
    X_dev: np.ndarray | None = None,
    Y_dev: np.ndarray | None = None,
    print_every: int = 10,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch gradient descent like solutions.descent.gradient_descent, faster.

    Same starting point (init_params(X.shape[0], 10, 10, seed=seed), the
    original uniform scheme), same steps, same progress lines every
    print_every iterations (0 for never), with the accuracy of that
    iteration's forward pass:

        Iteration: 250  Accuracy: 0.793

    and, when history is a dict, the same per-iteration "accuracy" and "loss"
    lists. The work is done in float32 (see the module docstring), so the
    results agree with gradient_descent's to float32 precision, not bit for bit.

    Args:
        X: (n_in, m) inputs.   Y: (m,) integer labels in 0..9.
        alpha: learning rate.  iterations: number of steps.
        seed: seed for init_params.
        history: if a dict is given, the accuracy and cross-entropy loss of every
            iteration's forward pass are appended to history["accuracy"] and
            history["loss"] (lists created when missing).
        X_dev: (n_in, m_dev) held-out inputs.   Y_dev: (m_dev,) their labels.
            With history, the dev accuracy and loss of the same parameters (those
            the iteration starts from) go to history["dev_accuracy"] and
            history["dev_loss"], so the train and dev curves line up.
        print_every: how often to print a progress line.
        chunk_size: columns processed at once (any value >= 1 gives the same
            results up to rounding; it only changes the speed).
        workers: threads to split the columns between (see FullBatchTrainer).

    Returns:
        The trained W1 (10, n_in), b1 (10, 1), W2 (10, 10), b2 (10, 1), as
        float64 like gradient_descent's.

    Raises:
        ValueError: X, Y, chunk_size or workers are not valid (the message says why).
    """
    with FullBatchTrainer(X, Y, chunk_size=chunk_size, workers=workers) as trainer:
        m = trainer.Y.size
        params = tuple(p.astype(np.float32) for p in init_params(trainer.n_in, 10, 10, seed=seed))
        for i in range(iterations):
            if history is not None and X_dev is not None and Y_dev is not None:
                dev_accuracy, dev_loss = evaluate(*params, X_dev, Y_dev)  # before the step, like the train figures
                history.setdefault("dev_accuracy", []).append(dev_accuracy)
                history.setdefault("dev_loss", []).append(dev_loss)
            result = trainer.step(params, alpha, with_loss=history is not None)
            accuracy = result.correct / m
            if history is not None:
                history.setdefault("accuracy", []).append(accuracy)
                history.setdefault("loss", []).append(result.loss)
            if print_every and i % print_every == 0:
                print(f"Iteration: {i}  Accuracy: {accuracy:.3f}")
    return tuple(p.astype(np.float64) for p in params)
