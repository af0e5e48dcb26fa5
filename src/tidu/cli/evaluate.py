"""``tidu evaluate MODEL``: the loss and metrics of a saved model on a data set."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._common import CLIError, HelpFormatter, input_shape, load_model, read_run
from .recipes import DATASETS, Data, binary_labels, load_data


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu evaluate``."""
    p = sub.add_parser(
        "evaluate", help="loss and metrics of a saved model on a data set",
        description="Evaluate a saved model on the test split of a data set (by default the "
        "one it was trained on, read from run.json beside the model, else digits) and print "
        "its loss and metrics.",
        epilog="examples:\n  tidu evaluate runs/text-b-digits/model.tidu\n"
        "  tidu evaluate model.tidu --data mytest.npz --json",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="a model file written by tidu train or "
                   "model.save")
    p.add_argument("--data", "-d", metavar="NAME|FILE.npz",
                   help=f"data set: {', '.join(DATASETS)} or an .npz with x and y (default: "
                   "the model's training data, else digits)")
    p.add_argument("--data-dir", metavar="DIR", help="folder holding one folder per data set")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="which part of the data set (default: test; an .npz without x_test "
                   "is evaluated on x and y)")
    p.add_argument("--batch-size", "-b", type=int, default=256, metavar="N",
                   help="samples per batch (default: 256)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.set_defaults(run=run)
    return p


def targets(model, y: np.ndarray, outputs: int) -> np.ndarray:
    """Integer labels in the form the model's loss takes: 0/1 for one output, integers for a
    sparse loss, one-hot rows otherwise."""
    from tidu.datasets import to_categorical

    if outputs == 1:
        return y.reshape(-1, 1).astype(np.float32)
    if "sparse" in type(model.loss).__name__.lower():
        return y
    if int(y.max()) >= outputs:
        raise CLIError(f"the data has label {int(y.max())} but the model has only {outputs} "
                       "outputs")
    return to_categorical(y, outputs)


def check_features(model, data: Data, model_path: str) -> int:
    """The number of the model's outputs; a CLIError when the data does not fit the model."""
    shape = input_shape(model)
    if shape is not None and int(np.prod(shape)) != data.features:
        raise CLIError(f"{model_path} takes samples of shape {shape} "
                       f"({int(np.prod(shape))} values) but {data.name} has "
                       f"{data.features} values per sample; evaluate it on the data it was "
                       "trained on (--data)")
    return int(model.predict(data.x_train[:1].reshape((1, *shape) if shape else (1, -1)))
               .shape[-1])


def run(args) -> int:
    """Print the loss and metrics; 0 on success."""
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be a positive integer, got {args.batch_size}")
    model = load_model(args.model)
    record = read_run(args.model)
    name = args.data or record.get("data") or "digits"
    data = load_data(name, args.data_dir or (record.get("data_dir") if not args.data else None))
    outputs = check_features(model, data, args.model)
    if outputs == 1 and data.classes > 2:
        data, _ = binary_labels(data, record.get("positive_class"))
    if args.split == "test" and data.x_test is not None:
        x, y, split = data.x_test, data.y_test, "test"
    else:
        x, y, split = data.x_train, data.y_train, "train"
    shape = input_shape(model)
    if shape is not None:
        x = x.reshape((len(x), *shape))
    if model.loss is None:
        loss = "binary_crossentropy" if outputs == 1 else "categorical_crossentropy"
        model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    result = model.evaluate(x, targets(model, y, outputs), batch_size=args.batch_size,
                            return_dict=True)
    result = {k: float(v) for k, v in result.items()}
    if args.json:
        print(json.dumps({"model": args.model, "data": data.name, "split": split,
                          "samples": len(x), **result}))
    else:
        print(f"{data.name} ({split}, {len(x)} samples): "
              + " - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
    return 0
