"""Run many `mnist-kit` cases in one process: `python hostile_driver.py CASES.json RESULTS.jsonl`.

Starting Python and NumPy for each of 150 cases would cost minutes, so the
adversarial suite hands its cases to this driver, which calls
solutions.cli.main(argv) for each, as the console script does, and writes one
JSON line per case: the exit status, what reached stdout and stderr, and
whether an exception escaped main (a traceback). The test runs the driver
under RLIMIT_AS, so every case (the bombs above all) must stay under that.

Each case runs in its own folder with its own environment changes, stdout and
stderr strict text streams (as a terminal with that encoding would be), and a
time limit (SIGALRM): a case that hangs (a FIFO read) is reported as such and
the next one runs. Faults that root cannot make real (a read-only or
unreadable folder; no home folder) are simulated by wrapping os functions.
"""

import errno
import io
import json
import os
import pwd
import signal
import sys
import time
import traceback

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class CaseTimeout(BaseException):
    """The case ran past its time limit (not an Exception: main must not catch it)."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _inside(path, folder: str) -> bool:
    try:
        text = os.fsdecode(path) if not isinstance(path, int) else ""
    except TypeError:
        return False
    text = os.path.abspath(text)
    return text == folder or text.startswith(folder + os.sep)


def install_faults(faults: list[str]):
    """Wrap os functions to simulate `faults`; return a function that undoes it.

    unreadable:FOLDER   anything inside FOLDER (and listing it) fails with EACCES
    readonly:FOLDER     creating or writing anything inside FOLDER fails with EACCES
    no-home             $HOME unset and the user not in the password database
    """
    saved = {}

    def wrap(name, guard):
        original = saved.setdefault(name, getattr(os, name))

        def wrapper(*args, **kwargs):
            guard(*args, **kwargs)
            return original(*args, **kwargs)

        setattr(os, name, wrapper)

    def denied(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    for fault in faults:
        kind, _, folder = fault.partition(":")
        folder = os.path.abspath(folder) if folder else folder
        if kind == "unreadable":
            def inside_only(path, *args, _folder=folder, **kwargs):
                if _inside(path, _folder) and os.path.abspath(os.fsdecode(path)) != _folder:
                    denied(path)

            def listing(path=".", *args, _folder=folder, **kwargs):
                if _inside(path, _folder):
                    denied(path)
            for name in ("stat", "lstat", "open"):
                wrap(name, inside_only)
            for name in ("scandir", "listdir"):
                wrap(name, listing)
        elif kind == "readonly":
            def no_write(path, flags=0, *args, _folder=folder, **kwargs):
                if _inside(path, _folder) and flags & WRITE_FLAGS:
                    denied(path)

            def no_mkdir(path, *args, _folder=folder, **kwargs):
                if _inside(path, _folder) and os.path.abspath(os.fsdecode(path)) != _folder:
                    denied(path)
            wrap("open", no_write)
            wrap("mkdir", no_mkdir)
        elif kind == "no-home":
            original_getpwuid = pwd.getpwuid

            def no_entry(uid):
                raise KeyError(f"getpwuid(): uid not found: {uid}")
            pwd.getpwuid = no_entry
            saved["pwd.getpwuid"] = original_getpwuid
        else:
            raise ValueError(f"unknown fault {fault!r}")

    def undo():
        for name, original in saved.items():
            if name == "pwd.getpwuid":
                pwd.getpwuid = original
            else:
                setattr(os, name, original)

    return undo


def run_case(case: dict) -> dict:
    """Run one case; its result."""
    from solutions.cli import main

    old_env, old_cwd = dict(os.environ), os.getcwd()
    old_out, old_err = sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    encoding = case.get("encoding", "utf-8")
    result = {"id": case["id"], "escaped": None}
    undo = lambda: None  # noqa: E731
    started = time.monotonic()
    try:
        os.chdir(case["cwd"])
        for name, value in case.get("env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        sys.stdout = io.TextIOWrapper(out, encoding=encoding, errors="strict", write_through=True)
        sys.stderr = io.TextIOWrapper(err, encoding=encoding, errors="strict", write_through=True)
        undo = install_faults(case.get("faults", []))
        signal.setitimer(signal.ITIMER_REAL, case.get("time_limit", 20))
        argv = [os.fsdecode(arg.encode("utf-8", "surrogateescape")) for arg in case["argv"]]
        result["status"] = main(argv)
    except CaseTimeout:
        result["escaped"] = f"timed out after {case.get('time_limit', 20)} s (a hang?)"
    except BaseException as error:  # what a user would see as a traceback
        result["escaped"] = "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(type(error), error, error.__traceback__)
        )
        result["status"] = getattr(error, "code", None) if isinstance(error, SystemExit) else None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        undo()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
                stream.detach()  # keep the BytesIO open when the wrapper goes
            except Exception:  # noqa: BLE001 - a stream the case broke
                pass
        sys.stdout, sys.stderr = old_out, old_err
        os.environ.clear()
        os.environ.update(old_env)
        os.chdir(old_cwd)
    result["stdout"] = out.getvalue().decode(encoding, "replace")
    result["stderr"] = err.getvalue().decode(encoding, "replace")
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def main() -> None:
    cases_path, results_path = sys.argv[1], sys.argv[2]
    with open(cases_path) as file:
        cases = json.load(file)
    signal.signal(signal.SIGALRM, _on_alarm)
    with open(results_path, "a") as results:
        for case in cases:
            results.write(json.dumps(run_case(case)) + "\n")
            results.flush()


if __name__ == "__main__":
    main()
