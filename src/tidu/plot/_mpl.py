"""Figures without pyplot: matplotlib is imported on first use, drawing with Agg.

tidu's plots make ``matplotlib.figure.Figure`` objects attached to an Agg canvas, never
through ``pyplot``: no global figure state, no GUI backend, nothing left open. A notebook
shows a returned figure as its cell's value; ``save`` writes it as a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

MISSING = ("tidu.plot needs matplotlib, an optional extra: pip install 'tidu[plot]' "
           "(or pip install matplotlib)")


def figure(width: float = 6.0, height: float = 4.0, layout: str | None = "constrained"):
    """A new Figure of ``width`` x ``height`` inches on an Agg canvas (constrained layout by
    default; ``layout=None`` for big grids, which then place their axes themselves)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(MISSING) from e
    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def finish(fig, path: str | os.PathLike | None):
    """Write ``fig`` to ``path`` (PNG unless the suffix says otherwise) when given; return
    ``fig``."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return fig


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """Rows and columns for ``n`` panels (about square, at most ``cols`` wide)."""
    import math

    cols = cols or max(1, math.ceil(math.sqrt(n)))
    cols = min(cols, max(n, 1))
    return max(1, math.ceil(n / cols)), cols
