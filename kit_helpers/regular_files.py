"""Open a file for reading only when it is a regular file, and say what a path is when it is not.

Reading a named pipe (FIFO) waits forever for a writer, reading /dev/zero never
ends, and reading a folder fails with a confusing error. So the kit checks what
a path is before reading it:

    with open_regular("weights.npz") as file:   # NotRegularFile if it is a FIFO, a device, ...
        ...

The file is opened with O_NONBLOCK, so even a FIFO swapped in between the check
and the open cannot block, and is checked again on the open descriptor.
"""

import os
import stat
from pathlib import Path
from typing import BinaryIO

#: What each kind of non-regular file is called in messages.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device (like /dev/zero)"),
    (stat.S_ISBLK, "a block device (a disk)"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFile(OSError):
    """The path exists but is a folder, a FIFO, a device or a socket; str() says which."""


def kind_of(mode: int) -> str:
    """'a regular file', 'a folder', 'a named pipe (FIFO)', ... for an st_mode."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_regular(path: str | os.PathLike, mode: int) -> None:
    """Raise NotRegularFile (strerror: 'is a named pipe (FIFO), not a regular file') unless mode is a regular file's."""
    if not stat.S_ISREG(mode):
        kind = kind_of(mode)
        what = f"is {kind}, expected a file" if kind == "a folder" else f"is {kind}, not a regular file"
        raise NotRegularFile(0, what, str(path))


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open `path` for reading in binary mode, refusing anything but a regular file.

    Raises:
        NotRegularFile: the path is a folder, a FIFO, a device or a socket (nothing is read).
        OSError: the file cannot be opened (FileNotFoundError, PermissionError, ...).
    """
    path = Path(path)
    check_regular(path, os.stat(path).st_mode)  # a device is never even opened
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        check_regular(path, os.fstat(fd).st_mode)  # what was opened, in case the path changed
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")
