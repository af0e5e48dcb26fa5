"""Shape operations and indexing. Their gradients move values back, they never compute."""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..errors import ShapeError


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


class Permute(Function):
    def forward(self, x, axes):
        if axes is not None and sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ShapeError(f"permute: {tuple(axes)} is not a permutation of the {x.ndim} axes "
                             f"of a tensor of shape {x.shape}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        if self.axes is None:
            return g.transpose(), None
        return g.transpose(xp.argsort([a % g.ndim for a in self.axes])), None


class BroadcastTo(Function):
    """Repeat along new or size-1 axes; the engine sums the gradient back."""

    def forward(self, x, shape):
        return xp.broadcast_to(x, shape)

    def backward(self, g):
        return g, None


class Concatenate(Function):
    def forward(self, *xs, axis=0):
        self.axis = axis
        self.bounds = xp.cumsum([x.shape[axis] for x in xs])[:-1]
        return xp.concatenate(xs, axis=axis)

    def backward(self, g):
        return tuple(xp.split(g, self.bounds, axis=self.axis))


class Pad(Function):
    def forward(self, x, pad_width, value=0):
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.slices], None


class GetItem(Function):
    """x[index]; repeated integer indices accumulate their gradients."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        out = xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g
        else:
            xp.add.at(out, self.index, g)
        return out, None


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


def flatten(x, start_axis: int = 1):
    """Merge the axes from ``start_axis`` on into one (the batch axis stays by default)."""
    shp = x.shape
    return reshape(x, tuple(shp[:start_axis]) + (-1,))


def permute(x, *axes):
    """Reorder the axes."""
    return Permute.apply(x, _shape_arg(axes))


def transpose(x, *axes):
    """Reverse the axes (no arguments), swap two axes (two arguments), or permute (more)."""
    axes = _shape_arg(axes)
    if not axes:
        return Permute.apply(x, None)
    if len(axes) == 2:  # swap two axes, as torch.transpose(x, dim0, dim1)
        perm = list(range(x.ndim))
        a, b = axes[0] % x.ndim, axes[1] % x.ndim
        perm[a], perm[b] = perm[b], perm[a]
        axes = tuple(perm)
    return Permute.apply(x, axes)


def broadcast_to(x, shape):
    """Broadcast to ``shape`` (NumPy rules)."""
    shape = tuple(shape)
    try:
        xp.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo.apply(x, shape)


def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them, or the given ones)."""
    shp = x.shape
    if axis is None:
        new = tuple(n for n in shp if n != 1)
    else:
        axes = {a % len(shp) for a in ((axis,) if isinstance(axis, int) else axis)}
        for a in axes:
            if shp[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {shp} has length {shp[a]}, not 1")
        new = tuple(n for i, n in enumerate(shp) if i not in axes)
    return Reshape.apply(x, new)


def unsqueeze(x, axis: int):
    """Insert an axis of length 1 at ``axis``."""
    shp = list(x.shape)
    axis = axis % (len(shp) + 1)
    shp.insert(axis, 1)
    return Reshape.apply(x, tuple(shp))


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [t.shape for t in tensors]
    nd = len(shapes[0])
    ax = axis % nd if nd else 0
    for s in shapes:
        if len(s) != nd or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != ax):
            raise ShapeError(
                f"concatenate: shapes {shapes} must match on every axis except axis {axis}"
            )
    return Concatenate.apply(*tensors, axis=ax)


def stack(tensors, axis: int = 0):
    """Join tensors of one shape along a new axis."""
    tensors = list(tensors)
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


def split(x, sections, axis: int = 0):
    """Split into equal sections (an int) or at the given indices (a list), like numpy.split."""
    n = x.shape[axis]
    if isinstance(sections, int):
        if n % sections:
            raise ShapeError(f"split: axis {axis} of length {n} does not divide into "
                             f"{sections} equal sections")
        bounds = list(range(0, n + 1, n // sections))
    else:
        bounds = [0, *sections, n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(lo, hi)
        out.append(getitem(x, tuple(idx)))
    return out


def pad(x, pad_width, value: float = 0.0):
    """Pad with a constant; ``pad_width`` as in numpy.pad ((before, after) per axis)."""
    pw = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (x.ndim, 2))
    return Pad.apply(x, tuple(map(tuple, pw.tolist())), value=value)


def getitem(x, index):
    """x[index] with slices, integers, integer arrays or boolean masks."""
    from ..tensor import Tensor

    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        index = xp.asarray(index)
    return GetItem.apply(x, index)
