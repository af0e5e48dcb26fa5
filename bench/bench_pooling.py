"""max_pool2d 2x2 forward + backward at the Keras MNIST convnet's shapes (batch 128,
channels_last), tidu against torch eager, interleaved; medians of repeated runs. Then, for
scale, avg_pool2d 2x2 and 2x upsampling (nearest, bilinear) at (128, 14, 14, 64).

    python bench/bench_pooling.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF

import tidu
import tidu.nn.functional as F

SHAPES = [(128, 26, 26, 32), (128, 11, 11, 64)]
REPEATS = 7


def run_tidu(x, g, data_format):
    t = tidu.tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2, data_format=data_format)
    y.backward(g)
    return t.grad


def run_torch(x, g, channels_last):
    t = torch.from_numpy(x)
    if channels_last:  # torch's own channels_last memory format, same logical NCHW
        t = t.permute(0, 3, 1, 2)
    t.requires_grad_(True)
    y = TF.max_pool2d(t, 2)
    y.backward(torch.from_numpy(g).permute(0, 3, 1, 2) if channels_last else torch.from_numpy(g))
    return t.grad


def _interleaved(ours, theirs) -> tuple:
    a, b = [], []
    for _ in range(REPEATS):  # interleaved, so both see the same machine load
        t0 = time.perf_counter()
        ours()
        t1 = time.perf_counter()
        theirs()
        t2 = time.perf_counter()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return statistics.median(a), statistics.median(b)


def _others(rng) -> None:
    x = rng.standard_normal((128, 14, 14, 64)).astype(np.float32)

    def ours(fn):
        t = tidu.tensor(x, requires_grad=True)
        y = fn(t)
        y.backward(np.ones(y.shape, np.float32))

    def theirs(fn):
        t = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_(True)
        y = fn(t)
        y.backward(torch.ones_like(y))

    rows = {
        "avg_pool2d 2x2": (lambda t: F.avg_pool2d(t, 2, data_format="channels_last"),
                           lambda t: TF.avg_pool2d(t, 2)),
        "upsample nearest x2": (
            lambda t: F.interpolate(t, scale_factor=2, data_format="channels_last"),
            lambda t: TF.interpolate(t, scale_factor=2)),
        "upsample bilinear x2": (
            lambda t: F.interpolate(t, scale_factor=2, mode="bilinear",
                                    data_format="channels_last"),
            lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear")),
    }
    for name, (f, g) in rows.items():
        a, b = _interleaved(lambda f=f: ours(f), lambda g=g: theirs(g))
        print(f"{name:21s} (128, 14, 14, 64)  tidu {a * 1e3:7.2f} ms  torch {b * 1e3:7.2f} ms"
              f"  ratio {a / b:5.2f}")


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        n, h, w, c = shape
        out = (n, h // 2, w // 2, c)
        for fmt in ("channels_last", "channels_first"):
            x = rng.standard_normal(shape).astype(np.float32)
            g = rng.standard_normal(out).astype(np.float32)
            if fmt == "channels_first":
                x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
                g = np.ascontiguousarray(g.transpose(0, 3, 1, 2))
            a, b = _interleaved(lambda x=x, g=g, fmt=fmt: run_tidu(x, g, fmt),
                                lambda x=x, g=g, fmt=fmt: run_torch(x, g,
                                                                    fmt == "channels_last"))
            print(f"{fmt:14s} {str(shape):18s} tidu {a * 1e3:7.2f} ms  torch {b * 1e3:7.2f} ms"
                  f"  ratio {a / b:5.2f}")
    _others(rng)


if __name__ == "__main__":
    main()
