"""The subcommands of `mnist-kit`, one module each.

Every command module exposes:

    HELP: str                                   one line for `mnist-kit --help`
    add_arguments(parser: ArgumentParser) -> None   declare its options
    run(args: Namespace) -> int                 do the work, return the exit code

and is registered by one line in solutions.cli.COMMANDS. A command reports a
problem the user can fix by raising CommandError (or MnistDataError /
WeightsFileError, which it lets through): the CLI prints the message as one
line on stderr and exits with status 1, with no traceback.
"""


class CommandError(Exception):
    """A problem the user can fix (a bad option, a missing file): the message is one line."""
