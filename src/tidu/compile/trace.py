"""``jit``: trace a Python step function once per input signature and run the compiled plan.

The function is called once with symbolic placeholders (of the arguments' exact shapes and
dtypes) instead of arrays. Everything it does with tidu operations becomes one graph; the
model's parameters are read by the plan when it runs, so they are never frozen. Inside the
traced function, PyTorch's training idiom is understood: ``loss.backward()`` asks for the
gradients of every parameter the loss depends on, and ``optimizer.zero_grad()`` /
``optimizer.step()`` are replayed, in order, after each run of the plan (the update rules
themselves are NumPy code, so they run as they do eagerly).

>>> import numpy as np, tidu
>>> w = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True)
>>> @tidu.compile.jit
... def f(x):
...     return (w * x).sum()
>>> float(f(np.array([3.0, 4.0])))
11.0
"""

from __future__ import annotations

import functools

import numpy as np

from .. import backend
from ..tensor import Tensor
from .function import CompiledFunction
from .graph import topo
from .placement import where
from .variable import Variable, leaf, placeholder

_ACTIVE: list = []


def active():
    """The trace being recorded, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


class Trace:
    """What a traced call asked for besides its return value."""

    def __init__(self):
        self.effects: list = []  # ("backward", loss) | ("step", opt) | ("zero_grad", opt)

    def record(self, kind: str, obj) -> None:
        """Note an effect to replay after each run of the plan."""
        self.effects.append((kind, obj))


def _flatten(obj, leaves: list):
    """Replace every tensor in a nested tuple/list/dict by its index in ``leaves``."""
    if isinstance(obj, Tensor):
        leaves.append(obj)
        return ("leaf", len(leaves) - 1)
    if isinstance(obj, (tuple, list)):
        return (type(obj), [_flatten(o, leaves) for o in obj])
    if isinstance(obj, dict):
        return (dict, {k: _flatten(v, leaves) for k, v in obj.items()})
    return ("const", obj)


def _unflatten(tree, values):
    kind, body = tree
    if kind == "leaf":
        return Tensor._make(values[body], False, None)
    if kind == "const":
        return body
    if kind is dict:
        return {k: _unflatten(v, values) for k, v in body.items()}
    return kind(_unflatten(v, values) for v in body)


class Compiled:
    """A traced step: one compiled plan per signature of its arguments."""

    def __init__(self, fn):
        self.fn = fn
        self.plans: dict = {}
        functools.update_wrapper(self, fn)

    @staticmethod
    def _key(args):
        key = []
        for a in args:
            if isinstance(a, Tensor):
                a = a.data
            if isinstance(a, np.ndarray) or backend.is_array(a):
                key.append(("array", a.shape, a.dtype.str, where(a)))
            else:
                key.append(("value", a))
        return tuple(key)

    def _trace(self, args):
        ins, call_args = [], []
        for i, a in enumerate(args):
            arr = a.data if isinstance(a, Tensor) else a
            if isinstance(arr, np.ndarray) or backend.is_array(arr):
                v = placeholder(arr.shape, arr.dtype, name=f"arg{i}")
                ins.append(v)
                call_args.append(v)
            else:
                call_args.append(a)
        tr = Trace()
        _ACTIVE.append(tr)
        try:
            result = self.fn(*call_args)
        finally:
            _ACTIVE.pop()
        outs: list = []
        tree = _flatten(result, outs)
        grads_for = []  # (loss position, parameters) per backward()
        extra = []
        for kind, obj in tr.effects:
            if kind == "backward":
                loss = leaf(obj)
                params = [v for v in topo([loss]) if v._node is None and v.kind == "ref"
                          and v.target.requires_grad]
                from ..autograd import grad

                gs = grad(loss, params) if params else ()
                grads_for.append((len(extra), [p.target for p in params]))
                extra.extend(gs)
        f = CompiledFunction(ins, [leaf(o) for o in outs] + extra,
                             name=getattr(self.fn, "__name__", "step"))
        return f, tree, len(outs), grads_for, tr.effects

    def __call__(self, *args):
        key = self._key(args)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = self._trace(args)
        f, tree, n_out, grads_for, effects = plan
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        arrays = [a for a in arrays if isinstance(a, np.ndarray) or backend.is_array(a)]
        values = f(*arrays)
        grads = values[n_out:]
        k = 0
        for kind, obj in effects:
            if kind == "backward":
                start, params = grads_for[k]
                k += 1
                for p, g in zip(params, grads[start:start + len(params)]):
                    # a copy (the plan reuses its buffers), on the gradient's device
                    g = np.array(g, dtype=p.data.dtype) if type(g) is np.ndarray else \
                        backend.asarray_like(g, p.data).astype(p.data.dtype)
                    p.grad = Tensor._make(g, False, None) if p.grad is None else \
                        Tensor._make(p.grad.data + g, False, None)
            elif kind == "step":
                obj.step()
            elif kind == "zero_grad":
                obj.zero_grad()
        return _unflatten(tree, values[:n_out])

    @property
    def compiled(self) -> list:
        """The CompiledFunction of every signature seen so far."""
        return [p[0] for p in self.plans.values()]


def jit(fn=None):
    """Compile a step function by tracing it (a decorator, Keras's ``jit_compile``).

    Array arguments become symbolic inputs of their shapes and dtypes; other arguments are
    part of the signature (a new value traces again). Returns Tensors where the function
    returned tensors, in the same structure.
    """
    if fn is None:
        return jit
    return Compiled(fn)


def trace_effect(kind: str, obj) -> bool:
    """Record ``kind`` for the active trace; False when nothing is being traced."""
    tr = active()
    if tr is None:
        return False
    tr.record(kind, obj)
    return True


__all__ = ["Compiled", "active", "jit", "trace_effect", "Variable"]
