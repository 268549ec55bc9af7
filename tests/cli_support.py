"""Helpers for the tests of the `mnist-kit` command and the pictures.

run_cli runs the real command in a subprocess (as a user would), in a folder
of the test's own, as on a fresh clone: $MNIST_KIT_DATA removed and the download
cache moved to an empty folder, so that what the user has downloaded or set
cannot change what the tests see.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = REPO_ROOT / "data" / "mnist_sample_5k.csv.gz"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def mnist_kit_script() -> str:
    """The installed `mnist-kit` console script of this interpreter's environment."""
    beside_python = Path(sys.executable).parent / "mnist-kit"
    found = str(beside_python) if beside_python.is_file() else shutil.which("mnist-kit")
    assert found, (
        "the mnist-kit console script is not installed: run `pip install -e .` "
        "(pyproject.toml declares mnist-kit = solutions.cli:main)"
    )
    return found


def run_cli(
    *args: str | os.PathLike,
    cwd: Path,
    script: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run `python -m solutions ARGS` (or the `mnist-kit` script) in `cwd`; capture its output."""
    command = [mnist_kit_script()] if script else [sys.executable, "-m", "solutions"]
    return subprocess.run(
        command + [str(arg) for arg in args],
        cwd=cwd, env=cli_environment(cwd, env), capture_output=True, text=True,
        timeout=timeout,
    )


def cli_environment(cwd: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a fresh clone: this one without $MNIST_KIT_DATA, the download
    cache moved to an empty place under cwd ($MNIST_KIT_CACHE), the repo importable; plus extra.
    """
    environment = {k: v for k, v in os.environ.items() if k != "MNIST_KIT_DATA"}
    environment["MNIST_KIT_CACHE"] = str(Path(cwd) / "mnist-cache")
    environment["PYTHONPATH"] = str(REPO_ROOT)
    environment["MPLBACKEND"] = "Agg"
    environment.update(extra or {})
    return environment


def describe(result: subprocess.CompletedProcess) -> str:
    """The command, its exit status and output, for an assertion message."""
    return (
        f"\n$ {' '.join(result.args)}\n[exit status {result.returncode}]\n"
        f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The command failed with exactly one line on stderr, no traceback, naming each fragment."""
    assert result.returncode != 0, "expected a failure (non-zero exit status)" + describe(result)
    assert "Traceback" not in result.stderr + result.stdout, (
        "a user error must be one clear line, not a traceback" + describe(result)
    )
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}" + describe(result)
    for fragment in fragments:
        assert fragment in lines[0], f"the error should mention {fragment!r}" + describe(result)
    return lines[0]


def assert_png(path: Path, min_side: int = 100) -> np.ndarray:
    """`path` is a PNG that matplotlib reads back as an image at least min_side pixels each way."""
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} does not start with the PNG signature"
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert height >= min_side and width >= min_side, (
        f"{path} is {width}x{height} pixels, expected at least {min_side} each way"
    )
    assert image.std() > 0, f"{path} is a blank image (every pixel the same)"
    return image


def leftover_partial_files(folder: Path) -> list[Path]:
    """Temporary files atomic_write would leave if it failed to clean up."""
    return sorted(folder.rglob("*.part"))
