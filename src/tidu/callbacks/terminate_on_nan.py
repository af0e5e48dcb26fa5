"""TerminateOnNaN: stop training cleanly when the loss or an update becomes NaN or infinite."""

from __future__ import annotations

import math

from .callback import Callback


def batch_position(epoch: int, batch: int) -> str:
    """'epoch 2, batch 3' for the 0-based ``epoch`` and ``batch`` that callbacks receive.

    Both count from 1, as Keras prints epochs; ``fit``'s non-finite errors and this callback
    use this one function, so they always name the same batch.
    """
    return f"epoch {epoch + 1}, batch {batch + 1}"


class TerminateOnNaN(Callback):
    """Stop training at the first non-finite batch loss, or the first update that the
    optimizer refused as non-finite (``fit`` reports it in the batch logs as
    ``'nonfinite_update'``). The weights keep their last finite values: ``fit`` applies
    neither the update of a non-finite loss nor a non-finite update.

    It prints which batch stopped training, counted as ``fit``'s errors count (see
    :func:`batch_position`).
    """

    _epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        where = batch_position(self._epoch, batch)
        if loss is not None and not math.isfinite(loss):
            print(f"{where}: invalid loss {loss}, terminating training")
            self.model.stop_training = True
        elif logs.get("nonfinite_update") is not None:
            print(f"{where}: invalid update of {logs['nonfinite_update']} (not applied), "
                  "terminating training")
            self.model.stop_training = True
