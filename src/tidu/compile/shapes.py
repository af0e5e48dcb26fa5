"""Static shapes and dtypes of symbolic nodes.

When every input's shape is known, a node's shape and dtype come from running its own
``forward`` once on zeros of those shapes: exact for every operation, custom ones included,
and no rule to keep in step. With unknown (``None``) axes, the rules below propagate what
they can; an operation without a rule gets an unknown shape.
"""

from __future__ import annotations

import numpy as np

from .. import backend, ops
from ..ops import activation as A
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape as S
from ..tensor import Tensor

IMPURE: set = set()
"""Operations that must not run at graph-building time (they draw random numbers)."""


def _facts(a):
    """(shape or None, dtype or None, is_tensor) of one argument."""
    from .variable import Variable

    if isinstance(a, Variable):
        return a.static_shape, a.dtype, True
    if isinstance(a, Tensor):
        return a.data.shape, a.data.dtype, True
    if isinstance(a, np.ndarray) or backend.is_array(a):
        return a.shape, a.dtype, True
    return None, None, False


def infer(cls, args, kwargs):
    """(shape, dtype) of ``cls(*args, **kwargs)``; shape may hold None or be None."""
    facts = [_facts(a) for a in args]
    known = all(s is not None and None not in s for s, _, t in facts if t)
    if known and cls not in IMPURE:
        datas = [np.zeros(s, d) if t else a for (s, d, t), a in zip(facts, args)]
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(cls().forward(*datas, **kwargs))
            return out.shape, out.dtype
        except Exception:  # noqa: BLE001 - fall back to the rules (e.g. zeros as indices)
            pass
    rule = RULES.get(cls)
    shapes = [s for s, _, t in facts]
    shape = None
    if rule is not None:
        try:
            shape = rule(shapes, args, kwargs)
        except Exception:  # noqa: BLE001 - an unknown shape is always a safe answer
            shape = None
    return shape, _dtype(cls, facts, args, kwargs)


def _dtype(cls, facts, args, kwargs):
    from .variable import Compare

    if cls is Compare:
        return np.dtype(bool)
    if cls is E.Cast:
        return np.dtype(args[1])
    if cls.__name__ == "Argmax":
        return np.dtype(np.int64)
    parts = [d for _, d, t in facts if t and d is not None]
    scalars = [a for (_, _, t), a in zip(facts, args) if not t and isinstance(a, (int, float))
               and not isinstance(a, bool)]
    if cls is E.Where:
        parts = parts[1:]
    if not parts:
        return np.dtype(np.float32)
    return np.result_type(*parts, *scalars)


# ----------------------------------------------------------------------------- rules
def broadcast(*shapes):
    """NumPy broadcasting where ``None`` is an unknown length."""
    if any(s is None for s in shapes):
        return None
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        dims = [s[len(s) - nd + i] for s in shapes if len(s) - nd + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        if known:
            out.append(known.pop())
        elif None in dims:
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _elementwise(shapes, args, kwargs):
    return broadcast(*[s if s is not None else () for s, a in zip(shapes, args)
                       if s is not None or isinstance(a, Tensor)])


def _first(shapes, args, kwargs):
    return shapes[0]


def _like(shapes, args, kwargs):
    return shapes[1]


def _reduce(shapes, args, kwargs):
    shp = shapes[0]
    axis, keepdims = kwargs.get("axis"), kwargs.get("keepdims", False)
    if axis is None:
        return (1,) * len(shp) if keepdims else ()
    return tuple((1 if keepdims else None) if i in axis else d for i, d in enumerate(shp)
                 if keepdims or i not in axis)


def _reduce_fix(shapes, args, kwargs):
    out = _reduce(shapes, args, kwargs)
    return tuple(d for d in out) if out is not None else None


def _matmul(shapes, args, kwargs):
    a, b = shapes
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return b[:-2] + b[-1:]
    return broadcast(a[:-2], b[:-2]) + (a[-2], b[-1])


def _reshape(shapes, args, kwargs):
    new = tuple(args[1])
    if -1 in new:
        known = [d for d in shapes[0] if d is not None]
        if len(known) == len(shapes[0]):
            rest = int(np.prod([d for d in new if d != -1]))
            total = int(np.prod(known))
            return tuple(total // rest if d == -1 else d for d in new)
        return tuple(None if d == -1 else d for d in new)
    return new


def _permute(shapes, args, kwargs):
    axes = args[1]
    shp = shapes[0]
    return tuple(reversed(shp)) if axes is None else tuple(shp[a] for a in axes)


def _expand(shapes, args, kwargs):
    out = list(shapes[0])
    for a in args[1]:
        out.insert(a, 1)
    return tuple(out)


def _lse(shapes, args, kwargs):
    return _reduce(shapes, args, {"axis": kwargs.get("axis"),
                                  "keepdims": kwargs.get("keepdims", False)})


def _getitem(shapes, args, kwargs):
    shp, index = shapes[0], args[1]
    items = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(i, (int, slice)) for i in items):
        return None
    out, k = [], 0
    for i in items:
        n = shp[k]
        if isinstance(i, slice):
            out.append(None if n is None else len(range(*i.indices(n))))
        k += 1
    return tuple(out) + tuple(shp[k:])


RULES = {cls: _elementwise for cls in (
    E.Add, E.Sub, E.Mul, E.Div, E.Pow, E.Maximum, E.Minimum, E.Where, E.Neg, E.Exp, E.Log,
    E.Sqrt, E.Abs, E.Sign, E.Clip, E.Cast, A.Sigmoid, A.Tanh, A.ReLU, A.LeakyReLU,
    A.Softplus, A.Softmax, A.LogSoftmax)}
RULES.update({
    R.Sum: _reduce, R.Mean: _reduce, R.Max: _reduce, R.Min: _reduce, R.Var: _reduce_fix,
    A.LogSumExp: _lse, L.MatMul: _matmul, S.Reshape: _reshape, S.Permute: _permute,
    S.BroadcastTo: lambda sh, a, k: tuple(a[1]), S.SumToLike: _like, S.BroadcastLike: _like,
    S.ReshapeLike: _like, S.ExpandDims: _expand, S.GetItem: _getitem,
})


# the extended operator set: each family module lists its shape-preserving operations
RULES.update({c: _elementwise for m in ops.EXTENDED for c in getattr(m, "ELEMENTWISE", ())})


def register(cls, rule=None, impure: bool = False):
    """Give a custom operation a shape rule ``rule(shapes, args, kwargs) -> shape``, or mark
    it impure (never run at graph-building time, never merged or folded)."""
    if rule is not None:
        RULES[cls] = rule
    if impure:
        IMPURE.add(cls)


__all__ = ["broadcast", "infer", "register", "ops"]
