"""A grid of misclassified images with their predicted and true labels."""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ShapeError
from ._mpl import figure, finish, grid_shape


def labels_of(y) -> np.ndarray:
    """Class labels from labels, one-hot rows or probabilities ((n, 1): above 0.5 is 1)."""
    y = np.asarray(getattr(y, "data", y))
    if y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.int64)
    if y.ndim == 2:
        return y.argmax(axis=1)
    if y.ndim == 1:
        return y.astype(np.int64)
    raise ShapeError(f"labels_of: expected labels (n,) or scores (n, classes), got shape "
                     f"{y.shape}")


def misclassified(y_true, y_pred) -> np.ndarray:
    """Indices of the samples whose predicted label differs from the true one."""
    t, p = labels_of(y_true), labels_of(y_pred)
    if t.shape != p.shape:
        raise ShapeError(f"misclassified: {len(t)} true labels but {len(p)} predictions")
    return np.flatnonzero(t != p)


def _images(x, image_shape) -> np.ndarray:
    x = np.asarray(getattr(x, "data", x), dtype=np.float64)
    if image_shape is not None:
        return x.reshape((len(x), *image_shape))
    if x.ndim == 2:  # flattened: square grey images, or square RGB
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1]:
            return x.reshape(len(x), side, side)
        side = math.isqrt(x.shape[1] // 3)
        if 3 * side * side == x.shape[1]:
            return x.reshape(len(x), side, side, 3)
        raise ShapeError(f"plot_misclassified: cannot tell the image shape of samples with "
                         f"{x.shape[1]} values; pass image_shape=(height, width[, 3])")
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = x.transpose(0, 2, 3, 1)  # channels first
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    return x


def plot_misclassified(x, y_true, y_pred, class_names=None, max_images: int = 16,
                       cols: int | None = None, image_shape=None,
                       path: str | os.PathLike | None = None):
    """The first ``max_images`` test images the model got wrong, titled 'pred P / true T'.

    Args:
        x: the images: (n, h, w), (n, h, w, c), (n, c, h, w) or flattened (n, features).
        y_true, y_pred: labels, one-hot rows or predicted probabilities (as ``labels_of``).
        class_names: names to show instead of the class numbers.
        max_images: how many to show at most.
        cols: panels per row (default: about square).
        image_shape: the shape of one image when ``x`` is flattened and not square.
        path: write the figure there (PNG) too.

    Returns:
        The Figure, one axes per image shown (one with a note when there is no mistake).
    """
    wrong = misclassified(y_true, y_pred)
    if len(wrong) and wrong.max() >= len(x):
        raise ShapeError(f"plot_misclassified: {len(x)} images but {len(labels_of(y_true))} "
                         "labels")
    t, p = labels_of(y_true), labels_of(y_pred)
    shown = wrong[:max_images]
    rows, ncols = grid_shape(max(len(shown), 1), cols)
    fig = figure(1.5 * ncols + 0.2, 1.6 * rows + 0.3)
    if not len(shown):
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.set_axis_off()
        return finish(fig, path)
    images = _images(np.asarray(getattr(x, "data", x))[shown], image_shape)

    def name(k):
        return str(class_names[k]) if class_names is not None else str(k)

    for j, (i, img) in enumerate(zip(shown, images)):
        ax = fig.add_subplot(rows, ncols, j + 1)
        lo, hi = float(img.min()), float(img.max())
        ax.imshow((img - lo) / (hi - lo) if img.ndim == 3 and hi > lo else img,
                  cmap="gray" if img.ndim == 2 else None)
        ax.set_title(f"pred {name(p[i])} / true {name(t[i])}", fontsize=8, color="firebrick")
        ax.set_axis_off()
    fig.suptitle(f"{len(wrong)} of {len(t)} misclassified", fontsize=10)
    return finish(fig, path)
