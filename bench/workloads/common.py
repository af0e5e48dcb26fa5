"""Shared pieces of the suite: configuration, the Workload record, data, threads, machine."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclasses.dataclass
class Config:
    """What the command line chose."""

    rounds: int = 5
    threads: int = 2
    quick: bool = False  # smaller units of work (scaled to the same reported unit)
    data: str | None = None  # folder holding mnist/ (real MNIST for W1, W5, W6)


@dataclasses.dataclass
class Target:
    """``contender`` / ``reference`` must be at most ``limit`` (a time ratio)."""

    contender: str
    reference: str
    limit: float
    text: str


@dataclasses.dataclass
class Workload:
    """The contenders of one workload, ready to time."""

    key: str
    title: str
    unit: str  # what the reported number measures ("s/epoch", "us/step", ...)
    scale: float  # reported value = seconds of one run() * scale
    runs: dict[str, Callable[[], object]]
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    targets: list[Target] = dataclasses.field(default_factory=list)
    flops: float | None = None  # matrix-product FLOPs of one run(), for the GFLOP/s fraction
    products: str | None = None  # the contender that runs only those products (the reference)
    notes: list[str] = dataclasses.field(default_factory=list)


def set_threads(n: int, torch: bool = True) -> str:
    """Use ``n`` threads in NumPy's BLAS (threadpoolctl) and (``torch``) in torch; say what
    was set."""
    said = []
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
        said.append(f"BLAS {n} (threadpoolctl)")
    except ImportError:
        said.append("BLAS threads unchanged (no threadpoolctl)")
    try:
        if not torch:
            raise ImportError
        import torch as th

        th.set_num_threads(n)
        said.append(f"torch {th.get_num_threads()}")
    except ImportError:
        pass
    return ", ".join(said)


def have(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it twice)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def mnist(cfg: Config, n_train: int = 60000, n_test: int = 10000):
    """MNIST as float32 in [0, 1], flattened, one-hot labels: the real files when found
    (``cfg.data``, ``$TIDU_DATASETS`` or ``../shared/datasets``), else synthetic data of the
    same shapes (uniform pixels, where real MNIST has zero borders: that matters for
    subnormal floats in RMSprop, so the source is recorded)."""
    folders = [cfg.data, os.environ.get("TIDU_DATASETS"),
               os.path.join(os.path.dirname(ROOT), "shared", "datasets")]
    for folder in folders:
        root = os.path.join(folder or "", "mnist")
        if folder and os.path.exists(os.path.join(root, "train-images-idx3-ubyte.gz")):
            x, y = _idx(root, "train", n_train)
            xt, yt = _idx(root, "t10k", n_test)
            return x, y, xt, yt, "MNIST"
    rng = np.random.default_rng(0)
    eye = np.eye(10, dtype=np.float32)
    return (rng.random((n_train, 784), dtype=np.float32), eye[rng.integers(0, 10, n_train)],
            rng.random((n_test, 784), dtype=np.float32), eye[rng.integers(0, 10, n_test)],
            "synthetic")


def _idx(root: str, split: str, n: int):
    """Images (float32 in [0, 1], flattened) and one-hot labels of an MNIST split, read
    directly (no tidu import: the memory of the hand NumPy process is NumPy's alone)."""
    import gzip

    with gzip.open(os.path.join(root, f"{split}-images-idx3-ubyte.gz")) as fh:
        x = np.frombuffer(fh.read(16 + 784 * n), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(root, f"{split}-labels-idx1-ubyte.gz")) as fh:
        y = np.frombuffer(fh.read(8 + n), np.uint8, offset=8)
    out = x.astype(np.float32)  # then scaled in place: no float64 copy of the images
    out *= np.float32(1 / 255)
    return out, np.eye(10, dtype=np.float32)[y]


def matmul_rate(m: int, k: int, n: int, reps: int = 30, rounds: int = 5,
                clock=time.perf_counter) -> float:
    """NumPy float32 GFLOP/s of an (m, k) @ (k, n) product, the median of ``rounds``."""
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    np.matmul(a, b, out=out)
    rates = []
    for _ in range(rounds):
        t0 = clock()
        for _ in range(reps):
            np.matmul(a, b, out=out)
        rates.append(2 * m * k * n * reps / (clock() - t0) / 1e9)
    return statistics.median(rates)


def machine(clock=time.perf_counter) -> dict:
    """Versions, CPU, threads and the measured float32 matmul rates (timed by ``clock``)."""
    info = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "python": platform.python_version(), "numpy": np.__version__,
            "cpu": _cpu_name(), "cores": os.cpu_count()}
    for mod in ("tidu", "torch", "jax"):
        if have(mod):
            info[mod] = __import__(mod).__version__
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{p.get('internal_api')} {p.get('version')} "
                        f"{p.get('architecture')} x{p.get('num_threads')}"
                        for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        pass
    # the kernels OpenBLAS runs are the environment's choice where this is set (it is read
    # when NumPy loads): a machine may force AVX2 kernels on an AVX-512 CPU
    info["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE")
    if have("tidu"):
        from tidu.backend import blas

        info["blas_hint"] = blas.blas_hint()  # None, or why the kernels are narrower
    # the W1 step's two big products (forward x @ W1 and backward x.T @ dh) and a square one
    fwd = matmul_rate(128, 784, 512, clock=clock)
    info["matmul_gflops_w1_shapes"] = round(fwd, 1)
    info["matmul_gflops_1024"] = round(matmul_rate(1024, 1024, 1024, reps=4, clock=clock), 1)
    return info


def blas_text(m: dict) -> str:
    """The BLAS libraries and their kernels as :func:`machine` records them, and the
    ``OPENBLAS_CORETYPE`` that forced them, if any."""
    text = ", ".join(m.get("blas") or []) or "not reported"
    return text + (f" (OPENBLAS_CORETYPE={m['openblas_coretype']} set)"
                   if m.get("openblas_coretype") else "")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    flags = next((ln for ln in open("/proc/cpuinfo") if ln.startswith("flags")),
                                 "")
                    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags \
                        else "SSE"
                    return f"{name} ({simd})"
    except OSError:
        pass
    return platform.processor() or platform.machine()
