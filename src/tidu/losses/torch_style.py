"""PyTorch-style loss functions (``torch.nn.functional``'s names, arguments and semantics).

Public as :mod:`tidu.nn.functional`, where a PyTorch user looks for them; they are not
star-exported by :mod:`tidu.losses`, whose Keras functions take ``(y_true, y_pred)`` and
whose ``cosine_similarity`` is Keras's negative cosine. Here the prediction comes first,
``(input, target)``, classes sit on axis 1 for inputs with two or more axes (axis 0 for an
unbatched ``(C,)`` input, as in PyTorch), and ``reduction`` is 'mean', 'sum' or 'none'.

Differences from PyTorch: axes are named ``axis`` (PyTorch: ``dim``); the deprecated
``size_average`` and ``reduce`` arguments do not exist, so everything after ``weight`` is
keyword-only (a positional fourth argument would silently mean something else); class
``weight`` and ``pos_weight`` are constants (PyTorch does not differentiate them either).
Targets given as Tensors that require grad are differentiated where PyTorch does
(probability targets, binary targets).

>>> import tidu
>>> import tidu.nn.functional as F
>>> logits = tidu.tensor([[2.0, 0.0, 0.0], [0.0, 1e4, 0.0]])
>>> round(float(F.cross_entropy(logits, [0, -100])), 4)  # the second target is ignored
0.2395
"""

from __future__ import annotations

from .. import backend, ops
from ..backend import default_float, is_floating, xp
from ..debug.detectors import check_from_logits
from ..errors import ShapeError
from ..tensor import Tensor

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_similarity",
           "cross_entropy", "hinge_embedding_loss", "nll_loss"]

REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------- helpers
def _input(x, name: str) -> Tensor:
    t = x if isinstance(x, Tensor) else Tensor(x)
    if not (is_floating(t.dtype) or xp.issubdtype(t.dtype, xp.number) or t.dtype == bool):
        raise TypeError(f"{name}: input must be numeric, got dtype {t.dtype}")
    return t if is_floating(t.dtype) else ops.cast(t, default_float)


def _array(v, name: str, arg: str):
    """A constant argument (target indices, weights) as a NumPy array."""
    raw = v.data if isinstance(v, Tensor) else v
    arr = raw if backend.is_array(raw) else xp.asarray(raw)
    if not (xp.issubdtype(arr.dtype, xp.number) or arr.dtype == bool):
        raise TypeError(f"{name}: {arg} must be numeric, got dtype {arr.dtype}")
    return arr


def _soft(target, like: Tensor, name: str):
    """A floating target of ``like``'s shape: a Tensor stays one (and may carry gradient)."""
    if isinstance(target, Tensor):
        if not is_floating(target.dtype) or target.dtype != like.dtype:
            target = ops.cast(target, like.dtype)
        t = target
    else:
        t = _array(target, name, "target").astype(like.dtype, copy=False)
    if t.shape != like.shape:
        raise ShapeError(f"{name}: target has shape {t.shape} but input has shape {like.shape}; "
                         "they must be the same")
    return t


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, total=None) -> Tensor:
    """'none', 'sum', or 'mean': over the elements, or divided by ``total`` when given.

    A ``total`` of 0 (every target ignored) gives NaN, as PyTorch does, with a zero gradient.
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if total is None:
        return loss.mean()
    total = float(total)
    out = loss.sum() / (total if total != 0 else 1.0)
    return out + float("nan") if total == 0 else out


def _class_axis(x: Tensor, name: str) -> int:
    if x.ndim == 0:
        raise ShapeError(f"{name}: input must have a class axis (shape (C,), (N, C) or "
                         "(N, C, d1, ...)), got a scalar")
    return 1 if x.ndim >= 2 else 0


def _along(arr, ndim: int, axis: int):
    """A (C,) array shaped to broadcast along ``axis`` of an ``ndim``-axis array."""
    return arr.reshape(arr.shape + (1,) * (ndim - axis - 1))


def _class_weight(weight, classes: int, dtype, name: str):
    if weight is None:
        return None
    w = _array(weight, name, "weight").astype(dtype, copy=False)
    if w.shape != (classes,):
        raise ShapeError(f"{name}: weight must hold one value per class, shape ({classes},), "
                         f"got shape {w.shape}")
    return w


def _indices(target, x: Tensor, axis: int, ignore_index: int, name: str):
    """Class indices (int64, ``x``'s shape without ``axis``), checked; and their validity."""
    t = _array(target, name, "target")
    if not (xp.issubdtype(t.dtype, xp.integer)):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {t.dtype} "
                        "(for class probabilities, pass a target of input's shape)")
    want = x.shape[:axis] + x.shape[axis + 1:]
    if t.shape != want:
        raise ShapeError(f"{name}: target has shape {t.shape} but input has shape {x.shape}; "
                         f"class indices need shape {want}, probabilities shape {x.shape}")
    t = t.astype(xp.int64)
    classes = x.shape[axis]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bad.any():
        raise ValueError(f"{name}: target {t[bad].flat[0]} is out of bounds for input with "
                         f"{classes} classes (expected 0 to {classes - 1}, or ignore_index="
                         f"{ignore_index})")
    return xp.where(valid, t, 0), valid


def _nll(logp: Tensor, safe, valid, w, axis: int, reduction: str) -> Tensor:
    classes = logp.shape[axis]
    lib = backend.namespace(safe)
    hit = (xp.expand_dims(safe, axis) == _along(lib.arange(classes), logp.ndim, axis)) \
        & xp.expand_dims(valid, axis)
    wt = (lib.ones(safe.shape, logp.dtype) if w is None else w[safe]) * valid
    loss = -ops.where(hit, logp, 0.0).sum(axis=axis) * wt
    return _reduce(loss, reduction, wt.sum())


# ----------------------------------------------------------------------------- losses
def nll_loss(input, target, weight=None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``-weight[t] * input[n, t]`` for log-probabilities ``input``.

    Args:
        input: log-probabilities, shape (C,), (N, C) or (N, C, d1, ...): classes on axis 1.
        target: integer class indices, ``input``'s shape without the class axis.
        weight: optional (C,) class weights.
        ignore_index: targets equal to it contribute nothing, to the sum or to the weights.
        reduction: 'mean' divides the sum by the total weight of the non-ignored targets (as
            PyTorch; NaN when every target is ignored), 'sum', or 'none'.

    >>> import tidu, tidu.nn.functional as F
    >>> logp = tidu.log(tidu.tensor([[0.5, 0.5], [0.25, 0.75]]))
    >>> round(float(F.nll_loss(logp, [0, 1], weight=[1.0, 3.0])), 4)
    0.389
    """
    name = "nll_loss"
    _check_reduction(reduction, name)
    x = _input(input, name)
    axis = _class_axis(x, name)
    w = _class_weight(weight, x.shape[axis], x.dtype, name)
    safe, valid = _indices(target, x, axis, ignore_index, name)
    return _nll(x, safe, valid, w, axis, reduction)


def cross_entropy(input, target, weight=None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits (``log_softmax`` over axis 1, then ``nll_loss``), as PyTorch.

    Args:
        input: logits, shape (C,), (N, C) or (N, C, d1, ...).
        target: integer class indices (``input``'s shape without axis 1), or class
            probabilities of ``input``'s shape (floating).
        weight: optional (C,) class weights.
        ignore_index: for class indices only (as PyTorch; probability targets reject a
            non-negative one).
        reduction: 'mean', 'sum' or 'none'. With indices, 'mean' divides by the total weight
            of the non-ignored targets; with probabilities, by the number of samples.
        label_smoothing: in [0, 1]; the target becomes ``(1 - s) * target + s / C``.

    Finite for logits of any magnitude.
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    x = _input(input, name)
    axis = _class_axis(x, name)
    classes = x.shape[axis]
    w = _class_weight(weight, classes, x.dtype, name)
    check_from_logits(x, True, name, axis=axis)
    logp = ops.log_softmax(x, axis=axis)
    shape = target.shape if isinstance(target, Tensor) else xp.shape(target)
    if tuple(shape) == x.shape:
        dtype = target.dtype if hasattr(target, "dtype") else xp.asarray(target).dtype
        if not is_floating(dtype):
            raise TypeError(f"{name}: a target of input's shape holds class probabilities and "
                            f"must be floating, got dtype {dtype}")
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index={ignore_index} is not supported for "
                             "probability targets")
        y = _soft(target, x, name)
        if label_smoothing:
            y = y * (1.0 - label_smoothing) + label_smoothing / classes
        if w is not None:
            y = y * _along(w, x.ndim, axis)
        return _reduce(-(logp * y).sum(axis=axis), reduction)
    safe, valid = _indices(target, x, axis, ignore_index, name)
    nll = _nll(logp, safe, valid, w, axis, reduction)
    if not label_smoothing:
        return nll
    # the uniform part: -sum_c w_c log p_c per sample, reduced with nll's denominator
    wl = logp if w is None else logp * _along(w, x.ndim, axis)
    smooth = ops.where(valid, -wl.sum(axis=axis), 0.0)
    total = (valid.sum() if w is None else (w[safe] * valid).sum())
    smooth = _reduce(smooth, reduction, total if reduction == "mean" else None)
    return (1.0 - label_smoothing) * nll + smooth * (label_smoothing / classes)


def _log_clamped(p: Tensor) -> Tensor:
    """log(p) clamped to >= -100 as PyTorch's binary_cross_entropy (p = 0 gives -100)."""
    tiny = float(xp.finfo(p.dtype).smallest_subnormal)
    return ops.maximum(ops.log(ops.clip(p, tiny, None)), -100.0)


def binary_cross_entropy(input, target, weight=None, *, reduction: str = "mean") -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities ``p``, logs clamped at -100.

    Args:
        input: probabilities in [0, 1].
        target: targets in [0, 1], ``input``'s shape.
        weight: optional rescaling, broadcast against ``input``.
        reduction: 'mean' (over every element), 'sum' or 'none'.

    Raises:
        ValueError: a probability outside [0, 1].

    Where p underflows (below e^-100) the gradient is 0 rather than PyTorch's capped 1e12.
    """
    name = "binary_cross_entropy"
    _check_reduction(reduction, name)
    p = _input(input, name)
    if p.data is not None and p.size and not ((p.data >= 0) & (p.data <= 1)).all():
        raise ValueError(f"{name}: input must hold probabilities in [0, 1], got values from "
                         f"{p.data.min()!r} to {p.data.max()!r} (for logits, use "
                         "binary_cross_entropy_with_logits)")
    y = _soft(target, p, name)
    loss = -(y * _log_clamped(p) + (1.0 - y) * _log_clamped(1.0 - p))
    if weight is not None:
        loss = loss * _broadcastable(weight, p, name, "weight")
    return _reduce(loss, reduction)


def _broadcastable(v, x: Tensor, name: str, arg: str):
    arr = _array(v, name, arg).astype(x.dtype, copy=False)
    try:
        ok = xp.broadcast_shapes(arr.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{name}: {arg} of shape {arr.shape} does not broadcast to input's "
                         f"shape {x.shape}")
    return arr


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy of logits x: (1 - y) x + (1 + (pw - 1) y) softplus(-x).

    Args:
        input: logits, any shape (finite loss and gradient for any magnitude).
        target: targets in [0, 1], ``input``'s shape.
        weight: optional rescaling of each element's loss, broadcast against ``input``.
        reduction: 'mean' (over every element), 'sum' or 'none'.
        pos_weight: weight of the positive term, one per class, broadcast over the last
            axis (shape (C,) for input (N, C)); > 1 raises recall.

    >>> import tidu, tidu.nn.functional as F
    >>> x = tidu.tensor([[1e4, -1e4]])
    >>> F.binary_cross_entropy_with_logits(x, [[0.0, 1.0]], reduction="none").tolist()
    [[10000.0, 10000.0]]
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    x = _input(input, name)
    check_from_logits(x, True, name, binary=True)
    y = _soft(target, x, name)
    sp = ops.softplus(-x)
    if pos_weight is None:
        loss = (1.0 - y) * x + sp
    else:
        pw = _broadcastable(pos_weight, x, name, "pos_weight")
        loss = (1.0 - y) * x + (1.0 + (pw - 1.0) * y) * sp
    if weight is not None:
        loss = loss * _broadcastable(weight, x, name, "weight")
    return _reduce(loss, reduction)


def cosine_similarity(x1, x2, axis: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along ``axis``, as PyTorch.

    ``x1`` and ``x2`` broadcast to a common shape first; ``axis`` is an axis of that shape.
    A zero vector gives 0 (and a finite gradient).

    >>> import tidu, tidu.nn.functional as F
    >>> cos = F.cosine_similarity(tidu.tensor([[1.0, 0.0], [1.0, 1.0]]), tidu.tensor([[0.0, 2.0]]))
    >>> [round(v, 4) for v in cos.tolist()]
    [0.0, 0.7071]
    """
    name = "cosine_similarity"
    a, b = _input(x1, name), _input(x2, name)
    try:
        shape = xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{name}: x1 of shape {a.shape} and x2 of shape {b.shape} do not "
                         "broadcast") from None
    if not -len(shape) <= axis < max(len(shape), 1):
        raise ValueError(f"{name}: axis {axis} is out of range for shape {shape}")
    a = a if a.shape == shape else ops.broadcast_to(a, shape)
    b = b if b.shape == shape else ops.broadcast_to(b, shape)

    def unit(v):  # max(|v|, eps) as sqrt(max(|v|^2, eps^2)): no 0/0 in the gradient
        return v / ops.sqrt(ops.maximum((v * v).sum(axis=axis, keepdims=True), eps * eps))

    return (unit(a) * unit(b)).sum(axis=axis)


def hinge_embedding_loss(input, target, margin: float = 1.0, *,
                         reduction: str = "mean") -> Tensor:
    """x where the target is 1, max(0, margin - x) where it is -1 (PyTorch's formula).

    Args:
        input: distances (or scores), any shape.
        target: 1 or -1, ``input``'s shape.
        margin: the margin for the -1 targets.
        reduction: 'mean', 'sum' or 'none'.
    """
    name = "hinge_embedding_loss"
    _check_reduction(reduction, name)
    x = _input(input, name)
    t = _array(target, name, "target")
    if t.shape != x.shape:
        raise ShapeError(f"{name}: target has shape {t.shape} but input has shape {x.shape}")
    loss = ops.where(t != 1, ops.clip(margin - x, 0.0, None), 0.0) + ops.where(t != -1, x, 0.0)
    return _reduce(loss, reduction)
