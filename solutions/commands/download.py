"""`mnist-kit download`: fetch the four official MNIST files into the cache, verified.

Each file is cut off at its official size and must arrive within --deadline
seconds; a file already in the cache is replaced only by a verified one.
"""

import argparse
from pathlib import Path

from ..mnist_data import CACHE_ENV_VAR, DEFAULT_MIRRORS, ENV_VAR, MnistDataError, default_cache_dir, download_mnist
from ..mnist_data.download import check_mirror
from ..mnist_data.locate import expand_user
from .options import seconds_type

HELP = "download the official MNIST files (SHA-256 verified) into data/cache/"


def mirror_type(text: str) -> str:
    """An http://, https:// or file:/// URL (argparse type)."""
    try:
        return check_mirror(text)
    except MnistDataError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _default_place() -> str:
    """Where the files go by default, for --help (which must work even when $MNIST_KIT_CACHE is broken)."""
    try:
        return str(default_cache_dir())
    except MnistDataError:
        return f"${CACHE_ENV_VAR}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--to DIR, --mirror URL (repeatable), --timeout SECONDS, --deadline SECONDS."""
    parser.add_argument(
        "--to", type=Path, metavar="DIR",
        help=f"where to put the files (default: {_default_place()}, where the kit looks)",
    )
    parser.add_argument(
        "--mirror", action="append", type=mirror_type, metavar="URL",
        help="base URL to download from, tried in the order given "
        f"(default: {', '.join(DEFAULT_MIRRORS)})",
    )
    parser.add_argument("--timeout", type=seconds_type, default=30.0, metavar="SECONDS",
                        help="seconds allowed to connect and for each read (default: 30)")
    parser.add_argument("--deadline", type=seconds_type, default=600.0, metavar="SECONDS",
                        help="seconds allowed for a whole file from one mirror (default: 600)")


def run(args: argparse.Namespace) -> int:
    """Download (progress on stderr) and say where the files are."""
    mirrors = tuple(args.mirror) if args.mirror else DEFAULT_MIRRORS
    to = expand_user(args.to) if args.to is not None else None
    paths = download_mnist(to, mirrors, timeout=args.timeout, deadline=args.deadline)
    folder = paths[0].parent
    print(f"MNIST is in {folder} ({len(paths)} files, verified)")
    if to is not None and folder.resolve() != default_cache_dir().resolve():
        print(f"Use it with --data {folder} (or set {ENV_VAR}={folder})")
    return 0
