"""NCCL through CuPy, for gradient buffers that live on a GPU (UNTESTED: no GPU here).

When tidu's array namespace is CuPy, the buckets are CuPy arrays and are summed by
``cupy.cuda.nccl`` directly in GPU memory; MPI only carries NCCL's unique id from rank 0
to the others once (``ncclCommInitRank``). Everything else (broadcasts, metrics) stays on
MPI. This module is written against CuPy's documented ``NcclCommunicator`` API but has never
run: the machines this was written on have no GPU. See docs/distributed.md.
"""

from __future__ import annotations

from . import _comm
from ._comm import DistributedError

_STATE: dict = {}

_NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64"}


def communicator():
    """The NCCL communicator of this job (made once: rank 0's unique id over MPI)."""
    if "comm" in _STATE:
        return _STATE["comm"]
    try:
        from cupy.cuda import nccl
    except ImportError as e:
        raise DistributedError("tidu.distributed: the gradients are CuPy arrays but "
                               f"cupy.cuda.nccl is not available ({e}); install a CuPy build "
                               "with NCCL (pip install cupy-cuda12x)") from e
    mpi = _comm.comm()
    uid = nccl.get_unique_id() if _comm.rank() == 0 else None
    uid = mpi.bcast(uid, root=0)
    _STATE["nccl"] = nccl
    _STATE["comm"] = nccl.NcclCommunicator(_comm.size(), uid, _comm.rank())
    return _STATE["comm"]


def allreduce_sum(buf) -> None:
    """Sum the CuPy array ``buf`` in place over all ranks, on the current stream."""
    import cupy

    comm = communicator()
    nccl = _STATE["nccl"]
    kind = _NCCL_TYPES.get(str(buf.dtype))
    if kind is None:
        raise DistributedError(f"tidu.distributed: NCCL cannot sum {buf.dtype} buffers; "
                               f"use one of {sorted(_NCCL_TYPES)}")
    stream = cupy.cuda.get_current_stream()
    comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, getattr(nccl, kind), nccl.NCCL_SUM,
                   stream.ptr)
    stream.synchronize()
