"""A matplotlib Figure that Jupyter shows inline, without pyplot.

A Figure made with matplotlib.figure.Figure (not pyplot) needs no display and
leaves pyplot's global state alone, but Jupyter only draws figures inline once
pyplot or `%matplotlib inline` has registered a formatter for them; before that,
the last value of a cell prints as "<Figure size 640x480 with 1 Axes>".
NotebookFigure adds _repr_png_, which IPython's display calls, so the figure
shows as a PNG in any notebook.
"""

import io

from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A Figure that renders itself as a PNG in Jupyter (IPython's _repr_png_ protocol)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()
