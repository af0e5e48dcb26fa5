"""Ways to make tensors: filled, random (from tidu's generator), ranges.

Each takes ``device=`` (``'cpu'`` by default, ``'cuda'`` with CuPy), as in PyTorch. Random
values are drawn on the host from tidu's one generator and then placed, so a seed gives the
same numbers on every device.
"""

from __future__ import annotations

from . import backend
from .random import get_generator
from .tensor import Tensor

xp = backend.xp


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _placed(array, requires_grad: bool, device) -> Tensor:
    """A leaf Tensor holding ``array`` moved to ``device`` (None: where it is)."""
    if device is not None:
        array = backend.to_device(array, device)
    return Tensor(array, requires_grad)


def _dt(dtype):
    return backend.default_float if dtype is None else dtype


def zeros(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros."""
    return _placed(xp.zeros(_shape(shape), dtype=_dt(dtype)), requires_grad, device)


def ones(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones."""
    return _placed(xp.ones(_shape(shape), dtype=_dt(dtype)), requires_grad, device)


def full(shape, value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor filled with ``value``; the dtype follows the value as in PyTorch (a bool
    gives bool, an int int64, a float the default float dtype)."""
    if dtype is None:
        dtype = _scalar_dtype(value)
    return _placed(xp.full(_shape((shape,)), value, dtype=dtype), requires_grad, device)


def _scalar_dtype(value):
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return xp.int64
    if isinstance(value, float):
        return backend.default_float
    return xp.asarray(getattr(value, "data", value)).dtype


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False,
        device=None) -> Tensor:
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
    return _placed(xp.eye(n, m, dtype=_dt(dtype)), requires_grad, device)


def zeros_like(t, requires_grad: bool = False, device=None) -> Tensor:
    """Zeros of ``t``'s shape and dtype, on ``t``'s device unless ``device`` is given."""
    return _placed(xp.zeros_like(_data(t)), requires_grad, device)


def ones_like(t, requires_grad: bool = False, device=None) -> Tensor:
    """Ones of ``t``'s shape and dtype, on ``t``'s device unless ``device`` is given."""
    return _placed(xp.ones_like(_data(t)), requires_grad, device)


def arange(*args, dtype=None, device=None) -> Tensor:
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
    return _placed(xp.arange(*args, dtype=dtype), False, device)


def randn(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal samples from tidu's generator."""
    data = get_generator().standard_normal(_shape(shape)).astype(_dt(dtype))
    return _placed(data, requires_grad, device)


def rand(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform samples in [0, 1) from tidu's generator."""
    data = get_generator().random(_shape(shape)).astype(_dt(dtype))
    return _placed(data, requires_grad, device)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)
