"""Keras's simple MNIST convnet: one epoch of 60,000 images, tidu against PyTorch eager.

Both train the same network (Conv2D 32 3x3 relu, max pool 2, Conv2D 64 3x3 relu, max pool 2,
Flatten, Dropout 0.5, Dense 10 softmax; 34,826 parameters) with Adam (lr 1e-3), batch 128,
float32: tidu through ``model.fit`` in Keras's channels-last layout, PyTorch through its usual
eager loop (NCHW, ``CrossEntropyLoss`` on logits). The epochs are interleaved in one process,
each framework's median over ``--repeats`` epochs is reported with the ratio tidu / PyTorch,
the GFLOP/s each reaches (the step's multiply-adds counted analytically) against the
machine's float32 matmul rate, and each one's peak memory (resident set size, measured in a
separate process per framework, VmHWM from /proc).

``--threads`` limits both frameworks (NumPy's BLAS through threadpoolctl, and
``torch.set_num_threads``); ``--cpu-time`` times with the process's CPU time instead of wall
time (for a busy machine: meaningful with ``--threads 1``).

Run: python bench/bench_cnn.py [--repeats 3] [--images 60000] [--threads 2] [--cpu-time]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH = 128


def step_flops() -> float:
    """Multiply-adds x 2 of one image's forward + backward (convolutions and the Dense)."""
    conv1 = 26 * 26 * 32 * 3 * 3 * 1
    conv2 = 11 * 11 * 64 * 3 * 3 * 32
    dense = 1600 * 10
    # forward; backward: weight gradients of all three, input gradients of conv2 and dense
    return 2.0 * (conv1 + conv2 + dense) + 2.0 * (conv1 + 2 * conv2 + 2 * dense)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


CLOCK = time.perf_counter
"""The clock epochs are timed with (``--cpu-time`` makes it ``time.process_time``)."""


def _timed(fn) -> float:
    t0 = CLOCK()
    fn()
    return CLOCK() - t0


def data(n: int):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, n)
    return x, y


# ----- tidu -----
def tidu_setup(x, y):
    import tidu  # noqa: F401
    from tidu import keras
    from tidu.keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])

    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    return epoch


# ----- PyTorch eager -----
def torch_setup(x, y, threads: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)

    def epoch():
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return epoch


def peak_memory(framework: str, images: int, threads: int) -> float:
    """MiB of peak resident memory of a fresh process that trains one epoch."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            f"import bench_cnn as b; x, y = b.data({images}); "
            f"f = b.tidu_setup(x, y) if {framework!r} == 'tidu' else "
            f"b.torch_setup(x, y, {threads}); f(); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    # VmHWM, the process's own high-water mark (ru_maxrss can start from the parent's RSS
    # at fork, which made every framework read the same)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return int(out.split()[-2]) / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--images", type=int, default=60000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process's CPU time (a busy machine; use --threads 1)")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    import threadpoolctl
    import torch

    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    threadpoolctl.threadpool_limits(args.threads)

    x, y = data(args.images)
    runs = {"tidu": tidu_setup(x, y), "torch": torch_setup(x, y, args.threads)}
    times = {k: [] for k in runs}
    for _ in range(args.repeats):
        for k, f in runs.items():
            times[k].append(_timed(f))
    gf = matmul_gflops()
    flops = step_flops() * args.images
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"numpy {np.__version__}, torch {torch.__version__} ({args.threads} threads, "
          f"{'CPU' if args.cpu_time else 'wall'} time); load {os.getloadavg()[0]:.2f}")
    print(f"float32 matmul (2048^2): {gf:.1f} GFLOP/s")
    print(f"simple MNIST convnet, one epoch of {args.images} images, batch {BATCH}, "
          f"median of {args.repeats}:")
    result = {"matmul_gflops": gf, "images": args.images, "repeats": args.repeats}
    for k in runs:
        rate = flops / med[k] / 1e9
        line = (f"  {k:6s} {med[k]:7.2f} s/epoch  ratio to torch {med[k] / med['torch']:.2f}  "
                f"{rate:5.1f} GFLOP/s ({rate / gf:.0%} of matmul)")
        result[k] = {"seconds": med[k], "all": times[k], "gflops": rate}
        if not args.no_memory:
            mem = peak_memory(k, args.images, args.threads)
            result[k]["peak_mib"] = mem
            line += f"  peak RSS {mem:.0f} MiB"
        print(line)
    if not args.no_memory:
        print(f"  memory ratio tidu / torch: "
              f"{result['tidu']['peak_mib'] / result['torch']['peak_mib']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
