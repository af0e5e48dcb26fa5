"""Weight penalties added to the loss: L1, L2 and both (Keras's classes and formulas).

A regularizer is called on a weight and returns a differentiable scalar Tensor; a layer
given ``kernel_regularizer=L2(0.01)`` contributes that penalty to
``Module.regularization_loss()``, which the training loop adds to the data loss, so the
objective is cost + regularization (Text C).

L2 is weight decay: the gradient of ``l2 * sum(w^2)`` is ``2 * l2 * w``, so one gradient
descent step with learning rate lr is ``w := w * (1 - 2 * lr * l2) - lr * dLoss/dw``.
(Keras's penalty has no 1/2 factor; PyTorch's ``weight_decay=wd`` corresponds to
``l2 = wd / 2``.)

>>> import tidu
>>> w = tidu.nn.Parameter([1.0, -2.0])
>>> round(float(tidu.nn.regularizers.L1L2(l1=0.1, l2=0.01)(w)), 6)  # 0.1*3 + 0.01*5
0.35
"""

from __future__ import annotations

from .. import ops, registry
from ..tensor import Tensor


def _coefficient(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, got {value!r}") from None
    if not value >= 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


class Regularizer:
    """Base class: subclasses define ``__call__(weight) -> scalar Tensor``."""

    def __call__(self, x) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """penalty = l1 * sum(|w|) + l2 * sum(w^2).

    Args:
        l1: L1 coefficient (>= 0); pushes weights to exactly zero (sparse weights).
        l2: L2 coefficient (>= 0); shrinks all weights (weight decay).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _coefficient(l1, "l1")
        self.l2 = _coefficient(l2, "l2")

    def __call__(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        total = None
        if self.l1:
            total = self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            term = self.l2 * ops.sum(x * x)
            total = term if total is None else total + term
        if total is None:
            return Tensor(x.data.dtype.type(0))
        return total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """penalty = l1 * sum(|w|) (Keras's default l1 = 0.01)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """penalty = l2 * sum(w^2) (Keras's default l2 = 0.01): weight decay."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_BY_CLASS = {"L1": L1, "L2": L2, "L1L2": L1L2}


def l1(l1: float = 0.01) -> L1:
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras's shortcut: both coefficients default to 0.01 here."""
    return L1L2(l1, l2)


def get(identifier):
    """A regularizer from a name ('l1', 'l2', 'l1_l2'), a config dict, an instance, a
    callable ``(weight) -> scalar Tensor``, or None (returns None).

    A name gives Keras's default coefficients (0.01).
    """
    return registry.resolve("regularizer", identifier)


registry.define_kind(
    "regularizer", where="regularizers.get", base=Regularizer, classes=_BY_CLASS,
    aliases={**_BY_NAME, "l1_l2": l1_l2, "l1l2": l1_l2}, wrap=lambda fn: fn, none=None,
    make=lambda found, name, alias: found() if alias or isinstance(found, type) else found,
    expected="'l1', 'l2', 'l1_l2', a Regularizer or a callable")
