"""The `mnist-kit` command: train, evaluate and look at the reference network.

    mnist-kit train [--preset original] [--plots DIR] ...
    mnist-kit evaluate [--weights runs/weights.npz]
    mnist-kit show [INDEX] [--picture grid]
    mnist-kit download

(`python -m solutions ...` does the same.) Each subcommand is a module with
HELP, add_arguments(parser) and run(args) -> int (see solutions.commands); to
add one, write the module and add a line to COMMANDS.

Errors the user can fix (a bad option, a missing or corrupt file, data that is
not MNIST) are printed as one line on stderr, with exit status 1 (2 for a bad
option, as argparse does, 130 for Ctrl-C); never a traceback. When the reader
of the output goes away (`mnist-kit hint 03 --all | head -2`), the command stops
quietly with status 141, as `cat` does.
"""

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from .commands import CommandError
from .mnist_data import MnistDataError
from .weights_file import WeightsFileError

PROG = "mnist-kit"

#: (subcommand, module): the order is the order of `mnist-kit --help`.
COMMANDS: list[tuple[str, str]] = [
    ("train", "solutions.commands.train"),
    ("compare", "solutions.commands.compare"),
    ("evaluate", "solutions.commands.evaluate"),
    ("show", "solutions.commands.show"),
    ("download", "solutions.commands.download"),
    ("progress", "solutions.commands.progress"),
    ("hint", "solutions.commands.hint"),
    ("watch", "solutions.commands.watch"),
    ("notebook", "solutions.commands.notebook"),
]

#: Exceptions whose message is meant for the user, as it is.
USER_ERRORS = (CommandError, MnistDataError, WeightsFileError)
BAD_USAGE = 2
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, what `cat` and other commands report when the reader left


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser that reports a bad option in one line, not usage + error."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(BAD_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    """The parser with every subcommand of COMMANDS, and the module behind each name."""
    parser = OneLineErrorParser(
        prog=PROG,
        description="Train, evaluate and look at the 784-10-10 NumPy MNIST network; "
        "follow your own progress through the exercises (progress, hint, watch).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, module_name in COMMANDS:
        module = importlib.import_module(module_name)
        subparser = subparsers.add_parser(
            name, help=module.HELP, description=module.__doc__ or module.HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        modules[name] = module
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mnist-kit` with argv (default sys.argv[1:]); return the exit status."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # a reader that went away is noticed here, not at exit
        return status
    except BrokenPipeError:  # `mnist-kit hint 03 --all | head -2`: the reader has what it wanted
        _silence_stdout()
        return BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser, modules = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help (0) or a bad option (2), already printed
        return exit.code if isinstance(exit.code, int) else BAD_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return BAD_USAGE
    prog = f"{PROG} {args.command}"
    try:
        return modules[args.command].run(args)
    except BrokenPipeError:  # not a file the command failed to write: see main()
        raise
    except USER_ERRORS as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
    except OSError as error:  # a file the command had to read or write
        where = f"{error.filename}: " if error.filename else ""
        print(f"{prog}: error: {where}{error.strerror or error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (Ctrl-C)", file=sys.stderr)
        return INTERRUPTED
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's final flush at exit has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to do
        pass
