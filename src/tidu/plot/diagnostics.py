"""PNG plots of :class:`tidu.callbacks.Diagnostics` records: one line per layer per quantity."""

from __future__ import annotations

import os
from pathlib import Path

from ._mpl import figure, finish

PANELS = (("act_mean", "activation mean"), ("act_std", "activation std"),
          ("saturated", "saturated fraction (sigmoid/tanh)"),
          ("dead", "dead ReLU fraction"), ("grad_norm", "gradient norm"),
          ("weight_norm", "weight norm"), ("update_ratio", "update / weight ratio"))
LOG_SCALE = ("grad_norm", "weight_norm", "update_ratio")


def plot_quantity(diag, key: str, title: str | None = None, path=None):
    """One quantity of every layer that has it, epoch by epoch (log scale for norms and
    ratios). Returns the Figure: one line per layer, labelled with the layer's name; or,
    when a single epoch (or step) was recorded, one bar per layer."""
    fig = figure(4.5, 3.0)
    ax = fig.add_subplot()
    if len(diag.epochs()) == 1:  # one step (tidu diagnose): one bar per layer
        rows = [(layer, diag.series(layer, key)[0]) for layer in diag.layer_names()]
        rows = [(layer, v) for layer, v in rows if v is not None]
        if rows:
            ax.bar([layer for layer, _ in rows], [v for _, v in rows], color="steelblue")
            ax.tick_params(axis="x", labelrotation=30, labelsize=7)
            if key in LOG_SCALE:
                ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no layer of this kind", ha="center", va="center",
                    transform=ax.transAxes)
        ax.set_title(title or key)
        return finish(fig, path)
    for layer in diag.layer_names():
        values = diag.series(layer, key)
        if all(v is None for v in values):
            continue
        ax.plot([e + 1 for e in diag.epochs()],
                [float("nan") if v is None else v for v in values], "-o", markersize=3,
                label=layer)
    if key in LOG_SCALE and ax.lines:
        ax.set_yscale("log")
    if key == "update_ratio" and ax.lines:
        ax.axhline(1e-3, color="0.5", linestyle=":", label="1e-3 (rule of thumb)")
    ax.set_title(title or key)
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no layer of this kind", ha="center", va="center",
                transform=ax.transAxes)
    return finish(fig, path)


def plot_diagnostics(diag, out_dir: str | os.PathLike, prefix: str = "diagnostics") -> list:
    """Write one PNG per quantity of :data:`PANELS` into ``out_dir``
    (``<prefix>_<quantity>.png``); returns the paths written."""
    if not diag.records:
        raise ValueError("plot_diagnostics: nothing recorded yet (train with the callback)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, title in PANELS:
        p = out / f"{prefix}_{key}.png"
        plot_quantity(diag, key, title, path=p)
        paths.append(p)
    return paths
