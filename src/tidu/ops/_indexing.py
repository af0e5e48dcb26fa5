"""The machinery under tidu.ops.index: how an index is built and checked (inside forward,
so that compiled runs check too), and the two primitives, :class:`Take` (read ``x[index]``)
and :class:`IndexPut` (write values at ``index`` into a copy of ``x``), each the other's
derivative. See tidu.ops.index for the index forms (``template`` or ``axis``)."""

from __future__ import annotations

import math

from ..autograd import Function
from ..backend import asarray_like, is_array, namespace, xp
from ..errors import ShapeError
from ._device import zeros_beside
from ._vjp import is_tensor
from .shape import broadcast_like


class _Array:
    """The sentinel marking where an index array goes in a template."""

    def __repr__(self) -> str:
        return "ARRAY"


ARRAY = _Array()
_UNSET = object()


# ----- building and checking an index (inside forward, so that compiled runs check too) -----
def _build_index(x, arrays, template=None, axis=None, broadcast=False, op="index",
                 strict=False) -> tuple:
    """The index that ``arrays`` and the keywords describe, for the array ``x`` (host arrays
    among ``arrays`` are moved to x's device: they are data, as Python ints are)."""
    shape = x.shape
    if type(x) is xp.ndarray:
        arrays = [xp.asarray(a) for a in arrays]
    else:
        arrays = [asarray_like(a, x) for a in arrays]
    if template is None:
        return _along(shape, arrays[0], axis, broadcast, op)
    for a in arrays:
        if a.dtype.kind not in "iub":
            raise TypeError(f"{op}: index arrays must hold integers or booleans, got {a.dtype}")
    it = iter(arrays)
    index = tuple(next(it) if i is ARRAY else i for i in template)
    _check_items(op, index, shape, strict)
    return index


def _check_items(op, index, shape, strict) -> None:
    """Every integer (array) of ``index`` in range for the axis it indexes: [-n, n), or
    [0, n) when ``strict``. (Other mistakes are left to NumPy's own messages.)"""
    def mask(i):
        return is_array(i) and i.dtype == bool

    def width(i):  # how many axes of x an item consumes
        if i is None or i is Ellipsis or isinstance(i, (bool, xp.bool_)):
            return 0
        return i.ndim if mask(i) else 1

    d = 0
    for i in index:
        if i is Ellipsis:
            d += len(shape) - sum(width(j) for j in index)
        elif width(i) == 1 and not (isinstance(i, slice) or mask(i)) and d < len(shape):
            _check_range(op, i if is_array(i) else xp.asarray(i), 0 if strict else -shape[d],
                         shape, d)
        d += width(i)


def _along(shape, index, axis, broadcast, op) -> tuple:
    """The gather form: ``index`` along ``axis``, the other axes counted position by position."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must hold integers, got {index.dtype}")
    if index.ndim != len(shape):
        raise ShapeError(f"{op}: index of shape {index.shape} needs as many axes as the input "
                         f"of shape {tuple(shape)}")
    _check_range(op, index, -shape[axis] if broadcast else 0, shape, axis)
    grid = []
    for d, m in enumerate(index.shape):
        if d == axis:
            grid.append(index)
            continue
        n = shape[d]
        if broadcast and m not in (1, n) and n != 1:
            raise ShapeError(f"{op}: index of shape {index.shape} does not broadcast against "
                             f"the input of shape {tuple(shape)} on axis {d}")
        if not broadcast and m > n:
            raise ShapeError(f"{op}: index of shape {index.shape} is longer than the input of "
                             f"shape {tuple(shape)} on axis {d} (at most {n} there)")
        k = n if broadcast else m
        grid.append(namespace(index).arange(k).reshape(
            [k if j == d else 1 for j in range(index.ndim)]))
    return tuple(grid)


def _check_range(op, index, lo, shape, axis, what="index") -> None:
    n = shape[axis]
    if index.size and (index.min() < lo or index.max() >= n):
        bad = index[(index < lo) | (index >= n)].ravel()[0].item()
        of = f"{what} of shape {index.shape}, " if index.ndim else ""
        raise IndexError(f"{op}: {what} {bad} is out of range for axis {axis} of length {n} "
                         f"(valid: {lo} to {n - 1}); {of}input of shape {tuple(shape)}")


def _describe(index) -> str:
    def one(i):
        if isinstance(i, slice):
            parts = ["" if p is None else str(p) for p in (i.start, i.stop, i.step)]
            return ":".join(parts if i.step is not None else parts[:2])
        if is_array(i):
            return f"{i.dtype} array of shape {i.shape}"
        return "..." if i is Ellipsis else repr(i)

    return "[" + ", ".join(one(i) for i in index) + "]"


def _read(x, index, op):
    try:
        return x[index]
    except IndexError as e:
        raise IndexError(f"{op}: {e} (input of shape {x.shape}, index {_describe(index)})") \
            from None


def _may_repeat(arrays, how) -> bool:
    """Whether the index may name one position twice (integer arrays can; masks cannot)."""
    return how.get("template") is None or any(a.dtype.kind in "iu" for a in arrays)


def _last_writes(shape, index):
    """Boolean, shaped like ``x[index]``: True where a write is the last to its position."""
    m = next((namespace(i) for i in index if is_array(i)), xp)  # the index's library
    pos = m.arange(math.prod(shape), dtype=xp.intp).reshape(shape)[index].ravel()
    _, first_from_end = xp.unique(pos[::-1], return_index=True)
    keep = zeros_beside(pos, pos.size, bool)
    keep[pos.size - 1 - first_from_end] = True
    return pos, keep


# ----- the two primitives (and the mask of the writes that win) -----
class Take(Function):
    """``x[index]``, the index given as arrays and keywords (see the module docstring)."""

    def forward(self, x, *arrays, **how):
        self.shape, self.basic = x.shape, not arrays
        self.index = _build_index(x, arrays, **how)
        return _read(x, self.index, how.get("op", "index"))

    def backward(self, g):
        out = zeros_beside(g, self.shape)
        if self.basic:
            out[self.index] = g
        else:
            xp.add.at(out, self.index, g)
        return (out,) + (None,) * (len(self.needs_grad) - 1)

    @staticmethod
    def vjp(g, x, *arrays, **how):
        zeros = broadcast_like(xp.zeros((), dtype=g.dtype), x)
        return (IndexPut.apply(zeros, g, *arrays, accumulate=True, **how),) + (None,) * len(arrays)


class IndexPut(Function):
    """A copy of ``x`` with ``values`` (broadcast to ``x[index]``, cast to x's dtype) written
    at ``index``, or added there with ``accumulate``."""

    def forward(self, x, values, *arrays, accumulate=False, **how):
        op = how.get("op", "index_put")
        index = _build_index(x, arrays, **how)
        target = _read(x, index, op).shape
        if type(values) is not type(x):  # a number, a list, a host array beside device x
            values = asarray_like(values, x)
        values = values.astype(x.dtype, copy=False)
        if _broadcast_shape(values.shape, target) != target:
            raise ShapeError(f"{op}: values of shape {values.shape} do not broadcast to the "
                             f"shape {target} of x[index] (x of shape {x.shape}, index "
                             f"{_describe(index)})")
        self.index, self.accumulate, self.keep = index, accumulate, None
        out = x.copy()
        if accumulate:
            xp.add.at(out, index, values)
        elif _may_repeat(arrays, how):
            pos, keep = _last_writes(x.shape, index)
            out.reshape(-1)[pos[keep]] = xp.broadcast_to(values, target).ravel()[keep]
            if not keep.all():
                self.keep = keep.reshape(target)
        else:
            out[index] = values
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_grad[0]:
            gx = g if self.accumulate else g.copy()
            if not self.accumulate:
                gx[self.index] = 0
        if self.needs_grad[1]:
            gv = g[self.index] if self.keep is None else g[self.index] * self.keep
        return (gx, gv) + (None,) * (len(self.needs_grad) - 2)

    @staticmethod
    def vjp(g, x, values, *arrays, accumulate=False, **how):
        gx = gv = None
        if is_tensor(x):
            gx = g if accumulate else IndexPut.apply(g, 0.0, *arrays, **how)
        if is_tensor(values):
            gv = Take.apply(g, *arrays, **how)
            if not accumulate and _may_repeat(arrays, how):
                gv = gv * LastWrites.apply(g, *arrays, **how)
        return (gx, gv) + (None,) * len(arrays)


class _Constant(Function):
    """A result that depends on its inputs only through indices or masks: no gradient."""

    def backward(self, g):
        return (None,) * len(self.needs_grad)

    @staticmethod
    def vjp(g, *args, **kwargs):
        return (None,) * len(args)


class LastWrites(_Constant):
    """1 where a write of :class:`IndexPut` (without accumulate) into an array like ``like``
    is the last to its position, else 0; shaped like ``like[index]``."""

    def forward(self, like, *arrays, **how):
        index = _build_index(like, arrays, **how)
        _, keep = _last_writes(like.shape, index)
        return keep.reshape(_read(like, index, "index").shape).astype(like.dtype)


class OneHot(_Constant):
    """int64 one-hot codes of integer labels along a new last axis."""

    def forward(self, labels, num_classes=-1):
        if labels.dtype.kind not in "iu":
            raise TypeError(f"one_hot: labels must be integers, got {labels.dtype}")
        k = num_classes
        if k == -1:
            if labels.size == 0:
                raise IndexError("one_hot: cannot infer num_classes from empty labels; "
                                 "pass num_classes")
            k = int(labels.max()) + 1
        if labels.size:
            _check_range("one_hot", labels.reshape(-1), 0, (k,), 0, what="label")
        return (labels[..., None] == namespace(labels).arange(k)).astype(xp.int64)


class NonZero(_Constant):
    """The int64 positions of the nonzero elements, one row each."""

    def forward(self, x):
        return xp.argwhere(x).astype(xp.int64)


def _broadcast_shape(a, b):
    """The broadcast of shapes ``a`` and ``b``, or None where they do not broadcast."""
    try:
        return xp.broadcast_shapes(a, b)
    except ValueError:
        return None
