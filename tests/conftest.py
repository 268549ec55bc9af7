"""Fixtures shared by the kit's own tests.

The real MNIST files live outside the repository, in ../shared/mnist (or the
folder named by MNIST_KIT_SHARED). Tests that need them use the `shared_mnist`
fixture: where the folder is absent they are skipped with the reason, unless
MNIST_KIT_REQUIRE_SHARED=1 (set by .ci/run), where a missing folder is an error.
"""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_mnist_dir() -> Path:
    """Where the shared MNIST files are: $MNIST_KIT_SHARED/mnist or ../shared/mnist."""
    shared = os.environ.get("MNIST_KIT_SHARED")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "mnist"


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    """The folder of real MNIST files; skips (or fails under CI) when it is missing."""
    folder = shared_mnist_dir()
    if (folder / "t10k-labels-idx1-ubyte.gz").is_file():
        return folder
    reason = (
        f"needs the real MNIST files in {folder} (set MNIST_KIT_SHARED to the folder "
        "that holds mnist/); not found"
    )
    if os.environ.get("MNIST_KIT_REQUIRE_SHARED") == "1":
        pytest.fail(reason + ", and MNIST_KIT_REQUIRE_SHARED=1 makes it mandatory", pytrace=False)
    pytest.skip(reason)
