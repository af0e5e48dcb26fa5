"""The functional API: ``Input``, layer calls on symbolic tensors, and ``Functional`` models.

``Input(shape)`` is a :mod:`tidu.compile` placeholder of shape ``(None, *shape)``. Calling a
layer on placeholders records symbolic nodes (tidu's one graph) and, here, a :class:`Node`:
which layer was applied to which inputs and made which outputs (Keras's nodes). A
``Functional`` model walks those nodes back from its outputs to its inputs once; calling it
on arrays replays the layer calls in that order on concrete tensors, so eager autograd, a
shared layer's accumulated gradients and ``train()`` / ``eval()`` all work as for any Module.

>>> import tidu
>>> from tidu.nn import Dense
>>> x = tidu.Input((3,), name="x")
>>> model = tidu.Model(x, Dense(2, name="out")(Dense(4, name="hidden")(x)))
>>> type(model).__name__, [layer.name for layer in model.layers]
('Functional', ['hidden', 'out'])
>>> model(tidu.ones(5, 3)).shape
(5, 2)
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from ..compile.variable import Variable
from ..errors import ShapeError
from ..tensor import Tensor
from . import data as D
from .model import Model
from .multi_io import (
    _arrange,
    _Arrays,
    _check_shape,
    _OutputLoss,
    _OutputLosses,
    _OutputMetric,
    _per_output,
)
from .nodes import _NODES, Input, Node, _flat, _map, _trace, _value, is_symbolic, symbolic_call

__all__ = ["Functional", "Input", "Node", "is_symbolic", "symbolic_call"]


class Functional(Model):
    """A model defined by a graph of layer calls: ``Model(inputs, outputs)``.

    Args:
        inputs: an ``Input``, a list of them, or a dict of name -> Input.
        outputs: the symbolic result of layer calls on the inputs: one, a list or a dict.
        name: the model's name.

    Raises:
        TypeError: inputs or outputs that are not symbolic tensors.
        ValueError: an output that depends on an Input missing from ``inputs``, an input
            that no output depends on.
    """

    def __init__(self, inputs, outputs, name: str | None = None):
        super().__init__(name=name)
        for what, struct in (("inputs", inputs), ("outputs", outputs)):
            bad = [v for v in _flat(struct) if not isinstance(v, Variable)]
            if bad or not _flat(struct):
                got = type(bad[0]).__name__ if bad else "nothing"
                raise TypeError(f"Model: {what} must be symbolic tensors (tidu.Input and "
                                f"layer calls on them), got {got}")
        self._input_struct, self._output_struct = inputs, outputs
        self._inputs, self._outputs = _flat(inputs), _flat(outputs)
        for v in self._inputs:
            if v.kind != "input":
                raise TypeError(f"Model: inputs must be tidu.Input tensors, got {v!r}")
        if isinstance(inputs, dict):
            self.input_names = list(inputs)
        else:
            self.input_names = [v.name or f"input_{i}" for i, v in enumerate(self._inputs)]
        self._nodes = _trace(self._inputs, self._outputs, self.input_names)
        self._node_outputs = [node.outputs for node in self._nodes]  # kept alive here
        self.output_names = self._name_outputs(outputs)
        layers = []
        for node in self._nodes:
            if node.layer is not None and all(node.layer is not m for m in layers):
                layers.append(node.layer)
        d = self.__dict__
        for i, layer in enumerate(layers):
            key = layer.name if layer.name.isidentifier() else f"layer_{i}"
            if key in d or hasattr(type(self), key):
                key = f"layer_{i}"
            d["_child_names"][key] = None
            d[key] = layer
        self._layers = layers
        self._built = True
        if len(self._inputs) == 1:
            self._build_input_shape = self._inputs[0].static_shape

    def _name_outputs(self, outputs) -> list:
        if isinstance(outputs, dict):
            return list(outputs)
        names = []
        for v in self._outputs:
            node = _NODES.get(id(v))
            base = node.name if node is not None else v.name or "output"
            name, k = base, 1
            while name in names:
                name, k = f"{base}_{k}", k + 1
            names.append(name)
        return names

    @property
    def layers(self) -> list:
        """The layers, in the order they are first called (Inputs are not layers here)."""
        return list(self._layers)

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def _multi(self) -> bool:
        return len(self._inputs) > 1 or len(self._outputs) > 1

    def get_layer(self, name: str | None = None, index: int | None = None):
        """The layer called ``name``, or at position ``index`` of ``layers``.

        Raises:
            ValueError: neither or both given, or no layer of that name or index.
        """
        if (name is None) == (index is None):
            raise ValueError("get_layer: give name or index (one of them)")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index} is out of range; the model has "
                                 f"{len(self._layers)} layers")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are "
                         f"{[m.name for m in self._layers]}")

    # ----- running -----
    def __call__(self, inputs, *args, **kwargs):
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, args, kwargs)
        return self.forward(inputs, *args, **kwargs)

    def _bind(self, inputs) -> dict:
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f"{self.name}: the inputs dict lacks {missing}; the model "
                                 f"takes {self.input_names}")
            values = [inputs[n] for n in self.input_names]
        elif isinstance(inputs, (list, tuple)) and len(self._inputs) > 1:
            values = list(inputs)
        else:
            values = [inputs]
        if len(values) != len(self._inputs):
            raise ValueError(f"{self.name}: expected {len(self._inputs)} inputs "
                             f"({self.input_names}), got {len(values)}")
        bound = {}
        for var, value, name in zip(self._inputs, values, self.input_names):
            t = value if isinstance(value, Tensor) else Tensor(value)
            shape = var.static_shape
            if t.ndim != len(shape) or any(d is not None and d != n
                                           for d, n in zip(shape[1:], t.shape[1:])):
                raise ShapeError(f"{self.name}: input '{name}' expects shape {shape}, got "
                                 f"an input of shape {tuple(t.shape)}")
            bound[id(var)] = t
        return bound

    def forward(self, inputs):
        """Replay the recorded layer calls on concrete inputs (one, a list or a dict)."""
        values = self._bind(inputs)
        for node, outs in zip(self._nodes, self._node_outputs):
            x = _map(node.inputs, lambda v: _value(v, values))
            if node.layer is None:
                out = node.op.apply(*x, **node.kwargs)
            else:
                out = node.layer(x, *node.args, **node.kwargs)
            for v, t in zip(outs, _flat(out)):
                values[id(v)] = t
        return _map(self._output_struct, lambda v: values[id(v)])

    def compute_output_shape(self, input_shape):
        return _map(self._output_struct, lambda v: v.static_shape)

    # ----- training with several inputs or outputs -----
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                **kwargs) -> None:
        """As ``Model.compile``, with per-output ``loss`` and ``metrics`` (a list in output
        order or a dict by output name) and ``loss_weights`` (the same forms)."""
        names = self.output_names
        if len(names) == 1:
            if isinstance(loss, (list, tuple, dict)):
                loss = _per_output(loss, names, "loss")[0]
            if isinstance(metrics, dict):
                metrics = _per_output(metrics, names, "metrics")[0]
            super().compile(optimizer, loss=loss, metrics=metrics, **kwargs)
            return
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='mse' or one per output "
                             f"{names}")
        if kwargs.get("jit_compile"):
            raise ValueError("compile: jit_compile is not supported for models with several "
                             "outputs yet")
        if isinstance(loss, _OutputLosses):  # as saved: the losses and their weights
            per_loss, weights = list(loss.losses), list(loss.weights)
        else:
            per_loss = [None if v is None else losses_mod.get(v)
                        for v in _per_output(loss, names, "loss")]
            weights = [1.0 if w is None else float(w)
                       for w in _per_output(loss_weights if loss_weights is not None else 1.0,
                                            names, "loss_weights")]
        super().compile(optimizer, loss=per_loss[0] or "mse", metrics=None, **kwargs)
        self.loss = _OutputLosses(per_loss, weights, names)
        if isinstance(metrics, list) and metrics and all(
                isinstance(m, dict) and str(m.get("class_name")).startswith("FunctionalOutput")
                for m in metrics):  # from a model file
            from .. import registry

            metrics = [registry.resolve("metric", m) for m in metrics]
        if metrics and all(isinstance(m, (_OutputLoss, _OutputMetric)) for m in metrics):
            self.compiled_metrics = list(metrics)  # as saved
            return
        tracked = [_OutputLoss(fn, i, f"{n}_loss")
                   for i, (fn, n) in enumerate(zip(per_loss, names)) if fn is not None]
        if isinstance(metrics, dict) or (isinstance(metrics, (list, tuple)) and metrics and
                                         all(isinstance(m, (list, tuple)) for m in metrics)):
            per_metrics = _per_output(metrics, names, "metrics")
        else:
            per_metrics = [metrics] * len(names)
        for i, (ms, fn, n) in enumerate(zip(per_metrics, per_loss, names)):
            if isinstance(ms, (str, metrics_mod.Metric)):
                ms = [ms]
            for m in ms or []:
                inner = metrics_mod.get(m, loss=fn)
                tracked.append(_OutputMetric(inner, i, f"{n}_{inner.name}"))
        self.compiled_metrics = tracked

    def _check_data(self, x, y, owner: str, names: tuple = ("x", "y")):
        if not self._multi:
            if isinstance(x, (list, tuple, dict)) and len(x) == 1 and not isinstance(x, dict) \
                    and isinstance(x[0], (np.ndarray, Tensor)):
                x = x[0]
            elif isinstance(x, dict):
                x = _arrange(x, self.input_names, names[0], owner, False)[0]
            if isinstance(y, dict):
                y = _arrange(y, self.output_names, names[1], owner, True)[0]
            return super()._check_data(x, y, owner, names)
        xs = _arrange(x, self.input_names, names[0], owner, False)
        for a, var, n in zip(xs, self._inputs, self.input_names):
            _check_shape(a, var, f"{names[0]}[{n!r}]", owner)
        ys = None
        if y is not None or owner != "predict":
            ys = _arrange(y, self.output_names, names[1], owner, True)
        for a in [*xs, *(ys or [])]:
            if len(a) == 0 or len(a) != len(xs[0]):
                raise ValueError(f"{owner}: every input and target must have the same number "
                                 f"of samples (first axis), at least one; got "
                                 f"{[len(b) for b in [*xs, *(ys or [])]]}")
        xo = _Arrays(xs) if len(xs) > 1 else xs[0]
        yo = None if ys is None else (_Arrays(ys) if len(ys) > 1 else ys[0])
        return xo, yo

    def _run(self, x) -> list:
        xs = x.arrays if isinstance(x, _Arrays) else [x]
        out = self.forward([Tensor(a) for a in xs] if len(xs) > 1 else Tensor(xs[0]))
        return _flat(out)

    def _loss_and_preds(self, x, y, sample_weight=None):
        outs = self._run(x)
        ys = y.arrays if isinstance(y, _Arrays) else [y]
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        loss = self.loss(ys, outs, **kw) if len(outs) > 1 else self.loss(ys[0], outs[0], **kw)
        reg = self.regularization_loss()
        if reg is not None:
            loss = loss + reg
        preds = [o.data for o in outs]
        return loss, (preds if len(preds) > 1 else preds[0])

    def train_step(self, x, y=None, sample_weight=None, **kwargs):
        """As ``Model.train_step``; with several inputs or outputs, x and y are lists (or
        dicts) and the predictions come back as a list. One ``sample_weight`` weighs every
        output's loss."""
        if not self._multi:
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            return super().train_step(x, y, **kw, **kwargs)
        x, y = self._check_data(x, y, "train_step")
        dev = self._batch_device or self.device
        x, y = D.to_model_device(x, dev), D.to_model_device(y, dev)
        sample_weight = D.to_model_device(sample_weight, dev)
        loss, preds = self._loss_and_preds(x, y, sample_weight)
        value = float(loss.data)
        if not math.isfinite(value):
            return value, preds
        self.optimizer.zero_grad()
        loss.backward()
        self._apply_update(value, preds)
        return value, preds

    def _eval_batch(self, x, y, sample_weight=None, **kwargs):
        if not self._multi:
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            return super()._eval_batch(x, y, **kw, **kwargs)
        loss, preds = self._loss_and_preds(x, y, sample_weight)
        return float(loss.data), preds

    def predict(self, x, batch_size: int = 32, verbose: int = 0, **kwargs):
        """The outputs for ``x``: an array, or a list of arrays for several outputs."""
        if not self._multi:
            return super().predict(self._check_data(x, None, "predict")[0],
                                   batch_size=batch_size, verbose=verbose, **kwargs)
        batch_size = D.check_batch_size(batch_size, "predict")
        x, _ = self._check_data(x, None, "predict")
        outs = self._in_batches(x, batch_size,
                                lambda b: [backend.to_host(o.data) for o in self._run(b)])
        result = [np.concatenate(col) for col in zip(*outs)]
        return result if len(result) > 1 else result[0]

    # ----- the graph as data -----
    def _node_keys(self) -> dict:
        """id(Variable) -> [layer name, node index, tensor index] for this graph."""
        keys = {id(v): [n, 0, 0] for v, n in zip(self._inputs, self.input_names)}
        count: dict = {}
        for node, outs in zip(self._nodes, self._node_outputs):
            who = id(node.layer) if node.layer is not None else node.name
            k = count[who] = count.get(who, -1) + 1
            for t, v in enumerate(outs):
                keys[id(v)] = [node.name, k, t]
        return keys

    def get_config(self) -> dict:
        """Keras's layout: ``layers`` (each with its ``inbound_nodes``), ``input_layers``
        and ``output_layers`` as [layer name, node index, tensor index]."""
        from .. import registry

        ops = [node.name for node in self._nodes if node.layer is None]
        if ops:
            raise ValueError(f"get_config: '{self.name}' applies the operations {ops} directly "
                             "to symbolic tensors; a saved graph needs layers: wrap them in "
                             "a layer (a tidu.nn.Module), as Keras's Lambda")
        keys = self._node_keys()
        layers = [{"class_name": "InputLayer", "name": n, "inbound_nodes": [],
                   "config": {"batch_shape": list(v.static_shape), "dtype": str(v.dtype),
                              "name": n}} for v, n in zip(self._inputs, self.input_names)]
        for layer in self._layers:
            entry = registry.serialize(layer, "layer")
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {"inputs": _map(node.inputs, lambda v: keys[id(v)]),
                 "args": list(node.args), "kwargs": node.kwargs}
                for node in self._nodes if node.layer is layer]
            layers.append(entry)
        return {"name": self.name, "layers": layers,
                "input_layers": _map(self._input_struct, lambda v: keys[id(v)]),
                "output_layers": _map(self._output_struct, lambda v: keys[id(v)])}

    @classmethod
    def from_config(cls, config: dict) -> Functional:
        """A new model (fresh weights) with the graph of ``get_config()``'s output."""
        from .. import registry

        made, pending = {}, []
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                c = entry["config"]
                made[(entry["name"], 0, 0)] = Input(tuple(c["batch_shape"][1:]), c["dtype"],
                                                    c["name"])
                continue
            layer = registry.resolve("layer", {"class_name": entry["class_name"],
                                               "config": entry["config"]})
            pending.extend((layer, entry["name"], k, n)
                           for k, n in enumerate(entry["inbound_nodes"]))

        def ready(struct):
            return all(tuple(k) in made for k in _flat_keys(struct))

        while pending:
            progress = [p for p in pending if ready(p[3]["inputs"])
                        and all(q[1] != p[1] or q[2] >= p[2] for q in pending)]
            if not progress:
                raise ValueError(f"from_config: the graph of {config.get('name')!r} cannot be "
                                 "connected: some inbound node names a missing layer")
            layer, name, k, n = progress[0]
            x = _map_keys(n["inputs"], lambda key: made[tuple(key)])
            out = layer(x, *n.get("args", []), **n.get("kwargs", {}))
            for t, v in enumerate(_flat(out)):
                made[(name, k, t)] = v
            pending.remove(progress[0])
        inputs = _map_keys(config["input_layers"], lambda key: made[tuple(key)])
        outputs = _map_keys(config["output_layers"], lambda key: made[tuple(key)])
        return cls(inputs, outputs, name=config.get("name"))

    def _summary_rows(self) -> list:
        """(name (type), output shape, parameter count, connected to) per row."""
        from .summary import _count, _fmt_shape

        keys = self._node_keys()
        rows = [(f"{n} (InputLayer)", _fmt_shape(v.static_shape), "0", "-")
                for v, n in zip(self._inputs, self.input_names)]
        seen = set()
        for first, outs in zip(self._nodes, self._node_outputs):
            layer = first.layer
            if layer is not None and id(layer) in seen:
                continue
            seen.add(id(layer))
            nodes = [n for n in self._nodes if n.layer is layer] if layer else [first]
            shapes = [v.static_shape for v in outs]
            links = ["{}[{}][{}]".format(*keys[id(v)]) for node in nodes
                     for v in _flat(node.inputs) if isinstance(v, Tensor) and id(v) in keys]
            kind = type(layer).__name__ if layer is not None else f"{first.op.__name__} op"
            rows.append((f"{first.name} ({kind})",
                         _fmt_shape(shapes[0]) if len(shapes) == 1 else
                         ", ".join(map(_fmt_shape, shapes)),
                         f"{_count(layer)[0] if layer else 0:,}", ", ".join(links)))
        return rows


def _is_key(x) -> bool:
    return (isinstance(x, list) and len(x) == 3 and isinstance(x[0], str)
            and isinstance(x[1], int) and isinstance(x[2], int))


def _flat_keys(struct) -> list:
    if _is_key(struct):
        return [struct]
    if isinstance(struct, dict):
        return [k for v in struct.values() for k in _flat_keys(v)]
    return [k for v in struct for k in _flat_keys(v)]


def _map_keys(struct, fn):
    if _is_key(struct):
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_keys(v, fn) for k, v in struct.items()}
    return [_map_keys(v, fn) for v in struct]

