"""Keras's training inputs for ``fit`` and ``evaluate``: sample and class weights, Python
generators and iterables of batches, ``steps_per_epoch`` and ``validation_freq``.

A data source yields, epoch after epoch, batches ``(x, y, sample_weight)``
(``sample_weight`` None when not given):

- arrays: the samples in mini-batches of ``batch_size`` (shuffled when an order is given);
- a generator (an iterator: ``iter(g) is g``) yielding ``(x, y)`` or ``(x, y, sw)``:
  ``steps_per_epoch`` batches per epoch, continuing the same generator across epochs, as
  in Keras; it is required, since an endless generator would never end an epoch;
- any other iterable (an object with ``__iter__``, as a Keras ``PyDataset``; not a list or
  tuple, which hold arrays): one full pass per epoch (a fresh ``iter()`` each epoch), or
  its first ``steps_per_epoch`` batches.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import data as D


def is_batch_source(x) -> bool:
    """Whether ``x`` is a generator or an iterable of batches rather than an array."""
    if x is None or isinstance(x, (np.ndarray, str, bytes, dict, list, tuple, set, frozenset)):
        return False
    if hasattr(x, "__array__") or hasattr(x, "shape"):  # arrays, Tensors
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


def check_steps(steps, what: str, owner: str) -> int | None:
    """``steps`` (``steps_per_epoch``, ``validation_steps``) as a positive int, or None."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{owner}: {what} must be a positive integer or None, got "
                         f"{steps!r}")
    return int(steps)


def class_weight_to_sample_weight(y, class_weight, owner: str = "fit") -> np.ndarray:
    """Keras's rule: each sample weighs ``class_weight[c]`` for its class ``c`` (1.0 for a
    class missing from the dict). ``c`` is the argmax of one-hot (or probability) rows,
    else the integer label (of shape (n,) or (n, 1))."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"{owner}: class_weight must be a dict from class index to weight, "
                        f"got {type(class_weight).__name__}")
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] != 1:
        labels = np.argmax(y.reshape(len(y), -1) if y.ndim > 2 else y, axis=-1)
    else:
        labels = np.round(y.reshape(len(y))).astype(np.int64)
    table = {}
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"{owner}: class_weight keys must be class indices (ints), got "
                            f"{k!r}")
        table[int(k)] = float(v)
    return np.array([table.get(int(c), 1.0) for c in labels], dtype=np.float32)


def check_sample_weight(sw, n: int, owner: str, what: str = "sample_weight") -> np.ndarray:
    """``sw`` as a float array of one weight per sample (shape (n,) or (n, 1), or the
    per-sample losses' shape)."""
    arr = D.to_array(sw, what, owner)
    if len(arr) != n:
        raise ValueError(f"{owner}: {what} must have one weight per sample: got "
                         f"{len(arr)} weights for {n} samples")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{owner}: {what} must hold finite weights >= 0")
    return arr


def batch_weights(y, sample_weight, class_weight, owner: str):
    """The per-sample weights of a batch from ``sample_weight`` or ``class_weight``
    (Keras refuses both at once), or None."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{owner}: give sample_weight or class_weight, not both (as in "
                         "Keras); multiply them into one sample_weight instead")
    if class_weight is not None:
        return class_weight_to_sample_weight(y, class_weight, owner)
    if sample_weight is not None:
        return check_sample_weight(sample_weight, len(y), owner)
    return None


def unpack(batch, owner: str, what: str = "the generator"):
    """A batch ``(x, y)`` or ``(x, y, sample_weight)`` as a triple."""
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        got = (f"a {type(batch).__name__} of length {len(batch)}"
               if isinstance(batch, (tuple, list)) else f"a {type(batch).__name__}")
        raise ValueError(f"{owner}: {what} must yield (x, y) or (x, y, sample_weight), "
                         f"got {got}")
    x, y, *rest = batch
    return x, y, (rest[0] if rest else None)


class BatchSource:
    """Batches of a generator or iterable, ``steps`` per epoch (None: one full pass)."""

    def __init__(self, source, steps: int | None, owner: str, what: str,
                 steps_name: str = "steps_per_epoch"):
        self.owner, self.what = owner, what
        self.generator = iter(source) is source
        if self.generator and steps is None:
            raise ValueError(
                f"{owner}: {what} is a generator (an iterator), so {steps_name} is required "
                "to say how many of its batches to take (as in Keras: an endless generator "
                "would never end); or pass an iterable whose iter() starts again")
        self.source, self.steps = source, steps
        if steps is None and hasattr(source, "__len__"):
            self.steps = len(source)
        self._it = source if self.generator else None
        self.exhausted = False
        self.n = 0  # unknown: nothing to shuffle
        self._first = None

    def peek(self):
        """The first batch (kept, and yielded first by the next epoch)."""
        if self._first is None:
            it = self._it if self.generator else iter(self.source)
            try:
                self._first = unpack(next(it), self.owner, self.what)
            except StopIteration:
                raise ValueError(f"{self.owner}: {self.what} yielded no batches") from None
            if not self.generator:
                self._first = None
                return unpack(next(iter(self.source)), self.owner, self.what)
        return self._first

    def epoch(self, order=None):
        """Yield the (x, y, sample_weight) batches of one epoch (``order`` is ignored)."""
        it = self._it if self.generator else iter(self.source)
        step = 0
        if self._first is not None:
            first, self._first = self._first, None
            yield first
            step = 1
        while self.steps is None or step < self.steps:
            try:
                batch = next(it)
            except StopIteration:
                if self.steps is not None:
                    self.exhausted = True
                    warnings.warn(f"{self.owner}: {self.what} ran out of data after {step} "
                                  f"of {self.steps} steps; stopping (give a generator that "
                                  "yields enough batches, or fewer steps)", stacklevel=3)
                return
            yield unpack(batch, self.owner, f"{self.what}")
            step += 1


def should_validate(epoch: int, validation_freq) -> bool:
    """Keras's rule: validate after epoch ``e`` (0-based) when ``(e + 1) % freq == 0`` for an
    int, or when ``e + 1`` is in the list."""
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        return (epoch + 1) % int(validation_freq) == 0
    return (epoch + 1) in validation_freq


def check_validation_freq(validation_freq, owner: str = "fit"):
    """An int >= 1 or a list/tuple/set of epoch numbers (1-based)."""
    if isinstance(validation_freq, numbers.Integral) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"{owner}: validation_freq must be >= 1, got {validation_freq}")
        return int(validation_freq)
    if isinstance(validation_freq, (list, tuple, set, frozenset, range)):
        return {int(e) for e in validation_freq}
    raise TypeError(f"{owner}: validation_freq must be an int or a list of epochs (1-based), "
                    f"got {type(validation_freq).__name__}")


class ArraySource:
    """Mini-batches ``(x, y, sample_weight)`` of arrays; ``steps`` limits each epoch to its
    first batches (in the epoch's order)."""

    generator = False
    exhausted = False

    def __init__(self, x, y, sample_weight, batch_size: int, steps: int | None, owner: str):
        self.x, self.y, self.sw, self.batch_size = x, y, sample_weight, batch_size
        self.n = len(x)
        available = -(-self.n // batch_size)
        if steps is not None and steps > available:
            raise ValueError(f"{owner}: steps_per_epoch={steps} is more than the {available} "
                             f"batches of {batch_size} that {self.n} samples make; give at "
                             f"most {available}, or a generator that yields enough batches")
        self.steps = available if steps is None else steps

    def epoch(self, order=None):
        """Yield the batches of one epoch, in ``order`` when given."""
        for step, idx in enumerate(D.batches(self.n, self.batch_size, order)):
            if step >= self.steps:
                return
            yield self.x[idx], self.y[idx], None if self.sw is None else self.sw[idx]


def weight_kw(sample_weight) -> dict:
    """``{'sample_weight': w}``, or nothing when ``w`` is None (for calls of user methods
    that may not take the argument)."""
    return {} if sample_weight is None else {"sample_weight": sample_weight}


# ----- Keras's *_on_batch methods (Model delegates to these) -----
def _result(logs: dict, return_dict: bool):
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def train_on_batch(model, x, y, sample_weight=None, class_weight=None,
                   return_dict: bool = False):
    """One update on the batch (x, y) in training mode; the loss and metrics of this
    batch alone (metrics are reset first, as Keras 2's ``reset_metrics=True``)."""
    model._check_compiled("train_on_batch")
    x, y = model._check_data(x, y, "train_on_batch")
    sw = batch_weights(y, sample_weight, class_weight, "train_on_batch")
    model._ensure_built(x)
    model.optimizer.build(model.parameters())
    was_training = model.training
    model.train()
    try:
        if getattr(model, "keras_train_step", False):  # Keras's train_step(data) -> dict
            data = (x, y) if sw is None else (x, y, sw)
            return _result(dict(model._keras_logs(model.train_step(data))), return_dict)
        value, pred = model.train_step(x, y, **weight_kw(sw))
    finally:
        model.train(was_training)
    logs = {"loss": value}
    y, sw = D.beside(y, pred), D.beside(sw, pred)  # predictions may be on the model's device
    for m in model.compiled_metrics:
        m.reset_state()
        m.update_state(y, pred, **weight_kw(sw))
        logs[m.name] = m.result()
    return _result(logs, return_dict)


def test_on_batch(model, x, y, sample_weight=None, return_dict: bool = False):
    """Loss and metrics of the batch (x, y) in evaluation mode, as one batch of evaluate."""
    x, y = model._check_data(x, y, "test_on_batch")
    return model.evaluate(x, y, batch_size=len(x), sample_weight=sample_weight,
                          return_dict=return_dict)


def predict_on_batch(model, x):
    """The outputs for the batch ``x`` (NumPy), in evaluation mode, in one forward pass."""
    x, _ = model._check_data(x, None, "predict")
    return model.predict(x, batch_size=len(x))
