"""The decision boundary of a classifier of 2-D points (Text C's perceptron and XOR)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ShapeError
from ._mpl import figure, finish


def _predict(model, points: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict"):
        return np.asarray(model.predict(points))
    out = model(points)
    return np.asarray(getattr(out, "data", out))


def _classes(scores: np.ndarray, threshold: float) -> np.ndarray:
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores.reshape(len(scores)) > threshold).astype(np.int64)


def decision_grid(model, x, resolution: int = 100, margin: float = 0.5,
                  threshold: float = 0.5):
    """The predicted class on a ``resolution`` x ``resolution`` grid around the points ``x``.

    Args:
        model: a model (``predict``), a layer or any callable from (n, 2) points to scores:
            (n, 1) or (n,) scores are thresholded at ``threshold`` (0 for a perceptron's
            sign output), (n, k) scores give their argmax.
        x: the data points (n, 2); the grid spans them plus ``margin`` on every side.

    Returns:
        ``(xs, ys, classes)``: the grid's coordinates along each axis and the class at
        each grid point, ``classes[i, j]`` at ``(xs[j], ys[i])``.
    """
    x = np.asarray(getattr(x, "data", x), dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ShapeError(f"decision_grid: expected 2-D points of shape (n, 2), got {x.shape}")
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    classes = _classes(_predict(model, points), threshold)
    return xs, ys, classes.reshape(resolution, resolution)


def plot_decision_boundary(model, x, y, resolution: int = 100, margin: float = 0.5,
                           threshold: float = 0.5, title: str | None = None, ax=None,
                           path: str | os.PathLike | None = None):
    """The regions each class gets (a colour mesh) and the data points on top, coloured by
    their true class.

    ``y`` holds labels, one-hot rows or {-1, +1} targets. Draws into ``ax`` when given
    (several boundaries side by side); returns the Figure.
    """
    xs, ys, classes = decision_grid(model, x, resolution, margin, threshold)
    if ax is None:
        fig = figure(4.0, 3.6)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    y = np.asarray(getattr(y, "data", y))
    labels = y.argmax(1) if y.ndim == 2 and y.shape[1] > 1 else (y.reshape(-1) > (
        0 if y.min() < 0 else 0.5)).astype(int)
    ax.pcolormesh(xs, ys, classes, cmap="coolwarm", alpha=0.35, shading="nearest",
                  vmin=0, vmax=max(1, int(classes.max())))
    pts = np.asarray(getattr(x, "data", x))
    ax.scatter(pts[:, 0], pts[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=60,
               vmin=0, vmax=max(1, int(labels.max())))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return finish(fig, path)
