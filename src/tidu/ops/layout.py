"""Layout: repeating and tiling, flipping and rolling, triangles and diagonals, grids, moving
axes, and cutting a tensor into pieces (chunk, unbind, narrow).

Most are compositions of the primitives of :mod:`tidu.ops.shape` (reshape, broadcast_to,
permute, getitem), so their gradients and vjp rules come with them: ``tile`` broadcasts
along a new axis before each axis and merges the pairs; ``flip`` is a negative-step slice.
``roll`` is a primitive, beside its transpose. The triangles and diagonals (tril, triu,
diagonal, diag, and their primitives) live in :mod:`tidu.ops.layout_diagonals` and are
re-exported here. :func:`pad_last` spells ``torch.nn.functional.pad``'s flat pad tuple for
:func:`tidu.pad`; it and :class:`PadAdjoint`, the transpose of padding, live in
:mod:`tidu.ops.padding` and are re-exported here.
"""

from __future__ import annotations

import math

from .._shapes import check_axis, normalize_axis
from ..autograd import Function
from ..backend import to_host, xp
from ..errors import ShapeError
from ._layout_args import _int, _ints, _sizes_arg
from ._names import torch_names
from ._vjp import is_tensor
from .layout_diagonals import (  # noqa: F401 (re-exported: tidu.linalg imports Tril, Triu)
    Diagonal,
    DiagonalScatter,
    Tril,
    Triu,
    diag,
    diagonal,
    tril,
    triu,
)
from .padding import PadAdjoint, pad_last  # noqa: F401 (re-exported)
from .shape import broadcast_to, getitem, permute, reshape

__all__ = [
    "chunk", "diag", "diagonal", "flip", "meshgrid", "moveaxis", "movedim", "narrow",
    "pad_last", "repeat", "repeat_interleave", "roll", "tile", "tril", "triu", "unbind",
    "unflatten",
]

TENSOR_METHODS: tuple = (
    "chunk", "diag", "diagonal", "flip", "moveaxis", "movedim", "narrow", "repeat",
    "repeat_interleave", "roll", "tile", "tril", "triu", "unbind", "unflatten",
)
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""


# ----- primitives -----
class Roll(Function):
    """Shift cyclically along ``axis`` (None: the flattened tensor); the gradient rolls back."""

    def forward(self, x, shifts, axis):
        self.shifts, self.axis = shifts, axis
        return xp.roll(x, shifts, axis)

    def backward(self, g):
        return xp.roll(g, _negated(self.shifts), self.axis)

    @staticmethod
    def vjp(g, x, shifts, axis):
        return Roll.apply(g, shifts=_negated(shifts), axis=axis)


def _negated(shifts):
    return -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)


# ----- helpers -----
def _slice(x, axis: int, lo: int, hi: int):
    return getitem(x, (slice(None),) * axis + (slice(lo, hi),))


# ----- repeating -----
def tile(x, reps):
    """The whole tensor repeated ``reps[i]`` times along axis i (numpy.tile, torch.tile).

    A ``reps`` shorter than ``x.ndim`` is padded with leading 1s; a longer one adds leading
    axes. Gradients of the copies add up.

    >>> import tidu
    >>> tidu.tile(tidu.tensor([1.0, 2.0]), 2)
    tensor([1., 2., 1., 2.])
    """
    return _tile(x, _ints(reps, "reps", "tile"), "tile")


def repeat(x, *sizes):
    """torch.Tensor.repeat: the tensor tiled ``sizes[i]`` times along axis i.

    Unlike :func:`tile`, ``sizes`` needs an entry for every axis of ``x`` (more entries add
    leading axes). Not numpy.repeat: for that (each element repeated), see
    :func:`repeat_interleave`.

    >>> import tidu
    >>> tidu.tensor([[1.0, 2.0]]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    sizes = _ints(_sizes_arg(sizes), "sizes", "repeat")
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: needs a size for each of the {x.ndim} axes of a tensor of "
                         f"shape {x.shape}, got {sizes}")
    return _tile(x, sizes, "repeat")


def _tile(x, reps: tuple, op: str):
    if any(r < 0 for r in reps):
        raise ValueError(f"{op}: repetitions must be non-negative, got {reps}")
    nd = max(x.ndim, len(reps))
    shape = (1,) * (nd - x.ndim) + tuple(x.shape)
    reps = (1,) * (nd - len(reps)) + reps
    # a new axis before each axis, broadcast to the repetitions: (r, n) then merges into r * n
    spread = tuple(v for n in shape for v in (1, n))
    wide = tuple(v for r, n in zip(reps, shape) for v in (r, n))
    return reshape(broadcast_to(reshape(x, spread), wide),
                   tuple(r * n for r, n in zip(reps, shape)))


@torch_names
def repeat_interleave(x, repeats, axis: int | None = None):
    """Each element repeated ``repeats`` times along ``axis`` (torch.repeat_interleave,
    numpy.repeat); ``repeats`` is an int or a 1-D array of counts, one per element (or one
    for all). With ``axis=None`` the tensor is flattened first.

    >>> import tidu
    >>> tidu.repeat_interleave(tidu.tensor([1.0, 2.0]), [1, 3])
    tensor([1., 2., 2., 2.])
    """
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = check_axis(axis, x.ndim, "repeat_interleave")
    n = x.shape[axis]
    r = xp.asarray(to_host(repeats.data) if is_tensor(repeats) else repeats)
    if r.size == 0:
        r = r.astype(int)
    if r.dtype.kind not in "iu" or r.ndim > 1:
        raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D array of ints, "
                        f"got {repeats!r}")
    if (r < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats!r}")
    if r.ndim == 1 and r.size not in (1, n):
        raise ShapeError(f"repeat_interleave: {r.size} repeats for axis {axis} of length {n} "
                         f"(tensor of shape {x.shape}); give one per element, or one int")
    if r.size == 1:  # a new axis after ``axis``, broadcast to the count, merged back
        k, shp = int(r.reshape(())), tuple(x.shape)
        wide = shp[:axis + 1] + (k,) + shp[axis + 1:]
        spread = reshape(x, shp[:axis + 1] + (1,) + shp[axis + 1:])
        return reshape(broadcast_to(spread, wide), shp[:axis] + (n * k,) + shp[axis + 1:])
    return getitem(x, (slice(None),) * axis + (xp.repeat(xp.arange(n), r),))


# ----- reordering -----
@torch_names
def flip(x, axis=None):
    """The elements in reverse order along ``axis`` (an int or a tuple; None: every axis, as
    numpy.flip). ``torch.flip(x, dims)`` is ``flip(x, dims)``.

    >>> import tidu
    >>> tidu.flip(tidu.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([[2., 1.],
            [4., 3.]])
    """
    axes = range(x.ndim) if axis is None else normalize_axis(axis, x.ndim, "flip")
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(x.ndim)))


@torch_names
def roll(x, shifts, axis=None):
    """Elements shifted by ``shifts`` along ``axis``, those pushed off one end coming back at
    the other (torch.roll, numpy.roll). ``axis=None`` rolls the flattened tensor and keeps
    the shape; with several axes, give one shift each (or one for all).

    >>> import tidu
    >>> tidu.roll(tidu.tensor([1.0, 2.0, 3.0]), 1)
    tensor([3., 1., 2.])
    """
    s = _ints(shifts, "shifts", "roll")
    if axis is None:
        if len(s) != 1:
            raise ValueError(f"roll: with axis=None, shifts must be one int, got {shifts!r}")
        return Roll.apply(x, shifts=s[0], axis=None)
    axes = tuple(check_axis(a, x.ndim, "roll") for a in _ints(axis, "axis", "roll"))
    if len(s) == 1:
        s = s * len(axes)
    if len(s) != len(axes):
        raise ValueError(f"roll: {len(s)} shifts for {len(axes)} axes; give one shift per axis")
    return Roll.apply(x, shifts=s, axis=axes)


def movedim(x, source, destination):
    """The axes ``source`` moved to the positions ``destination`` (ints or sequences), the
    other axes keeping their order (torch.movedim, numpy.moveaxis).

    >>> import tidu
    >>> tidu.movedim(tidu.zeros(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    src = tuple(check_axis(a, x.ndim, "movedim") for a in _ints(source, "source", "movedim"))
    dst = tuple(check_axis(a, x.ndim, "movedim")
                for a in _ints(destination, "destination", "movedim"))
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source!r} and destination {destination!r} need "
                         "the same number of axes")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: source {source!r} or destination {destination!r} names an "
                         "axis twice")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, tuple(order))


moveaxis = movedim  # NumPy's name


@torch_names
def unflatten(x, axis: int, sizes):
    """Axis ``axis`` split into axes of ``sizes`` (one may be -1), as torch.unflatten.

    >>> import tidu
    >>> tidu.unflatten(tidu.zeros(2, 12), 1, (3, -1)).shape
    (2, 3, 4)
    """
    a = check_axis(axis, x.ndim, "unflatten")
    sizes = _ints(sizes, "sizes", "unflatten")
    n = x.shape[a]
    known = math.prod(s for s in sizes if s != -1)
    fits = known == n if -1 not in sizes else known > 0 and n % known == 0
    if not sizes or sizes.count(-1) > 1 or any(s < -1 for s in sizes) or not fits:
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to {n}, the length of axis "
                         f"{axis} of a tensor of shape {x.shape} (one size may be -1)")
    if -1 in sizes:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(x, tuple(x.shape[:a]) + sizes + tuple(x.shape[a + 1:]))


# ----- grids -----
def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids of 0-D or 1-D tensors, each broadcast to the shape of all (torch.meshgrid).

    ``indexing="ij"`` (torch's default): output axis i follows input i. ``"xy"`` (numpy's
    default, Cartesian): the first two axes swap. Each grid's gradient sums back into its
    input. A single list of tensors works too.

    >>> import tidu
    >>> gx, gy = tidu.meshgrid(tidu.zeros(2), tidu.zeros(3))
    >>> gx.shape, gy.shape
    ((2, 3), (2, 3))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("meshgrid: needs at least one tensor")
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    bad = [t.shape for t in tensors if t.ndim > 1]
    if bad:
        raise ShapeError(f"meshgrid: needs 0-D or 1-D tensors, got shapes {bad}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0
    full = [1] * len(tensors)
    for t, a in zip(tensors, axes):
        full[a] = math.prod(t.shape)
    grids = []
    for t, a in zip(tensors, axes):
        column = tuple(-1 if i == a else 1 for i in range(len(tensors)))
        grids.append(broadcast_to(reshape(t, column), tuple(full)))
    return tuple(grids)


# ----- pieces -----
@torch_names
def chunk(x, chunks: int, axis: int = 0) -> tuple:
    """``x`` cut along ``axis`` into pieces of ceil(n / chunks) elements, the last smaller
    (torch.chunk: there may be fewer than ``chunks`` pieces, e.g. 6 in 4 gives 2, 2, 2).

    >>> import tidu
    >>> [p.shape for p in tidu.chunk(tidu.zeros(5), 3)]
    [(2,), (2,), (1,)]
    """
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    a = check_axis(axis, x.ndim, "chunk")
    n = x.shape[a]
    if n == 0:
        return tuple(_slice(x, a, 0, 0) for _ in range(chunks))
    step = -(-n // chunks)
    return tuple(_slice(x, a, lo, min(lo + step, n)) for lo in range(0, n, step))


@torch_names
def unbind(x, axis: int = 0) -> tuple:
    """The slices of ``x`` along ``axis``, that axis removed (torch.unbind).

    >>> import tidu
    >>> [p.shape for p in tidu.unbind(tidu.zeros(2, 3), 1)]
    [(2,), (2,), (2,)]
    """
    a = check_axis(axis, x.ndim, "unbind")
    return tuple(getitem(x, (slice(None),) * a + (i,)) for i in range(x.shape[a]))


@torch_names
def narrow(x, axis: int, start: int, length: int):
    """Elements ``start`` to ``start + length`` of ``axis`` (torch.narrow; a negative start
    counts from the end).

    >>> import tidu
    >>> tidu.narrow(tidu.tensor([1.0, 2.0, 3.0, 4.0]), 0, 1, 2)
    tensor([2., 3.])
    """
    a = check_axis(axis, x.ndim, "narrow")
    n = x.shape[a]
    start, length = _int(start, "start", "narrow"), _int(length, "length", "narrow")
    if not -n <= start <= n:
        raise ShapeError(f"narrow: start {start} is out of range for axis {axis} of length {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ShapeError(f"narrow: start {start} + length {length} exceeds the length {n} of "
                         f"axis {axis} (tensor of shape {x.shape})")
    return _slice(x, a, start, start + length)
