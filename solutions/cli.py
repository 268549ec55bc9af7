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
option, as argparse does, 130 for Ctrl-C); never a traceback.
"""

import argparse
import importlib
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
    ("evaluate", "solutions.commands.evaluate"),
    ("show", "solutions.commands.show"),
    ("download", "solutions.commands.download"),
    ("progress", "solutions.commands.progress"),
    ("hint", "solutions.commands.hint"),
    ("watch", "solutions.commands.watch"),
    ("autograde", "solutions.commands.autograde"),
    ("report", "solutions.commands.report"),
]

#: Exceptions whose message is meant for the user, as it is.
USER_ERRORS = (CommandError, MnistDataError, WeightsFileError)
BAD_USAGE = 2
INTERRUPTED = 130


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
    except USER_ERRORS as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
    except OSError as error:  # a file the command had to read or write
        where = f"{error.filename}: " if error.filename else ""
        print(f"{prog}: error: {where}{error.strerror or error}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (Ctrl-C)", file=sys.stderr)
        return INTERRUPTED
    return 1
