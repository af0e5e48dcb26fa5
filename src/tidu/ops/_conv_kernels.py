"""Array-level convolution kernels (no autograd): im2col by kernel offset + one BLAS product.

Everything here works in one canonical layout: the data channels-last, ``(N, *spatial, C)``
(any strides: a channels-first array enters as a transposed view, without a copy), and the
kernel ``(*kernel, C // groups, O)`` (Keras's layout; PyTorch's ``(O, C // groups, *kernel)``
enters as a transposed view). The columns are built by one strided slab copy per kernel
offset (a Python loop over the few kernel offsets, never over pixels) into
``(groups, N * out_pixels, kernel_size * C // groups)``, which one (batched) matmul multiplies
by the kernel matrix. The two gradients are the same product turned around: the kernel
gradient is ``columns^T @ g`` and the input gradient is ``g @ kernel^T`` scattered back by
kernel offset (col2im). All three work on a few images at a time (``CHUNK_BYTES`` of columns),
so that the columns are never held whole nor kept for the backward pass: a convolution needs
little more memory than its input and output. Depthwise convolutions (one input channel per
group) skip the columns: a multiply-add of strided windows per kernel offset.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from ..backend import xp
from ..errors import ShapeError


class Geometry(NamedTuple):
    """One convolution's sizes, resolved for a given input."""

    pads: tuple  # (before, after) per spatial axis
    stride: tuple
    dilation: tuple
    kernel: tuple  # kernel extent per spatial axis (undilated)
    out: tuple  # output spatial sizes
    groups: int


def same_pads(size: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """TensorFlow's 'same' padding: ceil(n / s) outputs; the odd pixel goes after."""
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def geometry(name: str, size: tuple, kernel: tuple, stride: tuple, padding, dilation: tuple,
             groups: int) -> Geometry:
    """Resolve ``padding`` ('same' or (before, after) pairs) and the output sizes; errors name
    ``name`` and the sizes that do not fit."""
    pads = same_pads(size, kernel, stride, dilation) if padding == "same" else padding
    out = []
    for ax, (n, k, s, d, (lo, hi)) in enumerate(zip(size, kernel, stride, dilation, pads)):
        span = d * (k - 1) + 1
        if n + lo + hi < span:
            raise ShapeError(
                f"{name}: the kernel (size {k}, dilation {d}: spans {span}) is larger than the "
                f"padded input along spatial axis {ax} (size {n} + padding {lo}+{hi} = "
                f"{n + lo + hi}); use a smaller kernel or more padding")
        out.append((n + lo + hi - span) // s + 1)
    return Geometry(tuple(pads), stride, dilation, kernel, tuple(out), groups)


def _windows(geo: Geometry, offset: tuple) -> tuple:
    """The spatial slices that kernel ``offset`` reads from the padded input."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                 for i, d, s, o in zip(offset, geo.dilation, geo.stride, geo.out))


def pad_channels_last(x, pads: tuple):
    """``x`` (N, *S, C), any strides, zero-padded into a new C-contiguous array (or ``x``
    itself when there is nothing to pad)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = (x.shape[0], *(n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads)),
             x.shape[-1])
    out = xp.zeros(shape, dtype=x.dtype)
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[1:-1], pads))
    out[(slice(None), *inner)] = x
    return out


def _grouped(a, groups: int):
    """A view of channels-last ``a`` (N, *S, C) as (G, N, *S, C // G)."""
    cg = a.shape[-1] // groups
    return xp.moveaxis(a.reshape(*a.shape[:-1], groups, cg), -2, 0)


def columns(x, geo: Geometry, dtype):
    """im2col: (G, M, K * Cg) with M = N * out pixels, K = kernel offsets, one copy each."""
    xp_ = pad_channels_last(x, geo.pads)
    n, c, g = x.shape[0], x.shape[-1], geo.groups
    cols = xp.empty((g, n, *geo.out, *geo.kernel, c // g), dtype=dtype)
    src = _grouped(xp_, g)
    lead = (slice(None),) * (2 + len(geo.out))
    for off in _offsets(geo):
        cols[lead + off] = src[(slice(None), slice(None), *_windows(geo, off))]
    return cols.reshape(g, n * math.prod(geo.out), -1)


def kernel_matrix(w, groups: int, dtype):
    """The canonical kernel (*k, Cg, O) as (G, K * Cg, O // G)."""
    *k, cg, o = w.shape
    w = w.reshape(*k, cg, groups, o // groups)
    w = xp.moveaxis(w, -2, 0)
    return xp.asarray(w.reshape(groups, math.prod(k) * cg, o // groups), dtype=dtype)


CHUNK_BYTES = 8 << 20
"""The columns of one chunk of the batch stay about this size: the memory of a convolution
stays near that of its input and output, and each chunk's columns are still in cache when the
matmul reads them. Nothing is kept between forward and backward but the input."""


def _chunks(n: int, per_image: int) -> list:
    step = max(1, CHUNK_BYTES // max(per_image, 1))
    return [(a, min(a + step, n)) for a in range(0, n, step)]


def _rows(gy, a: int, b: int, groups: int):
    """Images a..b of channels-last ``gy`` (N, *out, O) as (G, M, O // G)."""
    o = gy.shape[-1]
    g2 = gy[a:b].reshape(-1, o)
    if groups == 1:
        return g2[None]
    return g2.reshape(-1, groups, o // groups).transpose(1, 0, 2)


def _offsets(geo: Geometry):
    return itertools.product(*(range(k) for k in geo.kernel))


def _depthwise(geo: Geometry, cg: int) -> bool:
    """One input channel per group (depthwise): element-wise products beat tiny matmuls."""
    return geo.groups > 1 and cg == 1


def _dw_forward(x, w, geo: Geometry, dtype):
    """Depthwise: y[..., c, j] = sum over offsets of x_window[..., c] * w[offset, c, j]."""
    xp_ = pad_channels_last(x, geo.pads)
    n, c = x.shape[0], x.shape[-1]
    m = w.shape[-1] // c
    wk = w.reshape(*geo.kernel, c, m).astype(dtype, copy=False)
    y = xp.zeros((n, *geo.out, c, m), dtype=dtype)
    tmp = xp.empty_like(y)
    for off in _offsets(geo):
        win = xp_[(slice(None), *_windows(geo, off))][..., None]
        xp.multiply(win, wk[off], out=tmp)
        y += tmp
    return y.reshape(n, *geo.out, c * m)


def _dw_input_grad(gy, w, size, geo: Geometry, dtype):
    n, c = gy.shape[0], geo.groups
    m = w.shape[-1] // c
    wk = w.reshape(*geo.kernel, c, m).astype(dtype, copy=False)
    g5 = gy.reshape(*gy.shape[:-1], c, m)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, geo.pads))
    dx = xp.zeros((n, *padded, c), dtype=dtype)
    tmp = xp.empty(gy.shape[:-1] + (c,), dtype=dtype)
    for off in _offsets(geo):
        if m == 1:
            xp.multiply(g5[..., 0], wk[off][:, 0], out=tmp)
        else:
            xp.einsum("...cj,cj->...c", g5, wk[off], out=tmp)
        dx[(slice(None), *_windows(geo, off))] += tmp
    return dx


def _dw_weight_grad(x, gy, w_shape, geo: Geometry, dtype):
    xp_ = pad_channels_last(x, geo.pads)
    c = x.shape[-1]
    m = w_shape[-1] // c
    g5 = gy.reshape(-1, c, m).astype(dtype, copy=False)
    dw = xp.empty((*geo.kernel, c, m), dtype=dtype)
    for off in _offsets(geo):
        win = xp_[(slice(None), *_windows(geo, off))].astype(dtype, copy=False)
        win = win.reshape(-1, c)  # a copy: the window is strided
        dw[off] = xp.einsum("pc,pcj->cj", win, g5)
    return dw.reshape(w_shape)


def conv_forward(x, w, bias, geo: Geometry):
    """Channels-last output (N, *out, O) of x (N, *S, C) with kernel w (*k, Cg, O)."""
    dtype = xp.result_type(x.dtype, w.dtype)
    if _depthwise(geo, w.shape[-2]):
        y = _dw_forward(x, w, geo, dtype)
    else:
        n, g = x.shape[0], geo.groups
        wm = kernel_matrix(w, g, dtype)  # (G, K * Cg, Og)
        pix, o = math.prod(geo.out), w.shape[-1]
        y = xp.empty((n * pix, o), dtype=dtype)
        for a, b in _chunks(n, pix * w.shape[-2] * math.prod(geo.kernel) * g * y.itemsize):
            cols = columns(x[a:b], geo, dtype)
            if g == 1:
                xp.matmul(cols[0], wm[0], out=y[a * pix:b * pix])
            else:
                y[a * pix:b * pix] = xp.matmul(cols, wm).transpose(1, 0, 2).reshape(-1, o)
        y = y.reshape(n, *geo.out, o)
    if bias is not None:
        y += bias.astype(dtype, copy=False)
    return y


def conv_input_grad(gy, w, size: tuple, geo: Geometry):
    """The gradient with respect to the input (N, *size, C): ``g @ kernel^T``, col2im."""
    dtype = xp.result_type(gy.dtype, w.dtype)
    if _depthwise(geo, w.shape[-2]):
        return _crop(_dw_input_grad(gy, w, size, geo, dtype), size, geo)
    n, g, cg = gy.shape[0], geo.groups, w.shape[-2]
    wt = kernel_matrix(w, g, dtype).transpose(0, 2, 1)  # (G, Og, K * Cg)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, geo.pads))
    pad = padded != tuple(size)
    dx = xp.empty((n, *size, g * cg), dtype=dtype)
    lead = (slice(None),) * (2 + len(geo.out))
    per_image = math.prod(geo.out) * math.prod(geo.kernel) * cg * g * dx.itemsize
    wc = w.astype(dtype, copy=False)
    for a, b in _chunks(n, per_image):
        gc = _rows(gy, a, b, g)
        if pad:
            part = xp.zeros((b - a, *padded, g * cg), dtype=dtype)
        else:
            part = dx[a:b]
            part.fill(0)
        if g == 1:  # one product per kernel offset into a contiguous buffer, then its add
            tmp = xp.empty((gc.shape[1], cg), dtype=dtype)
            for off in _offsets(geo):
                xp.matmul(gc[0], wc[off].T, out=tmp)
                part[(slice(None), *_windows(geo, off))] += tmp.reshape(b - a, *geo.out, cg)
        else:
            dcols = xp.matmul(gc, wt).reshape(g, b - a, *geo.out, *geo.kernel, cg)
            dst = _grouped(part, g)
            for off in _offsets(geo):
                dst[(slice(None), slice(None), *_windows(geo, off))] += dcols[lead + off]
        if pad:
            dx[a:b] = _crop(part, size, geo)
    return dx


def _crop(dx, size, geo: Geometry):
    """The padded input gradient without its padding."""
    if any(lo or hi for lo, hi in geo.pads):
        dx = dx[(slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, geo.pads)))]
    return dx


def conv_weight_grad(x, gy, w_shape: tuple, geo: Geometry):
    """The gradient with respect to the canonical kernel (*k, Cg, O): ``columns^T @ g``,
    summed over chunks of the batch."""
    dtype = xp.result_type(x.dtype, gy.dtype)
    if _depthwise(geo, w_shape[-2]):
        return _dw_weight_grad(x, gy, w_shape, geo, dtype)
    g, n = geo.groups, x.shape[0]
    *k, cg, o = w_shape
    dw = xp.zeros((g, math.prod(k) * cg, o // g), dtype=dtype)
    per_image = math.prod(geo.out) * math.prod(k) * cg * g * dw.itemsize
    for a, b in _chunks(n, per_image):
        cols = columns(x[a:b], geo, dtype)
        gc = _rows(gy, a, b, g).astype(dtype, copy=False)
        if g == 1:  # the longer side of dw as the product's rows: OpenBLAS threads split
            # those, and a skinny split (9 x 32 for a 3x3 kernel on one channel) can stall
            dw[0] += cols[0].T @ gc[0] if dw.shape[1] >= dw.shape[2] else (gc[0].T @ cols[0]).T
        else:
            dw += xp.matmul(cols.transpose(0, 2, 1), gc)
    dw = dw.reshape(g, *k, cg, o // g)
    return xp.moveaxis(dw, 0, -2).reshape(w_shape)
