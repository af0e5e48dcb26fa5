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


def _plain(*arrays) -> bool:
    a0 = arrays[0]
    return all(type(a) is np.ndarray and a.dtype == a0.dtype and a.flags.c_contiguous
               for a in arrays) and a0.dtype in (np.float32, np.float64)


def bias_relu(y, b, relu: bool) -> bool:
    """``y += b`` then, with ``relu``, ``max(y, 0)``, in place on a 2-D ``y``; False (nothing
    done) where the arrays do not suit the loop."""
    if not (_plain(y, b) and y.ndim == 2 and b.shape == (y.shape[1],)):
        return False
    _bias_relu(y, b, relu)
    return True


def relu_backward_bias(g, y):
    """``(g * (y > 0), that summed over rows)`` for 2-D ``g`` and ``y``, or None."""
    if not (_plain(g, y) and g.ndim == 2 and g.shape == y.shape and g.shape[1] > 1):
        return None
    out, gb = np.empty_like(g), np.empty(g.shape[1], g.dtype)
    _relu_mask_colsum(g, y, out, gb)
    return out, gb


def column_sums(g):
    """``g.sum(axis=0)`` for a 2-D ``g``, or None."""
    if not (_plain(g) and g.ndim == 2 and g.shape[1] > 1):
        return None
    gb = np.empty(g.shape[1], g.dtype)
    _colsum(g, gb)
    return gb
