"""What the commands share: their errors, help layout, model files and array files."""

from __future__ import annotations

import argparse
import json
import os
import textwrap
from pathlib import Path

import numpy as np

MODEL_FILE = "model.tidu"
"""The name ``tidu train`` gives the model it writes into its output folder."""

RUN_FILE = "run.json"
"""Written by ``tidu train`` beside the model: the recipe, the data and the results."""


class CLIError(Exception):
    """A failure to report in one line on stderr (exit code 1)."""


class UsageError(CLIError):
    """Arguments that do not fit together (exit code 2, with the usage line)."""


def existing_file(path: str, what: str) -> Path:
    """``path`` as a Path, or a CLIError naming it when it is missing or a folder."""
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{what} {path!r} does not exist")
    return p


def load_model(path: str):
    """The model in ``path`` (``tidu.models.load_model``), with errors a shell user can act on."""
    p = existing_file(path, "model file")
    try:
        from tidu.models import load_model as _load
    except ImportError:
        raise CLIError("this version of tidu has no tidu.models.load_model, so model files "
                       "cannot be read yet") from None
    try:
        return _load(os.fspath(p))
    except (ImportError, MemoryError):
        raise
    except Exception as e:
        problem = getattr(e, "problem", None) or f"{type(e).__name__}: {e}"
        raise CLIError(f"{path}: not a tidu model file that can be loaded ({problem})") from e


def save_model(model, path: Path) -> None:
    """``model.save(path)``, or a CLIError when this tidu cannot save whole models."""
    if not hasattr(model, "save"):
        raise CLIError("this version of tidu has no Model.save, so the trained model cannot "
                       "be written")
    model.save(os.fspath(path))


def read_run(model_path: str) -> dict:
    """The ``run.json`` that ``tidu train`` wrote beside ``model_path``, or ``{}``."""
    p = Path(model_path)
    run = (p if p.is_dir() else p.parent) / RUN_FILE
    if not run.is_file():
        return {}
    try:
        data = json.loads(run.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_array_file(path: str, key: str | None = None, what: str = "input") -> np.ndarray:
    """One array from a ``.npy`` file, or from an ``.npz`` (``key``, else ``x``, else its only
    array). Never unpickles anything."""
    p = existing_file(path, f"{what} file")
    try:
        data = np.load(p, allow_pickle=False)
    except ValueError as e:
        raise CLIError(f"{path}: not a NumPy .npy/.npz file without objects ({e})") from e
    except (OSError, EOFError) as e:
        raise CLIError(f"{path}: cannot read it as a NumPy .npy/.npz file ({e})") from e
    if isinstance(data, np.ndarray):
        return data
    with data:
        names = data.files
        if key is None:
            key = "x" if "x" in names else (names[0] if len(names) == 1 else None)
        if key is None or key not in names:
            raise CLIError(f"{path}: holds the arrays {names}; expected "
                           f"{repr(key) if key else 'x or a single array'} (choose one with "
                           "--key NAME)")
        try:
            return data[key]
        except ValueError as e:
            raise CLIError(f"{path}: array {key!r} cannot be read without pickle ({e})") from e


def input_shape(model) -> tuple | None:
    """The shape of one sample the model takes (without the batch axis), if it is known."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        layers = getattr(model, "layers", None) or []
        shape = getattr(layers[0], "input_shape", None) if layers else None
    if shape is None:
        return None
    shape = tuple(shape)
    if shape and shape[0] is None:
        shape = shape[1:]
    return shape


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wraps prose paragraphs to the terminal; keeps indented lines (examples, tables) as they
    are."""

    def __init__(self, prog, **kwargs):
        kwargs.setdefault("max_help_position", 30)
        super().__init__(prog, **kwargs)

    def _fill_text(self, text, width, indent):
        out = []
        for para in text.split("\n\n"):
            if any(line.startswith(" ") for line in para.splitlines()) or para.endswith(":"):
                out.append(para)
            else:
                out.append(textwrap.fill(" ".join(para.split()), width,
                                         initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(out)


def table(rows: dict, indent: int = 2, key_width: int = 15, width: int = 96) -> str:
    """``name  description`` lines, descriptions wrapped under each other."""
    pad = " " * (indent + key_width)
    return "\n".join(textwrap.fill(f"{' ' * indent}{k:<{key_width}}{v}", width,
                                   subsequent_indent=pad) for k, v in rows.items())
