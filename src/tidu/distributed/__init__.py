"""Data-parallel training over MPI (mpi4py and Open MPI), as Horovod and ChainerMN do.

``mpirun -n N python train.py`` starts N copies of a script; each calls :func:`init`,
trains on its share of every global batch and averages gradients with Allreduce on a few
contiguous buffers. Two ways to write the script::

    import tidu, tidu.distributed as dist
    dist.init()
    model = ...; model.compile(optimizer="rmsprop", loss=..., metrics=["accuracy"])
    dist.fit(model, x, y, batch_size=128, epochs=5, seed=0)   # batch_size: the global batch

    # or by hand, Horovod's way: each rank on its own rows
    opt = dist.DistributedOptimizer(tidu.optim.SGD(model.parameters(), lr=0.1))
    dist.broadcast_parameters(model)
    xs, ys = dist.shard(xb, yb); loss = ...; opt.zero_grad(); loss.backward(); opt.step()

Without a launcher, :func:`init` makes a one-process group, so the same script runs as
``python train.py``. An uncaught exception on any rank aborts the whole job with a message
naming the rank (no hang). CuPy arrays are summed with NCCL (untested: no GPU here). The
plan for several machines and the measured figures: docs/distributed.md.
"""

from ._comm import (
    DistributedError,
    LocalComm,
    backend,
    barrier,
    comm,
    init,
    is_initialized,
    is_root,
    launched_by_mpi,
    rank,
    size,
)
from .buckets import (
    DEFAULT_BUCKET_BYTES,
    allreduce_gradients,
    broadcast_optimizer_state,
    broadcast_parameters,
    bytes_per_step,
)
from .callbacks import (
    BackupAndRestore,
    BroadcastParameters,
    MetricAverage,
    OnRankZero,
    average_logs,
)
from .optimizer import DistributedOptimizer
from .training import evaluate, fit, shard, shard_bounds, sharded

__all__ = [
    "BackupAndRestore", "BroadcastParameters", "DEFAULT_BUCKET_BYTES", "DistributedError",
    "DistributedOptimizer", "LocalComm", "MetricAverage", "OnRankZero", "allreduce_gradients",
    "average_logs", "backend", "barrier", "broadcast_optimizer_state", "broadcast_parameters",
    "bytes_per_step", "comm", "evaluate", "fit", "init", "is_initialized", "is_root",
    "launched_by_mpi", "rank", "shard", "shard_bounds", "sharded", "size",
]
