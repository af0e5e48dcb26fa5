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
little more memory than its input and output. Backward (:func:`conv_grads`) takes the bias,
kernel and input gradients, and ConvReLU's mask, in one sweep over those chunks. Depthwise
convolutions (one input channel per group) skip the columns: a multiply-add of strided
windows per kernel offset.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy

from .. import accel
from ..backend import namespace, recycle, xp
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
    out = xp.zeros_like(x, shape=shape, order="C")
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[1:-1], pads))
    out[(slice(None), *inner)] = x
    return out


def _grouped(a, groups: int):
    """A view of channels-last ``a`` (N, *S, C) as (G, N, *S, C // G)."""
    cg = a.shape[-1] // groups
    return xp.moveaxis(a.reshape(*a.shape[:-1], groups, cg), -2, 0)


def _patches(x, geo: Geometry):
    """Every kernel window of ``x`` (N, *S, C) as one strided view (no copy), shaped
    (G, N, *out, *kernel, C // G): the columns before their copy."""
    src = _grouped(pad_channels_last(x, geo.pads), geo.groups)
    nd = len(geo.out)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(geo.kernel, geo.dilation))
    view = namespace(x).lib.stride_tricks.sliding_window_view(
        src, spans, axis=tuple(range(2, 2 + nd)))  # (G, N, *positions, Cg, *spans)
    index = (slice(None), slice(None),
             *(slice(0, s * (o - 1) + 1, s) for s, o in zip(geo.stride, geo.out)),
             slice(None), *(slice(None, None, d) for d in geo.dilation))
    view = view[index]
    return view.transpose(0, 1, *range(2, 2 + nd), *range(3 + nd, 3 + 2 * nd), 2 + nd)


def _compiled(geo: Geometry):
    """The compiled im2col/col2im (:mod:`tidu.accel.conv`) when they are on and the
    convolution is 2-D with one group, else None (each array still asks ``usable``)."""
    if len(geo.out) != 2 or geo.groups != 1:
        return None
    return accel.kernels("conv")


def columns(x, geo: Geometry, dtype):
    """im2col: (G, M, K * Cg) with M = N * out pixels, K = kernel offsets: one strided copy
    (the inner runs are a kernel row's width times Cg long), or one compiled loop."""
    k = _compiled(geo)
    if k is not None:
        padded = pad_channels_last(x, geo.pads)
        if k.usable(padded, geo, dtype):
            return k.columns(padded, geo)[None]
    patches = _patches(x, geo)
    cols = xp.empty_like(x, shape=patches.shape, dtype=dtype, order="C")
    cols[...] = patches
    return cols.reshape(geo.groups, x.shape[0] * math.prod(geo.out), -1)


def columns_t(x, geo: Geometry, dtype, ones: bool = False):
    """The transposed columns of one group, (K * C, M) (+ a last row of ones with ``ones``,
    which carries the bias through the product): for few input channels, whose im2col rows
    would be short, this copy runs along the output rows instead."""
    patches = _patches(x, geo)[0]  # (N, *out, *k, C)
    nd = len(geo.out)
    view = patches.transpose(*range(1 + nd, 2 + 2 * nd), 0, *range(1, 1 + nd))
    k_c = math.prod(view.shape[:nd + 1])
    m = x.shape[0] * math.prod(geo.out)
    cols = recycle.like(x, (k_c + ones, m), dtype)
    cols[:k_c].reshape(view.shape)[...] = view
    if ones:
        cols[k_c] = 1
    return cols


def kernel_matrix(w, groups: int, dtype):
    """The canonical kernel (*k, Cg, O) as (G, K * Cg, O // G)."""
    *k, cg, o = w.shape
    w = w.reshape(*k, cg, groups, o // groups)
    w = xp.moveaxis(w, -2, 0)
    return w.reshape(groups, math.prod(k) * cg, o // groups).astype(dtype, copy=False)


CHUNK_BYTES = 2 << 20
"""The columns of one chunk of the batch stay about this size: the memory of a convolution
stays near that of its input and output, and each chunk's columns are still in cache when the
matmul reads them. Nothing is kept between forward and backward but the input. Measured on
the MNIST convnet (2-core AMD EPYC, 512 KiB L2 per core, 32 MiB L3; 5,120 images, CPU time,
interleaved with torch): 8 MiB 1.31x torch, 2 MiB 1.11x, 1 MiB 1.18x with one thread; no
difference between 1 and 8 MiB with two threads; 512 KiB slower in both."""

SHORT_ROWS = 16
"""Below this many contiguous elements per kernel row (kernel width x channels per group),
one group's columns are built transposed (:func:`columns_t`)."""


def _image_bytes(geo: Geometry, cg: int, itemsize: int) -> int:
    """The bytes of one image's columns: what :func:`_chunks` divides ``CHUNK_BYTES`` by, the
    same for the forward pass and both gradients, so their chunks line up."""
    return math.prod(geo.out) * math.prod(geo.kernel) * cg * geo.groups * itemsize


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


def _transposed(geo: Geometry, cg: int) -> bool:
    """Whether one group's columns are better built transposed (short kernel rows)."""
    return geo.groups == 1 and geo.kernel[-1] * cg < SHORT_ROWS


_BLAS_WARM = False


def _warm_blas(x) -> None:
    """One 512 x 512 float32 product, once per process, before the first convolution's.

    OpenBLAS (the build NumPy wheels ship, measured 0.3.31 on x86_64) runs the narrow
    products of a convolution (15488 x 288 by 288 x 64 in the MNIST convnet) at half speed
    until some product has used a larger packing block: 35 -> 18 ms for that product, and
    one training step of the convnet 192 -> 143 ms, measured with one thread. It costs a few
    milliseconds once. Only for NumPy arrays (the cause is OpenBLAS's)."""
    global _BLAS_WARM
    _BLAS_WARM = True
    if type(x) is numpy.ndarray:
        a = numpy.ones((512, 512), dtype=numpy.float32)
        a @ a


def _depthwise(geo: Geometry, cg: int) -> bool:
    """One input channel per group (depthwise): element-wise products beat tiny matmuls."""
    return geo.groups > 1 and cg == 1


def _dw_forward(x, w, geo: Geometry, dtype):
    """Depthwise: y[..., c, j] = sum over offsets of x_window[..., c] * w[offset, c, j]."""
    xp_ = pad_channels_last(x, geo.pads)
    n, c = x.shape[0], x.shape[-1]
    m = w.shape[-1] // c
    wk = w.reshape(*geo.kernel, c, m).astype(dtype, copy=False)
    y = xp.zeros_like(x, shape=(n, *geo.out, c, m), dtype=dtype, order="C")
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
    dx = xp.zeros_like(gy, shape=(n, *padded, c), dtype=dtype, order="C")
    tmp = xp.empty_like(gy, shape=gy.shape[:-1] + (c,), dtype=dtype, order="C")
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
    dw = xp.empty_like(x, shape=(*geo.kernel, c, m), dtype=dtype, order="C")
    for off in _offsets(geo):
        win = xp_[(slice(None), *_windows(geo, off))].astype(dtype, copy=False)
        win = win.reshape(-1, c)  # a copy: the window is strided
        dw[off] = xp.einsum("pc,pcj->cj", win, g5)
    return dw.reshape(w_shape)


def _finish_rows(yc, bias, relu: bool) -> bool:
    """``yc += bias`` and, with ``relu``, ``max(yc, 0)``, in place on a chunk of output rows
    just written (still in cache), in one compiled pass; False, nothing done, where that loop
    does not apply (the caller then finishes the whole output with NumPy)."""
    if bias is None:
        if relu:
            accel.relu_(yc)
        return True
    return accel.bias_relu(yc, bias, relu)


def conv_forward(x, w, bias, geo: Geometry, relu: bool = False):
    """Channels-last output (N, *out, O) of x (N, *S, C) with kernel w (*k, Cg, O); with
    ``relu``, ``max(conv + bias, 0)`` (ConvReLU's), applied chunk by chunk after each product
    where it can be, else over the whole output: the same bits either way."""
    if not _BLAS_WARM:
        _warm_blas(x)
    dtype = xp.result_type(x.dtype, w.dtype)
    bias = None if bias is None else bias.astype(dtype, copy=False)
    if _depthwise(geo, w.shape[-2]):
        y = _dw_forward(x, w, geo, dtype)
    else:
        n, g, cg = x.shape[0], geo.groups, w.shape[-2]
        wm = kernel_matrix(w, g, dtype)  # (G, K * Cg, Og)
        pix, o = math.prod(geo.out), w.shape[-1]
        y = recycle.like(x, (n * pix, o), dtype)
        per_image = _image_bytes(geo, cg, y.itemsize)
        if _transposed(geo, cg):
            if bias is not None:  # the bias as one more row of the kernel matrix
                wm = xp.concatenate([wm[0], bias[None]])[None]
            for a, b in _chunks(n, per_image):
                cols = columns_t(x[a:b], geo, dtype, ones=bias is not None)
                yc = y[a * pix:b * pix]
                xp.matmul(cols.T, wm[0], out=yc)
                if relu:
                    accel.relu_(yc)
            return y.reshape(n, *geo.out, o)
        done = g == 1  # bias and rectifier applied chunk by chunk
        for a, b in _chunks(n, per_image):
            cols = columns(x[a:b], geo, dtype)
            yc = y[a * pix:b * pix]
            if g == 1:
                xp.matmul(cols[0], wm[0], out=yc)
                done = done and _finish_rows(yc, bias, relu)
            else:
                yc[...] = xp.matmul(cols, wm).transpose(1, 0, 2).reshape(-1, o)
        y = y.reshape(n, *geo.out, o)
        if done:
            return y
    if bias is not None:
        y += bias
    if relu:
        accel.relu_(y)
    return y


class _InputGrad:
    """The input gradient (N, *size, C) of one call, ``g @ kernel^T`` scattered back by kernel
    offset (col2im), written chunk by chunk of the batch into ``dx``."""

    def __init__(self, gy, w, size: tuple, geo: Geometry, dtype):
        n, g, cg = gy.shape[0], geo.groups, w.shape[-2]
        self.gy, self.geo, self.dtype, self.size, self.cg = gy, geo, dtype, size, cg
        self.wt = kernel_matrix(w, g, dtype).transpose(0, 2, 1)  # (G, Og, K * Cg)
        self.wc = w.astype(dtype, copy=False)
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, geo.pads))
        self.pad = self.padded != tuple(size)
        self.dx = recycle.like(gy, (n, *size, g * cg), dtype)
        self.per_image = _image_bytes(geo, cg, self.dx.itemsize)
        self.compiled = _compiled(geo)

    def chunk(self, gc, a: int, b: int) -> None:
        """Images a..b from their output gradient ``gc`` (G, M, Og)."""
        geo, dtype, gy, g, cg = self.geo, self.dtype, self.gy, self.geo.groups, self.cg
        if self.pad:
            part = xp.zeros_like(gy, shape=(b - a, *self.padded, g * cg), dtype=dtype,
                                 order="C")
        else:
            part = self.dx[a:b]
            part.fill(0)
        if self.compiled is not None and self.compiled.usable(part, geo, dtype):
            # one product for all offsets, then one compiled col2im
            dcols = recycle.like(gy, (gc.shape[1], self.wt.shape[2]), dtype)
            self.compiled.add_columns(xp.matmul(gc[0], self.wt[0], out=dcols), geo, part)
        elif g == 1:  # one product per kernel offset into a contiguous buffer, then its add
            tmp = xp.empty_like(gy, shape=(gc.shape[1], cg), dtype=dtype, order="C")
            for off in _offsets(geo):
                xp.matmul(gc[0], self.wc[off].T, out=tmp)
                part[(slice(None), *_windows(geo, off))] += tmp.reshape(b - a, *geo.out, cg)
        else:
            lead = (slice(None),) * (2 + len(geo.out))
            dcols = xp.matmul(gc, self.wt).reshape(g, b - a, *geo.out, *geo.kernel, cg)
            dst = _grouped(part, g)
            for off in _offsets(geo):
                dst[(slice(None), slice(None), *_windows(geo, off))] += dcols[lead + off]
        if self.pad:
            self.dx[a:b] = _crop(part, self.size, geo)


def conv_input_grad(gy, w, size: tuple, geo: Geometry):
    """The gradient with respect to the input (N, *size, C): ``g @ kernel^T``, col2im."""
    dtype = xp.result_type(gy.dtype, w.dtype)
    if _depthwise(geo, w.shape[-2]):
        return _crop(_dw_input_grad(gy, w, size, geo, dtype), size, geo)
    grad = _InputGrad(gy, w, size, geo, dtype)
    for a, b in _chunks(gy.shape[0], grad.per_image):
        grad.chunk(_rows(gy, a, b, geo.groups), a, b)
    return grad.dx


def _crop(dx, size, geo: Geometry):
    """The padded input gradient without its padding."""
    if any(lo or hi for lo, hi in geo.pads):
        dx = dx[(slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, geo.pads)))]
    return dx


LONG_BLOCK = 1024
"""Block length of :func:`_long_product`'s reduction."""


def _long_product(a, b):
    """``a @ b`` for ``a`` (P, M) and ``b`` (M, Q) with small P and Q and a long M (the kernel
    gradient of a convolution on few channels: 9 x 86528 by 86528 x 32 in the MNIST convnet's
    first layer). OpenBLAS runs one such product slowly; the sum of the products of blocks
    of M, one batched matmul, is several times faster (2.8 -> 0.55 ms there, one thread)."""
    p, m = a.shape
    nb = m // LONG_BLOCK
    if nb < 2:
        return a @ b
    cut = nb * LONG_BLOCK
    out = xp.matmul(a[:, :cut].reshape(p, nb, LONG_BLOCK).transpose(1, 0, 2),
                    b[:cut].reshape(nb, LONG_BLOCK, b.shape[1])).sum(axis=0)
    if cut < m:
        out += a[:, cut:] @ b[cut:]
    return out


class _WeightGrad:
    """The kernel gradient (*k, Cg, O) of one call, ``columns^T @ g`` summed chunk by chunk
    of the batch."""

    def __init__(self, x, w_shape: tuple, geo: Geometry, dtype):
        g = geo.groups
        *k, cg, o = w_shape
        self.x, self.geo, self.dtype, self.w_shape = x, geo, dtype, w_shape
        self.dw = xp.zeros_like(x, shape=(g, math.prod(k) * cg, o // g), dtype=dtype,
                                order="C")
        self.per_image = _image_bytes(geo, cg, self.dw.itemsize)
        self.transposed = _transposed(geo, cg)

    def chunk(self, gc, a: int, b: int) -> None:
        """Add images a..b from their output gradient ``gc`` (G, M, Og)."""
        x, geo, dtype, dw = self.x, self.geo, self.dtype, self.dw
        gc = gc.astype(dtype, copy=False)
        if self.transposed:
            dw[0] += _long_product(columns_t(x[a:b], geo, dtype), gc[0])  # (K * C, M) @ g
        elif geo.groups == 1:
            cols = columns(x[a:b], geo, dtype)[0].T
            # the longer side of dw as the product's rows: OpenBLAS threads split those, and
            # a skinny split (9 x 32 for a 3x3 kernel on one channel) can stall
            dw[0] += cols @ gc[0] if dw.shape[1] >= dw.shape[2] else (gc[0].T @ cols.T).T
        else:
            dw += xp.matmul(columns(x[a:b], geo, dtype).transpose(0, 2, 1), gc)

    def result(self):
        g, (*k, cg, o) = self.geo.groups, self.w_shape
        dw = self.dw.reshape(g, *k, cg, o // g)
        return xp.moveaxis(dw, 0, -2).reshape(self.w_shape)


def conv_weight_grad(x, gy, w_shape: tuple, geo: Geometry):
    """The gradient with respect to the canonical kernel (*k, Cg, O): ``columns^T @ g``,
    summed over chunks of the batch."""
    if not _BLAS_WARM:
        _warm_blas(x)
    dtype = xp.result_type(x.dtype, gy.dtype)
    if _depthwise(geo, w_shape[-2]):
        return _dw_weight_grad(x, gy, w_shape, geo, dtype)
    grad = _WeightGrad(x, w_shape, geo, dtype)
    for a, b in _chunks(x.shape[0], grad.per_image):
        grad.chunk(_rows(gy, a, b, geo.groups), a, b)
    return grad.result()


def bias_grad(gc):
    """The bias gradient: ``gc`` (N, *out, O) summed over all but its last axis; a product
    with ones when contiguous (one BLAS pass: 4.1 -> 1.3 ms for (128, 26, 26, 32) float32,
    and a smaller rounding error than the row-by-row sum)."""
    if gc.flags.c_contiguous and gc.ndim > 1:
        g2 = gc.reshape(-1, gc.shape[-1])
        return xp.ones_like(g2, shape=(g2.shape[0],), order="C") @ g2
    return gc.sum(axis=tuple(range(gc.ndim - 1)))


def conv_grads(x, gy, w, geo: Geometry, needs: tuple, relu=None) -> tuple:
    """The input, kernel and bias gradients (None where ``needs`` says no) of
    :func:`conv_forward` from its channels-last output gradient ``gy``; with ``relu`` (the
    output of ``relu(conv)``, ConvReLU's) the gradient is masked by ``relu > 0`` first.

    One sweep over chunks of the batch: each chunk of ``gy`` is masked into a buffer that
    stays in cache, and its bias sum and both products read it there, instead of a masked
    copy of the whole gradient that three passes read back from memory. The bias gradient is
    the sum of the chunks' sums. Grouped, depthwise and mixed-dtype convolutions, and a
    gradient that is not C-contiguous, take the separate functions."""
    need_x, need_w, need_b = needs
    o = gy.shape[-1]
    if (geo.groups != 1 or not (x.dtype == gy.dtype == w.dtype) or not gy.flags.c_contiguous
            or type(gy) is not numpy.ndarray
            or (relu is not None and not (relu.flags.c_contiguous and relu.shape == gy.shape
                                          and relu.dtype == gy.dtype))):
        if relu is not None:
            gy = accel.relu_backward(gy, relu)
        return (conv_input_grad(gy, w, x.shape[1:-1], geo) if need_x else None,
                conv_weight_grad(x, gy, w.shape, geo) if need_w else None,
                bias_grad(gy) if need_b else None)
    if not _BLAS_WARM:
        _warm_blas(x)
    dtype, n, pix = gy.dtype, gy.shape[0], math.prod(geo.out)
    wgrad = _WeightGrad(x, w.shape, geo, dtype) if need_w else None
    xgrad = _InputGrad(gy, w, x.shape[1:-1], geo, dtype) if need_x else None
    db = xp.zeros(o, dtype) if need_b else None
    g2 = gy.reshape(-1, o)
    r2 = None if relu is None else relu.reshape(-1, o)
    chunks = _chunks(n, _image_bytes(geo, w.shape[-2], gy.itemsize))
    buf = None  # the masked chunk: one buffer, sized by the first (largest) chunk
    if relu is not None and chunks:
        buf = recycle.empty(((chunks[0][1] - chunks[0][0]) * pix, o), dtype)
    for a, b in chunks:
        gc = g2[a * pix:b * pix]
        if r2 is not None:
            gc = accel.relu_backward(gc, r2[a * pix:b * pix], out=buf[:len(gc)])
        if need_b:
            db += bias_grad(gc)
        if need_w:
            wgrad.chunk(gc[None], a, b)
        if need_x:
            xgrad.chunk(gc[None], a, b)
    return (xgrad.dx if need_x else None, wgrad.result() if need_w else None, db)
