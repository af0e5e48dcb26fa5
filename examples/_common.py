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


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", help="folder holding one folder per data set (mnist/, ...); "
                    "default: $TIDU_DATASETS, else ../shared/datasets, else download")
    return ap
