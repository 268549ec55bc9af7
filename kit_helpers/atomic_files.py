"""Atomic file writes: a reader sees the old file or the complete new one, never half.

The pattern: write to a temporary ``.part`` file in the target's own folder
(same file system, so the rename cannot turn into a copy), flush it to disk,
then rename it over the target with os.replace, which is atomic on POSIX and
Windows. If anything fails on the way (an error, Ctrl-C, or SIGTERM where the
program turns it into an exception, as `mnist-kit` does), the temporary file is
removed and the target is left untouched.

What a shared machine also needs:

* The temporary file is ``.<name>.<host>.<pid>.<random>.part``: the writer's
  host and process id are in its name. A process killed outright (SIGKILL, a
  power cut) cannot remove its part; the next write of the same file removes it
  (remove_stale_parts), but only a part whose writer is gone, never the part
  of a live process (another download, another user's save).
* The file gets the permissions any new file gets: 0o666 less the user's umask
  (tempfile.mkstemp would make it 0o600, unreadable to a group sharing a cache).
* A symbolic link is written through: its target gets the new content, and the
  link stays a link.
* Only a regular file (or nothing) is replaced: a folder, a named pipe or a
  device at the path (say /dev/null) is refused, not renamed over.
"""

import contextlib
import errno
import os
import re
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .regular_files import check_regular

PART_SUFFIX = ".part"
#: Part names keep at most this much of the target's name (a file system allows 255 bytes).
NAME_KEPT = 200
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _host() -> str:
    """This machine's name, reduced to letters, digits and '-' (it sits between dots in part names)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def write_target(path: str | os.PathLike) -> Path:
    """The file a write of `path` changes: `path` itself, or where its symbolic link(s) point."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _part_prefix(target: Path) -> str:
    return f".{target.name[:NAME_KEPT]}."


def _process_is_gone(pid: int) -> bool:
    """True when no process `pid` exists on this machine (a process of another user counts as existing)."""
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def remove_stale_parts(path: str | os.PathLike) -> list[Path]:
    """Delete the .part files of `path` left by writers that no longer exist; return them.

    Only names of this module's own form, written on this host, by a process
    id that no process has any more, are removed. Anything else is left alone:
    a live writer's part, another host's (a cache on a network share), a name
    the kit did not make. Errors (a folder that cannot be listed) remove nothing.
    On Windows, where a process cannot be asked whether it exists without
    signalling it, nothing is removed.
    """
    if os.name != "posix":
        return []
    target = write_target(path)
    prefix, host = _part_prefix(target), _host()
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(PART_SUFFIX)):
            continue
        fields = name[len(prefix) : -len(PART_SUFFIX)].split(".")
        if len(fields) != 3 or fields[0] != host or not fields[1].isdigit():
            continue
        pid = int(fields[1])
        if pid == os.getpid() or not _process_is_gone(pid):
            continue
        with contextlib.suppress(OSError):  # another process may be removing it too
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _refuse_non_regular(target: Path) -> None:
    """Raise OSError when something other than a regular file is at `target`."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    check_regular(target, mode)


def _create_part(target: Path) -> tuple[int, Path]:
    """Create a new, empty part file beside `target` (mode 0o666 less the umask): (fd, path)."""
    prefix = _part_prefix(target)
    for _ in range(100):
        part = target.parent / f"{prefix}{_host()}.{os.getpid()}.{secrets.token_hex(4)}{PART_SUFFIX}"
        try:
            return os.open(part, _CREATE_FLAGS, 0o666), part
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name for a temporary file", str(target.parent))


def probe_writable(folder: str | os.PathLike) -> None:
    """Raise OSError now if a file cannot be created in `folder` (read-only, no permission, ...).

    It creates and removes a part file, which says more than os.access (that
    one says yes to root on a read-only mount, and knows nothing of quotas).
    Used before a long job whose result goes there, so that it fails first, not last.
    """
    folder = Path(folder)
    fd, part = _create_part(folder / "probe")
    os.close(fd)
    os.unlink(part)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary binary file that replaces `path` when the block ends cleanly.

        with atomic_write("weights.npz") as file:
            np.savez(file, W1=W1)

    Parent folders are created, stale parts of `path` are removed first (see
    remove_stale_parts), and a symbolic link at `path` is written through. On
    an exception (including KeyboardInterrupt) the temporary file is deleted,
    the exception propagates and `path` keeps its previous content, or stays absent.

    Raises:
        OSError: the folder cannot be created or written, or `path` is a folder,
            a named pipe, a device (strerror says which).
    """
    target = write_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _refuse_non_regular(target)
    remove_stale_parts(target)
    fd, part = _create_part(target)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        raise
