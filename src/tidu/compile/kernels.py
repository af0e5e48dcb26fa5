"""How each operation runs inside a compiled plan.

Element-wise operations with a NumPy ufunc are emitted as the ufunc itself, so that the
planner can hand them an ``out=`` buffer; a few others are emitted as the one NumPy call
their ``forward`` makes (the checks ``forward`` also does were already passed when the plan
was specialized to its shapes). Every other operation, custom ones included, runs its own
``forward`` on a private instance. The arithmetic is the eager kernels', so compiled and
eager results agree.
"""

from __future__ import annotations

import numpy as np

from ..ops import activation as A
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape as S

UFUNCS = {
    E.Add: np.add, E.Sub: np.subtract, E.Mul: np.multiply, E.Div: np.true_divide,
    E.Neg: np.negative, E.Exp: np.exp, E.Log: np.log, E.Sqrt: np.sqrt, E.Abs: np.absolute,
    E.Maximum: np.maximum, E.Minimum: np.minimum, A.Tanh: np.tanh, L.MatMul: np.matmul,
}
"""Operations that are exactly one ufunc call on their positional arguments."""

ELEMENTWISE = set(UFUNCS) - {L.MatMul}
"""Ufunc operations that may write their result over one of their own inputs."""

FRESH = set(UFUNCS) | {R.Sum, R.Mean, R.Max, R.Min, R.Var, E.Pow, A.Sigmoid, A.Softplus,
                       A.Softmax, A.LogSoftmax, A.ReLU, A.LogSumExp, E.Where, E.Clip}
"""Operations whose result is a new array (never a view of an argument)."""

LIKE = {S.SumToLike, S.BroadcastLike, S.ReshapeLike}
"""Shape operations that read only the shape of their second argument."""


def _kw(kwargs: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in kwargs.items())


EXPRESSIONS = {
    R.Sum: lambda a, kw: f"np.add.reduce({a[0]}, {_kw(kw)})",  # what ndarray.sum calls
    A.ReLU: lambda a, kw: f"np.maximum({a[0]}, 0)",
    E.Pow: lambda a, kw: f"{a[0]} ** {a[1]}",
    E.Where: lambda a, kw: f"np.where({a[0]}, {a[1]}, {a[2]})",
    E.Cast: lambda a, kw: f"{a[0]}.astype({a[1]})",
    S.Reshape: lambda a, kw: f"{a[0]}.reshape({a[1]})",
    S.Permute: lambda a, kw: f"{a[0]}.transpose({a[1]})",
    S.GetItem: lambda a, kw: f"{a[0]}[{a[1]}]",
    S.BroadcastTo: lambda a, kw: f"np.broadcast_to({a[0]}, {a[1]})",
}
"""Operations emitted as one NumPy expression (argument sources -> source)."""

DEVICE_EXPRESSIONS = {
    R.Sum: lambda a, kw: f"{a[0]}.sum({_kw(kw)})",
}
"""What a plan for a device emits instead: the array's own method where the NumPy spelling
needs a ufunc method (``np.add.reduce``) that another library may not implement."""
