"""Whole-model files: ``model.save(path)`` and ``tidu.models.load_model(path)``.

A model file is one safetensors file (suffix ``.tidu``; ``.safetensors`` is accepted too, and
any safetensors reader opens either). Nothing in it can run code:

- the weights, one tensor per ``state_dict()`` key ('0.kernel', '0.bias', ...);
- the optimizer's slots as tensors ``optimizer/<parameter index>/<slot>`` (with
  ``include_optimizer=True`` and a built optimizer);
- the header's ``__metadata__``, strings holding JSON: ``format`` ('tidu.model'),
  ``format_version``, ``model`` (the architecture, ``{'class_name', 'config'}`` from every
  layer's ``get_config``), ``input_shape``, ``build_shapes`` (each built layer's input
  shape, for layers that create their weights lazily), ``compile`` (loss, metrics and optimizer
  configs) and ``optimizer_state`` (class, iterations, learning rate, hyperparameters and
  slot names).

Loading builds the model from its config (names resolve through :mod:`tidu.registry`: tidu's
own classes, ``@tidu.register_serializable`` classes, or ``custom_objects``), then reads the
weights with the fresh model's names, shapes and dtypes as ``expected``: every check passes
before any weight is copied, or the call raises and nothing is returned.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from .. import io, registry

FORMAT = "tidu.model"
FORMAT_VERSION = 1
SUFFIXES = (".tidu", ".safetensors")
_OPT = "optimizer/"


# ----------------------------------------------------------------------------- JSON
def _plain(value, where: str):
    """``value`` as JSON data (tuples become lists), or a ValueError naming where it is."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, np.generic):
        return _plain(value.item(), where)
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ValueError(f"{where} has the key {bad[0]!r}, which is not a string")
        return {k: _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise ValueError(f"{where} is {type(value).__name__} {value!r}, which a model file cannot "
                     "hold (JSON: numbers, strings, lists, dicts, None); register it with "
                     "@tidu.register_serializable or give get_config plain values")


def _unplain(value):
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _unplain(v) for k, v in value.items()}
    return value


def _dumps(value, where: str) -> str:
    return json.dumps(_plain(value, where), allow_nan=False)


# ----------------------------------------------------------------------------- compile
def _loss_config(loss):
    from ..losses import LossFunctionWrapper

    if isinstance(loss, LossFunctionWrapper):
        name = registry.function_name(loss.fn, "loss")
        if name is None:
            raise ValueError(
                f"the loss is the function {getattr(loss.fn, '__name__', loss.fn)!r}, which "
                "has no name a file can hold: decorate it with "
                "@tidu.register_serializable(kind='loss'), or compile with a Loss class")
        return name
    return registry.serialize(loss, "loss")


def _metric_config(metric, loss_names: dict):
    from .. import metrics as M

    if type(metric).__name__ == "_ShapeAccuracy":
        return metric.name  # 'accuracy' resolves again from the loss and the first batch
    if type(metric) is M.MeanMetricWrapper:
        if metric.name.strip().lower() in loss_names:
            return metric.name  # a loss used as a metric, by its name
        name = registry.function_name(metric.fn, "metric")
        if name is None:
            raise ValueError(
                f"the metric {metric.name!r} is the function "
                f"{getattr(metric.fn, '__name__', metric.fn)!r}, which has no name a file "
                "can hold: decorate it with @tidu.register_serializable(kind='metric')")
        return name
    return registry.serialize(metric, "metric")


def _compile_config(model) -> dict | None:
    from .. import losses

    if model.loss is None:
        return None
    return {"loss": _loss_config(model.loss),
            "metrics": [_metric_config(m, losses.ALIASES) for m in model.compiled_metrics],
            "optimizer": registry.serialize(model.optimizer, "optimizer")}


# ----------------------------------------------------------------------------- save
def _check_path(path, what: str) -> str:
    path = os.fspath(path)
    if not path.endswith(SUFFIXES):
        raise ValueError(f"{what}: {path!r} should end in '.tidu' (a safetensors file holding "
                         f"the whole model; '.safetensors' works too), got "
                         f"{os.path.splitext(path)[1] or 'no suffix'!r}")
    return path


def save_model(model, path, include_optimizer: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile arguments and, optionally, the
    optimizer's state) to one safetensors file, atomically.

    Args:
        model: a built tidu Model (or Module).
        path: the file, ending in '.tidu' (or '.safetensors').
        include_optimizer: also save the optimizer's slots and step count, so that training
            continues exactly where it stopped.

    Raises:
        ValueError: another suffix, an unbuilt model, or a config value JSON cannot hold
            (the message says where).
        ImportError: the safetensors library is missing (``pip install tidu[safetensors]``).
    """
    path = _check_path(path, "save")
    if not model.built:
        raise ValueError(f"save: '{model.name}' is not built, so its weights do not exist yet: "
                         "call it on a batch (or fit it) first, or give input_shape")
    try:
        meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                "model": _dumps(registry.serialize(model, "layer"), "the model's config"),
                "input_shape": _dumps(model.input_shape, "input_shape"),
                "build_shapes": _dumps(_build_shapes(model), "the layers' input shapes")}
        compiled = _compile_config(model)
        if compiled is not None:
            meta["compile"] = _dumps(compiled, "the compile arguments")
    except ValueError as e:
        raise ValueError(f"save: cannot write {path!r}: {e}") from None
    tensors = dict(model.state_dict())
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None and opt.built:
        state = opt.state_dict()
        slots = state.pop("state")
        state["slots"] = [sorted(slots[i]) for i in range(len(slots))]
        meta["optimizer_state"] = _dumps(state, "the optimizer's state")
        for i, entry in slots.items():
            for slot, array in entry.items():
                tensors[f"{_OPT}{i}/{slot}"] = array
    io.save_tensors(tensors, path, meta)


# ----------------------------------------------------------------------------- load
def _json(meta: dict, key: str, path: str, required: bool = True):
    if key not in meta:
        if required:
            raise io.FileFormatError(path, f"the metadata has no {key!r} entry (keys: "
                                     f"{sorted(meta)}); is this a file of model.save?")
        return None
    try:
        return _unplain(json.loads(meta[key]))
    except (json.JSONDecodeError, RecursionError) as e:
        raise io.FileFormatError(path, f"the metadata entry {key!r} is not valid JSON: "
                                 f"{e}") from None


def _build_shapes(model) -> dict:
    """Each built module's input shape by dotted name ('' is the model): what lazily built
    layers (a subclassed model's) need to create their weights again."""
    return {n: m.input_shape for n, m in model.named_modules() if m.input_shape is not None}


def _build(model, shapes: dict) -> None:
    for name, m in model.named_modules():  # parents first: a Sequential builds its layers
        shape = shapes.get(name)
        if not m.built and isinstance(shape, list):
            m.build(tuple(shape))


def load_model(path, custom_objects: dict | None = None, compile: bool = True):
    """Read a file written by ``model.save``: the model, its weights and (with ``compile``)
    its loss, metrics and optimizer, the optimizer's state included when it was saved.

    Args:
        path: the '.tidu' (or '.safetensors') file.
        custom_objects: name -> class or function, for user classes that were not
            registered with ``@tidu.register_serializable``.
        compile: compile the model with the saved arguments (when it was compiled).

    Returns:
        The model (a fresh object; training continues bit-identically from the saved state).

    Raises:
        tidu.io.FileFormatError: a damaged file, a file of another kind, or weights that do
            not match the architecture (nothing is loaded).
        ValueError: a class, loss, metric or optimizer name that is not known (the message
            names it, its kind and the file, and says how to register it).
    """
    path = os.fspath(path)
    _, meta = io.load_tensors(path, keys=())  # the header, validated in full
    if meta.get("format") != FORMAT:
        raise io.FileFormatError(path, f"this is not a tidu model file (format "
                                 f"{meta.get('format')!r}, expected {FORMAT!r}); weights-only "
                                 "files load with model.load_weights")
    version = meta.get("format_version")
    if version != str(FORMAT_VERSION):
        raise io.FileFormatError(path, f"format_version {version!r} is not one this tidu "
                                 f"reads ({FORMAT_VERSION}); upgrade tidu")
    arch = _json(meta, "model", path)
    shapes = _json(meta, "build_shapes", path)
    if not isinstance(shapes, dict):
        raise io.FileFormatError(path, f"'build_shapes' must be a JSON object, got {shapes!r}")
    compiled = _json(meta, "compile", path, required=False) if compile else None
    opt_state = _json(meta, "optimizer_state", path, required=False) if compiled else None
    try:
        with registry.custom_object_scope(custom_objects):
            model = registry.resolve("layer", arch)
            _build(model, shapes)
            if compiled is not None:
                model.compile(optimizer=registry.resolve("optimizer", compiled["optimizer"]),
                              loss=registry.resolve("loss", compiled["loss"]),
                              metrics=compiled.get("metrics") or None)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"load_model: {os.path.basename(path)}: {e} (file {path})") from None
    expected = {k: (v.shape, v.dtype) for k, v in model.state_dict().items()}
    weights = list(expected)
    opt = model.optimizer if compiled is not None else None
    if opt_state is not None:
        opt.build(model.parameters())
        fresh = opt.state_dict()["state"]
        for i, entry in fresh.items():
            for slot, a in entry.items():
                expected[f"{_OPT}{i}/{slot}"] = (a.shape, a.dtype)
        arrays, _ = io.load_tensors(path, expected)  # exactly these entries, or nothing
        state = {k: v for k, v in opt_state.items() if k != "slots"}
        state["state"] = {i: {slot: arrays[f"{_OPT}{i}/{slot}"] for slot in entry}
                          for i, entry in fresh.items()}
        try:
            opt.load_state_dict(state)
        except (ValueError, TypeError) as e:
            raise io.FileFormatError(path, f"the optimizer state does not fit: {e}") from None
    else:  # the file may also hold optimizer slots, which are not needed
        arrays, _ = io.load_tensors(path, expected, keys=weights)
    model.load_state_dict({k: arrays[k] for k in weights})
    return model
