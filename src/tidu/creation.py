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
    """A tensor filled with ``value``."""
    return Tensor(xp.full(_shape((shape,)), value, dtype=_dt(dtype)), requires_grad)


def zeros_like(t, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros_like(getattr(t, "data", t)), requires_grad)


def ones_like(t, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones_like(getattr(t, "data", t)), requires_grad)


def arange(*args, dtype=None) -> Tensor:
    """Evenly spaced values, as numpy.arange (integers stay integers)."""
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
