"""W1's matrix products timed from inside BLAS: the matmul rate they reach within the step.

``bench/matmul_share.py`` estimates the time in the products by sampling stacks with py-spy,
whose pauses slow the sampled epochs (by 17-26% for tidu on the Xeon). This script times the
products themselves instead: ``bench/blas_timer.c``, compiled here with the system C
compiler and preloaded into a child process per contender, sits in front of the CBLAS
entry points NumPy calls in its bundled OpenBLAS and adds up each call's wall time and
FLOPs. Each child trains W1 (Text B's network through tidu's ``fit``, or the hand-written
NumPy loop) on ``--samples`` MNIST samples, one epoch per round, the contenders interleaved
round by round, and measures NumPy's standalone rate at W1's shapes (128x784 @ 784x512)
before and after (the better one is used). Reported per contender: the epoch's wall time,
the seconds inside BLAS, their share, the FLOPs over those seconds (the in-step rate) and its
fraction of the standalone rate: the issue's "at least 75% of the machine's matmul rate on
the step's matrix products". torch is not timed: its products run in MKL inside libtorch.
Linux with a C compiler and NumPy's OpenBLAS wheel only.

Run: python bench/matmul_time.py [--threads 2] [--samples 12800] [--rounds 7]
[--contenders tidu,numpy,products] [--out FILE.md]

``products`` is ``w1.build_products``, the epoch's five products alone (``run.py``'s
``matmul only``): inside BLAS, its time is the machine's own on the step's products, in the
same rounds, so tidu's in-BLAS seconds over it say how much slower the same products run
inside tidu's step.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from matmul_share import _step_mix_rate  # noqa: E402
from workloads import w1_textb as w1  # noqa: E402
from workloads.common import Config, _cpu_name, matmul_rate, mnist, set_threads  # noqa: E402

LOG_SIZE = 65536  # blas_timer.c's ring of calls
KINDS = ("sgemm", "dgemm", "sgemv", "dgemv", "ssyrk", "dsyrk")


def _counters():
    lib = ctypes.CDLL(None)  # the preloaded timer is in the global namespace
    return (ctypes.c_double.in_dll(lib, "tidu_blas_seconds"),
            ctypes.c_double.in_dll(lib, "tidu_blas_flops"),
            ctypes.c_long.in_dll(lib, "tidu_blas_calls"),
            ((ctypes.c_long * 6) * LOG_SIZE).in_dll(lib, "tidu_blas_log"),
            (ctypes.c_double * LOG_SIZE).in_dll(lib, "tidu_blas_log_seconds"))


def _shapes(log, log_s, c0: int, c1: int, acc: dict) -> None:
    """Add calls c0..c1 of the ring to ``acc``: 'kind m x n x k (trans)' -> [calls, s]."""
    for c in range(max(c0, c1 - LOG_SIZE), c1):
        kind, m, n, k, ta, tb = log[c % LOG_SIZE]
        key = f"{KINDS[kind]} {m}x{n}x{k} ({'T' if ta == 112 else 'N'}{'T' if tb == 112 else 'N'})"
        e = acc.setdefault(key, [0, 0.0])
        e[0] += 1
        e[1] += log_s[c % LOG_SIZE]


def child(name: str, samples: int, threads: int) -> None:
    """One contender: answer each line on stdin with one timed epoch (JSON)."""
    set_threads(threads, torch=False)
    secs, flops, calls, log, log_s = _counters()
    shapes: dict = {}
    x, y, _, _, _ = mnist(Config(), n_train=samples, n_test=1)
    epoch = getattr(w1, f"build_{name}")(x[:samples], y[:samples])
    epoch()  # warm-up
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() == "done":
            break
        s0, f0, c0 = secs.value, flops.value, calls.value
        t0 = time.perf_counter()
        epoch()
        wall = time.perf_counter() - t0
        got = {"wall": wall, "blas": secs.value - s0, "flops": flops.value - f0,
               "calls": calls.value - c0}
        _shapes(log, log_s, c0, calls.value, shapes)
        # the references right after the epoch, so that the machine's speed is the same
        got["w1"] = matmul_rate(128, 784, 512, reps=20, rounds=3)
        got["mix"] = _step_mix_rate(reps=10, rounds=3)
        print(json.dumps(got), flush=True)
    print(json.dumps({"shapes": shapes}), flush=True)


def _openblas() -> str:
    import numpy  # noqa: F401  (loads the library)
    from threadpoolctl import threadpool_info

    paths = [i["filepath"] for i in threadpool_info() if i.get("internal_api") == "openblas"]
    if not paths:
        sys.exit("matmul_time: NumPy's BLAS is not OpenBLAS here; nothing to interpose")
    return paths[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--contenders", default="tidu,numpy")
    ap.add_argument("--out")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.samples, args.threads)
        return
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        sys.exit("matmul_time: needs a C compiler (cc) to build bench/blas_timer.c")
    tmp = tempfile.mkdtemp(prefix="blas_timer_")
    lib = os.path.join(tmp, "libblas_timer.so")
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", lib,
                    os.path.join(HERE, "blas_timer.c"), "-ldl"], check=True)
    env = {**os.environ, "LD_PRELOAD": lib, "TIDU_BLAS_LIB": _openblas()}
    names = args.contenders.split(",")
    kids = {}
    for n in names:
        kids[n] = subprocess.Popen(
            [sys.executable, __file__, "--child", n, "--threads", str(args.threads),
             "--samples", str(args.samples)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env)
        json.loads(kids[n].stdout.readline())
    rows = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            kids[n].stdin.write("go\n")
            kids[n].stdin.flush()
            rows[n].append(json.loads(kids[n].stdout.readline()))
    shapes = {}
    for n, k in kids.items():
        k.stdin.write("done\n")
        k.stdin.flush()
        shapes[n] = json.loads(k.stdout.readline())["shapes"]
        k.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    head = (f"# W1's matrix products timed inside BLAS ({args.samples} samples, "
            f"{args.threads} threads, {args.rounds} interleaved epochs)\n\n"
            f"Machine: {_cpu_name()}, {os.cpu_count()} cores; "
            f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. After each epoch the "
            "same process measures NumPy's standalone rate at W1's shapes (128x784 @ "
            "784x512) and on one step's five products back to back; each epoch's in-step "
            "rate is divided by the references measured right after it, and the table gives "
            "the medians.\n\n")
    table = ["| contender | epoch s | in BLAS s | share % | BLAS calls / epoch | "
             "in-step GFLOP/s | standalone W1 shapes | % of it | five products | % of it |"
             " % of products' in-BLAS rate, paired |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    med = statistics.median
    bare = ([x["flops"] / x["blas"] for x in rows["products"]] if "products" in rows
            else None)
    for n in names:
        e = rows[n]
        rates = [x["flops"] / x["blas"] / 1e9 for x in e]
        vs_bare = "" if bare is None else \
            f"{med(100 * r * 1e9 / b for r, b in zip(rates, bare)):.0f}%"
        table.append(
            f"| {n} | {med(x['wall'] for x in e):.3f} | {med(x['blas'] for x in e):.3f} | "
            f"{med(100 * x['blas'] / x['wall'] for x in e):.1f} | {e[0]['calls']} | "
            f"{med(rates):.1f} | {med(x['w1'] for x in e):.1f} | "
            f"**{med(100 * r / x['w1'] for r, x in zip(rates, e)):.0f}%** | "
            f"{med(x['mix'] for x in e):.1f} | "
            f"{med(100 * r / x['mix'] for r, x in zip(rates, e)):.0f}% | {vs_bare} |")
    keys = sorted({k for v in shapes.values() for k in v},
                  key=lambda k: -max(v.get(k, [0, 0])[1] for v in shapes.values()))
    table += ["", "Per product (row-major m x n x k as NumPy hands them to CBLAS, transposes): "
              "calls over all epochs and the mean time of one call.", "",
              "| product | " + " | ".join(f"{n} calls | {n} us/call" for n in names) + " |",
              "|---|" + "---:|---:|" * len(names)]
    for k in keys:
        cells = []
        for n in names:
            c, t = shapes[n].get(k, [0, 0.0])
            cells += [str(c), f"{1e6 * t / c:.1f}" if c else ""]
        table.append(f"| {k} | " + " | ".join(cells) + " |")
    cmd = "python bench/matmul_time.py " + " ".join(sys.argv[1:])
    text = head + "\n".join(table) + f"\n\nCommand: `{cmd.strip()}`\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
