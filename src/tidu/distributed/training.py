"""Keras-style data-parallel training: ``tidu.distributed.fit(model, x, y, ...)``.

Every rank holds the whole data set and runs the same ``model.fit`` on it, so the ranks
draw the same shuffle and the same global batches as one process would. Inside, each step
works on this rank's rows of the global batch only (rank ``r`` of ``N`` takes the ``r``-th
of ``N`` contiguous slices): forward and backward on the slice, gradients averaged over the
ranks weighted by the slices' sizes (so the update is the one-process update of the global
batch, to float rounding), then the slices' losses and predictions are gathered so that
every rank's loss, metrics, logs and callbacks are those of the whole batch. Validation is
split the same way.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import random as tidu_random
from ..callbacks import BackupAndRestore as _PlainBackup
from ..callbacks import Callback, CSVLogger, ModelCheckpoint
from ..optim.optimizer import NonFiniteUpdateError
from . import _comm
from .callbacks import BackupAndRestore, BroadcastParameters, OnRankZero
from .optimizer import DistributedOptimizer

WRITERS = (ModelCheckpoint, CSVLogger)
"""Callbacks that write files: ``fit`` runs them on rank 0 only (:class:`OnRankZero`)."""


def shard_bounds(n: int, rank: int | None = None, size: int | None = None) -> tuple[int, int]:
    """The rows ``[lo, hi)`` of ``n`` that rank ``rank`` of ``size`` takes: contiguous
    slices whose sizes differ by at most one (some empty when ``n < size``)."""
    rank = _comm.rank() if rank is None else rank
    size = _comm.size() if size is None else size
    return rank * n // size, (rank + 1) * n // size


def shard(*arrays, rank: int | None = None, size: int | None = None):
    """This rank's contiguous slice of each array (all of the same length).

    >>> import numpy as np
    >>> x, y = np.arange(10), np.arange(10) * 2
    >>> shard(x, y, rank=1, size=3)
    (array([3, 4, 5]), array([ 6,  8, 10]))
    """
    if not arrays:
        raise TypeError("shard: give at least one array")
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if len(a) != n:
            raise ValueError(f"shard: all arrays must have the same length; array 0 has {n} "
                             f"rows, array {i} has {len(a)}")
    lo, hi = shard_bounds(n, rank, size)
    out = tuple(a[lo:hi] for a in arrays)
    return out[0] if len(out) == 1 else out


def _gather(value: float, count: int, pred):
    """The whole batch's loss (weighted by rows) and predictions (in rank order)."""
    parts = _comm.comm().allgather((float(value), int(count), pred))
    total = sum(c for _, c, _ in parts)
    loss = sum(v * c for v, c, _ in parts if c) / total if total else float("nan")
    preds = [p for _, c, p in parts if c]
    if preds and isinstance(preds[0], (list, tuple)):
        return loss, type(preds[0])(np.concatenate(z) for z in zip(*preds))
    return loss, np.concatenate(preds) if preds else None


@contextlib.contextmanager
def sharded(model):
    """Within the block, ``model``'s training and evaluation steps work on this rank's
    slice of each batch and report the whole batch (see the module's text); its optimizer
    is made a :func:`DistributedOptimizer`.

    ``model.fit`` / ``model.evaluate`` / ``train_on_batch`` called inside on the SAME data
    on every rank then train data-parallel.
    """
    if getattr(model, "keras_train_step", False):
        raise TypeError(f"tidu.distributed: {type(model).__name__} defines Keras's "
                        "train_step(data), whose batches tidu cannot split for you; shard the "
                        "data yourself (tidu.distributed.shard) and compile with "
                        "DistributedOptimizer")
    model._check_compiled("tidu.distributed.fit")
    opt = model.optimizer
    if not getattr(opt, "distributed", False):
        DistributedOptimizer(opt)
    train_step, eval_batch = model.train_step, model._eval_batch
    had = {k: k in model.__dict__ for k in ("train_step", "_eval_batch")}

    def step(x, y, sample_weight=None):
        lo, hi = shard_bounds(len(x))
        kw = {} if sample_weight is None else {"sample_weight": sample_weight[lo:hi]}
        opt.local_weight = float(hi - lo)
        before = opt.comm_steps
        if hi > lo:
            try:
                value, pred = train_step(x[lo:hi], y[lo:hi], **kw)
            except NonFiniteUpdateError as e:  # the same on every rank: the same update
                if hasattr(e, "loss"):
                    e.loss, e.predictions = _gather(e.loss, hi - lo, e.predictions)
                raise
        else:  # no rows for this rank in a short last batch: take the others' average
            from ..tensor import Tensor

            value, pred = 0.0, None
            model._ensure_built(x)
            opt.build(model.parameters())
            opt.zero_grad()
            for p in model.parameters():
                if p.requires_grad:
                    p.grad = Tensor._make(np.zeros_like(p.data), False, None)
            if any(p.requires_grad for p in model.parameters()):
                model._apply_update(value, pred)
        if opt.comm_steps == before:  # it returned before stepping (a NaN loss, or frozen)
            opt.skip_step()
        return _gather(value, hi - lo, pred)

    def evaluate_batch(x, y, sample_weight=None):
        lo, hi = shard_bounds(len(x))
        kw = {} if sample_weight is None else {"sample_weight": sample_weight[lo:hi]}
        value, pred = eval_batch(x[lo:hi], y[lo:hi], **kw) if hi > lo else (0.0, None)
        return _gather(value, hi - lo, pred)

    model.train_step, model._eval_batch = step, evaluate_batch
    try:
        yield model
    finally:
        for k, present in had.items():
            if not present:
                model.__dict__.pop(k, None)
        if had["train_step"]:
            model.train_step = train_step
        if had["_eval_batch"]:
            model._eval_batch = eval_batch


def prepare_callbacks(callbacks) -> list[Callback]:
    """``BroadcastParameters`` first, then the user's callbacks with the file writers on
    rank 0 only and ``BackupAndRestore`` made the job-wide one (same class name)."""
    out: list[Callback] = [BroadcastParameters()]
    for c in callbacks or ():
        if type(c) is _PlainBackup:
            c.__class__ = BackupAndRestore
        elif isinstance(c, WRITERS):
            c = OnRankZero(c)
        out.append(c)
    return out


def fit(model, x, y=None, batch_size: int = 32, epochs: int = 1, verbose: int = 1,
        callbacks: list | None = None, seed: int | None = None, **kwargs):
    """``model.fit`` over all ranks of the job: the same arguments as one process, with
    ``batch_size`` the GLOBAL batch (each of ``N`` ranks computes about ``batch_size / N``
    of its rows). Call it on every rank with the same data and seed.

    What it adds: the weights of rank 0 are broadcast at the start; gradients are averaged
    (bucketed Allreduce) before each update; loss and metrics are those of the whole batch;
    only rank 0 prints (``verbose`` is 0 elsewhere) and writes files (``ModelCheckpoint``
    and ``CSVLogger`` are wrapped in :class:`OnRankZero`; ``BackupAndRestore`` is written by
    rank 0 and restored on every rank from rank 0's file). With ``seed`` None, rank 0's
    generator state is sent to all ranks first, so that they shuffle alike.

    Returns:
        The History (the same on every rank).
    """
    c = _comm.comm()
    if seed is None:
        tidu_random.set_state(c.bcast(tidu_random.get_state(), root=0))
    with sharded(model):
        return model.fit(x, y, batch_size=batch_size, epochs=epochs,
                         verbose=verbose if _comm.is_root() else 0,
                         callbacks=prepare_callbacks(callbacks), seed=seed, **kwargs)


def evaluate(model, x, y=None, batch_size: int = 32, **kwargs):
    """``model.evaluate`` with each batch split over the ranks; the whole set's results on
    every rank (prints on rank 0 only)."""
    if not _comm.is_root():
        kwargs["verbose"] = 0
    with sharded(model):
        return model.evaluate(x, y, batch_size=batch_size, **kwargs)
