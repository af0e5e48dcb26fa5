"""Indexing by arrays of positions: gather and scatter along an axis, index_select and
index_add, masks, one-hot, nonzero, and index_put (the functional form of ``x[index] = v``).

Two Functions do the work: :class:`Take` reads ``x[index]``, :class:`IndexPut` writes values
at ``index`` into a copy of ``x``, and each is the other's derivative. Their index arrays are
positional arguments (so that they can be graph values under :mod:`tidu.compile`); the rest
of the index is static keywords, ``**how``:

- ``template``: an index as ``x[...]`` takes it (ints, slices, None, Ellipsis) with ``ARRAY``
  where the next array goes;
- or ``axis``: the gather form, one integer ``index`` with x's number of axes that picks along
  ``axis``, every other axis taken position by position (over index's lengths, as
  ``torch.gather``, or with ``broadcast=True`` against x's, as ``numpy.take_along_axis``);
- ``op``: the public name, for error messages; ``strict``: indices in [0, n) only (as torch's
  index_select and index_add), where NumPy would also take negative ones.

Where several writes without ``accumulate`` land on one position, the last in row-major order
of ``x[index]`` wins (deterministically), and only it gets a gradient: the overwritten values
do not affect the result. (PyTorch leaves the winner unspecified and gives each write the
gradient.)
"""

from __future__ import annotations

from .._shapes import check_axis
from ..backend import is_array, xp
from ..errors import ShapeError
from ._device import beside
from ._indexing import (
    _UNSET,
    ARRAY,
    IndexPut,
    NonZero,
    OneHot,
    Take,
    _broadcast_shape,
    _build_index,
    _read,
)
from ._vjp import is_tensor
from .elementwise import cast, where
from .shape import broadcast_to, getitem, reshape

__all__ = ["gather", "take_along_axis", "scatter", "scatter_add", "index_add", "index_select",
           "masked_fill", "masked_select", "one_hot", "nonzero", "index_put"]

TENSOR_METHODS: tuple = ("gather", "scatter", "scatter_add", "index_add", "index_select",
                         "masked_fill", "masked_select", "nonzero", "index_put")
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""


# ----- arguments in the user's terms -----
def _arr(i):
    """An index argument as an array; a symbolic Variable stays a graph value."""
    if is_tensor(i):
        return i if i.data is None else i.data
    if isinstance(i, list) and not i:
        return xp.zeros(0, dtype=xp.intp)
    return xp.asarray(i)


def _concrete(*ts) -> bool:
    return not any(is_tensor(t) and t.data is None for t in ts)


def _int_index(index, op: str, name: str = "index", kinds: str = "iu"):
    if index is None:
        raise TypeError(f"{op}: missing the {name} argument")
    a = _arr(index)
    if a.dtype.kind not in kinds:
        kind = "be boolean" if kinds == "b" else "hold integers"
        raise TypeError(f"{op}: {name} must {kind}, got {a.dtype}")
    return a


def _axis(axis, dim, x, op: str) -> int:
    """``axis``, or torch's name for it ``dim``, as a non-negative int."""
    if dim is not _UNSET:
        if axis is not None:
            raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; pass one")
        axis = dim
    if axis is None:
        raise TypeError(f"{op}: missing the axis argument (axis= or dim=)")
    return check_axis(axis, x.ndim, op)


def _fit_src(src, value, index, op: str):
    """The source of a scatter: a number, or a tensor of which (as in torch) only the leading
    block of index's shape is used."""
    if (src is None) == (value is None):
        raise TypeError(f"{op}: pass exactly one of src (a tensor) and value (a number)")
    src = value if src is None else src
    if isinstance(src, (bool, int, float, xp.generic)) or not _concrete(src, index):
        return src
    if not is_tensor(src):
        src = xp.asarray(src)
    if src.ndim == 0 or src.shape == index.shape:
        return src
    if src.ndim != index.ndim or any(s < n for s, n in zip(src.shape, index.shape)):
        raise ShapeError(f"{op}: src of shape {src.shape} must have index's number of axes "
                         f"and be at least as long on each (index of shape {index.shape})")
    return getitem(src, tuple(slice(0, n) for n in index.shape))


def gather(x, axis: int | None = None, index=None, *, dim=_UNSET):
    """Values of ``x`` picked along ``axis`` by ``index`` (``torch.gather``): for axis 1,
    ``out[i, j] = x[i, index[i, j]]``. ``index`` has x's number of axes and is at most as long
    on the others; the result has its shape. The gradient adds back into the picked places.

    >>> import tidu
    >>> tidu.gather(tidu.tensor([[1., 2.], [3., 4.]]), 1, [[0, 0], [1, 0]])
    tensor([[1., 1.],
            [4., 3.]])
    """
    ax = _axis(axis, dim, x, "gather")
    return Take.apply(x, _int_index(index, "gather"), axis=ax, op="gather")


def take_along_axis(x, indices, axis: int | None = -1, *, dim=_UNSET):
    """``numpy.take_along_axis`` (``torch.take_along_dim``): ``indices`` picks along ``axis``
    and broadcasts against ``x`` on the other axes; negative indices count from the end;
    ``axis=None`` works on the flattened ``x``.

    >>> import tidu
    >>> x = tidu.tensor([[10., 30., 20.], [60., 40., 50.]])
    >>> tidu.take_along_axis(x, [[0], [-1]], axis=1)
    tensor([[10.],
            [50.]])
    """
    if dim is not _UNSET:
        if axis != -1:
            raise TypeError(f"take_along_axis: got both axis={axis!r} and dim={dim!r}; pass one")
        axis = dim
    index = _int_index(indices, "take_along_axis", "indices")
    if axis is None:
        x, index = reshape(x, (-1,)), reshape(index, (-1,))
        axis = 0
    ax = check_axis(axis, x.ndim, "take_along_axis")
    return Take.apply(x, index, axis=ax, broadcast=True, op="take_along_axis")


def scatter(x, axis: int | None = None, index=None, src=None, *, dim=_UNSET, value=None):
    """A copy of ``x`` with ``src`` (a tensor, or the number ``value``) written along ``axis``
    at ``index`` (``torch.scatter``): for axis 0, ``out[index[i, j], j] = src[i, j]``.

    Of several writes to one position the last in row-major order of ``index`` wins, and only
    it gets a gradient; ``x`` gets none where it was overwritten.

    >>> import tidu
    >>> tidu.scatter(tidu.zeros(2, 3), 1, [[2], [0]], tidu.tensor([[5.], [7.]]))
    tensor([[0., 0., 5.],
            [7., 0., 0.]])
    """
    ax, index = _axis(axis, dim, x, "scatter"), _int_index(index, "scatter")
    return IndexPut.apply(x, _fit_src(src, value, index, "scatter"), index, axis=ax,
                          op="scatter")


def scatter_add(x, axis: int | None = None, index=None, src=None, *, dim=_UNSET):
    """A copy of ``x`` with ``src`` added along ``axis`` at ``index``, repeated positions
    adding up (``torch.scatter_add``): for axis 0, ``out[index[i, j], j] += src[i, j]``.

    >>> import tidu
    >>> tidu.scatter_add(tidu.zeros(3), 0, [0, 2, 0], tidu.tensor([1., 2., 3.]))
    tensor([4., 0., 2.])
    """
    ax, index = _axis(axis, dim, x, "scatter_add"), _int_index(index, "scatter_add")
    return IndexPut.apply(x, _fit_src(src, None, index, "scatter_add"), index, axis=ax,
                          accumulate=True, op="scatter_add")


def _select_template(x, axis, dim, index, op: str):
    ax = _axis(axis, dim, x, op)
    index = _int_index(index, op)
    if _concrete(index):
        if index.ndim > 1:
            raise ShapeError(f"{op}: index must be 1-D, got shape {index.shape}")
        index = index.reshape(-1)
    return ax, index, (slice(None),) * ax + (ARRAY,)


def index_select(x, axis: int | None = None, index=None, *, dim=_UNSET):
    """The slices of ``x`` at positions ``index`` (1-D, in [0, n)) along ``axis``
    (``torch.index_select``).

    >>> import tidu
    >>> tidu.index_select(tidu.tensor([[1., 2., 3.], [4., 5., 6.]]), 1, [2, 0])
    tensor([[3., 1.],
            [6., 4.]])
    """
    _, index, template = _select_template(x, axis, dim, index, "index_select")
    return Take.apply(x, index, template=template, op="index_select", strict=True)


def index_add(x, axis: int | None = None, index=None, source=None, *, alpha=1, dim=_UNSET):
    """A copy of ``x`` with ``alpha * source`` added at positions ``index`` (1-D, in [0, n))
    along ``axis``, repeated positions adding up (``torch.index_add``). ``source`` has x's
    shape except ``len(index)`` on ``axis``.

    >>> import tidu
    >>> tidu.index_add(tidu.zeros(3, 2), 0, [2, 2], tidu.ones(2, 2), alpha=0.5)
    tensor([[0., 0.],
            [0., 0.],
            [1., 1.]])
    """
    ax, index, template = _select_template(x, axis, dim, index, "index_add")
    if source is None:
        raise TypeError("index_add: missing the source argument")
    if _concrete(x, index, source):
        want = x.shape[:ax] + index.shape + x.shape[ax + 1:]
        if tuple(xp.shape(source)) != want:
            raise ShapeError(f"index_add: source must have shape {want} (x's shape {x.shape} "
                             f"with {len(index)} on axis {ax}), got {tuple(xp.shape(source))}")
    if alpha != 1:
        source = source * alpha
    return IndexPut.apply(x, source, index, template=template, accumulate=True,
                          op="index_add", strict=True)


def masked_fill(x, mask, value):
    """A copy of ``x`` with ``value`` (a number, or a 0-d tensor that gets the gradient of the
    filled places) where the boolean ``mask`` (broadcast to x's shape) is True.

    >>> import tidu
    >>> tidu.masked_fill(tidu.tensor([1., -2., 3.]), [False, True, False], 0.0)
    tensor([1., 0., 3.])
    """
    m = _int_index(mask, "masked_fill", "mask", kinds="b")
    if _concrete(x, m) and _broadcast_shape(x.shape, m.shape) != x.shape:
        raise ShapeError(f"masked_fill: mask of shape {m.shape} does not broadcast to x's "
                         f"shape {x.shape}")
    if is_tensor(value):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got a "
                             f"tensor of shape {value.shape}")
        if value.dtype != x.dtype:
            value = cast(value, x.dtype)
    elif isinstance(value, (bool, int, float, xp.generic)):
        value = beside(value, x, dtype=x.dtype)
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return where(m, value, x)


def masked_select(x, mask):
    """The elements of ``x`` where the boolean ``mask`` is True, as a 1-D tensor in row-major
    order; ``x`` and ``mask`` broadcast together (``torch.masked_select``).

    >>> import tidu
    >>> tidu.masked_select(tidu.tensor([[1., 2.], [3., 4.]]), [True, False])
    tensor([1., 3.])
    """
    m = _int_index(mask, "masked_select", "mask", kinds="b")
    if _concrete(x, m):
        shape = _broadcast_shape(x.shape, m.shape)
        if shape is None:
            raise ShapeError(f"masked_select: mask of shape {m.shape} does not broadcast "
                             f"against x of shape {x.shape}")
        if x.shape != shape:
            x = broadcast_to(x, shape)
        m = xp.broadcast_to(m, shape)
    return Take.apply(x, m, template=(ARRAY,), op="masked_select")


def one_hot(labels, num_classes: int = -1):
    """int64 one-hot codes of integer ``labels`` along a new last axis
    (``torch.nn.functional.one_hot``); ``num_classes=-1`` takes the largest label plus one.

    >>> import tidu
    >>> tidu.one_hot([0, 2], 3)
    tensor([[1, 0, 0],
            [0, 0, 1]], dtype=int64)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or \
            (num_classes < 1 and num_classes != -1):
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got "
                         f"{num_classes!r}")
    return OneHot.apply(_arr(labels), num_classes=num_classes)


def nonzero(x, as_tuple: bool = False):
    """The int64 positions of the nonzero elements of ``x`` (``torch.nonzero``): one row per
    element, shape (count, ndim); with ``as_tuple`` one 1-D tensor per axis, what ``x[...]``
    takes.

    >>> import tidu
    >>> tidu.nonzero(tidu.tensor([[0., 1.], [2., 0.]]))
    tensor([[0, 1],
            [1, 0]], dtype=int64)
    """
    a = _arr(x)
    if as_tuple and a.ndim == 0:
        a = reshape(a, (1,))
    out = NonZero.apply(a)
    return tuple(out[:, d] for d in range(a.ndim)) if as_tuple else out


def _split_index(index, op: str):
    """An index as ``x[index]`` takes it: its static template and its arrays."""
    items = index if isinstance(index, tuple) else (index,)
    template, arrays = [], []
    for i in items:
        if is_tensor(i) or isinstance(i, (list, xp.ndarray)):
            a = _arr(i)
            if a.dtype.kind not in "iub":
                raise TypeError(f"{op}: index arrays must hold integers or booleans, got "
                                f"{a.dtype}")
            template.append(ARRAY)
            arrays.append(a)
        elif isinstance(i, (xp.integer, xp.bool_)):
            template.append(i.item())
        elif i is None or i is Ellipsis or isinstance(i, (int, slice)):
            template.append(i)
        else:
            raise TypeError(f"{op}: an index is made of ints, slices, None, Ellipsis and "
                            f"integer or boolean arrays (lists, Tensors); got "
                            f"{type(i).__name__} {i!r}")
    return tuple(template), arrays


def index_put(x, index, values, accumulate: bool = False):
    """A copy of ``x`` with ``values`` written at ``index``: the functional form of
    ``x[index] = values`` (``torch.index_put``), for every index ``x[index]`` takes (ints,
    slices, None, Ellipsis, integer or boolean arrays, lists, tuples of these).

    ``values`` broadcasts to the shape of ``x[index]``. With ``accumulate`` they are added
    instead, repeated positions adding up. Without it, of several writes to one position the
    last in row-major order of ``x[index]`` wins, and only it gets a gradient. ``x`` gets no
    gradient where it was overwritten.

    >>> import tidu
    >>> tidu.index_put(tidu.zeros(2, 3), (1, slice(None, None, 2)), 5.0)
    tensor([[0., 0., 0.],
            [5., 0., 5.]])
    >>> tidu.index_put(tidu.zeros(3), [0, 0, 2], tidu.tensor(1.0), accumulate=True)
    tensor([2., 0., 1.])
    """
    template, arrays = _split_index(index, "index_put")
    if (is_tensor(values) or is_array(values)) and _concrete(x, values, *arrays):
        # as NumPy and PyTorch do, values may have leading axes of length 1 beyond x[index]'s
        like = xp.broadcast_to(beside(False, x, dtype=bool), x.shape)
        lead = values.ndim - _read(like, _build_index(like, arrays, template,
                                                      op="index_put"), "index_put").ndim
        if lead > 0 and all(n == 1 for n in values.shape[:lead]):
            values = reshape(values, values.shape[lead:])
    return IndexPut.apply(x, values, *arrays, template=template, accumulate=accumulate,
                          op="index_put")
