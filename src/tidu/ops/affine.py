"""x @ w + b, optionally through relu, as one node: the fully connected layer's forward.

Dense would otherwise record matmul, add and relu: three nodes, three output arrays and
three backward steps for a product that dominates nothing at small sizes, where the
per-node cost is the step's cost.
"""

from __future__ import annotations

from .. import accel
from ..autograd import Function
from ..backend import xp
from ..errors import ShapeError
from .linalg import MatMul, matmul

__all__ = ["affine"]


class Affine(Function):
    """``x @ w (+ b)``, then ``max(., 0)`` with ``relu=True``; ``w`` is (in, out), ``b`` (out,).

    ``x`` has one or more axes, the last of length ``in``. Backward: with ``d = g * (y > 0)``
    (or ``g``), ``x`` gets ``d @ w.T``, ``w`` gets ``x.T @ d`` over all leading axes and
    ``b`` gets ``d`` summed over them.
    """

    def forward(self, x, w, b=None, relu=False):
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[0]:
            raise ShapeError(f"affine: x of shape {x.shape} and w of shape {w.shape} do not fit "
                             "(w must be (in, out) with in = x's last axis)")
        y = x @ w  # the product's own fresh array: the rest in place
        if b is None or b.dtype != y.dtype or not accel.bias_relu(y, b, relu):
            if b is not None:
                if b.dtype == y.dtype:
                    y += b
                else:
                    y = y + b  # promote as the separate add would
            if relu:
                xp.maximum(y, 0, out=y)
        if relu:
            self.y = y  # backward's mask is y > 0
        self.x, self.w, self.relu = x, w, relu
        return y

    def backward(self, g):
        x, w = self.x, self.w
        need = self.needs_grad
        gb = None
        if self.relu:
            both = accel.relu_backward_bias(g, self.y) if len(need) > 2 and need[2] else None
            if both is None:
                g = accel.relu_backward(g, self.y)
            else:
                g, gb = both  # the mask and the bias gradient in one pass
        gx = g @ w.T if need[0] else None
        gw = None
        if len(need) > 1 and need[1]:
            if x.ndim == 2:
                gw = x.T @ g
            else:
                gw = x.reshape(-1, w.shape[0]).T @ g.reshape(-1, w.shape[1])
        if gb is None and len(need) > 2 and need[2]:
            gb = accel.column_sums(g)
            if gb is None:
                gb = g.sum(axis=0) if g.ndim == 2 else g.reshape(-1, w.shape[1]).sum(axis=0)
        return gx, gw, gb

    @staticmethod
    def vjp(g, x, w, b=None, relu=False):
        if relu:
            y = matmul(x, w)
            g = g * ((y if b is None else y + b) > 0)
        gx, gw = MatMul.vjp(g, x, w)
        return gx, gw, (None if b is None else g)  # the engine sums g to b's shape


def affine(x, w, b=None, relu: bool = False):
    """``x @ w + b`` (``b`` optional), through relu when ``relu=True``, as one node.

    >>> import tidu
    >>> x, w = tidu.tensor([[1.0, -2.0]]), tidu.tensor([[1.0], [1.0]])
    >>> tidu.ops.affine(x, w, tidu.tensor([0.5]), relu=True).tolist()
    [[0.0]]
    """
    return Affine.apply(x, w, b, relu=relu) if b is not None else \
        Affine.apply(x, w, relu=relu)
