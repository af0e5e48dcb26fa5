"""Symbolic reverse mode: gradients as graph expressions, built from each operation's vjp.

``tidu.grad(cost, wrt)`` on a symbolic cost returns a deferred :class:`Grad` node. The
compiler expands it (:func:`expand`) only after the stable rewrites have run on the cost, so
the gradient is taken of ``-softplus(z)``, not of ``log(1 - sigmoid(z))``: a stable forward
gives a stable backward. The expansion is ordinary reverse-mode accumulation, but each step
calls the operation's ``vjp`` on Variables, which builds graph instead of computing.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Function
from ..backend import is_floating
from ..errors import GradientError
from .graph import arg_vars, topo
from .variable import Variable, constant


class Grad(Function):
    """d(cost)/d(wrt), not yet expanded (see :func:`expand`)."""

    def forward(self, cost, wrt):  # pragma: no cover - always expanded first
        raise RuntimeError("a Grad node must be expanded before it runs")


def grad_node(cost, wrt) -> Variable:
    """A deferred gradient of the scalar ``cost`` with respect to the leaf ``wrt``."""
    if not isinstance(cost, Variable):
        raise GradientError("symbolic tidu.grad: the cost must be a symbolic expression")
    if cost.static_shape is not None and cost.static_shape != ():
        raise GradientError(f"tidu.grad: the cost must be a scalar (0-d), got shape "
                            f"{cost.static_shape}; reduce it first, e.g. cost.mean()")
    if not isinstance(wrt, Variable):
        raise GradientError(f"tidu.grad: can only differentiate with respect to tensors and "
                            f"symbolic variables, got {type(wrt).__name__}")
    if not is_floating(wrt.dtype):
        raise GradientError(f"tidu.grad: {wrt._label()} has dtype {wrt.dtype}; only "
                            "floating-point values have gradients")
    fn = Grad()
    fn.args, fn.kwargs = (cost, wrt), {}
    fn.inputs, fn.needs_grad = (cost, wrt), (True, True)
    return Variable._new("op", wrt.static_shape, wrt.dtype, node=fn)


def _depends(order, wrts) -> set:
    """ids of the Variables in ``order`` that depend on one of ``wrts``."""
    hit = {id(w) for w in wrts}
    for v in order:
        if any(id(a) in hit for a in arg_vars(v)):
            hit.add(id(v))
    return hit


def expand(cost: Variable, wrts: list) -> list:
    """The gradients of ``cost`` with respect to each of ``wrts``, as Variables."""
    order = topo([cost])
    live = _depends(order, wrts)
    grads = {id(cost): constant(np.ones((), cost.dtype))}
    for v in reversed(order):
        g = grads.get(id(v))
        node = v._node
        if g is None or node is None or id(v) not in live:
            continue
        rule = getattr(type(node), "vjp", None)
        if rule is None:
            raise GradientError(
                f"tidu.grad: the operation {type(node).__name__} has no vjp rule, so its "
                "gradient cannot be built symbolically; define a staticmethod "
                "vjp(g, *args, **kwargs) on it (see docs/custom_ops.md)")
        res = rule(g, *node.args, **node.kwargs)
        if not isinstance(res, tuple):
            res = (res,)
        for a, ga in zip(node.args, res):
            if ga is None or not isinstance(a, Variable) or id(a) not in live:
                continue
            if not isinstance(ga, Variable):
                ga = constant(ga)
            if ga.static_shape != a.static_shape or None in (a.static_shape or (None,)):
                ga = ops.sum_to_like(ga, a)
            if ga.dtype != a.dtype:
                ga = ops.cast(ga, a.dtype)
            prev = grads.get(id(a))
            grads[id(a)] = ga if prev is None else prev + ga
    out = []
    for w in wrts:
        g = grads.get(id(w))
        if g is None:  # the cost does not depend on w: its gradient is zero
            g = ops.broadcast_like(constant(np.zeros((), w.dtype)), w)
        out.append(g)
    return out
