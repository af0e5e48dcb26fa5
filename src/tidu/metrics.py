"""Metrics: numbers reported during training, computed with NumPy outside the graph.

A ``Metric`` accumulates over batches (``update_state``), reports one float (``result``) and
starts over (``reset_state``). Mean-type metrics keep a running weighted total and count, so
batches of unequal size average exactly as one pass over all samples would (never a mean of
batch means). Functional forms (``binary_accuracy(y_true, y_pred)`` ...) return one value per
sample as NumPy arrays. Inputs may be Tensors, arrays or lists.

>>> import numpy as np, tidu.metrics
>>> acc = tidu.metrics.SparseCategoricalAccuracy()
>>> acc.update_state([0, 1], np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> acc.update_state([1], np.array([[0.3, 0.7]]))
>>> round(acc.result(), 4)
0.6667
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import backend, registry
from . import losses as losses_mod
from .autograd import no_grad
from .errors import ShapeError
from .tensor import Tensor


# ----------------------------------------------------------------------------- helpers
def _array(x, name: str, arg: str) -> np.ndarray:
    arr = np.asarray(backend.to_host(x.data if isinstance(x, Tensor) else x))
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: {arg} must be numeric, got an array of dtype {arr.dtype}")
    return arr


def _pair(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as arrays of one shape ((n,) against (n, 1) is reshaped, nothing else)."""
    t, p = _array(y_true, name, "y_true"), _array(y_pred, name, "y_pred")
    if t.shape == p.shape:
        return t, p
    if (t.shape[:-1] == p.shape and t.shape[-1:] == (1,)) or (
            p.shape[:-1] == t.shape and p.shape[-1:] == (1,)):
        return t.reshape(p.shape), p
    raise ShapeError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; they "
                     "must match (only a trailing axis of length 1 may differ)")


def _per_sample(v: np.ndarray) -> np.ndarray:
    return v.mean(axis=-1) if v.ndim >= 2 else v


def _class_pair(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    t, p = _array(y_true, name, "y_true"), _array(y_pred, name, "y_pred")
    if p.ndim == 0:
        raise ShapeError(f"{name}: y_pred must have a class axis, got a scalar")
    return t, p


# ----------------------------------------------------------------------------- functions
def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where y_pred equals y_true exactly, averaged over the last axis."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return _per_sample((t == p).astype(np.float64))


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where (y_pred > threshold) equals the 0/1 target, averaged over the last axis."""
    t, p = _pair(y_true, y_pred, "binary_accuracy")
    return _per_sample(((p > threshold) == t).astype(np.float64))


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot targets), per sample."""
    name = "categorical_accuracy"
    t, p = _class_pair(y_true, y_pred, name)
    if t.shape != p.shape:
        hint = ("; y_true looks like integer labels: use sparse_categorical_accuracy"
                if t.shape in (p.shape[:-1], p.shape[:-1] + (1,)) else "")
        raise ShapeError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                         f"y_true must be one-hot of y_pred's shape{hint}")
    return (t.argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals the integer label, per sample."""
    name = "sparse_categorical_accuracy"
    t, p = _class_pair(y_true, y_pred, name)
    lead = p.shape[:-1]
    if t.shape == lead + (1,):
        t = t.reshape(lead)
    elif t.shape != lead:
        hint = ("; y_true looks one-hot: use categorical_accuracy" if t.shape == p.shape
                else "")
        raise ShapeError(f"{name}: y_true has shape {t.shape} but y_pred has shape {p.shape}; "
                         f"y_true must hold one integer label per sample, shape {lead}{hint}")
    return (p.argmax(axis=-1) == t).astype(np.float64)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """mean((y_pred - y_true)^2) over the last axis."""
    t, p = _pair(y_true, y_pred, "mean_squared_error")
    d = p.astype(np.float64) - t
    return _per_sample(d * d)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """mean(|y_pred - y_true|) over the last axis."""
    t, p = _pair(y_true, y_pred, "mean_absolute_error")
    return _per_sample(np.abs(p.astype(np.float64) - t))


# ----------------------------------------------------------------------------- classes
class Metric:
    """Base class: ``update_state`` per batch, ``result`` as a float, ``reset_state``.

    Subclasses define those three; ``__call__`` updates and returns the running result (as
    Keras's metrics do).
    """

    default_name = "metric"

    def __init__(self, name: str | None = None):
        self.name = name or self.default_name
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} does not define update_state()")

    def result(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define result()")

    def reset_state(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define reset_state()")

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Mean(Metric):
    """Running weighted mean of values: sum(w * v) / sum(w).

    The training loop averages the loss with it: ``update_state(batch_loss,
    sample_weight=batch_size)``.

    >>> m = Mean()
    >>> m.update_state(1.0, sample_weight=3)
    >>> m.update_state(5.0, sample_weight=1)
    >>> m.result()
    2.0
    """

    default_name = "mean"

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        """Add ``values`` (scalar or array), each weighted by ``sample_weight`` (default 1)."""
        if type(values) is float and type(sample_weight) in (int, float, type(None)):
            w = 1.0 if sample_weight is None else float(sample_weight)  # fit's batch loss
            self.total += values * w
            self.count += w
            return
        v = _array(values, self.name, "values").astype(np.float64)
        if sample_weight is None:
            self.total += float(v.sum())
            self.count += v.size
            return
        w = _weights(sample_weight, v, self.name)
        self.total += float((v * w).sum())
        self.count += float(np.broadcast_to(w, v.shape).sum())

    def result(self) -> float:
        """The weighted mean so far (0.0 before any update, as Keras)."""
        return self.total / self.count if self.count else 0.0


def _weights(sample_weight, values: np.ndarray, name: str) -> np.ndarray:
    """Weights that broadcast to ``values`` without enlarging them (one per sample)."""
    w = _array(sample_weight, name, "sample_weight").astype(np.float64)
    orig = w.shape
    while w.ndim > values.ndim and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])
    if w.ndim < values.ndim and w.ndim:
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        fits = np.broadcast_shapes(w.shape, values.shape) == values.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: sample_weight of shape {orig} does not fit values of shape "
                         f"{values.shape}; pass one weight per sample or a scalar")
    return w


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)``, a per-sample function.

    Args:
        fn: maps (y_true, y_pred) arrays to per-sample values.
        name: defaults to ``fn``'s name.
        **kwargs: passed on to ``fn`` (e.g. ``threshold``).
    """

    def __init__(self, fn: Callable, name: str | None = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn must be callable, got {fn!r}")
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", type(fn).__name__))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, **self.fn_kwargs}


class Accuracy(MeanMetricWrapper):
    """Fraction of predictions equal to the targets (exact equality)."""

    def __init__(self, name: str = "accuracy"):
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of 0/1 targets equal to ``y_pred > threshold`` (use 0.0 for logits)."""

    def __init__(self, threshold: float = 0.5, name: str = "binary_accuracy"):
        super().__init__(binary_accuracy, name, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax matches the one-hot target's."""

    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax equals the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name)


class MeanSquaredError(MeanMetricWrapper):
    """Mean squared error over all samples seen."""

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean absolute error over all samples seen."""

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name)


class _ShapeAccuracy(Metric):
    """'accuracy' for a loss that does not say which kind: chosen from the first batch.

    y_pred with one output (last axis 1, or 1-D) -> binary; y_true of y_pred's shape with
    more than one class -> categorical; otherwise sparse (integer labels). ``kind`` tells
    which, once known; the name stays the one asked for.
    """

    def __init__(self, name: str = "accuracy"):
        self.kind, self._inner = None, None
        super().__init__(name)

    def reset_state(self) -> None:
        if self._inner is not None:
            self._inner.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self._inner is None:
            t, p = _array(y_true, self.name, "y_true"), _array(y_pred, self.name, "y_pred")
            if p.ndim <= 1 or p.shape[-1] == 1:
                self.kind, self._inner = "binary", BinaryAccuracy(name=self.name)
            elif t.shape == p.shape:
                self.kind, self._inner = "categorical", CategoricalAccuracy(name=self.name)
            else:
                self.kind, self._inner = "sparse", SparseCategoricalAccuracy(name=self.name)
        self._inner.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return self._inner.result() if self._inner is not None else 0.0


def _accuracy_for(loss, name: str) -> Metric:
    """Keras's resolution of 'accuracy' from the loss."""
    loss = losses_mod.get(loss) if loss is not None else None
    if isinstance(loss, losses_mod.BinaryCrossentropy):
        # with logits, sigmoid(x) > 0.5 exactly where x > 0
        return BinaryAccuracy(threshold=0.0 if loss.from_logits else 0.5, name=name)
    if isinstance(loss, losses_mod.CategoricalCrossentropy):
        return CategoricalAccuracy(name=name)
    if isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy(name=name)
    return _ShapeAccuracy(name=name)


_CLASSES = (Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            MeanSquaredError, MeanAbsoluteError)

_METRICS = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


def _loss_metric(loss_cls: type, name: str) -> Metric:
    """A loss's per-sample values as a mean metric (computed outside the graph)."""
    fn = loss_cls()

    def per_sample(y_true, y_pred):
        with no_grad():
            return fn.call(y_true, Tensor(_array(y_pred, name, "y_pred"))).data

    return MeanMetricWrapper(per_sample, name)


def get(identifier, loss=None) -> Metric:
    """Resolve a metric given by name, instance, class or function.

    Args:
        identifier: 'accuracy' or 'acc' (resolved from ``loss`` as Keras does: binary,
            categorical or sparse categorical accuracy; for other losses chosen from the
            shapes of the first batch), 'binary_accuracy', 'categorical_accuracy',
            'sparse_categorical_accuracy', 'mse', 'mae', 'mean_squared_error', ..., a loss
            name such as 'binary_crossentropy' (its batch mean), a ``Metric`` (returned as
            is) or class, or a function ``(y_true, y_pred) -> per-sample array`` (its running
            mean, named after the function). A metric named by a string keeps that string
            as its name, so History's keys are 'accuracy' and 'val_accuracy'.
        loss: the compiled loss (name, Loss or function), used to resolve 'accuracy'.

    >>> get("accuracy", loss="categorical_crossentropy")
    CategoricalAccuracy(name='accuracy')
    """
    if isinstance(identifier, str) and identifier not in _BY_CLASS:
        key = identifier.strip().lower()
        if key in ("accuracy", "acc"):
            return _accuracy_for(loss, identifier)
        if key in losses_mod.ALIASES and key not in _METRICS:
            return _loss_metric(losses_mod.ALIASES[key], identifier)
    return registry.resolve("metric", identifier)


_BY_CLASS = {c.__name__: c for c in _CLASSES}


def _make(found, name: str, alias: bool) -> Metric:
    """A name keeps its spelling as the metric's name (History's keys); a class name, a
    registered class or a function are used as they are."""
    if alias:
        return found(name=name)
    return found() if isinstance(found, type) else MeanMetricWrapper(found)


registry.define_kind(
    "metric", where="metrics.get", capital=True, base=Metric,
    classes=_BY_CLASS, aliases=_METRICS, make=_make,
    wrap=MeanMetricWrapper, extra_names=("accuracy", "acc", *losses_mod.ALIASES),
    none="metrics.get: no metric given (None); pass a name such as 'accuracy', a Metric, "
         "or a function",
    expected="a name, a Metric, or a function (y_true, y_pred) -> array",
    hint=" (or a class name such as 'BinaryAccuracy')")
