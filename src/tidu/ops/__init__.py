"""Differentiable primitives, each with its backward rule beside its forward.

``elementwise``: arithmetic and element-wise math; ``activation``: sigmoid, tanh, relu,
softmax and friends; ``reduce``: sum, mean, max, min, var; ``shape``: reshape, transpose,
indexing, concatenation, padding; ``linalg``: matmul and dot.
"""

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
from .linalg import dot, matmul
from .reduce import max, mean, min, sum, var
from .shape import (
    broadcast_like,
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    reshape_like,
    scatter_add,
    split,
    split_like,
    squeeze,
    stack,
    sum_to_like,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "broadcast_like", "broadcast_to", "cast", "clip", "concatenate", "div", "dot",
    "exp", "expand_dims", "flatten", "getitem", "leaky_relu", "log", "log_softmax", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow",
    "relu", "reshape", "reshape_like", "scatter_add", "sigmoid", "sign", "softmax", "softplus",
    "split", "split_like", "sqrt", "squeeze", "stack", "sub", "sum", "sum_to_like", "tanh",
    "transpose", "unsqueeze", "var", "where",
]
