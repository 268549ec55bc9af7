"""One call of the learner's function inside the worker, and calls back to the checker.

The checker sends

    {"op": "call", "function": "backward_prop", "args": ..., "kwargs": ...,
     "callbacks": ["one_hot"], "kept": ["relu_deriv"], "cwd": "/worker/scratch1" or null,
     "adapter": "kit_helpers.gradient_examples:call_with_example" or null}

and the worker answers with one of

    {"op": "returned", "value": ..., "mutations": {...}, "stdout": "...", "warnings": [...]}
    {"op": "raised", "kind": "exception" | "not_implemented" | "system_exit" | "memory",
     "facts": {...}, "mutations": {...}, "stdout": "...", "warnings": [...]}

While it runs, each name in "callbacks" is bound, in the learner's module, to a stub
that asks the checker ({"op": "callback", "function": "one_hot", "args": ...}) and
returns the checker's answer: the reference result, so that one wrong function costs
only its own points. Each name in "kept" is bound to the function the notebook's setup
cell defined under it (kernel.py), where there is one, and otherwise to a stub too.
An "adapter" (a function of kit_helpers) is called in place of the learner's function,
with that function first: how a function that takes a callable (stage 06's
numerical_gradient(f, x, h)) is called with data only (the callable is built here). The stubs carry the generator states and in-place changes both
ways, so `rng` advances as if the helper had run here.

"mutations" lists the arguments the call changed in place (arrays written into, a
history dict filled, a generator advanced), by position or keyword, with their new
values: the checker copies them back into its own objects.
"""

import builtins
import contextlib
import functools
import importlib
import io
import os
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import codec, figures
from .facts import facts

MAX_OUTPUT = 64 * 1024
_BUILTIN_ERRORS = {name: getattr(builtins, name) for name in (
    "ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError", "AttributeError",
    "ArithmeticError", "FloatingPointError", "OverflowError", "RuntimeError", "NotImplementedError")}


class Channel:
    """The worker's end of its socket: messages to and from the checker."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock

    def send(self, header: dict, blobs: list[bytes] = ()) -> None:
        codec.send_message(self.sock, header, list(blobs))

    def receive(self) -> tuple[dict, codec.Decoder]:
        header, blobs, _ = codec.receive_message(self.sock)
        return header, codec.Decoder(blobs)

    def callback(self, name: str, args: tuple, kwargs: dict) -> Any:
        """Ask the checker for the reference result of `name` on these arguments."""
        encoder = codec.Encoder(describe_figure=figures.describe)
        request = {"op": "callback", "function": name, "args": encoder.encode(args), "kwargs": encoder.encode(kwargs)}
        self.send(request, encoder.blobs)
        header, decoder = self.receive()
        if header.get("op") == "callback_returned":
            _apply_mutations(decoder.decode(header.get("mutations", {"dict": []})), args, kwargs)
            return decoder.decode(header.get("value"))
        error = _BUILTIN_ERRORS.get(str(header.get("type")), RuntimeError)
        raise error(str(header.get("message", "the reference helper failed")))


#: the channel the stubs use: the kernel's while it loads, then each worker's own
CURRENT: "Channel | None" = None


def stub(name: str) -> Callable[..., Any]:
    """A stand-in for the curriculum function `name` that returns the reference's answer."""

    def reference(*args: Any, **kwargs: Any) -> Any:
        if CURRENT is None:
            raise RuntimeError(f"{name}() is not available here")
        return CURRENT.callback(name, args, kwargs)

    reference.__name__ = reference.__qualname__ = name
    return reference


def proxy_module(name: str, functions: list[str]) -> types.ModuleType:
    """A module `name` whose functions are stubs (an earlier stage, graded on its own)."""
    module = types.ModuleType(name, f"stage module {name}: the reference, answered by the checker")
    for function in functions:
        setattr(module, function, stub(function))
    module.__all__ = list(functions)
    return module


def _apply_mutations(mutations: Any, args: tuple, kwargs: dict) -> None:
    if not isinstance(mutations, dict):
        return
    for key, value in mutations.items():
        target = args[key] if isinstance(key, int) and 0 <= key < len(args) else kwargs.get(key) if isinstance(key, str) else None
        if target is not None:
            codec.apply_mutation(target, value)


def _mutations(args: tuple, kwargs: dict, before: tuple[list, dict]) -> dict:
    changed = {}
    for index, value in enumerate(args):
        if codec.changed(before[0][index], value):
            changed[index] = value
    for key, value in kwargs.items():
        if codec.changed(before[1][key], value):
            changed[key] = value
    return changed


def _materialise(value: Any) -> Any:
    """Generators and ranges become lists (a list of batches written with `yield` is still a list)."""
    if isinstance(value, (types.GeneratorType, range, map, filter, zip)):
        items = []
        for item in value:
            items.append(item)
            if len(items) >= codec.MAX_ITEMS:
                break
        return items
    return value


def _bounded(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    return text[:MAX_OUTPUT] + f"\n... ({len(text) - MAX_OUTPUT:,} more characters)"


def run_call(channel: Channel, namespace: dict, request: dict, decoder: codec.Decoder,
             kept: dict | None = None) -> None:
    """Run the call `request` on the function `namespace[request["function"]]` and answer."""
    name = request.get("function")
    args = decoder.decode(request.get("args"))
    kwargs = decoder.decode(request.get("kwargs"))
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise codec.ChannelError("a call needs a tuple of arguments and a dict of keywords")
    function = namespace.get(name)
    scope = getattr(function, "__globals__", namespace)
    adapter = request.get("adapter")
    if isinstance(adapter, str) and adapter.startswith("kit_helpers.") and ":" in adapter:
        module, _, attribute = adapter.partition(":")
        function = functools.partial(getattr(importlib.import_module(module), attribute), function)
    bound = {}
    kept = kept or {}
    for helper in list(request.get("callbacks") or []) + list(request.get("kept") or []):
        if isinstance(helper, str) and helper != name and helper not in bound:
            bound[helper] = scope.get(helper, _MISSING)
            scope[helper] = kept.get(helper) or stub(helper)
    before = ([codec.snapshot(a) for a in args], {k: codec.snapshot(v) for k, v in kwargs.items()})
    output = io.StringIO()
    home = os.getcwd()
    reply: dict = {}
    value: Any = None
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="More than .* figures have been opened")
        try:
            if request.get("cwd"):
                os.chdir(request["cwd"])
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                value = _materialise(function(*args, **kwargs))
            reply = {"op": "returned"}
        except NotImplementedError as error:
            reply = {"op": "raised", "kind": "not_implemented", "facts": facts(error)}
        except SystemExit as error:
            reply = {"op": "raised", "kind": "system_exit", "facts": facts(error)}
        except MemoryError as error:
            reply = {"op": "raised", "kind": "memory", "facts": facts(error)}
        except BaseException as error:  # the learner's code raised: say what and where
            reply = {"op": "raised", "kind": "exception", "facts": facts(error)}
        finally:
            os.chdir(home)
            for helper, previous in bound.items():
                if previous is _MISSING:
                    scope.pop(helper, None)
                else:
                    scope[helper] = previous
    messages = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)))
    encoder = codec.Encoder(describe_figure=figures.describe)
    reply.update(stdout=_bounded(output.getvalue()), warnings=messages[:10])
    try:
        reply["mutations"] = encoder.encode(_mutations(args, kwargs, before))
        if reply["op"] == "returned":
            reply["value"] = encoder.encode(value)
    except Exception as error:  # a value so strange that even describing it failed
        reply = {"op": "raised", "kind": "exception", "stdout": reply["stdout"], "warnings": reply["warnings"],
                 "facts": {"type": type(error).__name__, "message": f"what it returned cannot be read: {error}"}}
        encoder = codec.Encoder()
    channel.send(reply, encoder.blobs)


_MISSING = object()


def describe_names(namespace: dict, names: list[str]) -> dict:
    """For each name: is it defined, callable, of which type, and which global names its code uses."""
    result = {}
    for name in names:
        value = namespace.get(name, _MISSING)
        code = getattr(value, "__code__", None)
        result[name] = {"defined": value is not _MISSING, "callable": callable(value),
                        "type": type(value).__name__ if value is not _MISSING else None,
                        "co_names": list(code.co_names)[:500] if code is not None else []}
    return result


def serve(channel: Channel, namespace: dict, kept: dict | None = None) -> None:
    """The worker's loop: describe, call, until the checker says exit or goes away."""
    global CURRENT
    CURRENT = channel
    while True:
        try:
            header, decoder = channel.receive()
        except codec.ChannelError:
            return
        op = header.get("op")
        if op == "call":
            run_call(channel, namespace, header, decoder, kept)
        elif op == "describe":
            channel.send({"op": "described", "names": describe_names(namespace, list(header.get("names") or []))})
        else:
            return
