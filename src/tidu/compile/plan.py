"""From an optimized graph to a plan: straight-line Python over NumPy kernels.

The plan for one signature (the shapes and dtypes of the inputs) is generated as the source
of one Python function: one line per operation, local variables for values, no graph objects
and no per-call bookkeeping. Before generating it, the planner

* orders the operations so that updates of shared variables come last, and writes an update
  straight into the variable's array (``out=``) when nothing later reads the old value;
* gives each element-wise result a buffer: a dead input of the same shape and dtype (the
  result overwrites it in place) or a dead buffer from a pool; buffers are allocated once per
  signature and reused by every call.

The source is kept (``CompiledFunction.code``) so that a reader can see exactly what runs.
"""

from __future__ import annotations

import numpy as np

from .. import _shapes
from ..ops import shape as S
from .graph import consumers, topo
from .kernels import FRESH, UFUNCS, VIEWS_IF_SAME_SHAPE
from .variable import Variable


class Program:
    """The operations of a graph in run order, and the names the generated code uses."""

    def __init__(self, inputs, outputs, updates):
        self.inputs, self.outputs, self.updates = list(inputs), list(outputs), list(updates)
        roots = self.outputs + [u for _, u in self.updates]
        order = topo(roots)
        users = consumers(order)
        out_ids = {id(o) for o in self.outputs}
        finals = {id(u) for _, u in self.updates}
        movable = {i for i in finals if not users.get(i) and i not in out_ids}
        ops_ = [v for v in order if v._node is not None]
        self.steps = [v for v in ops_ if id(v) not in movable] + \
                     [v for v in ops_ if id(v) in movable]
        self.leaves = [v for v in order if v._node is None]
        in_ids = {id(v) for v in self.inputs}
        for v in self.leaves:
            if v.kind == "input" and id(v) not in in_ids:
                raise ValueError(f"tidu.function: the graph needs {v._label()}, which is not "
                                 "among the inputs; add it to inputs (or replace it with "
                                 "givens)")
        self.users = users
        self.movable = movable

    # ----- the generic run: used once per signature, to learn every value's shape -----
    def run_generic(self, args):
        vals = {}
        for v, a in zip(self.inputs, args):
            vals[id(v)] = a
        for v in self.leaves:
            if v.kind == "shared":
                vals[id(v)] = v.data
            elif v.kind == "ref":
                vals[id(v)] = v.target.data
            elif v.kind == "constant":
                vals[id(v)] = v.data
        fns = {}
        for v in self.steps:
            node = v._node
            fn = type(node)()
            fns[id(v)] = fn
            datas = [vals[id(a)] if isinstance(a, Variable) else a for a in node.args]
            out = fn.forward(*datas, **node.kwargs)
            vals[id(v)] = out if isinstance(out, np.ndarray) else np.asarray(out)
        return vals


def _lit(x):
    """A Python literal for a static argument, or None when it needs a global."""
    if x is None or isinstance(x, (bool, int, str)):
        return repr(x)
    if isinstance(x, float):
        return repr(x) if np.isfinite(x) else None
    if isinstance(x, tuple) and all(_lit(i) is not None for i in x):
        return "(" + "".join(_lit(i) + ", " for i in x) + ")"
    return None


class Codegen:
    """Generate the plan of ``program`` for the value shapes found in ``vals``."""

    def __init__(self, program: Program, vals: dict, inplace: bool = True,
                 reuse: bool = True):
        self.p, self.vals = program, vals
        self.inplace, self.reuse = inplace, reuse
        self.glob = {"np": np, "_sum_to": _shapes.sum_to}
        self.names: dict = {}
        self.lines: list = []
        self.stats = {"buffer_reuse": 0, "inplace_updates": 0, "buffers": 0}
        self._key: dict = {}

    def g(self, obj, prefix="K") -> str:
        name = f"{prefix}{len(self.glob)}"
        self.glob[name] = obj
        return name

    def arg(self, a) -> str:
        if isinstance(a, Variable):
            return self.names[id(a)]
        lit = _lit(a)
        return lit if lit is not None else self.g(a)

    def build(self):
        p = self.p
        params = []
        for i, v in enumerate(p.inputs):
            self.names[id(v)] = f"x{i}"
            params.append(f"x{i}")
        body = self.lines
        for i, v in enumerate(p.leaves):
            if id(v) in self.names:
                continue
            if v.kind == "shared":
                body.append(f"s{i} = {self.g(v, 'S')}.data")
                self.names[id(v)] = f"s{i}"
            elif v.kind == "ref":
                body.append(f"s{i} = {self.g(v.target, 'T')}.data")
                self.names[id(v)] = f"s{i}"
            elif v.kind == "constant":
                self.names[id(v)] = self.g(v.data, "C")
        self.plan_buffers()
        for k, v in enumerate(p.steps):
            self.emit(k, v)
        outs = []
        for o in p.outputs:
            n = self.names[id(o)]
            if o._node is None and o.kind in ("shared", "ref"):
                n = f"{n}.copy()"
            outs.append(n)
        for t, u in p.updates:
            if u._node is None:  # the new value is a leaf itself
                self.update_lines.append(self.assign(t, self.names[id(u)], self.vals[id(u)]))
        body.extend(self.update_lines)
        body.append("return [" + ", ".join(outs) + "]")
        src = f"def plan({', '.join(params)}):\n" + "".join(f"    {ln}\n" for ln in body)
        code = compile(src, "<tidu plan>", "exec")
        exec(code, self.glob)  # noqa: S102 - our own generated source
        return self.glob["plan"], src, self.stats

    # ----- buffers -----
    def plan_buffers(self):
        p, vals = self.p, self.vals
        pos = {id(v): k for k, v in enumerate(p.steps)}
        last = {}
        for k, v in enumerate(p.steps):
            for a in v._node.args:
                if isinstance(a, Variable):
                    last[id(a)] = k
        END = len(p.steps) + 1
        for r in p.outputs:
            last[id(r)] = END
        for _, u in p.updates:
            last[id(u)] = max(last.get(id(u), 0), len(p.steps))
        # a value that may be viewed by a later value lives as long as that value
        ext = {}
        for v in reversed(p.steps):
            e = last.get(id(v), pos[id(v)])
            for w in p.users.get(id(v), ()):
                if type(w._node) not in FRESH:
                    e = max(e, ext.get(id(w), END))
            ext[id(v)] = e
        self.store = {}   # id(value) -> buffer name it is written into
        self.update_lines = []
        targets = {id(u): t for t, u in p.updates}
        holder = {}       # buffer name -> id of the value now in it
        free: dict = {}
        owned_end = {}
        readers_after = self._readers_after(targets)
        for k, v in enumerate(p.steps):
            cls = type(v._node)
            out = vals[id(v)]
            t = targets.get(id(v))
            if (t is not None and self.inplace and id(v) in p.movable and cls in UFUNCS
                    and out.shape == t.shape and out.dtype == t.dtype
                    and not readers_after[id(v)]):
                self.store[id(v)] = ("target", t)
                self.stats["inplace_updates"] += 1
                continue
            if not self.reuse or cls not in UFUNCS or out.ndim == 0 or last.get(id(v)) == END \
                    or t is not None:
                continue
            key = (out.shape, out.dtype.str)
            # release buffers whose value is dead before (or, for inputs, at) this step
            for b, hid in list(holder.items()):
                if owned_end[b] < k or (owned_end[b] == k and any(
                        isinstance(a, Variable) and id(a) == hid for a in v._node.args)):
                    free.setdefault(self.vals_key(hid), []).append(b)
                    del holder[b]
            pool = free.get(key)
            if pool:
                b = pool.pop()
                self.stats["buffer_reuse"] += 1
            else:
                b = f"B{len(owned_end)}"
                self.glob[b] = np.empty(out.shape, out.dtype)
                self.stats["buffers"] += 1
            holder[b] = id(v)
            owned_end[b] = ext[id(v)]
            self.store[id(v)] = ("buffer", b)
            self._key[id(v)] = key

    def vals_key(self, vid):
        return self._key[vid]

    def _readers_after(self, targets):
        """For each update value: does a step after it read the variable it overwrites?"""
        p = self.p
        res = {}
        for k, v in enumerate(p.steps):
            t = targets.get(id(v))
            if t is None:
                continue
            views = {id(t)}  # t and every value that may be a view of it
            for w in p.steps:
                if type(w._node) not in FRESH and any(
                        isinstance(a, Variable) and id(a) in views for a in w._node.args):
                    views.add(id(w))
            res[id(v)] = any(
                isinstance(a, Variable) and id(a) in views
                for w in p.steps[k + 1:] for a in w._node.args
            ) or any(id(o) in views for o in p.outputs)
        return res

    # ----- one operation -----
    def emit(self, k, v):
        node = v._node
        cls = type(node)
        name = f"v{k}"
        self.names[id(v)] = name
        args = [self.arg(a) for a in node.args]
        kw = "".join(f", {key}={self.arg(val)}" for key, val in node.kwargs.items())
        out = self.vals[id(v)]
        if cls in VIEWS_IF_SAME_SHAPE:
            src = node.args[0]
            src = self.vals[id(src)] if isinstance(src, Variable) else src
            if np.shape(src) == out.shape:
                self.lines.append(f"{name} = {args[0]}")
                self.finish(v, name)
                return
            if cls is S.BroadcastLike:
                self.lines.append(f"{name} = np.broadcast_to({args[0]}, {out.shape!r})")
                self.finish(v, name)
                return
        store = self.store.get(id(v))
        if cls in UFUNCS:
            call = f"{self.g(UFUNCS[cls], 'U')}({', '.join(args)}"
            if store is not None:
                dest = store[1] if store[0] == "buffer" else self.names[id(store[1])]
                call += f", out={dest}"
            self.lines.append(f"{name} = {call})")
        else:
            fn = self.g(cls(), "F")
            self.lines.append(f"{name} = {fn}.forward({', '.join(args)}{kw})")
        self.finish(v, name)

    def finish(self, v, name):
        for t, u in self.p.updates:
            if u is v:
                st = self.store.get(id(v))
                if st is not None and st[0] == "target":
                    continue  # written in place
                self.update_lines.append(self.assign(t, name, self.vals[id(v)]))

    def assign(self, t, name, value) -> str:
        """The line that stores the new value ``name`` in shared variable ``t``."""
        tn = self.names[id(t)]
        current = t.data if t.kind == "shared" else t.target.data
        if np.shape(value) == current.shape:
            return f"np.copyto({tn}, {name})"
        owner = self.g(t if t.kind == "shared" else t.target, "S")
        return f"{owner}.data = np.array({name}, dtype={tn}.dtype)"
