"""How each operation runs inside a compiled plan.

Element-wise operations with a NumPy ufunc are emitted as the ufunc itself, so that the
planner can hand them an ``out=`` buffer; matmul and reductions call NumPy directly; every
other operation (custom ones included) runs its own ``forward`` on a private instance. The
arithmetic is the eager kernels', so compiled and eager results agree.
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
    E.Maximum: np.maximum, E.Minimum: np.minimum, A.Tanh: np.tanh,
}
"""Operations that are exactly one ufunc call on their positional arguments."""

FRESH = set(UFUNCS) | {L.MatMul, R.Sum, R.Mean, R.Max, R.Min, R.Var, E.Pow, A.Sigmoid,
                       A.Softplus, A.Softmax, A.LogSoftmax, A.ReLU, A.LogSumExp}
"""Operations whose result is a new array (never a view of an argument)."""

VIEWS_IF_SAME_SHAPE = {S.SumToLike, S.BroadcastLike, S.ReshapeLike}
"""Shape operations that are the identity when the shapes already agree."""
