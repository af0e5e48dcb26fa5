"""Loss classes: the ``Loss`` base does the reduction, subclasses write one ``call``."""

from __future__ import annotations

from collections.abc import Callable

from .. import ops, registry
from ..backend import xp
from ..errors import ShapeError
from ..tensor import Tensor
from . import functional as F

REDUCTIONS = ("sum_over_batch_size", "sum", "none")


class Loss:
    """Base class of losses: ``call`` gives per-sample losses, ``__call__`` reduces them.

    Subclass it and define ``call(y_true, y_pred) -> Tensor`` (one loss per sample, built
    from tidu ops so that autodiff differentiates it).

    Args:
        reduction: 'sum_over_batch_size' (default, Keras's: the sum of the weighted per-sample
            losses divided by their number, i.e. the batch mean), 'sum', or 'none' (the
            weighted per-sample losses).
        name: defaults to the class's snake-case name ('mean_squared_error', ...).
    """

    default_name = "loss"

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self.name = name or self.default_name

    def call(self, y_true, y_pred) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define call()")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        """The reduced loss (a scalar Tensor unless ``reduction='none'``).

        Args:
            y_true: targets (array, list or Tensor; never differentiated).
            y_pred: predictions (a Tensor, whose graph the loss extends).
            sample_weight: optional weights: a scalar, one per sample (shape (batch,) or
                (batch, 1)), or the per-sample losses' shape.
        """
        if sample_weight is None:
            out = self.call_reduced(y_true, y_pred)
            if out is not None:
                return out
        values = self.call(y_true, y_pred)
        if not isinstance(values, Tensor):
            values = Tensor(values)
        mask = self.mask_weights(y_true, values)
        if mask is not None:
            values = values * mask
        if sample_weight is not None:
            values = values * _weights(sample_weight, values, self.name)
        if self.reduction == "none" or values.ndim == 0:
            return values
        if self.reduction == "sum" or values.size == 0:
            return values.sum()
        return values.mean()

    JUDGED_CALLS = 8
    """Calls of a loss object that run tidu.debug's checks of the predictions' values."""
    _judged = 0

    def _judging(self) -> bool:
        """Whether this call checks the predictions' values (tidu.debug: probabilities given
        to a loss told ``from_logits=True``, or logits to one told False). The first
        ``JUDGED_CALLS`` calls of each loss object do; later ones skip the check (a pass over
        the predictions each step): the mistake comes from the model's last layer and shows
        on its first batches."""
        n = self._judged
        if n >= self.JUDGED_CALLS:
            return False
        self._judged = n + 1
        return True

    def call_reduced(self, y_true, y_pred) -> Tensor | None:
        """The reduced loss computed in one go, or None (then ``call`` and the reduction run).

        For losses whose functional form reduces in the same node as it computes (the
        cross-entropies from logits); used without ``sample_weight`` only.
        """
        return None

    def _fusable(self, base: type, y_pred) -> str | None:
        """The functional ``reduction`` for :meth:`call_reduced`, or None where the plain
        path must run: a subclass's own ``call`` or mask, or a symbolic or array ``y_pred``."""
        cls = type(self)
        if (cls.call is not base.call or cls.mask_weights is not base.mask_weights
                or not isinstance(y_pred, Tensor) or y_pred.data is None):
            return None
        if self.reduction != "sum_over_batch_size":
            return self.reduction
        return "sum" if 0 in y_pred.shape else "mean"  # an empty batch sums to 0, as above

    def mask_weights(self, y_true, values: Tensor):
        """Weights for masked-out samples, or None (no mask: the default).

        Keras's rule: masked samples weigh 0; under 'sum_over_batch_size' the others weigh
        total / (valid + EPSILON), so that the mean runs over the valid samples only.
        """
        return None

    def get_config(self) -> dict:
        """Constructor arguments, so that ``type(loss).from_config(config)`` rebuilds it."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _weights(sample_weight, values: Tensor, name: str):
    """``sample_weight`` as an array that broadcasts to ``values`` without enlarging it."""
    w = F.as_true(sample_weight, name, values.dtype)
    if w.ndim == 0:
        return w
    orig = w.shape
    while w.ndim > values.ndim and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])
    if w.ndim < values.ndim:
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        fits = xp.broadcast_shapes(w.shape, values.shape) == values.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{name}: sample_weight of shape {orig} does not fit the per-sample losses of "
            f"shape {values.shape}; pass one weight per sample or a scalar"
        )
    return w


class MeanSquaredError(Loss):
    """Mean of the squared errors (regression). See :func:`mean_squared_error`.

    >>> import tidu, tidu.losses
    >>> mse = tidu.losses.MeanSquaredError()
    >>> float(mse([[0.0], [1.0]], tidu.tensor([[1.0], [3.0]])))
    2.5
    """

    default_name = "mean_squared_error"

    def call(self, y_true, y_pred) -> Tensor:
        return F.mean_squared_error(y_true, y_pred)


class MeanAbsoluteError(Loss):
    """Mean of the absolute errors. See :func:`mean_absolute_error`."""

    default_name = "mean_absolute_error"

    def call(self, y_true, y_pred) -> Tensor:
        return F.mean_absolute_error(y_true, y_pred)


class _FromLogits(Loss):
    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str | None = None):
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}


class _Smoothed(_FromLogits):
    """A cross-entropy with Keras's ``label_smoothing`` (keyword-only here)."""

    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str | None = None, *, label_smoothing: float = 0.0):
        super().__init__(from_logits, reduction, name)
        F._smoothing(label_smoothing, type(self).__name__)
        self.label_smoothing = float(label_smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Smoothed):
    """Binary cross-entropy for 0/1 targets. See :func:`binary_crossentropy`.

    Args:
        from_logits: predictions are logits (no sigmoid applied); more stable than
            probabilities (a ``sigmoid`` output in the graph is detected and fused anyway).
        label_smoothing: keyword-only, in [0, 1]: targets become ``y (1 - s) + s / 2``.
    """

    default_name = "binary_crossentropy"

    def call(self, y_true, y_pred) -> Tensor:
        return F.binary_crossentropy(y_true, y_pred, from_logits=self.from_logits,
                                     label_smoothing=self.label_smoothing)


class CategoricalCrossentropy(_Smoothed):
    """Cross-entropy for one-hot targets. See :func:`categorical_crossentropy`.

    Args:
        from_logits: predictions are logits (a ``softmax`` output in the graph is detected
            and fused anyway).
        axis: the class axis.
        label_smoothing: keyword-only, in [0, 1]: targets become ``y (1 - s) + s / C``.
    """

    default_name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, axis: int = -1,
                 reduction: str = "sum_over_batch_size", name: str | None = None, *,
                 label_smoothing: float = 0.0):
        super().__init__(from_logits, reduction, name, label_smoothing=label_smoothing)
        self.axis = axis

    def call(self, y_true, y_pred) -> Tensor:
        return F.categorical_crossentropy(y_true, y_pred, self.from_logits, self.axis,
                                          label_smoothing=self.label_smoothing)

    def call_reduced(self, y_true, y_pred) -> Tensor | None:
        reduction = self._fusable(CategoricalCrossentropy, y_pred)
        if reduction is None:
            return None
        return F._categorical(y_true, y_pred, self.from_logits, self.axis,
                              self.label_smoothing, reduction, self._judging())

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class SparseCategoricalCrossentropy(_FromLogits):
    """Cross-entropy for integer labels. See :func:`sparse_categorical_crossentropy`.

    Args:
        from_logits: predictions are logits.
        ignore_class: keyword-only; samples with this label are masked out, as in Keras 3:
            loss 0, no gradient, and 'sum_over_batch_size' averages over the others only.
    """

    default_name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, reduction: str = "sum_over_batch_size",
                 name: str | None = None, *, ignore_class: int | None = None):
        super().__init__(from_logits, reduction, name)
        self.ignore_class = None if ignore_class is None else int(ignore_class)

    def call(self, y_true, y_pred) -> Tensor:
        return F.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits,
                                                 ignore_class=self.ignore_class)

    def call_reduced(self, y_true, y_pred) -> Tensor | None:
        reduction = self._fusable(SparseCategoricalCrossentropy, y_pred)
        if reduction is None or self.ignore_class is not None:
            return None
        return F._sparse_categorical(y_true, y_pred, self.from_logits, None, reduction,
                                     self._judging())

    def mask_weights(self, y_true, values: Tensor):
        if self.ignore_class is None:
            return None
        labels = F.as_true(y_true, self.name)
        if labels.ndim == values.ndim + 1:
            labels = labels.reshape(values.shape)
        mask = ops.cast(labels != self.ignore_class, values.dtype)
        if self.reduction != "sum_over_batch_size":
            return mask
        total = (mask * 0.0 + 1.0).sum()  # the sample count, also for symbolic shapes
        return mask * (total / (mask.sum() + F.EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "ignore_class": self.ignore_class}


class Huber(Loss):
    """Quadratic for small errors, linear for large ones. See :func:`huber`.

    Args:
        delta: where the quadratic part ends (positive).
    """

    default_name = "huber_loss"

    def __init__(self, delta: float = 1.0, reduction: str = "sum_over_batch_size",
                 name: str | None = None):
        if not delta > 0:
            raise ValueError(f"Huber: delta must be positive, got {delta!r}")
        super().__init__(reduction, name)
        self.delta = float(delta)

    def call(self, y_true, y_pred) -> Tensor:
        return F.huber(y_true, y_pred, self.delta)

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta}


class KLDivergence(Loss):
    """Kullback-Leibler divergence of ``y_pred`` from ``y_true``. See :func:`kl_divergence`."""

    default_name = "kl_divergence"

    def call(self, y_true, y_pred) -> Tensor:
        return F.kl_divergence(y_true, y_pred)


class CosineSimilarity(Loss):
    """The negative cosine similarity, -1 at best. See :func:`cosine_similarity`.

    Args:
        axis: the axis of the vectors compared (the last by default).
    """

    default_name = "cosine_similarity"

    def __init__(self, axis: int = -1, reduction: str = "sum_over_batch_size",
                 name: str | None = None):
        super().__init__(reduction, name)
        self.axis = axis

    def call(self, y_true, y_pred) -> Tensor:
        return F.cosine_similarity(y_true, y_pred, self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Hinge(Loss):
    """max(1 - y_true y_pred, 0) for -1/1 labels (0/1 converted). See :func:`hinge`."""

    default_name = "hinge"

    def call(self, y_true, y_pred) -> Tensor:
        return F.hinge(y_true, y_pred)


class SquaredHinge(Loss):
    """The squared hinge loss. See :func:`squared_hinge`."""

    default_name = "squared_hinge"

    def call(self, y_true, y_pred) -> Tensor:
        return F.squared_hinge(y_true, y_pred)


class LogCosh(Loss):
    """log(cosh(error)): squared near 0, absolute far out. See :func:`log_cosh`."""

    default_name = "log_cosh"

    def call(self, y_true, y_pred) -> Tensor:
        return F.log_cosh(y_true, y_pred)


class Poisson(Loss):
    """The Poisson negative log-likelihood (up to a constant). See :func:`poisson`."""

    default_name = "poisson"

    def call(self, y_true, y_pred) -> Tensor:
        return F.poisson(y_true, y_pred)


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a plain function ``fn(y_true, y_pred, **kwargs) -> Tensor``.

    ``y_true`` reaches ``fn`` as a Tensor of ``y_pred``'s dtype (as in Keras); ``fn`` returns
    per-sample losses (or an already reduced scalar, then ``sample_weight`` scales it).
    """

    def __init__(self, fn: Callable, reduction: str = "sum_over_batch_size",
                 name: str | None = None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be callable, got {fn!r}")
        super().__init__(reduction, name or getattr(fn, "__name__", type(fn).__name__))
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true, y_pred) -> Tensor:
        y_pred = F.as_pred(y_pred, self.name)
        y_true = Tensor(F.as_true(y_true, self.name, y_pred.dtype))
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


CLASSES = (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
           SparseCategoricalCrossentropy, Huber, KLDivergence, CosineSimilarity, Hinge,
           SquaredHinge, LogCosh, Poisson)

ALIASES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "bce": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "cce": CategoricalCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "scce": SparseCategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "huber": Huber, "huber_loss": Huber,
    "kld": KLDivergence, "kl_divergence": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "cosine_similarity": CosineSimilarity, "hinge": Hinge, "squared_hinge": SquaredHinge,
    "log_cosh": LogCosh, "logcosh": LogCosh, "poisson": Poisson,
}
"""Names accepted by :func:`get` (case-insensitive), besides the class names."""

_FUNCTIONS = {
    F.mean_squared_error: MeanSquaredError, F.mean_absolute_error: MeanAbsoluteError,
    F.binary_crossentropy: BinaryCrossentropy,
    F.categorical_crossentropy: CategoricalCrossentropy,
    F.sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    F.huber: Huber, F.kl_divergence: KLDivergence, F.cosine_similarity: CosineSimilarity,
    F.hinge: Hinge, F.squared_hinge: SquaredHinge, F.log_cosh: LogCosh, F.poisson: Poisson,
}


def serialize(loss: Loss) -> dict:
    """``{'class_name': ..., 'config': ...}``, which :func:`get` turns back into the loss."""
    return registry.serialize(loss, "loss")


def get(identifier) -> Loss:
    """Resolve a loss given by name, instance, class, config dict or function.

    Args:
        identifier: a name ('mse', 'mae', 'binary_crossentropy', 'bce',
            'categorical_crossentropy', 'sparse_categorical_crossentropy', 'huber', 'kld',
            'kl_divergence', 'cosine_similarity', 'hinge', 'squared_hinge', 'log_cosh',
            'poisson', ... or a class name such as 'MeanSquaredError'); a ``Loss``
            instance (returned as is) or class (instantiated with defaults); a dict from
            :func:`serialize`; or a function ``(y_true, y_pred) -> Tensor`` of per-sample
            losses (wrapped in a :class:`LossFunctionWrapper` named after it).

    Raises:
        ValueError: None or an unknown name (the message lists the known names).
        TypeError: anything else.

    >>> import tidu.losses
    >>> tidu.losses.get("mse")
    MeanSquaredError(name='mean_squared_error', reduction='sum_over_batch_size')
    """
    return registry.resolve("loss", identifier)


def _wrap(fn) -> Loss:
    cls = _FUNCTIONS.get(fn)
    return cls() if cls is not None else LossFunctionWrapper(fn)


registry.define_kind(
    "loss", where="losses.get", capital=True, base=Loss,
    classes={c.__name__: c for c in CLASSES}, aliases=ALIASES, wrap=_wrap,
    none="losses.get: no loss given (None); pass a name such as 'categorical_crossentropy' "
         "or 'mse', a Loss, or a function",
    expected="a name, a Loss, or a function (y_true, y_pred) -> Tensor",
    hint=" (or a class name such as 'MeanSquaredError')")
