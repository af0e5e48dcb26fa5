"""Sorting and order statistics: sort, argsort, topk, kthvalue, median, quantile.

Each is written as an index computation (int64 positions, no gradient) followed by one
differentiable :class:`Gather` of the input at those positions, so that the gradient of a
value is scattered back to the element it came from, as in PyTorch. Ties are ordered by
position (a stable sort), so every result is deterministic.

>>> import tidu
>>> x = tidu.tensor([3.0, 1.0, 2.0], requires_grad=True)
>>> values, indices = tidu.sort(x)
>>> values.tolist(), indices.tolist()
([1.0, 2.0, 3.0], [1, 2, 0])
>>> (values * tidu.tensor([1.0, 10.0, 100.0])).sum().backward()
>>> x.grad.tolist()
[100.0, 1.0, 10.0]
"""

from __future__ import annotations

from collections import namedtuple

from .._shapes import check_axis
from ..autograd import Function
from ..backend import asarray_like, namespace, to_host, xp
from ._device import zeros_beside
from ._names import torch_names
from .logic import NoGrad

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "quantile"]

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
"""What sort, topk, kthvalue, median (with an axis), cummax and cummin return, like
``torch.return_types``: ``.values`` (differentiable) and ``.indices`` (int64)."""


# ----- gathering along an axis, and its transpose -----
def _along(idx, axis: int) -> tuple:
    """The fancy index that reads or writes ``a[..., idx[...], ...]`` along ``axis``."""
    m, nd = namespace(idx), idx.ndim  # the grids are made by idx's library, on its device
    return tuple(idx if d == axis else m.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
                 for d, n in enumerate(idx.shape))


class Gather(Function):
    """``take_along_axis(x, idx, axis)``; the gradient is added back at ``idx`` (repeated
    positions accumulate)."""

    def forward(self, x, idx, axis):
        self.shape, self.idx, self.axis = x.shape, idx, axis
        return xp.take_along_axis(x, idx, axis)

    def backward(self, g):
        out = zeros_beside(g, self.shape)
        xp.add.at(out, _along(self.idx, self.axis), g)
        return out, None

    @staticmethod
    def vjp(g, x, idx, axis):
        return ScatterAlong.apply(g, x, idx, axis=axis), None


class ScatterAlong(Function):
    """Zeros shaped like ``like`` with ``src`` added at ``idx`` along ``axis``: the transpose
    of :class:`Gather`, and so its derivative."""

    def forward(self, src, like, idx, axis):
        self.idx, self.axis = idx, axis
        out = zeros_beside(src, xp.shape(like))
        xp.add.at(out, _along(idx, axis), src)
        return out

    def backward(self, g):
        return xp.take_along_axis(g, self.idx, self.axis), None, None

    @staticmethod
    def vjp(g, src, like, idx, axis):
        return Gather.apply(g, idx, axis=axis), None, None


# ----- index computations (no gradient) -----
def _argsort(x, axis: int, descending: bool):
    """Stable argsort; descending keeps equal values in their original order (NaN first)."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    rev = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")  # ascending, ties reversed
    return x.shape[axis] - 1 - xp.flip(rev, axis)


def _first_nan(x, idx, axis: int):
    """``idx`` (keepdims along ``axis``), pointing at the first NaN of slices that have one:
    an order statistic of data with a NaN is NaN, as in PyTorch."""
    if not xp.issubdtype(x.dtype, xp.floating):
        return idx
    nan = xp.isnan(x)
    return xp.where(nan.any(axis, keepdims=True), nan.argmax(axis, keepdims=True), idx)


class Argsort(NoGrad):
    def forward(self, x, axis, descending):
        return _argsort(x, axis, descending)


class TopkIndices(NoGrad):
    def forward(self, x, k, axis, largest):
        return _argsort(x, axis, largest)[(slice(None),) * axis + (slice(0, k),)]


class KthIndex(NoGrad):
    """The position of the k-th smallest value (0-based) along ``axis``, kept as a length-1
    axis; ``nan_wins``: a slice with a NaN gives the NaN's position (median's rule)."""

    def forward(self, x, k, axis, nan_wins=False):
        idx = _argsort(x, axis, False)[(slice(None),) * axis + (slice(k, k + 1),)]
        return _first_nan(x, idx, axis) if nan_wins else idx


def as_tensor(x):
    """Tensors and symbolic Variables as they are; arrays, lists and numbers as Tensors."""
    from ..autograd import _Graph
    from ..tensor import Tensor

    vt = _Graph.variable_type
    if isinstance(x, Tensor) or (vt is not None and isinstance(x, vt)):
        return x
    return Tensor(x)


def _axis(x, axis: int, op: str) -> int:
    return check_axis(axis, x.ndim, op)


def _squeeze(t, axis: int):
    from .shape import squeeze

    return squeeze(t, axis)


def _flat(x):
    from .shape import reshape

    return reshape(x, -1)


@torch_names
def argsort(x, axis: int = -1, descending: bool = False):
    """The int64 positions that sort ``x`` along ``axis`` (stable: ties keep their order).

    >>> import tidu
    >>> tidu.argsort(tidu.tensor([2.0, 1.0, 2.0]), descending=True).tolist()
    [0, 2, 1]
    """
    x = as_tensor(x)
    return Argsort.apply(x, axis=_axis(x, axis, "argsort"), descending=bool(descending))


@torch_names
def sort(x, axis: int = -1, descending: bool = False) -> ValuesIndices:
    """``(values, indices)``: ``x`` sorted along ``axis``, and where each value came from.

    NaN sorts as the largest value, as in PyTorch; the gradient of each value goes to its
    element of ``x``.
    """
    x = as_tensor(x)
    axis = _axis(x, axis, "sort")
    idx = argsort(x, axis, descending)
    return ValuesIndices(Gather.apply(x, idx, axis=axis), idx)


@torch_names
def topk(x, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (``largest=False``: smallest) values along ``axis``, with indices.

    The values always come sorted (largest first, or smallest first), which ``sorted=False``
    allows too; ties are taken in order of position.

    >>> import tidu
    >>> tidu.topk(tidu.tensor([1.0, 5.0, 3.0, 4.0]), 2).indices.tolist()
    [1, 3]
    """
    x = as_tensor(x)
    axis = _axis(x, axis, "topk")
    n = x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int in [0, {n}] (the length of axis {axis}), "
                         f"got {k!r}")
    idx = TopkIndices.apply(x, k=k, axis=axis, largest=bool(largest))
    return ValuesIndices(Gather.apply(x, idx, axis=axis), idx)


def _kth(x, k: int, axis: int, keepdims: bool, nan_wins: bool) -> ValuesIndices:
    idx = KthIndex.apply(x, k=k, axis=axis, nan_wins=nan_wins)
    values = Gather.apply(x, idx, axis=axis)
    if keepdims:
        return ValuesIndices(values, idx)
    return ValuesIndices(_squeeze(values, axis), _squeeze(idx, axis))


@torch_names
def kthvalue(x, k: int, axis: int = -1, keepdims: bool = False) -> ValuesIndices:
    """The ``k``-th smallest value along ``axis`` (k = 1 is the minimum) and its index.

    >>> import tidu
    >>> tidu.kthvalue(tidu.tensor([[4.0, 1.0, 3.0]]), 2, axis=1)
    ValuesIndices(values=tensor([3.]), indices=tensor([2], dtype=int64))
    """
    x = as_tensor(x)
    axis = _axis(x, axis, "kthvalue")
    n = x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k must be an int in [1, {n}] (the length of axis {axis}), "
                         f"got {k!r}")
    return _kth(x, k - 1, axis, keepdims, nan_wins=False)


@torch_names
def median(x, axis: int | None = None, keepdims: bool = False):
    """The median: of an even count, the lower of the two middle values (PyTorch's rule).

    Without ``axis``, the median of all elements as a tensor; with ``axis``,
    ``(values, indices)``. A slice that holds a NaN has median NaN. The gradient goes to
    the chosen element.

    >>> import tidu
    >>> float(tidu.median(tidu.tensor([4.0, 1.0, 3.0, 2.0])))
    2.0
    """
    x = as_tensor(x)
    if axis is None:
        flat = _flat(x)
        n = flat.shape[0]
        if n == 0:
            raise ValueError("median: the median of an empty tensor is undefined")
        value = _kth(flat, (n - 1) // 2, 0, False, nan_wins=True).values
        if keepdims:
            from .shape import reshape

            return reshape(value, (1,) * x.ndim)
        return value
    axis = _axis(x, axis, "median")
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"median: axis {axis} has length 0")
    return _kth(x, (n - 1) // 2, axis, keepdims, nan_wins=True)


# ----- quantiles -----
INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _ranks(q, n: int, interpolation: str):
    """(lower rank, upper rank, weight of the upper value) of each quantile in ``q``."""
    pos = q * (n - 1)
    if interpolation == "nearest":
        pos = xp.round(pos)  # half to even, as torch.round
    lo = xp.floor(pos).astype(xp.int64)
    hi = xp.ceil(pos).astype(xp.int64)
    w = {"linear": pos - lo, "lower": 0 * pos, "higher": 0 * pos + 1,
         "midpoint": 0.5 + 0 * pos, "nearest": 0 * pos}[interpolation]
    if interpolation == "higher":
        lo = hi
    return lo, hi, xp.where(lo == hi, 0.0, w)


def _at_axis(v, axis: int, ndim: int):
    """The 1-D ``v`` laid along ``axis`` of an ``ndim``-dimensional array."""
    return v.reshape((1,) * axis + (-1,) + (1,) * (ndim - axis - 1))


class QuantileIndex(NoGrad):
    """Positions in ``x`` of the lower (``upper=False``) or upper order statistic of each q,
    laid along ``axis``; NaN slices point at their NaN."""

    def forward(self, x, q, axis, interpolation, upper):
        ranks = _ranks(q, x.shape[axis], interpolation)[1 if upper else 0]
        idx = xp.take(_argsort(x, axis, False), asarray_like(ranks, x), axis)
        return _first_nan(x, idx, axis)


class QuantileWeight(NoGrad):
    """The interpolation weight of the upper value of each q, laid along ``axis``."""

    def forward(self, x, q, axis, interpolation):
        w = _ranks(q, x.shape[axis], interpolation)[2]
        return asarray_like(_at_axis(w, axis, x.ndim), x, x.dtype)


@torch_names
def quantile(x, q, axis: int | None = None, keepdims: bool = False,
             interpolation: str = "linear"):
    """The ``q``-th quantiles along ``axis`` (all elements when None), as ``torch.quantile``.

    ``q`` is a float in [0, 1] or a list (1-D array) of them; a list puts its axis first in
    the result. ``linear`` interpolates between the two neighbouring order statistics at
    rank q (n - 1); ``lower``, ``higher``, ``nearest`` and ``midpoint`` as in PyTorch. The
    gradient goes to the (one or two) elements each quantile is made of.

    >>> import tidu
    >>> tidu.quantile(tidu.tensor([1.0, 2.0, 3.0, 4.0]), [0.25, 0.5]).tolist()
    [1.75, 2.5]
    """
    from ..tensor import Tensor
    from .shape import permute, reshape, unsqueeze

    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"quantile: interpolation must be one of {INTERPOLATIONS}, "
                         f"got {interpolation!r}")
    qs = xp.asarray(to_host(q.data if isinstance(q, Tensor) else q) if hasattr(q, "shape")
                    else q, dtype=xp.float64)
    if qs.ndim > 1 or not xp.all((qs >= 0) & (qs <= 1)):
        raise ValueError(f"quantile: q must be a float in [0, 1] or a 1-D list of them, got {q}")
    x = as_tensor(x)
    ndim = x.ndim
    if axis is None:
        x, axis = _flat(x), 0
    else:
        axis = _axis(x, axis, "quantile")
    if x.shape[axis] == 0:
        raise ValueError(f"quantile: axis {axis} has length 0")
    q1 = qs.reshape(-1)
    kw = dict(q=q1, axis=axis, interpolation=interpolation)
    lo = Gather.apply(x, QuantileIndex.apply(x, upper=False, **kw), axis=axis)
    hi = Gather.apply(x, QuantileIndex.apply(x, upper=True, **kw), axis=axis)
    out = lo + (hi - lo) * QuantileWeight.apply(x, **kw)  # q laid along `axis`
    if qs.ndim == 0:
        if keepdims:
            return out if x.ndim == ndim else reshape(out, (1,) * ndim)
        return _squeeze(out, axis)
    if keepdims:
        if x.ndim != ndim:  # all elements: (len(q), 1, ..., 1)
            return reshape(out, (-1,) + (1,) * ndim)
        out = unsqueeze(out, axis + 1)
    order = (axis,) + tuple(a for a in range(out.ndim) if a != axis)
    return permute(out, order)


TENSOR_METHODS: tuple = ("sort", "argsort", "topk", "kthvalue", "median", "quantile")
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
