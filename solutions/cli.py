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
option, as argparse does, 130 for Ctrl-C, 143 for SIGTERM); never a traceback.
SIGTERM is turned into an exception like Ctrl-C's, so that every write in
progress removes its temporary file. Anything else that goes wrong (a bug) is
still one line, from a last-resort handler that names the exception and where
it was raised; its message starts with UNEXPECTED, which the tests look for.

This module imports only the standard library at its top: NumPy and the
commands are imported inside main(), where Ctrl-C is already handled.
"""

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

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
    ("autograde", "solutions.commands.autograde"),
    ("report", "solutions.commands.report"),
]

BAD_USAGE = 2
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
TERMINATED = 143  # 128 + SIGTERM
BROKEN_PIPE = 141  # 128 + SIGPIPE: stdout was closed (`mnist-kit ... | head`)
#: How the last-resort message starts: the catalogue of errors in tests/ must never reach it.
UNEXPECTED = "unexpected error"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (`kill PID`, a scheduler stopping the job).

    A KeyboardInterrupt, so that everything that cleans up after Ctrl-C
    (atomic_write's temporary files, `finally` blocks) does so for SIGTERM too.
    """


def stopped(stop: KeyboardInterrupt) -> tuple[str, int]:
    """What stopped the command, and the exit status: ('terminated (SIGTERM)', 143) or ('interrupted (Ctrl-C)', 130)."""
    if isinstance(stop, Terminated):
        return "terminated (SIGTERM)", TERMINATED
    return "interrupted (Ctrl-C)", INTERRUPTED


#: The interrupts raised by the handlers below during this run (see _interrupt_behind).
_received: list[KeyboardInterrupt] = []


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    _received.append(Terminated())
    raise _received[-1]


def _on_sigint(signum, frame):
    """What Python does by default (raise KeyboardInterrupt), noting that it happened."""
    _received.append(KeyboardInterrupt())
    raise _received[-1]


def user_errors() -> tuple[type[Exception], ...]:
    """The exceptions whose message is meant for the user, as it is (imported when needed: they need NumPy)."""
    from .commands import CommandError
    from .mnist_data import MnistDataError
    from .weights_file import WeightsFileError

    return (CommandError, MnistDataError, WeightsFileError)


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


def _say(line: str) -> None:
    """Print one line on stderr; if even stderr is gone, say nothing."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _tolerate_odd_output() -> None:
    """Write characters the terminal's encoding lacks (a non-UTF-8 file name) as escapes, never fail on them."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # closed, or not a text stream after all
                pass


def _last_resort(prog: str, error: BaseException) -> str:
    """One line for an exception nobody expected: what it is and where it was raised."""
    import traceback  # only now: the module's imports stay few, so that start-up is quick

    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}()" if frames else ""
    said = " ".join(str(error).split())[:300]
    what = "ran out of memory" if isinstance(error, MemoryError) else "a bug in the kit, please report it"
    return f"{prog}: {UNEXPECTED} ({what}): {type(error).__name__}{': ' + said if said else ''}{where}"


def _interrupt_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM) behind `error`, if any: in its chain, or received during this run.

    C code can swallow the KeyboardInterrupt it was interrupted by and raise something
    else (NumPy's import then fails with "PyCapsule_Import could not import module").
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return _received[-1] if _received else None


def _stdout_closed() -> int:
    """stdout's reader went away: stop quietly, and keep Python from complaining again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run `mnist-kit` with argv (default sys.argv[1:]); return the exit status."""
    prog = PROG
    _received.clear()
    try:
        previous = {number: signal.signal(number, handler)
                    for number, handler in ((signal.SIGTERM, _on_sigterm), (signal.SIGINT, _on_sigint))}
    except ValueError:  # not the main thread: signals cannot be handled here
        previous = {}
    try:
        _tolerate_odd_output()
        parser, modules = build_parser()
        if _received:  # a Ctrl-C that an import swallowed (C code can): honour it now
            raise _received[-1]
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
        except user_errors() as error:
            _say(f"{prog}: error: {' '.join(str(error).split())}")
        except BrokenPipeError:
            return _stdout_closed()
        except OSError as error:  # a file the command had to read or write
            where = f"{error.filename}: " if error.filename else ""
            _say(f"{prog}: error: {where}{error.strerror or error}")
        return 1
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM as Terminated
        what, status = stopped(stop)
        _say(f"{prog}: {what}")
        return status
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as error:  # the last resort: still one line, still naming what failed
        stop = _interrupt_behind(error)
        if stop is not None:  # e.g. NumPy turns a Ctrl-C during its import into an ImportError
            what, status = stopped(stop)
            _say(f"{prog}: {what}")
            return status
        _say(_last_resort(prog, error))
        return 1
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
