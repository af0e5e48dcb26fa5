"""Graph optimizations: rebuilt node by node, each rewrite counted in ``stats``.

One pass walks the graph in dependency order and rebuilds every node over its already
rebuilt arguments. On the way it

* merges nodes that compute the same thing (**common-subexpression elimination**);
* evaluates nodes whose inputs are all constants (**constant folding**);
* applies **local rewrites**: the stable forms of ``log(sigmoid(z))``, ``log(1 - sigmoid(z))``,
  ``log(softmax(z))``, ``log(sum(exp(z)))``, the sigmoid hidden in ``1 / (1 + exp(-z))``,
  and algebraic identities (``--a``, ``x * 1``, casts and reshapes that change nothing);
* expands deferred gradients (:mod:`tidu.compile.grad`) once their cost has been rewritten.

Passes repeat until the graph stops changing. Whatever the roots no longer reach is dead
code and is never planned.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import backend, ops
from ..ops import activation as A
from ..ops import elementwise as E
from ..ops import reduce as R
from ..ops import shape as S
from . import shapes as shape_rules
from .grad import Grad, expand
from .graph import topo
from .variable import Variable, constant, record


def _static_key(a):
    if isinstance(a, Variable):
        return ("v", id(a))
    if isinstance(a, np.ndarray):
        return ("a", id(a))
    if isinstance(a, (tuple, list)):
        return ("t", tuple(_static_key(x) for x in a))
    try:
        hash(a)
    except TypeError:
        return ("id", id(a))
    return (type(a).__name__, a)


def _is_const(a, value=None) -> bool:
    """``a`` is a constant (a Python number, an array or a constant Variable), optionally
    equal to ``value`` everywhere."""
    if isinstance(a, Variable):
        if a.kind != "constant":
            return False
        a = a.data
    elif isinstance(a, bool) or not isinstance(a, (int, float, np.ndarray, np.generic)):
        return False
    if value is None:
        return True
    return bool(np.all((a if backend.is_array(a) else np.asarray(a)) == value))


def _op(v, cls):
    return isinstance(v, Variable) and type(v._node) is cls


def _arg(v, i=0):
    return v._node.args[i]


def _same_static_shape(a: Variable, b) -> bool:
    sa = a.static_shape
    sb = b.static_shape if isinstance(b, Variable) else np.shape(b)
    return sa is not None and sb is not None and None not in sa and tuple(sa) == tuple(sb)


# ----------------------------------------------------------------------------- local rewrites
def neg_of(u):
    """-u, simplified: --a is a, -(-a - b) is a + b, -(a - b) is b - a."""
    if _op(u, E.Neg):
        return _arg(u)
    if _op(u, E.Sub):
        a, b = u._node.args
        if _op(a, E.Neg):
            return ops.add(_arg(a), b)
        return ops.sub(b, a)
    return ops.neg(u)


def _sigmoid_of_div(args, kw):
    """1 / (1 + exp(u)) is sigmoid(-u): Theano's program writes the sigmoid out this way."""
    num, den = args
    if not (_is_const(num, 1) and _op(den, E.Add)):
        return None
    a, b = den._node.args
    e = b if _is_const(a, 1) else a if _is_const(b, 1) else None
    if e is None or not _op(e, E.Exp):
        return None
    return ops.sigmoid(neg_of(_arg(e)))


def _log_stable(args, kw):
    (x,) = args
    if _op(x, A.Sigmoid):  # log(sigmoid(z)) = -softplus(-z)
        return ("log_sigmoid", neg_of(ops.softplus(neg_of(_arg(x)))))
    if _op(x, E.Sub) and _is_const(_arg(x, 0), 1) and _op(_arg(x, 1), A.Sigmoid):
        z = _arg(_arg(x, 1))  # log(1 - sigmoid(z)) = -softplus(z)
        return ("log_one_minus_sigmoid", neg_of(ops.softplus(z)))
    if _op(x, A.Softmax):
        return ("log_softmax", ops.log_softmax(_arg(x), axis=x._node.kwargs["axis"]))
    if _op(x, R.Sum) and _op(_arg(x), E.Exp):
        kw2 = x._node.kwargs
        return ("logsumexp", A.LogSumExp.apply(_arg(_arg(x)), axis=kw2.get("axis"),
                                               keepdims=kw2.get("keepdims", False)))
    return None


def _neg(args, kw):
    (u,) = args
    if _op(u, E.Neg) or _op(u, E.Sub):
        return ("algebra", neg_of(u))
    return None


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _mul(args, kw):
    a, b = args
    if _op(a, E.Neg) and _op(b, E.Neg):  # (-a) * (-b) = a * b
        return ("algebra", ops.mul(_arg(a), _arg(b)))
    if _num(a) and _op(b, E.Neg):  # c * (-b) = (-c) * b
        return ("algebra", ops.mul(-a, _arg(b)))
    if _num(b) and _op(a, E.Neg):
        return ("algebra", ops.mul(_arg(a), -b))
    if _is_const(b, 1) and isinstance(a, Variable) and _same_static_shape(a, b):
        return ("algebra", a)
    if _is_const(a, 1) and isinstance(b, Variable) and _same_static_shape(b, a):
        return ("algebra", b)
    return None


def _pow(args, kw):
    a, b = args
    if isinstance(a, Variable) and isinstance(b, (int, float)) and b == 1:
        return ("algebra", a)
    return None


def _identity_if_same_shape(args, kw):
    a, like = args
    if isinstance(a, Variable) and _same_static_shape(a, like):
        return ("algebra", a)
    return None


def _cast(args, kw):
    a, dtype = args
    if isinstance(a, Variable) and a.dtype == np.dtype(dtype):
        return ("algebra", a)
    return None


def _div(args, kw):
    r = _sigmoid_of_div(args, kw)
    return None if r is None else ("sigmoid", r)


LOCAL = {
    E.Log: _log_stable, E.Neg: _neg, E.Mul: _mul, E.Pow: _pow, E.Div: _div, E.Cast: _cast,
    S.SumToLike: _identity_if_same_shape, S.BroadcastLike: _identity_if_same_shape,
    S.ReshapeLike: _identity_if_same_shape,
}
"""Operation class -> rewrite(args, kwargs) giving (name, replacement) or None."""


# ----------------------------------------------------------------------------- the passes
class Rebuilder:
    """One pass over the graph of ``roots``; ``self.map`` sends old Variables to new ones."""

    def __init__(self, stats: Counter, grads: dict):
        self.stats, self.grads = stats, grads
        self.table: dict = {}
        self.map: dict = {}
        self.changed = False

    def make(self, cls, args, kwargs, orig=None):
        """The node ``cls(*args, **kwargs)``: merged, folded or rewritten when it can be."""
        pure = cls not in shape_rules.IMPURE
        key = None
        if pure:
            key = (cls, tuple(_static_key(a) for a in args),
                   tuple(sorted((k, _static_key(v)) for k, v in kwargs.items())))
            hit = self.table.get(key)
            if hit is not None:
                self.stats["cse"] += 1
                self.changed = True
                return hit
            consts = [a for a in args if isinstance(a, Variable)]
            if consts and all(a.kind == "constant" for a in consts):
                datas = [a.data if isinstance(a, Variable) else a for a in args]
                with np.errstate(all="ignore"):
                    out = cls().forward(*datas, **kwargs)
                self.stats["constant_folding"] += 1
                self.changed = True
                v = constant(out if backend.is_array(out) else np.asarray(out))
                self.table[key] = v
                return v
            rule = LOCAL.get(cls)
            if rule is not None:
                res = rule(args, kwargs)
                if res is not None:
                    name, v = res
                    self.stats[name] += 1
                    self.changed = True
                    self.table[key] = v
                    return v
        if orig is not None and all(x is y for x, y in zip(args, orig._node.args)):
            v = orig  # unchanged: keep the node (and its inferred shape)
        else:
            v = record(cls, args, kwargs)
        if key is not None:
            self.table[key] = v
        return v

    def run(self, roots) -> list:
        """Rebuild the graph of ``roots``; returns the new roots."""
        for v in topo(roots):
            node = v._node
            if node is None:
                self.map[id(v)] = v
                continue
            args = tuple(self.map[id(a)] if isinstance(a, Variable) else a for a in node.args)
            if type(node) is Grad:
                self.map[id(v)] = self.expand_grad(node.args[0], args)
                self.changed = True
                continue
            self.map[id(v)] = self.make(type(node), args, node.kwargs, orig=v)
        return [self.map[id(r)] for r in roots]

    def expand_grad(self, old_cost, args):
        """Expand d(cost)/d(wrt); one backward sweep serves every wrt of the same cost."""
        cost, wrt = args
        done = self.grads.get(id(old_cost))
        if done is None:
            wrts = self.wanted[id(old_cost)]
            done = self.grads[id(old_cost)] = dict(zip([id(w) for w in wrts],
                                                       expand(cost, wrts)))
        self.stats["gradients"] += 1
        return done[id(wrt)]

    def run_all(self, roots):
        """Like :meth:`run`, after noting which leaves each cost is differentiated by."""
        self.wanted: dict = {}
        for v in topo(roots):
            if type(v._node) is Grad:
                cost, wrt = v._node.args
                ws = self.wanted.setdefault(id(cost), [])
                if all(w is not wrt for w in ws):
                    ws.append(wrt)
        return self.run(roots)


def optimize(roots, max_passes: int = 8):
    """Rewrite the graph of ``roots`` to a fixed point; returns (new roots, stats)."""
    stats: Counter = Counter()
    seen: dict = {}
    grads: dict = {}
    for _ in range(max_passes):
        seen.update((id(v), v) for v in topo(roots) if v._node is not None)
        rb = Rebuilder(stats, grads)
        roots = rb.run_all(roots)
        if not rb.changed:
            break
    final = {id(v) for v in topo(roots) if v._node is not None}
    seen.update((id(v), v) for v in topo(roots) if v._node is not None)
    stats["dead_code"] = len(seen.keys() - final)
    stats["nodes"] = len(final)
    return roots, stats
