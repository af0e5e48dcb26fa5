"""tidu on an NVIDIA GPU (CuPy) against PyTorch CUDA eager, side by side in one process.

Two workloads, one epoch each, interleaved, median of ``--repeats``:
- Text B's network (Dense 512 relu, Dense 10 softmax; RMSprop; batch 128) on MNIST-shaped data;
- Keras's simple MNIST convnet (Conv2D 32, pool, Conv2D 64, pool, Flatten, Dropout 0.5,
  Dense 10; Adam; batch 128).
tidu trains through ``model.to('cuda')`` and ``fit``; PyTorch through its usual loop with
``torch.cuda.synchronize()`` around each epoch. The issue's target is tidu at most 1.5x
PyTorch's epoch time. Random data of MNIST's shapes is used, so the script needs no data set.

Without CuPy or a GPU it prints why and exits with status 0 (nothing is measured, nothing is
claimed). Run: python bench/bench_gpu.py [--repeats 3] [--samples 60000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def _data(n: int, image: bool):
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1) if image else (n, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


def tidu_epoch(kind: str, x, y):
    import tidu
    from tidu.keras import layers as L

    tidu.manual_seed(0)
    if kind == "mlp":
        model = tidu.Sequential([L.Dense(512, activation="relu", input_shape=(784,)),
                                 L.Dense(10, activation="softmax")])
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    else:
        model = tidu.Sequential([
            L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
            L.Dropout(0.5), L.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.to("cuda")
    model.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)  # warm-up (kernels)
    import cupy

    cupy.cuda.Device().synchronize()
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    cupy.cuda.Device().synchronize()
    return time.perf_counter() - t0


def torch_epoch(kind: str, x, y):
    import torch
    from torch import nn

    torch.manual_seed(0)
    dev = torch.device("cuda")
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).to(dev)
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        xs = torch.from_numpy(x).to(dev)
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Dropout(0.5), nn.Linear(1600, 10)).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xs = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(dev)
    ys = torch.from_numpy(y.argmax(1)).to(dev)
    loss_fn = nn.CrossEntropyLoss()

    def run(n):
        for i in range(0, n, 128):
            opt.zero_grad()
            loss_fn(model(xs[i:i + 128]), ys[i:i + 128]).backward()
            opt.step()

    run(256)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    run(len(x))
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples", type=int, default=60000)
    args = ap.parse_args()
    import tidu

    if not tidu.backend.cuda_available():
        try:
            tidu.backend.devices.library("cuda")
        except tidu.errors.DeviceError as e:
            print(f"bench_gpu: nothing measured: {e}")
        return 0
    import cupy
    import torch

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    print(f"GPU: {name}; CuPy {cupy.__version__}; torch {torch.__version__}; "
          f"tidu {tidu.__version__}")
    print("| workload | tidu s/epoch | torch s/epoch | ratio |\n|---|---|---|---|")
    for kind in ("mlp", "convnet"):
        x, y = _data(args.samples, image=kind == "convnet")
        ts, ps = [], []
        for _ in range(args.repeats):
            ts.append(tidu_epoch(kind, x, y))
            ps.append(torch_epoch(kind, x, y))
        t, p = statistics.median(ts), statistics.median(ps)
        print(f"| {kind} | {t:.3f} | {p:.3f} | {t / p:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
