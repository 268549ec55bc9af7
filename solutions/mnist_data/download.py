"""download_mnist: fetch the four official MNIST files, verified by SHA-256.

For each file: if the cache already holds it and its SHA-256 is right, nothing
is fetched. Otherwise (a wrong file in the cache is deleted first) each mirror
is tried in turn. The body is streamed into a temporary ``.part`` file beside
the target while its SHA-256 is computed; only a complete body whose sum is the
official one is renamed into place (kit_helpers.atomic_write). A
short body, a wrong sum, a network error or an interrupt (Ctrl-C) deletes the
``.part`` file, so the cache never holds a partial or unverified file (one
left by a process killed outright is removed by the next download).
"""

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from kit_helpers import atomic_write
from .errors import MnistDataError
from .locate import default_cache_dir

DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: The official SHA-256 sums of the four gzip files (as in ../shared/mnist/README.md).
OFFICIAL_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

CHUNK_BYTES = 64 * 1024


class DownloadProblem(Exception):
    """One mirror could not deliver one file (the next mirror is tried)."""


class Progress:
    """Progress lines on a text stream.

    On a terminal a percentage line is rewritten in place (at most once per
    percent) under the line that names the file; elsewhere (a log, a pipe, CI)
    there is only a line when a file starts and one when it ends.
    """

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._name = ""
        self._total: int | None = None
        self._received = 0
        self._shown = -1
        self._line_open = False  # a percentage line without its newline yet

    def say(self, line: str) -> None:
        """Print one whole line (ending any percentage line first)."""
        if self._line_open:
            print(file=self.stream)
            self._line_open = False
        print(line, file=self.stream, flush=True)

    def start(self, name: str, url: str, total: int | None) -> None:
        """A transfer of `total` bytes (None when unknown) begins."""
        self._name, self._total, self._received, self._shown = name, total, 0, -1
        size = f" ({_megabytes(total)})" if total else ""
        self.say(f"{name}: downloading from {url}{size}")

    def advance(self, received: int) -> None:
        """`received` more bytes arrived."""
        self._received += received
        if not (self.is_tty and self._total):
            return
        percent = 100 * self._received // self._total
        if percent != self._shown:
            self._shown = percent
            print(f"\r{self._name}: {percent:3d}%", end="", file=self.stream, flush=True)
            self._line_open = True

    def finish(self, message: str) -> None:
        """The transfer ended well: `message` says so."""
        if self._line_open:
            print("\r", end="", file=self.stream)
            self._line_open = False
        self.say(f"{self._name}: {message}")


def _megabytes(size: int) -> str:
    """'1.6 MB', '0.03 MB': enough digits to tell a small file from an empty one."""
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e6:.2g} MB"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_stale_parts(cache: Path, name: str, older_than: float) -> list[Path]:
    """Delete temporary files of `name` that no download has written to for `older_than` seconds.

    atomic_write removes its temporary file on any exception, but a process that
    is killed outright (SIGKILL, power loss) cannot; such a leftover is
    ``.<name>.<random>.part``. A live download writes to its file at least every
    `timeout` seconds, so an older one is abandoned.
    """
    now = time.time()
    removed = []
    for part in cache.glob(f".{name}.*.part"):
        try:
            if now - part.stat().st_mtime > older_than:
                part.unlink()
                removed.append(part)
        except FileNotFoundError:  # another process just finished or removed it
            pass
    return removed


def _fetch(url: str, target: Path, expected_sha256: str, timeout: float, progress: Progress) -> None:
    """Stream `url` into `target` via a .part file; raise DownloadProblem unless complete and verified."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            progress.start(target.name, url, total)
            digest, received = hashlib.sha256(), 0
            with atomic_write(target) as file:
                while chunk := response.read(CHUNK_BYTES):
                    file.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.advance(len(chunk))
                if total is not None and received != total:
                    raise DownloadProblem(f"incomplete: got {received:,} of {total:,} bytes")
                if digest.hexdigest() != expected_sha256:
                    raise DownloadProblem(
                        f"checksum mismatch: SHA-256 {digest.hexdigest()}, expected {expected_sha256} "
                        "(file discarded)"
                    )
    except DownloadProblem:
        raise
    except urllib.error.HTTPError as error:
        raise DownloadProblem(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DownloadProblem(f"cannot connect ({error.reason})") from None
    except http.client.IncompleteRead:
        raise DownloadProblem("incomplete: the connection closed before the end of the file") from None
    except TimeoutError:
        raise DownloadProblem(f"timed out (nothing received for {timeout:g} s)") from None
    except (http.client.HTTPException, OSError) as error:  # connection reset, disk full, ...
        raise DownloadProblem(f"{type(error).__name__}: {error}") from None


def download_mnist(
    cache_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] = DEFAULT_MIRRORS,
    *,
    checksums: Mapping[str, str] = OFFICIAL_SHA256,
    timeout: float = 30.0,
    progress: Progress | None = None,
) -> list[Path]:
    """Make sure the cache holds every file of `checksums`, each verified.

    Args:
        cache_dir: where the files go (default <repo>/data/cache); created if needed.
        mirrors: base URLs tried in turn; a file's URL is mirror + file name.
        checksums: file name -> expected SHA-256 (default the four official files).
        timeout: seconds allowed for connecting and for each read.
        progress: where progress goes (default: lines on stderr).

    Returns:
        The paths of the verified files, in the order of `checksums`.

    Raises:
        MnistDataError: every mirror failed for some file (the others are still
            fetched); the message names each such file and each mirror's error.
            Files already verified are kept.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    progress = progress if progress is not None else Progress()
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    if not mirrors:
        raise MnistDataError("no mirrors to download from")
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MnistDataError(f"{cache}: cannot create the cache folder ({error})") from None
    paths, failed = [], []
    for name, expected in checksums.items():
        target = cache / name
        paths.append(target)
        for part in remove_stale_parts(cache, name, older_than=2 * timeout + 60):
            progress.say(f"{name}: removed {part.name}, left by a download that was killed")
        if target.is_file():
            if sha256_of(target) == expected:
                progress.say(f"{name}: already downloaded and verified ({target})")
                continue
            target.unlink()
            progress.say(f"{name}: deleted {target}, its SHA-256 was wrong; downloading it again")
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, target, expected, timeout, progress)
            except DownloadProblem as problem:
                errors.append(f"{url}: {problem}")
                progress.say(f"{name}: {url} failed: {problem}")
                continue
            progress.finish(f"downloaded and verified -> {target}")
            break
        else:
            failed.append(f"could not download {name} from any mirror ({'; '.join(errors)})")
    if failed:
        raise MnistDataError(" | ".join(failed))
    return paths
