"""Where MNIST files are looked for, and how they are recognised by name.

A folder holds a split when it has one of (checked in this order):

* the official IDX pair, gzipped or not: ``train-images-idx3-ubyte(.gz)`` with
  ``train-labels-idx1-ubyte(.gz)`` for "train", ``t10k-...`` for "test"
  (the dotted spelling ``train-images.idx3-ubyte`` of some re-uploads works too);
* a CSV: ``mnist_train.csv(.gz)`` (Kaggle) or ``mnist_train_small.csv(.gz)``
  (Colab) for "train", ``mnist_test.csv(.gz)`` (both) for "test".

Half an IDX pair (labels without images, as in ../shared/mnist for "train") is
not a split: SplitNotFound says which file is missing. A name counts as present
when anything but a folder is there (a named pipe, a broken link): the reader
then says what is wrong with it, instead of the folder seeming empty.

Every look at the file system here turns an OSError (a folder that cannot be
read, a name too long) into a MnistDataError naming the path.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import MnistDataError, MnistDataNotFound

SPLITS = ("train", "test")
IDX_PREFIX = {"train": "train", "test": "t10k"}
CSV_NAMES = {"train": ("mnist_train.csv", "mnist_train_small.csv"), "test": ("mnist_test.csv",)}
ENV_VAR = "MNIST_KIT_DATA"
CACHE_ENV_VAR = "MNIST_KIT_CACHE"
SAMPLE_NAME = "mnist_sample_5k.csv.gz"


class SplitNotFound(MnistDataNotFound):
    """A folder does not hold a complete copy of the split asked for.

    `partial` is True when it holds part of one (labels without images, say).
    """

    def __init__(self, message: str, partial: bool):
        super().__init__(message)
        self.partial = partial


@dataclass(frozen=True)
class SplitFiles:
    """The files that hold one split: an IDX pair (images, labels) or one CSV."""

    format: str  # "idx" or "csv"
    paths: tuple[Path, ...]

    def describe(self) -> str:
        """e.g. 'IDX files /d/t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz'."""
        if self.format == "idx":
            images, labels = self.paths
            return f"IDX files {images} + {labels.name}"
        return f"CSV {self.paths[0]}"


def repo_root() -> Path:
    """The repository's root: the nearest folder above this package with pyproject.toml and solutions/."""
    package = Path(__file__).resolve().parent
    for folder in package.parents:
        if (folder / "pyproject.toml").is_file() and (folder / "solutions").is_dir():
            return folder
    return package.parents[1]


def expand_user(path: str | os.PathLike, named_by: str = "") -> Path:
    """`path` with a leading ~ or ~user replaced by that home folder.

    Raises:
        MnistDataError: there is no such user, or no home folder ($HOME unset
            and none on record); `named_by` ("$MNIST_KIT_DATA=") starts the message.
    """
    try:
        return Path(path).expanduser()
    except RuntimeError:
        first = Path(path).parts[0]
        why = "$HOME is not set and" if first == "~" else "there is no such user, so"
        raise MnistDataError(f"{named_by}{path}: {why} {first} has no home folder to stand for") from None


def default_cache_dir() -> Path:
    """Where `mnist-kit download` puts the official files: $MNIST_KIT_CACHE, else <repo>/data/cache.

    The variable lets a test (or a user with a shared cache) move it without editing code.

    Raises:
        MnistDataError: the variable starts with ~user of no such user.
    """
    value = os.environ.get(CACHE_ENV_VAR, "").strip()
    return expand_user(value, f"${CACHE_ENV_VAR}=") if value else repo_root() / "data" / "cache"


def is_folder(path: Path) -> bool:
    """True when `path` is a folder (or a link to one).

    Raises:
        MnistDataError: the file system cannot tell (permission denied on a
            folder above it, a name too long, ...).
    """
    try:
        return path.is_dir()
    except OSError as error:
        raise MnistDataError(f"{path}: cannot look at it ({error.strerror or error})") from None


def is_present(path: Path) -> bool:
    """True when something other than a folder is at `path`: a file, a named pipe, a device, a broken link.

    Raises:
        MnistDataError: see is_folder.
    """
    try:
        return os.path.lexists(path) and not path.is_dir()
    except OSError as error:
        raise MnistDataError(f"{path}: cannot look at it ({error.strerror or error})") from None


def default_sample_path() -> Path:
    """The bundled 5,000-image sample: <repo>/data/mnist_sample_5k.csv.gz."""
    return repo_root() / "data" / SAMPLE_NAME


def _with_gz(names: list[str]) -> list[str]:
    return [variant for name in names for variant in (name + ".gz", name)]


def idx_names(split: str, kind: str) -> list[str]:
    """Accepted names of the IDX `kind` ("images" or "labels") file of `split`, preferred first."""
    prefix, ndim = IDX_PREFIX[split], {"images": 3, "labels": 1}[kind]
    return _with_gz([f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"])


def csv_names(split: str) -> list[str]:
    """Accepted names of a CSV holding `split`, preferred first."""
    return _with_gz(list(CSV_NAMES[split]))


def _names_in(folder: Path) -> set[str]:
    """The names in `folder` (MnistDataError when it cannot be listed: a folder one may not read
    must not look like a folder without the files)."""
    try:
        return set(os.listdir(folder))
    except OSError as error:
        raise MnistDataError(f"{folder}: cannot look inside it ({error.strerror or error})") from None


def _first_existing(folder: Path, names: list[str], listed: set[str] | None = None) -> Path | None:
    listed = _names_in(folder) if listed is None else listed
    for name in names:
        if name in listed and is_present(folder / name):
            return folder / name
    return None


def find_split_files(folder: Path, split: str) -> SplitFiles:
    """The files in `folder` that hold `split` ("train" or "test").

    Raises:
        SplitNotFound: the folder lacks them; the message lists what was looked for,
            or names the missing half of an IDX pair.
        MnistDataError: the folder does not exist.
    """
    folder = Path(folder)
    if not is_folder(folder):
        raise MnistDataError(f"{folder}: folder not found")
    listed = _names_in(folder)
    images = _first_existing(folder, idx_names(split, "images"), listed)
    labels = _first_existing(folder, idx_names(split, "labels"), listed)
    if images and labels:
        return SplitFiles("idx", (images, labels))
    csv = _first_existing(folder, csv_names(split), listed)
    if csv:
        return SplitFiles("csv", (csv,))
    prefix = IDX_PREFIX[split]
    if images or labels:
        present, missing = (images, "labels-idx1") if images else (labels, "images-idx3")
        raise SplitNotFound(
            f"{folder} has {present.name} but no {prefix}-{missing}-ubyte(.gz), "
            f"so no complete {split} set",
            partial=True,
        )
    raise SplitNotFound(
        f"{folder} holds no {split} set (looked for {prefix}-images-idx3-ubyte(.gz) + "
        f"{prefix}-labels-idx1-ubyte(.gz), or {' / '.join(n + '(.gz)' for n in CSV_NAMES[split])})",
        partial=False,
    )


def idx_partner(path: Path) -> Path:
    """The other half of an IDX pair: the labels file of an images file, and vice versa.

    Raises:
        MnistDataError: the name is not an IDX name, or the partner is not beside it.
    """
    path = Path(path)
    swaps = [("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1")]
    for a, b in swaps + [(b, a) for a, b in swaps]:
        if a in path.name:
            stem = path.name.replace(a, b).removesuffix(".gz")
            partner = _first_existing(path.parent, [stem + ".gz", stem])
            if partner is None:
                raise MnistDataError(
                    f"{path}: its partner {stem}(.gz) is not in the same folder "
                    "(IDX images and labels come in pairs)"
                )
            return partner
    raise MnistDataError(f"{path}: not an IDX file name (expected e.g. t10k-images-idx3-ubyte.gz)")


def is_idx_name(path: Path) -> bool:
    """True for names like train-images-idx3-ubyte.gz or t10k-labels.idx1-ubyte."""
    return any(tag in Path(path).name for tag in ("idx3-ubyte", "idx1-ubyte"))


def env_data_dir() -> Path | None:
    """The folder named by $MNIST_KIT_DATA, or None when it is unset or empty.

    Raises:
        MnistDataError: the variable starts with ~user of no such user.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    return expand_user(value, f"${ENV_VAR}=") if value else None
