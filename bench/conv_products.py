"""W6's convolution products, NumPy's BLAS against torch's, interleaved in one process.

tidu's convolutions are im2col plus one BLAS product each way (forward, kernel gradient,
input gradient), and the BLAS is the one NumPy ships (OpenBLAS in the pip wheels). torch's
CPU convolutions run in oneDNN and its products in MKL. This script separates the two
causes of W6's gap: it times the very products tidu makes for the MNIST convnet's layers
(the shapes of a batch of 128), once through ``numpy.matmul`` and once through
``torch.matmul`` on the same memory, and the whole layer (forward, and backward with the
rectifier) through tidu's kernels and through ``torch.nn.functional.conv2d``, the two
alternating round by round with a pause between (see ``PAUSE``). Reported: milliseconds
(see :func:`_paired`), GFLOP/s, and NumPy over torch; the machine's rate at 1024^3 first.

Run: python bench/conv_products.py [--threads 2] [--rounds 9] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import threadpoolctl
import torch
import torch.nn.functional as F
from bench_conv import _median_time  # the script's folder, bench/, is on the path

from tidu.ops import _conv_kernels as K

BATCH = 128
# name, (H, W, C), O: the two layers of Keras's simple MNIST convnet (3x3, 'valid')
LAYERS = [("conv1", (28, 28, 1), 32), ("conv2", (13, 13, 32), 64)]
BLOCK = 5
"""Timed calls per contender per round, after one untimed call."""
PAUSE = 0.3
"""Seconds of sleep before each contender's calls: OpenBLAS's idle workers and torch's
OpenMP workers both spin for a while after their last task, and on two cores the spinning
pool of one library halves the other's speed (torch's conv2 forward measured 3.2 ms alone
and 9.2 ms right after NumPy's products)."""


def _paired(fn_a, fn_b, rounds: int) -> tuple:
    """The medians over ``rounds`` of each round's median of ``BLOCK`` calls, a then b."""
    a_times, b_times = [], []
    for _ in range(rounds):
        time.sleep(PAUSE)
        a_times.append(1e3 * _median_time(fn_a, BLOCK))
        time.sleep(PAUSE)
        b_times.append(1e3 * _median_time(fn_b, BLOCK))
    return statistics.median(a_times), statistics.median(b_times)


def _products(hw, c, o, rng):
    """The three products of one layer, as (name, a, b) with a @ b their product."""
    h, w = hw
    m = BATCH * (h - 2) * (w - 2)
    cols = rng.random((m, 9 * c), dtype=np.float32)
    wm = rng.random((9 * c, o), dtype=np.float32)
    g = rng.random((m, o), dtype=np.float32)
    out = [("forward cols @ W", cols, wm), ("kernel grad cols^T @ g", cols.T, g)]
    if c > 1:  # the first layer's input needs no gradient
        out.append(("input grad g @ W^T", g, wm.T))
    return out


def _layer_runs(hw, c, o, rng):
    """tidu's kernels and torch's conv2d on one layer: forward, and forward + backward."""
    h, w = hw
    x = rng.random((BATCH, h, w, c), dtype=np.float32)
    k = rng.standard_normal((3, 3, c, o)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    geo = K.geometry("conv", (h, w), (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    gy = rng.random((BATCH, h - 2, w - 2, o), dtype=np.float32)
    needs = (c > 1, True, True)

    def tidu_fwd():
        return K.conv_forward(x, k, b, geo)

    def tidu_both():
        y = K.conv_forward(x, k, b, geo)
        np.maximum(y, 0, out=y)
        K.conv_grads(x, gy, k, geo, needs, relu=y)

    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    xt.requires_grad_(c > 1)
    kt = torch.from_numpy(np.ascontiguousarray(k.transpose(3, 2, 0, 1))).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    gt = torch.from_numpy(np.ascontiguousarray(gy.transpose(0, 3, 1, 2)))
    wrt = (xt, kt, bt) if c > 1 else (kt, bt)

    def torch_fwd():
        with torch.no_grad():
            return F.conv2d(xt, kt, bt)

    def torch_both():
        torch.autograd.grad(F.relu(F.conv2d(xt, kt, bt)), wrt, gt)

    flops = 2.0 * BATCH * (h - 2) * (w - 2) * o * 9 * c
    return [("forward", tidu_fwd, torch_fwd, flops),
            ("forward + backward", tidu_both, torch_both, flops * (2 + needs[0]))]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--out", help="also write the table to this markdown file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    lines = []
    with threadpoolctl.threadpool_limits(args.threads, user_api="blas"):
        a = rng.random((1024, 1024), dtype=np.float32)
        ta = torch.from_numpy(a)
        ms_np, ms_t = _paired(lambda: a @ a, lambda: ta @ ta, 3)
        rate_np, rate_t = 2 * 1024 ** 3 / ms_np / 1e6, 2 * 1024 ** 3 / ms_t / 1e6
        lines += [f"{platform.processor() or platform.machine()}, {args.threads} threads, "
                  f"NumPy {np.__version__}, torch {torch.__version__}, "
                  f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
                  f"1024^3 float32: NumPy {rate_np:.0f} GFLOP/s, torch {rate_t:.0f} GFLOP/s",
                  "", "| layer | what | shape | NumPy ms | torch ms | NumPy GFLOP/s | "
                  "torch GFLOP/s | NumPy / torch |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for name, hw, o in LAYERS:
            c = hw[2]
            for what, x, y in _products(hw[:2], c, o, rng):
                tx, ty = torch.from_numpy(x), torch.from_numpy(y)  # the same memory
                out = np.empty((x.shape[0], y.shape[1]), np.float32)
                tout = torch.from_numpy(out)
                n_ms, t_ms = _paired(lambda x=x, y=y, out=out: np.matmul(x, y, out=out),
                                     lambda x=tx, y=ty, out=tout: torch.matmul(x, y, out=out),
                                     args.rounds)
                gf = 2.0 * x.shape[0] * x.shape[1] * y.shape[1] / 1e6
                lines.append(f"| {name} | product: {what} | {x.shape[0]}x{x.shape[1]} @ "
                             f"{y.shape[0]}x{y.shape[1]} | {n_ms:.2f} | {t_ms:.2f} | "
                             f"{gf / n_ms:.0f} | {gf / t_ms:.0f} | {n_ms / t_ms:.2f} |")
            for what, fn_tidu, fn_torch, flops in _layer_runs(hw[:2], c, o, rng):
                a_ms, b_ms = _paired(fn_tidu, fn_torch, args.rounds)
                lines.append(f"| {name} | layer {what}: tidu / torch conv2d | | {a_ms:.2f} | "
                             f"{b_ms:.2f} | {flops / 1e6 / a_ms:.0f} | {flops / 1e6 / b_ms:.0f}"
                             f" | {a_ms / b_ms:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
