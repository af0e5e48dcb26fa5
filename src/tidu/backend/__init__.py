"""The array namespace tidu computes with, and the devices arrays live on.

Every op reaches arrays through ``xp`` (NumPy). An array on another device (a CuPy array on a
GPU) passes through the same NumPy calls, which NumPy hands to the array's own library; see
:mod:`tidu.backend.devices`. Creation from nothing asks :func:`namespace` for an input's library.
Large temporaries of tidu's own kernels (convolution columns and outputs, pooling and
rectifier gradients) take reused memory from :mod:`tidu.backend.recycle`.
"""

from __future__ import annotations

import numpy

from . import devices, recycle  # noqa: F401 - tidu.backend.recycle
from .devices import (
    ARRAY_TYPES,
    CPU,
    Device,
    cuda_available,
    device,
    device_of,
    is_array,
    mixed,
    mixed_error,
    namespace,
    parse_to,
    special_function,
    to_device,
    to_host,
)

xp = numpy
"""The array module in use (NumPy)."""

default_float = numpy.float32
"""dtype given to tensors built from Python floats and lists, and the floating dtype that
integers are promoted to (float32, as in Keras and PyTorch); see :func:`set_default_dtype`."""


__all__ = [
    "ARRAY_TYPES", "as_array", "asarray_like", "CPU", "cuda_available", "default_float",
    "Device", "device", "device_of", "devices", "expit", "get_default_dtype", "is_array",
    "is_floating", "mixed", "mixed_error", "namespace", "parse_to", "set_default_dtype",
    "softplus", "special_function", "to_device", "to_host", "xp",
]


def set_default_dtype(dtype) -> None:
    """Choose the default floating dtype (float32 or float64), as ``torch.set_default_dtype``.

    >>> import tidu
    >>> tidu.set_default_dtype("float64"); tidu.tensor([1.5]).dtype
    dtype('float64')
    >>> tidu.set_default_dtype("float32")
    """
    global default_float
    dt = numpy.dtype(dtype)
    if dt not in (numpy.float32, numpy.float64, numpy.float16):
        raise TypeError(f"set_default_dtype: expected a floating dtype (float32 or float64), "
                        f"got {dt}")
    default_float = dt.type


def get_default_dtype():
    """The default floating dtype (numpy.float32 unless changed)."""
    return numpy.dtype(default_float)


def as_array(data, dtype=None):
    """Turn ``data`` (array, scalar, nested list) into an array of the array namespace.

    Python floats and lists of floats become ``default_float``; NumPy arrays keep their dtype
    unless ``dtype`` is given; Python ints and bools keep integer/boolean dtypes.
    """
    if type(data) in ARRAY_TYPES and type(data) is not numpy.ndarray:
        return data if dtype is None else data.astype(dtype, copy=False)
    if dtype is not None:
        return xp.asarray(data, dtype=dtype)
    if isinstance(data, xp.ndarray):
        return data
    arr = xp.asarray(data)
    if arr.dtype == xp.float64 and not isinstance(data, xp.generic):
        arr = arr.astype(default_float)
    return arr


def asarray_like(value, like, dtype=None):
    """``value`` (scalar, list or array) as an array on the device of the array ``like``."""
    if type(like) is numpy.ndarray:
        return numpy.asarray(value, dtype=dtype)
    if type(value) is type(like):
        return value if dtype is None else value.astype(dtype, copy=False)
    if not is_array(value):
        value = numpy.asarray(value, dtype=dtype)
    return to_device(value, device_of(like))


def is_floating(dtype) -> bool:
    """True for floating-point dtypes, the only ones that can carry gradients."""
    kind = getattr(dtype, "kind", None)  # a dtype: answered without issubdtype
    if kind == "f":
        return True
    if kind in ("b", "i", "u", "c"):
        return False
    return xp.issubdtype(dtype, xp.floating)


def _expit_numpy(x):
    """1 / (1 + e^-x) from e^-|x|: no overflow for any x."""
    e = xp.exp(-xp.abs(x))
    d = 1 / (1 + e)
    return xp.where(x >= 0, d, e * d)


_expit = None


def expit(x):
    """The logistic sigmoid of an array: scipy's ``expit`` (one stable ufunc) when scipy is
    installed, else the same from e^-|x| in NumPy. scipy is imported on first use, so
    importing tidu never imports it."""
    if type(x) is not numpy.ndarray:
        f = special_function("expit", x)
        if f is not None:
            return f(x)
    global _expit
    if _expit is None:
        try:
            from scipy.special import expit as f
        except ImportError:  # pragma: no cover - scipy is an optional extra
            f = _expit_numpy
        _expit = f
    return _expit(x)


def softplus(x):
    """log(1 + e^x) as NumPy's logaddexp(x, 0): one ufunc, finite for any input."""
    return xp.logaddexp(x, 0)
