"""``tidu.nn.functional``: PyTorch's functional namespace (``import tidu.nn.functional as F``).

The losses follow ``torch.nn.functional`` (``(input, target)``, classes on axis 1,
``reduction='mean'|'sum'|'none'``); the classification ones are written in
:mod:`tidu.losses.torch_style` beside the Keras-style losses of :mod:`tidu.losses`, the
regression ones here, and only this module exports them (the Keras
``tidu.losses.cosine_similarity`` is a different function). The activations are tidu's own
ops; ``softmax(input, dim)`` and every op take PyTorch's ``dim`` as well as ``axis``.

>>> import tidu
>>> import tidu.nn.functional as F
>>> round(float(F.cross_entropy(tidu.tensor([[0.0, 0.0]]), [1], label_smoothing=0.2)), 4)
0.6931
>>> F.softmax(tidu.tensor([[0.0, 0.0]]), dim=1).tolist()
[[0.5, 0.5]]
"""

from __future__ import annotations

from .. import ops
from ..losses.torch_style import (
    _check_reduction,
    _input,
    _reduce,
    _soft,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    cross_entropy,
    hinge_embedding_loss,
    nll_loss,
)
from ..ops import convolution as _convolution
from ..ops import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, softplus, tanh
from ..ops import normalization as _normalization
from ..ops import pooling as _pooling
from ..ops import resize as _resize
from ..ops.convolution import *  # noqa: F403
from ..ops.normalization import *  # noqa: F403
from ..ops.pooling import *  # noqa: F403
from ..ops.resize import *  # noqa: F403
from ..tensor import Tensor
from .layers.dropout import DropoutMask

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_similarity",
    "cross_entropy", "dropout", "gelu", "hinge_embedding_loss", "huber_loss", "l1_loss",
    "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softplus", "tanh",
]
__all__ += [n for m in (_convolution, _pooling, _resize, _normalization) for n in m.__all__]


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias``, with ``weight`` of shape (out_features, in_features) as
    ``torch.nn.functional.linear`` (tidu's Dense keeps the transpose, (in, out))."""
    out = ops.matmul(input, ops.transpose(weight))
    return out if bias is None else out + bias


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) when
    ``training`` (note: True by default, as in PyTorch); the identity otherwise. Masks come
    from tidu's global generator (``tidu.manual_seed``)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if inplace:
        raise ValueError("dropout: inplace=True is not supported; tidu returns a new tensor")
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return x * DropoutMask.apply(x, float(p), None)


def _pair(input, target, name: str, reduction: str):
    _check_reduction(reduction, name)
    x = _input(input, name)
    return x, _soft(target, x, name)


def mse_loss(input, target, *, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)**2``, reduced ('mean', 'sum' or 'none')."""
    x, y = _pair(input, target, "mse_loss", reduction)
    d = x - y
    return _reduce(d * d, reduction)


def l1_loss(input, target, *, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``, reduced; the gradient at 0 is 0, as in PyTorch."""
    x, y = _pair(input, target, "l1_loss", reduction)
    return _reduce(ops.abs(x - y), reduction)


def _check_positive(value, arg: str, name: str, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
            value == 0 and not allow_zero):
        raise ValueError(f"{name}: {arg} must be a {'non-negative' if allow_zero else 'positive'}"
                         f" number, got {value!r}")
    return float(value)


def huber_loss(input, target, *, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: ``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``,
    with ``d = input - target``."""
    delta = _check_positive(delta, "delta", "huber_loss", allow_zero=False)
    x, y = _pair(input, target, "huber_loss", reduction)
    a = ops.abs(x - y)
    loss = ops.where(a.data < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, *, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: ``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``
    (``beta=0`` is the L1 loss). Huber with ``delta = beta``, divided by ``beta``."""
    beta = _check_positive(beta, "beta", "smooth_l1_loss", allow_zero=True)
    x, y = _pair(input, target, "smooth_l1_loss", reduction)
    a = ops.abs(x - y)
    if beta == 0.0:
        return _reduce(a, reduction)
    loss = ops.where(a.data < beta, (0.5 / beta) * a * a, a - 0.5 * beta)
    return _reduce(loss, reduction)
