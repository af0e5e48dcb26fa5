"""ModelCheckpoint: save the weights after epochs, atomically."""

from __future__ import annotations

from .callback import Callback, get_monitored, monitor_mode


class ModelCheckpoint(Callback):
    """Save the model's weights after each epoch (or only when ``monitor`` improves).

    ``filepath`` may hold format fields from the epoch and the logs, e.g.
    ``"ckpt/w-{epoch:02d}-{val_loss:.3f}.npz"`` (epochs count from 1, as Keras prints them).
    By default the whole model is saved (``model.save``: architecture, weights, optimizer);
    with ``save_weights_only=True`` only the weights (``model.save_weights``). Both write a
    temporary file and rename it, so a crash never leaves a half-written checkpoint. (A model
    without ``save`` falls back to its weights.)
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, mode: str = "auto",
                 save_weights_only: bool = False):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = save_best_only
        self.save_weights_only = bool(save_weights_only)
        self._better = monitor_mode(monitor, mode)
        self.best = None

    def get_state(self) -> dict:
        return {"best": self.best}

    def set_state(self, state: dict) -> None:
        self.best = state["best"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = get_monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or value != value:
                return
            if self.best is not None and not self._better(value, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved to {value:.5f}, "
                      f"saving to {path}")
            self.best = value
        save = getattr(self.model, "save", None)
        if self.save_weights_only or save is None:
            self.model.save_weights(path)
        else:
            save(path)
