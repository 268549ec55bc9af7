"""A learner program loaded in the worker: their stage files, or a notebook's cells.

The checker sends one of

    {"op": "load", "kind": "modules", "main": "backprop",
     "proxies": [{"name": "activations", "functions": ["relu", ...]}, ...],
     "modules": [{"name": "backprop", "filename": "exercises/03_backprop/backprop.py", "source": "..."}]}
    {"op": "load", "kind": "cells", "skip": ["cell-7"], "setup": {"cell": "setup", "names": ["relu", ...]},
     "cells": [{"id": "relu_code", "source": "def relu(Z): ..."}, ...]}

Modules run in order, each registered under its name so that later ones import it
(`from backprop import one_hot` in stage 05); proxies are earlier stages answered by
the checker (calls.proxy_module). Cells run in one namespace, as in a kernel: a cell
that raises is reported and the next one runs (IPython's `%magic` and `!shell` lines
are skipped). The functions "setup" names, as the setup cell (the instructor's locked
copy: the earlier stages' reference) defined them, are kept aside: while a function
is graded they stand in for those names, whatever later cells bound to them. The kernel answers {"op": "cell", ...} after each cell (so the checker
can time them) and {"op": "loaded", "problem": null or the facts of a file that
failed to load}, then forks one worker per function on request:

    {"op": "fork"} with the worker's socket passed beside it -> {"op": "forked"}
"""

import contextlib
import io
import linecache
import os
import re
import signal
import socket
import sys
import types

from . import calls, codec
from .facts import facts

_MAGIC_LINE = re.compile(r"^\s*[%!]")


def _register_source(filename: str, source: str) -> None:
    """Let tracebacks and shape_errors show the learner's lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)


def without_magics(source: str) -> str:
    """A cell with IPython's `%line` and `!shell` lines made `pass` (a `%%cell` magic: the whole cell)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(re.sub(r"^(\s*).*$", r"\1pass", line) if _MAGIC_LINE.match(line) else line
                     for line in source.split("\n"))


def load_modules(request: dict) -> tuple[dict, "dict | None"]:
    """Run the learner's files; (the main module's namespace, the facts of a failure or None)."""
    for proxy in request.get("proxies") or []:
        sys.modules[proxy["name"]] = calls.proxy_module(proxy["name"], list(proxy["functions"]))
    namespace: dict = {}
    for spec in request.get("modules") or []:
        module = types.ModuleType(spec["name"])
        module.__file__ = spec["filename"]
        sys.modules[spec["name"]] = module
        _register_source(spec["filename"], spec["source"])
        try:
            code = compile(spec["source"], spec["filename"], "exec")
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(code, module.__dict__)
        except BaseException as error:
            return {}, {"module": spec["name"], "filename": spec["filename"], **facts(error),
                        "kind": "syntax" if isinstance(error, SyntaxError) else
                        "system_exit" if isinstance(error, SystemExit) else "exception"}
        if spec["name"] == request.get("main"):
            namespace = module.__dict__
    return namespace, None


def load_cells(channel: calls.Channel, request: dict) -> tuple[dict, dict]:
    """Run a notebook's cells in one namespace, reporting each; (the namespace, the setup's functions)."""
    namespace: dict = {"__name__": "__main__"}
    setup = request.get("setup") or {}
    kept: dict = {}
    skip = set(request.get("skip") or [])
    for cell in request.get("cells") or []:
        cell_id = str(cell.get("id"))
        if cell_id in skip:
            continue
        channel.send({"op": "cell_started", "id": cell_id})
        filename = f"<cell {cell_id}>"
        source = without_magics(str(cell.get("source", "")))
        _register_source(filename, source)
        output, error_facts = io.StringIO(), None
        try:
            code = compile(source, filename, "exec")
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                exec(code, namespace)
        except BaseException as error:
            error_facts = facts(error)
        if cell_id == setup.get("cell"):
            kept = {name: namespace[name] for name in setup.get("names") or [] if callable(namespace.get(name))}
        channel.send({"op": "cell", "id": cell_id, "output": calls._bounded(output.getvalue()),
                      "error": error_facts})
    return namespace, kept


def run(sock: socket.socket) -> None:
    """The kernel's life: load the program, then fork a worker per request."""
    channel = calls.Channel(sock)
    calls.CURRENT = channel
    header, _ = channel.receive()
    if header.get("op") != "load":
        return
    kept: dict = {}
    if header.get("kind") == "cells":
        (namespace, kept), problem = load_cells(channel, header), None
    else:
        namespace, problem = load_modules(header)
    channel.send({"op": "loaded", "problem": problem})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished workers are reaped by the system
    while True:
        try:
            header, _, fds = codec.receive_message(sock, want_fds=1)
        except codec.ChannelError:
            return
        if header.get("op") != "fork" or len(fds) != 1:
            codec.close_fds(fds)
            return
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sock.close()
            worker = socket.socket(fileno=fds[0])
            try:
                calls.serve(calls.Channel(worker), namespace, kept)
            finally:
                os._exit(0)
        codec.close_fds(fds)
        channel.send({"op": "forked"})
