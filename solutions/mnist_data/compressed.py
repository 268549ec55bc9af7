"""Open a data file as a stream of its content: gunzipped on the fly when it is gzip, and capped.

    with open_data(path, limit=10_000_000) as stream:
        header = stream.read(16)

Nothing is read whole: the readers take what they need in pieces, so a gzip
"bomb" (a megabyte that expands to gigabytes) is stopped at `limit` bytes of
content, and only a regular file is read (a named pipe would wait forever,
/dev/zero never ends). Every problem is a one-line MnistDataError naming the file.

Whether a file is gzip is decided by its first two bytes (the gzip magic
``1f 8b``), not by its name, so ``mnist_test.csv`` that is secretly gzipped
still reads. A file *named* ``.gz`` that is not gzip is reported, because it is
almost always a download that went wrong (an HTML error page, say), and so is
a file gzipped twice.
"""

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kit_helpers.regular_files import NotRegularFile, open_regular

from .content import GZIP_MAGIC, looks_like
from .errors import MnistDataError
from .limits import megabytes

SNIFF_BYTES = 512  # enough for looks_like (a tar header is 512 bytes)


def open_error(path: Path, error: OSError) -> MnistDataError:
    """The one-line MnistDataError for an OSError met opening or reading `path`."""
    if isinstance(error, NotRegularFile):
        return MnistDataError(f"{path}: {error.strerror}")
    if isinstance(error, FileNotFoundError):
        if os.path.islink(path):
            return MnistDataError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist")
        return MnistDataError(f"{path}: file not found")
    if isinstance(error, PermissionError):
        return MnistDataError(f"{path}: cannot read it (permission denied)")
    return MnistDataError(f"{path}: cannot read it ({error.strerror or error})")


class DataStream:
    """The content of a data file (gunzipped when gzip), read in pieces, at most `limit` bytes of it.

    `limit` may be changed between reads (the IDX reader sets it from the header).
    read(size) returns `size` bytes, fewer only at the end of the content. A
    read that would pass `limit` raises MnistDataError; so do a truncated or
    corrupt gzip stream and a failing disk, each naming the file.
    """

    def __init__(self, path: Path, file: BinaryIO, gzipped: bool, limit: int, file_size: int | None = None):
        self.path, self.gzipped, self.limit = path, gzipped, limit
        self.file_size = file_size  # bytes of content, when known before reading (not gzipped)
        self._file = file
        self.position = 0  # bytes of content read so far

    def read(self, size: int) -> bytes:
        """The next `size` bytes of content (fewer at the end; b"" once it is over)."""
        if self.position + size > self.limit:
            size = self.limit - self.position + 1  # one byte past the limit proves it is passed
        data = self._guarded(self._file.read, size)
        self._count(len(data))
        return data

    def peek(self, size: int) -> bytes:
        """Up to `size` bytes of what comes next, without consuming them."""
        return self._guarded(self._file.peek, size)[:size]

    def readinto(self, buffer: memoryview) -> int:
        """Fill `buffer` with the next bytes of content; return how many (fewer only at the end)."""
        filled = 0
        while filled < len(buffer):
            room = min(len(buffer) - filled, self.limit - self.position + 1)
            got = self._guarded(self._file.readinto, buffer[filled : filled + room])
            if not got:
                break
            filled += got
            self._count(got)
        return filled

    def _guarded(self, read, argument):
        """read(argument), with every failure of the file or of gunzip as a MnistDataError."""
        try:
            return read(argument)
        except EOFError:
            raise MnistDataError(
                f"{self.path}: truncated gzip file (it ends before the end of the compressed data); "
                "an interrupted download? delete it and fetch it again"
            ) from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise MnistDataError(f"{self.path}: corrupt gzip file ({error})") from None
        except OSError as error:
            raise open_error(self.path, error) from None

    def _count(self, size: int) -> None:
        self.position += size
        if self.position > self.limit:
            unpacked = " after gunzip" if self.gzipped else ""
            raise MnistDataError(
                f"{self.path}: holds more than {megabytes(self.limit)}{unpacked}, more than any MNIST "
                f"file of this kind can (the kit's limit{'; a gzip bomb?' if self.gzipped else ''})"
            )


@contextlib.contextmanager
def open_data(path: Path, limit: int) -> Iterator[DataStream]:
    """Open `path` (a regular file, gzipped or not) as a DataStream of at most `limit` bytes of content.

    Raises:
        MnistDataError: the file is missing, is not a regular file (a folder, a
            FIFO, a device), cannot be read, is named .gz but is not gzip, or is
            gzipped twice (the message names the file and says which).
    """
    path = Path(path)
    try:
        file = open_regular(path)
    except OSError as error:
        raise open_error(path, error) from None
    with file:
        try:
            head = file.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        except OSError as error:
            raise open_error(path, error) from None
        if not head.startswith(GZIP_MAGIC):
            if path.suffix == ".gz" and head:
                what = looks_like(head)
                raise MnistDataError(
                    f"{path}: named .gz but is not a gzip file (first bytes {head[:4].hex()}"
                    + (f"; it looks like {what}" if what else "")
                    + "); a failed download? delete it and fetch it again"
                )
            yield DataStream(path, file, gzipped=False, limit=limit, file_size=os.fstat(file.fileno()).st_size)
            return
        with gzip.GzipFile(fileobj=file, mode="rb") as unpacked:
            stream = DataStream(path, unpacked, gzipped=True, limit=limit)
            inner = stream.peek(len(GZIP_MAGIC))
            if inner == GZIP_MAGIC:
                raise MnistDataError(
                    f"{path}: gzipped twice (after gunzip it is still a gzip file): "
                    "gunzip it once and use the file that gives"
                )
            yield stream
