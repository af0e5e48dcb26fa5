"""Array-level convolution kernels (no autograd): im2col by kernel offset + one BLAS product.

Everything here works in one canonical layout: the data channels-last, ``(N, *spatial, C)``
(any strides: a channels-first array enters as a transposed view, without a copy), and the
kernel ``(*kernel, C // groups, O)`` (Keras's layout; PyTorch's ``(O, C // groups, *kernel)``
enters as a transposed view). The columns are built by one strided slab copy per kernel
offset (a Python loop over the few kernel offsets, never over pixels) into
``(groups, N * out_pixels, kernel_size * C // groups)``, which one (batched) matmul multiplies
by the kernel matrix. The two gradients are the same product turned around: the kernel
gradient is ``columns^T @ g`` and the input gradient is ``g @ kernel^T`` scattered back by
kernel offset (col2im).
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
    for off in itertools.product(*(range(k) for k in geo.kernel)):
        cols[lead + off] = src[(slice(None), slice(None), *_windows(geo, off))]
    return cols.reshape(g, n * math.prod(geo.out), -1)


def kernel_matrix(w, groups: int, dtype):
    """The canonical kernel (*k, Cg, O) as (G, K * Cg, O // G)."""
    *k, cg, o = w.shape
    w = w.reshape(*k, cg, groups, o // groups)
    w = xp.moveaxis(w, -2, 0)
    return xp.asarray(w.reshape(groups, math.prod(k) * cg, o // groups), dtype=dtype)


def _from_groups(y, n: int, out: tuple):
    """(G, M, Og) to channels-last (N, *out, G * Og)."""
    g, m, og = y.shape
    y = y[0] if g == 1 else y.transpose(1, 0, 2).reshape(m, g * og)
    return y.reshape(n, *out, g * og)


def _to_groups(gy, groups: int):
    """Channels-last (N, *out, O) to (G, M, Og)."""
    o = gy.shape[-1]
    m = gy.size // o if o else 0
    if groups == 1:
        return gy.reshape(1, m, o)
    return xp.moveaxis(gy.reshape(m, groups, o // groups), 1, 0)


def conv_forward(x, w, bias, geo: Geometry, keep_cols: bool):
    """Channels-last output (N, *out, O) of x (N, *S, C) with kernel w (*k, Cg, O); also the
    columns when ``keep_cols`` (for the kernel gradient)."""
    dtype = xp.result_type(x.dtype, w.dtype)
    cols = columns(x, geo, dtype)
    y = xp.matmul(cols, kernel_matrix(w, geo.groups, dtype))
    y = _from_groups(y, x.shape[0], geo.out)
    if bias is not None:
        y += bias.astype(dtype, copy=False)
    return y, (cols if keep_cols else None)


def conv_input_grad(gy, w, size: tuple, geo: Geometry):
    """The gradient with respect to the input (N, *size, C): ``g @ kernel^T``, col2im."""
    dtype = xp.result_type(gy.dtype, w.dtype)
    n, g = gy.shape[0], geo.groups
    wm = kernel_matrix(w, g, dtype)  # (G, K * Cg, Og)
    dcols = xp.matmul(_to_groups(gy, g), wm.transpose(0, 2, 1))  # (G, M, K * Cg)
    cg = w.shape[-2]
    dcols = dcols.reshape(g, n, *geo.out, *geo.kernel, cg)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, geo.pads))
    dx = xp.zeros((n, *padded, g * cg), dtype=dtype)
    dst = _grouped(dx, g)
    lead = (slice(None),) * (2 + len(geo.out))
    for off in itertools.product(*(range(k) for k in geo.kernel)):
        dst[(slice(None), slice(None), *_windows(geo, off))] += dcols[lead + off]
    if any(lo or hi for lo, hi in geo.pads):
        dx = dx[(slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, geo.pads)))]
    return dx


def conv_weight_grad(x, gy, w_shape: tuple, geo: Geometry, cols=None):
    """The gradient with respect to the canonical kernel (*k, Cg, O): ``columns^T @ g``."""
    dtype = xp.result_type(x.dtype, gy.dtype)
    if cols is None:
        cols = columns(x, geo, dtype)
    g = geo.groups
    dw = xp.matmul(cols.transpose(0, 2, 1), _to_groups(gy, g).astype(dtype, copy=False))
    *k, cg, o = w_shape
    dw = dw.reshape(g, *k, cg, o // g)
    return xp.moveaxis(dw, 0, -2).reshape(w_shape)
