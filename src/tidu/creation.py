"""Ways to make tensors: filled, random (from tidu's generator), ranges."""

from __future__ import annotations

from . import backend
from .random import get_generator
from .tensor import Tensor

xp = backend.xp


def _dt(dtype):
    return backend.default_float if dtype is None else dtype


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return Tensor(xp.zeros(_shape(shape), dtype=_dt(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(xp.ones(_shape(shape), dtype=_dt(dtype)), requires_grad)


def full(shape, value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``value``; the dtype follows the value as in PyTorch (a bool
    gives bool, an int int64, a float the default float dtype)."""
    if dtype is None:
        dtype = _scalar_dtype(value)
    return Tensor(xp.full(_shape((shape,)), value, dtype=dtype), requires_grad)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return xp.int64
    if isinstance(value, float):
        return backend.default_float
    return xp.asarray(getattr(value, "data", value)).dtype


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The identity: ``n`` rows, ``m`` columns (default ``n``), ones on the main diagonal
    (torch.eye, numpy.eye).

    >>> import tidu
    >>> tidu.eye(2, 3)
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    for name, v in (("n", n), ("m", m)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise ValueError(f"eye: {name} must be a non-negative int, got {v!r}")
    return Tensor(xp.eye(n, m, dtype=_dt(dtype)), requires_grad)


def zeros_like(t, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros_like(getattr(t, "data", t)), requires_grad)


def ones_like(t, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones_like(getattr(t, "data", t)), requires_grad)


def arange(*args, dtype=None) -> Tensor:
    """Evenly spaced values, as numpy.arange: integers give int64, and any float bound or
    step gives the default float dtype (float32), as in PyTorch.

    >>> import tidu
    >>> tidu.arange(5).dtype, tidu.arange(5.5, 175.5, 2.5).dtype
    (dtype('int64'), dtype('float32'))
    """
    if dtype is None:
        floats = any(isinstance(a, float) or getattr(a, "dtype", None) is not None and
                     xp.issubdtype(a.dtype, xp.floating) for a in args)
        dtype = backend.default_float if floats else xp.int64
    return Tensor(xp.arange(*args, dtype=dtype))


def randn(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from tidu's generator."""
    data = get_generator().standard_normal(_shape(shape)).astype(_dt(dtype))
    return Tensor(data, requires_grad)


def rand(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from tidu's generator."""
    data = get_generator().random(_shape(shape)).astype(_dt(dtype))
    return Tensor(data, requires_grad)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)
