"""The shapes of the arrays on the learner's line that raised a shape error.

NumPy's message for `Z1 = W1 @ X.T + b1` with the wrong X says

    matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc
    signature (n?,k),(k,m?)->(n?,m?) (size 2 is different from 3)

which gives sizes, not arrays. `shapes_on_line(error, is_learner_file)` reads
the line that raised, in the innermost frame of the learner's code, and gives
the shape of every array named on it, so the failure message can say

    shapes:   on that line, W1 (2, 3), X (3, 2), b1 (2, 1)

(only the names that hold arrays are listed: `X.T` shows X, whose shape the
learner can transpose in their head).
"""

import linecache
import re
import traceback
from collections.abc import Callable

import numpy as np

#: a name that is not an attribute (the `T` of `X.T` is not looked up)
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def shapes_on_line(error: BaseException, is_learner_file: Callable[[str], bool]) -> str | None:
    """"W1 (2, 3), X (3, 2)" for the arrays named on the learner's line that raised `error`.

    Args:
        error: the exception, with its traceback.
        is_learner_file: True for a file name that holds the learner's code.

    Returns:
        The names and shapes, in the order they appear on the line; None when
        no learner frame or no array is found.
    """
    frames = [(frame, line) for frame, line in traceback.walk_tb(error.__traceback__)
              if is_learner_file(frame.f_code.co_filename)]
    if not frames:
        return None
    frame, number = frames[-1]
    text = linecache.getline(frame.f_code.co_filename, number, frame.f_globals)
    shown = []
    for name in dict.fromkeys(_NAME.findall(text)):
        value = frame.f_locals[name] if name in frame.f_locals else frame.f_globals.get(name)
        if isinstance(value, np.ndarray):
            shown.append(f"{name} {value.shape}")
    return ", ".join(shown) or None
