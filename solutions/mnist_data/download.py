"""download_mnist: fetch the four official MNIST files, verified by SHA-256.

For each file: if the cache already holds it and its SHA-256 is right, nothing
is fetched. Otherwise each mirror is tried in turn. The body is streamed into a
temporary ``.part`` file beside the target while its SHA-256 is computed; only
a complete body whose sum is the official one is renamed into place
(kit_helpers.atomic_write), so a wrong file already in the cache is replaced
only by a verified one, never deleted first (with every mirror down, the user
keeps what they had). A short body, a wrong sum, a network error or an
interrupt (Ctrl-C, or SIGTERM in `mnist-kit`) deletes the ``.part`` file; one
left by a process killed outright is removed by the next download of that file.

Bounded on a bad network: a body is cut off at the file's official size (known
for the four official files; else its Content-Length; else MAX_DOWNLOAD_BYTES),
each read waits at most `timeout` seconds and a whole file at most `deadline`
seconds (checked after every read, so a mirror that drips a byte at a time
stops too).
"""

import hashlib
import http.client
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from kit_helpers import atomic_write
from kit_helpers.atomic_files import probe_writable, remove_stale_parts

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

#: The sizes in bytes of the four official gzip files.
OFFICIAL_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}

CHUNK_BYTES = 64 * 1024
#: The most a file other than the four official ones may be when the mirror does not say its size.
MAX_DOWNLOAD_BYTES = 100_000_000
#: The longest --timeout and --deadline accepted (seconds): a day.
MAX_SECONDS = 86_400.0
MIRROR_SCHEMES = ("http", "https", "file")


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


def size_limit(name: str, expected_sha256: str, announced: int | None) -> tuple[int, str]:
    """The most bytes `name` may have, and what sets that: its official size, the Content-Length, or the cap."""
    if OFFICIAL_SHA256.get(name) == expected_sha256:
        return OFFICIAL_SIZES[name], "the official size"
    if announced is not None:
        return announced, "the size the mirror announced"
    return MAX_DOWNLOAD_BYTES, "the kit's limit for a download of unknown size"


def check_mirror(mirror: str) -> str:
    """`mirror` as given, when it is an http://, https:// or file:// URL that can be fetched from.

    Raises:
        MnistDataError: it is not such a URL (the message says what is wrong with it).
    """
    try:
        parts = urllib.parse.urlsplit(mirror)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise MnistDataError(f"mirror {mirror!r}: not a valid URL ({error})") from None
    if parts.scheme not in MIRROR_SCHEMES:
        raise MnistDataError(
            f"mirror {mirror!r}: not a URL the kit can download from (expected http://HOST/..., "
            "https://HOST/... or file:///FOLDER/)"
        )
    if parts.scheme != "file" and not parts.hostname:
        raise MnistDataError(f"mirror {mirror!r}: no host name after {parts.scheme}://")
    if parts.scheme == "file" and not parts.path.startswith("/"):
        raise MnistDataError(f"mirror {mirror!r}: a file:// mirror needs an absolute folder, e.g. file:///data/mnist/")
    return mirror


def _fetch(
    url: str, target: Path, expected_sha256: str, timeout: float, deadline: float, progress: Progress
) -> None:
    """Stream `url` into `target` via a .part file; raise DownloadProblem unless complete and verified.

    Stops at the file's size limit (size_limit) and after `deadline` seconds.
    """
    name, started = target.name, time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.isascii() and length.isdigit() else None
            limit, why = size_limit(name, expected_sha256, announced)
            if announced is not None and announced != limit:
                raise DownloadProblem(f"announces {announced:,} bytes, but {why} is {limit:,} (not the right file)")
            progress.start(name, url, limit)
            digest, received = hashlib.sha256(), 0
            with atomic_write(target) as file:
                # read1: what has arrived, up to the size (read would wait for all of it, byte by byte)
                while chunk := response.read1(min(CHUNK_BYTES, limit + 1 - received)):
                    received += len(chunk)
                    if received > limit:
                        raise DownloadProblem(f"sent more than {limit:,} bytes, {why} (stopped, file discarded)")
                    file.write(chunk)
                    digest.update(chunk)
                    progress.advance(len(chunk))
                    if time.monotonic() - started > deadline:
                        raise DownloadProblem(
                            f"too slow: {received:,} of {limit:,} bytes after {deadline:g} s, the deadline "
                            "for one file (file discarded)"
                        )
                if announced is not None and received != announced:
                    raise DownloadProblem(f"incomplete: got {received:,} of {announced:,} bytes")
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
    except (http.client.HTTPException, OSError, ValueError) as error:  # reset, disk full, bad URL, ...
        raise DownloadProblem(f"{type(error).__name__}: {error}") from None


def _verified(target: Path, expected: str) -> tuple[bool, str]:
    """(True, '') when `target` holds the file whose SHA-256 is `expected`; else (False, why not)."""
    if not os.path.lexists(target):
        return False, ""
    try:
        digest = sha256_of(target)
    except OSError as error:
        return False, f"cannot read {target} ({error.strerror or error})"
    if digest != expected:
        return False, f"{target} has the wrong SHA-256"
    return True, ""


def download_mnist(
    cache_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] = DEFAULT_MIRRORS,
    *,
    checksums: Mapping[str, str] = OFFICIAL_SHA256,
    timeout: float = 30.0,
    deadline: float = 600.0,
    progress: Progress | None = None,
) -> list[Path]:
    """Make sure the cache holds every file of `checksums`, each verified.

    Args:
        cache_dir: where the files go (default <repo>/data/cache); created if needed.
        mirrors: base URLs (http, https or file) tried in turn; a file's URL is mirror + file name.
        checksums: file name -> expected SHA-256 (default the four official files).
        timeout: seconds allowed for connecting and for each read (at most MAX_SECONDS).
        deadline: seconds allowed for one file from one mirror (at most MAX_SECONDS).
        progress: where progress goes (default: lines on stderr).

    Returns:
        The paths of the verified files, in the order of `checksums`.

    Raises:
        ValueError: timeout or deadline is not a number of seconds in (0, MAX_SECONDS].
        MnistDataError: a mirror is not a URL, the cache folder cannot be
            created or written, or every mirror failed for some file (the others
            are still fetched); the message names each such file and each
            mirror's error. Files already verified are kept, and so is a wrong
            file already in the cache (it is replaced only by a verified one).
    """
    for what, seconds in (("timeout", timeout), ("deadline", deadline)):
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
            raise ValueError(f"{what} must be a number of seconds in (0, {MAX_SECONDS:g}], not {seconds!r}")
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    if not mirrors:
        raise MnistDataError("no mirrors to download from")
    mirrors = [check_mirror(mirror) for mirror in mirrors]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    progress = progress if progress is not None else Progress()
    created = [folder for folder in (cache, *cache.parents) if not os.path.lexists(folder)]
    try:
        cache.mkdir(parents=True, exist_ok=True)
        probe_writable(cache)
    except OSError as error:
        _remove_empty(created)
        raise MnistDataError(f"{cache}: cannot create the cache folder or write in it ({error.strerror or error})") from None
    paths, failed = [], []
    for name, expected in checksums.items():
        target = cache / name
        paths.append(target)
        for part in remove_stale_parts(target):
            progress.say(f"{name}: removed {part.name}, left by a download that was killed")
        verified, why_not = _verified(target, expected)
        if verified:
            progress.say(f"{name}: already downloaded and verified ({target})")
            continue
        if why_not:
            progress.say(f"{name}: {why_not}; downloading a verified copy to replace it")
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, target, expected, timeout, deadline, progress)
            except DownloadProblem as problem:
                errors.append(f"{url}: {problem}")
                progress.say(f"{name}: {url} failed: {problem}")
                continue
            progress.finish(f"downloaded and verified -> {target}")
            break
        else:
            kept = f"; kept {target} as it was ({why_not.removeprefix(str(target) + ' ')})" if why_not else ""
            failed.append(f"could not download {name} from any mirror ({'; '.join(errors)}){kept}")
    if failed:
        _remove_empty(created)  # a download that kept nothing leaves no new folder either
        raise MnistDataError(" | ".join(failed))
    return paths


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this download created (deepest first) when they are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (a file was kept), or not ours to remove after all
            return
