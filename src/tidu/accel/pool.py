"""Max pooling as compiled loops (numba), for channels-last 2-D inputs whose windows do not
overlap (stride at least the kernel, no padding, no dilation: Keras's MaxPooling2D default).

NumPy's kernels (:mod:`tidu.ops._pool`) take a pass over the input per kernel offset, and
the gradient builds a boolean mask per offset to find each window's first maximum. Here the
forward pass reads each input element once and writes the maximum and the offset that holds
it (PyTorch's choice: the first of equal maxima, the last NaN); the backward pass writes each
input element once, the gradient at the recorded offset and zero elsewhere. The maxima are
the same values; each input element receives at most one output's gradient (the windows do
not overlap), so the gradient is the same bits as well.
"""

from __future__ import annotations

import numba
import numpy as np

from ..backend import recycle

_jit = numba.njit(nogil=True, error_model="numpy", cache=True)


@_jit
def max_forward(x, kh, kw, sh, sw, out, arg):
    """out[n, p, q, c] = max over the window at (p * sh, q * sw); arg = its offset i * kw + j."""
    n_, oh, ow, c_ = out.shape
    for n in range(n_):
        for p in range(oh):
            for q in range(ow):
                h0, w0 = p * sh, q * sw
                for c in range(c_):
                    out[n, p, q, c] = x[n, h0, w0, c]
                    arg[n, p, q, c] = 0
                for i in range(kh):
                    for j in range(kw):
                        if i == 0 and j == 0:
                            continue
                        k = i * kw + j
                        for c in range(c_):
                            v = x[n, h0 + i, w0 + j, c]
                            if v > out[n, p, q, c] or v != v:
                                out[n, p, q, c] = v
                                arg[n, p, q, c] = k


@_jit
def max_backward(g, arg, maxima, kh, kw, sh, sw, gx):
    """gx[window element] = g where the element is the window's recorded maximum, else 0;
    elements outside every window are left as they are (the caller zeroes them).

    With ``maxima`` (the pooled values, not None) a rectifier's backward on the pooled input
    ``x`` follows in the same pass: the maximum gets ``g * (1 if maximum > 0 else 0)`` (the
    maximum is that very element of ``x``), as ``g * (x > 0)`` gives after the scatter; zero
    elsewhere either way. numba compiles the None case without the mask."""
    n_, oh, ow, c_ = g.shape
    zero, one = gx.dtype.type(0), gx.dtype.type(1)
    for n in range(n_):
        for p in range(oh):
            for q in range(ow):
                h0, w0 = p * sh, q * sw
                for i in range(kh):
                    for j in range(kw):
                        k = i * kw + j
                        for c in range(c_):
                            if arg[n, p, q, c] != k:
                                gx[n, h0 + i, w0 + j, c] = zero
                            elif maxima is None:
                                gx[n, h0 + i, w0 + j, c] = g[n, p, q, c]
                            else:
                                gx[n, h0 + i, w0 + j, c] = g[n, p, q, c] * (
                                    one if maxima[n, p, q, c] > 0 else zero)


def usable(x, geom) -> bool:
    """Whether these kernels apply: a C-contiguous float32/float64 NumPy array (N, H, W, C)
    pooled over axes (1, 2) by windows that do not overlap, without padding or dilation."""
    return (type(x) is np.ndarray and x.ndim == 4 and tuple(geom.axes) == (1, 2)
            and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous
            and not geom.padded() and all(d == 1 for d in geom.dilation)
            and all(s >= k for s, k in zip(geom.stride, geom.kernel))
            and geom.kernel[0] * geom.kernel[1] <= 127)  # offsets fit int8


def forward(x, geom):
    """The maxima (N, *out, C) and their offsets (int8), for a ``usable`` input."""
    (kh, kw), (sh, sw) = geom.kernel, geom.stride
    shape = (x.shape[0], *geom.out, x.shape[3])
    out = recycle.empty(shape, x.dtype)
    arg = recycle.empty(shape, np.int8)
    max_forward(x, kh, kw, sh, sw, out, arg)
    return out, arg


def backward(g, arg, shape, geom, mask=None):
    """The input gradient of :func:`forward` from the output gradient ``g``; with ``mask``
    (the maxima ``forward`` returned), also masked by ``x > 0`` as a rectifier's backward
    would mask it, ``x`` being the pooled input (:func:`max_backward`)."""
    (kh, kw), (sh, sw) = geom.kernel, geom.stride
    oh, ow = geom.out
    tiles = sh == kh and sw == kw and oh * sh == shape[1] and ow * sw == shape[2]
    gx = (recycle.empty if tiles else recycle.zeros)(shape, g.dtype)
    if g.dtype != gx.dtype or not g.flags.c_contiguous:
        g = np.ascontiguousarray(g, dtype=gx.dtype)
    max_backward(g, arg, mask, kh, kw, sh, sw, gx)
    return gx
