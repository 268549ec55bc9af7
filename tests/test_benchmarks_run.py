"""The benchmark scripts still run (a smoke test on tiny sizes; speed itself is never asserted)."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_training_speed_prints_every_row_on_a_tiny_problem():
    result = subprocess.run(
        [sys.executable, "benchmarks/training_speed.py", "--m", "300", "--repeats", "1", "--skip-minibatch"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split("  ")[0] for line in result.stdout.splitlines()]
    for row in ("notebook (float64)", "textbook (float64)", "reference (float32, 1 worker)",
                "floor: W1 X and X dZ1^T only"):
        assert row in rows, f"missing row {row!r} in:\n{result.stdout}"
