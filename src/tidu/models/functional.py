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
import weakref

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from ..autograd import no_grad
from ..compile.variable import Variable, placeholder
from ..errors import ShapeError
from ..nn._utils import unique_name
from ..tensor import Tensor
from . import data as D
from .model import Model

_NODES: dict = {}  # id(output Variable) -> its Node, while the Variable lives


class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a Variable or a list/tuple/dict of them)
    with extra ``args`` / ``kwargs``, giving the Variables ``outputs`` (flat).

    A Node holds its inputs (and so the graph before it) but only weak references to its
    outputs: a graph nobody holds is freed. A Functional model keeps its own Variables."""

    __slots__ = ("layer", "inputs", "args", "kwargs", "_outputs")

    def __init__(self, layer, inputs, args, kwargs, outputs):
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs
        self._outputs = [weakref.ref(v) for v in outputs]
        for v in outputs:
            _NODES[id(v)] = self
            weakref.finalize(v, _NODES.pop, id(v), None)

    @property
    def outputs(self) -> list:
        return [r() for r in self._outputs]


def Input(shape, dtype="float32", name: str | None = None) -> Variable:
    """A symbolic input of one sample's ``shape`` (the batch axis is added, as None).

    >>> import tidu
    >>> tidu.Input((784,), name="pixels")
    Variable(input 'pixels', shape=(None, 784), dtype=float32)
    """
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"Input: shape must be a tuple of ints (one sample's shape, e.g. "
                        f"(784,)), got {shape!r}") from None
    return placeholder((None, *shape), dtype, name=name or unique_name("input_layer"))


# ----------------------------------------------------------------------------- structures
def _flat(struct) -> list:
    if isinstance(struct, dict):
        return [v for x in struct.values() for v in _flat(x)]
    if isinstance(struct, (list, tuple)):
        return [v for x in struct for v in _flat(x)]
    return [struct]


def _map(struct, fn):
    if isinstance(struct, dict):
        return {k: _map(v, fn) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map(v, fn) for v in struct)
    return fn(struct)


def is_symbolic(x) -> bool:
    """True for a Variable, or a list/tuple/dict holding one."""
    if isinstance(x, Variable):
        return True
    if isinstance(x, (list, tuple, dict)):
        return any(isinstance(v, Variable) for v in _flat(x))
    return False


def _shape_of(struct):
    return _map(struct, lambda v: v.static_shape if isinstance(v, Tensor) else None)


def symbolic_call(layer, x, args: tuple, kwargs: dict):
    """``layer(x, *args, **kwargs)`` on symbolic ``x``: build, record the graph, note the
    Node. Errors from the layer are re-raised naming it."""
    shapes = _shape_of(x)
    try:
        if not layer._built:
            if isinstance(x, Variable):
                shape = x.static_shape
                layer.build((None, *shape[1:]) if shape else ())
            else:
                layer.build(shapes)
        out = layer.forward(x, *args, **kwargs)
        probe = _probe(layer, x, args, kwargs)
        if probe is None and any(v.static_shape is None for v in _flat(out)
                                 if isinstance(v, Variable)):
            raise ShapeError(f"cannot tell the shape of its output for inputs of shape "
                             f"{shapes}")
    except Exception as e:
        if f"{layer.name}" in str(e):
            raise
        msg = (f"layer '{layer.name}' ({type(layer).__name__}) cannot be called on inputs "
               f"of shape {shapes}: {e}")
        try:
            new = type(e)(msg)
        except Exception:
            new = ShapeError(msg)
        raise new from e
    inputs = {id(v) for v in _flat(x)}

    def fresh(v):
        if not isinstance(v, Variable):
            raise TypeError(f"layer '{layer.name}' returned {type(v).__name__} on symbolic "
                            "inputs; a layer in a functional model must return tidu tensors")
        if id(v) in inputs or id(v) in _NODES:  # an identity layer: a node of its own
            v = v + 0
        return v

    out = _map(out, fresh)
    for v, t in zip(_flat(out), probe or ()):
        if v.static_shape is None:
            v._shape = (None, *t.shape[1:]) if t.ndim else ()
    node = Node(layer, x, tuple(args), dict(kwargs), _flat(out))
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return out


def _probe(layer, x, args, kwargs) -> list | None:
    """The layer's outputs on one zero sample (evaluation mode, no gradients): checks the
    call at once and gives the shapes the symbolic graph cannot infer. None when an input
    has axes of unknown length."""
    flat = [v for v in _flat(x) if isinstance(v, Variable)]
    if any(v.static_shape is None or None in v.static_shape[1:] for v in flat):
        return None

    def zeros(v):
        if not isinstance(v, Variable):
            return v
        shape = v.static_shape
        return Tensor(np.zeros((1, *shape[1:]) if shape else (), v.dtype))

    modes = [(m, m.training) for m in layer.modules()]
    layer.eval()
    try:
        with no_grad():
            return _flat(layer.forward(_map(x, zeros), *args, **kwargs))
    finally:
        for m, mode in modes:
            m.training = mode


# ----------------------------------------------------------------------------- data
class _Arrays:
    """Several arrays with the same samples, sliced together (``x[idx]``, ``len(x)``);
    an integer index picks one array."""

    def __init__(self, arrays):
        self.arrays = list(arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    @property
    def shape(self):
        return tuple(a.shape for a in self.arrays)

    def __getitem__(self, idx):
        if isinstance(idx, int):
            return self.arrays[idx]
        return _Arrays(a[idx] for a in self.arrays)


def _arrange(data, names: list, what: str, owner: str, labels: bool) -> list:
    """``data`` (one array, a list in order, or a dict by name) as a list of arrays."""
    if isinstance(data, _Arrays):
        return data.arrays
    if isinstance(data, dict):
        unknown = [k for k in data if k not in names]
        missing = [k for k in names if k not in data]
        if unknown or missing:
            raise ValueError(f"{owner}: {what} is a dict with keys {sorted(map(str, data))}, "
                             f"but the model's names are {names}")
        data = [data[k] for k in names]
    elif not isinstance(data, (list, tuple)) or (len(names) == 1 and not (
            len(data) == 1 and isinstance(data[0], (np.ndarray, Tensor)))):
        data = [data]
    if len(data) != len(names):
        raise ValueError(f"{owner}: {what} must hold {len(names)} arrays ({names}), got "
                         f"{len(data)}")
    return [D.to_array(a, f"{what}[{n!r}]", owner, labels=labels) for a, n in zip(data, names)]


def _check_shape(array, var: Variable, what: str, owner: str) -> None:
    shape = var.static_shape
    if array.ndim != len(shape) or any(d is not None and d != n
                                       for d, n in zip(shape[1:], array.shape[1:])):
        want = "(n_samples, " + ", ".join("?" if d is None else str(d) for d in shape[1:])
        raise ShapeError(f"{owner}: {what} has shape {array.shape}, but Input "
                         f"'{var.name}' takes shape {want})")


# ----------------------------------------------------------------------------- per output
class _OutputLosses:
    """The weighted sum of one loss per output (``compile(loss=[...], loss_weights=...)``)."""

    def __init__(self, losses: list, weights: list, names: list):
        self.losses, self.weights, self.names = losses, weights, names

    def __call__(self, y_true, y_pred):
        total = None
        for i, (fn, w) in enumerate(zip(self.losses, self.weights)):
            if fn is None:
                continue
            term = fn(y_true[i], y_pred[i])
            term = term if w == 1.0 else term * w
            total = term if total is None else total + term
        return total


class _OutputMetric(metrics_mod.Metric):
    """A metric on one output: picks ``y_true[index]`` and ``y_pred[index]``."""

    def __init__(self, inner, index: int, name: str):
        self.inner, self.index = inner, index
        super().__init__(name)

    def reset_state(self) -> None:
        self.inner.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self.inner.update_state(y_true[self.index], y_pred[self.index], sample_weight)

    def result(self) -> float:
        return self.inner.result()


class _OutputLoss(metrics_mod.Mean):
    """The running mean of one output's loss (Keras's ``<output>_loss`` log)."""

    def __init__(self, loss, index: int, name: str):
        self.loss_fn, self.index = loss, index
        super().__init__(name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        pred = y_pred[self.index]
        with no_grad():
            value = float(self.loss_fn(y_true[self.index], Tensor(pred)).data)
        super().update_state(value, sample_weight=len(pred))


def _per_output(value, names: list, what: str) -> list:
    """A value per output from a list (in order), a dict (by output name) or one value."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not outputs of the "
                             f"model; its outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: {what} must have one entry per output ({names}), got "
                             f"{len(value)}")
        return list(value)
    return [value] * len(names)


# ----------------------------------------------------------------------------- the model
def _trace(inputs: list, outputs: list, input_names: list) -> list:
    """The Nodes between ``inputs`` and ``outputs``, each after the nodes it reads from."""
    known = {id(v) for v in inputs}
    used, done, order = set(), set(), []

    def producer(v):
        if id(v) in known:
            used.add(id(v))
            return None
        node = _NODES.get(id(v))
        if node is not None:
            return node
        if isinstance(v, Variable) and v.kind == "input":
            raise ValueError(f"Model: the outputs depend on Input '{v.name}', which is not in "
                             f"inputs ({input_names}); add it to inputs=[...]")
        raise ValueError(f"Model: the outputs depend on {v!r}, which no layer made: compute "
                         "it inside a layer (a tidu.nn.Module) called on the Inputs")

    stack = [(n, False) for v in reversed(outputs) if (n := producer(v)) is not None]
    while stack:
        node, ready = stack.pop()
        if id(node) in done:
            continue
        if ready:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for v in reversed(_flat(node.inputs)):
            if isinstance(v, Tensor):
                n = producer(v)
                if n is not None and id(n) not in done:
                    stack.append((n, False))
    unused = [n for v, n in zip(inputs, input_names) if id(v) not in used]
    if unused:
        raise ValueError(f"Model: the outputs do not depend on the inputs {unused}; every "
                         "Input in inputs must lead to an output")
    return order


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
            if all(node.layer is not m for m in layers):
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
            base = node.layer.name if node is not None else v.name or "output"
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
            x = _map(node.inputs, lambda v: values[id(v)] if isinstance(v, Tensor) else v)
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
        per_loss = [None if v is None else losses_mod.get(v)
                    for v in _per_output(loss, names, "loss")]
        weights = [1.0 if w is None else float(w)
                   for w in _per_output(loss_weights if loss_weights is not None else 1.0,
                                        names, "loss_weights")]
        super().compile(optimizer, loss=per_loss[0] or "mse", metrics=None, **kwargs)
        self.loss = _OutputLosses(per_loss, weights, names)
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

    def _loss_and_preds(self, x, y):
        outs = self._run(x)
        ys = y.arrays if isinstance(y, _Arrays) else [y]
        loss = self.loss(ys, outs) if len(outs) > 1 else self.loss(ys[0], outs[0])
        reg = self.regularization_loss()
        if reg is not None:
            loss = loss + reg
        preds = [o.data for o in outs]
        return loss, (preds if len(preds) > 1 else preds[0])

    def train_step(self, x, y, *args, **kwargs):
        if not self._multi:
            return super().train_step(x, y, *args, **kwargs)
        x, y = self._check_data(x, y, "train_step")
        loss, preds = self._loss_and_preds(x, y)
        value = float(loss.data)
        if not math.isfinite(value):
            return value, preds
        self.optimizer.zero_grad()
        loss.backward()
        self._apply_update(value, preds)
        return value, preds

    def _eval_batch(self, x, y, *args, **kwargs):
        if not self._multi:
            return super()._eval_batch(x, y, *args, **kwargs)
        loss, preds = self._loss_and_preds(x, y)
        return float(loss.data), preds

    def predict(self, x, batch_size: int = 32, verbose: int = 0, **kwargs):
        """The outputs for ``x``: an array, or a list of arrays for several outputs."""
        if not self._multi:
            return super().predict(self._check_data(x, None, "predict")[0],
                                   batch_size=batch_size, verbose=verbose, **kwargs)
        batch_size = D.check_batch_size(batch_size, "predict")
        x, _ = self._check_data(x, None, "predict")
        was_training = self.training
        self.eval()
        outs = []
        try:
            with no_grad():
                for idx in D.batches(len(x), batch_size):
                    outs.append([o.data for o in self._run(x[idx])])
        finally:
            self.train(was_training)
        result = [np.concatenate(col) for col in zip(*outs)]
        return result if len(result) > 1 else result[0]

    # ----- the graph as data -----
    def _node_keys(self) -> dict:
        """id(Variable) -> [layer name, node index, tensor index] for this graph."""
        keys = {id(v): [n, 0, 0] for v, n in zip(self._inputs, self.input_names)}
        count: dict = {}
        for node, outs in zip(self._nodes, self._node_outputs):
            k = count[id(node.layer)] = count.get(id(node.layer), -1) + 1
            for t, v in enumerate(outs):
                keys[id(v)] = [node.layer.name, k, t]
        return keys

    def get_config(self) -> dict:
        """Keras's layout: ``layers`` (each with its ``inbound_nodes``), ``input_layers``
        and ``output_layers`` as [layer name, node index, tensor index]."""
        from .. import registry

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
        for layer in self._layers:
            nodes = [node for node in self._nodes if node.layer is layer]
            first = self._node_outputs[self._nodes.index(nodes[0])]
            shapes = [v.static_shape for v in first]
            links = ["{}[{}][{}]".format(*keys[id(v)])
                     for node in nodes for v in _flat(node.inputs) if isinstance(v, Tensor)]
            rows.append((f"{layer.name} ({type(layer).__name__})",
                         _fmt_shape(shapes[0]) if len(shapes) == 1 else
                         ", ".join(map(_fmt_shape, shapes)),
                         f"{_count(layer)[0]:,}", ", ".join(links)))
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
