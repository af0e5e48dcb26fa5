"""The layer graph of the functional API: ``Input``, :class:`Node` (one layer call on
symbolic tensors, Keras's node) and the walk from a model's outputs back to its inputs.

Calling a layer on symbolic tensors (``Module.__call__`` sends them to
:func:`symbolic_call`) records tidu's symbolic graph as any operation on Variables does,
and a Node next to it: which layer was applied to which inputs and made which outputs.
"""

from __future__ import annotations

import weakref

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..compile.variable import Variable, placeholder
from ..errors import ShapeError
from ..nn._utils import unique_name
from ..tensor import Tensor

_NODES: dict = {}  # id(output Variable) -> its Node, while the Variable lives


class Node:
    """One call of ``layer`` on symbolic ``inputs`` (a Variable or a list/tuple/dict of them)
    with extra ``args`` / ``kwargs``, giving the Variables ``outputs`` (flat).

    A Node holds its inputs (and so the graph before it) but only weak references to its
    outputs: a graph nobody holds is freed. A Functional model keeps its own Variables."""

    __slots__ = ("layer", "inputs", "args", "kwargs", "_outputs", "op")

    def __init__(self, layer, inputs, args, kwargs, outputs, op=None):
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs
        self.op = op  # a tidu operation (Function class) applied outside any layer
        self._outputs = [weakref.ref(v) for v in outputs]
        for v in outputs:
            _NODES[id(v)] = self
            weakref.finalize(v, _NODES.pop, id(v), None)

    @property
    def outputs(self) -> list:
        return [r() for r in self._outputs]

    @property
    def name(self) -> str:
        return self.layer.name if self.layer is not None else self.op.__name__.lower()


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
    if any(not isinstance(v, Variable) or id(v) in inputs for v in _flat(out)):
        return out  # an identity (or a non-tensor result): no node, replaying skips it
    for v, t in zip(_flat(out), probe or ()):
        if v.static_shape is None:
            v._shape = (None, *t.shape[1:]) if t.ndim else ()
    node = Node(layer, x, tuple(args), dict(kwargs), _flat(out))
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return out


def _probe(layer, x, args, kwargs) -> list | None:
    """The layer's outputs on one zero sample (evaluation mode, no gradients): checks the
    call at once and gives the shapes the symbolic graph cannot infer. None when an input
    has axes of unknown length.

    The zeros are made on the device of the layer's weights (``layer.device``: its first
    parameter's, or the one it was moved to before it had any), so a layer on a GPU is
    probed there and not with host arrays beside device weights."""
    flat = [v for v in _flat(x) if isinstance(v, Variable)]
    if any(v.static_shape is None or None in v.static_shape[1:] for v in flat):
        return None
    dev = getattr(layer, "device", backend.CPU)

    def zeros(v):
        if not isinstance(v, Variable):
            return v
        shape = v.static_shape
        z = np.zeros((1, *shape[1:]) if shape else (), v.dtype)
        return Tensor(z if dev.type == "cpu" else backend.to_device(z, dev))

    modes = [(m, m.training) for m in layer.modules()]
    layer.eval()
    try:
        with no_grad():
            return _flat(layer.forward(_map(x, zeros), *args, **kwargs))
    finally:
        for m, mode in modes:
            m.training = mode


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
        if v.kind in ("ref", "constant", "shared"):
            return None  # a weight or constant that an operation reads
        fn = v._node
        if fn is not None and hasattr(fn, "args"):  # a tidu operation outside any layer
            return Node(None, list(fn.args), (), dict(fn.kwargs), [v], op=type(fn))
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


def _value(v, values: dict):
    """What replaying gives for one argument: the computed tensor, a weight, a constant."""
    if not isinstance(v, Tensor):
        return v
    hit = values.get(id(v))
    if hit is not None:
        return hit
    if isinstance(v, Variable) and v.kind == "ref":
        return v.target
    if isinstance(v, Variable) and v.kind in ("constant", "shared"):
        return v.data
    return v


def _concatenate_shape(shapes, args, kwargs):
    """Shape rule of ``concatenate`` over partly known shapes (the batch axis None).

    NOTE: a rule of :mod:`tidu.compile.shapes`; registered here, where merge layers need it.
    """
    if any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1:
        return None
    axis = kwargs.get("axis", 0) % len(shapes[0])
    out = []
    for i, dims in enumerate(zip(*shapes)):
        if i == axis:
            out.append(None if None in dims else sum(dims))
        else:
            known = {d for d in dims if d is not None}
            out.append(known.pop() if len(known) == 1 else None)
    return tuple(out)


def _register_shape_rules() -> None:
    from ..compile import shapes
    from ..ops.shape import Concatenate

    if Concatenate not in shapes.RULES:
        shapes.register(Concatenate, _concatenate_shape)


_register_shape_rules()
