"""Read a whole file into memory, gunzipping it when it is gzip-compressed.

Whether a file is gzip is decided by its first two bytes (the gzip magic
``1f 8b``), not by its name, so ``mnist_test.csv`` that is secretly gzipped
still reads. A file *named* ``.gz`` that is not gzip is reported, because it is
almost always a download that went wrong (an HTML error page, say).
"""

import gzip
import zlib
from pathlib import Path

from .errors import MnistDataError

GZIP_MAGIC = b"\x1f\x8b"


def read_maybe_gzip(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip.

    Raises:
        MnistDataError: the file is missing, is a folder, cannot be read, or is a
            truncated or corrupt gzip stream (the message names the file).
    """
    path = Path(path)
    if not path.exists():
        raise MnistDataError(f"{path}: file not found")
    if path.is_dir():
        raise MnistDataError(f"{path}: is a folder, expected a file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MnistDataError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not raw.startswith(GZIP_MAGIC):
        if path.suffix == ".gz" and raw:
            raise MnistDataError(
                f"{path}: named .gz but is not a gzip file (first bytes {raw[:4].hex()}); "
                "a failed download? delete it and fetch it again"
            )
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise MnistDataError(
            f"{path}: truncated gzip file (it ends before the end of the compressed data); "
            "an interrupted download? delete it and fetch it again"
        ) from None
    except (gzip.BadGzipFile, zlib.error, OSError) as error:
        raise MnistDataError(f"{path}: corrupt gzip file ({error})") from None
