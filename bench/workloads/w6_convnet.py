"""W6: Keras's simple MNIST convnet (Conv2D 32 3x3 relu, max pool 2, Conv2D 64 3x3 relu, max
pool 2, Flatten, Dropout 0.5, Dense 10 softmax; Adam, batch 128), seconds per 60,000-image
epoch (timed on fewer images and scaled): tidu through ``model.fit`` and PyTorch eager, the
networks of ``bench/bench_cnn.py``. Skipped, with the reason, while tidu has no Conv2D or
MaxPooling2D layers."""

from __future__ import annotations

import os
import sys

import numpy as np

from .common import Config, Target, Workload

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def missing() -> str | None:
    """Why W6 cannot run, or None."""
    try:
        import tidu.keras.layers as layers
    except ImportError as e:
        return f"tidu.keras.layers does not import ({e})"
    gone = [n for n in ("Conv2D", "MaxPooling2D", "Flatten", "Dropout")
            if not hasattr(layers, n)]
    if gone:
        return f"tidu.keras.layers has no {', '.join(gone)} yet"
    try:
        import bench_cnn  # noqa: F401
    except ImportError as e:
        return f"bench/bench_cnn.py does not import ({e})"
    return None


def setup(cfg: Config) -> Workload | str:
    why = missing()
    if why:
        return why
    import bench_cnn as bcnn

    n = 1280 if cfg.quick else 3840
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, n)
    runs = {}
    try:
        runs["tidu"] = bcnn.tidu_setup(x, y)
        runs["tidu"]()  # check that it trains at all before timing
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        return f"tidu's convnet does not train yet: {type(e).__name__}: {e}"
    runs["torch"] = bcnn.torch_setup(x, y, cfg.threads)
    return Workload(
        key="W6", title="simple MNIST convnet, Adam b128, one epoch (synthetic)",
        unit="s/epoch", scale=60000 / n, runs=runs,
        skipped={"numpy": "no hand-written NumPy convnet reference",
                 "jax jit": "not written for W6"},
        flops=bcnn.step_flops() * n,
        targets=[Target("tidu", "torch", 1.0, "W6 tidu fit <= 1.0x torch eager")],
        notes=[f"{n} images per timed epoch, scaled to 60,000"])
