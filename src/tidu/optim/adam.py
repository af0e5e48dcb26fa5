"""Adam (Kingma and Ba, 2014) and AdamW (Loshchilov and Hutter, 2019), as in Keras 3."""

from __future__ import annotations

import math

from .. import accel, backend
from .optimizer import Optimizer, check_number

xp = backend.xp


def adam_update(w, g, state: dict, *, lr: float, t: int, beta_1: float = 0.9,
                beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False) -> None:
    """One Adam step number ``t`` (1, 2, ...) on ``w`` and ``state`` (``momentum``,
    ``velocity``, ``velocity_hat``), in place. Keras's rule, state starting at 0::

        m = m + (1 - beta_1) * (g - m)
        v = v + (1 - beta_2) * (g**2 - v)
        amsgrad:  v_hat = max(v_hat, v);  use v_hat for v below
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - alpha * m / (sqrt(v) + epsilon)

    The bias corrections are folded into the step size, so ``epsilon`` is the paper's
    "epsilon hat". PyTorch's Adam divides by ``sqrt(v / (1 - beta_2**t)) + eps``: the two
    agree exactly when epsilon is 0, and closely whenever epsilon is tiny next to
    ``sqrt(v)``. ``g`` is read, never written.
    """
    tmp = xp.empty_like(state["momentum"])  # in the parameter's dtype
    w -= adam_increment(g, state, state, tmp, lr=lr, t=t, beta_1=beta_1, beta_2=beta_2,
                        epsilon=epsilon, amsgrad=amsgrad)


def adam_increment(g, state: dict, new: dict, tmp, *, lr: float, t: int, beta_1: float = 0.9,
                   beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False):
    """The Adam step as ``w -= increment``: writes the new ``state`` into ``new`` (the same
    dict, or arrays of the same shapes), uses ``tmp`` (the parameter's shape and dtype) as
    scratch and returns it. ``w`` is not read, so the caller can check everything before
    the weights or ``state`` change."""
    m, v = state["momentum"], state["velocity"]
    m_new, v_new = new["momentum"], new["velocity"]
    xp.subtract(g, m, out=tmp)
    tmp *= 1.0 - beta_1
    xp.add(m, tmp, out=m_new)
    xp.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= 1.0 - beta_2
    xp.add(v, tmp, out=v_new)
    if amsgrad:
        v_hat = new["velocity_hat"]
        xp.maximum(state["velocity_hat"], v_new, out=v_hat)
        v_new = v_hat
    alpha = lr * math.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
    xp.sqrt(v_new, out=tmp)
    tmp += epsilon
    xp.divide(m_new, tmp, out=tmp)
    tmp *= alpha
    return tmp


class Adam(Optimizer):
    """Adaptive moment estimation: see :func:`adam_update` for the rule.

    Args:
        params: parameters (or the learning rate, Keras style; see :class:`Optimizer`).
        lr: learning rate or schedule (default 0.001, Keras's). Alias ``learning_rate``.
        beta_1: decay of the first-moment average (default 0.9).
        beta_2: decay of the second-moment average (default 0.999).
        epsilon: "epsilon hat" added to ``sqrt(v)`` (default 1e-7).
        amsgrad: use the running maximum of ``v`` (Reddi et al., 2018).
        weight_decay, clipnorm, clipvalue, global_clipnorm: see :class:`Optimizer`
            (in Adam ``weight_decay`` is coupled, ``g += weight_decay * w``, as in PyTorch's
            Adam; use :class:`AdamW` for decoupled decay).

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([10.0], requires_grad=True)
    >>> opt = tidu.optim.Adam([w], lr=0.1)
    >>> (w * w / 2).sum().backward()
    >>> opt.step(); round(float(w.numpy()[0]), 5)   # the first step is lr * sign(g)
    9.9
    """

    defaults = {"learning_rate": 0.001}
    hyper = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, params=None, lr=None, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        name = type(self).__name__
        self.beta_1 = check_number(name, "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = check_number(name, "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number(name, "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        super().__init__(params, lr, **kwargs)

    def _slot_names(self) -> tuple:
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else \
            ("momentum", "velocity")

    def _update(self, w, g, state, lr, t):
        adam_update(w, g, state, lr=lr, t=t, beta_1=self.beta_1, beta_2=self.beta_2,
                    epsilon=self.epsilon, amsgrad=self.amsgrad)

    def _increment(self, g, state, new, tmp, lr, t):
        return -1, adam_increment(g, state, new, tmp, lr=lr, t=t, beta_1=self.beta_1,
                                  beta_2=self.beta_2, epsilon=self.epsilon,
                                  amsgrad=self.amsgrad)

    def _fused(self, k, g, w, state, new, out, lr, t, dec):
        if self.amsgrad:
            return None
        alpha = lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        return k.adam(g, w, state["momentum"], state["velocity"], new["momentum"],
                      new["velocity"], out,
                      *accel.scalars(w.dtype, alpha, 1.0 - self.beta_1, 1.0 - self.beta_2,
                                     self.epsilon, dec))


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's and PyTorch's AdamW).

    Before each Adam step (see :func:`adam_update`) every parameter shrinks:
    ``w = w - lr * weight_decay * w``. Unlike the coupled L2 penalty of the other
    optimizers, the decay does not pass through Adam's normalization.

    Args:
        weight_decay: decay coefficient (default 0.004, Keras's; PyTorch uses 0.01).
        Other arguments as :class:`Adam`.
    """

    decoupled_weight_decay = True

    def __init__(self, params=None, lr=None, weight_decay: float = 0.004, **kwargs):
        super().__init__(params, lr, weight_decay=weight_decay, **kwargs)
