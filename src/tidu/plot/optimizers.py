"""An optimizer explainer: what SGD, momentum, RMSprop and Adam do with one parameter.

Each optimizer of :mod:`tidu.optim` runs on one scalar parameter fed the same kind of
gradient (by default a noisy quadratic bowl). The traces record, step by step, the gradient
it saw, its moment estimates (its state arrays: momentum's velocity buffer, RMSprop's mean
square, Adam's first and second moments) and the effective step it took,
``w_after - w_before``: exactly what ``optimizer.step()`` did.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ._mpl import figure, finish


def noisy_quadratic(target: float = 2.0, curvature: float = 1.0, noise: float = 0.5,
                    steps: int = 200, seed: int = 0) -> Callable[[int, float], float]:
    """``gradient(t, w)`` of ``curvature / 2 * (w - target)**2`` plus noise that depends only
    on the step ``t`` (the same noise for every optimizer): a minibatch gradient in one
    dimension."""
    eps = np.random.default_rng(seed).normal(scale=noise, size=steps)

    def gradient(t: int, w: float) -> float:
        return curvature * (w - target) + float(eps[t % steps])

    return gradient


def default_optimizers(lr: float = 0.1) -> dict:
    """``{name: factory(params)}``: SGD, SGD with momentum 0.9, RMSprop and Adam at ``lr``."""
    from .. import optim

    return {"SGD": lambda p: optim.SGD(p, lr=lr),
            "momentum": lambda p: optim.SGD(p, lr=lr, momentum=0.9),
            "RMSprop": lambda p: optim.RMSprop(p, lr=lr),
            "Adam": lambda p: optim.Adam(p, lr=lr)}


def trace_optimizer(make: Callable, gradient: Callable[[int, float], float], w0: float = 0.0,
                    steps: int = 50) -> dict:
    """Run ``make([w])`` (an optimizer factory) for ``steps`` steps on one float64 parameter.

    Returns:
        ``{'w': values before each step and after the last (steps + 1), 'grad': the
        gradient of each step, 'step': w_after - w_before of each step, 'moments': {slot:
        its value after each step}}``.
    """
    from ..nn import Parameter
    from ..tensor import Tensor

    w = Parameter(np.array([w0], dtype=np.float64))
    opt = make([w])
    ws, grads, deltas, moments = [float(w.data[0])], [], [], {}
    for t in range(steps):
        before = float(w.data[0])
        g = float(gradient(t, before))
        w.grad = Tensor(np.array([g], dtype=np.float64))
        opt.step()
        after = float(w.data[0])
        grads.append(g)
        deltas.append(after - before)
        ws.append(after)
        for slot, a in opt.state_dict()["state"].get(0, {}).items():
            moments.setdefault(slot, []).append(float(np.asarray(a).reshape(-1)[0]))
    return {"w": ws, "grad": grads, "step": deltas, "moments": moments}


def explain_optimizers(gradient: Callable | None = None, optimizers: dict | None = None,
                       w0: float = 0.0, steps: int = 50, lr: float = 0.1,
                       path: str | os.PathLike | None = None):
    """Side by side, one column per optimizer: the parameter, the gradient, the moment
    estimates and the effective step, over ``steps`` steps.

    Args:
        gradient: ``gradient(t, w)``; default :func:`noisy_quadratic` (minimum at w = 2).
        optimizers: ``{name: factory(params)}``; default :func:`default_optimizers` at ``lr``.

    Returns:
        ``(figure, traces)``: ``traces[name]`` is :func:`trace_optimizer`'s dict. Rows of
        axes: 'w', 'gradient', 'moments', 'effective step'; the step row's line is exactly
        ``traces[name]['step']``. The moments are the optimizer's state arrays by their
        names: 'momentum' (SGD's velocity buffer, Adam's first moment m) and 'velocity' (the
        running mean square of the gradient, RMSprop's and Adam's v), drawn as sqrt.
    """
    gradient = gradient or noisy_quadratic(steps=max(steps, 1))
    optimizers = optimizers or default_optimizers(lr)
    traces = {name: trace_optimizer(make, gradient, w0, steps)
              for name, make in optimizers.items()}
    fig = figure(2.8 * len(traces), 7.0, layout=None)  # a fixed grid: faster to draw
    axes = fig.subplots(4, len(traces), squeeze=False, sharex=True)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.07, top=0.95, wspace=0.3,
                        hspace=0.15)
    t = np.arange(1, steps + 1)
    for j, (name, tr) in enumerate(traces.items()):
        axes[0, j].set_title(name)
        axes[0, j].plot(np.arange(steps + 1), tr["w"], color="k", label="w")
        axes[1, j].plot(t, tr["grad"], color="tab:gray", label="gradient")
        for slot, values in tr["moments"].items():
            v = np.asarray(values)
            if slot == "velocity":  # a running mean square of the gradient: show its root
                axes[2, j].plot(t, np.sqrt(v), label="sqrt(velocity)")
            else:
                axes[2, j].plot(t, v, label=slot)
        if tr["moments"]:
            axes[2, j].legend(fontsize=7, loc="best")
        else:
            axes[2, j].text(0.5, 0.5, "no state: the step is -lr * gradient",
                            ha="center", va="center", fontsize=8,
                            transform=axes[2, j].transAxes)
        axes[3, j].plot(t, tr["step"], color="tab:red", label="effective step")
        axes[3, j].set_xlabel("step")
        for i in range(4):
            axes[i, j].grid(alpha=0.3)
    for i, label in enumerate(("w", "gradient", "moments", "effective step")):
        axes[i, 0].set_ylabel(label)
    return finish(fig, path), traces


def explain_weight_decay(gradient: Callable | None = None, lr: float = 0.1,
                         weight_decay: float = 0.1, w0: float = 3.0, steps: int = 60,
                         path: str | os.PathLike | None = None):
    """Coupled L2 (``Adam(weight_decay=...)``: ``g += wd * w``, then Adam's normalisation,
    which scales the decay down where gradients are large) against decoupled weight decay
    (``AdamW``: ``w -= lr * wd * w`` beside the Adam step), and plain Adam for reference.

    By default the loss is flat (gradient 0, noise free), so every change of w comes from
    the decay itself: coupled L2 through Adam moves w by about ``lr`` per step whatever the
    size of w (Adam normalises the decay's gradient away), decoupled decay shrinks w by
    the factor ``1 - lr * wd`` per step.

    Returns:
        ``(figure, traces)`` with traces 'Adam', 'Adam + L2 (coupled)', 'AdamW (decoupled)';
        axes 'w' and 'effective step'.
    """
    from .. import optim

    gradient = gradient or (lambda t, w: 0.0)
    makers = {"Adam": lambda p: optim.Adam(p, lr=lr),
              "Adam + L2 (coupled)": lambda p: optim.Adam(p, lr=lr, weight_decay=weight_decay),
              "AdamW (decoupled)": lambda p: optim.AdamW(p, lr=lr, weight_decay=weight_decay)}
    traces = {name: trace_optimizer(make, gradient, w0, steps) for name, make in makers.items()}
    fig = figure(8.0, 3.2)
    ax_w, ax_s = fig.subplots(1, 2)
    for name, tr in traces.items():
        ax_w.plot(np.arange(steps + 1), tr["w"], label=name)
        ax_s.plot(np.arange(1, steps + 1), tr["step"], label=name)
    ax_w.set_title("w")
    ax_s.set_title("effective step")
    for ax in (ax_w, ax_s):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return finish(fig, path), traces
