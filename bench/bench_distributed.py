"""Data-parallel scaling on this machine: 1 rank x 2 threads against 2 ranks x 1 thread.

The Text B network (784-512 relu-10 softmax, categorical cross-entropy, RMSprop, global
batch 128, float32) trained by ``tidu.distributed.fit`` on synthetic MNIST-shaped data.
Each configuration runs under ``mpirun`` with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set in
the launched processes. Reported per configuration:

- seconds per 60,000-sample epoch (469 steps): the median step of epochs 2.. (``--steps``
  steps each; epoch 1 warms up) times 469, and the mean-based figure beside it (the machine
  may be shared: the median resists other programs' bursts);
- communication time per step: the gradient reduction (pack, Allreduce, unpack) and the
  gather of the slices' losses and predictions, as seen by rank 0;
- the bytes one rank hands to Allreduce per step, and an Allreduce-only microbenchmark of
  that buffer (the link's time and effective bandwidth, for docs/distributed.md's plan);
- with ``overlap=True`` (reductions started from gradient hooks during backward) too.

Run: python bench/bench_distributed.py [--steps 60] [--json bench/results/distributed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

STEPS_PER_EPOCH = 469  # 60,000 / 128, rounded up
BATCH = 128


def worker(args) -> None:
    """One rank: train, time, print one JSON line from rank 0."""
    import tidu
    import tidu.distributed as dist
    from tidu.callbacks import Callback
    from tidu.distributed import training as dfit
    from tidu.nn import Dense

    dist.init()
    rng = np.random.default_rng(0)
    n = BATCH * args.steps
    x = rng.random((n, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(512, activation="relu", input_shape=(784,)),
                             Dense(10, activation="softmax")])
    # overlap: 256 KB buckets, so that the output layer's gradients (ready first) can travel
    # while backward computes the first layer's
    opt = dist.DistributedOptimizer("rmsprop", overlap=args.overlap,
                                    bucket_bytes=256 * 1024 if args.overlap else
                                    dist.DEFAULT_BUCKET_BYTES)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])

    gather = {"s": 0.0}
    plain_gather = dfit._gather

    def timed_gather(*a):
        t0 = time.perf_counter()
        out = plain_gather(*a)
        gather["s"] += time.perf_counter() - t0
        return out

    dfit._gather = timed_gather
    steps: list = []  # (seconds, reduction seconds, gather seconds, CPU seconds) of each step

    class Clock(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            dist.barrier()

        def on_train_batch_begin(self, batch, logs=None):
            self.t0, self.c0, self.g0 = time.perf_counter(), opt.comm_seconds, gather["s"]
            self.p0 = time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            if model.fit_state.epoch > 0:  # epoch 0 warms up
                steps.append((time.perf_counter() - self.t0, opt.comm_seconds - self.c0,
                              gather["s"] - self.g0, time.process_time() - self.p0))

    dist.fit(model, x, y, batch_size=BATCH, epochs=args.epochs, verbose=0, seed=0,
             callbacks=[Clock()])
    per_step = np.array(steps)
    median = np.median(per_step, axis=0)
    mean = per_step.mean(axis=0)
    nbytes = dist.bytes_per_step(model.parameters())
    # Allreduce alone on a buffer of that size (what the network has to carry)
    buf = np.ones(nbytes // 4, np.float32)
    c = dist.comm()
    times = []
    for _ in range(args.micro):
        c.Barrier()
        t0 = time.perf_counter()
        c.Allreduce(dist._comm.in_place(), buf, op=dist._comm.sum_op())
        times.append(time.perf_counter() - t0)
    sizes = {}
    if dist.is_root() and dist.size() == 1:  # the cost of a plain step against its batch
        sizes = {b: plain_step_cpu(b, args.micro) for b in (32, 64, 128, 256, 512)}
    if dist.is_root():
        allreduce = statistics.median(times)
        print(json.dumps({
            "ranks": dist.size(), "threads": int(os.environ.get("OMP_NUM_THREADS", "0")),
            "overlap": args.overlap, "steps_timed": len(steps),
            "seconds_per_step": float(median[0]),
            "seconds_per_epoch": float(median[0]) * STEPS_PER_EPOCH,
            "seconds_per_epoch_mean": float(mean[0]) * STEPS_PER_EPOCH,
            "grad_comm_ms_per_step": 1e3 * float(median[1]),
            "gather_ms_per_step": 1e3 * float(median[2]),
            "bytes_per_step": nbytes, "allreduce_ms": 1e3 * allreduce,
            "allreduce_GBps": nbytes / allreduce / 1e9 if allreduce > 0 else None,
            "cpu_ms_per_step": 1e3 * float(median[3]),
            "plain_step_cpu_ms": {str(b): 1e3 * t for b, t in sizes.items()},
        }), flush=True)


def plain_step_cpu(batch: int, repeats: int) -> float:
    """Least CPU seconds of one plain (one-process) ``train_step`` of Text B at ``batch``
    (the least, not the median: other programs on the machine only ever add time)."""
    import tidu
    from tidu.nn import Dense

    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(512, activation="relu", input_shape=(784,)),
                             Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.random((batch, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    model.train_step(x, y)
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        model.train_step(x, y)
        times.append(time.process_time() - t0)
    return min(times)


def launch(ranks: int, threads: int, args, overlap: bool) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OMPI_ALLOW_RUN_AS_ROOT": "1",
           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
           # a rank waiting in a collective yields its core instead of spinning on it
           "OMPI_MCA_mpi_yield_when_idle": "1"}
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none", sys.executable,
           os.path.abspath(__file__), "--worker", "--steps", str(args.steps),
           "--micro", str(args.micro), "--epochs", str(args.epochs)]
    if overlap:
        cmd.append("--overlap")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


LINKS = {"10GbE": (1.1e9, 30e-6), "1GbE": (0.11e9, 50e-6)}
"""ASSUMED achievable bandwidth (bytes/s) and per-message latency (s) of two Ethernet links."""


def expected_scaling(nbytes: int, fixed: float, per_sample: float, batch: int,
                     ranks=(1, 2, 4, 8, 16)) -> list[dict]:
    """Ring-Allreduce model: a step of global ``batch`` on ``N`` ranks costs
    ``fixed + per_sample * batch / N`` of compute (the optimizer's update of every parameter
    and the per-step overheads do not shrink with the slice) plus
    ``2 (N-1)/N x bytes / bw + 2 (N-1) a`` of communication (not overlapped)."""
    out = []
    t1 = fixed + per_sample * batch
    for link, (bw, lat) in LINKS.items():
        for n in ranks:
            comm = 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * lat if n > 1 else 0.0
            compute = fixed + per_sample * batch / n
            step = compute + comm
            out.append({"link": link, "batch": batch, "N": n, "compute_ms": 1e3 * compute,
                        "comm_ms": 1e3 * comm,
                        "step_ms": 1e3 * step, "speedup": t1 / step,
                        "efficiency": t1 / step / n})
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=60, help="steps timed per configuration")
    ap.add_argument("--epochs", type=int, default=3, help="epochs (the first warms up)")
    ap.add_argument("--micro", type=int, default=50, help="Allreduce-only repetitions")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--overlap", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    if shutil.which("mpirun") is None:
        sys.exit("bench_distributed: mpirun (Open MPI) is not installed")
    rows = [launch(1, 2, args, False), launch(2, 1, args, False), launch(2, 1, args, True),
            launch(1, 1, args, False)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Text B network, global batch {BATCH}, {args.steps} steps x {args.epochs - 1} "
          f"epochs timed, {os.cpu_count()} CPUs, load average {load:.1f} at the end")
    print(f"{'config':<26}{'s/epoch':>9}{'(mean)':>8}{'ms/step':>9}{'CPU ms':>8}"
          f"{'grad comm ms':>14}"
          f"{'gather ms':>11}{'MB/step':>9}{'Allreduce ms':>14}{'GB/s':>8}")
    for r in rows:
        name = f"{r['ranks']} rank x {r['threads']} thread" + (" overlap" if r["overlap"] else "")
        gbps = r["allreduce_GBps"]
        print(f"{name:<26}{r['seconds_per_epoch']:>9.2f}{r['seconds_per_epoch_mean']:>8.2f}"
              f"{1e3 * r['seconds_per_step']:>9.2f}{r['cpu_ms_per_step']:>8.2f}"
              f"{r['grad_comm_ms_per_step']:>14.3f}{r['gather_ms_per_step']:>11.3f}"
              f"{r['bytes_per_step'] / 1e6:>9.3f}{r['allreduce_ms']:>14.3f}"
              f"{gbps if gbps is not None else float('nan'):>8.1f}")
    one = rows[-1]  # 1 rank x 1 thread: the plain step's CPU time at 32 to 512 rows
    cpu = {int(b): t / 1e3 for b, t in one["plain_step_cpu_ms"].items()}
    slope, fixed = np.polyfit(list(cpu), list(cpu.values()), 1)  # t(b) = fixed + slope * b
    fixed = max(float(fixed), 0.0)
    print("\nplain step CPU time on one thread: " + ", ".join(
        f"batch {b}: {1e3 * t:.2f} ms" for b, t in sorted(cpu.items())) +
        f"; fit t(b) = {1e3 * fixed:.2f} ms + b x {1e6 * slope:.1f} us")
    table = [row for b in (BATCH, 8 * BATCH)
             for row in expected_scaling(one["bytes_per_step"], fixed, float(slope), b)]
    print("expected on several machines (computed from the measured bytes and step costs, "
          "ASSUMED links):")
    print(f"{'link':<8}{'batch':>6}{'N':>4}{'compute ms':>12}{'comm ms':>10}{'step ms':>10}"
          f"{'speed-up':>10}{'efficiency':>12}")
    for t in table:
        print(f"{t['link']:<8}{t['batch']:>6}{t['N']:>4}{t['compute_ms']:>12.2f}{t['comm_ms']:>10.2f}"
              f"{t['step_ms']:>10.2f}{t['speedup']:>10.2f}{t['efficiency']:>12.0%}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"runs": rows, "expected": table, "load_average": load,
                       "fixed_ms": 1e3 * fixed, "per_sample_us": 1e6 * float(slope)}, f,
                      indent=2)


if __name__ == "__main__":
    main()
