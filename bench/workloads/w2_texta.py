"""W2: Text A's logistic regression (cat vs non-cat: 12288 features x 209 samples, one sample
per column, full batch, gradient descent lr 0.005), 2000 iterations, float32. tidu eager
writes the course's cost literally and calls ``backward``; the hand NumPy loop writes the
course's closed-form gradients (dZ = A - Y)."""

from __future__ import annotations

import numpy as np

from .common import Config, Target, Workload, have

LR = 0.005


def data():
    rng = np.random.default_rng(0)
    X = rng.random((12288, 209), dtype=np.float32)  # images / 255, flattened, per column
    Y = (rng.random((1, 209)) > 0.65).astype(np.float32)
    return X, Y


def build_tidu(X, Y, iters):
    import tidu

    w = tidu.zeros(X.shape[0], 1, requires_grad=True)
    b = tidu.zeros(1, requires_grad=True)
    Xt, Yt = tidu.Tensor(X), tidu.Tensor(Y)

    def run():
        for _ in range(iters):
            A = tidu.sigmoid(w.T @ Xt + b)
            cost = -(Yt * tidu.log(A) + (1 - Yt) * tidu.log(1 - A)).mean()
            w.grad = b.grad = None
            cost.backward()
            w.data -= LR * w.grad.data
            b.data -= LR * b.grad.data
        return float(cost.data)
    return run


def build_torch(X, Y, iters):
    import torch

    w = torch.zeros(X.shape[0], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

    def run():
        for _ in range(iters):
            A = torch.sigmoid(w.T @ Xt + b)
            cost = -(Yt * torch.log(A) + (1 - Yt) * torch.log(1 - A)).mean()
            w.grad = b.grad = None
            cost.backward()
            with torch.no_grad():
                w.sub_(LR * w.grad)
                b.sub_(LR * b.grad)
        return cost.item()
    return run


def build_numpy(X, Y, iters):
    w = np.zeros((X.shape[0], 1), np.float32)
    b = np.zeros(1, np.float32)
    m = X.shape[1]

    def run():
        for _ in range(iters):
            A = 1 / (1 + np.exp(-(w.T @ X + b)))
            cost = -float((Y * np.log(A) + (1 - Y) * np.log(1 - A)).mean())
            dZ = A - Y
            w[...] -= LR / m * (X @ dZ.T)
            b[...] -= LR / m * dZ.sum()
        return cost
    return run


def build_jax(X, Y, iters):
    import jax
    import jax.numpy as jnp

    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def cost_fn(w, b):
        A = jax.nn.sigmoid(w.T @ Xj + b)
        return -(Yj * jnp.log(A) + (1 - Yj) * jnp.log(1 - A)).mean()

    @jax.jit
    def step(w, b):
        c, (gw, gb) = jax.value_and_grad(cost_fn, argnums=(0, 1))(w, b)
        return w - LR * gw, b - LR * gb, c

    state = [jnp.zeros((X.shape[0], 1)), jnp.zeros(1)]

    def run():
        w, b = state
        for _ in range(iters):
            w, b, c = step(w, b)
        state[:] = [w, b]
        return float(c)
    return run


def setup(cfg: Config) -> Workload:
    X, Y = data()
    iters = 400 if cfg.quick else 2000
    runs = {"tidu": build_tidu(X, Y, iters), "numpy": build_numpy(X, Y, iters),
            "torch": build_torch(X, Y, iters)}
    skipped = {"tidu jit": "not timed here (W4 times tidu.function on Text D's program)"}
    if have("jax"):
        runs["jax jit"] = build_jax(X, Y, iters)
    else:
        skipped["jax jit"] = "jax not installed"
    return Workload(
        key="W2", title="Text A logistic regression 12288x209, 2000 iterations",
        unit="s/2000 it", scale=2000 / iters, runs=runs, skipped=skipped,
        flops=2 * 2.0 * 12288 * 209 * iters,
        targets=[Target("tidu", "torch", 0.8, "W2 tidu <= 0.8x torch eager")])
