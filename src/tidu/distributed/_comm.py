"""The process group: MPI through mpi4py when launched by ``mpirun``, else one local process.

``init()`` is the only place that imports ``mpi4py`` (importing ``mpi4py.MPI`` initializes
MPI, so nothing here does it at import time). Under ``mpirun`` it also installs the failure
rule: an exception that escapes on any rank prints which rank failed and why, then calls
``MPI_Abort`` so every other rank stops at once instead of waiting forever in a collective.
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

_LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")


class DistributedError(RuntimeError):
    """A distributed job cannot go on: MPI missing under a launcher, ranks that disagree."""


class LocalComm:
    """The one-process stand-in for an MPI communicator: every collective is the identity.

    It lets a script written for ``mpirun -n N`` run unchanged as ``python train.py``.
    """

    rank, size = 0, 1

    def Get_rank(self) -> int:  # noqa: N802 - the MPI spelling
        return 0

    def Get_size(self) -> int:  # noqa: N802
        return 1

    def Allreduce(self, send, recv, op=None) -> None:  # noqa: N802
        """Sum over one rank: a copy (``send`` may be MPI's IN_PLACE marker: nothing)."""
        if send is not _IN_PLACE:
            np.copyto(recv, send)

    def Iallreduce(self, send, recv, op=None):  # noqa: N802
        self.Allreduce(send, recv, op)
        return _DoneRequest()

    def Bcast(self, buf, root: int = 0) -> None:  # noqa: N802
        """Nothing to send."""

    def bcast(self, obj, root: int = 0):
        return obj

    def allgather(self, obj) -> list:
        return [obj]

    def Barrier(self) -> None:  # noqa: N802
        """Nothing to wait for."""

    def Abort(self, code: int = 1) -> None:  # noqa: N802
        os._exit(code)


class _DoneRequest:
    def Wait(self) -> None:  # noqa: N802
        """Already complete."""


_IN_PLACE = object()


class _World:
    comm = None
    mpi = None  # the mpi4py.MPI module, under MPI
    backend = None  # "mpi" or "local"
    hook_installed = False
    wakeup = None


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``mpirun``, ``srun``, ...)."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def init(backend: str | None = None, abort_on_error: bool = True):
    """Join the job: MPI's ``COMM_WORLD`` under ``mpirun``, else a one-process group.

    Args:
        backend: ``"mpi"`` (needs mpi4py), ``"local"`` (one process), or None: MPI when an
            MPI launcher started this process, else local. Calling ``init`` again returns
            the same communicator.
        abort_on_error: install ``sys.excepthook`` so that an uncaught exception on any
            rank prints ``tidu.distributed: rank R of N failed: ...`` and aborts the whole
            job (``MPI_Abort``) instead of leaving the other ranks hanging; and make a rank
            that the launcher then stops (SIGTERM) say so, with its Python stack.

    Returns:
        The communicator (an ``mpi4py.MPI.Comm``, or a :class:`LocalComm`).

    Raises:
        DistributedError: MPI was asked for (or a launcher is present with more than one
            process) but mpi4py cannot be imported.
    """
    if _World.comm is not None:
        return _World.comm
    if backend not in (None, "mpi", "local"):
        raise ValueError(f"tidu.distributed.init: backend must be 'mpi', 'local' or None, "
                         f"got {backend!r}")
    if backend is None:
        backend = "mpi" if launched_by_mpi() else "local"
    if backend == "mpi":
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise DistributedError(
                "tidu.distributed.init: this process was started by an MPI launcher (or "
                "backend='mpi' was asked for) but mpi4py cannot be imported "
                f"({e}); install it with `pip install tidu[mpi]` (it needs Open MPI or "
                "MPICH with its headers, e.g. apt-get install openmpi-bin libopenmpi-dev)"
            ) from e
        _World.comm, _World.mpi = MPI.COMM_WORLD, MPI
    else:
        _World.comm = LocalComm()
    _World.backend = backend
    if abort_on_error and backend == "mpi":
        _install_failure_hooks()
    return _World.comm


def is_initialized() -> bool:
    """Whether :func:`init` was called in this process."""
    return _World.comm is not None


def comm():
    """The communicator of :func:`init` (calling it first when needed)."""
    return _World.comm if _World.comm is not None else init()


def rank() -> int:
    """This process's number in the job, from 0 (0 before :func:`init` too)."""
    return 0 if _World.comm is None else _World.comm.Get_rank()


def size() -> int:
    """The number of processes in the job (1 before :func:`init`)."""
    return 1 if _World.comm is None else _World.comm.Get_size()


def is_root() -> bool:
    """Whether this is rank 0, the rank that prints, logs and writes files."""
    return rank() == 0


def backend() -> str | None:
    """``'mpi'``, ``'local'``, or None before :func:`init`."""
    return _World.backend


def barrier() -> None:
    """Wait until every rank gets here."""
    comm().Barrier()


def sum_op():
    """MPI's SUM operation (None for the local group)."""
    return _World.mpi.SUM if _World.mpi is not None else None


def in_place():
    """MPI's IN_PLACE marker for reductions into the send buffer."""
    return _World.mpi.IN_PLACE if _World.mpi is not None else _IN_PLACE


def _install_failure_hooks() -> None:
    if _World.hook_installed:
        return
    _World.hook_installed = True
    previous = sys.excepthook

    def abort_job(etype, value, tb):
        if issubclass(etype, SystemExit):  # a clean exit code is not a failure
            previous(etype, value, tb)
            return
        r, n = rank(), size()
        text = "".join(traceback.format_exception(etype, value, tb))
        sys.stderr.write(f"{text}tidu.distributed: rank {r} of {n} failed with "
                         f"{etype.__name__}: {value}\ntidu.distributed: aborting the job "
                         f"(MPI_Abort) so that the other {n - 1} rank(s) stop too\n")
        sys.stderr.flush()
        sys.stdout.flush()
        _World.comm.Abort(1)

    sys.excepthook = abort_job
    _watch_sigterm()


def _watch_sigterm() -> None:
    """Make a rank that the launcher stops (because another rank failed) say so.

    The launcher ends the surviving ranks with SIGTERM while they wait inside an MPI call,
    where Python's own signal handlers cannot run. The signal's byte also arrives on a
    wake-up pipe, which a daemon thread reads (mpi4py releases the GIL while it waits): it
    prints which rank was stopped and where it was (its Python stack), then exits.
    """
    import signal
    import socket
    import threading

    done = threading.Lock()

    def stopped(where: str) -> None:
        if not done.acquire(blocking=False):
            return
        import faulthandler

        sys.stderr.write(f"tidu.distributed: rank {rank()} of {size()} was stopped by the "
                         f"launcher ({where}): another rank failed or was killed; this rank's "
                         "stack when it was stopped:\n")
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(128 + signal.SIGTERM)

    try:
        r, w = socket.socketpair()
        r.setblocking(True)
        w.setblocking(False)
        signal.signal(signal.SIGTERM, lambda signum, frame: stopped("SIGTERM"))
        signal.set_wakeup_fd(w.fileno(), warn_on_full_buffer=False)
    except (AttributeError, ValueError, OSError):  # not the main thread, or no SIGTERM
        return

    def watch() -> None:
        while True:
            data = r.recv(64)
            if not data:
                return
            if signal.SIGTERM in data:
                stopped("SIGTERM while waiting in MPI")

    threading.Thread(target=watch, name="tidu-distributed-sigterm", daemon=True).start()
    _World.wakeup = (r, w)  # kept alive with the process
