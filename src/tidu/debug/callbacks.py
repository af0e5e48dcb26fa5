"""The debug modes as ``fit`` callbacks: ``Verify`` (verified mode) and ``WatchLoss``."""

from __future__ import annotations

from ..callbacks.callback import Callback
from ..optim.optimizer import NonFiniteUpdateError
from .detectors import LossWatcher
from .verified import Verifier


def _learning_rate(model):
    opt = getattr(model, "optimizer", None)
    try:
        return float(getattr(opt, "lr", None))
    except (TypeError, ValueError):
        return None


class Verify(Callback):
    """Run every training step of ``fit`` in verified mode (see :func:`tidu.debug.verified`).

    ``model.fit(x, y, callbacks=[tidu.debug.Verify(rate=0.1)])``: each batch's forward and
    backward run with a :class:`~tidu.debug.verified.Verifier` active (``self.verifier``,
    which keeps counting across batches); a wrong backward stops ``fit`` with a
    :class:`~tidu.debug.VerificationError`. Evaluation and prediction are not checked.
    """

    def __init__(self, rate: float = 0.1, **options):
        self.verifier = Verifier(rate, **options)

    def on_train_begin(self, logs=None):
        model = self.model
        step = type(model).train_step.__get__(model)
        verifier = self.verifier

        def train_step(*args, **kwargs):
            state = getattr(model, "fit_state", None)
            if self not in getattr(state, "callbacks", ()):  # a later fit without Verify
                model.__dict__.pop("train_step", None)
                return step(*args, **kwargs)
            try:
                with verifier:
                    return step(*args, **kwargs)
            except NonFiniteUpdateError:
                raise  # fit may go on (TerminateOnNaN): stay installed
            except BaseException:
                model.__dict__.pop("train_step", None)  # fit stops: leave no wrapper behind
                raise

        object.__setattr__(model, "train_step", train_step)

    def on_train_end(self, logs=None):
        self.model.__dict__.pop("train_step", None)


class WatchLoss(Callback):
    """Warn (:class:`~tidu.debug.DivergingLossWarning`) when the loss grows for ``patience``
    batches in a row by more than ``growth`` in all, naming the optimizer's learning rate.

    The batch values are the epoch's running mean that ``fit`` logs, so single noisy
    batches do not count; the watch restarts at each epoch.
    """

    def __init__(self, patience: int = 5, growth: float = 0.25):
        self.watcher = LossWatcher(patience, growth)

    def on_epoch_begin(self, epoch, logs=None):
        warned = self.watcher.warned
        self.watcher.reset()
        self.watcher.warned = warned  # one warning per fit

    def on_train_begin(self, logs=None):
        self.watcher.reset()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            self.watcher.update(loss, lr=_learning_rate(self.model), where="batch")
