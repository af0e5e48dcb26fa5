"""Differentiable primitives, each with its backward rule beside its forward.

``elementwise``: arithmetic and element-wise math; ``activation``: sigmoid, tanh, relu,
softmax and friends; ``reduce``: sum, mean, max, min, var; ``shape``: reshape, transpose,
indexing, concatenation, padding; ``linalg``: matmul and dot.
"""

# the extended operator set: one module per family, each listing its names in __all__
# (imported under private names: a module's star import may rebind its own name, e.g.
# ``tidu.ops.sort`` is the function; the module is ``sys.modules["tidu.ops.sort"]``)
from . import affine as _affine
from . import contract as _contract
from . import convolution as _convolution
from . import crossentropy as _crossentropy
from . import index as _index
from . import layout as _layout
from . import logic as _logic
from . import math as _math
from . import nonlinearity as _nonlinearity
from . import normalization as _normalization
from . import pooling as _pooling
from . import resize as _resize
from . import scan as _scan
from . import sort as _sort
from . import transfer as _transfer
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
from .affine import *
from .contract import *
from .convolution import *
from .crossentropy import *
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
from .normalization import *
from .pooling import *
from .reduce import max, mean, min, sum, var
from .resize import *
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

EXTENDED = (_contract, _index, _layout, _logic, _math, _nonlinearity, _scan, _sort,
            _convolution, _pooling, _resize, _normalization, _transfer, _affine, _crossentropy)
"""The modules of the extended operator set."""

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
