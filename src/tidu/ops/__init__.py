"""Differentiable primitives, each with its backward rule beside its forward.

``elementwise``: arithmetic and element-wise math; ``activation``: sigmoid, tanh, relu,
softmax and friends; ``reduce``: sum, mean, max, min, var; ``shape``: reshape, transpose,
indexing, concatenation, padding; ``linalg``: matmul and dot.
"""

from .activation import leaky_relu, log_softmax, logsumexp, relu, sigmoid, softmax, tanh
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
    broadcast_to,
    concatenate,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "div", "dot", "exp", "flatten",
    "getitem", "leaky_relu", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow", "relu", "reshape",
    "sigmoid", "sign", "softmax", "split", "sqrt", "squeeze", "stack", "sub", "sum", "tanh",
    "transpose", "unsqueeze", "var", "where",
]
