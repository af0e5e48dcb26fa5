"""RMSprop (Hinton, 2012), as in Keras 3: the optimizer of Text B's MNIST example."""

from __future__ import annotations

from .. import accel, backend
from .optimizer import Optimizer, check_number

xp = backend.xp


def rmsprop_update(w, g, state: dict, *, lr: float, rho: float = 0.9, momentum: float = 0.0,
                   epsilon: float = 1e-7, centered: bool = False) -> None:
    """One RMSprop step on ``w`` and ``state`` (``velocity``, ``momentum``,
    ``average_gradient``), in place. Keras's rule, all state starting at 0::

        v = rho * v + (1 - rho) * g**2
        centered:  a = rho * a + (1 - rho) * g;   d = v - a**2 + epsilon
        otherwise: d = v + epsilon
        increment = lr * g / sqrt(d)
        momentum > 0:  m = momentum * m + increment;  w = w - m
        otherwise:     w = w - increment

    Keras puts epsilon INSIDE the square root; PyTorch's RMSprop divides by
    ``sqrt(v) + eps`` instead (``alpha`` there is ``rho`` here). The two agree when epsilon
    is 0. ``g`` is read, never written.
    """
    tmp = xp.empty_like(state["velocity"])  # computed in the parameter's dtype
    w -= rmsprop_increment(g, state, state, tmp, lr=lr, rho=rho, momentum=momentum,
                           epsilon=epsilon, centered=centered)


def rmsprop_increment(g, state: dict, new: dict, tmp, *, lr: float, rho: float = 0.9,
                      momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False):
    """The RMSprop step as ``w -= increment``: writes the new ``state`` into ``new`` (the
    same dict, or arrays of the same shapes), uses ``tmp`` (the velocity's shape and dtype)
    as scratch, returns the increment (``tmp`` or ``new['momentum']``). ``w`` is not read, so
    the caller can check everything before the weights or ``state`` change."""
    v, v_new = state["velocity"], new["velocity"]
    xp.multiply(g, g, out=tmp)
    tmp *= 1.0 - rho
    xp.multiply(v, rho, out=v_new)
    v_new += tmp
    if centered:
        a_new = new["average_gradient"]
        xp.multiply(state["average_gradient"], rho, out=a_new)
        xp.multiply(g, 1.0 - rho, out=tmp)
        a_new += tmp
        xp.multiply(a_new, a_new, out=tmp)
        xp.subtract(v_new, tmp, out=tmp)
        tmp += epsilon
    else:
        xp.add(v_new, epsilon, out=tmp)
    xp.sqrt(tmp, out=tmp)
    xp.divide(g, tmp, out=tmp)
    tmp *= lr
    if momentum > 0.0:
        m_new = new["momentum"]
        xp.multiply(state["momentum"], momentum, out=m_new)
        m_new += tmp
        return m_new
    return tmp


class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square: see :func:`rmsprop_update`.

    Args:
        params: parameters (or the learning rate, Keras style; see :class:`Optimizer`).
        lr: learning rate or schedule (default 0.001, Keras's). Alias ``learning_rate``.
        rho: decay of the running average of squared gradients (default 0.9).
        momentum: momentum on the increments (default 0).
        epsilon: added under the square root (default 1e-7).
        centered: normalize by the estimated variance instead of the second moment.
        weight_decay, clipnorm, clipvalue, global_clipnorm: see :class:`Optimizer`
            (``weight_decay`` is coupled: ``g += weight_decay * w``).

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([10.0], requires_grad=True)
    >>> opt = tidu.optim.RMSprop([w], lr=0.1)
    >>> (w * w / 2).sum().backward()
    >>> opt.step(); round(float(w.numpy()[0]), 6)   # Keras's documented value
    9.683772
    """

    defaults = {"learning_rate": 0.001}
    hyper = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, params=None, lr=None, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs):
        self.rho = check_number("RMSprop", "rho", rho, 0.0, 1.0, high_open=True)
        self.momentum = check_number("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = check_number("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)
        super().__init__(params, lr, **kwargs)

    def _slot_names(self) -> tuple:
        names = ("velocity",)
        if self.momentum > 0:
            names += ("momentum",)
        if self.centered:
            names += ("average_gradient",)
        return names

    def _update(self, w, g, state, lr, t):
        rmsprop_update(w, g, state, lr=lr, rho=self.rho, momentum=self.momentum,
                       epsilon=self.epsilon, centered=self.centered)

    def _increment(self, g, state, new, tmp, lr, t):
        return -1, rmsprop_increment(g, state, new, tmp, lr=lr, rho=self.rho,
                                     momentum=self.momentum, epsilon=self.epsilon,
                                     centered=self.centered)

    def _fused(self, k, g, w, state, new, out, lr, t, dec):
        if self.momentum > 0.0 or self.centered:
            return None
        return k.rmsprop(g, w, state["velocity"], new["velocity"], out,
                         *accel.scalars(w.dtype, lr, self.rho, 1.0 - self.rho, self.epsilon,
                                        dec))
