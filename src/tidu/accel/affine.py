"""The fully connected layer's loops around its products, compiled (numba), NumPy's bits:

- forward, after ``y = x @ w``: ``y += b`` and ``max(y, 0)`` in one pass, in place (NumPy
  broadcasts the bias and the zero in two passes of several microseconds each at small sizes);
- backward: the rectifier's mask ``g * (y > 0)`` and the bias gradient, its column sums, in
  one pass; or the column sums alone. NumPy adds the rows of a C array one after another
  (a column of one value is summed pairwise instead, so those go to NumPy).
"""

from __future__ import annotations

import numba
import numpy as np

from . import _FLOATS

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def _bias_relu(y, b, relu):
    r, c = y.shape
    zero = y.dtype.type(0)
    for i in range(r):
        for j in range(c):
            v = y[i, j] + b[j]
            if relu and not (v > 0 or v != v):  # NumPy's maximum(v, 0): NaN stays, -0 is 0
                v = zero
            y[i, j] = v


@_jit
def _relu_mask_colsum(g, y, out, gb):
    r, c = g.shape
    one, zero = g.dtype.type(1), g.dtype.type(0)
    for j in range(c):
        gb[j] = zero
    for i in range(r):
        for j in range(c):
            v = g[i, j] * (one if y[i, j] > 0 else zero)
            out[i, j] = v
            gb[j] += v


@_jit
def _colsum(g, gb):
    r, c = g.shape
    zero = g.dtype.type(0)
    for j in range(c):
        gb[j] = zero
    for i in range(r):
        for j in range(c):
            gb[j] += g[i, j]


_ND = np.ndarray


def _rows(a):
    """A C-contiguous array of two or more axes as 2-D rows of its last axis (a view)."""
    return a if a.ndim == 2 else a.reshape(-1, a.shape[-1])


def bias_relu(y, b, relu: bool) -> bool:
    """``y += b`` then, with ``relu``, ``max(y, 0)``, in place on ``y`` (two or more axes,
    ``b`` along the last); False (nothing done) where the arrays do not suit the loop."""
    if (type(y) is not _ND or type(b) is not _ND or y.ndim < 2 or y.dtype not in _FLOATS
            or b.dtype != y.dtype or b.shape != y.shape[-1:] or not y.flags.c_contiguous
            or not b.flags.c_contiguous):
        return False
    _bias_relu(_rows(y), b, relu)
    return True


def relu_backward_bias(g, y):
    """``(g * (y > 0), that summed over all axes but the last)``, or None."""
    if (type(g) is not _ND or type(y) is not _ND or g.ndim < 2 or g.dtype not in _FLOATS
            or y.dtype != g.dtype or g.shape != y.shape or g.shape[-1] < 2
            or not g.flags.c_contiguous or not y.flags.c_contiguous):
        return None
    out, gb = np.empty_like(g), np.empty(g.shape[-1], g.dtype)
    _relu_mask_colsum(_rows(g), _rows(y), _rows(out), gb)
    return out, gb


def column_sums(g):
    """``g`` summed over all axes but the last, or None."""
    if (type(g) is not _ND or g.ndim < 2 or g.dtype not in _FLOATS or g.shape[-1] < 2
            or not g.flags.c_contiguous):
        return None
    gb = np.empty(g.shape[-1], g.dtype)
    _colsum(_rows(g), gb)
    return gb
