"""How fast does the 784-10-10 network train? One run, the same data, side by side.

    .venv/bin/python benchmarks/training_speed.py                # about 30 seconds
    .venv/bin/python benchmarks/training_speed.py --workers 1 2  # with threadpoolctl installed
    .venv/bin/python benchmarks/training_speed.py --help

Full batch: seconds per gradient descent iteration at m = 59,000 (the original
notebook's training size) for

    notebook     the original notebook's float64 code (benchmarks/notebook_baseline.py)
    textbook     the reference stage functions, float64, one iteration of
                 solutions.descent.gradient_descent's loop (forward_prop,
                 backward_prop, update_params, accuracy and loss for the history)
    reference    what `mnist-kit train --preset original` runs: one
                 solutions.fast_training.FullBatchTrainer.step, float32, 1 worker
                 (--workers 1 2 adds the split between cores, with threadpoolctl)
    torch        the same step in PyTorch on the CPU, by hand, float32
                 (benchmarks/torch_baseline.py; only when torch is installed)

each as the median (and the minimum) of --repeats timed iterations after one
warm-up, taken round-robin (in a new random order each round) so that a burst
of load elsewhere on the machine hits every implementation alike, and as a speed-up over the notebook's code.

Mini-batch: seconds per epoch of solutions.train_mnist.mini_batch_gradient_descent
with the default `mnist-kit train` configuration (the "better" preset: batches of 32,
He init, weight decay, shifted images), on the 4,500 training images of the bundled
5k sample (500 held out, as the CLI does) and on m = 59,000.

The images are the 10,000 official MNIST test images (from ../shared/mnist or
wherever solutions.mnist_data finds them) repeated to m columns, or, when they
are not found, random images with MNIST's shape, dtype and share of blank pixels.
Timing does not depend on which digits they are.

This is a benchmark, not a test: it checks no numbers. tests/test_fast_training.py
checks that the reference computes the same gradients as the textbook form.
"""

import argparse
import contextlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import notebook_baseline
from solutions.backprop import backward_prop, cross_entropy
from solutions.commands.train import PRESETS
from solutions.descent import get_accuracy, get_predictions, update_params
from solutions import fast_training
from solutions.fast_training import DEFAULT_CHUNK_SIZE, FullBatchTrainer
from solutions.forward import forward_prop, init_params
from solutions.mnist_data import MnistDataError, load_mnist
from solutions.train_mnist import mini_batch_gradient_descent

try:
    import torch

    import torch_baseline
except ImportError:
    torch = None

REPO = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO.parent / "shared" / "mnist"
BUNDLED_SAMPLE = REPO / "data" / "mnist_sample_5k.csv.gz"
ALPHA = 0.1


def machine_description() -> list[str]:
    """Lines saying what this ran on: CPU, cores, NumPy and its BLAS, thread counts."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    lines = [
        f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}",
        f"numpy {np.__version__}, BLAS {blas.get('name', '?')} {blas.get('version', '')}".rstrip(),
    ]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(
                f"  thread pool: {pool['internal_api']} {pool.get('version') or ''} "
                f"{pool.get('architecture') or ''} threads={pool['num_threads']}".replace("  ", " ").rstrip()
            )
    except ImportError:
        lines.append("  (pip install threadpoolctl to see the BLAS kernel and thread counts)")
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        lines.append(f"  {name}={os.environ[name]}" if name in os.environ else f"  {name} not set")
    if torch is not None:
        lines.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        lines.append("torch not installed: no torch column (pip install -e '.[torch]')")
    return lines


def benchmark_images(m: int) -> tuple[np.ndarray, np.ndarray, str]:
    """X (784, m) float64 in [0, 1] and Y (m,) int64, and a line saying what they are."""
    try:
        source = SHARED_MNIST if SHARED_MNIST.is_dir() else None
        test = load_mnist("test", source)
        repeats = -(-m // test.Y.size)
        X = np.tile(test.X, repeats)[:, :m]
        Y = np.tile(test.Y, repeats)[:m]
        return np.ascontiguousarray(X), Y, f"the official test images repeated to m = {m:,}"
    except MnistDataError:
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, size=(784, m), dtype=np.uint8)
        pixels[rng.random((784, m)) < 0.81] = 0  # about 81% of MNIST's pixels are blank
        return pixels / 255.0, rng.integers(0, 10, size=m), f"random MNIST-like images, m = {m:,}"


def time_round_robin(
    steps: dict[str, Callable[[], object]], repeats: int
) -> dict[str, list[float]]:
    """Seconds of each call: one warm-up call each, then `repeats` rounds of one call each.

    Each round calls the steps in a new random order (seeded), so that whatever
    one step leaves behind (caches, threads) does not always fall on the same next one.
    """
    for step in steps.values():
        step()
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    shuffler = random.Random(0)
    for _ in range(repeats):
        order = list(steps)
        shuffler.shuffle(order)
        for name in order:
            start = time.perf_counter()
            steps[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def full_batch_steps(
    X: np.ndarray, Y: np.ndarray, chunk_sizes: list[int], worker_counts: list[int],
    exit_stack: contextlib.ExitStack,
) -> dict[str, Callable[[], object]]:
    """One full-batch iteration of each implementation, as a function of no arguments.

    Each keeps its own parameters and takes a real step every call (so the
    numbers in the arrays are those of actual training, not a frozen start).
    The reference's FullBatchTrainers are entered on exit_stack (they hold
    worker threads and, with several workers, keep BLAS single-threaded).
    """
    steps: dict[str, Callable[[], object]] = {}

    np.random.seed(0)
    notebook = {"params": notebook_baseline.init_params()}

    def notebook_step() -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # the unstabilised softmax
            notebook["params"] = notebook_baseline.iteration(notebook["params"], X, Y, ALPHA)

    steps["notebook (float64)"] = notebook_step

    textbook = {"params": init_params(seed=0)}
    history: dict[str, list[float]] = {}

    def textbook_step() -> None:
        # The body of solutions.descent.gradient_descent's loop, history included.
        W1, b1, W2, b2 = textbook["params"]
        Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
        dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y)
        textbook["params"] = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, ALPHA)
        history.setdefault("accuracy", []).append(get_accuracy(get_predictions(A2), Y))
        history.setdefault("loss", []).append(cross_entropy(A2, Y))

    steps["textbook (float64)"] = textbook_step

    # What FullBatchTrainer stores once per training run: X in float32 without its
    # blank rows. Made here once and shared, so that each reference row does not
    # hold a 160 MB copy of its own (separate copies measured up to 1.5x apart,
    # by where in memory they happened to land). W1 gets the matching columns.
    used_rows = np.flatnonzero(np.any(X != 0, axis=1))
    X_used = X[used_rows].astype(np.float32)
    for workers in worker_counts:
        for chunk_size in chunk_sizes:
            W1, b1, W2, b2 = init_params(seed=0)
            params = tuple(p.astype(np.float32) for p in (W1[:, used_rows], b1, W2, b2))
            trainer = FullBatchTrainer(X_used, Y, chunk_size=chunk_size, workers=workers)
            exit_stack.enter_context(trainer)

            def reference_step(params=params, trainer=trainer) -> None:
                trainer.step(params, ALPHA, with_loss=True)

            details = [f"{workers} worker{'s' if workers > 1 else ''}"]
            if chunk_size != DEFAULT_CHUNK_SIZE:
                details.append(f"chunks of {chunk_size}" if chunk_size < Y.size else "no chunks")
            steps[f"reference (float32, {', '.join(details)})"] = reference_step

    # Not an implementation: only the two products with X that every step needs,
    # W1 X and X dZ1^T, in float32 without the blank rows (what the reference
    # multiplies). No full-batch step can be faster than this row, so
    # notebook / floor bounds the speed-up that any float32 BLAS version can reach.
    rng = np.random.default_rng(0)
    W1_used = rng.normal(scale=0.05, size=(10, used_rows.size)).astype(np.float32)
    dZ1 = rng.normal(size=(10, Y.size)).astype(np.float32)
    Z1 = np.empty_like(dZ1)
    dW1_T = np.empty((used_rows.size, 10), np.float32)

    def products_only() -> None:
        np.matmul(W1_used, X_used, out=Z1)
        np.matmul(X_used, dZ1.T, out=dW1_T)

    steps["floor: W1 X and X dZ1^T only"] = products_only

    if torch is not None:
        torch_state = dict(zip(("params", "X", "Y"), torch_baseline.to_tensors(init_params(seed=0), X, Y)))

        def torch_step() -> None:
            torch_state["params"] = torch_baseline.iteration(
                torch_state["params"], torch_state["X"], torch_state["Y"], ALPHA
            )

        steps["torch (float32, by hand)"] = torch_step
    return steps


def report_full_batch(seconds: dict[str, list[float]]) -> None:
    """The table: median and minimum seconds per iteration, speed-up over the notebook."""
    baseline = statistics.median(seconds["notebook (float64)"])
    width = max(len(name) for name in seconds)
    print(f"{'implementation':{width}} {'median s/iter':>14} {'min s/iter':>11} {'vs notebook':>12}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:{width}} {median:14.4f} {min(values):11.4f} {baseline / median:11.2f}x")


def time_minibatch_epochs(X: np.ndarray, Y: np.ndarray, repeats: int) -> list[float]:
    """Seconds per epoch of mini_batch_gradient_descent with the CLI's default preset."""
    preset = PRESETS["better"]
    seconds = []
    for repeat in range(repeats + 1):  # the first is the warm-up
        start = time.perf_counter()
        mini_batch_gradient_descent(
            X, Y, preset.alpha, 1, preset.batch_size, seed=repeat, n_hidden=preset.n_hidden,
            init=preset.init, weight_decay=preset.weight_decay, augment=preset.augment,
            history={}, print_every=0,
        )
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--m", type=int, default=59_000, help="training images (default 59,000)")
    parser.add_argument("--repeats", type=int, default=9, help="timed iterations each (default 9)")
    parser.add_argument(
        "--chunk-sizes", type=int, nargs="+", default=[DEFAULT_CHUNK_SIZE],
        help=f"time the reference with these chunk sizes (default {DEFAULT_CHUNK_SIZE})",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=None,
        help="time the reference with these worker counts (default 1, as mnist-kit train; "
        "several need threadpoolctl)",
    )
    parser.add_argument("--skip-minibatch", action="store_true", help="only the full-batch table")
    args = parser.parse_args(argv)

    print("\n".join(machine_description()))
    print(f"load average (1, 5, 15 min) at the start: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    X, Y, what = benchmark_images(args.m)
    used = int(np.count_nonzero(np.any(X != 0, axis=1)))
    print(f"data: {what}; {used} of 784 pixels are not blank in every image\n")

    print(f"Full-batch gradient descent, 784-10-10, m = {args.m:,}: "
          f"median of {args.repeats} iterations after a warm-up")
    worker_counts = args.workers or [1]
    if max(worker_counts) > 1 and fast_training.ThreadpoolController is None:
        print("(several workers need threadpoolctl, which is not installed: timing 1 worker only)")
        worker_counts = [1]
    with contextlib.ExitStack() as exit_stack:
        steps = full_batch_steps(X, Y, args.chunk_sizes, worker_counts, exit_stack)
        seconds = time_round_robin(steps, args.repeats)
    report_full_batch(seconds)
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")

    if not args.skip_minibatch:
        preset = PRESETS["better"]
        print(f"\nMini-batch gradient descent (mnist-kit train's default: {preset.describe()}), "
              f"seconds per epoch, median of 3 after a warm-up")
        try:
            sample = load_mnist("train", BUNDLED_SAMPLE)
            X_sample, Y_sample = sample.X[:, 500:], sample.Y[500:]
            per_epoch = statistics.median(time_minibatch_epochs(X_sample, Y_sample, 3))
            print(f"  bundled sample, m = {Y_sample.size:,}: {per_epoch:.3f} s/epoch")
        except MnistDataError as error:
            print(f"  bundled sample not readable: {error}")
        per_epoch = statistics.median(time_minibatch_epochs(X, Y, 3))
        print(f"  m = {Y.size:,}: {per_epoch:.3f} s/epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
