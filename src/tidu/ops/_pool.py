"""Window geometry and NumPy kernels shared by the pooling operations.

A pooling window is walked one kernel offset at a time: for each offset the inputs it reads
form one strided view of the (padded) input, shaped like the output. Max pooling compares the
views in turn (keeping the first maximum, as PyTorch), average pooling adds them, and the
backward passes add the output gradient back through the same views. The loop runs over the
kernel's offsets (4 for a 2x2 window), never over pixels, and works for either data layout
because the spatial axes are named, not assumed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from ..backend import asarray_like, xp
from ..errors import ShapeError


@dataclass(frozen=True)
class Geometry:
    """Where the windows of a pooling lie: per spatial axis (in ``axes`` of the array) the
    input size, kernel, stride, dilation, padding before and after (declared), the extra
    padding after that ceil mode needs, and the output size. (A frozen dataclass, not a
    tuple, so that a compiled plan keeps it whole.)"""

    axes: tuple
    size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    before: tuple
    after: tuple
    extra: tuple
    out: tuple

    def offsets(self):
        """Every kernel offset, in row-major order (the order that breaks ties)."""
        return itertools.product(*(range(k) for k in self.kernel))

    def view(self, ndim: int, offset) -> tuple:
        """The index of the padded input read by one kernel offset (shaped like the output)."""
        index = [slice(None)] * ndim
        for ax, o, s, d, n in zip(self.axes, offset, self.stride, self.dilation, self.out):
            index[ax] = slice(o * d, o * d + (n - 1) * s + 1, s)
        return tuple(index)

    def pad_width(self, ndim: int) -> list:
        width = [(0, 0)] * ndim
        for ax, b, a, e in zip(self.axes, self.before, self.after, self.extra):
            width[ax] = (b, a + e)
        return width

    def padded(self) -> bool:
        return any(self.before) or any(self.after) or any(self.extra)

    def crop(self, ndim: int) -> tuple:
        """The index that takes the input back out of the padded array."""
        index = [slice(None)] * ndim
        for ax, b, n in zip(self.axes, self.before, self.size):
            index[ax] = slice(b, b + n)
        return tuple(index)

    def padded_shape(self, shape) -> tuple:
        shape = list(shape)
        for ax, b, a, e in zip(self.axes, self.before, self.after, self.extra):
            shape[ax] += b + a + e
        return tuple(shape)


def tuple_arg(value, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = (value,) * n
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                        f"{value!r}") from None
    if len(out) == 1 and n > 1:
        out = out * n
    if len(out) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def spatial_axes(shape: tuple, nsp: int, data_format: str, op: str) -> tuple:
    """The positions of the spatial axes of an input of ``shape``."""
    nd = len(shape)
    if data_format == "channels_first":
        if nd not in (nsp + 1, nsp + 2):
            raise ShapeError(f"{op}: expected a {nsp + 1}-D (unbatched) or {nsp + 2}-D input "
                             f"(batch, channels, *{nsp} spatial), got shape {tuple(shape)}")
        return tuple(range(nd - nsp, nd))
    if data_format == "channels_last":
        if nd != nsp + 2:
            raise ShapeError(f"{op}: expected a {nsp + 2}-D input (batch, *{nsp} spatial, "
                             f"channels) with data_format='channels_last', got shape "
                             f"{tuple(shape)}")
        return tuple(range(1, nsp + 1))
    raise ValueError(f"{op}: data_format must be 'channels_first' or 'channels_last', got "
                     f"{data_format!r}")


def known_sizes(shape: tuple, axes: tuple, op: str) -> tuple:
    """The spatial sizes, which the windows depend on: they must be known (a symbolic input
    with unknown sizes cannot be pooled)."""
    size = tuple(shape[a] for a in axes)
    if any(n is None for n in size):
        raise ShapeError(f"{op}: needs known spatial sizes, got input shape {tuple(shape)}")
    return size


def torch_geometry(shape, nsp, kernel_size, stride, padding, dilation, ceil_mode, op,
                   data_format) -> Geometry:
    """PyTorch's windows: symmetric padding, optional ceil mode, checked as PyTorch does."""
    axes = spatial_axes(shape, nsp, data_format, op)
    k = tuple_arg(kernel_size, nsp, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        tuple_arg(stride, nsp, "stride", op)
    p = tuple_arg(padding, nsp, "padding", op)
    d = tuple_arg(dilation, nsp, "dilation", op)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got "
                         f"kernel_size={k}, stride={s}, dilation={d}")
    if min(p) < 0 or any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding should be at most half of kernel_size, got "
                         f"padding={p}, kernel_size={k}")
    size = known_sizes(shape, axes, op)
    out, extra = [], []
    for n, ki, si, pi, di in zip(size, k, s, p, d):
        span = di * (ki - 1) + 1
        o = (n + 2 * pi - span + ((si - 1) if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= n + pi:  # the last window must start inside
            o -= 1
        out.append(o)
        extra.append(max((o - 1) * si + span - (n + 2 * pi), 0))
    if min(out) <= 0:
        raise ShapeError(f"{op}: input of shape {tuple(shape)} is too small for "
                         f"kernel_size={k} (dilation={d}, padding={p}): output size "
                         f"{tuple(out)}")
    return Geometry(axes, size, k, s, d, p, p, tuple(extra), tuple(out))


def keras_geometry(shape, nsp, pool_size, strides, padding, data_format, op) -> Geometry:
    """Keras's (TensorFlow's) windows: 'valid' (floor) or 'same' (ceil(n / stride) outputs,
    padding split with the smaller half before)."""
    axes = spatial_axes(shape, nsp, data_format, op)
    k = tuple_arg(pool_size, nsp, "pool_size", op)
    s = k if strides is None else tuple_arg(strides, nsp, "strides", op)
    size = known_sizes(shape, axes, op)
    if padding == "valid":
        out = tuple((n - ki) // si + 1 for n, ki, si in zip(size, k, s))
        if min(out) <= 0:
            raise ShapeError(f"{op}: input of shape {tuple(shape)} is smaller than "
                             f"pool_size={k} with padding='valid'")
        zero = (0,) * nsp
        return Geometry(axes, size, k, s, (1,) * nsp, zero, zero, zero, out)
    if padding != "same":
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    out = tuple(-(-n // si) for n, si in zip(size, s))
    total = tuple(max((o - 1) * si + ki - n, 0) for o, si, ki, n in zip(out, s, k, size))
    before = tuple(t // 2 for t in total)
    after = tuple(t - b for t, b in zip(total, before))
    return Geometry(axes, size, k, s, (1,) * nsp, before, after, (0,) * nsp, out)


def _index_dtype(geom: Geometry):
    n = math.prod(geom.kernel)
    return xp.int8 if n < 127 else xp.int16 if n < 32767 else xp.int32


def _pad(x, geom: Geometry, value):
    if not geom.padded():
        return x
    return xp.pad(x, geom.pad_width(x.ndim), mode="constant", constant_values=value)


def _axis_view(geom: Geometry, ndim: int, d: int, o: int) -> tuple:
    """The index reading kernel offset ``o`` along spatial axis ``d`` only."""
    index = [slice(None)] * ndim
    s, dil, n = geom.stride[d], geom.dilation[d], geom.out[d]
    index[geom.axes[d]] = slice(o * dil, o * dil + (n - 1) * s + 1, s)
    return tuple(index)


def _separable(a, geom: Geometry, reduce):
    """A window reduction one spatial axis at a time (k_h + k_w passes instead of k_h * k_w;
    the first axis's passes read long contiguous runs): max and sum are separable."""
    for d in range(len(geom.axes)):
        r = None
        for o in range(geom.kernel[d]):
            v = a[_axis_view(geom, a.ndim, d, o)]
            r = v.copy() if r is None else reduce(r, v, out=r)
        a = r
    return a


def _separable_adjoint(g, geom: Geometry):
    """The transpose of the separable sum: ``g`` added back over the windows of each axis,
    last axis first; the result has the padded input's shape."""
    for d in reversed(range(len(geom.axes))):
        ax = geom.axes[d]
        shape = list(g.shape)
        shape[ax] = geom.size[d] + geom.before[d] + geom.after[d] + geom.extra[d]
        tiles = geom.stride[d] == geom.kernel[d] and geom.out[d] * geom.stride[d] == shape[ax]
        out = (xp.empty_like if tiles else xp.zeros_like)(g, shape=shape, order="C")
        for o in range(geom.kernel[d]):
            view = _axis_view(geom, g.ndim, d, o)
            if tiles:
                out[view] = g
            else:
                out[view] += g
        g = out
    return g


CHUNK_BYTES = 1 << 19
"""Max pooling runs over this many bytes of input at a time (whole entries of the first axis,
never a spatial one): each pass over a chunk finds it still in cache (pool1 of the MNIST
convnet, (128, 26, 26, 32) float32, backward 13 -> 7.6 ms with one thread)."""


def _chunks(x) -> list:
    """Slices of the first axis (batch or channels: pooling never mixes its entries)."""
    n = x.shape[0] if x.ndim else 1
    per = max(1, x.nbytes // max(n, 1))
    step = max(1, CHUNK_BYTES // per)
    return [slice(a, min(a + step, n)) for a in range(0, n, step)]


def max_values(x, geom: Geometry):
    """The maximum of each window (a NaN in a window gives NaN, as in PyTorch)."""
    xpad = _pad(x, geom, -xp.inf)
    parts = _chunks(xpad)
    if len(parts) == 1:
        return _separable(xpad, geom, xp.maximum)
    out = None
    for sl in parts:
        r = _separable(xpad[sl], geom, xp.maximum)
        if out is None:
            out = xp.empty_like(r, shape=(x.shape[0], *r.shape[1:]), order="C")
        out[sl] = r
    return out


def max_index(x, geom: Geometry):
    """Per output, which kernel offset holds its window's first maximum (PyTorch's choice:
    the first of equal maxima, the last NaN)."""
    xpad = _pad(x, geom, -xp.inf)
    best = idx = None
    for k, off in enumerate(geom.offsets()):
        v = xpad[geom.view(x.ndim, off)]
        if best is None:
            best = v.copy()
            idx = xp.zeros_like(best, shape=best.shape, dtype=_index_dtype(geom), order="C")
            continue
        better = (v > best) | xp.isnan(v)
        xp.copyto(best, v, where=better)
        xp.copyto(idx, k, where=better)
    return idx


def _overlap(geom: Geometry) -> bool:
    return any(s < (k - 1) * d + 1 for k, s, d in zip(geom.kernel, geom.stride, geom.dilation))


def _tiles(geom: Geometry) -> bool:
    """Whether the windows cover the padded input exactly once (stride == kernel)."""
    return (not _overlap(geom) and not geom.padded()
            and all(s == k and o * s == n for k, s, o, n in
                    zip(geom.kernel, geom.stride, geom.out, geom.size)))


def _scatter(g, masks, shape, geom: Geometry, out=None):
    """Zeros of the input's ``shape`` plus ``g`` through each offset's view where its mask
    (a boolean array shaped like ``g``) holds; into ``out`` (the padded shape) if given."""
    nd = len(shape)
    gpad = out
    if gpad is None:
        gpad = xp.empty_like(g, shape=geom.padded_shape(shape), order="C")
    if not _tiles(geom):
        gpad.fill(0)
    overlap = _overlap(geom)
    for view, mask in masks:
        if overlap:
            gpad[view] += g * mask
        else:
            xp.multiply(g, mask, out=gpad[view])
    return gpad[geom.crop(nd)] if geom.padded() else gpad


def _first_max_masks(xpad, best, geom: Geometry):
    """Per kernel offset, its view and where it holds its window's first maximum."""
    taken = None
    offsets = list(geom.offsets())
    for k, off in enumerate(offsets):
        view = geom.view(xpad.ndim, off)
        if taken is None:
            taken = xpad[view] == best
            yield view, taken
        elif k == len(offsets) - 1:
            yield view, ~taken
        else:
            m = xpad[view] == best
            m &= ~taken
            taken |= m
            yield view, m


def max_backward(g, x, best, geom: Geometry):
    """The gradient of :func:`max_values`: ``g`` at each window's first maximum (a chunk of
    the first axis at a time)."""
    if xp.isnan(best.sum()):  # NaN maxima: PyTorch's exact choice, from the indices
        return max_scatter(g, max_index(x, geom), x.shape, geom)
    xpad = _pad(x, geom, -xp.inf)
    gpad = xp.empty_like(g, shape=geom.padded_shape(x.shape), order="C")
    for sl in _chunks(xpad):
        _scatter(g[sl], _first_max_masks(xpad[sl], best[sl], geom), x[sl].shape, geom,
                 out=gpad[sl])
    return gpad[geom.crop(x.ndim)] if geom.padded() else gpad


def max_scatter(g, idx, shape, geom: Geometry):
    """Zeros of the input's ``shape`` with each output gradient at its window's maximum
    (offset ``idx``)."""
    nd = len(shape)
    return _scatter(g, ((geom.view(nd, off), idx == k) for k, off in enumerate(geom.offsets())),
                    shape, geom)


def max_gather(gg, idx, geom: Geometry):
    """Each output's value of ``gg`` (shaped like the input) at its window's maximum."""
    gpad = _pad(gg, geom, 0)
    out = xp.zeros_like(gg, shape=idx.shape, order="C")
    for k, off in enumerate(geom.offsets()):
        xp.copyto(out, gpad[geom.view(gg.ndim, off)], where=idx == k)
    return out


def flat_indices(idx, geom: Geometry, ndim: int):
    """PyTorch's ``return_indices``: each maximum's position in the flattened spatial input."""
    offsets = asarray_like(xp.array(list(geom.offsets()), dtype=xp.int64), like=idx)
    offsets = offsets.reshape(-1, len(geom.axes))
    flat = xp.zeros_like(idx, dtype=xp.int64)
    for i, (ax, s, d, b, n, o) in enumerate(zip(geom.axes, geom.stride, geom.dilation,
                                                geom.before, geom.size, geom.out)):
        shape = [1] * ndim
        shape[ax] = o
        pos = asarray_like((xp.arange(o) * s - b).reshape(shape), like=idx)
        pos = pos + offsets[:, i][idx.astype(xp.int64)] * d
        flat = flat * n + pos
    return flat


def divisor(geom: Geometry, count_include_pad: bool, divisor_override, ndim: int, dtype):
    """1 / the number each window's sum is divided by, broadcastable against the output:
    PyTorch's rule (padding counts when ``count_include_pad``, the ceil-mode overhang never)."""
    if divisor_override is not None:
        return xp.asarray(1.0 / divisor_override, dtype=dtype)
    inv = xp.ones((), dtype=dtype)
    for ax, n, k, s, b, a, o in zip(geom.axes, geom.size, geom.kernel, geom.stride,
                                    geom.before, geom.after, geom.out):
        start = xp.arange(o) * s - b
        end = xp.minimum(start + k, n + a)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, n)
        shape = [1] * ndim
        shape[ax] = o
        inv = inv * (1.0 / (end - start)).astype(dtype).reshape(shape)
    return inv


def avg_forward(x, geom: Geometry, inv):
    """Window sums of the zero-padded input times ``inv``."""
    total = _separable(_pad(x, geom, 0), geom, xp.add)
    total *= inv
    return total


def avg_adjoint(g, shape, geom: Geometry, inv):
    """The transpose of :func:`avg_forward`: ``g * inv`` added back over every window."""
    gpad = _separable_adjoint(g * inv, geom)
    return gpad[geom.crop(len(shape))] if geom.padded() else gpad
