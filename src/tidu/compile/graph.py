"""Walking symbolic graphs: the nodes behind a set of roots, in dependency order."""

from __future__ import annotations

from .variable import Variable


def arg_vars(v: Variable):
    """The Variables among the arguments of ``v``'s node."""
    node = v._node
    if node is None:
        return ()
    return [a for a in node.args if isinstance(a, Variable)]


def topo(roots) -> list:
    """Every Variable that ``roots`` depend on, each after all of its arguments."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(list(roots))]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        for a in reversed(arg_vars(v)):
            if id(a) not in seen:
                stack.append((a, False))
    return order


def consumers(order) -> dict:
    """id(variable) -> the Variables whose nodes take it as an argument."""
    users: dict = {id(v): [] for v in order}
    for v in order:
        for a in arg_vars(v):
            users.setdefault(id(a), []).append(v)
    return users
