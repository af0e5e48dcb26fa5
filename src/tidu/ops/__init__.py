"""Differentiable primitives, each with its backward rule beside its forward.

``elementwise``: arithmetic and element-wise math; ``activation``: sigmoid, tanh, relu,
softmax and friends; ``reduce``: sum, mean, max, min, var; ``shape``: reshape, transpose,
indexing, concatenation, padding; ``linalg``: matmul and dot.
"""

from . import contract, index, layout, logic, math, nonlinearity, scan, sort
from .activation import (
    leaky_relu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from .contract import *
from .elementwise import (
    abs,
    add,
    cast,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sign,
    sqrt,
    sub,
    where,
)
from .index import *
from .layout import *
from .linalg import dot, matmul
from .logic import *
from .math import *
from .nonlinearity import *
from .reduce import max, mean, min, sum, var
from .scan import *
from .shape import (
    broadcast_like,
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    index_scatter_add,
    pad,
    permute,
    reshape,
    reshape_like,
    split,
    split_like,
    squeeze,
    stack,
    sum_to_like,
    transpose,
    unsqueeze,
)
from .sort import *

EXTENDED = (contract, index, layout, logic, math, nonlinearity, scan, sort)
"""The modules of the extended operator set; each lists its names in ``__all__``."""

__all__ = [
    "abs", "add", "broadcast_like", "broadcast_to", "cast", "clip", "concatenate", "div", "dot",
    "exp", "expand_dims", "flatten", "getitem", "leaky_relu", "log", "log_softmax", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow",
    "relu", "reshape", "reshape_like", "index_scatter_add", "sigmoid", "sign", "softmax",
    "softplus",
    "split", "split_like", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to_like", "tanh",
    "transpose", "unsqueeze", "var", "where",
]
__all__ += [n for m in EXTENDED for n in m.__all__]
