"""PyTorch's Tensor spellings: ``view``, ``size()``, ``numel``, ``dim``, ``clone``, ``to``, ...

:func:`bind` attaches them to :class:`~tidu.tensor.Tensor` (``tidu.tensor`` calls it once),
and rebinds the reductions and shape methods to the ops that take ``dim`` / ``keepdim``
(:mod:`tidu.ops._names`). ``t.size`` stays NumPy's element count, and is also callable as
PyTorch's ``t.size()`` (the shape) and ``t.size(dim)``.

>>> import tidu
>>> t = tidu.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
>>> t.view(3, 2).shape, t.size(), t.size(1), t.numel(), t.dim()
((3, 2), (2, 3), 3, 6, 2)
>>> t.long().dtype, t.max(dim=1).indices.tolist()
(dtype('int64'), [2, 2])
"""

from __future__ import annotations

import math

from . import backend, ops
from ._shapes import check_axis
from .autograd import Function

xp = backend.xp


class Size(int):
    """``t.size``: the number of elements (as NumPy's ``a.size``), callable as PyTorch's
    ``t.size()`` (the shape, a tuple) or ``t.size(dim)`` (the length of one axis)."""

    def __new__(cls, shape: tuple) -> Size:
        self = super().__new__(cls, math.prod(shape))
        self._shape = tuple(shape)
        return self

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self._shape
        return self._shape[check_axis(dim, len(self._shape), "size")]

    def __reduce__(self):
        return (int, (int(self),))


class Clone(Function):
    """A copy of the data that stays in the graph (the gradient passes through unchanged)."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g

    @staticmethod
    def vjp(g, x):
        return g


def from_numpy(array):
    """A Tensor that shares memory with the NumPy ``array`` (as ``torch.from_numpy``): writes
    to either are seen by the other, and the dtype is kept.

    Raises:
        TypeError: ``array`` is not a NumPy array.
    """
    from .tensor import Tensor

    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None)


def _dtype(value, op: str):
    try:
        return xp.dtype(value)
    except TypeError:
        raise TypeError(f"{op}: expected a dtype (e.g. tidu.float32, 'int64'), got "
                        f"{value!r}") from None


def _shape(args: tuple, op: str) -> tuple:
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{op}: expected sizes as ints, got {args!r}")
    return shape


def view(self, *shape):
    """``reshape`` under PyTorch's name (tidu never needs contiguous memory)."""
    return ops.reshape(self, _shape(shape, "view"))


def numel(self) -> int:
    """The number of elements."""
    return int(self.data.size)


def dim(self) -> int:
    """The number of axes (``ndim``)."""
    return self.data.ndim


def clone(self):
    """A copy with its own memory; gradients flow back to ``self``."""
    return Clone.apply(self)


def contiguous(self):
    """``self``: tidu's arrays need no particular memory layout."""
    return self


def to(self, *args, dtype=None, device=None, copy: bool = False):
    """``t.to(dtype)``, ``t.to(other)`` (other's dtype) or ``t.to('cpu')``.

    tidu runs on the CPU only: a device other than 'cpu' is refused.
    """
    from .tensor import Tensor

    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "meta"):
            device = a
        else:
            dtype = a
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"to: tidu runs on the CPU only, got device={device!r}")
    if dtype is None or _dtype(dtype, "to") == self.dtype:
        return clone(self) if copy else self
    return ops.cast(self, _dtype(dtype, "to"))


def type_(self, dtype=None):
    """Without ``dtype``, the dtype's name ('float32'); with it, the tensor cast to ``dtype``."""
    if dtype is None:
        return str(self.dtype)
    return to(self, dtype)


def long(self):
    """Cast to int64 (leaves the graph)."""
    return ops.cast(self, xp.int64)


def int_(self):
    """Cast to int32 (leaves the graph)."""
    return ops.cast(self, xp.int32)


def bool_(self):
    """Cast to bool (leaves the graph)."""
    return ops.cast(self, xp.bool_)


def expand(self, *sizes):
    """Broadcast to ``sizes`` (PyTorch's ``expand``): -1 keeps an axis's length; new axes
    may be added in front."""
    sizes = _shape(sizes, "expand")
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor with {self.ndim} "
                         f"axes of shape {self.shape}; give at least one per axis")
    target = tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                   for i, s in enumerate(sizes))
    if any(s < 0 for s in target):
        raise ValueError(f"expand: -1 is allowed only for existing axes, got {sizes}")
    return ops.broadcast_to(self, target)


def permute(self, *dims, **kwargs):
    """Reorder the axes: ``t.permute(2, 0, 1)``, ``t.permute((2, 0, 1))`` or ``dims=``."""
    if "dims" in kwargs:
        if dims:
            raise TypeError("permute: got the axes both positionally and as dims=; pass one")
        dims = tuple(kwargs.pop("dims"))
    if kwargs:
        raise TypeError(f"permute: unexpected arguments {sorted(kwargs)}")
    return ops.permute(self, *dims)


def transpose(self, *axes, dim0=None, dim1=None):
    """Swap two axes (``t.transpose(0, 1)`` or ``dim0=``, ``dim1=``), reverse all (no
    arguments) or permute (more than two)."""
    if dim0 is not None or dim1 is not None:
        if axes or dim0 is None or dim1 is None:
            raise TypeError("transpose: give dim0= and dim1= together, and no positional axes")
        axes = (dim0, dim1)
    return ops.transpose(self, *axes)


def _size(self) -> Size:
    return Size(self.data.shape)


METHODS = {
    # reductions and shape ops that take dim / keepdim (tidu.ops._names)
    "sum": ops.sum, "mean": ops.mean, "max": ops.max, "min": ops.min, "var": ops.var,
    "logsumexp": ops.logsumexp, "softmax": ops.softmax, "log_softmax": ops.log_softmax,
    "flatten": ops.flatten, "squeeze": ops.squeeze, "unsqueeze": ops.unsqueeze,
    "transpose": transpose, "permute": permute,
    # PyTorch's Tensor spellings
    "view": view, "numel": numel, "dim": dim, "clone": clone, "contiguous": contiguous,
    "to": to, "type": type_, "long": long, "int": int_, "bool": bool_, "expand": expand,
}
"""Tensor method name -> function of the tensor (bound by :func:`bind`)."""


def bind(tensor_class) -> None:
    """Attach :data:`METHODS` and the callable ``size`` to ``tensor_class`` (replacing the
    plain methods of the same names, which take only ``axis`` / ``keepdims``)."""
    for name, fn in METHODS.items():
        setattr(tensor_class, name, fn)
    tensor_class.size = property(_size, doc=Size.__doc__)
