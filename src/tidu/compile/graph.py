"""Walking symbolic graphs: the nodes behind a set of roots, in dependency order."""

from __future__ import annotations

from ..autograd import _topo_order
from .variable import Variable


def arg_vars(v: Variable):
    """The Variables among the arguments of ``v``'s node."""
    node = v._node
    if node is None:
        return ()
    return [a for a in node.args if isinstance(a, Variable)]


def topo(roots) -> list:
    """Every Variable that ``roots`` depend on, each after all of its arguments.

    The eager engine's walk (symbolic nodes keep their Variable arguments in ``inputs``
    just as eager nodes keep their tensors), in the opposite direction.
    """
    order = _topo_order(list(roots))
    order.reverse()
    return order


def consumers(order) -> dict:
    """id(variable) -> the Variables whose nodes take it as an argument."""
    users: dict = {id(v): [] for v in order}
    for v in order:
        for a in arg_vars(v):
            users.setdefault(id(a), []).append(v)
    return users
