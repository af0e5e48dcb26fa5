"""Softmax cross-entropy as one node: the loss of logits against target probabilities.

The cross-entropy losses (Keras's categorical and sparse categorical from logits, PyTorch's
``cross_entropy``) would otherwise record log_softmax, mul, sum, neg and a mean: five
nodes and five passes for what is one stable log-sum-exp forward and one line of backward.
"""

from __future__ import annotations

import math

from .. import accel, backend
from ..autograd import Function
from ..backend import xp
from .activation import log_softmax
from .elementwise import exp
from .reduce import sum as sum_
from .shape import expand_dims

__all__ = ["softmax_cross_entropy"]

REDUCTIONS = ("none", "sum", "mean")


class SoftmaxCrossEntropy(Function):
    """-sum(t * log_softmax(x)) along ``axis``, then reduced ('none', 'sum' or 'mean').

    Backward: (softmax(x) * sum(t) - t) * g, which is softmax - t for targets summing to 1;
    a target that wants a gradient gets -log_softmax(x) * g.
    """

    def forward(self, x, t, axis=-1, reduction="none"):
        # reduced: one sum over everything (no per-row losses), divided by the row count;
        # compiled between NumPy's exp and log where it applies (tidu.accel, the same bits)
        fused = None if reduction == "none" else accel.log_softmax_dot(x, t, axis)
        if fused is None:
            z = accel.shift_by_max(x, axis)
            logp = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
            prod = logp * t
            if reduction == "none":
                total = None
            else:
                total, shape = -prod.sum(), prod.shape
        else:
            logp, dot = fused
            total, shape = -logp.dtype.type(dot), logp.shape
        self.logp, self.t, self.axis, self.reduction = logp, t, axis, reduction
        if total is None:
            return -prod.sum(axis=axis)
        if reduction == "sum":
            self.n = 1
        else:
            classes = shape[axis]
            ax = axis % len(shape)
            self.n = math.prod(shape) // classes if classes else \
                math.prod(shape[:ax] + shape[ax + 1:])
        return total / self.n if self.n != 1 else total

    def backward(self, g):
        logp, t, axis = self.logp, self.t, self.axis
        g = xp.expand_dims(g, axis) if self.reduction == "none" else \
            (g / self.n if self.n != 1 else g)
        gx = gt = None
        if self.needs_grad[0]:
            gx = xp.exp(logp)  # fresh: the rest in place, the same bits as out of place
            if not accel.softmax_xent_grad(gx, t, g, axis):
                gx *= t.sum(axis=axis, keepdims=True)
                gx -= t
                gx *= g
        if len(self.needs_grad) > 1 and self.needs_grad[1]:
            gt = -logp * g
        return gx, gt

    @staticmethod
    def vjp(g, x, t, axis=-1, reduction="none"):
        if reduction == "none":
            g = expand_dims(g, axis)
        elif reduction == "mean":
            g = g / (x.size // x.shape[axis])
        logp = log_softmax(x, axis)
        return (exp(logp) * sum_(t, axis, keepdims=True) - t) * g, -logp * g


def softmax_cross_entropy(x, t, axis: int = -1, reduction: str = "none"):
    """Cross-entropy of logits ``x`` against target probabilities ``t`` (``x``'s shape).

    Args:
        x: logits (finite loss and gradient for any magnitude).
        t: target probabilities (or one-hot rows), ``x``'s shape; a constant unless a
            Tensor that requires grad.
        axis: the class axis.
        reduction: 'none' (one loss per row), 'sum' or 'mean'.

    >>> import tidu
    >>> x = tidu.tensor([[1e4, 0.0], [0.0, 0.0]])
    >>> tidu.ops.softmax_cross_entropy(x, [[0.0, 1.0], [1.0, 0.0]]).tolist()
    [10000.0, 0.6931471824645996]
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"softmax_cross_entropy: reduction must be one of {REDUCTIONS}, "
                         f"got {reduction!r}")
    if not hasattr(t, "shape"):  # a list or a number, not a Tensor or array
        like = getattr(x, "data", x)
        t = backend.asarray_like(t, like, getattr(like, "dtype", None))
    return SoftmaxCrossEntropy.apply(x, t, axis=axis, reduction=reduction)
