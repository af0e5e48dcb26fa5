"""Matrix products: matmul (1-D, 2-D and batched, NumPy semantics) and dot."""

from __future__ import annotations

from .._shapes import sum_to
from ..autograd import Function
from ..backend import xp
from ..errors import ShapeError
from ._vjp import is_tensor
from .shape import expand_dims, permute, reshape_like, sum_to_like


class MatMul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: needs tensors with at least 1 dimension, got shapes "
                             f"{a.shape} and {b.shape}; use * for scalars")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ShapeError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last axis of the "
                f"first ({k_a}) must equal the "
                f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the second ({k_b})"
            )
        self.a, self.b = a, b
        try:
            return xp.matmul(a, b)
        except ValueError:
            raise ShapeError(
                f"matmul: the batch axes of shapes {a.shape} and {b.shape} do not broadcast: "
                f"{a.shape[:-2]} vs {b.shape[:-2]}"
            ) from None

    def backward(self, g):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:
            return (g @ b.T if self.needs_grad[0] else None,
                    a.T @ g if self.needs_grad[1] else None)
        if a.ndim == 1 and b.ndim == 1:  # inner product: g is a scalar
            return (g * b if self.needs_grad[0] else None,
                    g * a if self.needs_grad[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if self.needs_grad[0]:
            ga = sum_to(g2 @ xp.swapaxes(b2, -1, -2), a2.shape, "matmul").reshape(a.shape)
        if self.needs_grad[1]:
            gb = sum_to(xp.swapaxes(a2, -1, -2) @ g2, b2.shape, "matmul").reshape(b.shape)
        return ga, gb

    @staticmethod
    def vjp(g, a, b):
        if a.ndim == 1 and b.ndim == 1:  # inner product: g is a scalar
            return (g * b if is_tensor(a) else None), (g * a if is_tensor(b) else None)
        if a.ndim >= 2 and b.ndim >= 2:  # batch axes broadcast: the engine sums them back
            return (matmul(g, _mT(b)) if is_tensor(a) else None,
                    matmul(_mT(a), g) if is_tensor(b) else None)
        if a.ndim == 2 and b.ndim == 1:  # matrix times vector, as in X @ w
            return (expand_dims(g, 1) * b if is_tensor(a) else None,
                    matmul(_mT(a), g) if is_tensor(b) else None)
        # a 1-D operand is a matrix with one row (a) or one column (b), removed from g
        a2 = expand_dims(a, 0) if a.ndim == 1 else a
        b2 = expand_dims(b, 1) if b.ndim == 1 else b
        g2 = expand_dims(g, g.ndim - 1) if a.ndim == 1 else expand_dims(g, g.ndim)
        ga = gb = None
        if is_tensor(a):
            ga = matmul(g2, _mT(b2))
            if a.ndim == 1:
                ga = reshape_like(sum_to_like(ga, a2), a)
        if is_tensor(b):
            gb = matmul(_mT(a2), g2)
            if b.ndim == 1:
                gb = reshape_like(sum_to_like(gb, b2), b)
        return ga, gb


def _mT(x):
    """``x`` with its last two axes swapped (a tidu operation)."""
    perm = list(range(x.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return permute(x, perm)


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading axes batch."""
    return MatMul.apply(a, b)


def dot(a, b):
    """Dot product of vectors, or matrix product of 1-D/2-D operands (np.dot for ndim <= 2)."""
    nd = (getattr(a, "ndim", 0), getattr(b, "ndim", 0))
    if max(nd) > 2:
        raise ShapeError(f"dot: takes 1-D or 2-D tensors, got {nd[0]}-D and {nd[1]}-D; "
                         "use matmul for batched products")
    return MatMul.apply(a, b)
