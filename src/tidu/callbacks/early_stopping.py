"""EarlyStopping: stop when a monitored quantity stops improving."""

from __future__ import annotations

from .callback import Callback, get_monitored, monitor_mode


class EarlyStopping(Callback):
    """Stop training after ``patience`` epochs without improvement of ``monitor``.

    With ``restore_best_weights=True`` the weights of the best epoch are put back when training
    stops, whether it stopped early or ran all its epochs.

    Args:
        monitor: logged quantity to watch ('val_loss' by default).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: 'min', 'max' or 'auto' (max for accuracies).
        baseline: a value the quantity must beat (else training stops after ``patience``).
        restore_best_weights: put back the best epoch's weights at the end.
        start_from_epoch: epochs to wait before watching.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.min_delta = abs(min_delta)
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._better = monitor_mode(monitor, mode)
        self._sign = 1 if self._better(1, 0) else -1

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = self.baseline
        self.best_weights = None

    def get_state(self) -> dict:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_epoch": self.best_epoch, "best": self.best,
                "best_weights": None if self.best_weights is None else dict(self.best_weights)}

    def set_state(self, state: dict) -> None:
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_epoch, self.best = int(state["best_epoch"]), state["best"]
        best = state["best_weights"]
        self.best_weights = None if best is None else {k: v.copy() for k, v in best.items()}

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return self._better(value - self._sign * self.min_delta, self.best)

    def on_epoch_end(self, epoch, logs=None):
        value = get_monitored(logs, self.monitor, "EarlyStopping")
        if value is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if value == value and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)
