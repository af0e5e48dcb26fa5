"""Pieces the linalg gradients are written with: transposes, triangles, identities, diagonals.

Each is either a tidu operation or a small Function with its own vjp, and none reads a
concrete shape in a vjp, so the rules built from them can be differentiated again.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import namespace, xp
from ..errors import ShapeError, TiduError
from ..ops.contract import einsum
from ..ops.layout import Tril, Triu
from ..ops.shape import expand_dims, permute


class LinAlgError(TiduError, RuntimeError):
    """A matrix without the property an operation needs (singular, not positive definite)."""


def ndim(x) -> int:
    return x.ndim if hasattr(x, "ndim") else xp.ndim(x)


def shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else xp.shape(x)


def check_matrix(x, op: str, square: bool = True) -> None:
    """Raise a ShapeError unless ``x`` is a (batch of) matrices, square if ``square``."""
    s = shape(x)
    if len(s) < 2 or (square and s[-1] != s[-2]):
        kind = "square matrix of shape (..., n, n)" if square else "matrix of shape (..., m, n)"
        raise ShapeError(f"{op}: expected a {kind} (or a batch of them), got shape {s}")


def lapack(op: str, fn, *args, **kwargs):
    """Call a NumPy linalg routine, reporting its failure as a LinAlgError naming ``op``."""
    try:
        return fn(*args, **kwargs)
    except xp.linalg.LinAlgError as e:
        raise LinAlgError(f"{op}: {e}") from None


def mT(x):
    """``x`` with its last two axes swapped (torch's ``x.mT``)."""
    perm = list(range(ndim(x)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return permute(x, perm)


def diagonal(x):
    """The main diagonals of a (batch of) square matrices."""
    return einsum("...ii->...i", x)


def diag_embed(d, like):
    """Square matrices with ``d`` on their diagonals, sized like the matrices of ``like``."""
    return EyeLike.apply(like) * expand_dims(d, -2)


class EyeLike(Function):
    """The identity matrix as large as the last axis of ``like`` (a constant)."""

    def forward(self, like):
        return namespace(like).eye(xp.shape(like)[-1], dtype=like.dtype)

    def backward(self, g):
        return None

    @staticmethod
    def vjp(g, like):
        return None


def tril(x, k: int = 0):
    """The lower triangle (tidu.ops.layout's Tril, without the wrapper's checks)."""
    return Tril.apply(x, k=k)


def triu(x, k: int = 0):
    """The upper triangle (tidu.ops.layout's Triu)."""
    return Triu.apply(x, k=k)


def swap(a):
    """NumPy: the last two axes swapped."""
    return xp.swapaxes(a, -1, -2)
