"""Side-by-side speed of tidu, PyTorch eager and hand-written NumPy on the texts' workloads.

W1: Text B network (784-512-10, ReLU, softmax + categorical cross-entropy, RMSprop, batch 128):
    seconds per 60,000-sample epoch (timed over ``--w1-steps`` steps and scaled).
W2: Text A logistic regression (12288 features x 209 samples, full batch, plain gradient
    descent): seconds for 2000 iterations (timed over ``--w2-iters`` and scaled).
W3: tiny MLP (20-64-10, batch 32, SGD): microseconds per step.

All float32, synthetic data, fixed seeds, one process, each measurement the median of
``--repeats`` runs after a warm-up. Reported as ratios tidu / PyTorch (lower is better).

Run: python bench/bench_training.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import tidu
from tidu import nn, optim


def timeit(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------- W1
def w1_tidu(x, y, steps):
    tidu.manual_seed(0)
    model = nn.Sequential([nn.Dense(512, activation="relu", input_shape=(784,)),
                           nn.Dense(10, activation="softmax")])
    opt = optim.RMSprop(model.parameters())
    loss_fn = tidu.losses.CategoricalCrossentropy()

    def run():
        for i in range(steps):
            xb, yb = x[i * 128:(i + 1) * 128], y[i * 128:(i + 1) * 128]
            loss = loss_fn(yb, model(tidu.Tensor(xb)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def w1_torch(x, y, steps):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.argmax(1))

    def run():
        for i in range(steps):
            xb, yb = xt[i * 128:(i + 1) * 128], yt[i * 128:(i + 1) * 128]
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def w1_numpy(x, y, steps):
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((784, 512)) * 0.05).astype(np.float32)
    b1 = np.zeros(512, np.float32)
    W2 = (rng.standard_normal((512, 10)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [W1, b1, W2, b2]
    sq = [np.zeros_like(p) for p in params]

    def run():
        for i in range(steps):
            xb, yb = x[i * 128:(i + 1) * 128], y[i * 128:(i + 1) * 128]
            h = np.maximum(xb @ W1 + b1, 0)
            z = h @ W2 + b2
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            dz = (p - yb) / len(xb)
            dh = (dz @ W2.T) * (h > 0)
            grads = [xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
            for P, G, S in zip(params, grads, sq):
                S *= 0.9
                S += 0.1 * G * G
                P -= 1e-3 * G / np.sqrt(S + 1e-7)
    return run


# ---------------------------------------------------------------- W2
def w2_tidu(X, Y, iters):
    w = tidu.zeros(X.shape[0], 1, requires_grad=True)
    b = tidu.zeros(1, requires_grad=True)
    Xt = tidu.Tensor(X)

    def run():
        for _ in range(iters):
            a = tidu.sigmoid(w.T @ Xt + b)
            cost = -(Y * tidu.log(a) + (1 - Y) * tidu.log(1 - a)).mean()
            w.grad = b.grad = None
            cost.backward()
            w.data -= 0.005 * w.grad.data
            b.data -= 0.005 * b.grad.data
    return run


def w2_torch(X, Y, iters):
    import torch

    w = torch.zeros(X.shape[0], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

    def run():
        for _ in range(iters):
            a = torch.sigmoid(w.T @ Xt + b)
            cost = -(Yt * torch.log(a) + (1 - Yt) * torch.log(1 - a)).mean()
            w.grad = b.grad = None
            cost.backward()
            with torch.no_grad():
                w.sub_(0.005 * w.grad)
                b.sub_(0.005 * b.grad)
    return run


def w2_numpy(X, Y, iters):
    w = np.zeros((X.shape[0], 1), np.float32)
    b = np.float32(0)

    def run():
        nonlocal b
        m = X.shape[1]
        for _ in range(iters):
            A = 1 / (1 + np.exp(-(w.T @ X + b)))
            dZ = A - Y
            w[...] -= 0.005 * (X @ dZ.T) / m
            b -= np.float32(0.005 * dZ.sum() / m)
    return run


# ---------------------------------------------------------------- W3
def w3_tidu(x, y, steps):
    tidu.manual_seed(0)
    model = nn.Sequential([nn.Dense(64, activation="relu", input_shape=(20,)), nn.Dense(10)])
    opt = optim.SGD(model.parameters(), lr=0.01)
    loss_fn = tidu.losses.CategoricalCrossentropy(from_logits=True)

    def run():
        for i in range(steps):
            j = i % 30
            loss = loss_fn(y[j * 32:(j + 1) * 32], model(tidu.Tensor(x[j * 32:(j + 1) * 32])))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def w3_torch(x, y, steps):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.argmax(1))

    def run():
        for i in range(steps):
            j = i % 30
            loss = torch.nn.functional.cross_entropy(model(xt[j * 32:(j + 1) * 32]),
                                                     yt[j * 32:(j + 1) * 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--w1-steps", type=int, default=60)
    ap.add_argument("--w2-iters", type=int, default=200)
    ap.add_argument("--w3-steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    rows = []

    n1 = args.w1_steps * 128
    x1 = rng.random((n1, 784), dtype=np.float32)
    y1 = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n1)]
    scale = (60000 / 128) / args.w1_steps
    res = {k: timeit(f(x1, y1, args.w1_steps), args.repeats) * scale
           for k, f in [("tidu", w1_tidu), ("torch", w1_torch), ("numpy", w1_numpy)]}
    rows.append(("W1 Text B MLP, s/epoch", res))

    X2 = rng.random((12288, 209), dtype=np.float32)
    Y2 = (rng.random((1, 209)) > 0.5).astype(np.float32)
    scale = 2000 / args.w2_iters
    res = {k: timeit(f(X2, Y2, args.w2_iters), args.repeats) * scale
           for k, f in [("tidu", w2_tidu), ("torch", w2_torch), ("numpy", w2_numpy)]}
    rows.append(("W2 Text A logreg, s/2000 it", res))

    x3 = rng.standard_normal((960, 20), dtype=np.float32)
    y3 = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 960)]
    res = {k: timeit(f(x3, y3, args.w3_steps), args.repeats) / args.w3_steps * 1e6
           for k, f in [("tidu", w3_tidu), ("torch", w3_torch)]}
    rows.append(("W3 tiny MLP, us/step", res))

    print(f"{'workload':32s} {'tidu':>9s} {'torch':>9s} {'numpy':>9s} {'tidu/torch':>11s}")
    for name, r in rows:
        numpy_t = f"{r['numpy']:9.3f}" if "numpy" in r else f"{'-':>9s}"
        print(f"{name:32s} {r['tidu']:9.3f} {r['torch']:9.3f} {numpy_t} "
              f"{r['tidu'] / r['torch']:11.2f}")


if __name__ == "__main__":
    main()
