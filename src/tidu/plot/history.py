"""Loss and metrics per epoch, training and validation: ``History.plot()``."""

from __future__ import annotations

import os

from ._mpl import figure, finish


def plot_history(history, metrics=None, path: str | os.PathLike | None = None):
    """One panel per quantity (loss, then each metric): the training curve, and the
    validation curve (``val_<name>``) when it was recorded.

    Args:
        history: a ``tidu.callbacks.History`` (what ``fit`` returns) or its ``history`` dict.
        metrics: the names to draw (default: every recorded one without the ``val_`` prefix).
        path: write the figure there (PNG) too.

    Returns:
        The matplotlib Figure; its axes are titled by the quantity, lines labelled
        'train' and 'validation'.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history: nothing recorded (train with fit first, or pass "
                         "History.history)")
    names = list(metrics) if metrics is not None else \
        [k for k in logs if not k.startswith("val_")] or list(logs)
    unknown = [n for n in names if n not in logs and f"val_{n}" not in logs]
    if unknown:
        raise KeyError(f"plot_history: no {unknown} in the history; recorded: {sorted(logs)}")
    epochs = getattr(history, "epoch", None)
    fig = figure(3.6 * len(names), 3.0)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for key, label, style in ((name, "train", "-"), (f"val_{name}", "validation", "--")):
            values = logs.get(key)
            if not values:
                continue
            xs = [e + 1 for e in epochs] if epochs and len(epochs) == len(values) else \
                list(range(1, len(values) + 1))
            ax.plot(xs, [float(v) for v in values], style, label=label, markersize=3,
                    marker=("o" if label == "train" else "s") if len(xs) <= 30 else None)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    return finish(fig, path)
