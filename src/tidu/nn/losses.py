"""PyTorch's loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(input, target)``.

Each is a :class:`~tidu.nn.Module` holding the constructor arguments of its ``torch.nn``
namesake and calling the function of :mod:`tidu.nn.functional` with them; the argument order
is PyTorch's ``(input, target)`` (Keras's losses in :mod:`tidu.losses` take ``(y_true,
y_pred)``).

>>> import tidu
>>> criterion = tidu.nn.CrossEntropyLoss()
>>> round(float(criterion(tidu.tensor([[0.0, 0.0]]), [1])), 4)
0.6931
"""

from __future__ import annotations

from . import functional as F
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss",
           "MSELoss", "NLLLoss", "SmoothL1Loss"]


class _Loss(Module):
    """Base of the loss modules: keeps ``reduction`` and calls ``self.function``."""

    function = None

    def __init__(self, reduction: str = "mean", name: str | None = None):
        super().__init__(name=name)
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def _options(self) -> dict:
        return {"reduction": self.reduction}

    def forward(self, input, target):
        return type(self).function(input, target, **self._options())

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._options().items()
                         if v is not None and k != "weight")


class MSELoss(_Loss):
    """Mean squared error, ``F.mse_loss``."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error, ``F.l1_loss``."""

    function = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """``F.smooth_l1_loss`` with threshold ``beta``."""

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, reduction: str = "mean", beta: float = 1.0, name: str | None = None):
        super().__init__(reduction, name=name)
        self.beta = beta

    def _options(self) -> dict:
        return {"reduction": self.reduction, "beta": self.beta}


class HuberLoss(_Loss):
    """``F.huber_loss`` with threshold ``delta``."""

    function = staticmethod(F.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0, name: str | None = None):
        super().__init__(reduction, name=name)
        self.delta = delta

    def _options(self) -> dict:
        return {"reduction": self.reduction, "delta": self.delta}


class _Weighted(_Loss):
    def __init__(self, weight=None, reduction: str = "mean", name: str | None = None):
        super().__init__(reduction, name=name)
        self.weight = weight

    def _options(self) -> dict:
        return {"weight": self.weight, "reduction": self.reduction}


class BCELoss(_Weighted):
    """Binary cross-entropy of probabilities, ``F.binary_cross_entropy``."""

    function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Weighted):
    """Binary cross-entropy of logits (stable), ``F.binary_cross_entropy_with_logits``."""

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None,
                 name: str | None = None):
        super().__init__(weight, reduction, name=name)
        self.pos_weight = pos_weight

    def _options(self) -> dict:
        return {**super()._options(), "pos_weight": self.pos_weight}


class NLLLoss(_Weighted):
    """Negative log-likelihood of log-probabilities, ``F.nll_loss``."""

    function = staticmethod(F.nll_loss)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 name: str | None = None):
        super().__init__(weight, reduction, name=name)
        self.ignore_index = ignore_index

    def _options(self) -> dict:
        return {**super()._options(), "ignore_index": self.ignore_index}


class CrossEntropyLoss(NLLLoss):
    """Cross-entropy of logits (log_softmax + NLL), ``F.cross_entropy``; targets are class
    indices or class probabilities."""

    function = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0, name: str | None = None):
        super().__init__(weight, ignore_index, reduction, name=name)
        self.label_smoothing = label_smoothing

    def _options(self) -> dict:
        return {**super()._options(), "label_smoothing": self.label_smoothing}
