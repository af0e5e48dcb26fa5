"""Where the example scripts and the shared data sets are, and how tests import an example."""

import importlib
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def example(name):
    """Import ``examples/<name>.py`` as a module."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def needs(name: str):
    """Skip a test, saying why, when the shared data set folder ``name`` is absent."""
    return pytest.mark.skipif(not (DATA / name).is_dir(), reason=(
        f"data set folder {DATA / name} not found (../shared/datasets/{name} from the "
        "project root)"))
