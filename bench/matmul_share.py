"""How fast W1's matrix products run inside the training step, per contender, against the
machine's float32 matmul rate (issue 17: "W1 through model.fit: at least 75% of the
machine's matmul rate on the step's matrix products").

Method
------
1. The machine's rate (measured before and after the contenders, the better of the two, as
   other load only slows it): a standalone NumPy float32 product timed at W1's forward shape
   (128x784 @ 784x512, ``workloads.common.matmul_rate``, as ``run.py`` does) and at 1024^3;
   also the five products of one W1 step run back to back as the step runs them (x @ W1,
   h @ W2, dz @ W2.T, h.T @ dz, x.T @ dh, transposes as views), and torch's own
   ``torch.mm`` at the forward shape (torch brings its own BLAS, MKL).
2. Each contender (``w1_textb.build_tidu`` / ``build_numpy`` / ``build_torch``) runs in a
   child process of its own (``--child NAME``, BLAS and torch threads set to ``--threads``
   with ``set_threads`` and OMP/MKL/OPENBLAS_NUM_THREADS): build, one warm-up epoch,
   ``--repeat`` unsampled epochs (their median wall time is the "epoch s" column), then it
   waits on its standard input. The parent attaches ``py-spy record --pid PID --native
   --idle --threads --rate R --format raw`` to it and lets it run whole epochs for
   ``--seconds`` inside ``_sampled_epochs``. Only the samples whose stack contains that frame
   are counted: the warm-up, the data, the imports, the wait and the exit are left out.
3. A sample is "in matmul" when one of its native (non-Python) frames matches ``GEMM``:
   "gemm" (OpenBLAS ``sgemm_kernel_*``, ``sgemm_*copy_*``, ``scipy_cblas_sgemm64_``, any
   ``dgemm``; MKL ``mkl_blas_*sgemm*``; oneDNN ``brgemm``), "mkl_blas", "dnnl", or OpenBLAS's
   threading driver ``exec_blas`` / ``inner_thread`` (with 2 threads the unwinder often loses
   the ``sgemm_`` frame above them; NumPy makes no other BLAS call in W1). The frames
   matched are printed with their sample counts, so a reader can check them. share =
   in-matmul samples / samples; time in matmul = share x the mean sampled epoch time (share
   and time then come from the same epochs, under the same load); in-step matmul rate =
   ``w1.step_flops(n)`` / time in matmul; whole-epoch rate = the same FLOPs / the median
   unsampled epoch time. The in-step rate on the unsampled epoch time is shown too.

Limits
------
* Sampling error: the share is a binomial proportion of N samples, standard error
  sqrt(p (1 - p) / N); N and that error are reported.
* The sampler perturbs what it measures. With ``--native`` py-spy stops the process for
  each sample (1-2.5 ms here, longer on deep tidu stacks with frames that have no unwind
  information), and when that pause is not small against the sampling interval, states that
  are slow to unwind get sampled again before the process has moved on: they are
  over-counted. Measured here (1 thread, 12,800 samples, share +- 1 s.e.): tidu 63-65%
  (+-1.5, two runs) at 25 Hz, 70 +- 4 at 50, 63 +- 2.5 at 100, 60 +- 1.5 at 200, 49 +- 0.7
  at 400 and 43 +- 0.8 at 1000 Hz (in-step rates far above the standalone rate:
  impossible), while NumPy's (62-70%) and torch's (43-51%) moved less. Hence the low
  default rate (25 Hz: pause / interval under a tenth) and the long sampled run (40 s, about
  1,000 samples); compare "sampled epoch s" with "epoch s" to see how much the run was
  slowed (py-spy, or other load). ``--nonblocking`` (no pause) cannot be combined with
  ``--native``.
* "In matmul" is wall time of the main thread inside the BLAS call, whatever the BLAS does
  there: packing, its own threading and waits included; the caller's work around the call
  (NumPy's checks and output allocation, torch's dispatch, copies of non-contiguous
  operands) is not.
* The standalone rates are NumPy's OpenBLAS (torch's MKL at the forward shape is printed
  too); the five-product rate is the ceiling closest to the step's own mix of shapes.
* The machine is shared (two cores): the load average at the start is printed; with
  ``--threads 2`` py-spy competes with the BLAS threads for the cores.

Run: python bench/matmul_share.py [--threads 1] [--samples 12800] [--repeat 5] [--seconds 40]
[--rate 25] [--contenders tidu,numpy,torch] [--keep DIR] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from workloads import w1_textb as w1  # noqa: E402
from workloads.common import Config, _cpu_name, matmul_rate, mnist, set_threads  # noqa: E402

CONTENDERS = ("tidu", "numpy", "torch")
# BLAS frames; exec_blas and inner_thread are OpenBLAS's threading driver, where with more than
# one thread the unwinder loses the sgemm_ frame above them (numpy calls no other BLAS here)
GEMM = re.compile(r"gemm|mkl_blas|dnnl|exec_blas|inner_thread", re.IGNORECASE)
PYFRAME = re.compile(r"\((?:[^()]*\.py|<[^>]*>):\d+\)$")  # "fn (file.py:12)": a Python frame
MARK = "_sampled_epochs ("
PYSPY = shutil.which("py-spy") or "/root/.pyenv/shims/py-spy"


# ---------------------------------------------------------------------------- child


def _sampled_epochs(epoch, seconds: float) -> list[float]:
    """The sampled region (only stacks through this frame are counted): whole epochs until
    ``seconds`` have passed."""
    times: list[float] = []
    while not times or sum(times) < seconds:
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    return times


def child(name: str, samples: int, threads: int, repeat: int, seconds: float) -> None:
    set_threads(threads, torch=name == "torch")
    x, y, _, _, source = mnist(Config(), n_train=samples, n_test=1)
    x, y = np.ascontiguousarray(x[:samples]), np.ascontiguousarray(y[:samples])
    epoch = getattr(w1, f"build_{name}")(x, y)
    epoch()  # warm-up
    clean = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        epoch()
        clean.append(time.perf_counter() - t0)
    print(json.dumps({"ready": os.getpid(), "source": source}), flush=True)
    sys.stdin.readline()  # the parent's py-spy is attached
    times = _sampled_epochs(epoch, seconds)
    print(json.dumps({"clean": clean, "sampled": times}), flush=True)
    os._exit(0)  # no interpreter teardown under the sampler


# ---------------------------------------------------------------------------- parent


def standalone(threads: int) -> dict:
    """The machine's float32 rates (GFLOP/s) with ``threads`` BLAS threads."""
    set_threads(threads, torch=False)
    rates = {"w1": matmul_rate(128, 784, 512),
             "1024": matmul_rate(1024, 1024, 1024, reps=4),
             "mix": _step_mix_rate()}
    try:
        import torch

        torch.set_num_threads(threads)
        a, b = torch.rand(128, 784), torch.rand(784, 512)
        out = torch.empty(128, 512)
        torch.mm(a, b, out=out)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(30):
                torch.mm(a, b, out=out)
            runs.append(2 * 128 * 784 * 512 * 30 / (time.perf_counter() - t0) / 1e9)
        rates["torch_w1"] = statistics.median(runs)
    except ImportError:
        pass
    return rates


def _step_mix_rate(reps: int = 30, rounds: int = 5) -> float:
    """GFLOP/s of one W1 step's five products, NumPy float32, operands as the step has them."""
    rng = np.random.default_rng(0)
    x = rng.random((128, 784), dtype=np.float32)
    W1 = rng.random((784, 512), dtype=np.float32)
    W2 = rng.random((512, 10), dtype=np.float32)
    h = rng.random((128, 512), dtype=np.float32)
    dz = rng.random((128, 10), dtype=np.float32)
    dh = rng.random((128, 512), dtype=np.float32)

    def step():
        return x @ W1, h @ W2, dz @ W2.T, h.T @ dz, x.T @ dh

    step()
    flops = w1.step_flops(128)
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        rates.append(flops * reps / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def _drain(stream, lines: list[str], started: threading.Event) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if "Sampling process" in line:
            started.set()
    started.set()  # py-spy ended (an error, or done): do not wait for it


def measure(name: str, args, folder: str) -> dict:
    """One contender in a child process under py-spy; the parsed samples and times."""
    t_start = time.perf_counter()

    def say(what):
        print(f"[{name}] {time.perf_counter() - t_start:6.1f} s {what}", file=sys.stderr,
              flush=True)
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--samples",
           str(args.samples), "--threads", str(args.threads), "--repeat", str(args.repeat),
           "--seconds", str(args.seconds)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env)
    res = {"name": name}
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"child {name} ended before warming up (rc {proc.wait()})")
        res["source"] = json.loads(line)["source"]
        say("warm")
        raw = os.path.join(folder, f"{name}.txt")
        spy_cmd = [PYSPY, "record", "--pid", str(proc.pid), "--native", "--idle", "--threads",
                   "--rate", str(args.rate), "--format", "raw", "-o", raw]
        res["pyspy"] = " ".join(spy_cmd)
        spy = subprocess.Popen(spy_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)  # py-spy writes its log to stdout
        lines: list[str] = []
        started = threading.Event()
        reader = threading.Thread(target=_drain, args=(spy.stdout, lines, started),
                                  daemon=True)
        reader.start()
        started.wait(60)
        time.sleep(0.2)
        say("py-spy attached")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out = proc.stdout.readline()
        say("sampled epochs done")
        proc.wait(600)
        spy.wait(600)
        say("py-spy done")
        reader.join(10)
        res["pyspy_log"] = lines
        if not out or spy.returncode != 0 or not os.path.exists(raw):
            raise RuntimeError(f"py-spy rc {spy.returncode}: " + " | ".join(lines[-5:]))
        res.update(json.loads(out))
        res.update(parse(raw))
    except Exception as e:  # noqa: BLE001 - reported in the table, not hidden
        res["error"] = f"{type(e).__name__}: {e}"
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return res


def parse(raw: str) -> dict:
    """Counts from py-spy's raw collapsed stacks ("frame;frame;... count" per line)."""
    total = gemm = 0
    names: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    with open(raw) as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not count.isdigit() or MARK not in stack:
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            hits = {f for f in frames if not PYFRAME.search(f) and GEMM.search(f)}
            if hits:
                gemm += n
                names.update(dict.fromkeys(hits, n))
            else:
                leaves[frames[-1]] += n
    return {"samples": total, "gemm_samples": gemm, "frames": names.most_common(),
            "other_leaves": leaves.most_common(8)}


def report(results: list[dict], rates: dict, args, info: str) -> str:
    flops = w1.step_flops(args.samples)
    lines = [f"# W1 matrix products inside the step ({args.samples} samples, "
             f"{args.threads} thread{'s' if args.threads > 1 else ''})", "", info, "",
             f"Standalone NumPy float32: {rates['w1']:.1f} GFLOP/s at 128x784 @ 784x512, "
             f"{rates['1024']:.1f} at 1024^3, {rates['mix']:.1f} on one W1 step's five "
             "products back to back"
             + (f"; torch.mm at 128x784 @ 784x512: {rates['torch_w1']:.1f}"
                if "torch_w1" in rates else "") + ".",
             f"Matrix-product FLOPs of the epoch (w1.step_flops({args.samples})): "
             f"{flops / 1e9:.2f} GFLOP.", "",
             "| contender | epoch s | matmul share % | in-step matmul GFLOP/s "
             "| % of standalone rate (W1 shapes) | % of 1024^3 rate | whole-epoch GFLOP/s "
             "| % of five-product rate | samples (share +- 1 s.e.) | sampled epoch s (mean) "
             "| in-step GFLOP/s on the unsampled epoch s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | failed: {r['error']} ||||||||||")
            continue
        epoch = statistics.median(r["clean"])
        sampled = statistics.fmean(r["sampled"])  # the samples spread over all of them
        n, p = r["samples"], r["gemm_samples"] / max(r["samples"], 1)
        se = math.sqrt(p * (1 - p) / n) if n else float("nan")
        rate = flops / (p * sampled) / 1e9 if p else float("nan")
        lines.append(f"| {r['name']} | {epoch:.3f} | {100 * p:.1f} | {rate:.1f} +- "
                     f"{rate * se / p if p else float('nan'):.1f} | "
                     f"{100 * rate / rates['w1']:.0f} | {100 * rate / rates['1024']:.0f} | "
                     f"{flops / epoch / 1e9:.1f} | {100 * rate / rates['mix']:.0f} | "
                     f"{n} ({100 * p:.1f} +- {100 * se:.1f}) | {sampled:.3f} | "
                     f"{flops / (p * epoch) / 1e9 if p else float('nan'):.1f} |")
    lines += ["", "epoch s: median of the unsampled epochs (whole-epoch GFLOP/s uses it); "
              "share: samples of the sampled epochs whose stack has a GEMM frame (below); "
              "in-step rate = FLOPs / (share x mean sampled epoch s), +- from the share's "
              "standard error; the percentages use it. Its sampled epochs include py-spy's "
              "pauses (a few % at 25 Hz): a slight underestimate. The last column uses the "
              "unsampled epoch time instead (the two differ when the machine's load changed "
              "between them).", "", "## Frames matched (samples containing each)", ""]
    for r in results:
        if "error" in r:
            lines.append(f"- {r['name']}: " + " | ".join(r.get("pyspy_log", [])[-5:]))
            continue
        shown = ", ".join(f"`{_short(f)}` {c}" for f, c in r["frames"][:12])
        more = len(r["frames"]) - 12
        ts = r["sampled"]
        lines.append(f"- {r['name']} ({r['source']}; unsampled epochs "
                     + ", ".join(f"{t:.3f}" for t in r["clean"])
                     + f" s; {len(ts)} sampled epochs, median {statistics.median(ts):.3f} s, "
                     f"{min(ts):.3f}-{max(ts):.3f}): {shown}"
                     + (f", and {more} more" if more > 0 else ""))
        lines.append("  - top leaves outside GEMM: "
                     + ", ".join(f"`{_short(f)}` {c}" for f, c in r["other_leaves"]))
    return "\n".join(lines) + "\n"


def _short(frame: str, width: int = 100) -> str:
    """A frame name cut to ``width`` characters (torch's template names run to thousands)."""
    return frame if len(frame) <= width else frame[:width - 3] + "..."


def machine_line(threads: int) -> str:
    versions = [f"numpy {np.__version__}"]
    for mod in ("torch", "tidu"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')}"
                         for p in threadpool_info() if p.get("user_api") == "blas")
    except ImportError:
        pass
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"Machine: {_cpu_name()}, {os.cpu_count()} cores; {', '.join(versions)}; "
            f"NumPy BLAS {blas}; threads {threads}; load average at start {load}; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--repeat", type=int, default=5, help="unsampled epochs (timed)")
    ap.add_argument("--seconds", type=float, default=40.0,
                    help="how long the sampled epochs run (whole epochs)")
    ap.add_argument("--rate", type=int, default=25,
                    help="py-spy samples per second (high rates bias the share: see above)")
    ap.add_argument("--keep", help="keep py-spy's raw stacks in this folder")
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--out", help="also write the markdown report here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.samples, args.threads, args.repeat, args.seconds)
    info = machine_line(args.threads)
    before = standalone(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or tmp
        os.makedirs(folder, exist_ok=True)
        results = [measure(name, args, folder) for name in args.contenders.split(",")]
    after = standalone(args.threads)
    # the machine's rate: the better of the two measurements (a shared machine only slows)
    rates = {k: max(before[k], after[k]) for k in before}
    info += (" Standalone rates measured before and after the contenders (GFLOP/s), the "
             "better one used: " + ", ".join(f"{k} {before[k]:.1f} / {after[k]:.1f}"
                                            for k in before) + ".")
    text = report(results, rates, args, info)
    text += "\nCommand: `python bench/matmul_share.py " + " ".join(sys.argv[1:]) + "`\n"
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
