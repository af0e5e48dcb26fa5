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
from ..ops import reduce as R
from ..ops import shape as S
from ..safety import bump_version
from .graph import consumers, topo
from .kernels import DEVICE_EXPRESSIONS, ELEMENTWISE, EXPRESSIONS, FRESH, LIKE, UFUNCS
from .placement import Placement
from .shapes import IMPURE
from .variable import Compare, Variable


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
        seen = {id(v) for v in self.leaves}  # a variable only written is state all the same
        self.leaves += [t for t, _ in self.updates if id(t) not in seen]
        in_ids = {id(v) for v in self.inputs}
        for v in self.leaves:
            if v.kind == "input" and id(v) not in in_ids:
                raise ValueError(f"tidu.function: the graph needs {v._label()}, which is not "
                                 "among the inputs; add it to inputs (or replace it with "
                                 "givens)")
        self.users = users
        self.movable = movable

    # ----- the generic run: used once per signature, to learn every value's shape -----
    def run_generic(self, args, place: Placement | None = None):
        """Run every operation once by its own ``forward``; return id(value) -> array.

        ``place`` says where the plan runs: constants and static array arguments are moved
        to its device first, and every result is kept an array of that device."""
        place = place or Placement()
        put = place.put
        vals = {}
        for v, a in zip(self.inputs, args):
            vals[id(v)] = a
        for v in self.leaves:
            if v.kind == "shared":
                vals[id(v)] = v.data
            elif v.kind == "ref":
                vals[id(v)] = v.target.data
            elif v.kind == "constant":
                vals[id(v)] = put(v.data)
        fns = {}
        for v in self.steps:
            node = v._node
            fn = type(node)()
            fns[id(v)] = fn
            datas = [vals[id(a)] if isinstance(a, Variable) else put(a) for a in node.args]
            kwargs = {k: put(x) for k, x in node.kwargs.items()}
            vals[id(v)] = place.value(fn.forward(*datas, **kwargs))
        return vals


def _shape(x) -> tuple:
    """The shape of an array of any library, or of a scalar (``()``)."""
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else tuple(shape)


def _lit(x):
    """A Python literal for a static argument, or None when it needs a global."""
    if x is None or isinstance(x, (bool, int, str)):
        return repr(x)
    if isinstance(x, float):
        return repr(x) if np.isfinite(x) else None
    if isinstance(x, tuple) and all(_lit(i) is not None for i in x):
        return "(" + "".join(_lit(i) + ", " for i in x) + ")"
    return None


def _sum_to_expr(a: str, have: tuple, want: tuple) -> str:
    """The NumPy expression that sums ``a`` (shape ``have``) down to shape ``want``."""
    lead = len(have) - len(want)
    stretched = tuple(lead + i for i, n in enumerate(want) if n == 1 and have[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    if not stretched:
        return f"{a}.sum(axis={axes!r})"
    return f"{a}.sum(axis={axes!r}, keepdims=True).reshape({want!r})"


class Codegen:
    """Generate the plan of ``program`` for the value shapes found in ``vals``.

    Specializing to known shapes lets the plan drop what the shapes already decide: a
    ``sum_to_like`` whose shapes agree is no operation, the "like" argument of the shape
    operations is never computed, and values that depend only on constants and shapes
    (the 1/n of a mean's gradient) become constants of the plan.
    """

    def __init__(self, program: Program, vals: dict, inplace: bool = True,
                  reuse: bool = True, single: bool = False, place: Placement | None = None):
        self.p, self.vals, self.single = program, vals, single
        self.inplace, self.reuse = inplace, reuse
        self.place = place = place or Placement()
        self.glob = {"np": np, "_sum_to": _shapes.sum_to, "_bump": bump_version}
        self.device = place.on_device
        if self.device:  # no host arrays made inside a device plan: its own copy and 0-d
            self.glob["_copy"], self.glob["_value"] = place.copy, place.value
        self.names: dict = {}
        self.lines: list = []
        self.stats = {"buffer_reuse": 0, "inplace_updates": 0, "buffers": 0,
                      "plan_constants": 0}
        self.update_lines: list = []

    def g(self, obj, prefix="K") -> str:
        """A global name in the generated module bound to ``obj``."""
        name = f"{prefix}{len(self.glob)}"
        self.glob[name] = obj
        return name

    def arg(self, a) -> str:
        """The source text of one argument: a value's name, a literal or a global."""
        if isinstance(a, Variable):
            return self.names[id(a)]
        lit = _lit(a)
        return lit if lit is not None else self.g(self.place.put(a))

    @staticmethod
    def used_args(v):
        """The arguments of ``v``'s node whose values (not just shapes) the plan reads."""
        node = v._node
        args = node.args[:1] if type(node) in LIKE else node.args
        return [a for a in args if isinstance(a, Variable)]

    def analyse(self):
        """Which steps run, and which are constants of this signature."""
        p = self.p
        const = set()
        for v in p.steps:
            if type(v._node) in IMPURE:
                continue
            if all(a.kind == "constant" or id(a) in const for a in self.used_args(v)):
                const.add(id(v))
        needed = {id(o) for o in p.outputs} | {id(u) for _, u in p.updates}
        for v in reversed(p.steps):
            if id(v) in needed and id(v) not in const:
                needed.update(id(a) for a in self.used_args(v))
        self.const = const
        self.run_steps = [v for v in p.steps if id(v) in needed]

    def build(self):
        """Generate and compile the plan; returns (function, source, stats)."""
        p = self.p
        params = []
        for i, v in enumerate(p.inputs):
            self.names[id(v)] = f"x{i}"
            params.append(f"x{i}")
        body = self.lines
        self.analyse()
        used = {id(a) for v in self.run_steps for a in self.used_args(v)}
        used |= {id(o) for o in p.outputs} | {id(t) for t, _ in p.updates} | \
            {id(u) for _, u in p.updates}
        for i, v in enumerate(p.leaves):
            if id(v) in self.names:
                continue
            if v.kind in ("shared", "ref"):
                owner = v if v.kind == "shared" else v.target
                self.names[id(v)] = f"s{i}"
                if id(v) in used:
                    body.append(f"s{i} = {self.g(owner, 'S')}.data")
            elif v.kind == "constant":
                self.names[id(v)] = self.g(self.place.put(v.data), "C")
        self.plan_buffers()
        for k, v in enumerate(self.run_steps):
            if id(v) in self.const:
                self.names[id(v)] = self.g(self.vals[id(v)], "C")
                self.stats["plan_constants"] += 1
                self.finish(v, self.names[id(v)])
            else:
                self.emit(k, v)
        outs = []
        for j, o in enumerate(p.outputs):
            n = self.names[id(o)]
            if o._node is None and o.kind in ("shared", "ref"):
                body.append(f"o{j} = {n}.copy()")  # the value before the updates
                n = f"o{j}"
            elif _shape(self.vals[id(o)]) == ():
                # a ufunc on 0-d arrays gives a NumPy scalar (CuPy gives a 0-d array)
                n = f"_value({n})" if self.device else f"np.asarray({n})"
            outs.append(n)
        for t, u in p.updates:
            if u._node is None:  # the new value is a leaf itself: copy it before any store
                body.append(f"u{len(body)} = {self._copy(self.names[id(u)])}")
                self.update_lines.append(self.assign(t, f"u{len(body) - 1}",
                                                     self.vals[id(u)]))
        body.extend(self.update_lines)
        for t, _ in p.updates:  # a tensor changed through the plan: older graphs must know
            if t.kind == "ref":
                body.append(f"_bump({self.g(t.target, 'T')})")
        body.append(f"return {outs[0]}" if self.single else "return [" + ", ".join(outs) + "]")
        src = f"def plan({', '.join(params)}):\n" + "".join(f"    {ln}\n" for ln in body)
        exec(compile(src, "<tidu plan>", "exec"), self.glob)  # noqa: S102 - generated here
        return self.glob["plan"], src, self.stats

    # ----- buffers -----
    def plan_buffers(self):
        """Choose, for each element-wise result, the array it is written into."""
        p, vals, steps = self.p, self.vals, self.run_steps
        pos = {id(v): k for k, v in enumerate(steps)}
        end = len(steps) + 1
        last = {}
        for k, v in enumerate(steps):
            for a in self.used_args(v):
                last[id(a)] = k
        for r in p.outputs:
            last[id(r)] = end
        users: dict = {}
        for v in steps:
            for a in self.used_args(v):
                users.setdefault(id(a), []).append(v)
        ext = {}  # a value that a later value may view lives as long as that value
        for v in reversed(steps):
            e = last.get(id(v), pos[id(v)])
            for w in users.get(id(v), ()):
                if type(w._node) not in FRESH:
                    e = max(e, ext.get(id(w), end))
            ext[id(v)] = e
        self.store = {}
        targets = {id(u): t for t, u in p.updates}
        readers_after = self._readers_after(targets, steps)
        holder: dict = {}
        owned_end: dict = {}
        free: dict = {}
        keys: dict = {}
        for k, v in enumerate(steps):
            cls = type(v._node)
            if id(v) in self.const:
                continue
            out = vals[id(v)]
            t = targets.get(id(v))
            if t is not None:
                cur = t.data if t.kind == "shared" else t.target.data
                if (self.inplace and id(v) in p.movable and cls in ELEMENTWISE
                        and out.shape == cur.shape and out.dtype == cur.dtype
                        and not readers_after[id(v)]):
                    self.store[id(v)] = ("target", t)
                    self.stats["inplace_updates"] += 1
                continue
            if not self.reuse or cls not in UFUNCS or out.ndim == 0 or last.get(id(v)) == end:
                continue
            args = {id(a) for a in self.used_args(v)}
            for b, hid in list(holder.items()):
                if owned_end[b] < k or (owned_end[b] == k and hid in args
                                        and cls in ELEMENTWISE):
                    free.setdefault(keys[hid], []).append(b)
                    del holder[b]
            key = (out.shape, out.dtype.str)
            pool = free.get(key)
            if pool:
                b = pool.pop()
                self.stats["buffer_reuse"] += 1
            else:
                b = f"B{self.stats['buffers']}"
                self.glob[b] = self.place.empty(out)
                self.stats["buffers"] += 1
            holder[b], owned_end[b], keys[id(v)] = id(v), ext[id(v)], key
            self.store[id(v)] = ("buffer", b)

    def _readers_after(self, targets, steps):
        """For each update value: does anything after it read the variable it overwrites
        (or a value that may be a view of it)?"""
        res = {}
        for k, v in enumerate(steps):
            t = targets.get(id(v))
            if t is None:
                continue
            views = {id(t)}
            for w in steps:
                if type(w._node) not in FRESH and any(id(a) in views
                                                      for a in self.used_args(w)):
                    views.add(id(w))
            res[id(v)] = any(id(a) in views for w in steps[k + 1:]
                             for a in self.used_args(w)) or \
                any(id(o) in views for o in self.p.outputs)
        return res

    # ----- one operation -----
    def emit(self, k, v):
        """Append the line that computes step ``k`` (value ``v``)."""
        node = v._node
        cls = type(node)
        name = f"v{k}"
        self.names[id(v)] = name
        args = [self.arg(a) for a in (node.args[:1] if cls in LIKE else node.args)]
        out = self.vals[id(v)]
        if cls in LIKE:
            src = node.args[0]
            src = self.vals[id(src)] if isinstance(src, Variable) else src
            if _shape(src) == out.shape:
                expr = args[0]
            elif cls is S.SumToLike:
                expr = _sum_to_expr(args[0], _shape(src), out.shape)
            elif cls is S.BroadcastLike:
                expr = f"np.broadcast_to({args[0]}, {out.shape!r})"
            else:
                expr = f"{args[0]}.reshape({out.shape!r})"
        elif cls in UFUNCS:
            expr = f"{self.g(UFUNCS[cls], 'U')}({', '.join(args)}"
            store = self.store.get(id(v))
            if store is not None:
                dest = store[1] if store[0] == "buffer" else self.names[id(store[1])]
                expr += f", out={dest}"
            expr += ")"
        elif cls is Compare:
            expr = f"{args[2]}({args[0]}, {args[1]})"
        elif cls is S.ExpandDims:
            expr = f"{args[0]}.reshape({out.shape!r})"
        elif cls is R.Mean and out.dtype in (np.float32, np.float64):
            # ndarray.mean is add.reduce, then a division by the count: the same, inline
            src = _shape(self.vals[id(node.args[0])])
            axis, kd = node.kwargs.get("axis"), node.kwargs.get("keepdims", False)
            n = int(np.prod([src[i] for i in axis])) if axis is not None else int(np.prod(src))
            red = f"{args[0]}.sum(" if self.device else f"np.add.reduce({args[0]}, "
            expr = f"{red}axis={axis!r}, keepdims={kd!r}) / {n}"
        elif cls in EXPRESSIONS:
            kw = {key: self.arg(val) for key, val in node.kwargs.items()}
            table = DEVICE_EXPRESSIONS if self.device and cls in DEVICE_EXPRESSIONS \
                else EXPRESSIONS
            expr = table[cls](args, kw)
        else:
            kw = "".join(f", {key}={self.arg(val)}" for key, val in node.kwargs.items())
            expr = f"{self.g(cls(), 'F')}.forward({', '.join(args)}{kw})"
        self.lines.append(f"{name} = {expr}")
        self.finish(v, name)

    def finish(self, v, name):
        """Queue the stores of the updates whose new value is ``v``."""
        for t, u in self.p.updates:
            if u is v:
                st = self.store.get(id(v))
                if st is not None and st[0] == "target":
                    continue  # written in place
                if type(v._node) not in FRESH:  # may view another variable: keep a copy
                    self.lines.append(f"{name} = {self._copy(name)}")
                self.update_lines.append(self.assign(t, name, self.vals[id(v)]))

    def assign(self, t, name, value) -> str:
        """The line that stores the new value ``name`` in shared variable ``t``."""
        tn = self.names[id(t)]
        owner = t if t.kind == "shared" else t.target
        if _shape(value) == owner.data.shape:
            return f"np.copyto({tn}, {name})"
        return f"{self.g(owner, 'S')}.data = {self._copy(name, f'{tn}.dtype')}"

    def _copy(self, name: str, dtype: str | None = None) -> str:
        """The source of a fresh copy of ``name`` (on the plan's device)."""
        fn = "_copy" if self.device else "np.array"
        return f"{fn}({name})" if dtype is None else f"{fn}({name}, dtype={dtype})"
