"""``tidu diagnose MODEL``: per-layer training diagnostics of a saved model on a data sample."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import CLIError, HelpFormatter, input_shape, load_model, read_run
from .evaluate import check_features, targets
from .recipes import DATASETS, binary_labels, load_data


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu diagnose``."""
    p = sub.add_parser(
        "diagnose", help="per-layer activations, dead/saturated units and gradient norms",
        description="Run one training step of a saved model on a sample of a data set "
        "(the one it was trained on, read from run.json beside the model, else digits) and "
        "print, per layer: the mean and spread of its outputs, the fraction of saturated "
        "sigmoid/tanh outputs and of dead ReLU units, the gradient and weight norms, the "
        "update-to-weight ratio and vanishing/exploding gradients "
        "(tidu.callbacks.Diagnostics). With --out, also write PNG plots (needs "
        "tidu[plot]). The model file is not changed.",
        epilog="examples:\n  tidu diagnose runs/text-b-digits/model.tidu\n"
        "  tidu diagnose model.tidu --data mnist --samples 512 --out diag/",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by tidu train or "
                   "model.save")
    p.add_argument("--data", "-d", metavar="NAME|FILE.npz",
                   help=f"data set: {', '.join(DATASETS)} or an .npz with x and y (default: "
                   "the model's training data, else digits)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding one folder per data set")
    p.add_argument("--samples", "-n", type=int, default=256, metavar="N",
                   help="training samples in the diagnosed batch (default: 256)")
    p.add_argument("--out", "-o", metavar="DIR", help="write the PNG plots into DIR")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    """Print the per-layer table (and write the plots); 0 on success."""
    from tidu.callbacks.diagnostics import diagnose

    if args.samples < 1:
        raise CLIError(f"--samples must be a positive integer, got {args.samples}")
    model = load_model(args.model)
    record = read_run(args.model)
    name = args.data or record.get("data") or "digits"
    data = load_data(name, args.data_dir or (record.get("data_dir") if not args.data else None))
    outputs = check_features(model, data, args.model)
    if outputs == 1 and data.classes > 2:
        data, _ = binary_labels(data, record.get("positive_class"))
    x, y = data.x_train[:args.samples], data.y_train[:args.samples]
    shape = input_shape(model)
    if shape is not None:
        x = x.reshape((len(x), *shape))
    y = targets(model, y, outputs)
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        loss = model.loss if getattr(model, "loss", None) is not None else (
            "binary_crossentropy" if outputs == 1 else "categorical_crossentropy")
        model.compile(optimizer="sgd", loss=loss)
    diag = diagnose(model, x, y)
    if args.json:
        for r in diag.records:
            print(json.dumps(r))
    else:
        print(f"{args.model} on {len(x)} samples of {data.name} (one training step, "
              f"{type(model.optimizer).__name__}):")
        print(diag.table(0).split("\n", 1)[1])
        flagged = [r for r in diag.records if r["flag"]]
        for r in flagged:
            print(f"warning: {r['layer']}: {r['flag']} gradient (norm {r['grad_norm']:.3g})")
    if args.out:
        from tidu import plot

        out = Path(args.out)
        paths = diag.plot(out)
        for kind, arrays in (("weights", plot.weight_arrays(model)),
                             ("activations", plot.activation_arrays(model, x)),
                             ("gradients", plot.gradient_arrays(model, x, y))):
            p = out / f"histograms_{kind}.png"
            plot.plot_histograms(arrays, title=kind, path=p)
            paths.append(p)
        if not args.json:
            print(f"wrote {len(paths)} plots into {out}")
    return 0
