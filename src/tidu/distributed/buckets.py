"""Gradient averaging on contiguous buckets, and broadcasting parameters from one rank.

Gradients are copied into a few flat buffers (one per dtype, cut at ``bucket_bytes``, filled
in reverse parameter order: the order backward produces them), and each buffer is summed by
one ``Allreduce``: a handful of calls per step instead of one per tensor. Each buffer carries
a short tail after the gradients, summed with them:

- the rank's weight ``w`` (1 by default; the number of samples of its shard in
  :func:`tidu.distributed.fit`): the gradients go in multiplied by ``w`` and come out divided
  by the total, so ranks with unequal shards average exactly as one process on the whole
  batch would;
- a skip flag: a rank whose step must not happen (a non-finite loss) still joins the
  collective and says so, and every rank then skips the update together;
- one presence count per parameter: a gradient missing on one rank counts as zeros there, a
  gradient missing on every rank stays None.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import _comm
from ._comm import DistributedError

xp = backend.xp

DEFAULT_BUCKET_BYTES = 4 * 1024 * 1024
"""Bucket size: big enough that the per-call latency is amortized, small enough to pipeline
packing, the reduction and unpacking (PyTorch's DDP uses 25 MB, Horovod's fusion 64 MB)."""


class Bucket:
    """Some parameters of one dtype and the flat buffer their gradients travel in."""

    def __init__(self, params: list, dtype):
        self.params = params
        self.sizes = [int(p.data.size) for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.n = self.offsets[-1]
        # on the parameters' device: a GPU model's buckets are CuPy arrays summed by NCCL
        lib = backend.namespace(params[0].data) if params else xp
        self.buffer = lib.zeros(self.n + 2 + len(params), dtype=dtype)
        self.request = None
        self.ready = 0
        self.fired = [0] * len(params)

    @property
    def nbytes(self) -> int:
        """Bytes one rank sends for this bucket."""
        return int(self.buffer.nbytes)

    def put(self, j: int, g, weight: float) -> None:
        """Copy gradient ``g`` of parameter ``j`` (or zeros for None), times ``weight``."""
        seg = self.buffer[self.offsets[j]:self.offsets[j + 1]]
        if g is None:
            seg[...] = 0
            self.buffer[self.n + 2 + j] = 0
        else:
            g = g if backend.is_array(g) else xp.asarray(g)
            xp.multiply(g.reshape(-1), weight, out=seg, casting="unsafe")
            self.buffer[self.n + 2 + j] = 1

    def pack(self, weight: float, skip: bool) -> None:
        """Fill the whole buffer from the parameters' ``.grad``."""
        for j, p in enumerate(self.params):
            self.put(j, None if p.grad is None else p.grad.data, weight)
        self.seal(weight, skip)

    def seal(self, weight: float, skip: bool) -> None:
        self.buffer[self.n] = weight
        self.buffer[self.n + 1] = 1.0 if skip else 0.0

    def start(self, comm) -> None:
        """Begin the non-blocking sum of the buffer over all ranks."""
        self.request = _allreduce(comm, self.buffer, blocking=False)

    def wait(self) -> None:
        if self.request is not None:
            self.request.Wait()
            self.request = None

    def unpack(self) -> bool:
        """Write the averaged gradients back into ``.grad``; False when a rank skipped."""
        b, n = self.buffer, self.n
        total, skip = float(b[n]), float(b[n + 1])
        self.ready = 0
        self.fired = [0] * len(self.params)
        if skip > 0:
            return False
        if not total > 0:
            raise DistributedError(
                f"allreduce_gradients: the ranks' weights sum to {total}; at least one rank "
                "must contribute a gradient with a positive weight")
        for j, p in enumerate(self.params):
            if b[n + 2 + j] == 0:
                p.grad = None  # no rank has a gradient for it
                continue
            g = b[self.offsets[j]:self.offsets[j + 1]] / b.dtype.type(total)
            p.grad = Tensor._make(g.reshape(p.data.shape), False, None)
        return True


def _allreduce(comm, buf, blocking: bool = True):
    """Sum ``buf`` in place over all ranks: NCCL for CuPy arrays (see :mod:`._nccl`),
    MPI for NumPy ones."""
    if type(buf).__module__.startswith("cupy"):
        from . import _nccl

        _nccl.allreduce_sum(buf)
        return None
    if blocking:
        comm.Allreduce(_comm.in_place(), buf, op=_comm.sum_op())
        return None
    return comm.Iallreduce(_comm.in_place(), buf, op=_comm.sum_op())


def make_buckets(params, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> list[Bucket]:
    """Group ``params`` into buckets: by dtype, in reverse order, each about ``bucket_bytes``
    (a parameter bigger than that gets a bucket of its own)."""
    if not isinstance(bucket_bytes, int) or bucket_bytes < 1:
        raise ValueError(f"bucket_bytes must be a positive int, got {bucket_bytes!r}")
    by_dtype: dict = {}
    for p in reversed(list(params)):
        by_dtype.setdefault(np.dtype(p.data.dtype), []).append(p)
    buckets = []
    for dtype, ps in by_dtype.items():
        if dtype.kind != "f":
            raise DistributedError(f"allreduce_gradients: a parameter of dtype {dtype} has no "
                                   "gradient to average; only floating parameters can train")
        cur, nbytes = [], 0
        for p in ps:
            if cur and nbytes + p.data.nbytes > bucket_bytes:
                buckets.append(Bucket(cur, dtype))
                cur, nbytes = [], 0
            cur.append(p)
            nbytes += p.data.nbytes
        if cur:
            buckets.append(Bucket(cur, dtype))
    return buckets


def reduce_buckets(buckets: list[Bucket], weight: float = 1.0, skip: bool = False,
                   comm=None) -> bool:
    """Pack every bucket not already in flight, sum them all, write the averages back.

    Returns False (and leaves the gradients as they were) when any rank asked to skip.
    """
    comm = comm if comm is not None else _comm.comm()
    for b in buckets:
        if b.request is None:
            b.pack(weight, skip)
            b.start(comm)
    for b in buckets:
        b.wait()
    results = [b.unpack() for b in buckets]
    return all(results) if results else True


def allreduce_gradients(params, weight: float = 1.0, skip: bool = False,
                        bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> bool:
    """Average the ``.grad`` of ``params`` over all ranks, in place, on bucketed buffers.

    Every rank must call it with the same parameters (the same model) in the same order.

    Args:
        params: Tensors (e.g. ``model.parameters()``); those without ``requires_grad`` are
            left out.
        weight: this rank's share: the average is ``sum(w_r * g_r) / sum(w_r)``. Give the
            number of samples behind the gradient when shards are unequal.
        skip: this rank cannot take the step (e.g. its loss is NaN); every rank then gets
            False and should skip the update.

    Returns:
        True when the gradients were averaged, False when some rank asked to skip.
    """
    params = [p for p in params if p.requires_grad]
    if not params:
        return True
    return reduce_buckets(make_buckets(params, bucket_bytes), weight, skip)


def bytes_per_step(params, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> int:
    """Bytes one rank hands to Allreduce per step for ``params`` (gradients plus tails)."""
    return sum(b.nbytes for b in make_buckets([p for p in params if p.requires_grad],
                                              bucket_bytes))


def broadcast_arrays(arrays, root: int = 0, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
    """Overwrite each array (in place) with rank ``root``'s values, in bucketed messages.

    Raises:
        DistributedError: the ranks hold arrays of other shapes or dtypes (different models).
    """
    c = _comm.comm()
    arrays = list(arrays)
    layout = [(tuple(a.shape), str(a.dtype)) for a in arrays]
    layouts = c.allgather(layout)
    for r, other in enumerate(layouts):
        if other != layouts[root]:
            diff = next((i for i, (a, b) in enumerate(zip(other, layouts[root])) if a != b),
                        min(len(other), len(layouts[root])))
            raise DistributedError(
                f"broadcast_parameters: rank {r} has {len(other)} arrays, rank {root} has "
                f"{len(layouts[root])}; the first difference is at position {diff} "
                f"({other[diff] if diff < len(other) else 'missing'} against "
                f"{layouts[root][diff] if diff < len(layouts[root]) else 'missing'}). Every "
                "rank must build the same model")
    by_dtype: dict = {}
    for a in arrays:
        by_dtype.setdefault(np.dtype(a.dtype), []).append(a)
    for group in by_dtype.values():
        start = 0
        while start < len(group):
            end, nbytes = start, 0
            while end < len(group) and (end == start or nbytes + group[end].nbytes
                                        <= bucket_bytes):
                nbytes += group[end].nbytes
                end += 1
            chunk = group[start:end]
            buf = xp.concatenate([a.reshape(-1) for a in chunk]) if chunk else None
            c.Bcast(buf, root=root)
            off = 0
            for a in chunk:
                a[...] = buf[off:off + a.size].reshape(a.shape)
                off += a.size
            start = end


def broadcast_parameters(model_or_params, root: int = 0) -> None:
    """Give every rank rank ``root``'s weights: call it once, before training, so that
    ranks that initialized differently start from the same point.

    ``model_or_params``: a Module (all its parameters, frozen ones too) or Tensors/arrays.
    """
    from ..safety import bump_version

    items = list(model_or_params.parameters()) if hasattr(model_or_params, "parameters") \
        else list(model_or_params)
    broadcast_arrays([p.data if isinstance(p, Tensor) else p for p in items], root)
    for p in items:
        if isinstance(p, Tensor):
            bump_version(p)


def broadcast_optimizer_state(optimizer, root: int = 0) -> None:
    """Give every rank rank ``root``'s optimizer slots and step count (for resuming a
    hand-written loop from a checkpoint that only rank ``root`` read)."""
    opt = optimizer
    c = _comm.comm()
    if not opt.built:
        raise DistributedError("broadcast_optimizer_state: the optimizer has no parameters "
                               "yet; build it (opt.build(model.parameters())) first")
    slots = [a for s in opt._state for _, a in sorted(s.items())]
    broadcast_arrays(slots, root)
    opt._iterations = int(c.bcast(int(opt._iterations), root=root))
