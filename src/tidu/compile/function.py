"""``tidu.function``: compile inputs, outputs and updates into a callable (Theano's model)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..safety import bump_version
from ..tensor import Tensor
from .graph import topo
from .placement import Placement, plan_device, where
from .plan import Codegen, Program
from .rewrites import Rebuilder, optimize
from .variable import Variable, constant, leaf


def _as_variable(x, what: str) -> Variable:
    x = leaf(x)
    if isinstance(x, Variable):
        return x
    try:
        return constant(x if backend.is_array(x) else np.asarray(x))
    except Exception:  # noqa: BLE001
        raise TypeError(f"tidu.function: {what} must be a symbolic expression, a tensor or an "
                        f"array, got {type(x).__name__}") from None


def _pairs(updates, what: str):
    if updates is None:
        return []
    if isinstance(updates, dict):
        updates = list(updates.items())
    out = []
    for item in updates:
        try:
            t, u = item
        except (TypeError, ValueError):
            raise TypeError(f"tidu.function: {what} must be (variable, expression) pairs, got "
                            f"{item!r}") from None
        out.append((t, u))
    return out


class CompiledFunction:
    """A compiled graph: call it with arrays for the inputs, in order.

    Attributes:
        stats: what the optimizer did (``cse``, ``constant_folding``, ``dead_code``, the
            stable rewrites by name, ``gradients``) and, once called, what the planner did
            (``buffer_reuse``, ``inplace_updates``).
        graph: the optimized graph as text (:func:`debugprint`).
        code: the Python source of the most recent plan.
    """

    def __init__(self, inputs, outputs=None, updates=None, givens=None,
                 allow_input_downcast: bool = False, name: str | None = None,
                 inplace: bool = True, reuse_buffers: bool = True):
        self.name = name or "function"
        if isinstance(inputs, (Variable, Tensor)):
            inputs = [inputs]
        self.inputs = list(inputs)
        for i, v in enumerate(self.inputs):
            if not isinstance(v, Variable) or v.kind != "input":
                raise TypeError(f"tidu.function: inputs[{i}] must be a symbolic input made by "
                                f"tidu.placeholder/matrix/vector/..., got {v!r} (shared "
                                "variables are read implicitly; do not list them)")
        self.single = outputs is not None and not isinstance(outputs, (list, tuple))
        outs = [] if outputs is None else [outputs] if self.single else list(outputs)
        outs = [_as_variable(o, f"outputs[{i}]") for i, o in enumerate(outs)]
        ups = []
        for t, u in _pairs(updates, "updates"):
            t = leaf(t)
            if not isinstance(t, Variable) or t.kind not in ("shared", "ref"):
                raise TypeError(f"tidu.function: an update target must be a shared variable "
                                f"or a tensor, got {t!r}")
            u = _as_variable(u, f"the update of {t._label()}")
            if u.dtype != t.dtype:
                if not np.can_cast(u.dtype, t.dtype, "same_kind"):
                    raise TypeError(f"tidu.function: the update of {t._label()} has dtype "
                                    f"{u.dtype}, which cannot be stored in its {t.dtype}")
                from .. import ops
                u = ops.cast(u, t.dtype)
            ups.append((t, u))
        if len({id(t) for t, _ in ups}) != len(ups):
            raise ValueError("tidu.function: a shared variable is updated twice")
        roots = outs + [u for _, u in ups]
        if givens:
            roots = _substitute(roots, _pairs(givens, "givens"))
        self.stats: Counter = Counter()
        self.original_nodes = sum(1 for v in topo(roots) if v._node is not None)
        roots, st = optimize(roots)
        self.stats.update(st)
        self.outputs = roots[:len(outs)]
        self.updates = [(t, u) for (t, _), u in zip(ups, roots[len(outs):])]
        self.program = Program(self.inputs, self.outputs, self.updates)
        self.allow_input_downcast = allow_input_downcast
        self._inplace, self._reuse = inplace, reuse_buffers
        self._plans: dict = {}
        self._fast = None
        self.code = None

    # ----- calling -----
    def _check(self, args):
        if len(args) != len(self.inputs):
            raise TypeError(f"{self.name}: expected {len(self.inputs)} input(s) "
                            f"({', '.join(v.name or '?' for v in self.inputs)}), got {len(args)}")
        out = []
        for i, (v, a) in enumerate(zip(self.inputs, args)):
            if isinstance(a, Tensor):
                a = a.data
            if type(a) is not np.ndarray or a.dtype != v.dtype:
                a = self._convert(i, v, a)
            want = v.static_shape
            if want is not None and (a.ndim != len(want) or any(
                    w is not None and w != d for w, d in zip(want, a.shape))):
                raise ShapeError(f"{self.name}: input {i} ('{v.name or '?'}') expects shape "
                                 f"{_fmt_shape(want)}, got shape {a.shape}")
            out.append(a)
        return out

    def _convert(self, i, v, a):
        array = backend.is_array(a)  # a NumPy array or another device's (never converted)
        arr = a if array else np.asarray(a)
        if arr.dtype == v.dtype:
            return arr
        ok = np.can_cast(arr.dtype, v.dtype, "safe") or self.allow_input_downcast or (
            not array and np.can_cast(arr.dtype, v.dtype, "same_kind"))
        if not ok:
            raise TypeError(f"{self.name}: input {i} ('{v.name or '?'}') expects dtype "
                            f"{v.dtype}, got {arr.dtype}, which would lose precision; cast it "
                            f"(x.astype('{v.dtype}')) or compile with allow_input_downcast=True")
        return arr.astype(v.dtype)

    def __call__(self, *args):
        # the last CPU signature: NumPy arrays of the same shapes and dtypes, and state of the
        # same shapes still in NumPy arrays (device calls take _call, which finds the device)
        fast = self._fast
        if fast is not None and len(args) == len(fast[1]):
            for a, (shape, dtype) in zip(args, fast[1]):
                if type(a) is not np.ndarray or a.shape != shape or a.dtype is not dtype:
                    break
            else:
                for owner, shape in fast[2]:
                    d = owner.data
                    if type(d) is not np.ndarray or d.shape != shape:
                        break
                else:
                    return fast[0](*args)
        return self._call(args)

    def _leaf_shapes(self):
        return [(v if v.kind == "shared" else v.target, None) for v in self.program.leaves
                if v.kind in ("shared", "ref")]

    def _call(self, args):
        args = self._check(args)
        owners = [o for o, _ in self._leaf_shapes()]
        sig = tuple((a.shape, a.dtype.char, where(a)) for a in args) + \
            tuple((o.data.shape, where(o.data)) for o in owners)
        plan = self._plans.get(sig)
        if plan is None:
            return self._first_call(sig, args, owners)
        if all(s[-1] is np.ndarray for s in sig):  # a CPU plan: the fast path may take it
            self._fast = (plan, [(a.shape, a.dtype) for a in args],
                          [(o, o.data.shape) for o in owners])
        return plan(*args)

    def _place(self, args, owners) -> Placement:
        """Where the plan for these arrays runs (DeviceError when they disagree)."""
        names = [f"input {i} ('{v.name or '?'}')" for i, v in enumerate(self.inputs)]
        onames = [f"shared variable '{o.name or '?'}'" if isinstance(o, Variable) else
                  f"tensor '{o.name or '?'}' of shape {o.data.shape}" for o in owners]
        return Placement(plan_device(self.name, args, names, owners, onames))

    def _first_call(self, sig, args, owners):
        place = self._place(args, owners)
        vals = self.program.run_generic(args, place)
        plan, src, st = Codegen(self.program, vals, self._inplace, self._reuse,
                                self.single, place).build()
        self._plans[sig] = plan
        self.code = src
        for k, n in st.items():
            self.stats[k] = max(self.stats[k], n)
        res = [vals[id(o)] for o in self.outputs]
        res = [r.copy() if o._node is None and o.kind in ("shared", "ref") else r
               for o, r in zip(self.outputs, res)]
        news = [(t, place.copy(vals[id(u)])) for t, u in self.updates]
        for t, new in news:  # every update read the old values; now store them
            owner = t if t.kind == "shared" else t.target
            if owner.data.shape == new.shape:
                np.copyto(owner.data, new)
            else:
                owner.data = place.copy(new, owner.data.dtype)
            if t.kind == "ref":
                bump_version(owner)
        return self._result(res)

    def _result(self, res):
        res = [r if type(r) is np.ndarray or backend.is_array(r) else np.asarray(r)
               for r in res]
        if self.single:
            return res[0]
        return res

    # ----- looking inside -----
    @property
    def graph(self) -> str:
        """The optimized graph as text, outputs first, then updates."""
        return debugprint(self)

    def to_dot(self, **kwargs) -> str:
        """The optimized graph as Graphviz DOT text (see :mod:`tidu.viz`)."""
        from .. import viz

        return viz.to_dot(*(self.outputs + [u for _, u in self.updates]), **kwargs)

    def __repr__(self) -> str:
        return (f"<CompiledFunction {self.name}: {len(self.inputs)} inputs, "
                f"{len(self.outputs)} outputs, {len(self.updates)} updates, "
                f"{self.stats['nodes']} nodes>")


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _substitute(roots, pairs):
    rb = Rebuilder(Counter(), {})
    for old, new in pairs:
        old = leaf(old)
        rb.map[id(old)] = _as_variable(new, "a givens replacement")
    order = topo(roots)
    for v in order:
        if id(v) in rb.map:
            continue
        node = v._node
        if node is None:
            rb.map[id(v)] = v
            continue
        args = tuple(rb.map[id(a)] if isinstance(a, Variable) else a for a in node.args)
        rb.map[id(v)] = rb.make(type(node), args, node.kwargs, orig=v)
    return [rb.map[id(r)] for r in roots]


def function(inputs, outputs=None, updates=None, givens=None,
             allow_input_downcast: bool = False, name: str | None = None) -> CompiledFunction:
    """Compile a symbolic graph once into a fast callable (Theano's ``theano.function``).

    Args:
        inputs: the symbolic inputs, in call order.
        outputs: one expression (the call returns one array) or a list (returns a list).
        updates: (shared variable, new value) pairs or a dict; every new value is computed
            from the old values, then all are stored.
        givens: (variable, replacement) pairs substituted into the graph before compiling.
        allow_input_downcast: accept inputs of a wider dtype than declared (cast down).

    >>> import numpy as np, tidu
    >>> x = tidu.dvector("x")
    >>> total = tidu.shared(0.0, name="total")
    >>> acc = tidu.function([x], x.sum(), updates=[(total, total + x.sum())])
    >>> float(acc(np.ones(3))), float(acc(np.ones(3))), float(total.get_value())
    (3.0, 3.0, 6.0)
    """
    return CompiledFunction(inputs, outputs, updates, givens, allow_input_downcast, name)


def debugprint(obj, file=None) -> str:
    """Print (and return) a graph as an indented tree, Theano's ``debugprint``.

    ``obj`` is a CompiledFunction (its optimized graph) or symbolic expression(s).
    """
    if isinstance(obj, CompiledFunction):
        roots = [("out", o) for o in obj.outputs] + \
                [(f"update {t.name or '?'}", u) for t, u in obj.updates]
    else:
        objs = obj if isinstance(obj, (list, tuple)) else [obj]
        roots = [("out", leaf(o)) for o in objs]
    ids: dict = {}
    lines: list = []

    def label(v):
        if v._node is None:
            if v.kind == "constant":
                d = v.data
                return f"constant {d.item() if d.size == 1 else d.shape}"
            return f"{v.kind} {v.name or ''}".rstrip()
        node = v._node
        kw = {k: x for k, x in node.kwargs.items() if x is not None}
        extra = "".join(f" {k}={x}" for k, x in kw.items())
        return f"{type(node).__name__}{extra}"

    def walk(v, depth):
        pad = " |" * depth
        shp = "?" if v.static_shape is None else _fmt_shape(v.static_shape)
        first = id(v) not in ids
        if first:
            ids[id(v)] = len(ids)
        lines.append(f"{pad}{label(v)} [id {ids[id(v)]}] {shp} {v.dtype}")
        if first and v._node is not None:
            for a in v._node.args:
                if isinstance(a, Variable):
                    walk(a, depth + 1)
                elif a is not None and not isinstance(a, (tuple, np.ufunc)):
                    lines.append(f"{pad} |{a!r}" if np.ndim(a) == 0 else
                                 f"{pad} |array {np.shape(a)}")
                elif isinstance(a, np.ufunc):
                    lines.append(f"{pad} |{a.__name__}")

    for title, r in roots:
        lines.append(f"{title}:")
        walk(r, 1)
    text = "\n".join(lines)
    if file is not None:
        print(text, file=file)
    return text
