"""``tidu summary MODEL``: the layers of a saved model and how it was trained."""

from __future__ import annotations

import argparse

from ._common import HelpFormatter, load_model, read_run


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu summary``."""
    p = sub.add_parser(
        "summary", help="print a saved model's layers, shapes and parameter counts",
        description="Print a saved model's summary (layers, output shapes, parameter counts), "
        "its loss and optimizer, and, when tidu train wrote it, the recipe, data and results "
        "of its run (run.json beside the model).",
        epilog="example:\n  tidu summary runs/text-b-digits/model.tidu",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by tidu train or "
                   "model.save")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    """Print the summary; 0 on success."""
    model = load_model(args.model)
    model.summary()
    if getattr(model, "loss", None) is not None:
        print(f"Loss: {type(model.loss).__name__}")
    if getattr(model, "optimizer", None) is not None:
        print(f"Optimizer: {model.optimizer!r}")
    record = read_run(args.model)
    if record:
        print(f"Trained by tidu train: recipe {record.get('recipe')} on {record.get('data')}, "
              f"{record.get('epochs')} epoch(s) of batch {record.get('batch_size')}, seed "
              f"{record.get('seed')}")
        results = record.get("results") or {}
        if results:
            print("Results: " + " - ".join(f"{k}: {v:.4f}" for k, v in results.items()
                                           if isinstance(v, (int, float))))
    return 0
