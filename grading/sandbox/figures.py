"""A stand-in matplotlib Figure rebuilt from the worker's description (kit_worker/figures.py).

The checks inspect the figure a learner's plot_history returned as they would the
real one: `figure.axes`, each axes' lines (x and y data, labels), title, axis labels,
legend texts and the figure's suptitle. Nothing else of the original crosses over.
matplotlib is imported only when a figure arrives.
"""

from typing import Any

from .kit_worker import codec


def _text(value: Any) -> str:
    return value[:200] if isinstance(value, str) else ""


def rebuild_figure(body: Any, decoder: "codec.Decoder") -> Any:
    """A matplotlib Figure with the described axes, curves, titles, labels and legends."""
    from matplotlib.figure import Figure

    if not isinstance(body, dict) or not isinstance(body.get("axes"), list):
        raise codec.ChannelError("a figure in a message is not described as one")
    size = body.get("size")
    figure = Figure(figsize=tuple(size) if isinstance(size, list) and len(size) == 2
                    and all(isinstance(v, float) and 0 < v < 1000 for v in size) else None)
    if _text(body.get("suptitle")):
        figure.suptitle(_text(body.get("suptitle")))
    for described in body["axes"][:16]:
        if not isinstance(described, dict):
            raise codec.ChannelError("an axes in a figure is not described as one")
        axes = figure.add_subplot(1, max(len(body["axes"]), 1), len(figure.axes) + 1)
        for line in (described.get("lines") or [])[:32]:
            if not isinstance(line, dict):
                raise codec.ChannelError("a line in a figure is not described as one")
            x, y = decoder.decode(line.get("x")), decoder.decode(line.get("y"))
            axes.plot(x, y, label=_text(line.get("label")))
        axes.set_title(_text(described.get("title")))
        axes.set_xlabel(_text(described.get("xlabel")))
        axes.set_ylabel(_text(described.get("ylabel")))
        legend = described.get("legend")
        if isinstance(legend, list):
            handles = axes.get_lines()
            texts = [_text(t) for t in legend]
            if handles:
                axes.legend(handles[: len(texts)], texts[: len(handles)])
            else:
                axes.legend(texts)
    return figure
