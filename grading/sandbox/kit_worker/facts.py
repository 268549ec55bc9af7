"""What an exception raised by the learner's code says, as data the checker can word.

An exception object cannot leave the worker (it would need pickle), so the worker
sends its facts instead:

    {"type": "ValueError", "message": "operands could not be broadcast ...",
     "where": {"file": "backprop.py", "line": 12, "function": "backward_prop",
               "code": "dZ2 = A2 - one_hot(Y)"},
     "innermost": "one_hot",            # the innermost function of the learner's own code
     "shapes": [["A2", [10, 3]], ["Y", [3]]],   # the arrays on that line, as written (shape_errors.py)
     "module": "solutions"}             # for a ModuleNotFoundError: the module's name

"The learner's code" is every frame whose file is not Python's, an installed
library's, or this package's.
"""

import os
import sys
import traceback
from typing import Any

from .shape_errors import array_shapes_on_line

_HERE = os.path.dirname(os.path.abspath(__file__))
MAX_MESSAGE = 2000


def _library_roots() -> tuple[str, ...]:
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, _HERE)}
    roots.update(os.path.realpath(p) for p in sys.path if p and "site-packages" in p)
    helpers = sys.modules.get("kit_helpers")
    if helpers is not None and getattr(helpers, "__file__", None):
        roots.add(os.path.dirname(os.path.realpath(helpers.__file__)))
    return tuple(sorted(roots))


def is_learner_file(filename: str) -> bool:
    """True for a file holding the learner's code (a notebook cell's "<cell ...>" included)."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    resolved = os.path.realpath(filename)
    return not any(resolved == root or resolved.startswith(root + os.sep) for root in _library_roots())


def _learner_frames(error: BaseException) -> list[traceback.FrameSummary]:
    return [frame for frame in traceback.extract_tb(error.__traceback__) if is_learner_file(frame.filename)]


def facts(error: BaseException) -> dict[str, Any]:
    """The facts of `error` (see the module docstring)."""
    try:
        message = str(error)
    except Exception:
        message = "(its message could not be shown)"
    frames = _learner_frames(error)
    where = None
    if frames:
        frame = frames[-1]
        name = frame.filename if frame.filename.startswith("<") else os.path.basename(frame.filename)
        where = {"file": name, "line": frame.lineno, "function": frame.name, "code": (frame.line or "").strip()}
    try:
        shapes = [[operand, [int(n) for n in shape]] for operand, shape in
                  array_shapes_on_line(error, is_learner_file).items()][:20]
    except Exception:
        shapes = []
    result = {"type": type(error).__name__, "message": message[:MAX_MESSAGE], "where": where,
              "innermost": frames[-1].name if frames else None, "shapes": shapes}
    if isinstance(error, ImportError):
        result["module"] = getattr(error, "name", None)
    if isinstance(error, SyntaxError):
        result["syntax"] = {"line": error.lineno, "offset": error.offset, "text": (error.text or "")[:500],
                            "msg": str(error.msg)[:500]}
    return result
