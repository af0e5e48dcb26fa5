"""Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras."""

from __future__ import annotations

from .optimizer import Optimizer, check_number


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
    step = g * lr
    if momentum == 0.0:
        w -= step
        return
    v = state["momentum"]
    v *= momentum
    v -= step
    if nesterov:
        step = momentum * v - step
        w += step
    else:
        w += v


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
