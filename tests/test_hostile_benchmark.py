"""benchmarks/data_loading.py still runs (one copy of the test images, one load; speed is never asserted)."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_data_loading_benchmark_prints_every_column(shared_mnist):
    result = subprocess.run(
        [sys.executable, "benchmarks/data_loading.py", "--copies", "1", "--repeat", "1", "--level", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={"MNIST_KIT_SHARED": str(shared_mnist.parent), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    header, row = result.stdout.splitlines()
    for column in ("CSV (18 MB)", "CSV .gz", "IDX .gz pair", "peak_mb"):
        assert column in header, header
    assert row.startswith("this checkout") and row.count(" s") == 3, row
