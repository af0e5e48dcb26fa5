"""Adagrad (Duchi et al., 2011), as in Keras 3."""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer, check_number

xp = backend.xp


def adagrad_update(w, g, state: dict, *, lr: float, epsilon: float = 1e-7) -> None:
    """One Adagrad step on ``w`` and ``state['accumulator']``, in place. Keras's rule::

        acc = acc + g**2                  (acc starts at initial_accumulator_value)
        w = w - lr * g / sqrt(acc + epsilon)

    PyTorch's Adagrad divides by ``sqrt(acc) + eps`` (and decays its rate with
    ``lr_decay``): the two agree when epsilon and ``lr_decay`` are 0. ``g`` is read, never
    written.
    """
    tmp = xp.empty_like(state["accumulator"])  # in the parameter's dtype
    w -= adagrad_increment(g, state, state, tmp, lr=lr, epsilon=epsilon)


def adagrad_increment(g, state: dict, new: dict, tmp, *, lr: float, epsilon: float = 1e-7):
    """The Adagrad step as ``w -= increment``: writes the new accumulator into ``new`` (the
    same dict, or an array of the same shape), uses ``tmp`` (the parameter's shape and
    dtype) as scratch and returns it. ``w`` is not read, so the caller can check everything
    before the weights or ``state`` change."""
    acc_new = new["accumulator"]
    xp.multiply(g, g, out=tmp)
    xp.add(state["accumulator"], tmp, out=acc_new)
    xp.add(acc_new, epsilon, out=tmp)
    xp.sqrt(tmp, out=tmp)
    xp.divide(g, tmp, out=tmp)
    tmp *= lr
    return tmp


class Adagrad(Optimizer):
    """Per-coordinate rates that shrink with the accumulated squared gradients.

    See :func:`adagrad_update` for the rule.

    Args:
        params: parameters (or the learning rate, Keras style; see :class:`Optimizer`).
        lr: learning rate or schedule (default 0.001, Keras's). Alias ``learning_rate``.
        initial_accumulator_value: starting value of the accumulators (>= 0, default 0.1).
        epsilon: added under the square root (default 1e-7).
        weight_decay, clipnorm, clipvalue, global_clipnorm: see :class:`Optimizer`
            (``weight_decay`` is coupled: ``g += weight_decay * w``).

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([1.0], requires_grad=True)
    >>> opt = tidu.optim.Adagrad([w], lr=0.1)
    >>> (w * w / 2).sum().backward()
    >>> opt.step(); round(float(w.numpy()[0]), 6)   # 1 - 0.1 / sqrt(0.1 + 1 + 1e-7)
    0.904654
    """

    defaults = {"learning_rate": 0.001}
    hyper = ("initial_accumulator_value", "epsilon")

    def __init__(self, params=None, lr=None, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs):
        self.initial_accumulator_value = check_number(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.epsilon = check_number("Adagrad", "epsilon", epsilon)
        super().__init__(params, lr, **kwargs)

    def _slot_names(self) -> tuple:
        return ("accumulator",)

    def _slot_init(self, slot, w):
        return xp.full_like(w, self.initial_accumulator_value)

    def _update(self, w, g, state, lr, t):
        adagrad_update(w, g, state, lr=lr, epsilon=self.epsilon)

    def _increment(self, g, state, new, tmp, lr, t):
        return -1, adagrad_increment(g, state, new, tmp, lr=lr, epsilon=self.epsilon)
