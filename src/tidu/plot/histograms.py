"""Histograms of weights, activations and gradients, one panel per layer (or parameter)."""

from __future__ import annotations

import os

import numpy as np

from ._mpl import figure, finish, grid_shape

KINDS = ("weights", "activations", "gradients")


def weight_arrays(model) -> dict:
    """``{'layer/parameter': array}`` for every parameter of ``model``."""
    from ..callbacks.diagnostics import leaf_layers

    out = {}
    for layer in leaf_layers(model):
        for name, p in layer.named_parameters():
            out[f"{layer.name}/{name}"] = np.asarray(p.data)
    return out


def activation_arrays(model, x) -> dict:
    """``{layer name: output}`` of each leaf layer for one forward pass on ``x`` (no
    gradients recorded)."""
    from .. import no_grad
    from ..callbacks.diagnostics import capture_outputs

    with capture_outputs(model) as outputs, no_grad():
        model(np.asarray(x))
    return dict(outputs)


def gradient_arrays(model, x, y) -> dict:
    """``{'layer/parameter': gradient}`` of the model's compiled loss on ``(x, y)``: one
    forward and backward, no update (earlier ``.grad`` values are replaced)."""
    from ..callbacks.diagnostics import leaf_layers
    from ..tensor import Tensor

    if getattr(model, "loss", None) is None:
        raise ValueError("gradient_arrays: the model has no loss; call model.compile first")
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = None
    out = model(Tensor(np.asarray(x)))
    loss = model.loss(np.asarray(y), out)
    loss.backward()
    grads = {}
    for layer in leaf_layers(model):
        for name, p in layer.named_parameters():
            if p.grad is not None:
                grads[f"{layer.name}/{name}"] = np.asarray(p.grad.data)
    return grads


def plot_histograms(arrays: dict, title: str | None = None, bins: int = 30,
                    cols: int | None = None, path: str | os.PathLike | None = None):
    """One histogram per named array (e.g. from :func:`weight_arrays`), titled by its name
    with its mean and standard deviation.

    Returns:
        The Figure; one axes per array, in the dict's order.
    """
    if not arrays:
        raise ValueError("plot_histograms: no arrays to draw")
    rows, ncols = grid_shape(len(arrays), cols or min(len(arrays), 4))
    fig = figure(3.0 * ncols, 2.4 * rows)
    for j, (name, a) in enumerate(arrays.items()):
        a = np.asarray(a, dtype=np.float64).ravel()
        a = a[np.isfinite(a)]
        ax = fig.add_subplot(rows, ncols, j + 1)
        ax.hist(a, bins=bins, color="steelblue")
        ax.set_title(f"{name}\nmean {a.mean():.3g}, std {a.std():.3g}" if a.size else name,
                     fontsize=8)
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path)


def plot_layer_histograms(model, kind: str = "weights", x=None, y=None, bins: int = 30,
                          path: str | os.PathLike | None = None):
    """Histograms of one kind per layer: ``'weights'``, ``'activations'`` (needs ``x``) or
    ``'gradients'`` (needs ``x`` and ``y`` and a compiled model)."""
    if kind not in KINDS:
        raise ValueError(f"plot_layer_histograms: kind must be one of {KINDS}, got {kind!r}")
    if kind != "weights" and x is None:
        raise ValueError(f"plot_layer_histograms: kind={kind!r} needs the inputs x")
    if kind == "gradients" and y is None:
        raise ValueError("plot_layer_histograms: kind='gradients' needs the targets y")
    arrays = (weight_arrays(model) if kind == "weights" else
              activation_arrays(model, x) if kind == "activations" else
              gradient_arrays(model, x, y))
    return plot_histograms(arrays, title=kind, bins=bins, path=path)
