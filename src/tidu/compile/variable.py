"""Symbolic variables: placeholders for inputs, shared state, constants and the nodes built
from them.

A :class:`Variable` is a :class:`~tidu.Tensor` without a value. Every tidu operation applied
to one records a node (the same :class:`~tidu.Function` objects the eager graph is made of,
with their ``args`` and ``kwargs``) instead of computing, so the symbolic graph and the eager
graph are one structure. Shapes may be partly unknown (``None`` axes); they are inferred
per node as far as they can be (:mod:`tidu.compile.shapes`).

>>> import tidu
>>> x = tidu.dmatrix("x")
>>> w = tidu.shared([1.0, 2.0], name="w")
>>> y = tidu.dot(x, w) + 1
>>> y
Variable(Add, shape=(None,), dtype=float64)
"""

from __future__ import annotations

import numpy as np

from .. import autograd, backend
from ..autograd import Function
from ..errors import GradientError, ShapeError
from ..tensor import Tensor
from . import shapes

xp = backend.xp


class Variable(Tensor):
    """A symbolic tensor: a shape (``None`` for unknown axes), a dtype and, for operation
    results, the node that makes it. It supports the operators and methods of Tensor."""

    __slots__ = ("_shape", "_dtype", "kind", "target")

    def __init__(self, *a, **k):  # pragma: no cover - guard
        raise TypeError("make symbolic variables with tidu.matrix(), tidu.placeholder(), "
                        "tidu.shared() or tidu.constant()")

    @classmethod
    def _new(cls, kind: str, shape, dtype, node=None, name=None, data=None) -> Variable:
        v = object.__new__(cls)
        v.data, v.grad, v._node, v._retain, v.name = data, None, node, False, name
        v._version = v._stamp = 0
        v._hooks = None
        v._shape = None if shape is None else tuple(shape)
        v._dtype = np.dtype(dtype)
        v.kind = kind
        v.target = None
        v.requires_grad = backend.is_floating(v._dtype)
        return v

    # ----- facts -----
    @property
    def shape(self) -> tuple:
        """The static shape; ``None`` marks an axis known only at call time."""
        if self._shape is None:
            raise ShapeError(f"{self._label()}: its shape, even its number of axes, is not "
                             "known before the graph is called")
        return self._shape

    @property
    def ndim(self) -> int:
        """The number of axes (known even when some lengths are not)."""
        return len(self.shape)

    @property
    def dtype(self):
        """The element type, fixed when the variable is made."""
        return self._dtype

    @property
    def size(self):
        """The number of elements, or None while a length is unknown."""
        shp = self.shape
        return None if None in shp else int(np.prod(shp))

    @property
    def static_shape(self):
        """The shape, or None where not even the number of axes is known."""
        return self._shape

    def _label(self) -> str:
        if self.name:
            return f"variable '{self.name}'"
        if self._node is not None:
            return f"the result of {type(self._node).__name__}"
        return "a variable"

    def __repr__(self) -> str:
        what = self.name if self._node is None else type(self._node).__name__
        if self.kind == "input":
            what = f"input {self.name!r}" if self.name else "input"
        shp = "unknown" if self._shape is None else str(self._shape)
        return f"{type(self).__name__}({what}, shape={shp}, dtype={self._dtype})"

    # ----- a symbolic value has no data now -----
    def _no_value(self, what: str):
        raise TypeError(f"{self._label()} is symbolic: it has no value until the graph is "
                        f"compiled with tidu.function and called ({what} needs a value)")

    def numpy(self):
        """A constant's array; other symbolic values have none (TypeError)."""
        if self.kind == "constant":
            return self.data
        self._no_value("numpy()")

    def item(self):
        """Not available: a symbolic value has no number yet (TypeError)."""
        self._no_value("item()")

    def tolist(self):
        """Not available: a symbolic value has no elements yet (TypeError)."""
        self._no_value("tolist()")

    def __bool__(self):
        self._no_value("a truth value")

    def __array__(self, dtype=None, copy=None):
        self._no_value("conversion to an array")

    def __len__(self):
        n = self.shape[0] if self.ndim else None
        if n is None:
            self._no_value("len()")
        return n

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Inside :func:`tidu.compile.jit`: ask the plan for the parameters' gradients.
        Elsewhere symbolic gradients come from ``tidu.grad(cost, wrt)``."""
        from .trace import trace_effect

        if gradient is None and trace_effect("backward", self):
            return  # inside tidu.compile.jit: the plan computes the gradients
        raise GradientError(f"{self._label()} is symbolic: use tidu.grad(cost, wrt) to build "
                            "its gradient as a symbolic expression, then compile it")

    def detach(self):
        """The same value with no gradient flowing back (:func:`stop_gradient`)."""
        return stop_gradient(self)

    def argmax(self, axis=None):
        """The index of the largest value (over ``axis``), as a symbolic integer."""
        return Argmax.apply(self, axis)

    def any(self):
        """Not available: it would need the values (TypeError)."""
        self._no_value("any()")

    def all(self):
        """Not available: it would need the values (TypeError)."""
        self._no_value("all()")

    # comparisons record nodes (boolean results, no gradient)
    def _cmp(self, o, f):
        return Compare.apply(self, o, f)


class SharedVariable(Variable):
    """A value that lives between calls of compiled functions (Theano's ``shared``).

    Graphs read it when called; ``updates`` of :func:`tidu.function` write it.
    """

    __slots__ = ()

    def get_value(self, borrow: bool = False):
        """The current value (a copy unless ``borrow=True``)."""
        return self.data if borrow else self.data.copy()

    def set_value(self, value, borrow: bool = False) -> None:
        """Replace the value; the dtype stays (the value is converted to it).

        A device array (CuPy's) is kept on its device: compiled functions then run on it,
        with inputs on the same device."""
        arr = value if backend.is_array(value) else xp.asarray(value)
        if arr.dtype != self._dtype:
            if not np.can_cast(arr.dtype, self._dtype, "same_kind"):
                raise TypeError(f"shared variable '{self.name}': cannot store a value of dtype "
                                f"{arr.dtype} in a variable of dtype {self._dtype}")
            arr = arr.astype(self._dtype)
        elif not borrow:
            arr = arr.copy()
        self.data = arr
        self._shape = arr.shape

    @property
    def shape(self) -> tuple:
        """The shape of the current value."""
        return self.data.shape

    def __repr__(self) -> str:
        return f"SharedVariable({self.name or 'shared'}, shape={self.data.shape}, " \
               f"dtype={self._dtype})"


# ----------------------------------------------------------------------------- makers
def placeholder(shape=None, dtype=None, name: str | None = None) -> Variable:
    """A symbolic input with a dtype and a partly known shape (``None`` axes).

    >>> import tidu
    >>> tidu.placeholder((None, 784), "float32", name="x")
    Variable(input 'x', shape=(None, 784), dtype=float32)
    """
    if shape is not None:
        shape = tuple(None if d is None else int(d) for d in shape)
    return Variable._new("input", shape, dtype or backend.default_float, name=name)


def _typed(ndim: int, default=None):
    def make(name: str | None = None, dtype=None) -> Variable:
        return placeholder((None,) * ndim, dtype or default, name)
    return make


def _named(f, name):
    f.__name__ = f.__qualname__ = name
    return f


scalar = _named(_typed(0), "scalar")
scalar.__doc__ = "A symbolic 0-d input (Theano's ``T.scalar``); dtype defaults to float32."
vector = _named(_typed(1), "vector")
vector.__doc__ = "A symbolic 1-d input of any length (Theano's ``T.vector``)."
matrix = _named(_typed(2), "matrix")
matrix.__doc__ = "A symbolic 2-d input of any shape (Theano's ``T.matrix``)."
tensor3 = _named(_typed(3), "tensor3")
tensor3.__doc__ = "A symbolic 3-d input (Theano's ``T.tensor3``)."
tensor4 = _named(_typed(4), "tensor4")
tensor4.__doc__ = "A symbolic 4-d input (Theano's ``T.tensor4``)."

# Theano's typed spellings: d for float64, f for float32, i for int32, l for int64
THEANO_TYPES = {}
for _p, _dt in (("d", "float64"), ("f", "float32"), ("i", "int32"), ("l", "int64")):
    for _n, _nd in (("scalar", 0), ("vector", 1), ("matrix", 2), ("tensor3", 3),
                    ("tensor4", 4)):
        _f = _named(_typed(_nd, _dt), _p + _n)
        _f.__doc__ = f"A symbolic {_nd}-d input of dtype {_dt} (Theano's ``T.{_p}{_n}``)."
        THEANO_TYPES[_p + _n] = _f


def shared(value, name: str | None = None, dtype=None) -> SharedVariable:
    """State that compiled functions read and update (Theano's ``theano.shared``).

    A NumPy array keeps its dtype, a Python float becomes float64 as in Theano (pass
    ``dtype`` to choose). A device array (CuPy's) stays on its device, and so do the
    updates of compiled functions.

    >>> import tidu
    >>> b = tidu.shared(0.0, name="b")
    >>> b.get_value(), b.dtype
    (array(0.), dtype('float64'))
    """
    if backend.is_array(value) and type(value) is not np.ndarray:
        arr = value.copy() if dtype is None else value.astype(dtype)
    else:
        arr = np.array(value, dtype=dtype)
    return SharedVariable._new("shared", arr.shape, arr.dtype, name=name, data=arr)


def constant(value, dtype=None, name: str | None = None) -> Variable:
    """A constant in a symbolic graph (folded into its neighbours when they are constant)."""
    arr = backend.as_array(value, dtype)
    return Variable._new("constant", arr.shape, arr.dtype, name=name, data=arr)


def is_variable(x) -> bool:
    """True for symbolic values (placeholders, shared variables, constants, their nodes)."""
    return isinstance(x, Variable)


_REFS: dict = {}


def ref(t: Tensor) -> Variable:
    """The graph leaf standing for the concrete tensor ``t`` (a model's parameter, say).

    A compiled graph reads ``t.data`` when it runs, so the tensor behaves as shared state:
    its value is never frozen into the graph. One leaf per tensor.
    """
    hit = _REFS.get(id(t))
    if hit is not None and hit.target is t:
        return hit
    v = Variable._new("ref", t.data.shape, t.data.dtype, name=t.name)
    v.target = t
    v.requires_grad = t.requires_grad
    _REFS[id(t)] = v
    return v


def leaf(x):
    """``x`` as a graph value: Variables stay, concrete Tensors become graph values.

    A tensor made by recorded eager operations (``w * w`` of a parameter ``w``) is lifted
    with its history, so the symbolic graph reads ``w`` when it runs and differentiates
    through ``w * w``; a tensor without history becomes its :func:`ref` leaf.
    """
    if isinstance(x, Variable) or not isinstance(x, Tensor):
        return x
    if x._node is None or not hasattr(x._node, "args"):
        return ref(x)
    return _lift(x)


def _lift(t: Tensor) -> Variable:
    """Re-record the eager history of ``t`` as symbolic nodes over ``ref`` leaves."""
    done: dict = {}
    stack = [(t, False)]
    while stack:
        u, ready = stack.pop()
        if id(u) in done:
            continue
        node = u._node
        if node is None or not hasattr(node, "args"):
            done[id(u)] = ref(u)
            continue
        tensors = [a for a in node.args if isinstance(a, Tensor) and not isinstance(a, Variable)]
        if not ready:
            stack.append((u, True))
            stack.extend((a, False) for a in tensors if id(a) not in done)
            continue
        args = [done[id(a)] if isinstance(a, Tensor) and not isinstance(a, Variable) else a
                for a in node.args]
        done[id(u)] = record(type(node), args, node.kwargs)
    return done[id(t)]


# ----------------------------------------------------------------------------- recording
def record(cls, args, kwargs) -> Variable:
    """Build the node ``cls(*args, **kwargs)`` over symbolic arguments (no computation)."""
    fn = cls()
    fn.args, fn.kwargs = tuple(leaf(a) for a in args), dict(kwargs)
    args = fn.args
    fn.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
    fn.needs_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    shape, dtype = shapes.infer(cls, fn.args, fn.kwargs)
    return Variable._new("op", shape, dtype, node=fn)


def _symbolic_grad(outputs, inputs, grad_outputs):
    from .grad import grad_node

    if grad_outputs is not None:
        raise GradientError("symbolic tidu.grad takes a scalar cost (no grad_outputs)")
    if len(outputs) != 1:
        cost = outputs[0]
        for o in outputs[1:]:
            cost = cost + o
    else:
        cost = outputs[0]
    return tuple(grad_node(cost, leaf(wrt)) for wrt in inputs)


autograd._Graph.variable_type = Variable
autograd._Graph.record = staticmethod(record)
autograd._Graph.grad = staticmethod(_symbolic_grad)


# ----------------------------------------------------------------------------- symbolic-only ops
class Compare(Function):
    """``a <op> b`` for a comparison ufunc: a boolean result outside differentiation."""

    def forward(self, a, b, op):
        return op(a, b)

    def backward(self, g):
        return None, None, None

    @staticmethod
    def vjp(g, a, b, op):
        return None, None, None


class Argmax(Function):
    """Index of the largest value along ``axis``: an integer result, no gradient."""

    def forward(self, x, axis):
        out = x.argmax(axis=axis)
        return out if backend.is_array(out) else backend.asarray_like(out, x)

    def backward(self, g):
        return None, None

    @staticmethod
    def vjp(g, x, axis):
        return None, None


class StopGradient(Function):
    """The identity whose gradient is zero (``detach`` of a symbolic value)."""

    def forward(self, x):
        return x

    def backward(self, g):
        return None

    @staticmethod
    def vjp(g, x):
        return None


def stop_gradient(x):
    """``x`` with no gradient flowing back through it."""
    return StopGradient.apply(x)


shapes.RULES[Compare] = shapes._elementwise
shapes.RULES[StopGradient] = shapes._first
