"""The Callback contract, the list that dispatches to callbacks, History and LambdaCallback."""

from __future__ import annotations

import math
from collections.abc import Callable


class Callback:
    """Base class: override the hooks you need. ``self.model`` is set by ``fit``.

    Hooks receive ``logs``: a dict of the current values ('loss', metric names, and after an
    epoch with validation, 'val_loss', 'val_<metric>').
    """

    model = None
    params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def get_state(self) -> dict | None:
        """What a checkpoint must hold to resume this callback exactly: plain data (JSON
        values, NumPy arrays inside dicts and lists), or None for a callback without state."""
        return None

    def set_state(self, state: dict) -> None:
        """Put back :meth:`get_state`'s value (``BackupAndRestore`` calls it after every
        callback's ``on_train_begin``)."""

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch: int, logs=None):
        pass

    def on_epoch_end(self, epoch: int, logs=None):
        pass

    def on_train_batch_begin(self, batch: int, logs=None):
        pass

    def on_train_batch_end(self, batch: int, logs=None):
        pass


class CallbackList(Callback):
    """Calls every callback's hook in order."""

    def __init__(self, callbacks=(), model=None, params=None):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            if not isinstance(c, Callback):
                raise TypeError(f"callbacks must be tidu.callbacks.Callback instances, got "
                                f"{type(c).__name__}")
            if model is not None:
                c.set_model(model)
            c.set_params(params or {})

    def _call(self, hook: str, *args) -> None:
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def get_state(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch)}

    def set_state(self, state: dict) -> None:
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def plot(self, metrics=None, path=None):
        """Loss and metrics per epoch, train and validation, as a matplotlib Figure (written
        to ``path`` too when given); see :func:`tidu.plot.plot_history` (``tidu[plot]``)."""
        from ..plot.history import plot_history

        return plot_history(self, metrics=metrics, path=path)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda e, l: ...)``."""

    def __init__(self, on_epoch_begin: Callable | None = None,
                 on_epoch_end: Callable | None = None,
                 on_batch_begin: Callable | None = None, on_batch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None):
        if on_epoch_begin:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end:
            self.on_epoch_end = on_epoch_end
        if on_batch_begin:
            self.on_train_batch_begin = on_batch_begin
        if on_batch_end:
            self.on_train_batch_end = on_batch_end
        if on_train_begin:
            self.on_train_begin = on_train_begin
        if on_train_end:
            self.on_train_end = on_train_end


def monitor_mode(monitor: str, mode: str) -> Callable[[float, float], bool]:
    """Return ``better(current, best)`` for 'min', 'max' or 'auto' (max for accuracy-like)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def get_monitored(logs, monitor: str, owner: str):
    """The monitored value from ``logs``, or None with a warning naming what is available."""
    value = (logs or {}).get(monitor)
    if value is None:
        import warnings

        warnings.warn(f"{owner}: monitored quantity {monitor!r} is not available; "
                      f"available: {sorted(logs or {})}", stacklevel=3)
        return None
    return float(value) if not math.isnan(value) else value
