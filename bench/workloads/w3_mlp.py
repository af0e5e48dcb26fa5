"""W3: a tiny MLP (20-64 relu-10, softmax cross-entropy from logits, batch 32, SGD lr 0.1),
microseconds per step, float32: tidu eager (nn.Dense, CategoricalCrossentropy, optim.SGD),
tidu compiled (``tidu.function`` of the same step), hand NumPy, PyTorch eager; the
contenders' steps are the ones of ``bench/bench_compile.py``, checked there for equal work."""

from __future__ import annotations

import os
import sys

from .common import Config, Target, Workload, have

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import bench_compile as bc  # noqa: E402


def build_jax(xb, yb, init, steps):
    import jax
    import jax.numpy as jnp

    def loss_fn(ps, x, y):
        h = jax.nn.relu(x @ ps[0] + ps[1])
        return -(y * jax.nn.log_softmax(h @ ps[2] + ps[3])).sum(1).mean()

    @jax.jit
    def step(ps, x, y):
        loss, gs = jax.value_and_grad(loss_fn)(ps, x, y)
        return [p - bc.LR_MLP * g for p, g in zip(ps, gs)], loss

    state = [[jnp.asarray(p) for p in init]]
    xs, ys = [jnp.asarray(a) for a in xb], [jnp.asarray(a) for a in yb]

    def run():
        ps = state[0]
        for i in range(steps):
            ps, loss = step(ps, xs[i % 30], ys[i % 30])
        state[0] = ps
        return float(loss)
    return run


def setup(cfg: Config) -> Workload:
    # 5000 steps: a round of the fastest contender then lasts about 0.17 s, longer than the
    # machine's noise bursts (with 1000, 34-60 ms rounds; one suite's last four rounds of
    # tidu jit read 45-69 us/step against 39-40 before, while the hand loop's held)
    steps = 200 if cfg.quick else 5000
    data = bc.mlp_data()
    bc.check_equal("MLP", data)
    makers = {"tidu": bc.mlp_eager, "tidu jit": bc.mlp_compiled, "numpy": bc.mlp_numpy,
              "torch": bc.mlp_torch}
    runs = {}
    for name, make in makers.items():
        run = make(*data)[0]
        runs[name] = (lambda r: lambda: r(steps))(run)
    skipped = {}
    if have("jax"):
        runs["jax jit"] = build_jax(*data, steps)
    else:
        skipped["jax jit"] = "jax not installed"
    return Workload(
        key="W3", title="tiny MLP 20-64-10, batch 32, SGD", unit="us/step",
        scale=1e6 / steps, runs=runs, skipped=skipped,
        flops=steps * 2.0 * 32 * (20 * 64 + 64 * 10) * 3,
        targets=[Target("tidu", "torch", 0.4, "W3 tidu eager <= 0.4x torch eager"),
                 Target("tidu jit", "numpy", 1.3, "W3 tidu compiled <= 1.3x hand NumPy")])
