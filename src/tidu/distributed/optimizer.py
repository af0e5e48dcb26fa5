"""DistributedOptimizer: any tidu optimizer whose ``step()`` first averages the gradients.

The optimizer is changed in place into a subclass of its own class that keeps the class's
name, so ``state_dict`` / ``load_state_dict``, ``model.save`` and the learning-rate
schedulers see the optimizer they know; only ``step`` differs::

    opt = tidu.distributed.DistributedOptimizer(tidu.optim.SGD(model.parameters(), lr=0.1))
    model.compile(optimizer=tidu.distributed.DistributedOptimizer("rmsprop"), loss="mse")

With ``overlap=True`` each bucket starts its (non-blocking) reduction from gradient hooks
as soon as backward has produced all of its gradients, so communication runs while backward
computes the earlier layers; ``step()`` then only waits. That needs exactly one
``backward()`` per step; measured on two local ranks it does not pay for Text B's network
(docs/distributed.md), so it is off by default.
"""

from __future__ import annotations

from ..autograd import enable_grad
from ..optim import Optimizer
from ..optim import get as get_optimizer
from . import _comm
from .buckets import DEFAULT_BUCKET_BYTES, make_buckets, reduce_buckets

_CLASSES: dict = {}


class _DistributedStep:
    """Mixed into the optimizer's class by :func:`DistributedOptimizer`."""

    distributed = True
    local_weight = 1.0
    """This rank's weight in the average (``tidu.distributed.fit`` sets its shard size)."""
    bucket_bytes = DEFAULT_BUCKET_BYTES
    overlap = False
    last_step_skipped = False
    """Whether the last ``step()`` was skipped because some rank asked to skip it."""
    comm_seconds = 0.0
    """Seconds spent waiting in the gradient reductions, summed over steps (for benchmarks)."""
    comm_steps = 0

    def _buckets(self) -> list:
        params = [p for p in self._require_built() if p.requires_grad]
        key = tuple((id(p), p.data.shape) for p in params)
        if getattr(self, "_bucket_key", None) != key:
            for h in getattr(self, "_hook_handles", ()):
                h.remove()
            self._bucket_key = key
            self._bucket_list = make_buckets(params, self.bucket_bytes)
            self._hook_handles = []
            if self.overlap:
                self._add_hooks()
        return self._bucket_list

    def _add_hooks(self) -> None:
        comm = _comm.comm()
        for bucket in self._bucket_list:
            for j, p in enumerate(bucket.params):
                self._hook_handles.append(p.register_hook(_ready_hook(self, bucket, j, comm)))

    def sync_gradients(self, skip: bool = False) -> bool:
        """Average the gradients over all ranks now; False when some rank skipped."""
        import time

        buckets = self._buckets()
        for b in buckets:
            if b.request is not None and any(f != 1 for f in b.fired):
                raise _comm.DistributedError(
                    f"{type(self).__name__}.step: with overlap=True every parameter's "
                    "gradient must be computed exactly once per step (one backward); "
                    "use overlap=False for gradient accumulation or several backward calls")
        t0 = time.perf_counter()
        ok = reduce_buckets(buckets, float(self.local_weight), skip)
        self.comm_seconds += time.perf_counter() - t0
        self.comm_steps += 1
        return ok

    def skip_step(self) -> None:
        """Join the gradient reduction without a gradient of this rank's own and ask every
        rank to skip this step (what a rank whose loss is NaN must do, so that the others
        are not left waiting)."""
        self.sync_gradients(skip=True)
        self.last_step_skipped = True

    def step(self, closure=None):
        """Average the gradients over all ranks (one Allreduce per bucket), then update.

        When any rank asked to skip (:meth:`skip_step`), no rank updates and
        ``last_step_skipped`` is True.
        """
        from ..compile.trace import active

        if closure is None and active() is not None:
            return super().step()  # traced by tidu.compile.jit: replayed (and synced) later
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self.last_step_skipped = not self.sync_gradients()
        if self.last_step_skipped:
            return loss
        super().step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (and any half-filled overlap bucket)."""
        super().zero_grad(set_to_none)
        for b in getattr(self, "_bucket_list", ()):
            if b.request is None:
                b.ready, b.fired = 0, [0] * len(b.params)


def _ready_hook(opt, bucket, j, comm):
    def hook(g):
        if bucket.request is not None or bucket.fired[j]:
            bucket.fired[j] += 1  # a second gradient in one step: refused at step()
            return None
        bucket.put(j, g.data, float(opt.local_weight))
        bucket.fired[j] = 1
        bucket.ready += 1
        if bucket.ready == len(bucket.params):
            bucket.seal(float(opt.local_weight), False)
            bucket.start(comm)
        return None

    return hook


def _distributed_class(cls: type) -> type:
    if getattr(cls, "distributed", False):
        return cls
    if cls not in _CLASSES:
        _CLASSES[cls] = type(cls.__name__, (_DistributedStep, cls),
                             {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                              "__doc__": f"{cls.__name__} averaging its gradients over the "
                              "ranks of the job before each step."})
    return _CLASSES[cls]


def DistributedOptimizer(optimizer, bucket_bytes: int = DEFAULT_BUCKET_BYTES,  # noqa: N802
                         overlap: bool = False) -> Optimizer:
    """Make ``optimizer`` average its gradients over all ranks before each step.

    Args:
        optimizer: an Optimizer (changed in place and returned), or a name / config that
            ``tidu.optim.get`` resolves ('rmsprop', 'adam', ...).
        bucket_bytes: the size of the flat buffers the gradients are packed into.
        overlap: start each bucket's reduction from gradient hooks during backward.

    Returns:
        The same optimizer, now of a subclass of its class with the same name.
    """
    opt = get_optimizer(optimizer)
    if not isinstance(bucket_bytes, int) or bucket_bytes < 1:
        raise ValueError(f"DistributedOptimizer: bucket_bytes must be a positive int, got "
                         f"{bucket_bytes!r}")
    _comm.comm()  # join the job now: a missing mpi4py is reported here, not at step 1
    opt.__class__ = _distributed_class(type(opt))
    opt.bucket_bytes, opt.overlap = bucket_bytes, bool(overlap)
    opt._bucket_key = None
    return opt
