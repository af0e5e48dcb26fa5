"""W4: Text D's Theano program (logistic regression, 400 samples x 784 features, float64,
full batch, outputs prediction and xent, updates w and b), 10,000 steps: tidu compiled is
``tidu.function`` of the literal program; tidu eager, PyTorch and hand NumPy write the same
step (the stable softplus form); the steps are those of ``bench/bench_compile.py``, checked
there for equal work."""

from __future__ import annotations

import os
import sys

from .common import Config, Target, Workload

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import bench_compile as bc  # noqa: E402


def setup(cfg: Config) -> Workload:
    steps = 1000 if cfg.quick else 10000
    data = bc.d_data()
    bc.check_equal("D", data)
    makers = {"tidu": bc.d_eager, "tidu jit": bc.d_compiled, "numpy": bc.d_numpy,
              "torch": bc.d_torch}
    runs = {}
    for name, make in makers.items():
        run = make(*data)[0]
        runs[name] = (lambda r: lambda: r(steps))(run)
    return Workload(
        key="W4", title="Text D Theano program 400x784 f64, 10,000 steps",
        unit="s/10k steps", scale=10000 / steps, runs=runs,
        skipped={"jax jit": "not written for W4"},
        flops=steps * 2 * 2.0 * 400 * 784,
        targets=[Target("tidu jit", "torch", 0.8, "W4 tidu compiled <= 0.8x torch eager"),
                 Target("tidu", "torch", 0.8, "W4 tidu eager <= 0.8x torch eager")])
