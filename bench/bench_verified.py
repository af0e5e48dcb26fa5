"""The cost of verified mode: a Text B-like fit, unchecked against ``Verify(rate=...)``.

The network of Text B at a smaller width (Dense 128 relu, Dropout 0.2, Dense 10 softmax;
categorical cross-entropy, rmsprop, batch 128, float32) trains for ``--epochs`` epochs on
2,000 synthetic 784-feature samples, unchecked and with verified mode at each rate; the runs
are interleaved over ``--repeats`` rounds and the median time of each is reported with its
ratio to the unchecked run, and how many gradients verified mode compared. A second table
does the same for a batch of 32 (more, smaller operations: the per-operation cost shows).

Also measured: the cost of the loss-side detectors that are on by default (from_logits
checks), as the time of one ``CategoricalCrossentropy`` call on a batch against the same
call with the detectors off (``tidu.debug.set_mode('off')``).

Run: python bench/bench_verified.py [--repeats 3] [--epochs 2] [--rates 0.1 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import tidu
from tidu.nn import Dense, Dropout


def make_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    w = rng.normal(size=(784, 10)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[(x @ w).argmax(1)]
    return x, y


def run(x, y, epochs, batch, rate):
    tidu.manual_seed(0)
    m = tidu.Sequential([Dense(128, activation="relu", input_shape=(784,)), Dropout(0.2),
                         Dense(10, activation="softmax")])
    m.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    cbs = [] if rate is None else [tidu.debug.Verify(rate=rate)]
    t = time.perf_counter()
    m.fit(x, y, epochs=epochs, batch_size=batch, verbose=0, seed=1, callbacks=cbs)
    return time.perf_counter() - t, (cbs[0].verifier if cbs else None)


def table(x, y, epochs, batch, rates, repeats):
    times = {r: [] for r in [None, *rates]}
    counts = {}
    for _ in range(repeats):
        for r in times:
            dt, v = run(x, y, epochs, batch, r)
            times[r].append(dt)
            if v is not None:
                counts[r] = v.checked
    base = statistics.median(times[None])
    print(f"\nbatch {batch}, {epochs} epochs of {len(x)} samples, median of {repeats}:")
    print(f"  {'mode':<22}{'seconds':>9}{'ratio':>8}{'gradients checked':>20}")
    print(f"  {'unchecked':<22}{base:>9.3f}{1.0:>8.2f}{'-':>20}")
    for r in rates:
        med = statistics.median(times[r])
        print(f"  {f'Verify(rate={r:g})':<22}{med:>9.3f}{med / base:>8.2f}{counts[r]:>20}")


def detector_cost(repeats=2000):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(128, 10)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    loss = tidu.losses.CategoricalCrossentropy()
    p = tidu.softmax(tidu.tensor(z), axis=1)

    def per_call():
        t = time.perf_counter()
        for _ in range(repeats):
            loss(y, tidu.tensor(p.data))
        return (time.perf_counter() - t) / repeats * 1e6

    on = min(per_call() for _ in range(3))
    tidu.debug.set_mode("off")
    try:
        off = min(per_call() for _ in range(3))
    finally:
        tidu.debug.set_mode("warn")
    print(f"\ncategorical_crossentropy on (128, 10) probabilities: {on:.1f} us with the "
          f"detectors on, {off:.1f} us off ({on - off:+.1f} us per call)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rates", type=float, nargs="+", default=[0.1, 1.0])
    args = ap.parse_args()
    x, y = make_data()
    for batch in (128, 32):
        table(x, y, args.epochs, batch, args.rates, args.repeats)
    detector_cost()


if __name__ == "__main__":
    main()
