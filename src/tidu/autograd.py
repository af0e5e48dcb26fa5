"""Reverse-mode automatic differentiation: the Function contract and the backward engine.

A :class:`Function` is one differentiable primitive. ``forward`` works on plain arrays and may
keep what ``backward`` needs on ``self``; ``backward`` receives the gradient of the output and
returns one gradient per positional input (``None`` where there is none). Gradients may keep
the broadcast shape of the output: the engine reduces them to each input's shape in one place
(:func:`tidu._shapes.sum_to`).

The engine walks the graph iteratively, newest node first, so depth is limited by memory,
not by Python's recursion limit, and it frees each node's saved arrays once used unless
``retain_graph=True``. With ``create_graph=True`` it uses each Function's ``vjp`` (the
derivative written in tidu operations) instead of ``backward``, so that gradients can be
differentiated again.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence

from . import backend
from ._shapes import sum_to
from .errors import GradientError, ShapeError
from .grad_mode import _GradMode, _set_grad, enable_grad, is_grad_enabled, no_grad  # noqa: F401
from .safety import _State, check_gradients, check_versions, creation_site, run_hooks

xp = backend.xp
_ARRAY_TYPES = backend.ARRAY_TYPES
Tensor = None  # bound by tidu.tensor at import (the engine and Tensor know each other)


class _Graph:
    """Hook set by :mod:`tidu.compile` once a symbolic Variable exists.

    ``Function.apply`` hands an operation on a Variable to ``record`` (which builds a
    symbolic node instead of computing); until then the check costs nothing.
    """

    variable_type = None
    record = None
    grad = None  # symbolic tidu.grad on Variables


_F64 = xp.dtype("float64")
_FLOAT64 = xp.float64
_GENERIC = xp.generic
_NDARRAY = xp.ndarray
_TRUE1 = (True,)
_new = object.__new__
_next_seq = itertools.count(1).__next__  # nodes numbered in creation order (see run_backward)


def _narrow(datas, out):
    """Integers promote to the default float, as in PyTorch: NumPy made ``out`` float64
    although no input was float64 (``int / int``, ``int * 0.5``, ``float32 + int64``)."""
    floats = []
    for d in datas:
        dt = getattr(d, "dtype", None)
        if dt is not None and dt.kind == "f":
            if dt is _F64:
                return out
            floats.append(dt)
    return out.astype(xp.result_type(*floats) if floats else backend.default_float)


class Function:
    """Base class of differentiable operations; subclass it for a custom operation.

    Subclasses define ``forward(self, *arrays, **kwargs) -> array`` and
    ``backward(self, grad) -> gradient or tuple of gradients`` (one per positional input).
    Call them with ``MyOp.apply(*inputs, **kwargs)``; inputs may be Tensors, arrays or
    scalars (the last two are constants). ``self.needs_grad[i]`` says whether input ``i``
    wants a gradient, so ``backward`` can skip work.

    Optionally, ``vjp(g, *args, **kwargs)`` (a staticmethod) gives the same derivative as an
    expression in tidu operations on the original arguments, so that it can itself be
    differentiated (``create_graph=True``) and built symbolically (:mod:`tidu.compile`).
    A recorded node keeps its ``args`` and ``kwargs`` for it.

    >>> import tidu, numpy as np
    >>> class Cube(tidu.Function):
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x ** 3
    ...     def backward(self, grad):
    ...         return grad * 3 * self.x ** 2
    >>> x = tidu.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> float(x.grad)
    12.0
    """

    inputs: tuple
    needs_grad: tuple
    exact_dtype = False  # True: the output dtype is the op's own choice (a cast), never narrowed
    _freed = False  # set by _release once backward has used the node
    _seq = 0  # creation order, set when recorded (0 once freed: backward then raises)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the inputs' arrays and record the node when gradients are on."""
        # The hot path of every eager operation: one pass over the arguments finds their
        # arrays and which of them want a gradient; names are bound once at import.
        if _Graph.variable_type is not None:
            vt = _Graph.variable_type
            for a in args:
                if isinstance(a, vt):
                    return _Graph.record(cls, args, kwargs)
        T = Tensor
        datas = []
        ins = []  # the node's inputs: the Tensors that want a gradient, None elsewhere
        req = False
        for a in args:
            if isinstance(a, T):
                datas.append(a.data)
                if a._requires_grad:
                    req = True
                    ins.append(a)
                    continue
            elif isinstance(a, _GENERIC):
                # NumPy scalars count as Python scalars (weak dtype), as in PyTorch: float32 *
                # np.float64 stays float32 instead of silently promoting the graph to float64.
                datas.append(a.item())
            else:
                datas.append(a)
            ins.append(None)
        fn = cls()
        try:
            out = fn.forward(*datas, **kwargs) if kwargs else fn.forward(*datas)
        except ValueError as e:
            if backend.mixed(datas):
                raise backend.mixed_error(cls.__name__.lower(), datas) from e
            if isinstance(e, ShapeError):
                raise
            shapes = ", ".join(str(getattr(d, "shape", "scalar")) for d in datas)
            raise ShapeError(f"{cls.__name__.lower()}: inputs of shapes {shapes}: {e}") from e
        except TypeError as e:
            if backend.mixed(datas):
                raise backend.mixed_error(cls.__name__.lower(), datas) from e
            raise
        if type(out) is not _NDARRAY and type(out) not in _ARRAY_TYPES:
            out = _as_output(out, datas)
        if out.dtype is _F64 and backend.default_float is not _FLOAT64 and not cls.exact_dtype:
            out = _narrow(datas, out)
        t = _new(T)
        t.data = out
        t.grad = None
        t._retain = False
        t.name = None
        t._version = t._stamp = 0
        t._hooks = None
        if req and _GradMode.enabled:
            if len(ins) == 1:
                fn.inputs, fn.needs_grad = args, _TRUE1
            else:
                fn.inputs = ins = tuple(ins)
                fn.needs_grad = tuple([p is not None for p in ins])
            fn.args = args
            fn.kwargs = kwargs
            fn._epoch = _State.epoch
            fn._seq = _next_seq()
            if _State.anomaly:
                fn._stack = creation_site()
            t._requires_grad = True
            t._node = fn
        else:
            t._requires_grad = False
            t._node = None
        return t

    @property
    def name(self) -> str:
        return type(self).__name__

    def _release(self) -> None:
        """Drop saved arrays and links to inputs once backward has used them."""
        self.__dict__.clear()
        self._freed = True


def _as_output(out, datas):
    """A forward's scalar result as an array on the device of its first array input."""
    for d in datas:
        if type(d) in _ARRAY_TYPES:
            return backend.asarray_like(out, d)
    return xp.asarray(out)


def _check_root(t, grad):
    if not isinstance(t, Tensor):
        raise TypeError(f"backward/grad expects Tensors, got {type(t).__name__}")
    if not t.requires_grad:
        raise GradientError(
            "element does not require grad and has no graph: create the leaves with "
            "requires_grad=True (and not inside tidu.no_grad())"
        )
    if grad is None:
        if t.data.size != 1:
            raise GradientError(
                f"backward on a tensor of shape {t.shape} needs an output gradient: "
                "gradients can be implicitly created only for scalar outputs; pass "
                "gradient=<array of the same shape> or reduce the output (e.g. .sum())"
            )
        d = t.data
        if type(d) is _NDARRAY:  # NumPy's ones_like costs more than the rest of this check
            one = xp.array(1, d.dtype)
            return one if d.ndim == 0 else one.reshape(d.shape)
        return xp.ones_like(d)
    g = grad.data if isinstance(grad, Tensor) else backend.asarray_like(grad, t.data)
    if g.shape != t.shape:
        raise ShapeError(f"backward: the output gradient has shape {g.shape} but the output "
                         f"has shape {t.shape}")
    return g if g.dtype == t.data.dtype else g.astype(t.data.dtype)


def _topo_order(roots: Sequence) -> list:
    """Tensors reachable from ``roots`` through recorded nodes, outputs before inputs."""
    order, seen = [], set()
    push, visit = order.append, seen.add
    stack = [(r, False) for r in roots]
    pop, put = stack.pop, stack.append
    while stack:
        t, expanded = pop()
        if expanded:
            push(t)
            continue
        k = id(t)
        if k in seen:
            continue
        visit(k)
        node = t._node
        if node is None:  # a leaf: nothing below it
            push(t)
            continue
        put((t, True))
        for p in getattr(node, "inputs", ()):
            if p is not None and id(p) not in seen:
                put((p, False))
    order.reverse()
    return order


def _fresh_grad(t, g, handed) -> None:
    """Store (or add) ``g`` into ``t.grad``; ``.grad`` must own a fresh, writable array."""
    # ``g`` may be a read-only broadcast view, the caller's output gradient, or shared with
    # another input (Add hands one array to both). Arrays that are already fresh are kept
    # without a copy.
    if t.grad is not None:
        stored = t.grad.data + g
    elif id(g) in handed:
        stored = g.copy()
    else:
        flags = g.flags
        stored = g if flags.owndata and flags.writeable else g.copy()
    handed.add(id(stored))
    t.grad = Tensor._make(stored, False, None)


def _conform(pg, d, node):
    """A node's gradient ``pg`` for the input array ``d``: an array of its kind, summed to
    its shape (a broadcast input), in its dtype."""
    tp = type(pg)
    if tp is not _NDARRAY and tp not in _ARRAY_TYPES:
        pg = backend.asarray_like(pg, d)
    if pg.shape != d.shape:
        pg = sum_to(pg, d.shape, node.name)
    if pg.dtype != d.dtype:
        pg = pg.astype(d.dtype)
    return pg


def run_backward(roots, grads, retain_graph=False, targets=None):
    """Propagate ``grads`` from ``roots`` back through the graph.

    With ``targets`` (a sequence of tensors), return their gradients as arrays and leave every
    ``.grad`` untouched; otherwise accumulate into the ``.grad`` of leaves (and of tensors that
    called ``retain_grad()``).

    Order: a node is created after the nodes of its inputs, so the tensor whose node is
    the newest of those still waiting has every contribution to its gradient already (as
    PyTorch's engine orders its ready queue by sequence number). A heap of the waiting tensors,
    newest node first, gives that order without a topological sort; only tensors that got a
    gradient enter it. The leaves, met on the way, are settled at the end.
    """
    pending = {}
    leaves = {}  # id -> leaf tensor, in the order first reached
    heap = []  # (-node sequence number, id, tensor) of the tensors waiting for backward
    push = heapq.heappush
    handed = set(map(id, grads))  # arrays that must not become a .grad without a copy
    for r, g in zip(roots, grads):
        k = id(r)
        if k in pending:
            pending[k] = pending[k] + g
            continue
        pending[k] = g
        if r._node is None:
            leaves[k] = r
        else:
            push(heap, (-r._node._seq, k, r))
    want = None if targets is None else {id(t) for t in targets}
    before, _Targets.now = _Targets.now, (want or _Targets.now)
    try:
        return _propagate(heap, pending, leaves, want, handed, retain_graph)
    finally:
        _Targets.now = before


class _Targets:
    now: frozenset | set = frozenset()  # ids of the tensors the running grad() call returns


def private_gradient(t) -> bool:
    """Whether the gradient that reaches tensor ``t`` in the backward pass now running goes
    to ``t``'s node alone: no hook, no ``retain_grad()``, not a target of ``grad()``. A node
    may then hand that node a gradient already transformed for it (MaxPool masks its gradient
    with the rectifier of the ConvReLU whose output it pooled, saving that node a pass)."""
    return not t._hooks and not t._retain and id(t) not in _Targets.now


def _propagate(heap, pending, leaves, want, handed, retain_graph):
    """run_backward's loop: the waiting tensors, newest node first, then the leaves."""
    push, pop = heapq.heappush, heapq.heappop
    found = {}
    take = pending.pop
    nd, state = _NDARRAY, _State
    while heap:
        _, k, t = pop(heap)
        g = take(k)
        if t._hooks:
            g = run_hooks(t, g)
        node = t._node
        if want is not None:
            if k in want:
                found[k] = found[k] + g if k in found else g.copy()
        elif t._retain:
            _fresh_grad(t, g, handed)
        if node._freed:
            raise GradientError(
                f"trying to backward through the graph a second time (at {node.name}): its "
                "saved values were freed by the first backward; pass retain_graph=True to the "
                "first backward (or grad) call if you need to go through it again"
            )
        if node._epoch != state.epoch:
            check_versions(node)
        in_grads = node.backward(g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,) if not isinstance(in_grads, tuple) else in_grads
        if state.anomaly:
            check_gradients(node, in_grads)
        for p, pg in zip(node.inputs, in_grads):
            if p is None or pg is None:
                continue
            d = p.data
            if pg.__class__ is not nd or pg.shape != d.shape or pg.dtype is not d.dtype:
                pg = _conform(pg, d, node)
            kp = id(p)
            if kp in pending:
                pending[kp] = pending[kp] + pg
            else:
                pending[kp] = pg
                pnode = p._node
                if pnode is None:
                    leaves[kp] = p
                else:
                    push(heap, (-pnode._seq, kp, p))
        if not retain_graph:
            node.__dict__.clear()  # Function._release: saved arrays and links to inputs
            node._freed = True
    for k, t in leaves.items():
        g = take(k)
        if t._hooks:
            g = run_hooks(t, g)
        if want is None:
            if t.grad is None and g.base is None and id(g) not in handed \
                    and g.flags.writeable:  # _fresh_grad's common case: g is the node's own
                handed.add(id(g))  # another leaf handed the same array copies it
                t.grad = Tensor._make(g, False, None)
            else:
                _fresh_grad(t, g, handed)
        elif k in want:
            found[k] = found[k] + g if k in found else g.copy()
    return found


def _root_tensor(t, grad):
    """The output gradient as a Tensor for ``create_graph``: a caller's Tensor keeps its graph."""
    g = _check_root(t, grad)
    if isinstance(grad, Tensor):
        if grad.dtype == t.dtype:
            return grad
        from . import ops

        return ops.cast(grad, t.dtype)
    return Tensor._make(g, False, None)


def _graph_hooks(t, g):
    """Hooks on the create_graph path see (and may return) Tensors with graphs."""
    for hook in list(t._hooks):
        out = hook(g)
        if out is not None:
            g = out if isinstance(out, Tensor) else Tensor._make(
                backend.asarray_like(out, g.data), False, None)
    return g


def _run_backward_graph(roots, grads, retain_graph=True, targets=None):
    """``run_backward`` with ``create_graph=True``: every gradient is a Tensor computed by the
    nodes' ``vjp`` rules with recording on, so it has a graph of its own to differentiate.

    Kept apart from :func:`run_backward` so that the plain (training) path does no extra work.
    """
    from . import ops

    pending = {}
    handed = {id(g) for g in grads}  # Tensors that must not become a .grad as they are
    for r, g in zip(roots, grads):
        k = id(r)
        pending[k] = ops.add(pending[k], g) if k in pending else g
    want = None if targets is None else {id(t) for t in targets}
    found = {}
    with _set_grad(True):
        for t in _topo_order(roots):
            g = pending.pop(id(t), None)
            if g is None:
                continue
            if t._hooks:
                g = _graph_hooks(t, g)
            if want is not None:
                if id(t) in want:
                    found[id(t)] = ops.add(found[id(t)], g) if id(t) in found else g
            elif t._node is None or t._retain:
                if t.grad is not None:
                    stored = ops.add(t.grad, g)
                elif id(g) in handed or not (g.data.flags.owndata and g.data.flags.writeable):
                    stored = ops.cast(g, g.dtype)  # a fresh, writable copy that keeps the graph
                else:
                    stored = g
                handed.add(id(stored))
                t.grad = stored
            node = t._node
            if node is None:
                continue
            if getattr(node, "_freed", False):
                raise GradientError(
                    f"trying to backward through the graph a second time (at {node.name}): "
                    "its saved values were freed by an earlier backward; pass "
                    "retain_graph=True (or create_graph=True) to that call"
                )
            vjp = getattr(type(node), "vjp", None)
            if vjp is None:
                raise GradientError(
                    f"{node.name} has no vjp, so its gradient cannot be differentiated again "
                    "(create_graph=True); define vjp(g, *args, **kwargs) as a staticmethod "
                    "that writes the derivative with tidu operations (see docs/custom_ops.md)"
                )
            check_versions(node)
            in_grads = vjp(g, *node.args, **node.kwargs)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if _State.anomaly:
                check_gradients(node, in_grads)
            for p, pg in zip(node.inputs, in_grads):
                if p is None or pg is None:
                    continue
                if not isinstance(pg, Tensor):
                    pg = Tensor._make(backend.asarray_like(pg, p.data), False, None)
                if pg.shape != p.data.shape:
                    try:
                        pg = ops.sum_to_like(pg, p)
                    except ShapeError:
                        raise ShapeError(
                            f"{node.name}: vjp produced a gradient of shape {pg.shape} for an "
                            f"input of shape {p.data.shape}"
                        ) from None
                if pg.dtype != p.data.dtype:
                    pg = ops.cast(pg, p.data.dtype)
                k = id(p)
                pending[k] = ops.add(pending[k], pg) if k in pending else pg
            if not retain_graph:
                node._release()
    return found


def backward(tensor, gradient=None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _run_backward_graph([tensor], [_root_tensor(tensor, gradient)], retain_graph)
        return
    g = _check_root(tensor, gradient)
    run_backward([tensor], [g], retain_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    The counterpart of ``torch.autograd.grad`` and Theano's ``T.grad``. ``outputs`` is a
    tensor or a sequence of tensors (scalars, or with ``grad_outputs`` of matching shapes);
    ``inputs`` a tensor or a sequence. An input that the outputs do not depend on gets a
    zero gradient. With ``create_graph=True`` the gradients are built from the operations'
    ``vjp`` rules and carry a graph, so they can be differentiated again (``retain_graph``
    then defaults to True, as in PyTorch).

    >>> import tidu
    >>> x = tidu.tensor(3.0, requires_grad=True)
    >>> (dx,) = tidu.grad(x ** 3, [x], create_graph=True)   # 3 x^2 = 27
    >>> float(dx), float(tidu.grad(dx, x))                  # 6 x = 18
    (27.0, 18.0)

    Returns:
        A tuple of Tensors, one per input (a single Tensor when ``inputs`` is one Tensor).
    """
    single = isinstance(inputs, Tensor)
    ins = [inputs] if single else list(inputs)
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    vt = _Graph.variable_type
    if vt is not None and any(isinstance(o, vt) for o in outs):
        res = _Graph.grad(outs, ins, grad_outputs)
        return res[0] if single else res
    if retain_graph is None:
        retain_graph = create_graph
    if grad_outputs is None:
        gos: Iterable = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor, xp.ndarray)) or not isinstance(grad_outputs, Sequence):
        gos = [grad_outputs]
    else:
        gos = grad_outputs
    for t in ins:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GradientError("every input of grad() must be a Tensor with requires_grad=True")
    if create_graph:
        gts = [_root_tensor(o, g) for o, g in zip(outs, gos)]
        found = _run_backward_graph(outs, gts, retain_graph, targets=ins)
        res = tuple(found[id(t)] if id(t) in found
                    else Tensor._make(xp.zeros_like(t.data), False, None) for t in ins)
        return res[0] if single else res
    gs = [_check_root(o, g) for o, g in zip(outs, gos)]
    found = run_backward(outs, gs, retain_graph, targets=ins)
    res = tuple(
        Tensor._make(found[id(t)], False, None) if id(t) in found
        else Tensor._make(xp.zeros_like(t.data), False, None)
        for t in ins
    )
    return res[0] if single else res
