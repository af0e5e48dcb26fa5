"""``tidu.save`` / ``tidu.load``: state dicts in a safe file, never a pickle.

The object is a tree of dicts (keys str or int), lists and tuples whose leaves are Tensors,
NumPy arrays, numbers, strings, bools or None: a model's ``state_dict()``, an optimizer's
``state_dict()``, or a dict holding both with an epoch count. The arrays go into a
safetensors file through :func:`tidu.io.save_tensors`, named by their path in the tree
(``"model.fc1.weight"``); the tree itself, with every other leaf, goes into the file's
metadata as JSON. Loading reads that JSON and the arrays (validated by
:func:`tidu.io.load_tensors`) and rebuilds the same tree: Tensors come back as Tensors,
arrays as arrays, int keys as ints.

>>> import tempfile, os, tidu
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> tidu.save({"w": tidu.ones(2), "epoch": 3}, path)
>>> tidu.load(path)["epoch"]
3
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from .io import load_tensors, save_tensors
from .tensor import Tensor

__all__ = ["load", "save"]

_TREE = "tidu.tree"
_FORMAT = "tidu.save/1"


def _encode(obj, path: list, arrays: dict):
    where = "/".join(str(p) for p in path) or "the object"
    if isinstance(obj, (Tensor, np.ndarray)):
        name = ".".join(str(p) for p in path) or "tensor"
        if name in arrays:
            raise ValueError(f"tidu.save: two entries would share the name {name!r} (a key "
                             "with '.' next to a nested dict of the same path)")
        arrays[name] = obj.numpy() if isinstance(obj, Tensor) else obj
        return {"$tensor" if isinstance(obj, Tensor) else "$array": name}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"$float": repr(obj)}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if isinstance(k, np.integer):
                k = int(k)
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"tidu.save: dict keys must be str or int, got "
                                f"{type(k).__name__} {k!r} in {where}")
            items.append([k, _encode(v, [*path, k], arrays)])
        return {"$dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "$tuple" if isinstance(obj, tuple) else "$list"
        return {kind: [_encode(v, [*path, i], arrays) for i, v in enumerate(obj)]}
    raise TypeError(
        f"tidu.save: cannot save {type(obj).__name__} at {where}; tidu.save writes state "
        "dicts (dicts, lists and tuples of Tensors, arrays, numbers, strings and None) into "
        "a safe file and never pickles objects. Save obj.state_dict() instead of the object")


def _decode(node, arrays: dict):
    if isinstance(node, dict):
        (kind, value), = node.items()
        if kind == "$tensor":
            return Tensor(arrays[value])
        if kind == "$array":
            return arrays[value]
        if kind == "$float":
            return float(value)
        if kind == "$dict":
            return {k: _decode(v, arrays) for k, v in value}
        if kind == "$tuple":
            return tuple(_decode(v, arrays) for v in value)
        return [_decode(v, arrays) for v in value]
    return node


def save(obj, path: str | os.PathLike) -> None:
    """Write a state dict (or any tree of dicts, lists and tuples of Tensors, arrays, numbers,
    strings and None) to ``path`` as safetensors, atomically.

    Raises:
        TypeError: a leaf of another type (an object, a function, a module): the message
            names its path in the tree and suggests saving its ``state_dict()``.
    """
    arrays: dict = {}
    tree = _encode(obj, [], arrays)
    save_tensors(arrays, path, metadata={"format": _FORMAT, _TREE: json.dumps(tree)})


def load(path: str | os.PathLike, map_location=None, weights_only: bool = True):
    """Read what :func:`save` wrote: the same tree, Tensors as Tensors.

    ``map_location`` and ``weights_only`` are accepted for PyTorch's spelling and ignored
    (there is one device, and nothing is ever unpickled). A plain safetensors file without
    tidu's tree comes back as a dict of name -> Tensor.

    Raises:
        tidu.io.FileFormatError: the file is not a valid safetensors (or npz) file.
    """
    arrays, metadata = load_tensors(path)
    if _TREE not in metadata:
        return {k: Tensor(v) for k, v in arrays.items()}
    return _decode(json.loads(metadata[_TREE]), arrays)
