"""Triangles and diagonals: tril, triu, diagonal and diag, with their primitives.

Each primitive sits beside its transpose: ``Tril`` and ``Triu`` zero the same elements of the
gradient; ``Diagonal`` reads a diagonal and ``DiagonalScatter`` writes one into zeros, each
the other's vjp, so higher derivatives come too. Split from :mod:`tidu.ops.layout` to keep
that file short; layout re-exports every name here and lists the functions in its
``__all__`` and ``TENSOR_METHODS``.
"""

from __future__ import annotations

from .._shapes import check_axis
from ..autograd import Function
from ..backend import namespace, xp
from ..errors import ShapeError
from ._device import beside, zeros_beside
from ._layout_args import _int
from ._names import torch_names

__all__ = ["diag", "diagonal", "tril", "triu"]


# ----- primitives -----
class Tril(Function):
    """Zero the elements above diagonal ``k`` of the last two axes; so is the gradient."""

    def forward(self, x, k=0):
        self.k = k
        return xp.tril(x, k)

    def backward(self, g):
        return xp.tril(g, self.k)

    @staticmethod
    def vjp(g, x, k=0):
        return Tril.apply(g, k=k)


class Triu(Function):
    """Zero the elements below diagonal ``k`` of the last two axes; so is the gradient."""

    def forward(self, x, k=0):
        self.k = k
        return xp.triu(x, k)

    def backward(self, g):
        return xp.triu(g, self.k)

    @staticmethod
    def vjp(g, x, k=0):
        return Triu.apply(g, k=k)


class Diagonal(Function):
    """Diagonal ``offset`` of the planes (axis1, axis2), as a new last axis (numpy.diagonal)."""

    def forward(self, x, offset=0, axis1=0, axis2=1):
        self.shape, self.where = x.shape, (offset, axis1, axis2)
        return xp.diagonal(x, offset, axis1, axis2).copy()  # NumPy's view is read-only

    def backward(self, g):
        return _embed_diagonal(g, self.shape, *self.where)

    @staticmethod
    def vjp(g, x, offset=0, axis1=0, axis2=1):
        return DiagonalScatter.apply(g, x, offset=offset, axis1=axis1, axis2=axis2)


class DiagonalScatter(Function):
    """Zeros shaped like ``like`` with ``g`` (diagonal along its last axis) on diagonal
    ``offset`` of the planes (axis1, axis2): the transpose of :class:`Diagonal`."""

    def forward(self, g, like, offset=0, axis1=0, axis2=1):
        self.where = (offset, axis1, axis2)
        return _embed_diagonal(g, xp.shape(like), offset, axis1, axis2)

    def backward(self, gg):
        return xp.diagonal(gg, *self.where).copy(), None

    @staticmethod
    def vjp(gg, g, like, offset=0, axis1=0, axis2=1):
        return Diagonal.apply(gg, offset=offset, axis1=axis1, axis2=axis2), None


def _embed_diagonal(g, shape, offset, axis1, axis2):
    out = zeros_beside(g, shape)
    planes = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a writable view of ``out``
    i = namespace(g).arange(g.shape[-1]) + max(-offset, 0)
    planes[..., i, i + offset] = g
    return out


# ----- the ops -----
def tril(x, k: int = 0):
    """The lower triangle of the last two axes: elements above diagonal ``k`` become 0
    (torch.tril; k > 0 keeps diagonals above the main one, k < 0 drops more).

    >>> import tidu
    >>> tidu.tril(tidu.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    if x.ndim < 2:
        raise ShapeError(f"tril: needs at least 2 axes, got a tensor of shape {x.shape}")
    return Tril.apply(x, k=_int(k, "k", "tril"))


def triu(x, k: int = 0):
    """The upper triangle of the last two axes: elements below diagonal ``k`` become 0
    (torch.triu).

    >>> import tidu
    >>> tidu.triu(tidu.ones(2, 2))
    tensor([[1., 1.],
            [0., 1.]])
    """
    if x.ndim < 2:
        raise ShapeError(f"triu: needs at least 2 axes, got a tensor of shape {x.shape}")
    return Triu.apply(x, k=_int(k, "k", "triu"))


@torch_names
def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """Diagonal ``offset`` of the planes spanned by ``axis1`` and ``axis2``, as a new last
    axis (torch.diagonal, numpy.diagonal); offset > 0 is above the main diagonal.

    >>> import tidu
    >>> tidu.diagonal(tidu.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([2.])
    """
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 axes, got a tensor of shape {x.shape}")
    a1, a2 = check_axis(axis1, x.ndim, "diagonal"), check_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ, both are axis {a1}")
    return Diagonal.apply(x, offset=_int(offset, "offset", "diagonal"), axis1=a1, axis2=a2)


def diag(x, k: int = 0):
    """A 1-D tensor put on diagonal ``k`` of a square matrix of zeros, or diagonal ``k`` of a
    2-D tensor (torch.diag, numpy.diag).

    >>> import tidu
    >>> tidu.diag(tidu.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    k = _int(k, "k", "diag")
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: needs a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(k)
    like = xp.broadcast_to(beside(0, x, dtype=x.dtype), (n, n))  # only its shape is read
    return DiagonalScatter.apply(x, like, offset=k, axis1=0, axis2=1)
