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


def to(self, *args, **kwargs):
    """``t.to(dtype)``, ``t.to(device)`` or ``t.to(other)``: see :func:`tidu.ops.transfer.to`."""
    return ops.transfer.to(self, *args, **kwargs)


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


def _like(other, op: str):
    from .tensor import Tensor

    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(other).__name__}")
    return other


def view_as(self, other):
    """Reshape to ``other``'s shape."""
    return ops.reshape(self, _like(other, "view_as").shape)


def expand_as(self, other):
    """Broadcast to ``other``'s shape."""
    return ops.broadcast_to(self, _like(other, "expand_as").shape)


def type_as(self, other):
    """Cast to ``other``'s dtype."""
    return to(self, _like(other, "type_as").dtype)


def t(self):
    """Transpose a tensor of at most 2 axes (PyTorch's ``t()``)."""
    if self.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 axes, got shape {self.shape}; "
                         "use transpose(dim0, dim1)")
    return ops.transpose(self) if self.ndim == 2 else self


def _mm(self, other, ndim: int, op: str):
    for arg, v in (("self", self), ("mat2", other)):
        if getattr(v, "ndim", None) != ndim:
            raise ValueError(f"{op}: {arg} must have {ndim} axes, got shape "
                             f"{getattr(v, 'shape', None)}")
    return ops.matmul(self, other)


def mm(self, mat2):
    """Matrix product of two 2-D tensors."""
    return _mm(self, mat2, 2, "mm")


def bmm(self, mat2):
    """Batched matrix product of two 3-D tensors."""
    return _mm(self, mat2, 3, "bmm")


def add(self, other, alpha=1):
    """``self + alpha * other``."""
    return ops.add(self, other if alpha == 1 else ops.mul(other, alpha))


def sub(self, other, alpha=1):
    """``self - alpha * other``."""
    return ops.sub(self, other if alpha == 1 else ops.mul(other, alpha))


def clamp(self, min=None, max=None):
    """Clip to ``[min, max]`` (either may be None)."""
    return ops.clip(self, min, max)


def amax(self, dim=None, keepdim: bool = False):
    """The largest values over ``dim`` (values only; ties share the gradient, as torch.amax)."""
    return ops.max(self, axis=dim, keepdims=keepdim)


def amin(self, dim=None, keepdim: bool = False):
    """The smallest values over ``dim`` (values only; ties share the gradient)."""
    return ops.min(self, axis=dim, keepdims=keepdim)


def is_floating_point(self) -> bool:
    return bool(backend.is_floating(self.dtype))


def element_size(self) -> int:
    """Bytes per element."""
    return int(self.data.itemsize)


def _new(self, fill, size, dtype):
    from .tensor import Tensor

    dtype = self.dtype if dtype is None else _dtype(dtype, "new_*")
    return Tensor(backend.namespace(self.data).full(_shape(size, "new_*"), fill, dtype=dtype))


def new_zeros(self, *size, dtype=None):
    """Zeros of ``size`` with this tensor's dtype (unless ``dtype``), on its device."""
    return _new(self, 0, size, dtype)


def new_ones(self, *size, dtype=None):
    """Ones of ``size`` with this tensor's dtype (unless ``dtype``), on its device."""
    return _new(self, 1, size, dtype)


def new_tensor(self, data, dtype=None):
    """A new tensor of ``data`` with this tensor's dtype (unless ``dtype``), on its device."""
    from .tensor import Tensor

    dtype = self.dtype if dtype is None else _dtype(dtype, "new_tensor")
    raw = data.data if isinstance(data, Tensor) else data
    return Tensor(backend.asarray_like(raw, self.data, dtype))


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
    "type": type_, "long": long, "int": int_, "bool": bool_, "expand": expand,
    "half": lambda self: ops.cast(self, xp.float16), "view_as": view_as,
    "reshape_as": view_as, "expand_as": expand_as, "type_as": type_as, "t": t,
    "mm": mm, "bmm": bmm, "add": add, "sub": sub, "mul": ops.mul, "div": ops.div,
    "pow": ops.pow, "neg": ops.neg, "clamp": clamp, "amax": amax, "amin": amin,
    "nelement": numel, "is_floating_point": is_floating_point, "element_size": element_size,
    "new_zeros": new_zeros, "new_ones": new_ones, "new_tensor": new_tensor,
}
"""Tensor method name -> function of the tensor (bound by :func:`bind`)."""


def bind(tensor_class) -> None:
    """Attach :data:`METHODS` and the callable ``size`` to ``tensor_class`` (replacing the
    plain methods of the same names, which take only ``axis`` / ``keepdims``)."""
    for name, fn in METHODS.items():
        setattr(tensor_class, name, fn)
    tensor_class.size = property(_size, doc=Size.__doc__)
