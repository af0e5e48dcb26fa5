"""im2col and col2im of a 2-D convolution as compiled loops (numba), channels-last, one group.

NumPy builds the columns with one strided copy through a six-axis view, and scatters their
gradient back with one strided add per kernel offset; on the MNIST convnet's second layer
(128 x 13 x 13 x 32, 3 x 3 kernel) the copy took 2.8 ms and the input gradient 10-12 ms,
where these loops take 1.6 ms and 7.6 ms (two BLAS threads, 2-core Xeon). The
columns are copied values, and the scatter adds each element's contributions in the order
of the kernel offsets, as NumPy's adds do, so both give the same bits
(:mod:`tidu.ops._conv_kernels` keeps the NumPy code for everything else).
"""

from __future__ import annotations

import numba
import numpy as np

from ..backend import recycle

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def _im2col(x, sh, sw, dh, dw, cols):
    """cols[n, p, q, i, j, c] = x[n, p * sh + i * dh, q * sw + j * dw, c]."""
    n_, oh, ow, kh, kw, c_ = cols.shape
    for n in range(n_):
        for p in range(oh):
            for q in range(ow):
                for i in range(kh):
                    for j in range(kw):
                        h, w = p * sh + i * dh, q * sw + j * dw
                        for c in range(c_):
                            cols[n, p, q, i, j, c] = x[n, h, w, c]


@_jit
def _col2im(dcols, sh, sw, dh, dw, out):
    """out[n, p * sh + i * dh, q * sw + j * dw, c] += dcols[n, p, q, i, j, c], offset by offset
    (``out`` zeroed by the caller)."""
    n_, oh, ow, kh, kw, c_ = dcols.shape
    for n in range(n_):
        for i in range(kh):
            for j in range(kw):
                for p in range(oh):
                    for q in range(ow):
                        h, w = p * sh + i * dh, q * sw + j * dw
                        for c in range(c_):
                            out[n, h, w, c] += dcols[n, p, q, i, j, c]


def usable(x, geo, dtype) -> bool:
    """A C-contiguous float32/float64 NumPy array (N, H, W, C) of ``dtype``, one group."""
    return (type(x) is np.ndarray and x.ndim == 4 and geo.groups == 1 and x.dtype == dtype
            and dtype in (np.float32, np.float64) and x.flags.c_contiguous)


def columns(x, geo):
    """The columns (N * out pixels, kh * kw * C) of the padded input ``x``."""
    (oh, ow), (kh, kw) = geo.out, geo.kernel
    cols = recycle.empty((x.shape[0], oh, ow, kh, kw, x.shape[3]), x.dtype)
    _im2col(x, *geo.stride, *geo.dilation, cols)
    return cols.reshape(x.shape[0] * oh * ow, -1)


def add_columns(dcols, geo, out) -> None:
    """col2im: add ``dcols`` (N * out pixels, kh * kw * C) into the zeroed, padded input
    gradient ``out`` (N, H, W, C)."""
    (oh, ow), (kh, kw) = geo.out, geo.kernel
    _col2im(dcols.reshape(out.shape[0], oh, ow, kh, kw, out.shape[3]), *geo.stride,
            *geo.dilation, out)
