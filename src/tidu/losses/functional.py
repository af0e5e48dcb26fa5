"""Per-sample loss functions, built from tidu ops so that autodiff gives their gradients.

Each function takes ``y_true`` (array, list or Tensor; never differentiated, converted to
``y_pred``'s dtype) and ``y_pred`` (a Tensor) and returns one loss per sample, as Keras does:
shape ``y_pred.shape[:-1]`` when ``y_pred`` has two or more axes (the last axis holds one
sample's outputs or classes), ``y_pred.shape`` for 1-D predictions (one value per sample).

Stability, the point of this module: no loss returns inf or NaN for a confident wrong
prediction. With ``from_logits=True`` the cross-entropies work on logits (``log_softmax``;
binary cross-entropy as softplus(x) - x*y); with probabilities they clip to
``[EPSILON, 1 - EPSILON]`` as Keras does. When the probabilities were produced by tidu's
``softmax`` (or ``sigmoid``) in a recorded graph, the cross-entropies read that op's input
logits and compute from them instead: exact, and the gradient with respect to the logits is
``softmax - y_true`` even where the probabilities have rounded to 0 or 1. (The probabilities
tensor is then not on the loss's path: after ``backward`` its own ``.grad`` stays empty.)
"""

from __future__ import annotations

from .. import backend, ops
from .._shapes import check_axis
from ..backend import default_float, is_floating, xp
from ..debug._mode import FromLogitsWarning, report
from ..debug.detectors import check_from_logits
from ..errors import ShapeError
from ..ops.activation import Sigmoid, Softmax
from ..ops.crossentropy import REDUCTIONS, SoftmaxCrossEntropy
from ..tensor import Tensor

_ND = xp.ndarray

EPSILON = 1e-7
"""Probabilities are clipped to [EPSILON, 1 - EPSILON] before a logarithm (Keras's epsilon)."""

_NUMERIC_KINDS = frozenset("biufc")  # bool, integers, floats, complex: NumPy's numbers


# ----------------------------------------------------------------------------- helpers
def _numeric(arr, name: str, arg: str):
    if getattr(arr.dtype, "kind", "") in _NUMERIC_KINDS:  # the common case, without issubdtype
        return arr
    if not (xp.issubdtype(arr.dtype, xp.number) or arr.dtype == bool):
        raise TypeError(f"{name}: {arg} must be numeric, got an array of dtype {arr.dtype}")
    return arr


def as_pred(y_pred, name: str) -> Tensor:
    """``y_pred`` as a floating Tensor (arrays and lists are wrapped, without gradient)."""
    t = y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)
    _numeric(t, name, "y_pred")
    return t if is_floating(t.dtype) else ops.cast(t, default_float)


def as_true(y_true, name: str, dtype=None):
    """``y_true`` as a plain array (a Tensor's data, detached), cast to ``dtype`` if given.

    A symbolic ``y_true`` (:mod:`tidu.compile`) stays symbolic, cast as needed.
    """
    if isinstance(y_true, Tensor) and y_true.data is None:
        _numeric(y_true, name, "y_true")
        if dtype is None or y_true.dtype == dtype:
            return y_true
        return ops.cast(y_true, dtype)
    raw = y_true.data if isinstance(y_true, Tensor) else y_true
    arr = _numeric(raw if backend.is_array(raw) else xp.asarray(raw), name, "y_true")
    return arr if dtype is None else arr.astype(dtype, copy=False)


def match_shape(t, shape: tuple, name: str):
    """Reshape ``t`` to ``shape`` when they differ only by a trailing axis of length 1.

    (n,) against (n, 1) is the common case (labels as a vector, a one-unit output layer).
    Anything else is an error: broadcasting (n,) against (n, 1) would silently give (n, n).
    """
    if t.shape == shape:
        return t
    if (t.shape[:-1] == shape and t.shape[-1:] == (1,)) or (
            shape[:-1] == t.shape and shape[-1:] == (1,)):
        return t.reshape(shape)
    raise ShapeError(
        f"{name}: y_true has shape {t.shape} but y_pred has shape {shape}; they must match "
        "(only a trailing axis of length 1 may differ, e.g. (n,) and (n, 1))"
    )


def _per_sample_mean(v: Tensor) -> Tensor:
    return v.mean(axis=-1) if v.ndim >= 2 else v


def _sum_last(v: Tensor) -> Tensor:
    return v.sum(axis=-1) if v.ndim >= 1 else v


def fused_logits(y_pred: Tensor, op: type, axis: int | None = None) -> Tensor | None:
    """The input of the ``op`` (Softmax or Sigmoid) node that made ``y_pred``, else None.

    None when ``y_pred`` has no recorded node (a leaf, or made under ``no_grad``), when the
    node is another op or a softmax over another axis, or when the engine has already freed
    the node (after a backward pass its ``inputs`` are gone).
    """
    node = y_pred._node
    if node is None or not isinstance(node, op):
        return None
    inputs = getattr(node, "inputs", None)
    if not inputs or inputs[0] is None:
        return None
    if axis is not None:
        node_axis = getattr(node, "axis", None)
        if node_axis is None:  # a symbolic node: forward has not run
            node_axis = getattr(node, "kwargs", {}).get("axis")
        if node_axis is None or node_axis % y_pred.ndim != axis:
            return None
    logits = inputs[0]
    return logits if logits.shape == y_pred.shape else None


def _warn_if_probabilities(y_pred: Tensor, op: type, name: str, axis: int = -1) -> None:
    """from_logits=True on a softmax/sigmoid output, or on values that look like
    probabilities, is almost surely a mistake (tidu.debug.FromLogitsWarning)."""
    if isinstance(y_pred._node, op):
        report(FromLogitsWarning, f"{name}: from_logits=True, but y_pred was produced by "
               f"{op.__name__.lower()} and so holds probabilities, not logits; pass "
               "from_logits=False (or drop the activation)")
    else:
        check_from_logits(y_pred, True, name, binary=op is Sigmoid, axis=axis)


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) as logsumexp([0, x]): finite for any x, gradient sigmoid(x) (0.5 at 0)."""
    zero = xp.zeros(x.shape, dtype=x.dtype)
    return ops.logsumexp(ops.stack([zero, x], axis=-1), axis=-1)


def _crossentropy(y_pred: Tensor, t, from_logits: bool, axis: int, name: str,
                  reduction: str = "none", judge: bool = True) -> Tensor:
    """-sum(t * log p) along ``axis``, p the class probabilities (finite everywhere), then
    reduced: 'none', 'sum' or 'mean' (the reductions of :class:`tidu.losses.Loss`).

    From logits (given, or traced back through a softmax) it is one fused node
    (:class:`~tidu.ops.crossentropy.SoftmaxCrossEntropy`); symbolic graphs keep the
    separate ops that :mod:`tidu.compile` rewrites. ``judge``: run tidu.debug's check that
    the predictions are what ``from_logits`` says (see ``Loss._judging``).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if from_logits:
        if judge:
            _warn_if_probabilities(y_pred, Softmax, name, axis)
        logits = y_pred
    else:
        logits = fused_logits(y_pred, Softmax, axis)
        if logits is None:
            if judge:
                check_from_logits(y_pred, False, name, axis=axis)
            # Keras: rescale to sum 1, clip away from 0 and 1, take the log.
            total = ops.clip(y_pred.sum(axis=axis, keepdims=True), EPSILON, None)
            logp = ops.log(ops.clip(y_pred / total, EPSILON, 1 - EPSILON))
            return _reduced(-(logp * t).sum(axis=axis), reduction)
    if logits.data is not None and not isinstance(t, Tensor):
        if type(t) is not type(logits.data):
            t = backend.asarray_like(t, logits.data)  # a host target beside device logits
        return SoftmaxCrossEntropy.apply(logits, t, axis=axis, reduction=reduction)
    return _reduced(-(ops.log_softmax(logits, axis=axis) * t).sum(axis=axis), reduction)


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _class_axis(y_pred: Tensor, name: str) -> None:
    if y_pred.ndim == 0:
        raise ShapeError(f"{name}: y_pred must have a class axis, got a scalar (shape ())")


def _smoothing(label_smoothing: float, name: str) -> bool:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return label_smoothing > 0


def _labels(y_true, pred_shape: tuple, name: str, ignore_class: int | None = None):
    """Integer class labels of shape ``pred_shape[:-1]``, checked against the class count.

    Labels equal to ``ignore_class`` are exempt from the range check.
    """
    raw = as_true(y_true, name)
    lead, classes = pred_shape[:-1], pred_shape[-1]
    symbolic = isinstance(raw, Tensor)  # a symbolic target: its values are checked nowhere
    if raw.shape == lead + (1,):
        raw = raw.reshape(lead)
    elif raw.shape != lead:
        hint = ("; y_true looks one-hot: use categorical_crossentropy, or pass "
                "y_true.argmax(-1)") if raw.shape == pred_shape else ""
        raise ShapeError(
            f"{name}: y_true has shape {raw.shape} but y_pred has shape {pred_shape}; y_true "
            f"must hold one integer class label per sample, shape {lead} or {lead + (1,)}{hint}"
        )
    if symbolic:
        return raw
    if is_floating(raw.dtype):
        bad = ~xp.isfinite(raw) | (raw != xp.round(raw))
        if bad.any():
            raise ValueError(f"{name}: y_true must hold integer class labels, got "
                             f"{raw[bad].flat[0].item()!r}")
    labels = raw.astype(xp.int64)
    out = (labels < 0) | (labels >= classes)
    if ignore_class is not None:
        out &= labels != ignore_class
    if out.any():
        raise ValueError(
            f"{name}: label {labels[out].flat[0]} is out of range for y_pred with {classes} "
            f"classes (valid labels: 0 to {classes - 1})"
        )
    return labels


# ----------------------------------------------------------------------------- losses
def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_pred - y_true)^2) over the last axis.

    >>> import tidu, tidu.losses
    >>> tidu.losses.mean_squared_error([[0.0, 1.0]], tidu.tensor([[1.0, 3.0]])).tolist()
    [2.5]
    """
    name = "mean_squared_error"
    y_pred = as_pred(y_pred, name)
    d = y_pred - match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    return _per_sample_mean(d * d)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(|y_pred - y_true|) over the last axis (gradient 0 where they are equal)."""
    name = "mean_absolute_error"
    y_pred = as_pred(y_pred, name)
    d = y_pred - match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    return _per_sample_mean(ops.abs(d))


def binary_crossentropy(y_true, y_pred, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)), averaged over the last axis.

    Args:
        y_true: targets in [0, 1], shape of ``y_pred`` ((n,) against (n, 1) is accepted).
        y_pred: probabilities, or logits with ``from_logits=True``. A ``sigmoid`` output in a
            recorded graph is handled from its logits.
        from_logits: ``y_pred`` holds logits x; the loss is then softplus(x) - x*y.
        label_smoothing: in [0, 1]; targets become ``y (1 - s) + s / 2`` (Keras).

    Raises:
        ValueError: a target outside [0, 1] (or NaN), which would give a meaningless, even
            negative, loss. (Symbolic targets, :mod:`tidu.compile`, are not checked.)

    >>> import tidu, tidu.losses
    >>> z = tidu.tensor([[1e4], [-1e4]])  # confident, and wrong for the first sample
    >>> tidu.losses.binary_crossentropy([[0.0], [0.0]], z, from_logits=True).tolist()
    [10000.0, 0.0]
    """
    name = "binary_crossentropy"
    y_pred = as_pred(y_pred, name)
    t = match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    if not isinstance(t, Tensor) and t.size and not (t.min() >= 0 and t.max() <= 1):
        bad = ~((t >= 0) & (t <= 1))  # min/max propagate NaN, so NaN lands here too
        raise ValueError(
            f"{name}: y_true must hold targets in [0, 1] (labels 0/1 or probabilities), got "
            f"{t[bad].flat[0].item()!r} ({int(bad.sum())} of {t.size} values outside); "
            "for labels -1/1 use hinge, for class indices sparse_categorical_crossentropy")
    if _smoothing(label_smoothing, name):
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        _warn_if_probabilities(y_pred, Sigmoid, name)
    else:
        logits = fused_logits(y_pred, Sigmoid)
        if logits is not None:
            y_pred, from_logits = logits, True
        else:
            check_from_logits(y_pred, False, name, binary=True)
    if from_logits:
        loss = _softplus(y_pred) - y_pred * t
    else:
        p = ops.clip(y_pred, EPSILON, 1 - EPSILON)
        loss = -(t * ops.log(p) + (1 - t) * ops.log(1 - p))
    return _per_sample_mean(loss)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             axis: int = -1, label_smoothing: float = 0.0, *,
                             reduction: str = "none") -> Tensor:
    """-sum(y * log p) over the class axis, for one-hot (or probability) targets.

    Args:
        y_true: one-hot labels or probabilities, the shape of ``y_pred``.
        y_pred: probabilities (rescaled to sum 1 and clipped, as Keras does), or logits with
            ``from_logits=True``. A ``softmax`` output in a recorded graph is handled from its
            logits (exact and finite).
        from_logits: ``y_pred`` holds logits.
        axis: the class axis.
        label_smoothing: in [0, 1]; targets become ``y (1 - s) + s / C`` for C classes
            (Keras; keyword argument here, after ``axis``).
        reduction: 'none' (the default), or 'sum' or 'mean' of the per-sample losses, done
            in the same node (what ``CategoricalCrossentropy`` uses when it can).

    Returns:
        One loss per sample: ``y_pred``'s shape without ``axis`` (a scalar when reduced).
    """
    return _categorical(y_true, y_pred, from_logits, axis, label_smoothing, reduction, True)


def _categorical(y_true, y_pred, from_logits: bool, axis: int, label_smoothing: float,
                 reduction: str, judge: bool) -> Tensor:
    """:func:`categorical_crossentropy`; ``judge`` as in :func:`_crossentropy`."""
    if from_logits and not judge and not label_smoothing and type(y_true) is _ND \
            and y_pred.__class__ is Tensor:
        # a training step's call (Loss.call_reduced): when every check below would pass,
        # its one node at once
        d = y_pred.data
        if (type(d) is _ND and d.dtype.kind == "f" and y_true.dtype is d.dtype
                and y_true.shape == d.shape and type(axis) is int and -d.ndim <= axis < d.ndim
                and reduction in REDUCTIONS):
            return SoftmaxCrossEntropy.apply(y_pred, y_true, axis=axis % d.ndim,
                                             reduction=reduction)
    name = "categorical_crossentropy"
    y_pred = as_pred(y_pred, name)
    _class_axis(y_pred, name)
    ax = check_axis(axis, y_pred.ndim, name)
    t = as_true(y_true, name, y_pred.dtype)
    if t.shape != y_pred.shape:
        lead = y_pred.shape[:ax] + y_pred.shape[ax + 1:]
        hint = ("; y_true looks like integer class labels: use "
                "sparse_categorical_crossentropy, or one-hot encode them"
                ) if t.shape in (lead, lead + (1,)) else ""
        raise ShapeError(
            f"{name}: y_true has shape {t.shape} but y_pred has shape {y_pred.shape}; y_true "
            f"must hold one-hot labels (or probabilities) of y_pred's shape{hint}"
        )
    if _smoothing(label_smoothing, name):
        t = t * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[ax]
    return _crossentropy(y_pred, t, from_logits, ax, name, reduction, judge)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class: int | None = None, *,
                                    reduction: str = "none") -> Tensor:
    """-log p[label]: categorical cross-entropy with integer labels instead of one-hot rows.

    Args:
        y_true: integer class labels, shape ``y_pred.shape[:-1]`` (or with a trailing 1).
        y_pred: probabilities over the last axis, or logits with ``from_logits=True``.
        from_logits: ``y_pred`` holds logits.
        ignore_class: samples with this label (e.g. -1 or a padding class) get loss 0 and
            no gradient (Keras 3; PyTorch's ``ignore_index``). The
            ``SparseCategoricalCrossentropy`` class also leaves them out of the mean.
        reduction: 'none' (the default), or 'sum' or 'mean' of the per-sample losses
            (ignored samples count in the mean here; the class leaves them out).

    Raises:
        ShapeError: y_true's shape does not fit (one-hot labels get a hint).
        ValueError: a label is not an integer or is outside [0, classes).

    >>> import tidu, tidu.losses
    >>> p = tidu.tensor([[0.5, 0.25, 0.25]])
    >>> round(float(tidu.losses.sparse_categorical_crossentropy([0], p)[0]), 4)
    0.6931
    """
    return _sparse_categorical(y_true, y_pred, from_logits, ignore_class, reduction, True)


def _sparse_categorical(y_true, y_pred, from_logits: bool, ignore_class, reduction: str,
                        judge: bool) -> Tensor:
    """:func:`sparse_categorical_crossentropy`; ``judge`` as in :func:`_crossentropy`."""
    name = "sparse_categorical_crossentropy"
    y_pred = as_pred(y_pred, name)
    _class_axis(y_pred, name)
    labels = _labels(y_true, y_pred.shape, name, ignore_class)
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = ops.where(valid, labels, 0) if isinstance(labels, Tensor) else \
            xp.where(valid, labels, 0)
    lib = backend.namespace(labels.data if isinstance(labels, Tensor) else labels)
    classes = lib.arange(y_pred.shape[-1])
    onehot = (labels[..., None] == classes).astype(y_pred.dtype)
    if valid is not None:
        loss = _crossentropy(y_pred, onehot, from_logits, y_pred.ndim - 1, name, judge=judge)
        return _reduced(ops.where(valid, loss, 0.0), reduction)
    return _crossentropy(y_pred, onehot, from_logits, y_pred.ndim - 1, name, reduction, judge)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """Squared error for |error| <= delta, linear beyond (robust to outliers).

    Per element: 0.5 e^2 if |e| <= delta else delta (|e| - 0.5 delta), averaged over the last
    axis. Both pieces and their slopes meet at |e| = delta.
    """
    name = "huber"
    if not delta > 0:
        raise ValueError(f"{name}: delta must be positive, got {delta!r}")
    y_pred = as_pred(y_pred, name)
    err = y_pred - match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    a = ops.abs(err)
    loss = ops.where(a.data <= delta, 0.5 * err * err, delta * a - 0.5 * delta * delta)
    return _per_sample_mean(loss)


def kl_divergence(y_true, y_pred) -> Tensor:
    """Kullback-Leibler divergence sum(y * log(y / p)) over the last axis.

    Both distributions are clipped to [EPSILON, 1] first (as Keras), so zeros in either give
    finite values.
    """
    name = "kl_divergence"
    y_pred = as_pred(y_pred, name)
    t = xp.clip(match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name),
                EPSILON, 1)
    return _sum_last(t * (xp.log(t) - ops.log(ops.clip(y_pred, EPSILON, 1))))


def _l2_normalize(v, axis: int):
    """v / max(|v|, EPSILON) along ``axis`` (Keras 3's ``normalize``); finite gradient at 0."""
    return v / ops.sqrt(ops.maximum((v * v).sum(axis=axis, keepdims=True), EPSILON * EPSILON))


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """The negative cosine of the angle between ``y_true`` and ``y_pred`` along ``axis``.

    -1 for parallel vectors (the minimum: a loss to minimize), 0 for orthogonal ones and for
    a zero vector (norms are floored at EPSILON, as Keras). For PyTorch's positive cosine of
    ``(x1, x2)`` see ``tidu.nn.functional.cosine_similarity``.

    >>> import tidu, tidu.losses
    >>> y, p = [[0.0, 1.0], [1.0, 1.0]], tidu.tensor([[1.0, 0.0], [2.0, 2.0]])
    >>> [round(v, 4) for v in tidu.losses.cosine_similarity(y, p).tolist()]
    [-0.0, -1.0]
    """
    name = "cosine_similarity"
    y_pred = as_pred(y_pred, name)
    _class_axis(y_pred, name)
    ax = check_axis(axis, y_pred.ndim, name)
    t = match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    return -(_l2_normalize(t, ax) * _l2_normalize(y_pred, ax)).sum(axis=ax)


def _hinge_labels(t):
    """Keras: labels that are all 0 or 1 become -1 or 1; any other labels stay as they are."""
    if isinstance(t, Tensor):  # symbolic: the test as arithmetic on the graph
        binary = ops.min(ops.cast(t == 0, t.dtype) + ops.cast(t == 1, t.dtype))
        return t + binary * (t - 1.0)
    return 2.0 * t - 1.0 if ((t == 0) | (t == 1)).all() else t


def _margin(y_true, y_pred, name: str) -> Tensor:
    y_pred = as_pred(y_pred, name)
    t = _hinge_labels(match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name))
    return ops.relu(1.0 - t * y_pred)


def hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)) over the last axis, for -1/1 labels (0/1 converted).

    >>> import tidu, tidu.losses
    >>> tidu.losses.hinge([[0.0, 1.0]], tidu.tensor([[0.5, 0.5]])).tolist()  # y -> [-1, 1]
    [1.0]
    """
    return _per_sample_mean(_margin(y_true, y_pred, "hinge"))


def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis (0/1 labels become -1/1)."""
    m = _margin(y_true, y_pred, "squared_hinge")
    return _per_sample_mean(m * m)


def log_cosh(y_true, y_pred) -> Tensor:
    """mean(log(cosh(y_pred - y_true))) over the last axis: x^2/2 near 0, |x| - log 2 far out.

    Computed as x + softplus(-2x) - log 2, finite for any error (cosh itself overflows).
    """
    name = "log_cosh"
    y_pred = as_pred(y_pred, name)
    x = y_pred - match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    return _per_sample_mean(x + ops.softplus(-2.0 * x) - float(xp.log(2.0)))


def poisson(y_true, y_pred) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + EPSILON)) over the last axis (count targets)."""
    name = "poisson"
    y_pred = as_pred(y_pred, name)
    t = match_shape(as_true(y_true, name, y_pred.dtype), y_pred.shape, name)
    return _per_sample_mean(y_pred - t * ops.log(y_pred + EPSILON))
