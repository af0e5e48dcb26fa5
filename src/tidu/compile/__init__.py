"""Symbolic graphs compiled to fast plans: Theano's model, built on tidu's own graph.

Build an expression from symbolic inputs (:func:`placeholder`, :func:`matrix`, ...) and
shared state (:func:`shared`) with the ordinary tidu operations, take gradients with
``tidu.grad``, and compile with :func:`function`: the graph is optimized once (stable
rewrites, common subexpressions, constant folding, dead code) and turned into straight-line
Python over NumPy kernels, with buffers reused and shared variables updated in place.

>>> import numpy as np, tidu
>>> x = tidu.vector("x")
>>> f = tidu.function([x], (x ** 2).sum())
>>> float(f(np.array([1.0, 2.0], dtype="float32")))
5.0
"""

from .function import CompiledFunction, debugprint, function
from .trace import jit
from .variable import (
    THEANO_TYPES,
    SharedVariable,
    Variable,
    constant,
    matrix,
    placeholder,
    scalar,
    shared,
    stop_gradient,
    tensor3,
    tensor4,
    vector,
)

globals().update(THEANO_TYPES)

__all__ = ["CompiledFunction", "SharedVariable", "Variable", "constant", "debugprint",
           "function", "jit", "matrix", "placeholder", "scalar", "shared", "stop_gradient",
           "tensor3", "tensor4", "vector", *THEANO_TYPES]
