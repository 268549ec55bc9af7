"""`mnist-kit download`: fetch the four official MNIST files into the cache, verified."""

import argparse
from pathlib import Path

from ..mnist_data import DEFAULT_MIRRORS, ENV_VAR, default_cache_dir, download_mnist
from .options import positive_float

HELP = "download the official MNIST files (SHA-256 verified) into data/cache/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--to DIR, --mirror URL (repeatable), --timeout SECONDS."""
    parser.add_argument(
        "--to", type=Path, metavar="DIR",
        help=f"where to put the files (default: {default_cache_dir()}, where the kit looks)",
    )
    parser.add_argument(
        "--mirror", action="append", metavar="URL",
        help="base URL to download from, tried in the order given "
        f"(default: {', '.join(DEFAULT_MIRRORS)})",
    )
    parser.add_argument("--timeout", type=positive_float, default=30.0, metavar="SECONDS",
                        help="seconds allowed to connect and for each read (default: 30)")


def run(args: argparse.Namespace) -> int:
    """Download (progress on stderr) and say where the files are."""
    mirrors = tuple(args.mirror) if args.mirror else DEFAULT_MIRRORS
    paths = download_mnist(args.to, mirrors, timeout=args.timeout)
    folder = paths[0].parent
    print(f"MNIST is in {folder} ({len(paths)} files, verified)")
    if args.to is not None and folder.resolve() != default_cache_dir().resolve():
        print(f"Use it with --data {folder} (or set {ENV_VAR}={folder})")
    return 0
