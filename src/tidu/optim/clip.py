"""Gradient clipping: standalone (PyTorch style) and the array helpers optimizers use.

Clipping never writes into a gradient array (the engine may share one array between several
tensors): the standalone functions replace ``p.grad`` with a new Tensor, and the optimizers'
``clipnorm`` / ``clipvalue`` / ``global_clipnorm`` options clip private copies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .. import backend
from ..tensor import Tensor

xp = backend.xp


def _params_list(parameters, who: str) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameters must be tidu Tensors, got "
                            f"{type(p).__name__} at position {i}")
    return params


def _positive(who: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a positive finite number, got {value!r}")
    return float(value)


def _norm(g, norm_type: float) -> float:
    if norm_type == math.inf:
        return float(xp.max(xp.abs(g))) if g.size else 0.0
    if norm_type == 2.0:
        flat = g.reshape(-1)
        return math.sqrt(float(xp.dot(flat, flat)))
    return float(xp.sum(xp.abs(g) ** norm_type)) ** (1.0 / norm_type)


def total_norm(grads: Iterable, norm_type: float = 2.0) -> float:
    """The ``norm_type``-norm of all ``grads`` taken together (as one long vector)."""
    norms = [_norm(g, norm_type) for g in grads]
    if not norms:
        return 0.0
    if norm_type == math.inf:
        return max(norms)
    return sum(n ** norm_type for n in norms) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Rescale the gradients of ``parameters`` so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the norm is taken over all gradients together and,
    when it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (total_norm + 1e-6)``. Parameters whose ``.grad`` is None are skipped.
    Each clipped ``p.grad`` is replaced by a new Tensor (the old array is left untouched).

    Args:
        parameters: a Tensor or an iterable of Tensors.
        max_norm: largest allowed norm (> 0).
        norm_type: order of the norm (2.0, 1.0, ``math.inf``, ...).
        error_if_nonfinite: raise when the norm is NaN or infinite (otherwise such gradients
            are left unchanged).

    Returns:
        The norm of the gradients before clipping, as a Python float.

    Raises:
        FloatingPointError: non-finite norm with ``error_if_nonfinite=True``.

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = tidu.tensor([3.0, 4.0])
    >>> tidu.optim.clip_grad_norm_([w], max_norm=1.0)
    5.0
    >>> w.grad.numpy().astype(float).round(4).tolist()
    [0.6, 0.8]
    """
    who = "clip_grad_norm_"
    params = [p for p in _params_list(parameters, who) if p.grad is not None]
    max_norm = _positive(who, "max_norm", max_norm)
    norm_type = _positive(who, "norm_type", norm_type) if norm_type != math.inf else math.inf
    total = total_norm([p.grad.data for p in params], norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise FloatingPointError(
                f"{who}: the total norm of the gradients is {total}; check the loss and "
                "the inputs for NaN/inf, or pass error_if_nonfinite=False")
        return total
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad = Tensor(p.grad.data * coef)
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element of ``parameters`` into ``[-clip_value, clip_value]``.

    As ``torch.nn.utils.clip_grad_value_``; each ``p.grad`` is replaced by a new Tensor.

    >>> import tidu, tidu.optim
    >>> w = tidu.tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = tidu.tensor([-3.0, 0.5])
    >>> tidu.optim.clip_grad_value_([w], 1.0)
    >>> w.grad.numpy().tolist()
    [-1.0, 0.5]
    """
    who = "clip_grad_value_"
    clip_value = _positive(who, "clip_value", clip_value)
    for p in _params_list(parameters, who):
        if p.grad is not None:
            p.grad = Tensor(xp.clip(p.grad.data, -clip_value, clip_value))


# ----- array helpers for the optimizers' options (Keras semantics) -----
def clip_by_norm(g, clipnorm: float):
    """Keras's per-tensor clipping: ``g * clipnorm / max(||g||, clipnorm)`` (a new array)."""
    norm = _norm(g, 2.0)
    if norm <= clipnorm or not math.isfinite(norm):
        return g
    return g * (clipnorm / norm)


def clip_by_global_norm(grads: list, clipnorm: float) -> list:
    """Keras's global clipping: scale all arrays by ``clipnorm / max(norm, clipnorm)``."""
    norm = total_norm(grads)
    if norm <= clipnorm or not math.isfinite(norm):
        return grads
    scale = clipnorm / norm
    return [g * scale for g in grads]


def clip_by_value(grads: list, clipvalue: float) -> list:
    """Element-wise clipping of every array into ``[-clipvalue, clipvalue]`` (new arrays)."""
    return [xp.clip(g, -clipvalue, clipvalue) for g in grads]
