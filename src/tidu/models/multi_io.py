"""Data, losses and metrics for models with several inputs or outputs (functional models):
arrays sliced together, one loss per output with weights, metrics on one output with
Keras's log names ('<output>_loss', '<output>_accuracy')."""

from __future__ import annotations

import numpy as np

from .. import metrics as metrics_mod
from ..autograd import no_grad
from ..compile.variable import Variable
from ..errors import ShapeError
from ..tensor import Tensor
from . import data as D


# ----------------------------------------------------------------------------- data
class _Arrays:
    """Several arrays with the same samples, sliced together (``x[idx]``, ``len(x)``);
    an integer index picks one array."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    @property
    def shape(self):
        return tuple(a.shape for a in self.arrays)

    def __getitem__(self, idx):
        if isinstance(idx, int):
            return self.arrays[idx]
        return _Arrays(a[idx] for a in self.arrays)


def _arrange(data, names: list, what: str, owner: str, labels: bool) -> list:
    """``data`` (one array, a list in order, or a dict by name) as a list of arrays."""
    if isinstance(data, _Arrays):
        return data.arrays
    if isinstance(data, dict):
        unknown = [k for k in data if k not in names]
        missing = [k for k in names if k not in data]
        if unknown or missing:
            raise ValueError(f"{owner}: {what} is a dict with keys {sorted(map(str, data))}, "
                             f"but the model's names are {names}")
        data = [data[k] for k in names]
    elif not isinstance(data, (list, tuple)) or (len(names) == 1 and not (
            len(data) == 1 and isinstance(data[0], (np.ndarray, Tensor)))):
        data = [data]
    if len(data) != len(names):
        raise ValueError(f"{owner}: {what} must hold {len(names)} arrays ({names}), got "
                         f"{len(data)}")
    return [D.to_array(a, f"{what}[{n!r}]", owner, labels=labels) for a, n in zip(data, names)]


def _check_shape(array, var: Variable, what: str, owner: str) -> None:
    shape = var.static_shape
    if array.ndim != len(shape) or any(d is not None and d != n
                                       for d, n in zip(shape[1:], array.shape[1:])):
        want = "(n_samples, " + ", ".join("?" if d is None else str(d) for d in shape[1:])
        raise ShapeError(f"{owner}: {what} has shape {array.shape}, but Input "
                         f"'{var.name}' takes shape {want})")


# ----------------------------------------------------------------------------- per output
class _OutputLosses:
    """The weighted sum of one loss per output (``compile(loss=[...], loss_weights=...)``)."""

    def __init__(self, losses: list, weights: list, names: list):
        self.losses, self.weights, self.names = losses, weights, names

    def __call__(self, y_true, y_pred, sample_weight=None):
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        total = None
        for i, (fn, w) in enumerate(zip(self.losses, self.weights)):
            if fn is None:
                continue
            term = fn(y_true[i], y_pred[i], **kw)
            term = term if w == 1.0 else term * w
            total = term if total is None else total + term
        return total

    def get_config(self) -> dict:
        from .saving import _loss_config

        return {"losses": [None if fn is None else _loss_config(fn) for fn in self.losses],
                "weights": list(self.weights), "names": list(self.names)}

    @classmethod
    def from_config(cls, config: dict) -> _OutputLosses:
        from .. import registry

        return cls([None if c is None else registry.resolve("loss", c)
                    for c in config["losses"]], config["weights"], config["names"])


class _OutputMetric(metrics_mod.Metric):
    """A metric on one output: picks ``y_true[index]`` and ``y_pred[index]``."""

    def __init__(self, inner, index: int, name: str):
        self.inner, self.index = inner, index
        super().__init__(name)

    def reset_state(self) -> None:
        self.inner.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self.inner.update_state(y_true[self.index], y_pred[self.index], sample_weight)

    def result(self) -> float:
        return self.inner.result()

    def get_config(self) -> dict:
        from .. import losses
        from .saving import _metric_config

        return {"inner": _metric_config(self.inner, losses.ALIASES), "index": self.index,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> _OutputMetric:
        return cls(metrics_mod.get(config["inner"]), config["index"], config["name"])


class _OutputLoss(metrics_mod.Mean):
    """The running mean of one output's loss (Keras's ``<output>_loss`` log)."""

    def __init__(self, loss, index: int, name: str):
        self.loss_fn, self.index = loss, index
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        pred = y_pred[self.index]
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        with no_grad():
            value = float(self.loss_fn(y_true[self.index], Tensor(pred), **kw).data)
        super().update_state(value, sample_weight=len(pred))

    def get_config(self) -> dict:
        from .saving import _loss_config

        return {"loss": _loss_config(self.loss_fn), "index": self.index, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> _OutputLoss:
        from .. import registry

        return cls(registry.resolve("loss", config["loss"]), config["index"], config["name"])


def _per_output(value, names: list, what: str) -> list:
    """A value per output from a list (in order), a dict (by output name) or one value."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not outputs of the "
                             f"model; its outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: {what} must have one entry per output ({names}), got "
                             f"{len(value)}")
        return list(value)
    return [value] * len(names)



def _register() -> None:
    from .. import registry

    registry.register_serializable("FunctionalOutputLosses", kind="loss")(_OutputLosses)
    registry.register_serializable("FunctionalOutputMetric", kind="metric")(_OutputMetric)
    registry.register_serializable("FunctionalOutputLoss", kind="metric")(_OutputLoss)


_register()
