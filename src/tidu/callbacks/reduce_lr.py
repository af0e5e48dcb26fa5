"""ReduceLROnPlateau: lower the learning rate when a quantity stops improving."""

from __future__ import annotations

from .callback import Callback, get_monitored, monitor_mode


class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's learning rate by ``factor`` after ``patience`` flat epochs.

    Args:
        monitor: quantity to watch. factor: multiplier (< 1). patience: epochs to wait.
        min_delta: smallest change that counts. cooldown: epochs to rest after a reduction.
        min_lr: lower bound of the learning rate.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.min_delta = verbose, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        self._better = monitor_mode(monitor, mode)
        self._sign = 1 if self._better(1, 0) else -1

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def get_state(self) -> dict:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state: dict) -> None:
        self.best, self.wait = state["best"], int(state["wait"])
        self.cooldown_counter = int(state["cooldown_counter"])

    def on_epoch_end(self, epoch, logs=None):
        value = get_monitored(logs, self.monitor, "ReduceLROnPlateau")
        opt = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(opt.learning_rate)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.best is None or self._better(value - self._sign * self.min_delta, self.best):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(opt.learning_rate)
            new = max(old * self.factor, self.min_lr)
            if new < old:
                opt.learning_rate = new
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                          f"to {new:g}.")
                self.cooldown_counter, self.wait = self.cooldown, 0
