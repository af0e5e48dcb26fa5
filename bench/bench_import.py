"""``import tidu`` against ``import torch`` (issue 17: at most one fifth), fresh interpreters.

Each round starts one new interpreter per module, in an order rotated every round, and the
child times only its ``import`` (interpreter start-up is not counted), by wall clock and by
its own CPU time (the steadier figure on a shared machine). Prints the medians, the ratios
to torch and how many of tidu's modules the import loaded.

    python bench/bench_import.py --rounds 9
    python bench/bench_import.py --rounds 9 --before /tmp/old/src   # and another tidu tree
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = ("import sys, time; w = time.perf_counter(); c = time.process_time(); import {m}; "
         "c = time.process_time() - c; w = time.perf_counter() - w; import json; "
         "print(json.dumps([w, c, sum(k == 'tidu' or k.startswith('tidu.') "
         "for k in sys.modules), len(sys.modules), sys.modules['{m}'].__file__]))")


def one(module: str, env: dict) -> list:
    """[wall s, CPU s, tidu modules, all modules] of ``import module`` in a new interpreter."""
    res = subprocess.run([sys.executable, "-c", CHILD.format(m=module)], capture_output=True,
                         text=True, check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure(contenders: dict, rounds: int) -> dict:
    """Every contender (label -> (module, env)) once per round, the order rotated each round;
    all samples per label."""
    names = list(contenders)
    out = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            out[n].append(one(*contenders[n]))
    return out


def main(argv: list[str] | None = None) -> dict:
    """Run the rounds and print a Markdown table (and the JSON of every sample with --json)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="fresh processes per module (7)")
    ap.add_argument("--modules", default="tidu,torch,numpy", help="comma-separated")
    ap.add_argument("--before", default=None,
                    help="also time 'tidu (before)': import tidu with this folder first on "
                         "PYTHONPATH (another tidu tree, e.g. a copy with the old __init__)")
    ap.add_argument("--bytecode", default=None, metavar="DIR",
                    help="let Python cache bytecode (as an installed package does), in DIR "
                         "(PYTHONPYCACHEPREFIX, so the checkout stays clean); each contender "
                         "is imported once first to fill it")
    ap.add_argument("--json", default=None, help="write all samples to this file")
    args = ap.parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if args.bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.abspath(args.bytecode)
    contenders = {m: (m, env) for m in args.modules.split(",")}
    if args.before:
        old = dict(env, PYTHONPATH=os.pathsep.join(
            [args.before, *filter(None, [env.get("PYTHONPATH")])]))
        contenders["tidu (before)"] = ("tidu", old)
    if args.bytecode:
        measure(contenders, 1)  # compile and cache every module once
    t = measure(contenders, args.rounds)
    med = {m: {"wall": statistics.median(s[0] for s in v),
               "cpu": statistics.median(s[1] for s in v)} for m, v in t.items()}
    print(f"python {sys.version.split()[0]}; PYTHONDONTWRITEBYTECODE="
          f"{env.get('PYTHONDONTWRITEBYTECODE', '')!r}, PYTHONPYCACHEPREFIX="
          f"{env.get('PYTHONPYCACHEPREFIX', '')!r}; median of {args.rounds} interleaved "
          "fresh processes each\n")
    print("| import | wall s | min-max | / torch | CPU s | / torch | tidu modules | modules |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    ref = med.get("torch")
    for m, v in t.items():
        w = [s[0] for s in v]
        rw = f"{med[m]['wall'] / ref['wall']:.3f}" if ref else ""
        rc = f"{med[m]['cpu'] / ref['cpu']:.3f}" if ref else ""
        print(f"| {m} | {med[m]['wall']:.3f} | {min(w):.3f}-{max(w):.3f} | {rw} | "
              f"{med[m]['cpu']:.3f} | {rc} | {v[0][2]} | {v[0][3]} |")
    print("\n" + "; ".join(f"{m}: {v[0][4]}" for m, v in t.items()))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"samples": t, "median": med}, fh, indent=1)
    return med


if __name__ == "__main__":
    main()
