"""The checker's handles on the grading worker: the sandbox, a loaded program, one function's worker.

    with Sandbox() as sandbox:                       # a zygote, shut in (launch.py)
        kernel = sandbox.load(request)               # the learner's files or cells, loaded once
        with kernel.fork() as worker:                # a fresh process for one function
            outcome = worker.call("relu", (Z,), {}, timeout=30, answer=callback)
            outcome.kind                             # "returned", "raised", "timed out", "crashed"

Every wait has a deadline. When a call runs out of time the whole program is
ended (`sandbox.reset()`: the zygote kills every other process and empties the
folders); the next function loads it again. Nothing the worker sends is trusted:
it is decoded by codec.py (data only, sizes checked) or the call fails.
"""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .figures import rebuild_figure
from .kit_worker import codec
from .launch import Launched, Limits, SandboxError, launch

#: seconds the zygote may take to answer a control request (fork, reset, a file operation)
CONTROL_SECONDS = 30.0


class WorkerLost(SandboxError):
    """The worker stopped answering (its program was ended); the message says how."""


@dataclass
class CallOutcome:
    """What one call of the learner's function came to.

    Attributes:
        kind: "returned", "raised", "timed out" or "crashed".
        value: what it returned (kind "returned").
        raised: "exception", "not_implemented", "system_exit" or "memory" (kind "raised").
        facts: the exception's facts (kit_worker/facts.py) (kind "raised").
        stdout: what it printed (stdout and stderr).
        warnings: the NumPy warnings it caused, as texts.
        seconds: how long it ran, callbacks excluded.
    """

    kind: str
    value: Any = None
    raised: str = ""
    facts: dict = field(default_factory=dict)
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


Answer = Callable[[str, tuple, dict], Any]


def _decoder(blobs: list[bytes]) -> codec.Decoder:
    return codec.Decoder(blobs, rebuild_figure=rebuild_figure)


class Worker:
    """One forked process holding the learner's loaded program, for one function's checks."""

    def __init__(self, kernel: "Kernel", sock: socket.socket) -> None:
        self.kernel = kernel
        self.sock = sock
        self.alive = True

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.alive:
            self.alive = False
            try:
                self.sock.close()
            except OSError:
                pass

    def describe(self, names: list[str]) -> dict[str, dict]:
        """{name: {"defined", "callable", "type", "co_names"}} for names of the learner's program."""
        self._send({"op": "describe", "names": list(names)})
        header, _ = self._receive(time.monotonic() + CONTROL_SECONDS)
        described = header.get("names")
        if not isinstance(described, dict):
            raise WorkerLost("the worker answered a question with nonsense")
        return {name: dict(described.get(name) or {}) for name in names}

    def call(self, function: str, args: tuple, kwargs: dict, *, timeout: float, answer: Answer,
             callbacks: list[str] = (), kept: list[str] = (), cwd: str | None = None,
             adapter: str | None = None) -> CallOutcome:
        """Call the learner's `function`; `answer(name, args, kwargs)` gives the reference for a callback.

        `callbacks` are the names answered by the reference here while it runs, `kept` those
        answered by the notebook's setup cell, `adapter` a kit_helpers function the call goes
        through (kit_worker/calls.py). The arguments the learner changes in place are changed
        here too (copied back).
        """
        encoder = codec.Encoder()
        self._send({"op": "call", "function": function, "args": encoder.encode(tuple(args)),
                    "kwargs": encoder.encode(dict(kwargs)), "callbacks": list(callbacks), "kept": list(kept),
                    "cwd": cwd, "adapter": adapter}, encoder.blobs)
        started = time.monotonic()
        deadline = started + timeout
        spent_in_callbacks = 0.0
        while True:
            try:
                header, decoder = self._receive(deadline)
            except codec.ChannelTimeout:
                self.kernel.sandbox.reset()
                return CallOutcome("timed out", seconds=time.monotonic() - started - spent_in_callbacks)
            except codec.ChannelClosed:
                self.alive = False
                return CallOutcome("crashed", seconds=time.monotonic() - started - spent_in_callbacks)
            except codec.ChannelError as error:
                self.kernel.sandbox.reset()
                return CallOutcome("crashed", facts={"message": str(error)})
            op = header.get("op")
            if op == "callback":
                begun = time.monotonic()
                self._answer_callback(header, decoder, answer)
                pause = time.monotonic() - begun
                spent_in_callbacks += pause
                deadline += pause
                continue
            seconds = time.monotonic() - started - spent_in_callbacks
            try:
                mutations = decoder.decode(header.get("mutations", {"dict": []}))
                _apply(mutations, args, kwargs)
                stdout = str(header.get("stdout", ""))[: 1 << 20]
                warnings = [str(w)[:500] for w in (header.get("warnings") or [])][:10]
                if op == "returned":
                    return CallOutcome("returned", decoder.decode(header.get("value")), stdout=stdout,
                                       warnings=warnings, seconds=seconds)
                if op == "raised":
                    facts = header.get("facts")
                    return CallOutcome("raised", raised=str(header.get("kind", "exception")),
                                       facts=facts if isinstance(facts, dict) else {}, stdout=stdout,
                                       warnings=warnings, seconds=seconds)
            except codec.ChannelError as error:
                return CallOutcome("crashed", facts={"message": str(error)}, seconds=seconds)
            self.kernel.sandbox.reset()
            return CallOutcome("crashed", facts={"message": f"the worker sent {op!r} instead of a result"})

    def _answer_callback(self, header: dict, decoder: codec.Decoder, answer: Answer) -> None:
        name = str(header.get("function"))
        try:
            args = decoder.decode(header.get("args"))
            kwargs = decoder.decode(header.get("kwargs"))
            if not isinstance(args, tuple) or not isinstance(kwargs, dict):
                raise TypeError("a callback needs arguments and keywords")
            before = ([codec.snapshot(a) for a in args], {k: codec.snapshot(v) for k, v in kwargs.items()})
            value = answer(name, args, kwargs)
            changed = {i: a for i, a in enumerate(args) if codec.changed(before[0][i], a)}
            changed.update({k: v for k, v in kwargs.items() if codec.changed(before[1][k], v)})
            encoder = codec.Encoder()
            reply = {"op": "callback_returned", "value": encoder.encode(value), "mutations": encoder.encode(changed)}
            self._send(reply, encoder.blobs)
        except Exception as error:  # the reference refused these arguments: the learner's call fails
            self._send({"op": "callback_raised", "type": type(error).__name__, "message": str(error)[:2000]})

    def _send(self, header: dict, blobs: list[bytes] = ()) -> None:
        try:
            codec.send_message(self.sock, header, list(blobs))
        except OSError as error:
            self.alive = False
            raise WorkerLost(f"the worker went away ({error})") from None

    def _receive(self, deadline: float) -> tuple[dict, codec.Decoder]:
        header, blobs, _ = codec.receive_message(self.sock, deadline=deadline,
                                                 max_bytes=self.kernel.sandbox.max_message_bytes)
        return header, _decoder(blobs)


def _apply(mutations: Any, args: tuple, kwargs: dict) -> None:
    if not isinstance(mutations, dict):
        return
    for key, value in mutations.items():
        if isinstance(key, int) and 0 <= key < len(args):
            codec.apply_mutation(args[key], value)
        elif isinstance(key, str) and key in kwargs:
            codec.apply_mutation(kwargs[key], value)


@dataclass
class CellReport:
    """One notebook cell as the kernel ran it: what it printed, the facts of its error, or None."""

    id: str
    output: str = ""
    error: dict | None = None
    timed_out: bool = False


class Kernel:
    """A learner program loaded once in the sandbox; forks a Worker per function.

    Attributes:
        problem: the facts of the file that failed to load (module programs), or None.
        cells: the CellReports of a notebook program, in order.
    """

    def __init__(self, sandbox: "Sandbox", sock: socket.socket) -> None:
        self.sandbox = sandbox
        self.sock = sock
        self.problem: dict | None = None
        self.cells: list[CellReport] = []
        self.generation = sandbox.generation

    @property
    def alive(self) -> bool:
        return self.generation == self.sandbox.generation and self.sock.fileno() >= 0

    def fork(self) -> Worker:
        """A fresh worker process with the loaded program, for one function."""
        if not self.alive:
            raise WorkerLost("the learner's program was ended")
        mine, theirs = socket.socketpair()
        try:
            codec.send_message(self.sock, {"op": "fork"}, fds=[theirs.fileno()])
            header, _, _ = codec.receive_message(self.sock, deadline=time.monotonic() + CONTROL_SECONDS)
        except (OSError, codec.ChannelError) as error:
            mine.close()
            raise WorkerLost(f"the learner's program did not start a worker ({error})") from None
        finally:
            theirs.close()
        if header.get("op") != "forked":
            mine.close()
            raise WorkerLost("the learner's program did not start a worker")
        return Worker(self, mine)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Scratch:
    """A folder inside the worker where a check and the learner's code exchange files.

    `path` is the folder as the learner's code sees it (pass it as an argument); the
    other methods work on names relative to it, through the zygote (never through
    the learner's process).
    """

    def __init__(self, sandbox: "Sandbox", name: str, path: str) -> None:
        self.sandbox, self.name, self.path = sandbox, name, PurePosixPath(path)

    def _relative(self, relative: str) -> str:
        return str(PurePosixPath(self.name) / relative) if relative else self.name

    def names(self, relative: str = "") -> list[str]:
        """Every file and folder below `relative`, as relative paths, sorted."""
        return list(self.sandbox._fs("list", self._relative(relative))[0].get("names", []))

    def exists(self, relative: str) -> bool:
        return bool(self.sandbox._fs("exists", self._relative(relative))[0].get("exists"))

    def is_file(self, relative: str) -> bool:
        return bool(self.sandbox._fs("exists", self._relative(relative))[0].get("is_file"))

    def read_bytes(self, relative: str) -> bytes:
        header, blobs = self.sandbox._fs("read", self._relative(relative))
        if "error" in header or len(blobs) != 1:
            raise FileNotFoundError(header.get("error", relative))
        return blobs[0]

    def write_bytes(self, relative: str, data: bytes) -> None:
        header, _ = self.sandbox._fs("write", self._relative(relative), blobs=[data])
        if "error" in header:
            raise OSError(header["error"])

    def link(self, existing: str, new: str) -> None:
        """A hard link `new` to the file `existing` (both relative to the folder)."""
        header, _ = self.sandbox._fs("link", self._relative(existing), target=self._relative(new))
        if "error" in header:
            raise OSError(header["error"])


class Sandbox:
    """The grading worker: a contained zygote that forks the processes running learner code.

    Started on first use; `report` says which walls hold here (launch.py, containment.py).
    """

    def __init__(self, limits: Limits | None = None, *, preload: tuple[str, ...] = ("numpy",),
                 max_message_bytes: int = codec.DEFAULT_MAX_BYTES) -> None:
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.max_message_bytes = max_message_bytes
        self._launched: Launched | None = None
        self.generation = 0
        self._scratch_count = 0

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def report(self) -> list[str]:
        self.start()
        return list(self._launched.report)

    @property
    def kind(self) -> str:
        self.start()
        return self._launched.kind

    def start(self) -> None:
        if self._launched is None:
            self._launched = launch(self.limits, self.preload)
            self.generation += 1

    def close(self) -> None:
        if self._launched is not None:
            try:
                codec.send_message(self._launched.control, {"op": "exit"})
            except OSError:
                pass
            self._launched.kill()
            self._launched = None
            self.generation += 1

    def _control(self, header: dict, blobs: list[bytes] = (), fds: list[int] = ()) -> tuple[dict, list[bytes]]:
        self.start()
        control = self._launched.control
        try:
            codec.send_message(control, header, list(blobs), fds=list(fds))
            answer, data, _ = codec.receive_message(control, deadline=time.monotonic() + CONTROL_SECONDS,
                                                    max_bytes=self.max_message_bytes)
        except (OSError, codec.ChannelError):
            self.close()  # the zygote is gone or stuck: start afresh next time
            raise WorkerLost("the grading worker stopped answering") from None
        return answer, data

    def reset(self) -> None:
        """End every learner program (and whatever it started) and empty the worker's folders."""
        if self._launched is None:
            return
        try:
            self._control({"op": "reset"})
        except WorkerLost:
            return
        self.generation += 1

    def _fs(self, action: str, path: str, **extra: Any) -> tuple[dict, list[bytes]]:
        blobs = extra.pop("blobs", [])
        return self._control({"op": "fs", "action": action, "path": path, **extra}, blobs)

    def scratch(self) -> Scratch:
        """A new empty folder for one check's files."""
        self._scratch_count += 1
        name = f"s{self._scratch_count}"
        header, _ = self._fs("mkdir", name)
        if "error" in header:
            raise SandboxError(f"could not make a folder in the worker ({header['error']})")
        return Scratch(self, name, str(header["path"]))

    def load(self, request: dict, *, timeout: float, answer: Answer | None = None,
             skip_timed_out: bool = True) -> Kernel:
        """Load a learner program (kit_worker/kernel.py says what `request` holds).

        `answer` gives the reference for a callback made while loading (top-level code
        calling an earlier stage's function). For a notebook, a cell still running after
        `timeout` seconds is ended with the program, which is loaded again without it
        (its CellReport says timed_out); with skip_timed_out=False it raises WorkerLost instead.
        """
        skipped: list[str] = list(request.get("skip") or [])
        reports: dict[str, CellReport] = {}
        while True:
            answer_callback = answer or _refuse
            mine, theirs = socket.socketpair()
            try:
                header, _ = self._control({"op": "kernel", "memory_bytes": self.limits.memory_bytes,
                                           "cpu_seconds": self.limits.cpu_seconds}, fds=[theirs.fileno()])
            finally:
                theirs.close()
            if header.get("op") != "forked":
                mine.close()
                raise WorkerLost("the grading worker did not start the learner's program")
            kernel = Kernel(self, mine)
            encoder = codec.Encoder()
            codec.send_message(mine, {**request, "op": "load", "skip": skipped}, encoder.blobs)
            running: str | None = None
            deadline = time.monotonic() + timeout
            try:
                while True:
                    message, blobs, _ = codec.receive_message(mine, deadline=deadline,
                                                              max_bytes=self.max_message_bytes)
                    op = message.get("op")
                    if op == "cell_started":
                        running = str(message.get("id"))
                        deadline = time.monotonic() + timeout
                    elif op == "cell":
                        error = message.get("error")
                        report = CellReport(str(message.get("id")), str(message.get("output", ""))[: 1 << 20],
                                            error if isinstance(error, dict) else None)
                        reports[report.id] = report
                        running = None
                    elif op == "callback":  # top-level code calling an earlier stage's function
                        Worker(kernel, mine)._answer_callback(message, _decoder(blobs), answer_callback)
                    elif op == "loaded":
                        problem = message.get("problem")
                        kernel.problem = problem if isinstance(problem, dict) else None
                        break
                    else:
                        raise codec.ChannelError(f"the program sent {op!r} while loading")
            except codec.ChannelTimeout:
                kernel.close()
                self.reset()
                if running is None or running in skipped:
                    raise WorkerLost(f"loading the learner's program took longer than {timeout:g} s") from None
                skipped.append(running)
                reports[running] = CellReport(running, timed_out=True)
                continue
            except codec.ChannelError as error:
                kernel.close()
                self.reset()
                raise WorkerLost(f"the learner's program stopped while loading ({error})") from None
            kernel.cells = [reports[cell_id] for cell_id in (str(c.get("id")) for c in request.get("cells") or [])
                            if cell_id in reports]
            return kernel


def _refuse(name: str, args: tuple, kwargs: dict) -> Any:
    raise RuntimeError(f"{name}() cannot be called while the file loads")
