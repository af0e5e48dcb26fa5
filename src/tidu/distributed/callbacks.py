"""Callbacks for data-parallel ``fit``: start in step, agree on metrics, write from rank 0.

Every rank must be given the same list of callbacks (``BackupAndRestore`` checks that the
callbacks of a backup match), so rank-0-only work is done by wrapping, not by leaving the
callback out on the other ranks.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from ..callbacks import BackupAndRestore as _BackupAndRestore
from ..callbacks import Callback
from . import _comm
from .buckets import broadcast_parameters


class BroadcastParameters(Callback):
    """At the start of ``fit``, copy rank ``root``'s weights to every rank.

    Put it first in the list: the ranks then start from the same point even if each built
    its model from another seed.
    """

    def __init__(self, root: int = 0):
        self.root = int(root)

    def on_train_begin(self, logs=None):
        broadcast_parameters(self.model, self.root)


class MetricAverage(Callback):
    """Average the epoch's logs over all ranks, in place, before the callbacks after it
    see them (put it first): every rank's ``EarlyStopping`` or ``ReduceLROnPlateau`` then
    decides the same way, and ``History`` records job-wide values.

    For each rank training ``fit`` on its own shard (the Horovod recipe); the logs of
    :func:`tidu.distributed.fit` are already those of the whole batch and need no averaging.
    Numbers are averaged with equal weights (equal shards), in float64.
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        average_logs(logs)


def average_logs(logs: dict) -> dict:
    """Replace each number in ``logs`` by its mean over all ranks (the same keys on every
    rank are required: the sorted keys are compared first)."""
    c = _comm.comm()
    keys = sorted(k for k, v in logs.items() if isinstance(v, (int, float, np.floating))
                  and not isinstance(v, bool))
    every = c.allgather(keys)
    if any(k != keys for k in every):
        raise _comm.DistributedError(f"MetricAverage: the ranks log different metrics: "
                                     f"{every}")
    if not keys:
        return logs
    values = np.array([float(logs[k]) for k in keys], dtype=np.float64)
    c.Allreduce(_comm.in_place(), values, op=_comm.sum_op())
    values /= _comm.size()
    for k, v in zip(keys, values):
        logs[k] = float(v) if math.isfinite(v) else v
    return logs


class OnRankZero(Callback):
    """Run ``callback`` on rank 0 only (a checkpoint, a CSV log, TensorBoard): on the other
    ranks every hook does nothing. All ranks hold the wrapper, so a backup's list of
    callbacks is the same everywhere; its state is that of the wrapped callback."""

    def __init__(self, callback: Callback):
        if not isinstance(callback, Callback):
            raise TypeError(f"OnRankZero: expected a tidu.callbacks.Callback, got "
                            f"{type(callback).__name__}")
        self.callback = callback
        self.runs_last = getattr(callback, "runs_last", False)

    def set_model(self, model) -> None:
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        self.callback.set_params(params)

    def get_state(self):
        return self.callback.get_state()

    def set_state(self, state) -> None:
        self.callback.set_state(state)

    def _forward(self, hook: str, *args) -> None:
        if _comm.is_root():
            getattr(self.callback, hook)(*args)

    def on_train_begin(self, logs=None):
        self._forward("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._forward("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._forward("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._forward("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._forward("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._forward("on_train_batch_end", batch, logs)


class BackupAndRestore(_BackupAndRestore):
    """``tidu.callbacks.BackupAndRestore`` for a job: rank 0 writes (and at the end
    deletes) the backup; at the start rank 0 reads it, if there is one, and sends its bytes
    to every rank, which all restore the same weights, optimizer state, generators and
    position. The folder need only exist on rank 0's machine.
    """

    def _write(self, position: dict) -> None:
        if _comm.is_root():
            super()._write(position)

    def on_train_begin(self, logs=None):
        c = _comm.comm()
        data = None
        if _comm.is_root() and os.path.exists(self.path):
            with open(self.path, "rb") as f:
                data = f.read()
        data = c.bcast(data, root=0)
        if data is None:
            return
        if _comm.is_root():
            self._restore()
            return
        own = self.backup_dir
        with tempfile.TemporaryDirectory(prefix="tidu-restore-") as tmp:
            with open(os.path.join(tmp, os.path.basename(self.path)), "wb") as f:
                f.write(data)
            self.backup_dir = tmp
            try:
                self._restore()
            finally:
                self.backup_dir = own

    def on_train_end(self, logs=None):
        if _comm.is_root():
            super().on_train_end(logs)
