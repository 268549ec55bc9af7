"""A matplotlib Figure returned by the learner, described as data.

    {"suptitle": "Training", "size": [10.0, 4.0],
     "axes": [{"title": "Accuracy", "xlabel": "epoch", "ylabel": "", "legend": ["train", "dev"],
               "lines": [{"label": "train", "x": <array>, "y": <array>}, ...]}, ...]}

The checker rebuilds a stand-in Figure from it (grading/sandbox/figures.py), so a
check reads titles, labels, legends and curves as it would on the real one. matplotlib
is never imported here for this: a value is a Figure only if the learner's code has
imported matplotlib already.
"""

import sys
from typing import Any

import numpy as np

MAX_AXES = 16
MAX_LINES = 32


def describe(value: Any, encoder: Any) -> "dict | None":
    """The description of `value` if it is a matplotlib Figure, else None."""
    module = sys.modules.get("matplotlib.figure")
    if module is None or not isinstance(value, module.Figure):
        return None
    suptitle = value._suptitle.get_text() if getattr(value, "_suptitle", None) is not None else ""
    axes = []
    for ax in value.axes[:MAX_AXES]:
        legend = ax.get_legend()
        lines = []
        for line in ax.get_lines()[:MAX_LINES]:
            x = np.asarray(line.get_xdata(), dtype=float)
            y = np.asarray(line.get_ydata(), dtype=float)
            lines.append({"label": str(line.get_label())[:200], "x": {"array": encoder.array(x)},
                          "y": {"array": encoder.array(y)}})
        axes.append({"title": ax.get_title()[:200], "xlabel": ax.get_xlabel()[:200], "ylabel": ax.get_ylabel()[:200],
                     "legend": None if legend is None else [t.get_text()[:200] for t in legend.get_texts()][:MAX_LINES],
                     "lines": lines})
    return {"suptitle": suptitle[:200], "size": [float(v) for v in value.get_size_inches()], "axes": axes}
