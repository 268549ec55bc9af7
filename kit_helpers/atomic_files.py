"""Atomic file writes: a reader sees the old file or the complete new one, never half.

The pattern: write to a temporary file in the target's own folder (same file
system, so the rename cannot turn into a copy), flush it to disk, then rename it
over the target with os.replace, which is atomic on POSIX and Windows. If
anything fails on the way, the temporary file is removed and the target is left
untouched.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary binary file that replaces `path` when the block ends cleanly.

        with atomic_write("weights.npz") as file:
            np.savez(file, W1=W1)

    Parent folders are created. On an exception (including KeyboardInterrupt)
    the temporary file is deleted, the exception propagates and `path` keeps
    its previous content, or stays absent.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
