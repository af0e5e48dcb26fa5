"""Pooling: max and average pooling 1-D and 2-D, adaptive and global pooling.

The functions follow ``torch.nn.functional`` (input (N, C, *spatial), or unbatched (C,
*spatial)); the keyword ``data_format="channels_last"`` takes (N, *spatial, C) instead, with
no transpose, and a string ``padding`` ('valid' or 'same') gives Keras's windows: 'same'
makes ceil(n / stride) outputs, pads max pooling with -inf and averages over the real
elements only. The kernels (in :mod:`tidu.ops._pool`) loop over kernel offsets on strided
views; the gradient of max pooling goes to the first maximum of each window, as in PyTorch.

>>> import tidu
>>> import tidu.nn.functional as F
>>> x = tidu.arange(16.0).reshape(1, 1, 4, 4)
>>> F.max_pool2d(x, 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
>>> F.avg_pool2d(x, 2, data_format="channels_first").tolist()
[[[[2.5, 4.5], [10.5, 12.5]]]]
"""

from __future__ import annotations

from .. import accel
from ..autograd import Function, private_gradient
from ..backend import asarray_like, xp
from ..errors import ShapeError
from . import _pool
from ._pool import Geometry
from .logic import NoGrad

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]

TENSOR_METHODS: tuple = ()
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""


# ----- max pooling: the maxima, their scatter (the gradient) and its gather -----
class MaxPool(Function):
    """The maximum of each window; the gradient goes to the first maximum."""

    def forward(self, x, geom: Geometry):
        self.x, self.geom, self.arg = x, geom, None
        k = accel.kernels("pool")
        if k is not None and k.usable(x, geom):  # one compiled pass (tidu.accel.pool)
            self.out, self.arg = k.forward(x, geom)
        else:
            self.out = _pool.max_values(x, geom)
        return self.out

    def backward(self, g):
        if self.arg is not None:
            node = self._rectifier()
            gx = accel.kernels("pool").backward(g, self.arg, self.x.shape, self.geom,
                                                mask=None if node is None else self.out)
            if node is not None:
                node.premasked = gx  # the rectifier's mask is applied: it can skip its pass
            return gx
        return _pool.max_backward(g, self.x, self.out, self.geom)

    def _rectifier(self):
        """The node that rectified this pool's input in its own forward and takes its
        gradient masked (ConvReLU), where nothing else sees that gradient; else None."""
        src = self.inputs[0]
        node = getattr(src, "_node", None)
        if (getattr(node, "takes_premasked", False) and getattr(node, "y", None) is self.x
                and private_gradient(src)):
            return node
        return None

    @staticmethod
    def vjp(g, x, geom):
        return MaxScatter.apply(g, x, PoolArgmax.apply(x, geom=geom), geom=geom)


class PoolArgmax(NoGrad):
    """Which kernel offset holds each window's (first) maximum."""

    def forward(self, x, geom):
        return _pool.max_index(x, geom)


class MaxScatter(Function):
    """Zeros shaped like ``like`` with ``g`` at each window's maximum (``idx``)."""

    def forward(self, g, like, idx, geom):
        self.idx, self.geom = idx, geom
        return _pool.max_scatter(g, idx, xp.shape(like), geom)

    def backward(self, gg):
        return _pool.max_gather(gg, self.idx, self.geom), None, None

    @staticmethod
    def vjp(gg, g, like, idx, geom):
        return MaxGather.apply(gg, idx, geom=geom), None, None


class MaxGather(Function):
    """Each window's element of ``a`` at its maximum (``idx``): the transpose of the scatter."""

    def forward(self, a, idx, geom):
        self.shape, self.idx, self.geom = a.shape, idx, geom
        return _pool.max_gather(a, idx, geom)

    def backward(self, g):
        return _pool.max_scatter(g, self.idx, self.shape, self.geom), None

    @staticmethod
    def vjp(g, a, idx, geom):
        return MaxScatter.apply(g, a, idx, geom=geom), None


class PoolIndices(NoGrad):
    """PyTorch's ``return_indices``: positions of the maxima in the flattened spatial input."""

    def forward(self, x, geom):
        return _pool.flat_indices(_pool.max_index(x, geom), geom, x.ndim)


# ----- average pooling and its transpose (both linear) -----
class AvgPool(Function):
    """Window sums divided by PyTorch's (or Keras's) divisor."""

    def forward(self, x, geom, count_include_pad, divisor_override):
        self.shape, self.geom = x.shape, geom
        self.inv = asarray_like(_pool.divisor(geom, count_include_pad, divisor_override,
                                              x.ndim, x.dtype), like=x)
        return _pool.avg_forward(x, geom, self.inv)

    def backward(self, g):
        return _pool.avg_adjoint(g, self.shape, self.geom, self.inv)

    @staticmethod
    def vjp(g, x, geom, count_include_pad, divisor_override):
        return AvgPoolT.apply(g, x, geom=geom, count_include_pad=count_include_pad,
                              divisor_override=divisor_override)


class AvgPoolT(Function):
    """The transpose of :class:`AvgPool`: ``g`` spread back over each window (shaped like
    ``like``)."""

    def forward(self, g, like, geom, count_include_pad, divisor_override):
        self.geom = geom
        self.inv = asarray_like(_pool.divisor(geom, count_include_pad, divisor_override,
                                              g.ndim, g.dtype), like=g)
        return _pool.avg_adjoint(g, xp.shape(like), geom, self.inv)

    def backward(self, gg):
        return _pool.avg_forward(gg, self.geom, self.inv), None

    @staticmethod
    def vjp(gg, g, like, geom, count_include_pad, divisor_override):
        return AvgPool.apply(gg, geom=geom, count_include_pad=count_include_pad,
                             divisor_override=divisor_override), None


# ----- public functions -----
def _geometry(x, nsp, kernel_size, stride, padding, dilation, ceil_mode, op, data_format):
    shape = tuple(x.shape)
    if isinstance(padding, str):
        if dilation not in (1, (1,) * nsp) or ceil_mode:
            raise ValueError(f"{op}: padding={padding!r} (Keras's windows) takes no dilation "
                             "or ceil_mode")
        return _pool.keras_geometry(shape, nsp, kernel_size, stride, padding, data_format, op)
    return _pool.torch_geometry(shape, nsp, kernel_size, stride, padding, dilation, ceil_mode,
                                op, data_format)


def _max_pool(x, nsp, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              data_format):
    op = f"max_pool{nsp}d"
    geom = _geometry(x, nsp, kernel_size, stride, padding, dilation, ceil_mode, op, data_format)
    out = MaxPool.apply(x, geom=geom)
    if return_indices:
        return out, PoolIndices.apply(x, geom=geom)
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False, *, data_format: str = "channels_first"):
    """Maximum over sliding windows of a (N, C, L) input (torch.nn.functional.max_pool1d).

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) pads with
    -inf, or is 'valid' / 'same' (Keras); ``return_indices`` also gives each maximum's
    position along L (int64).
    """
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, data_format)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False, *, data_format: str = "channels_first"):
    """Maximum over sliding windows of a (N, C, H, W) input (torch.nn.functional.max_pool2d);
    ``data_format="channels_last"`` takes (N, H, W, C).

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) pads with
    -inf, or is 'valid' / 'same' (Keras); ``return_indices`` also gives each maximum's
    position in the flattened H * W plane (int64), as PyTorch.

    >>> import tidu
    >>> x = tidu.ones(8, 26, 26, 32)
    >>> tidu.nn.functional.max_pool2d(x, 2, data_format="channels_last").shape
    (8, 13, 13, 32)
    """
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, data_format)


def _avg_pool(x, nsp, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, data_format):
    op = f"avg_pool{nsp}d"
    geom = _geometry(x, nsp, kernel_size, stride, padding, 1, ceil_mode, op, data_format)
    if isinstance(padding, str):
        count_include_pad = False  # Keras averages over the real elements only
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must be non-zero, got {divisor_override}")
    return AvgPool.apply(x, geom=geom, count_include_pad=bool(count_include_pad),
                         divisor_override=divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None, *,
               data_format: str = "channels_first"):
    """Mean over sliding windows of a (N, C, L) input (torch.nn.functional.avg_pool1d).

    Zero padding counts in the divisor when ``count_include_pad``; a string ``padding``
    ('valid' / 'same') gives Keras's windows, averaged over real elements only.
    """
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, data_format)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None, *,
               data_format: str = "channels_first"):
    """Mean over sliding windows of a (N, C, H, W) input (torch.nn.functional.avg_pool2d);
    ``data_format="channels_last"`` takes (N, H, W, C).

    Zero padding counts in the divisor when ``count_include_pad``; ``divisor_override``
    replaces the divisor; a string ``padding`` ('valid' / 'same') gives Keras's windows,
    averaged over real elements only.
    """
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, data_format)


# ----- adaptive pooling -----
def _output_size(x, nsp, output_size, op, data_format) -> tuple:
    axes = _pool.spatial_axes(tuple(x.shape), nsp, data_format, op)
    _pool.known_sizes(tuple(x.shape), axes, op)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nsp
    sizes = tuple(output_size)
    if len(sizes) != nsp:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nsp}, got "
                         f"{output_size!r}")
    sizes = tuple(x.shape[a] if o is None else int(o) for a, o in zip(axes, sizes))
    if min(sizes) <= 0:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return axes, sizes


def _windows(n: int, o: int):
    """PyTorch's adaptive windows along one axis: [floor(i n / o), ceil((i + 1) n / o))."""
    i = xp.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _adaptive_avg(x, nsp, output_size, data_format):
    from .resize import apply_separable

    op = f"adaptive_avg_pool{nsp}d"
    axes, sizes = _output_size(x, nsp, output_size, op, data_format)
    ins = [x.shape[a] for a in axes]
    if all(n % o == 0 for n, o in zip(ins, sizes)):  # equal windows: plain average pooling
        k = tuple(n // o for n, o in zip(ins, sizes))
        return avg_pool2d(x, k, data_format=data_format) if nsp == 2 else \
            avg_pool1d(x, k, data_format=data_format)
    dtype = getattr(x, "dtype", xp.float64)
    mats = []
    for n, o in zip(ins, sizes):
        start, end = _windows(n, o)
        j = xp.arange(n)
        inside = (j >= start[:, None]) & (j < end[:, None])
        mats.append((inside / (end - start)[:, None]).astype(dtype))
    return apply_separable(x, axes, mats)


def adaptive_avg_pool1d(input, output_size, *, data_format: str = "channels_first"):
    """Mean over ``output_size`` windows covering L (torch.nn.functional.adaptive_avg_pool1d):
    window i is [floor(i L / out), ceil((i + 1) L / out))."""
    return _adaptive_avg(input, 1, output_size, data_format)


def adaptive_avg_pool2d(input, output_size, *, data_format: str = "channels_first"):
    """Mean over an ``output_size`` grid of windows (torch.nn.functional.adaptive_avg_pool2d);
    an entry of None keeps that input size. Unequal windows are a matrix product per axis."""
    return _adaptive_avg(input, 2, output_size, data_format)


class AdaptiveArgmax(NoGrad):
    """For adaptive max pooling: each window's first maximum as a position in the input's
    flattened spatial axes, laid out like the output with those axes flattened too."""

    def forward(self, x, axes, sizes):
        nsp = len(axes)
        moved = xp.moveaxis(x, axes, tuple(range(-nsp, 0)))
        lead = moved.ndim - nsp
        index, tables = [], []
        for d, (n, o) in enumerate(zip(moved.shape[lead:], sizes)):
            start, end = _windows(n, o)
            k = int((end - start).max())
            t = xp.minimum(start[:, None] + xp.arange(k), end[:, None] - 1)  # repeats the last
            t = asarray_like(t, like=x)
            tables.append(t)
            shape = [1] * (2 * nsp)
            shape[2 * d], shape[2 * d + 1] = o, k
            index.append(t.reshape(shape))
        win = moved[(Ellipsis, *index)]  # (..., o1, k1, o2, k2)
        order = tuple(range(lead)) + tuple(lead + 2 * d for d in range(nsp)) + \
            tuple(lead + 2 * d + 1 for d in range(nsp))
        win = win.transpose(order)
        ks = tuple(t.shape[1] for t in tables)
        best = win.reshape(*win.shape[:lead + nsp], -1).argmax(-1)
        parts = xp.unravel_index(best, ks)
        flat = xp.zeros_like(best, dtype=xp.int64)
        for d, (t, part) in enumerate(zip(tables, parts)):
            shape = [1] * best.ndim
            shape[lead + d] = sizes[d]
            rows = asarray_like(xp.arange(sizes[d]).reshape(shape), like=x)
            flat = flat * moved.shape[lead + d] + t[rows, part]
        flat = xp.moveaxis(flat, tuple(range(-nsp, 0)), axes)
        first = axes[0]
        return flat.reshape(*flat.shape[:first], -1, *flat.shape[first + nsp:])


def _adaptive_max(x, nsp, output_size, data_format):
    from . import shape as _shape
    from .sort import Gather

    op = f"adaptive_max_pool{nsp}d"
    axes, sizes = _output_size(x, nsp, output_size, op, data_format)
    first = axes[0]
    s = tuple(x.shape)
    if any(s[a] == 0 for a in axes):
        raise ShapeError(f"{op}: input of shape {s} has an empty spatial axis")
    flat = _shape.reshape(x, (*s[:first], -1, *s[first + nsp:]))
    idx = AdaptiveArgmax.apply(x, axes=axes, sizes=sizes)
    out = Gather.apply(flat, idx, axis=first)
    return _shape.reshape(out, (*s[:first], *sizes, *s[first + nsp:]))


def adaptive_max_pool1d(input, output_size, *, data_format: str = "channels_first"):
    """Maximum over ``output_size`` windows covering L (torch's adaptive_max_pool1d)."""
    return _adaptive_max(input, 1, output_size, data_format)


def adaptive_max_pool2d(input, output_size, *, data_format: str = "channels_first"):
    """Maximum over an ``output_size`` grid of windows (torch's adaptive_max_pool2d); the
    gradient goes to each window's first maximum."""
    return _adaptive_max(input, 2, output_size, data_format)
