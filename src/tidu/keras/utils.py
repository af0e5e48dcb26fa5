"""``keras.utils``: ``to_categorical``, ``set_random_seed`` and ``plot_model``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..datasets import to_categorical
from ..random import manual_seed


def set_random_seed(seed: int) -> None:
    """Seed tidu's one generator (weights, dropout, shuffling): ``tidu.manual_seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"set_random_seed: seed must be an int, got {type(seed).__name__}")
    manual_seed(seed)


def _layers_of(model) -> list:
    layers = getattr(model, "layers", None)
    return list(layers) if layers is not None else list(model.children())


def _shape_text(shape) -> str:
    return "?" if shape is None else str(tuple(shape)).replace("None", "?")


def _shapes(model, layers: list) -> list:
    """(input shape, output shape) of each layer: a one-sample zero batch run through a
    built Sequential, else the input shape each layer was built for."""
    from ..autograd import no_grad
    from ..tensor import Tensor

    shape = getattr(model, "input_shape", None)
    if getattr(model, "layers", None) is None or shape is None:
        return [(getattr(la, "input_shape", None), None) for la in layers]
    was_training = model.training
    model.eval()
    out = []
    try:
        with no_grad():
            x = Tensor(np.zeros((1, *shape[1:]), dtype="float32"))
            for layer in layers:
                y = layer(x)
                out.append(((None, *x.shape[1:]), (None, *y.shape[1:])))
                x = y
    finally:
        model.train(was_training)
    return out


def _graph_lines(model, show_shapes: bool, show_layer_names: bool) -> list:
    """Boxes and edges of a functional model: its Inputs, then one box per layer (a shared
    layer once), an edge from the layer (or Input) that made each input of a call."""
    from ..models.nodes import _flat
    from ..viz import _quote

    keys = model._node_keys()
    boxes: dict = {}  # name -> (type, output shapes)
    for v, name in zip(model._inputs, model.input_names):
        boxes[name] = ("InputLayer", [v.static_shape])
    edges: list = []
    for node, outs in zip(model._nodes, model._node_outputs):
        kind = type(node.layer).__name__ if node.layer is not None else f"{node.name} op"
        boxes.setdefault(node.name, (kind, [v.static_shape for v in outs]))
        for v in _flat(node.inputs):
            key = keys.get(id(v))
            if key is not None and (key[0], node.name) not in edges:
                edges.append((key[0], node.name))
    ids = {name: f"l{i}" for i, name in enumerate(boxes)}
    lines = []
    for name, (kind, shapes) in boxes.items():
        label = f"{name}: {kind}" if show_layer_names else kind
        if show_shapes:
            label += "\noutput: " + ", ".join(_shape_text(sh) for sh in shapes)
        lines.append(f"  {ids[name]} [label={_quote(label)}];")
    lines += [f"  {ids[a]} -> {ids[b]};" for a, b in edges]
    return lines + ["}"]


def model_to_dot(model, show_shapes: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB") -> str:
    """The model's layers as Graphviz DOT text: one box per layer (its class, its name, and
    with ``show_shapes`` its input and output shapes), an edge from each to the next."""
    from ..viz import _quote

    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"plot_model: rankdir must be 'TB', 'LR', 'BT' or 'RL', got "
                         f"{rankdir!r}")
    lines = ["digraph model {", f"  rankdir={rankdir};", "  node [shape=box];"]
    if hasattr(model, "_nodes") and hasattr(model, "_node_keys"):  # a functional model
        return "\n".join(lines + _graph_lines(model, show_shapes, show_layer_names)) + "\n"
    layers = _layers_of(model)
    shapes = _shapes(model, layers) if show_shapes else None
    for i, layer in enumerate(layers):
        label = type(layer).__name__
        if show_layer_names:
            label = f"{layer.name}: {label}"
        if shapes is not None:
            label += f"\ninput: {_shape_text(shapes[i][0])}"
            if shapes[i][1] is not None:
                label += f"\noutput: {_shape_text(shapes[i][1])}"
        lines.append(f"  l{i} [label={_quote(label)}];")
    lines += [f"  l{i} -> l{i + 1};" for i in range(len(layers) - 1)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def plot_model(model, to_file: str | os.PathLike = "model.png", show_shapes: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", **kwargs) -> str:
    """Draw the model's layers (see :func:`model_to_dot`) to ``to_file``: ``.dot``/``.gv``
    writes the DOT text, ``.png``/``.svg``/``.pdf`` runs Graphviz's ``dot`` (raises
    ``tidu.viz.GraphvizNotFoundError`` when it is not installed). Returns the DOT text.
    Keras's other drawing options (``show_dtype``, ``expand_nested``, ...) are ignored."""
    from ..viz import _format_of, _run_dot, _write_atomic

    text = model_to_dot(model, show_shapes, show_layer_names, rankdir)
    path = Path(to_file)
    fmt = _format_of(path, None)
    data = text.encode("utf-8") if fmt in ("dot", "gv") else _run_dot(text, fmt)
    _write_atomic(path, data)
    return text


__all__ = ["model_to_dot", "plot_model", "set_random_seed", "to_categorical"]
