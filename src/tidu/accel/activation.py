"""Activation loops compiled (numba), each giving NumPy's bits:

- the rectifier's backward ``g * (y > 0)``, without the boolean mask NumPy builds first
  (a multiply by 1 or 0, as NumPy's);
- the rectifier in place, ``max(y, 0)``, on a convolution's output (NumPy's ``maximum``
  against a scalar took 1.1 ms on conv1's (128, 26, 26, 32) output, this loop 0.65);
- the shift of softmax, log-softmax and the cross-entropy from logits, ``x - max(x)`` along
  the last axis: NumPy's maximum over a short last axis (10 classes) costs several
  microseconds per call; a maximum is exact and so is one subtraction, hence the same bits.
"""

from __future__ import annotations

import numba
import numpy as np

from ..backend import recycle

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def _relu_backward(g, y, out):
    g, y, out = g.reshape(-1), y.reshape(-1), out.reshape(-1)
    one, zero = g.dtype.type(1), g.dtype.type(0)  # in g's dtype: no float64 round trip
    for i in range(g.size):
        out[i] = g[i] * (one if y[i] > 0 else zero)


def usable(g, y) -> bool:
    """C-contiguous NumPy arrays of one float dtype and one shape."""
    return (type(g) is np.ndarray and type(y) is np.ndarray and g.dtype == y.dtype
            and g.dtype in (np.float32, np.float64) and g.shape == y.shape
            and g.flags.c_contiguous and y.flags.c_contiguous)


def relu_backward(g, y, out=None):
    """``g * (y > 0)``, into ``out`` or a new array."""
    if out is None:
        out = recycle.empty(g.shape, g.dtype)
    _relu_backward(g, y, out)
    return out


@_jit
def _relu(y):
    zero = y.dtype.type(0)
    for i in range(y.size):
        v = y[i]
        if not (v > 0 or v != v):  # NumPy's maximum(v, 0): NaN stays, -0 becomes 0
            y[i] = zero


def relu_(y) -> None:
    """``max(y, 0)`` in place (a C-contiguous float array)."""
    _relu(y.reshape(-1))


@_jit
def _shift_rows(x, out):
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(1, x.shape[1]):
            v = x[i, j]
            if v > m or v != v:  # NaN wins, as in NumPy's maximum
                m = v
        for j in range(x.shape[1]):
            out[i, j] = x[i, j] - m


def shift_usable(x, axis) -> bool:
    """A C-contiguous NumPy float array, not empty, shifted along its last axis."""
    return (type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.ndim >= 1
            and (axis == -1 or axis == x.ndim - 1) and x.size > 0 and x.flags.c_contiguous)


def shift_by_max(x):
    """``x - x.max(axis=-1, keepdims=True)``, a new array."""
    out = np.empty_like(x)
    n = x.shape[-1]
    _shift_rows(x.reshape(-1, n), out.reshape(-1, n))
    return out
