"""Which BLAS NumPy's matrix products run on, and whether it uses the CPU's widest vectors.

tidu's products are NumPy's, so their speed is the BLAS library's. OpenBLAS (NumPy's wheels)
picks its kernels for the CPU when NumPy loads it, unless the environment variable
``OPENBLAS_CORETYPE`` names them; a machine may set it to narrower kernels than its CPU has.
On a 2-core AMD EPYC (Zen 5, AVX-512) whose environment set ``OPENBLAS_CORETYPE=Haswell``
(AVX2), OpenBLAS's own choice, ``SkylakeX`` (AVX-512), made float32 products 1.6-1.85x
faster (``bench/README.md``).

``blas_info()`` reports the library (through threadpoolctl, the tool for this, when it is
installed); ``blas_hint()`` says when its kernels are narrower than the CPU. ``tidu info``
prints both.
"""

from __future__ import annotations

import os

__all__ = ["blas_hint", "blas_info", "cpu_flags", "has_avx512"]

AVX2_CORES = ("haswell", "zen")  # OpenBLAS cores whose kernels stop at AVX2
AVX512 = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")  # what SkylakeX needs


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset:
    """The CPU's feature flags (Linux's ``/proc/cpuinfo``); empty where it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def has_avx512(flags: frozenset) -> bool:
    """Whether ``flags`` hold every AVX-512 part that OpenBLAS's SkylakeX kernels use."""
    return all(f in flags for f in AVX512)


def blas_info() -> list[dict]:
    """The BLAS libraries loaded in this process, one dict each: ``api`` ('openblas',
    'mkl', ...), ``version``, ``core`` (the kernels chosen, e.g. 'Haswell'; None where the
    library does not say) and ``threads``. Empty where threadpoolctl is not installed."""
    try:
        import numpy  # noqa: F401 - loads the BLAS to be inspected
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"api": i.get("internal_api"), "version": i.get("version"),
             "core": i.get("architecture"), "threads": i.get("num_threads"),
             "path": i.get("filepath")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


def blas_hint(info: list[dict] | None = None, flags: frozenset | None = None,
              environ: dict | None = None) -> str | None:
    """A sentence when OpenBLAS runs AVX2 kernels on a CPU with AVX-512 (chosen by
    OpenBLAS, or forced by ``OPENBLAS_CORETYPE``); None otherwise. The arguments default to
    this process's :func:`blas_info`, :func:`cpu_flags` and ``os.environ``."""
    info = blas_info() if info is None else info
    flags = cpu_flags() if flags is None else flags
    environ = os.environ if environ is None else environ
    if not has_avx512(flags):
        return None
    forced = environ.get("OPENBLAS_CORETYPE")
    for lib in info:
        core = (lib.get("core") or "").lower()
        if lib.get("api") == "openblas" and core in AVX2_CORES:
            how = (f"start Python without OPENBLAS_CORETYPE={forced} (set in this "
                   "environment), or with OPENBLAS_CORETYPE=SkylakeX," if forced else
                   "start Python with OPENBLAS_CORETYPE=SkylakeX")
            return (f"OpenBLAS {lib.get('version')} runs its {lib.get('core')} (AVX2) kernels "
                    f"on a CPU with AVX-512: {how} to use its AVX-512 kernels (read when "
                    "NumPy is imported; on an AMD Zen 5 that made float32 matrix products "
                    "1.6-1.85x faster)")
    return None
