"""Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras."""

from __future__ import annotations

from .. import accel, backend
from .optimizer import Optimizer, check_number

xp = backend.xp


def sgd_update(w, g, state: dict, *, lr: float, momentum: float = 0.0,
               nesterov: bool = False) -> None:
    """One SGD step on the array ``w`` (and ``state['momentum']``), in place.

    Keras's rule, with velocity ``v`` (starting at 0)::

        momentum == 0:  w = w - lr * g
        otherwise:      v = momentum * v - lr * g
                        w = w + v                         (classic)
                        w = w + momentum * v - lr * g     (nesterov)

    With a constant ``lr`` this is PyTorch's SGD (``buf = momentum * buf + g``,
    ``w -= lr * buf``) with ``v = -lr * buf``; with a changing ``lr`` the two differ (Keras
    scales the gradient by the rate when it enters the velocity, PyTorch when it leaves).
    ``g`` is read, never written.
    """
    sign, inc = sgd_increment(g, state, state, None, lr=lr, momentum=momentum,
                              nesterov=nesterov)
    if sign > 0:
        w += inc
    else:
        w -= inc


def sgd_increment(g, state: dict, new: dict, tmp, *, lr: float, momentum: float = 0.0,
                  nesterov: bool = False):
    """The SGD step as ``(sign, increment)``, ``w += sign * increment``: writes the new
    ``state`` into ``new`` (the same dict, or arrays of the same shapes) and may use ``tmp``
    (the parameter's shape and dtype, or None) as scratch. ``w`` is not read, so the caller
    can check everything before the weights or ``state`` change."""
    if tmp is not None and tmp.dtype == g.dtype:
        step = xp.multiply(g, lr, out=tmp)
    else:
        step = g * lr
    if momentum == 0.0:
        return -1, step
    v_new = new["momentum"]
    xp.multiply(state["momentum"], momentum, out=v_new)
    v_new -= step
    if nesterov:
        return 1, momentum * v_new - step
    return 1, v_new


class SGD(Optimizer):
    """Gradient descent with optional momentum: see :func:`sgd_update` for the rule.

    Args:
        params: parameters (or the learning rate, Keras style; see :class:`Optimizer`).
        lr: learning rate or schedule (default 0.01, Keras's). Alias ``learning_rate``.
        momentum: in [0, 1]; 0 is plain gradient descent.
        nesterov: use Nesterov momentum (needs ``momentum > 0``).
        weight_decay, clipnorm, clipvalue, global_clipnorm: see :class:`Optimizer`
            (``weight_decay`` is coupled: ``g += weight_decay * w``).

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([1.0], requires_grad=True)
    >>> opt = tidu.optim.SGD([w], lr=0.1)
    >>> (w * w / 2).sum().backward()   # gradient w = 1
    >>> opt.step(); w.numpy().tolist()
    [0.8999999761581421]
    """

    defaults = {"learning_rate": 0.01}
    hyper = ("momentum", "nesterov")

    def __init__(self, params=None, lr=None, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs):
        self.momentum = check_number("SGD", "momentum", momentum, 0.0, 1.0)
        if nesterov and self.momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr, **kwargs)

    def _slot_names(self) -> tuple:
        return ("momentum",) if self.momentum else ()

    def _update(self, w, g, state, lr, t):
        sgd_update(w, g, state, lr=lr, momentum=self.momentum, nesterov=self.nesterov)

    def _increment(self, g, state, new, tmp, lr, t):
        return sgd_increment(g, state, new, tmp, lr=lr, momentum=self.momentum,
                             nesterov=self.nesterov)

    def _fused(self, k, g, w, state, new, out, lr, t, dec):
        if self.momentum == 0.0:
            return k.sgd(g, w, out, *accel.scalars(w.dtype, lr, dec))
        kernel = k.sgd_nesterov if self.nesterov else k.sgd_momentum
        return kernel(g, w, state["momentum"], new["momentum"], out,
                      *accel.scalars(w.dtype, lr, self.momentum, dec))
