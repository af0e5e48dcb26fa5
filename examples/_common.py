"""Shared by the examples: where the data sets are."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def data_root(cli_value: str | None) -> Path | None:
    """The data-set root: --data, else $TIDU_DATASETS, else ../shared/datasets if present."""
    if cli_value:
        return Path(cli_value)
    if os.environ.get("TIDU_DATASETS"):
        return Path(os.environ["TIDU_DATASETS"])
    guess = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    return guess if guess.is_dir() else None


def parser(description: str, epochs: int | None = None) -> argparse.ArgumentParser:
    """The examples' command line: --data, and with ``epochs`` the training options too."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", help="folder holding one folder per data set (mnist/, ...); "
                    "default: $TIDU_DATASETS, else ../shared/datasets, else download")
    if epochs is not None:
        ap.add_argument("--epochs", type=int, default=epochs)
        ap.add_argument("--limit", type=int, default=None, help="use only the first N "
                        "training images (for quick runs)")
        ap.add_argument("--seed", type=int, default=0)
        ap.add_argument("--verbose", type=int, default=1)
    return ap
