"""The softmax cross-entropy's passes between NumPy's exp and log, compiled (numba).

Forward, along a contiguous last axis of ``c`` classes: ``z = x - max(x)``
(:mod:`tidu.accel.activation`), ``e = exp(z)`` and ``log`` of its row sums stay NumPy's (a
compiled exp rounds differently); the row sums, ``logp = z - log(s)``, ``logp * t`` and its
total are one loop each here. Backward: ``(exp(logp) * t.sum(row) - t) * g`` in place, one
loop after NumPy's exp. Sums follow NumPy's order (:mod:`tidu.accel.reduce`), so every value
is NumPy's bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

from . import _FLOATS
from .activation import _shift_rows
from .reduce import numpy_sum, row_sums

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def _logp_dot(z, ls, t, prod):
    """``z -= ls`` per row (z becomes log-probabilities); the total of ``z * t``."""
    r, c = z.shape
    for i in range(r):
        s = ls[i]
        for j in range(c):
            v = z[i, j] - s
            z[i, j] = v
            prod[i, j] = v * t[i, j]
    f = prod.reshape(-1)
    return numpy_sum(f, 0, f.size)


@_jit
def _grad(p, t, g):
    """``p = (p * t.sum(row) - t) * g`` in place, ``p`` the softmax."""
    r, c = p.shape
    tf = t.reshape(-1)
    for i in range(r):
        ts = numpy_sum(tf, i * c, c)
        for j in range(c):
            p[i, j] = (p[i, j] * ts - t[i, j]) * g


_ND = np.ndarray


def usable(x, t, axis) -> bool:
    """C-contiguous NumPy float arrays of one dtype and shape, not empty, classes last."""
    return (type(x) is _ND and type(t) is _ND and x.dtype in _FLOATS and t.dtype == x.dtype
            and x.shape == t.shape and x.ndim >= 1 and (axis == -1 or axis == x.ndim - 1)
            and x.size > 0 and x.flags.c_contiguous and t.flags.c_contiguous)


def log_softmax_dot(x, t):
    """``(logp, sum(logp * t))`` for ``logp = log_softmax(x)`` along the last axis (a new
    array; the total a Python float)."""
    c = x.shape[-1]
    x2, t2 = x.reshape(-1, c), t.reshape(-1, c)
    z = np.empty_like(x2)
    _shift_rows(x2, z)
    s = np.empty(z.shape[0], z.dtype)
    row_sums(np.exp(z), s)
    dot = _logp_dot(z, np.log(s), t2, np.empty_like(z))
    return z.reshape(x.shape), dot


def grad(p, t, g) -> None:
    """``p = (p * t.sum(-1, keepdims=True) - t) * g`` in place, ``g`` a scalar of p's dtype."""
    c = p.shape[-1]
    _grad(p.reshape(-1, c), t.reshape(-1, c), g)
