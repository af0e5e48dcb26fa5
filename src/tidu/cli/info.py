"""``tidu info``: versions, the BLAS under NumPy's products, threads and the compiled kernels:
what to quote in a bug report or beside a benchmark (as ``torch.utils.collect_env``)."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from ._common import HelpFormatter


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu info``."""
    p = sub.add_parser(
        "info", help="print versions, the BLAS library and its kernels, threads, extras",
        description="Print tidu's, Python's and NumPy's versions, the BLAS library NumPy's "
        "matrix products run on (its kernels and threads, through threadpoolctl when it is "
        "installed), whether tidu's compiled kernels (numba) are on, which optional extras "
        "are installed, and a hint when OpenBLAS uses narrower vector kernels than the CPU "
        "has.",
        epilog="example:\n  tidu info", formatter_class=HelpFormatter)
    p.set_defaults(run=run)
    return p


EXTRAS = ("scipy", "numba", "h5py", "safetensors", "onnx", "onnxruntime", "tqdm",
          "matplotlib", "PIL", "tensorboardX", "mpi4py", "cupy")


def lines() -> list[str]:
    """The report, one line per fact."""
    import importlib.util

    import numpy

    from .. import accel
    from ..backend import blas
    from . import _version

    out = [f"tidu {_version()}", f"Python {platform.python_version()} ({sys.platform}, "
           f"{platform.machine()})", f"NumPy {numpy.__version__}"]
    libs = blas.blas_info()
    if not libs:
        out.append("BLAS: not reported (install threadpoolctl to see it)")
    for lib in libs:
        out.append(f"BLAS: {lib['api']} {lib['version']}, kernels {lib['core'] or 'not said'}, "
                   f"{lib['threads']} thread(s)")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype:
        out.append(f"OPENBLAS_CORETYPE={coretype}")
    flags = blas.cpu_flags()
    out.append(f"CPU cores: {os.cpu_count()}; AVX-512: "
               f"{'yes' if blas.has_avx512(flags) else 'no'}")
    out.append(f"compiled kernels (numba): {'on' if accel.enabled() else 'off'}")
    have = [m for m in EXTRAS if importlib.util.find_spec(m) is not None]
    out.append("extras installed: " + (", ".join(have) if have else "none"))
    hint = blas.blas_hint(libs, flags)
    if hint:
        out.append(f"hint: {hint}")
    return out


def run(args) -> int:
    """Print the report; 0."""
    print("\n".join(lines()))
    return 0
