"""How long load_mnist takes on full-size files: a 60,000-row CSV and a 60,000-image IDX pair.

    .venv/bin/python benchmarks/data_loading.py                       # this checkout
    .venv/bin/python benchmarks/data_loading.py --against /tmp/old    # and another one, same run

The files are made from the 10,000 test images in ../shared/mnist repeated six
times (the official training images are not there): `mnist_train.csv` (Kaggle
layout, uncompressed and gzipped) and the gzipped IDX pair. Each checkout is
timed in its own fresh process (best of --repeat loads), and its peak memory is
the process's maximum resident size. The figures go in the README (Data section).
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MNIST_KIT_SHARED", ROOT.parent / "shared")) / "mnist"
TEST_IMAGES = 10_000

#: Runs in the timed process: load each source `repeat` times, print the best time and the peak memory.
CHILD = r"""
import json, resource, sys, time
from solutions.mnist_data import load_mnist
results = {}
for label, source in json.loads(sys.argv[1]).items():
    best = float("inf")
    for _ in range(int(sys.argv[2])):
        started = time.perf_counter()
        data = load_mnist("train", source)
        best = min(best, time.perf_counter() - started)
        assert data.Y.size == int(sys.argv[3]), data.Y.size
        del data
    results[label] = best
results["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(results))
"""


def make_files(folder: Path, level: int, copies: int) -> dict[str, str]:
    """Write the files of `copies` x 10,000 images into `folder`; return {label: path}."""
    text = gzip.decompress((SHARED / "mnist_test.csv.gz").read_bytes())
    header, _, rows = text.partition(b"\n")
    csv = folder / "csv" / "mnist_train.csv"
    csv.parent.mkdir()
    csv.write_bytes(header + b"\n" + rows * copies)
    csv_gz = folder / "csv_gz" / "mnist_train.csv.gz"
    csv_gz.parent.mkdir()
    csv_gz.write_bytes(gzip.compress(csv.read_bytes(), compresslevel=level))
    idx = folder / "idx"
    idx.mkdir()
    for kind, header_bytes in (("images", 16), ("labels", 8)):
        data = gzip.decompress((SHARED / f"t10k-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz").read_bytes())
        head, body = bytearray(data[:header_bytes]), data[header_bytes:]
        head[4:8] = (TEST_IMAGES * copies).to_bytes(4, "big")
        name = f"train-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"
        (idx / name).write_bytes(gzip.compress(bytes(head) + body * copies, compresslevel=level))
    return {f"CSV ({csv.stat().st_size / 1e6:.0f} MB)": str(csv), "CSV .gz": str(csv_gz), "IDX .gz pair": str(idx)}


def time_checkout(checkout: Path, sources: dict[str, str], repeat: int, images: int) -> dict[str, float]:
    """Load every source with the code of `checkout`, in a fresh process; its results."""
    environment = dict(os.environ, PYTHONPATH=str(checkout))
    environment.pop("MNIST_KIT_DATA", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(sources), str(repeat), str(images)],
        env=environment, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to time in the same run")
    parser.add_argument("--repeat", type=int, default=3, help="loads per file; the best counts (default: 3)")
    parser.add_argument("--level", type=int, default=6, help="gzip level of the made files (default: 6)")
    parser.add_argument("--copies", type=int, default=6,
                        help="copies of the 10,000 test images in each file (default: 6, full size)")
    args = parser.parse_args()
    checkouts = {"this checkout": ROOT}
    if args.against is not None:
        checkouts[f"{args.against}"] = args.against.resolve()
    with tempfile.TemporaryDirectory() as folder:
        sources = make_files(Path(folder), args.level, args.copies)
        images = TEST_IMAGES * args.copies
        results = {name: time_checkout(path, sources, args.repeat, images) for name, path in checkouts.items()}
    labels = list(sources) + ["peak_mb"]
    print(f"{'checkout':40}" + "".join(f"{label:>16}" for label in labels))
    for name, times in results.items():
        cells = [f"{times[label]:.2f} s" for label in sources] + [f"{times['peak_mb']:.0f} MB"]
        print(f"{name[-40:]:40}" + "".join(f"{cell:>16}" for cell in cells))


if __name__ == "__main__":
    main()
