"""Small helpers shared by the ``vjp`` rules (derivatives written in tidu operations)."""

from __future__ import annotations

from .. import autograd
from ..backend import xp


def is_tensor(x) -> bool:
    """Whether ``x`` is a Tensor (or a symbolic Variable): only those get a gradient."""
    return isinstance(x, autograd.Tensor)


def unreduce(g, axis, keepdims: bool):
    """The gradient of a reduction over ``axis`` with its reduced axes put back (length 1),
    so that it broadcasts against the input; written without concrete shapes."""
    from .shape import expand_dims

    if keepdims or axis is None:  # axis=None without keepdims: g is a scalar, which broadcasts
        return g
    return expand_dims(g, tuple(axis))


def count(x, axis):
    """The number of elements a reduction of ``x`` over ``axis`` combines, as a tensor of
    ``x``'s dtype (so that it also works when the shape is only known at run time)."""
    from .reduce import sum as sum_
    from .shape import broadcast_like

    ones = broadcast_like(xp.ones((), dtype=x.dtype), x)
    return sum_(ones, axis, keepdims=True)
