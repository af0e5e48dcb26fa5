"""The workloads of the benchmark suite (``bench/run.py``), one module each.

Every module defines ``setup(cfg) -> Workload``: the contenders' run functions, already built
and warmed up, each doing one timed unit of work (an epoch, N steps, N predictions).
"""

from .common import WORKLOADS, Config, Workload

__all__ = ["WORKLOADS", "Config", "Workload"]
