"""More reductions (prod, std, norm, argmax/argmin, any/all) and scans along an axis
(cumsum, cumprod, cummax/cummin, logcumsumexp).

Gradients follow PyTorch's conventions where a formula breaks down: ``prod`` and
``cumprod`` are exact with zeros (the product of the other factors, not out / x); ``std`` and
the 2-norm have gradient 0 where they are 0; cummax/cummin send the gradient to the position
each running extreme came from. Indices and truth values (int64, bool) carry no gradient.

>>> import tidu
>>> x = tidu.tensor([2.0, 0.0, 3.0], requires_grad=True)
>>> tidu.prod(x).backward()
>>> x.grad.tolist()
[0.0, 6.0, 0.0]
"""

from __future__ import annotations

from .._shapes import check_axis, expand_reduced, normalize_axis
from ..autograd import Function
from ..backend import namespace, xp
from ._names import torch_names
from ._vjp import count, unreduce
from .logic import NoGrad, logical_and
from .sort import Gather, ValuesIndices, as_tensor

__all__ = ["prod", "std", "norm", "argmax", "argmin", "any", "all", "cumsum", "cumprod",
           "cummax", "cummin", "logcumsumexp"]


def _along(axis: int, s: slice) -> tuple:
    """The basic index that applies slice ``s`` to axis ``axis`` (non-negative)."""
    return (slice(None),) * axis + (s,)


def _accumulate(f, a, axis: int):
    """``f.accumulate(a, axis)`` for an associative ufunc ``f`` (maximum, minimum, logaddexp).
    CuPy's ufuncs accumulate only with ``add``; on a device this takes log2(n) steps of
    ``f`` on shifted copies (Hillis-Steele), NumPy's own accumulate on the CPU."""
    if type(a) is xp.ndarray:
        return f.accumulate(a, axis)
    n, out, step = a.shape[axis], a, 1
    while step < n:
        nxt = out.copy()
        hi = _along(axis, slice(step, None))
        nxt[hi] = f(out[hi], out[_along(axis, slice(0, n - step))])
        out, step = nxt, 2 * step
    return out if out is not a else a.copy()


def _flip_array(a, axis: int):
    return a[_along(axis, slice(None, None, -1))]


def _flip(t, axis: int):
    from .shape import getitem

    return getitem(t, _along(axis, slice(None, None, -1)))


def _rcumsum_array(a, axis: int):
    """Sums from each position to the end of the axis."""
    return _flip_array(xp.cumsum(_flip_array(a, axis), axis), axis)


def _rcumsum(t, axis: int):
    return _flip(cumsum(_flip(t, axis), axis), axis)


# ----- products -----
class Prod(Function):
    """The product along one axis; the gradient of each factor is the product of the others
    (exclusive running products from both ends), exact with zeros."""

    def forward(self, x, axis, keepdims=False):
        self.x, self.axis, self.keepdims = x, axis, keepdims
        return xp.prod(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = expand_reduced(g, self.x.shape, (self.axis,), self.keepdims)
        return g * self.others(self.x, self.axis)

    @staticmethod
    def others(x, axis: int):
        """The product of all the other elements of each element's slice along ``axis``."""
        if x.shape[axis] == 0:
            return xp.zeros_like(x)
        one = xp.ones_like(x[_along(axis, slice(0, 1))])
        left = xp.cumprod(xp.concatenate([one, x[_along(axis, slice(None, -1))]], axis), axis)
        right = xp.concatenate([x[_along(axis, slice(1, None))], one], axis)
        return left * _flip_array(xp.cumprod(_flip_array(right, axis), axis), axis)

    @staticmethod
    def vjp(g, x, axis, keepdims=False):
        from .shape import broadcast_like, concatenate, getitem

        one = broadcast_like(xp.ones((), dtype=x.dtype), getitem(x, _along(axis, slice(0, 1))))
        left = cumprod(concatenate([one, getitem(x, _along(axis, slice(None, -1)))], axis), axis)
        right = concatenate([getitem(x, _along(axis, slice(1, None))), one], axis)
        return unreduce(g, (axis,), keepdims) * left * _flip(cumprod(_flip(right, axis), axis),
                                                             axis)


@torch_names
def prod(x, axis=None, keepdims: bool = False):
    """The product of the elements over ``axis`` (an int, a tuple, or None for all).

    A product over several axes is taken one axis at a time, so its gradient stays exact
    with zeros (where ``out / x`` would divide by zero).

    >>> import tidu
    >>> tidu.prod(tidu.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0).tolist()
    [3.0, 8.0]
    """
    from .shape import reshape, squeeze

    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "prod")
    if axes is None:
        out = Prod.apply(reshape(x, -1), axis=0)
        return reshape(out, (1,) * x.ndim) if keepdims else out
    for a in axes:
        x = Prod.apply(x, axis=a, keepdims=True)
    return x if keepdims else squeeze(x, axes)


# ----- standard deviation and norms -----
def _n(shape, axis) -> int:
    n = 1
    for a in range(len(shape)) if axis is None else axis:
        n *= shape[a]
    return n


class Std(Function):
    """sqrt(sum((x - mean)^2) / (n - ddof)); inf (or NaN) when ddof >= n; gradient 0 where
    it is 0."""

    def forward(self, x, axis=None, keepdims=False, ddof=0):
        self.centered = x - x.mean(axis=axis, keepdims=True)
        self.axis, self.keepdims, self.shape = axis, keepdims, x.shape
        # n - ddof <= 0 gives inf (NaN for zero spread), as PyTorch and tidu.var
        denom = _n(x.shape, axis) - ddof
        self.scale = 1.0 / denom if denom > 0 else float("inf")
        with xp.errstate(invalid="ignore"):
            self.out = xp.sqrt((self.centered**2).sum(axis=axis, keepdims=True) * self.scale)
        return self.out if keepdims else xp.squeeze(self.out, axis=axis)

    def backward(self, g):
        g = expand_reduced(g, self.shape, self.axis, self.keepdims)
        safe = xp.where(self.out == 0, 1, self.out)
        with xp.errstate(invalid="ignore"):
            grad = g * self.centered * self.scale / safe
        return xp.where(self.out == 0, 0, grad)

    @staticmethod
    def vjp(g, x, axis=None, keepdims=False, ddof=0):
        from .elementwise import where
        from .reduce import mean

        s = Std.apply(x, axis=axis, keepdims=True, ddof=ddof)
        zero = s == 0
        grad = unreduce(g, axis, keepdims) * (x - mean(x, axis, keepdims=True))
        return where(zero, 0.0, grad / ((count(x, axis) - ddof) * where(zero, 1.0, s)))


@torch_names(unbiased=True)
def std(x, axis=None, keepdims: bool = False, ddof: int = 0):
    """Standard deviation over ``axis``: the square root of the sum of squared deviations
    divided by n - ddof (ddof=1: the sample estimate, torch.std's default correction).

    Where ddof >= n (no estimate exists) it is inf, or NaN for zero spread, as PyTorch and
    :func:`tidu.var`, without an exception or a warning; the gradient there is NaN, and it
    is 0 where the deviation is 0.

    >>> import tidu
    >>> float(tidu.std(tidu.tensor([1.0, 3.0])))
    1.0
    """
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "std")
    return Std.apply(x, axis=axis, keepdims=keepdims, ddof=ddof)


class PNorm(Function):
    """(sum |x|^p)^(1/p) over ``axis`` for a finite p != 0; the gradient is 0 where the norm
    is 0 and at elements equal to 0 (as torch.linalg.vector_norm)."""

    def forward(self, x, p=2.0, axis=None, keepdims=False):
        self.x, self.p, self.axis, self.keepdims = x, p, axis, keepdims
        a = xp.abs(x)
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:
                out = xp.sqrt((a * a).sum(axis=axis, keepdims=True))
            else:
                out = (a**p).sum(axis=axis, keepdims=True) ** (1 / p)
        self.out = out
        return out if keepdims else xp.squeeze(out, axis=axis)

    def backward(self, g):
        x, p, out = self.x, self.p, self.out
        g = expand_reduced(g, x.shape, self.axis, self.keepdims)
        live = out != 0
        safe = xp.where(live, out, 1)
        if p == 2:
            return g * x / safe * live
        a = xp.where(x == 0, 1, xp.abs(x))
        with xp.errstate(over="ignore", invalid="ignore"):
            grad = g * xp.sign(x) * (a / safe) ** (p - 1)
        return xp.where(live & (x != 0), grad, 0)

    @staticmethod
    def vjp(g, x, p=2.0, axis=None, keepdims=False):
        from .elementwise import abs, sign, where

        out = PNorm.apply(x, p=p, axis=axis, keepdims=True)
        live = out != 0
        safe = where(live, out, 1.0)
        g = unreduce(g, axis, keepdims)
        if p == 2:
            return g * x / safe * live
        a = where(x == 0, 1.0, abs(x))
        return g * sign(x) * (a / safe) ** (p - 1) * live


@torch_names
def norm(x, ord=2, axis=None, keepdims: bool = False, p=None):
    """The vector p-norm over ``axis`` (all elements when None), as torch.linalg.vector_norm.

    ``ord`` (or its alias ``p``): any real p, ``inf`` (largest |x|), ``-inf`` (smallest
    |x|), 0 (the number of nonzero elements, no gradient) or ``'fro'`` (the 2-norm; of a
    matrix, with ``axis`` the pair of its axes). The gradient of the 2-norm is 0 at x = 0;
    the infinity norms share theirs among ties, like max.

    >>> import tidu
    >>> float(tidu.norm(tidu.tensor([3.0, -4.0]))), float(tidu.norm([3.0, -4.0], 1))
    (5.0, 7.0)
    """
    from .elementwise import abs, cast
    from .reduce import max, min, sum

    if p is not None:
        ord = p
    if ord == "fro":
        ord = 2
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise ValueError(f"norm: ord must be a number, inf, -inf or 'fro', got {ord!r} "
                         "(the nuclear norm 'nuc' needs singular values: not supported)")
    x = as_tensor(x)
    if not xp.issubdtype(x.dtype, xp.floating):
        raise TypeError(f"norm: expected a floating-point tensor, got dtype {x.dtype}")
    axes = normalize_axis(axis, x.ndim, "norm")
    if ord == xp.inf:
        return max(abs(x), axes, keepdims)
    if ord == -xp.inf:
        return min(abs(x), axes, keepdims)
    if ord == 0:
        return cast(sum(x != 0, axes, keepdims), x.dtype)
    if ord == 1:
        return sum(abs(x), axes, keepdims)
    return PNorm.apply(x, p=float(ord), axis=axes, keepdims=keepdims)


# ----- indices and truth values of reductions -----
class ArgExtreme(NoGrad):
    def forward(self, x, axis, keepdims, largest):
        f = xp.argmax if largest else xp.argmin
        return f(x, axis=axis, keepdims=keepdims).astype(xp.int64)


def _arg(x, axis, keepdims: bool, largest: bool, op: str):
    x = as_tensor(x)
    if x.size == 0:
        raise ValueError(f"{op}: the {op} of an empty tensor is undefined")
    if axis is not None:
        axis = check_axis(axis, x.ndim, op)
    return ArgExtreme.apply(x, axis=axis, keepdims=keepdims, largest=largest)


@torch_names
def argmax(x, axis: int | None = None, keepdims: bool = False):
    """The int64 position of the largest value along ``axis`` (of the flattened tensor when
    None); the first one among ties, NaN counting as largest.

    >>> import tidu
    >>> tidu.argmax(tidu.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1).tolist()
    [1, 0]
    """
    return _arg(x, axis, keepdims, True, "argmax")


@torch_names
def argmin(x, axis: int | None = None, keepdims: bool = False):
    """The int64 position of the smallest value along ``axis``; the first one among ties."""
    return _arg(x, axis, keepdims, False, "argmin")


class Truth(NoGrad):
    def forward(self, x, axis, keepdims, op):
        return getattr(xp, op)(x, axis=axis, keepdims=keepdims)


@torch_names
def any(x, axis=None, keepdims: bool = False):
    """Whether any element over ``axis`` is nonzero (a boolean tensor).

    >>> import tidu
    >>> tidu.any(tidu.tensor([[0, 1], [0, 0]]), axis=1).tolist()
    [True, False]
    """
    x = as_tensor(x)
    return Truth.apply(x, axis=normalize_axis(axis, x.ndim, "any"), keepdims=keepdims, op="any")


@torch_names
def all(x, axis=None, keepdims: bool = False):
    """Whether every element over ``axis`` is nonzero (a boolean tensor)."""
    x = as_tensor(x)
    return Truth.apply(x, axis=normalize_axis(axis, x.ndim, "all"), keepdims=keepdims, op="all")


# ----- scans -----
def _scan_axis(x, axis, op: str):
    """(x, axis): a None axis scans the flattened tensor, as NumPy."""
    from .shape import reshape

    x = as_tensor(x)
    if axis is None:
        return reshape(x, -1), 0
    return x, check_axis(axis, x.ndim, op)


class Cumsum(Function):
    def forward(self, x, axis):
        self.axis = axis
        return xp.cumsum(x, axis)

    def backward(self, g):
        return _rcumsum_array(g, self.axis)

    @staticmethod
    def vjp(g, x, axis):
        return _rcumsum(g, axis)


@torch_names
def cumsum(x, axis: int | None = None):
    """Running sums along ``axis`` (of the flattened tensor when None); integers and
    booleans sum in int64.

    >>> import tidu
    >>> tidu.cumsum(tidu.tensor([1, 2, 3]), 0).tolist()
    [1, 3, 6]
    """
    x, axis = _scan_axis(x, axis, "cumsum")
    return Cumsum.apply(x, axis=axis)


class Cumprod(Function):
    """Running products. With z the first zero of a slice, d out_j / d x_i is out_j / x_i
    for i < z, the running product with x_z skipped for i = z, and 0 for i > z: exact."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = xp.cumprod(x, axis)
        return self.out

    def backward(self, g):
        x, axis, out = self.x, self.axis, self.out
        zero = x == 0
        seen = xp.cumsum(zero, axis)  # zeros up to and including each position
        before, first = seen == 0, zero & (seen == 1)
        grad = _rcumsum_array(g * out, axis) / xp.where(before, x, 1)
        if not first.any():
            return grad
        skip = _rcumsum_array(g * xp.cumprod(xp.where(first, 1, x), axis), axis)
        return xp.where(before, grad, 0) + xp.where(first, skip, 0)

    @staticmethod
    def vjp(g, x, axis):
        # NOTE: the same formula in tidu operations: exact first derivatives with zeros; the
        # mixed second derivatives through a zero factor are taken as 0.
        from .elementwise import where

        zero = x == 0
        seen = cumsum(zero, axis)
        before, first = seen == 0, logical_and(zero, seen == 1)
        grad = where(before, _rcumsum(g * cumprod(x, axis), axis) / where(before, x, 1.0), 0.0)
        skip = _rcumsum(g * cumprod(where(first, 1.0, x), axis), axis)
        return grad + where(first, skip, 0.0)


@torch_names
def cumprod(x, axis: int | None = None):
    """Running products along ``axis`` (of the flattened tensor when None); the gradient is
    exact with zeros.

    >>> import tidu
    >>> tidu.cumprod(tidu.tensor([1.0, 2.0, 3.0]), 0).tolist()
    [1.0, 2.0, 6.0]
    """
    x, axis = _scan_axis(x, axis, "cumprod")
    return Cumprod.apply(x, axis=axis)


class CumArg(NoGrad):
    """The position of each running max (min): ties move it to the latest equal element,
    and a NaN holds it from there on, as in PyTorch."""

    def forward(self, x, axis, largest):
        acc = _accumulate(xp.maximum if largest else xp.minimum, x, axis)
        hit = x == acc
        if xp.issubdtype(x.dtype, xp.floating):
            hit |= xp.isnan(x)
        pos = namespace(x).arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        return _accumulate(xp.maximum, xp.where(hit, pos, 0), axis).astype(xp.int64)


def _cum_extreme(x, axis: int, largest: bool, op: str) -> ValuesIndices:
    x = as_tensor(x)
    axis = check_axis(axis, x.ndim, op)
    idx = CumArg.apply(x, axis=axis, largest=largest)
    return ValuesIndices(Gather.apply(x, idx, axis=axis), idx)


@torch_names
def cummax(x, axis: int) -> ValuesIndices:
    """``(values, indices)``: the running maximum along ``axis`` and where each came from
    (the latest of equal values); the gradient goes to those positions.

    >>> import tidu
    >>> tidu.cummax(tidu.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices.tolist()
    [0, 1, 1, 3]
    """
    return _cum_extreme(x, axis, True, "cummax")


@torch_names
def cummin(x, axis: int) -> ValuesIndices:
    """``(values, indices)``: the running minimum along ``axis`` (see :func:`cummax`)."""
    return _cum_extreme(x, axis, False, "cummin")


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) along ``axis`` by ``logaddexp.accumulate``: no overflow, and no
    underflow of small leading terms (which a shift by the max would lose)."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = _accumulate(xp.logaddexp, x, axis)
        return self.out

    def backward(self, g):
        # d out_j / d x_i = exp(x_i - out_j) for j >= i. The sums over j of g_j exp(-out_j)
        # are taken in log space, positive and negative parts of g apart: stable.
        x, axis, out = self.x, self.axis, self.out

        def part(h):  # sum over j >= i of h_j exp(x_i - out_j), for h >= 0
            with xp.errstate(divide="ignore"):
                logs = _flip_array(xp.log(h) - out, axis)
            return xp.exp(x + _flip_array(_accumulate(xp.logaddexp, logs, axis), axis))

        return part(xp.maximum(g, 0)) - part(xp.maximum(-g, 0))

    @staticmethod
    def vjp(g, x, axis):
        # NOTE: shifted by the slice's max, not in log space: finite second derivatives,
        # but it overflows for slices whose values span more than about 700.
        from .elementwise import exp

        c = ShiftOf.apply(x, axis=axis)
        return exp(x - c) * _rcumsum(g * exp(c - logcumsumexp(x, axis)), axis)


class ShiftOf(NoGrad):
    """The finite max of each slice along ``axis`` (0 where there is none): a constant."""

    def forward(self, x, axis):
        m = xp.max(x, axis=axis, keepdims=True)
        return xp.where(xp.isfinite(m), m, 0)


@torch_names
def logcumsumexp(x, axis: int):
    """log(cumsum(exp(x))) along ``axis``, stable for any values (``torch.logcumsumexp``).

    >>> import tidu
    >>> tidu.logcumsumexp(tidu.tensor([-1000.0, 0.0, 1000.0]), 0).tolist()
    [-1000.0, 0.0, 1000.0]
    """
    x = as_tensor(x)
    return LogCumSumExp.apply(x, axis=check_axis(axis, x.ndim, "logcumsumexp"))


TENSOR_METHODS: tuple = ("prod", "std", "norm", "argmax", "argmin", "any", "all", "cumsum",
                         "cumprod", "cummax", "cummin", "logcumsumexp")
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
