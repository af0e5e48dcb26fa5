"""W1's scaling: seconds per 60,000-sample epoch of Text B's network as the hidden width grows
(128 to 4096, batch 128) and as the batch size grows (32 to 1024, width 512), tidu through
``model.fit`` against PyTorch eager, interleaved, median of ``--rounds``.

Each point trains on ``--samples`` samples (the same number for every batch size) and is
scaled to 60,000. Writes ``bench/results/scaling.json``, ``bench/results/scaling.md`` and
the plot ``bench/scaling.png`` (with matplotlib).

Run: python bench/scaling.py [--rounds 3] [--samples 6144] [--threads 2] [--out scaling]
(``--out NAME`` writes ``bench/results/NAME.json/.md`` and ``bench/NAME.png``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from workloads import w1_textb as w1  # noqa: E402
from workloads.common import Config, blas_text, machine, mnist, set_threads  # noqa: E402

WIDTHS = (128, 256, 512, 1024, 2048, 4096)
BATCHES = (32, 64, 128, 256, 512, 1024)


def point(x, y, hidden: int, batch: int, rounds: int) -> dict:
    """Median seconds per 60,000 samples for tidu and torch at one (width, batch)."""
    runs = {"tidu": w1.build_tidu(x, y, hidden=hidden, batch=batch),
            "torch": w1.build_torch(x, y, hidden=hidden, batch=batch)}
    for run in runs.values():
        run()
    times = {n: [] for n in runs}
    names = list(runs)
    for r in range(rounds):
        for n in names[r % 2:] + names[:r % 2]:
            t0 = time.perf_counter()
            runs[n]()
            times[n].append((time.perf_counter() - t0) * 60000 / len(x))
    med = {n: statistics.median(t) for n, t in times.items()}
    med["ratio"] = med["tidu"] / med["torch"]
    return med


def plot(res: dict, path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, xs, label in ((axes[0], "width", WIDTHS, "hidden width (batch 128)"),
                               (axes[1], "batch", BATCHES, "batch size (width 512)")):
        pts = res[key]
        for fw, style in (("tidu", "o-"), ("torch", "s--")):
            ax.plot(xs, [pts[str(v)][fw] for v in xs], style, label=fw)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds per 60,000-sample epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    m = res["machine"]
    fig.suptitle(f"W1 (Text B network, RMSprop) scaling: {m['cpu']}, {res['threads']}, "
                 f"BLAS {blas_text(m)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=6144)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="scaling", help="name of the result files (scaling)")
    args = ap.parse_args(argv)
    threads = set_threads(args.threads)
    x, y, _, _, source = mnist(Config(), n_train=args.samples, n_test=1)
    res = {"machine": machine(), "threads": threads, "rounds": args.rounds,
           "samples": args.samples, "data": source, "width": {}, "batch": {}}
    for h in WIDTHS:
        res["width"][str(h)] = point(x, y, h, 128, args.rounds)
        print(f"width {h:5d} batch 128: " + ", ".join(
            f"{k} {v:.3f}" for k, v in res["width"][str(h)].items()), flush=True)
    for b in BATCHES:
        res["batch"][str(b)] = res["width"]["512"] if b == 128 else point(
            x, y, 512, b, args.rounds)
        print(f"width   512 batch {b:4d}: " + ", ".join(
            f"{k} {v:.3f}" for k, v in res["batch"][str(b)].items()), flush=True)
    lines = [f"W1 epoch seconds (60,000 samples, timed on {args.samples} {source} samples, "
             f"median of {args.rounds}); {res['machine']['cpu']}, {threads}; "
             f"BLAS {blas_text(res['machine'])}; "
             f"{res['machine']['date_utc']} UTC", "",
             "| hidden width | batch | tidu s | torch s | tidu / torch |",
             "|---:|---:|---:|---:|---:|"]
    for key, vals in (("width", WIDTHS), ("batch", BATCHES)):
        for v in vals:
            p = res[key][str(v)]
            h, b = (v, 128) if key == "width" else (512, v)
            lines.append(f"| {h} | {b} | {p['tidu']:.3f} | {p['torch']:.3f} | "
                         f"{p['ratio']:.2f} |")
    text = "\n".join(lines)
    print("\n" + text)
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"{args.out}.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    with open(os.path.join(out, f"{args.out}.md"), "w") as fh:
        fh.write(f"Command: `python bench/scaling.py {' '.join(argv or sys.argv[1:])}`\n\n"
                 f"{text}\n")
    if plot(res, os.path.join(HERE, f"{args.out}.png")):
        print(f"plot: bench/{args.out}.png")
    return res


if __name__ == "__main__":
    main()
