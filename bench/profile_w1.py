"""Where W1's time goes in tidu: one ``model.fit`` epoch under cProfile, grouped.

Groups: the matrix products (MatMul forward and backward), the optimizer's update rule, the
optimizer's finite check (the copies taken before the update and the ``isfinite`` reads
after), the batch gather, and everything else (graph bookkeeping, losses, metrics, Python).
cProfile adds its own per-call cost, which lands in "everything else": read the shares as an
upper bound on the bookkeeping.

Run: python bench/profile_w1.py [--samples 12800] [--threads 2] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from workloads import w1_textb as w1  # noqa: E402
from workloads.common import Config, mnist, set_threads  # noqa: E402

GROUPS = (
    ("matrix products", lambda f, fn: f.endswith("ops/linalg.py") and fn in ("forward",
                                                                            "backward")),
    ("update rule", lambda f, fn: "optim" in f and (fn.endswith("_update") or
                                                    fn.endswith("_increment"))),
    ("finite check", lambda f, fn: f.endswith("optim/finite.py") and fn in (
        "_square_sum", "sum_finite", "all_finite", "_verify")),
    ("batch gather", lambda f, fn: f.endswith("models/training.py") and fn == "epoch"),
)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    set_threads(args.threads, torch=False)
    x, y, _, _, source = mnist(Config(), n_train=args.samples, n_test=1)
    epoch = w1.build_tidu(x, y)
    epoch()  # warm-up
    prof = cProfile.Profile()
    prof.runcall(epoch)
    st = pstats.Stats(prof)
    total = st.total_tt
    shares = dict.fromkeys([g for g, _ in GROUPS] + ["everything else"], 0.0)
    for (f, _, fn), (_, _, tt, _, _) in st.stats.items():
        for g, test in GROUPS:
            if test(f, fn):
                shares[g] += tt
                break
        else:
            shares["everything else"] += tt
    steps = -(-args.samples // 128)
    print(f"W1 tidu fit, {args.samples} {source} samples ({steps} steps), "
          f"{total / steps * 1e3:.2f} ms/step under cProfile")
    for g, t in shares.items():
        print(f"  {g:18s} {100 * t / total:5.1f}%  {t / steps * 1e3:6.2f} ms/step")
    st.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
