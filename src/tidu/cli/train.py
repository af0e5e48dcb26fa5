"""``tidu train``: train a named recipe on a named data set and save the model."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ._common import MODEL_FILE, RUN_FILE, CLIError, HelpFormatter, UsageError, save_model, table
from .recipes import DATASETS, RECIPES, binary_labels, load_data

OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw", "adagrad")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _batch_size(text: str):
    return None if text.lower() == "full" else _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``tidu train``."""
    recipes = table({r.name: r.description + ("" if r.home else f" ({r.epochs} epochs)")
                     for r in RECIPES.values()})
    data = table({**DATASETS, "FILE.npz": "your own arrays: x (samples first) and integer "
                  "labels y, optionally x_test and y_test; integer pixels are divided by 255"})
    p = sub.add_parser(
        "train", help="train a recipe on a data set and save the model",
        description="Train one of the named models (recipes) on a data set, print the test "
        "metrics, and write the model, run.json and history.csv into the output folder.",
        epilog=f"recipes:\n{recipes}\n\ndata sets (--data):\n{data}\n\n"
        "mnist, fashion-mnist and catvnoncat are read from --data-dir/NAME, else "
        "$TIDU_DATASETS/NAME,\nelse downloaded once into ~/.tidu/datasets (checksummed).\n\n"
        "examples:\n  tidu train                                 # Text B's network on digits\n"
        "  tidu train --recipe text-a --data catvnoncat\n"
        "  tidu train --data mnist --epochs 5 --output runs/mnist\n"
        "  tidu train --data mnist --output runs/mnist --resume   # continue after a kill\n"
        "  mpirun -n 2 tidu train --distributed       # data-parallel over 2 processes",
        formatter_class=HelpFormatter)
    p.add_argument("--recipe", "-r", default="text-b", choices=list(RECIPES),
                   help="the model to train (default: text-b)")
    p.add_argument("--data", "-d", default="digits", metavar="NAME|FILE.npz",
                   help="the data set (default: digits, embedded, no download)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding one folder per data set (mnist/, fashion-mnist/, "
                   "catvnoncat/)")
    p.add_argument("--epochs", "-e", type=_positive_int, metavar="N",
                   help="passes over the training data (default: the recipe's)")
    p.add_argument("--batch-size", "-b", type=_batch_size, metavar="N|full",
                   help="samples per update, or 'full' for the whole set (default: the "
                   "recipe's)")
    p.add_argument("--optimizer", choices=OPTIMIZERS,
                   help="optimizer, with Keras's defaults (default: the recipe's)")
    p.add_argument("--learning-rate", "--lr", type=_positive_float, metavar="LR",
                   help="learning rate (default: the recipe's, else the optimizer's)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, the shuffling and dropout (default: 0)")
    p.add_argument("--output", "-o", metavar="DIR",
                   help="output folder (default: runs/RECIPE-DATA)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from the backup in the output folder "
                   "(the same command again, with --resume)")
    p.add_argument("--validation-split", type=float, default=0.0, metavar="F",
                   help="hold out the last fraction F of the training data for validation")
    p.add_argument("--positive-class", type=int, metavar="K",
                   help="for text-a on data with more than two classes: class K against the "
                   "rest (default: 0)")
    p.add_argument("--limit", type=_positive_int, metavar="N",
                   help="use only the first N training samples (for quick runs)")
    p.add_argument("--jit", action="store_true",
                   help="compile the training step (tidu.compile) instead of running eagerly")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the processes of mpirun (start it as mpirun -n N "
                   "tidu train --distributed ...): --batch-size is the global batch, rank 0 "
                   "prints and writes the output folder (docs/distributed.md)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no summary and no per-epoch output")
    p.set_defaults(run=run)
    return p


def _backup_callback(out: Path, resume: bool):
    """``BackupAndRestore(out/backup)`` when tidu has it; refuses a silent restart."""
    from tidu import callbacks

    backup = out / "backup"
    cls = getattr(callbacks, "BackupAndRestore", None)
    if cls is None:
        if resume:
            raise CLIError("--resume needs tidu.callbacks.BackupAndRestore, which this "
                           "version of tidu does not have")
        return None, backup
    found = backup.is_dir() and any(backup.iterdir())
    if found and not resume:
        raise CLIError(f"{backup} holds the backup of an interrupted run: add --resume to "
                       f"continue it, or delete that folder to start over")
    if resume:
        print(f"resuming from the backup in {backup}" if found else
              f"no backup in {backup} to resume from: starting from the beginning",
              file=sys.stderr, flush=True)
    return cls(os.fspath(backup)), backup


def run(args) -> int:
    """Train, evaluate on the test split, save; 0 on success.

    With ``--distributed`` every rank of the MPI job runs this; an error on one rank stops
    them all (MPI_Abort) rather than leaving the others waiting.
    """
    if not getattr(args, "distributed", False):
        return _train(args, None)
    import tidu.distributed as dist

    dist.init()
    try:
        return _train(args, dist)
    except CLIError as e:
        if dist.size() == 1:
            raise
        print(f"tidu train: error on rank {dist.rank()} of {dist.size()}: {e}",
              file=sys.stderr, flush=True)
        dist.comm().Abort(2 if isinstance(e, UsageError) else 1)
        raise


def _train(args, dist) -> int:
    import functools

    import tidu
    from tidu.callbacks import CSVLogger

    recipe = RECIPES[args.recipe]
    if not 0.0 <= args.validation_split < 1.0:
        raise UsageError(f"--validation-split must be in [0, 1), got {args.validation_split}")
    if args.positive_class is not None and not recipe.binary:
        raise UsageError(f"--positive-class is for binary recipes (text-a), not {recipe.name}")
    data = load_data(args.data, args.data_dir)
    positive = None
    if recipe.binary:
        data, positive = binary_labels(data, args.positive_class)
    if args.limit:
        data.x_train, data.y_train = data.x_train[:args.limit], data.y_train[:args.limit]
    dname = Path(args.data).stem if args.data.endswith(".npz") else args.data
    out = Path(args.output or os.path.join("runs", f"{recipe.name}-{dname}"))
    out.mkdir(parents=True, exist_ok=True)
    default_epochs, default_lr = recipe.defaults(args.data)
    epochs = args.epochs or default_epochs
    lr = args.learning_rate
    if lr is None and args.optimizer in (None, recipe.optimizer):
        lr = default_lr
    batch = args.batch_size if args.batch_size is not None else recipe.batch_size
    if batch is None or batch > len(data.x_train):
        batch = len(data.x_train)

    if dist is not None and not dist.is_root():
        args.quiet = True
    tidu.manual_seed(args.seed)
    model = recipe.build(data.features, data.classes, args.optimizer, lr)
    if args.jit:
        model.compile(optimizer=model.optimizer, loss=model.loss,
                      metrics=model.compiled_metrics, jit_compile=True)
    y_train = recipe.encode(data.y_train, data.classes)
    callbacks = [CSVLogger(os.fspath(out / "history.csv"), append=args.resume)]
    backup, backup_dir = _backup_callback(out, args.resume)
    if backup is not None:
        callbacks.append(backup)
    if not args.quiet:
        model.summary()
        note = f", class {positive} ('{data.class_names[1]}') vs the rest" if \
            positive is not None else ""
        print(f"recipe {recipe.name} on {data.name}: {len(data.x_train)} training samples of "
              f"{data.features} features, {data.classes} classes{note}; {epochs} epochs, "
              f"batch {batch}, {type(model.optimizer).__name__} "
              f"(learning rate {model.optimizer.get_config()['learning_rate']:g})", flush=True)
    t0 = time.perf_counter()
    try:
        fit = model.fit if dist is None else functools.partial(dist.fit, model)
        history = fit(data.x_train, y_train, batch_size=batch, epochs=epochs,
                            verbose=0 if args.quiet else 1, callbacks=callbacks,
                            validation_split=args.validation_split, seed=args.seed)
    except KeyboardInterrupt:
        if backup is not None and backup_dir.is_dir() and any(backup_dir.iterdir()):
            print(f"\nthe last backup is in {backup_dir}: run the same command with --resume "
                  "to continue", file=sys.stderr)
        raise
    seconds = time.perf_counter() - t0
    if dist is not None and not dist.is_root():
        return 0  # rank 0 evaluates and writes the output folder
    results = {k: float(v[-1]) for k, v in history.history.items() if v}
    if data.x_test is not None:
        test = model.evaluate(data.x_test, recipe.encode(data.y_test, data.classes),
                              batch_size=max(batch, 256), return_dict=True)
        results.update({f"test_{k}": float(v) for k, v in test.items()})
    path = out / MODEL_FILE
    save_model(model, path)
    named = args.data in DATASETS
    record = {"recipe": recipe.name, "data": args.data if named else os.path.abspath(args.data),
              "data_dir": args.data_dir and os.path.abspath(args.data_dir),
              "positive_class": positive, "class_names": data.class_names,
              "image_shape": list(data.image_shape) if data.image_shape else None,
              "epochs": epochs, "batch_size": batch, "seed": args.seed,
              "optimizer": type(model.optimizer).__name__, "seconds": round(seconds, 3),
              "ranks": 1 if dist is None else dist.size(),
              "results": results}
    (out / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shown = " - ".join(f"{k}: {v:.4f}" for k, v in results.items() if k.startswith("test_"))
    print(f"{shown or 'no test split'}  ({seconds:.1f} s)")
    print(f"saved {path}; next: tidu evaluate {path}  |  tidu predict {path} INPUT")
    return 0
