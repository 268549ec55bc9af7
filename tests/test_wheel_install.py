"""A non-editable install: the wheel, installed into a fresh virtual environment, trains offline on the
bundled sample (package data), from a folder that has nothing of the kit in it.

The new environment has no system site-packages and gets the wheel with `--no-deps`; its
dependencies (numpy, matplotlib, pytest) are this environment's, reached through a .pth file
placed after its own site-packages, so the kit itself can only come from the wheel. (That the
dependencies install is what the README's set-up and CI show.) Building the wheel needs pip's
isolated build environment (setuptools from the registry or pip's cache). About 10-15 s on a
quiet machine, so marked `slow`; it still runs with the rest, and in CI.
"""

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from cli_support import REPO_ROOT, describe

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "solutions", "grading", "kit_helpers")
DATA = ("mnist_sample_5k.csv.gz", "ATTRIBUTION.md")


def copy_sources(target: Path) -> Path:
    """The files a wheel is built from, copied (so the build leaves nothing in the repository)."""
    target.mkdir()
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)
    (target / "data").mkdir()
    for name in DATA:
        shutil.copy2(REPO_ROOT / "data" / name, target / "data" / name)
    return target


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, describe(result)
    return result


@pytest.mark.slow
def test_the_wheel_installed_in_a_fresh_venv_trains_offline_on_the_bundled_sample(tmp_path: Path) -> None:
    source = copy_sources(tmp_path / "source")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp_path / "dist", source],
        cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("mnist_kit-*.whl")

    environment = tmp_path / "fresh-venv"
    venv.EnvBuilder(with_pip=False).create(environment)  # no system site-packages
    python = environment / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        cwd=tmp_path)
    installed = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=tmp_path).stdout.strip())
    dependencies = Path(next(path for path in sys.path if path.endswith("site-packages") and
                             (Path(path) / "numpy").is_dir()))
    (installed / "zz_dependencies.pth").write_text(f"{dependencies}\n")  # after the venv's own packages

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "MNIST_KIT_DATA", "VIRTUAL_ENV") and not key.startswith("PYTEST_")}
    env.update(MNIST_KIT_CACHE=str(tmp_path / "empty-cache"), MPLBACKEND="Agg")
    where = run([python, "-c", "import solutions; print(solutions.__file__)"], cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(environment), "the kit must come from the new venv"

    result = run([environment / "bin" / "mnist-kit", "train", "--epochs", "2", "--weights", "w.npz"],
                 cwd=elsewhere, env=env)
    match = re.search(r"^Training data: bundled 5,000-image sample of the MNIST training set \((.+?)\)",
                      result.stdout, re.M)
    assert match, describe(result)
    assert Path(match.group(1)).is_relative_to(environment), f"the sample should be the installed copy: {match[1]}"
    assert re.search(r"^Dev accuracy:\s+0\.[5-9]", result.stdout, re.M), describe(result)
    assert (elsewhere / "w.npz").is_file()
