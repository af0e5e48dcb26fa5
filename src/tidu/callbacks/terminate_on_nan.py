"""TerminateOnNaN: stop training cleanly when the loss becomes NaN or infinite."""

from __future__ import annotations

import math

from .callback import Callback


class TerminateOnNaN(Callback):
    """Stop training at the first non-finite batch loss (the weights keep their last finite
    values: ``fit`` never applies the update of a non-finite loss)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True
