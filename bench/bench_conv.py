"""Conv2d forward + backward, tidu against PyTorch eager (CPU), interleaved in one process.

For each shape: the median of ``--repeat`` runs of (forward, sum-weighted backward) for tidu
(channels-last data and Keras kernel, the path the Keras layers take, and channels-first, the
PyTorch layout) and for ``torch.nn.functional.conv2d`` (NCHW); the ratio tidu / torch; and
GFLOP/s (2 * N * out pixels * O * kh * kw * C / groups per product; three products when the
input needs a gradient, two when not) against the machine's float32 matmul rate, measured
here on 2048 x 2048 @ 2048 x 2048.

With ``--memory``, each library also runs one forward + backward per shape in a child
process of its own, which reports its peak resident memory above what it held just before
(``/proc/self/statm`` sampled by a thread): tidu's peak over torch's.

Run: ``python bench/bench_conv.py [--repeat 7] [--memory]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import numpy as np
import torch

import tidu
from tidu.ops import convolution as C

# name, N, H, W, C, O, k, stride, padding, groups, input needs grad
SHAPES = [
    ("mnist conv1 28x28x1->32", 128, 28, 28, 1, 32, 3, 1, "valid", 1, False),
    ("mnist conv2 13x13x32->64", 128, 13, 13, 32, 64, 3, 1, "valid", 1, True),
    ("3x3 64->64 32x32 same", 32, 32, 32, 64, 64, 3, 1, "same", 1, True),
    ("depthwise 3x3 64ch 32x32", 32, 32, 32, 64, 64, 3, 1, "same", 64, True),
    ("3x3 s2 32->64 32x32 same", 32, 32, 32, 32, 64, 3, 2, "same", 1, True),
]


def _median_time(fn, repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def matmul_gflops(repeat: int) -> float:
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    t = _median_time(lambda: a @ a, repeat)
    return 2 * 2048**3 / t / 1e9


def _setup(shape):
    name, n, h, w, c, o, k, s, pad, g, xgrad = shape
    rng = np.random.default_rng(0)
    x_nhwc = rng.standard_normal((n, h, w, c)).astype(np.float32)
    x_nchw = np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))
    kernel = (rng.standard_normal((k, k, c // g, o)) * 0.1).astype(np.float32)  # Keras layout
    weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))  # PyTorch layout
    bias = np.zeros(o, np.float32)
    tpad = pad if (s == 1 or pad == "valid") else 1  # torch 'same' needs stride 1
    return x_nhwc, x_nchw, kernel, weight, bias, tpad


def _runners(shape):
    """The three steps: tidu channels-last (Keras kernel), tidu channels-first, torch."""
    name, n, h, w, c, o, k, s, pad, g, xgrad = shape
    x_nhwc, x_nchw, kernel, weight, bias, tpad = _setup(shape)

    def run_tidu(x0, w0, data_format, keras):
        x = tidu.tensor(x0, requires_grad=xgrad)
        wt, bt = tidu.tensor(w0, requires_grad=True), tidu.tensor(bias, requires_grad=True)
        cfg = C._config("conv2d", 2, s, pad, 1, g, data_format, keras)
        y = C.Conv.apply(x, wt, bt, cfg=cfg)
        y.backward(np.ones(y.shape, np.float32))

    def run_torch():
        x = torch.from_numpy(x_nchw).requires_grad_(xgrad)
        wt = torch.from_numpy(weight).requires_grad_(True)
        bt = torch.from_numpy(bias).requires_grad_(True)
        y = torch.nn.functional.conv2d(x, wt, bt, s, tpad, 1, g)
        y.backward(torch.ones_like(y))

    return {"tidu NHWC": lambda: run_tidu(x_nhwc, kernel, "channels_last", True),
            "tidu NCHW": lambda: run_tidu(x_nchw, weight, "channels_first", False),
            "torch": run_torch}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(index: int, key: str) -> None:
    """Peak resident memory (MB) of one step above the memory held just before it, sampled
    every 0.2 ms by a thread (ru_maxrss would keep the peaks of the imports)."""
    fn = _runners(SHAPES[index])[key]
    fn()  # warm up (lazy imports, allocator pools)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.0002)

    before = _rss_mb()
    watcher = threading.Thread(target=sample)
    watcher.start()
    fn()
    done.set()
    watcher.join()
    print(peak[0] - before)


def peak_mb(index: int, key: str) -> float:
    # large blocks from mmap go back to the system when freed: the resident size is live data
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}
    out = subprocess.run([sys.executable, __file__, "--child", str(index), key],
                         capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.split()[-1])


def bench(shape, repeat: int) -> dict:
    name, n, h, w, c, o, k, s, pad, g, xgrad = shape
    fns = _runners(shape)
    rounds = {key: [] for key in fns}
    for fn in fns.values():
        fn()
    for _ in range(repeat):  # interleaved: each round runs all three
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            rounds[key].append(time.perf_counter() - t0)
    med = {key: float(np.median(v)) for key, v in rounds.items()}
    oh = -(-h // s) if pad == "same" else (h - k) // s + 1
    flops = 2 * n * oh * oh * o * k * k * (c // g) * (3 if xgrad else 2)
    return {"name": name, **med, "gflops": flops / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--memory", action="store_true", help="also peak memory, per process")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(int(args.child[0]), args.child[1])
        return
    mm = matmul_gflops(args.repeat)
    print(f"torch threads: {torch.get_num_threads()}; float32 matmul 2048^3: {mm:.1f} GFLOP/s")
    head = (f"{'shape':28s} {'torch ms':>9s} {'NHWC ms':>9s} {'ratio':>6s} {'NCHW ms':>9s} "
            f"{'ratio':>6s} {'NHWC GFLOP/s':>13s} {'% matmul':>8s}")
    print(head)
    for shape in SHAPES:
        r = bench(shape, args.repeat)
        t, a, b = r["torch"], r["tidu NHWC"], r["tidu NCHW"]
        rate = r["gflops"] / a
        print(f"{r['name']:28s} {t * 1e3:9.2f} {a * 1e3:9.2f} {a / t:6.2f} {b * 1e3:9.2f} "
              f"{b / t:6.2f} {rate:13.1f} {100 * rate / mm:7.0f}%")
    if args.memory:
        print(f"\n{'peak MB above the inputs':28s} {'torch':>9s} {'NHWC':>9s} {'ratio':>6s}")
        for i, shape in enumerate(SHAPES):
            t, a = peak_mb(i, "torch"), peak_mb(i, "tidu NHWC")
            print(f"{shape[0]:28s} {t:9.1f} {a:9.1f} {a / max(t, 1e-9):6.2f}")


if __name__ == "__main__":
    main()
