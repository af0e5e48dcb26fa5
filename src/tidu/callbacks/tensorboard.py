"""TensorBoard event logs (Keras's ``TensorBoard`` callback) through tensorboardX.

tensorboardX is an optional extra (``pip install 'tidu[tensorboard]'``), imported when
training begins. As Keras does, the training scalars go to ``<log_dir>/train`` and the
validation ones to ``<log_dir>/validation``, tagged ``epoch_<name>`` (``epoch_loss``,
``epoch_accuracy``, ...; the validation values without their ``val_`` prefix), with the
epoch number as the step. View them with ``tensorboard --logdir <log_dir>``.
"""

from __future__ import annotations

import os

import numpy as np

from .. import backend
from .callback import Callback

MISSING = ("TensorBoard needs tensorboardX, an optional extra: pip install "
           "'tidu[tensorboard]' (or pip install tensorboardX)")


class TensorBoard(Callback):
    """Write scalars (and histograms) for TensorBoard while ``fit`` runs.

    Args:
        log_dir: the folder of the event files (created if needed).
        histogram_freq: every this many epochs, a histogram of each parameter
            (``<layer>/<parameter>``) and, with ``write_grads``, of its last gradient
            (``<layer>/<parameter>/grad``); 0 writes none.
        update_freq: ``'epoch'`` (scalars once per epoch), ``'batch'`` (also ``batch_<name>``
            after every batch, step = global batch count) or an integer N (every N batches).
        write_grads: add the gradient histograms.

    The learning rate of each epoch is written as ``epoch_learning_rate`` (train).
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 update_freq="epoch", write_grads: bool = False):
        if not isinstance(histogram_freq, int) or isinstance(histogram_freq, bool) or \
                histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got "
                             f"{histogram_freq!r}")
        if update_freq not in ("epoch", "batch") and not (
                isinstance(update_freq, int) and not isinstance(update_freq, bool)
                and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer, got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_grads = bool(write_grads)
        self._writers: dict = {}
        self._batches = 0

    def _writer(self, split: str):
        if split not in self._writers:
            try:
                from tensorboardX import SummaryWriter
            except ImportError as e:
                raise ImportError(MISSING) from e
            self._writers[split] = SummaryWriter(os.path.join(self.log_dir, split))
        return self._writers[split]

    def on_train_begin(self, logs=None):
        self._writer("train")  # fail at the start, not after the first epoch

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq == "epoch" or self._batches % self.update_freq:
            return
        w = self._writer("train")
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float, np.floating)):
                w.add_scalar(f"batch_{k}", float(v), self._batches)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            if not isinstance(v, (int, float, np.floating)):
                continue
            split, name = ("validation", k[4:]) if k.startswith("val_") else ("train", k)
            self._writer(split).add_scalar(f"epoch_{name}", float(v), epoch)
        opt = getattr(self.model, "optimizer", None)
        if opt is not None:
            try:
                self._writer("train").add_scalar("epoch_learning_rate",
                                                 float(opt.learning_rate), epoch)
            except (TypeError, ValueError, AttributeError):
                pass
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            self._histograms(epoch)
        for w in self._writers.values():
            w.flush()

    def _histograms(self, epoch: int) -> None:
        from .diagnostics import leaf_layers

        w = self._writer("train")
        for layer in leaf_layers(self.model):
            for name, p in layer.named_parameters():
                w.add_histogram(f"{layer.name}/{name}", backend.to_host(p.data), epoch)
                if self.write_grads and p.grad is not None:
                    w.add_histogram(f"{layer.name}/{name}/grad", backend.to_host(p.grad.data),
                                    epoch)

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}
