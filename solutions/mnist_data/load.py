"""load_mnist: find an MNIST split wherever it is, read it, and say where it came from.

Resolution order (the first that holds the split wins):

1. `source`, a file or a folder, when given (a problem with it is an error);
2. the folder named by $MNIST_KIT_DATA (skipped, with a note, when it lacks the split);
3. the download cache data/cache/ (filled by `mnist-kit download`);
4. for "train" only, the bundled 5,000-image sample data/mnist_sample_5k.csv.gz.
"""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .csv_files import read_mnist_csv
from .errors import MnistDataError, MnistDataNotFound
from .idx import load_idx_pair
from .locate import (
    ENV_VAR,
    SPLITS,
    SplitFiles,
    SplitNotFound,
    default_cache_dir,
    default_sample_path,
    env_data_dir,
    expand_user,
    find_split_files,
    idx_partner,
    is_folder,
    is_idx_name,
    is_present,
)

SPLIT_WORDS = {"train": "training", "test": "test"}


@dataclass(frozen=True)
class MnistData:
    """One split of MNIST in the kit's convention.

    X: (784, m) float64 in [0, 1] (pixels / 255), one image per column.
    Y: (m,) int64 labels 0..9.
    description: one line saying what this is and where it came from.
    is_sample: True when it is the bundled 5,000-image sample, not full MNIST.
    """

    X: np.ndarray
    Y: np.ndarray
    description: str
    is_sample: bool


def read_split_files(files: SplitFiles) -> tuple[np.ndarray, np.ndarray]:
    """X (784, m) and Y (m,) from an IDX pair or a CSV."""
    if files.format == "idx":
        return load_idx_pair(*files.paths)
    return read_mnist_csv(files.paths[0])


def files_at(source: Path, split: str) -> SplitFiles:
    """The files that `source` names: a folder's split, an IDX file and its partner, or a CSV."""
    source = expand_user(source)
    if is_folder(source):
        return find_split_files(source, split)
    if not is_present(source):
        raise MnistDataError(f"{source}: no such file or folder")
    if is_idx_name(source):
        partner = idx_partner(source)
        pair = (source, partner) if "images" in source.name else (partner, source)
        return SplitFiles("idx", pair)
    return SplitFiles("csv", (source,))


def _same_file(a: Path, b: Path) -> bool:
    """True when both paths exist and are the same file (links and relative paths resolved)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def load_mnist(
    split: str,
    source: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    sample_path: str | os.PathLike | None = None,
) -> MnistData:
    """Load MNIST's training or test set from the first place that holds it.

    Args:
        split: "train" or "test".
        source: a folder (its files are found by their conventional names) or one
            file (an IDX file, whose partner must sit beside it, or a CSV, read
            whatever `split` says). When given, nothing else is searched;
            None or "" means not given.
        cache_dir: the download cache (default <repo>/data/cache).
        sample_path: the bundled sample (default <repo>/data/mnist_sample_5k.csv.gz).

    Returns:
        MnistData with X (784, m) float64 in [0, 1], Y (m,) int64, a one-line
        description and is_sample.

    Raises:
        ValueError: `split` is neither "train" nor "test".
        MnistDataNotFound (a MnistDataError): the split is nowhere to be found
            (for "test": no source, $MNIST_KIT_DATA or cache holds it; or an
            explicit source folder lacks it); the message says how to get it.
        MnistDataError: a file found (or named) is missing, unreadable, malformed
            or past a limit (see limits.py); also any other failure of the
            file system or of memory, always naming the file.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    with _as_data_errors(source if source is not None else "MNIST"):
        return _find_and_load(split, source, cache_dir, sample_path)


@contextlib.contextmanager
def _as_data_errors(what: str | os.PathLike) -> Iterator[None]:
    """Turn an OSError or MemoryError that got past the readers' own checks into a MnistDataError."""
    try:
        yield
    except OSError as error:
        raise MnistDataError(f"{error.filename or what}: {error.strerror or error}") from None
    except MemoryError:
        raise MnistDataError(f"{what}: not enough memory to load it") from None


def _find_and_load(split: str, source, cache_dir, sample_path) -> MnistData:
    """load_mnist's resolution order (see the module docstring)."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    sample = Path(sample_path) if sample_path is not None else default_sample_path()
    word = SPLIT_WORDS[split]

    how = "`mnist-kit download` fetches the official files"
    if source is not None and str(source).strip():
        try:
            files = files_at(Path(source), split)
        except SplitNotFound as error:
            raise SplitNotFound(f"{error}; {how}", error.partial) from None
        return _load(files, word, sample)

    notes: list[str] = []  # why a place that was looked in did not count
    env_dir = env_data_dir()
    if env_dir is not None and not is_folder(env_dir):
        raise MnistDataError(f"${ENV_VAR}={env_dir}: no such folder (unset it or fix the path)")
    places = [(env_dir, f"${ENV_VAR}"), (cache if is_folder(cache) else None, "download cache")]
    for folder, via in places:
        if folder is None:
            continue
        try:
            files = find_split_files(folder, split)
        except SplitNotFound as error:
            if via != "download cache" or error.partial:  # an empty cache is the normal case
                notes.append(f"skipped {via}: {error}")
            continue
        return _load(files, word, sample, via=via)

    if split == "train":
        if not is_present(sample):
            raise MnistDataNotFound(
                f"no MNIST training set found and the bundled sample {sample} is missing "
                f"(a broken checkout?): {how}, or pass --data / set ${ENV_VAR}"
                + "".join(f"; {note}" for note in notes)
            )
        X, Y = read_mnist_csv(sample)
        description = (
            f"bundled {Y.size:,}-image sample of the MNIST training set ({_short(sample)}), "
            f"not full MNIST: {how} (60,000 images)"
        )
        return MnistData(X, Y, description + "".join(f"; {note}" for note in notes), True)
    raise MnistDataNotFound(
        f"no MNIST test set found (looked in ${ENV_VAR} "
        f"{'(' + str(env_dir) + ')' if env_dir else '(unset)'} and the download cache {cache}): "
        f"{how} into {_short(cache)}, or point --data DIR or ${ENV_VAR} at a folder holding "
        "t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz, or mnist_test.csv"
        + "".join(f"; {note}" for note in notes)
    )


def _short(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else as is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):  # outside the current folder, or that folder is gone
        return str(path)


def _load(files: SplitFiles, word: str, sample: Path, via: str = "") -> MnistData:
    X, Y = read_split_files(files)
    is_sample = files.format == "csv" and _same_file(files.paths[0], sample)
    origin = f" ({via})" if via else ""
    kind = "bundled sample of the MNIST training set" if is_sample else f"MNIST {word} set"
    description = f"{kind}, {Y.size:,} images, from {files.describe()}{origin}"
    return MnistData(X, Y, description, is_sample)
