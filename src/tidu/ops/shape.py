"""Shape operations and indexing. Their gradients move values back, they never compute.

Padding (``Pad`` and :func:`pad`) lives in :mod:`tidu.ops.padding`, beside its transpose, and
is re-exported here.
"""

from __future__ import annotations

from itertools import accumulate

from .._shapes import check_axis
from ..autograd import Function
from ..backend import asarray_like, is_array, xp
from ..errors import ShapeError
from ._device import index_beside, zeros_beside
from ._names import torch_names
from ._vjp import is_tensor
from .padding import Pad, pad  # noqa: F401 (re-exported: tidu.ops imports pad from here)


class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {tuple(shape)}"
            ) from None

    def backward(self, g):
        return g.reshape(self.shape), None

    @staticmethod
    def vjp(g, x, shape):
        return reshape_like(g, x), None


class Permute(Function):
    """Reorder axes by ``axes`` (non-negative, checked by the wrappers; None reverses)."""

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        if self.axes is None:
            return g.transpose(), None
        return g.transpose(_inverse(self.axes)), None

    @staticmethod
    def vjp(g, x, axes):
        if axes is None:
            return Permute.apply(g, None), None
        return Permute.apply(g, _inverse(axes)), None


def _inverse(axes) -> tuple:
    """The permutation that undoes ``axes`` (Python ints: no array is made)."""
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))


class BroadcastTo(Function):
    """Repeat along new or size-1 axes; the engine sums the gradient back."""

    def forward(self, x, shape):
        return xp.broadcast_to(x, shape)

    def backward(self, g):
        return g, None

    @staticmethod
    def vjp(g, x, shape):
        return g, None


class Concatenate(Function):
    def forward(self, *xs, axis=0):
        self.axis = axis
        self.bounds = list(accumulate([x.shape[axis] for x in xs[:-1]]))
        return xp.concatenate(xs, axis=axis)

    def backward(self, g):
        return tuple(xp.split(g, self.bounds, axis=self.axis))

    @staticmethod
    def vjp(g, *xs, axis=0):
        return tuple(SplitLike.apply(g, *xs, axis=axis, index=i) if is_tensor(x) else None
                     for i, x in enumerate(xs))


class GetItem(Function):
    """x[index]; repeated integer indices accumulate their gradients."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        out = zeros_beside(g, self.shape)
        if _is_basic(self.index):
            out[self.index] = g
        else:
            xp.add.at(out, self.index, g)
        return out, None

    @staticmethod
    def vjp(g, x, index):
        return index_scatter_add(g, x, index), None


class ScatterAdd(Function):
    """An array of zeros shaped like ``like`` with ``g`` added at ``index`` (repeated indices
    accumulate): the transpose of ``x[index]``, used as its differentiable derivative."""

    def forward(self, g, like, index):
        self.index = index
        out = zeros_beside(g, xp.shape(like))
        if _is_basic(index):
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    def backward(self, gg):
        return gg[self.index], None, None

    @staticmethod
    def vjp(gg, g, like, index):
        return getitem(gg, index), None, None


class SplitLike(Function):
    """Piece ``index`` of ``g`` cut along ``axis`` into the lengths of ``likes`` on that axis:
    the gradient of one input of ``concatenate`` (lengths read at run time, not recorded)."""

    def forward(self, g, *likes, axis=0, index=0):
        bounds = list(accumulate([xp.shape(x)[axis] for x in likes]))
        lo = bounds[index - 1] if index else 0
        sl = [slice(None)] * g.ndim
        sl[axis] = slice(lo, bounds[index])
        self.shape, self.slices = g.shape, tuple(sl)
        return g[self.slices]

    def backward(self, gg):
        out = zeros_beside(gg, self.shape)
        out[self.slices] = gg
        return (out,) + (None,) * (len(self.needs_grad) - 1)

    @staticmethod
    def vjp(gg, g, *likes, axis=0, index=0):
        zero = xp.zeros((), dtype=gg.dtype)
        parts = [gg if i == index else broadcast_like(zero, x) for i, x in enumerate(likes)]
        return (Concatenate.apply(*parts, axis=axis),) + (None,) * len(likes)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x, *shape):
    """Same elements in a new shape (one entry may be -1)."""
    return Reshape.apply(x, _shape_arg(shape))


@torch_names
def flatten(x, start_axis: int = 0, end_axis: int = -1):
    """Merge the axes from ``start_axis`` to ``end_axis`` into one: all of them by default, as
    ``torch.flatten``; ``start_axis=1`` keeps the batch axis (what ``nn.Flatten`` does)."""
    shp = x.shape
    if end_axis == -1 or x.ndim == 0:
        return reshape(x, tuple(shp[:start_axis]) + (-1,))
    a, b = check_axis(start_axis, x.ndim, "flatten"), check_axis(end_axis, x.ndim, "flatten")
    if a > b:
        raise ShapeError(f"flatten: start_axis ({start_axis}) must not come after end_axis "
                         f"({end_axis}) for a tensor of shape {shp}")
    return reshape(x, tuple(shp[:a]) + (-1,) + tuple(shp[b + 1:]))


def permute(x, *axes):
    """Reorder the axes: output axis i is input axis ``axes[i]`` (negative counts from the end)."""
    return Permute.apply(x, _permutation(x, _shape_arg(axes), "permute"))


def transpose(x, *axes):
    """Reverse the axes (no arguments), swap two axes (two arguments), or permute (more).

    With two arguments this is ``torch.transpose(x, dim0, dim1)``; otherwise ``numpy.transpose``.
    """
    axes = _shape_arg(axes)
    if not axes:
        return Permute.apply(x, None)
    if len(axes) == 2:  # swap two axes, as torch.transpose(x, dim0, dim1)
        a, b = (check_axis(i, x.ndim, "transpose") for i in axes)
        perm = list(range(x.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return Permute.apply(x, tuple(perm))
    return Permute.apply(x, _permutation(x, axes, "transpose"))


def _permutation(x, axes: tuple, op: str) -> tuple:
    perm = tuple(check_axis(a, x.ndim, op) for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ShapeError(f"{op}: {axes} is not a permutation of the {x.ndim} axes of a tensor "
                         f"of shape {x.shape}")
    return perm


def broadcast_to(x, shape):
    """Broadcast to ``shape`` (NumPy rules)."""
    shape = tuple(shape)
    try:
        xp.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo.apply(x, shape)


@torch_names
def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them, or the given ones)."""
    shp = x.shape
    if axis is None:
        new = tuple(n for n in shp if n != 1)
    else:
        axes = {check_axis(a, len(shp), "squeeze")
                for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
        for a in axes:
            if shp[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {shp} has length {shp[a]}, not 1")
        new = tuple(n for i, n in enumerate(shp) if i not in axes)
    return Reshape.apply(x, new)


@torch_names
def unsqueeze(x, axis: int):
    """Insert an axis of length 1 at ``axis``."""
    shp = list(x.shape)
    shp.insert(_new_axis(axis, len(shp), "unsqueeze"), 1)
    return Reshape.apply(x, tuple(shp))


@torch_names
def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [t.shape for t in tensors]
    nd = len(shapes[0])
    if nd == 0:
        raise ShapeError("concatenate: cannot join 0-dimensional tensors along an axis; "
                         "use stack")
    ax = check_axis(axis, nd, "concatenate")
    for s in shapes:
        if len(s) != nd or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != ax):
            raise ShapeError(
                f"concatenate: shapes {shapes} must match on every axis except axis {axis}"
            )
    return Concatenate.apply(*tensors, axis=ax)


@torch_names
def stack(tensors, axis: int = 0):
    """Join tensors of one shape along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    ax = _new_axis(axis, len(shapes.pop()), "stack")
    return concatenate([unsqueeze(t, ax) for t in tensors], axis=ax)


def _new_axis(axis, ndim: int, op: str) -> int:
    """Position of a new axis in a result with ``ndim + 1`` axes (negative counts from the end)."""
    try:
        return check_axis(axis, ndim + 1, op)
    except ShapeError:
        raise ShapeError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions "
                         f"(a new axis goes at {-ndim - 1} to {ndim})") from None


@torch_names
def split(x, sections, axis: int = 0):
    """Split into equal sections (an int) or at the given indices (a list), like numpy.split."""
    axis = check_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(sections, int):
        if sections < 1:
            raise ValueError(f"split: sections must be a positive int, got {sections}")
        if n % sections:
            raise ShapeError(f"split: axis {axis} of length {n} does not divide into "
                             f"{sections} equal sections")
        bounds = [i * (n // sections) for i in range(sections + 1)]
    else:
        bounds = [0, *sections, n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(lo, hi)
        out.append(getitem(x, tuple(idx)))
    return out


def getitem(x, index):
    """x[index] with slices, integers, integer arrays or boolean masks."""
    from ..tensor import Tensor

    if isinstance(index, Tensor):
        if index.data is None:  # symbolic (tidu.compile): the index is a graph value
            return GetItem.apply(x, index)
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        index = xp.asarray(index)
    d = x.data if isinstance(x, Tensor) else x
    if type(d) is not xp.ndarray and is_array(d):
        index = index_beside(index, d)
    return GetItem.apply(x, index)


# ----- shape-agnostic forms, for derivatives written as expressions (vjp rules) -----
# They take the shape they need from another tensor at run time, so a rule written with them
# also holds for symbolic tensors whose shapes are not known yet.
class SumToLike(Function):
    """Sum ``g`` over the axes that broadcasting added to ``like``'s shape."""

    def forward(self, g, like):
        from .._shapes import sum_to

        self.shape = g.shape
        return sum_to(g, xp.shape(like), "sum_to_like")

    def backward(self, gg):
        return xp.broadcast_to(gg, self.shape), None

    @staticmethod
    def vjp(gg, g, like):
        return broadcast_like(gg, g), None


class BroadcastLike(Function):
    """Broadcast ``a`` to the shape of ``like`` (NumPy rules)."""

    def forward(self, a, like):
        if type(a) is not type(like) and type(like) is not xp.ndarray and is_array(like):
            a = asarray_like(a, like)  # a constant (a 0-d host array, a number) beside like
        return xp.broadcast_to(a, xp.shape(like))

    def backward(self, gg):
        return gg, None

    @staticmethod
    def vjp(gg, a, like):
        return gg, None


class ReshapeLike(Function):
    """Reshape ``a`` to the shape of ``like``."""

    def forward(self, a, like):
        self.shape = a.shape
        return a.reshape(xp.shape(like))

    def backward(self, gg):
        return gg.reshape(self.shape), None

    @staticmethod
    def vjp(gg, a, like):
        return reshape_like(gg, a), None


class ExpandDims(Function):
    """Insert axes of length 1 at the (sorted, non-negative) positions ``axis``."""

    def forward(self, x, axis):
        self.axis = axis
        return xp.expand_dims(x, axis)

    def backward(self, g):
        return xp.squeeze(g, axis=self.axis), None

    @staticmethod
    def vjp(g, x, axis):
        return reshape_like(g, x), None


def index_scatter_add(g, like, index):
    """Zeros shaped like ``like`` with ``g`` added at ``index`` (the gradient of indexing)."""
    d = g.data if is_tensor(g) else g
    if type(d) is not xp.ndarray and is_array(d):
        index = index_beside(index, d)
    return ScatterAdd.apply(g, like, index)


def split_like(g, likes, index: int, axis: int = 0):
    """Piece ``index`` of ``g`` cut along ``axis`` into the lengths of ``likes`` there."""
    likes = list(likes)
    return SplitLike.apply(g, *likes, axis=check_axis(axis, g.ndim, "split_like"), index=index)


def sum_to_like(g, like):
    """``g`` summed down to the shape of ``like`` (the reduction of a broadcast gradient)."""
    return SumToLike.apply(g, like)


def broadcast_like(a, like):
    """``a`` broadcast to the shape of ``like``."""
    return BroadcastLike.apply(a, like)


def reshape_like(a, like):
    """``a`` reshaped to the shape of ``like``."""
    return ReshapeLike.apply(a, like)


@torch_names
def expand_dims(x, axis):
    """Insert length-1 axes at ``axis`` (an int or a tuple of positions in the result)."""
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    nd = x.ndim + len(axes)
    return ExpandDims.apply(x, tuple(sorted(check_axis(a, nd, "expand_dims") for a in axes)))
