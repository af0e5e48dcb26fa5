"""JAX-style transforms of Python functions: ``grad``, ``value_and_grad``, ``vjp``,
``jacobian``, ``hessian`` and ``hvp``.

``f`` is written with tidu operations and called with NumPy arrays, Python floats or Tensors.
The transforms return NumPy arrays of the inputs' dtypes (a Python float counts as float64).
When they are called with Tensors that require grad, as happens when one transform is nested
in another (``grad(grad(f))``), they return Tensors that keep their graph
(``create_graph=True``), so the outer transform differentiates through the inner one.

>>> import numpy as np
>>> from tidu import func
>>> f = lambda x: (x ** 4).sum()
>>> func.grad(f)(np.array([1.0, 2.0]))            # 4 x^3
array([ 4., 32.])
>>> float(func.grad(func.grad(func.grad(f)))(2.0))  # 24 x
48.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import autograd, backend
from .errors import GradientError
from .tensor import Tensor

xp = backend.xp

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian", "hvp"]


# ----- inputs and outputs -----
def _argnums(argnums, n: int, op: str) -> tuple:
    """``argnums`` as a tuple of non-negative positions, checked against ``n`` arguments."""
    many = isinstance(argnums, (tuple, list))
    items = tuple(argnums) if many else (argnums,)
    if many and not items:
        raise ValueError(f"{op}: argnums must name at least one argument, got ()")
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{op}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -n <= a < n:
            raise ValueError(f"{op}: argnums {a} is out of range for a function called with {n} "
                             f"positional argument{'s' if n != 1 else ''}")
        out.append(a % n)
    return tuple(out)


def _nested(args) -> bool:
    """Called with Tensors on a graph (inside another transform): keep the graph."""
    return any(isinstance(a, Tensor) and a.requires_grad for a in args)


def _leaf(x, i: int, op: str, nested: bool) -> Tensor:
    """The Tensor that argument ``i`` becomes, to be differentiated with respect to."""
    if isinstance(x, Tensor):
        if nested and x.requires_grad:
            return x
        data = x.data
    else:
        data = x if backend.is_array(x) else xp.asarray(x)
    if not backend.is_floating(data.dtype):
        raise TypeError(
            f"{op}: argument {i} has dtype {data.dtype}; only floating-point inputs can be "
            "differentiated: pass e.g. x.astype(float) (or a Python float)"
        )
    return Tensor._make(data, True, None)


def _prepare(args, argnums, op: str):
    """(the call's arguments with differentiated ones as Tensors, those Tensors, nested)."""
    nums = _argnums(argnums, len(args), op)
    nested = _nested(args)
    call = list(args)
    for i in nums:
        call[i] = _leaf(args[i], i, op, nested)
    return call, [call[i] for i in nums], nested


def _output(out, op: str, has_aux: bool = False):
    """Split ``(value, aux)`` and check that the value is a Tensor."""
    aux = None
    if has_aux:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"{op}: with has_aux=True, f must return a pair (output, aux), got "
                            f"{type(out).__name__}")
        out, aux = out
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{op}: f returned {type(out).__name__}, not a tidu Tensor; write f with tidu "
            "operations (tidu.sum, tidu.exp, Tensor arithmetic), not NumPy functions"
        )
    return out, aux


def _scalar(out: Tensor, op: str) -> None:
    if out.size != 1:
        raise GradientError(
            f"{op}: f must return a scalar (one element), got shape {out.shape}; use "
            "jacobian for non-scalar outputs, or reduce the output (e.g. .sum())"
        )


def _grads(out: Tensor, ins: list, go, nested: bool) -> list:
    """d(out)/d(ins) (``go``: the output gradient), as Tensors; zeros when out is constant."""
    if not out.requires_grad:
        return [Tensor._make(xp.zeros_like(t.data), False, None) for t in ins]
    return list(autograd.grad(out, ins, go, retain_graph=True, create_graph=nested))


def _finish(gs: list, many: bool, nested: bool):
    """Tensors when nested, else NumPy arrays; a tuple for a tuple of argnums."""
    res = tuple(gs) if nested else tuple(g.data for g in gs)
    return res if many else res[0]


def _value(out: Tensor, nested: bool):
    if nested:
        return out
    return float(out.data.item()) if out.size == 1 and out.ndim == 0 else out.data.copy()


def _aux(aux, nested: bool):
    """Tensors in ``aux`` (itself, or a tuple, list or dict of them) as arrays unless nested."""
    if nested:
        return aux
    if isinstance(aux, Tensor):
        return aux.data
    if isinstance(aux, (tuple, list)):
        return type(aux)(_aux(a, nested) for a in aux)
    if isinstance(aux, dict):
        return {k: _aux(v, nested) for k, v in aux.items()}
    return aux


# ----- the transforms -----
def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable:
    """A function returning ``(f(*args), gradient of f)`` (``((value, aux), gradient)`` with
    ``has_aux``); the value is a Python float for a scalar output.

    >>> import numpy as np
    >>> from tidu import func
    >>> v, (gx, gy) = func.value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(
    ...     np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> v, gx.tolist(), gy.tolist()
    (11.0, [3.0, 4.0], [1.0, 2.0])
    """
    many = isinstance(argnums, (tuple, list))

    def wrapped(*args, **kwargs):
        call, leaves, nested = _prepare(args, argnums, "value_and_grad")
        with autograd.enable_grad():  # record even inside tidu.no_grad()
            out, aux = _output(f(*call, **kwargs), "value_and_grad", has_aux)
        _scalar(out, "value_and_grad")
        g = _finish(_grads(out, leaves, None, nested), many, nested)
        value = _value(out, nested)
        return ((value, _aux(aux, nested)) if has_aux else value), g

    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """A function returning the gradient of the scalar function ``f`` with respect to the
    arguments ``argnums`` (an array, or a tuple for a tuple of argnums); ``(gradient, aux)``
    with ``has_aux``. Nest it for higher derivatives.

    >>> from tidu import func
    >>> d2 = func.grad(func.grad(lambda x: x ** 3))  # 6 x
    >>> float(d2(2.0))
    12.0
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


def vjp(f: Callable, *primals):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` returns the tuple of
    cotangent-Jacobian products, one per primal (it may be called many times).

    >>> import numpy as np
    >>> from tidu import func
    >>> out, back = func.vjp(lambda x: x * x, np.array([1.0, 3.0]))
    >>> out.tolist(), back(np.array([1.0, 10.0]))[0].tolist()
    ([1.0, 9.0], [2.0, 60.0])
    """
    if not primals:
        raise TypeError("vjp: needs at least one primal argument")
    call, leaves, nested = _prepare(primals, tuple(range(len(primals))), "vjp")
    with autograd.enable_grad():
        out, _ = _output(f(*call), "vjp")

    def vjp_fn(cotangent):
        ct = cotangent if isinstance(cotangent, Tensor) else backend.asarray_like(
            cotangent, out.data)
        if tuple(ct.shape) != out.shape:
            raise ValueError(f"vjp: the cotangent has shape {tuple(ct.shape)} but f's output "
                             f"has shape {out.shape}")
        ct = ct if isinstance(ct, Tensor) else ct.astype(out.dtype)
        return _finish(_grads(out, leaves, ct, nested), True, nested)

    return (out if nested else out.data.copy()), vjp_fn


def jacobian(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning the Jacobian of ``f``: shape ``out.shape + input.shape`` (a tuple
    for a tuple of argnums), one backward pass per output element.

    >>> import numpy as np
    >>> from tidu import func
    >>> func.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    many = isinstance(argnums, (tuple, list))

    def wrapped(*args, **kwargs):
        call, leaves, nested = _prepare(args, argnums, "jacobian")
        with autograd.enable_grad():
            out, _ = _output(f(*call, **kwargs), "jacobian")
        rows = [[] for _ in leaves]
        for i in range(out.size):
            onehot = xp.zeros_like(out.data, shape=(out.size,))
            onehot[i] = 1
            for r, g in zip(rows, _grads(out, leaves, onehot.reshape(out.shape), nested)):
                r.append(g)
        jacs = []
        for t, r in zip(leaves, rows):
            shape = out.shape + t.shape
            if not r:
                jacs.append(Tensor._make(xp.zeros_like(t.data, shape=shape), False, None))
            elif nested:
                from . import ops

                jacs.append(ops.reshape(ops.stack(r), shape))
            else:
                jacs.append(Tensor._make(xp.stack([g.data for g in r]).reshape(shape), False,
                                         None))
        return _finish(jacs, many, nested)

    return wrapped


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """A function returning the Hessian of the scalar function ``f`` with respect to argument
    ``argnums`` (shape ``x.shape + x.shape``): the Jacobian of its gradient.

    >>> import numpy as np
    >>> from tidu import func
    >>> func.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    if isinstance(argnums, (tuple, list)):
        raise TypeError("hessian: argnums must be one int (the Hessian of one argument)")
    return jacobian(grad(f, argnums), argnums)


def hvp(f: Callable, primals, tangents):
    """``(f(*primals), H v)``: the Hessian of the scalar function ``f`` at ``primals`` times
    ``tangents``, by double backward (never forming H), as ``torch.autograd.functional.hvp``.

    ``primals`` and ``tangents`` are one array each, or tuples of matching arrays (``f``
    takes one argument per primal); ``H v`` has the same structure.

    >>> import numpy as np
    >>> from tidu import func
    >>> value, hv = func.hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> value, hv.tolist()          # H = diag(6 x)
    (9.0, [6.0, 12.0])
    """
    many = isinstance(primals, (tuple, list))
    ps = tuple(primals) if many else (primals,)
    vs = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(vs) != len(ps):
        raise ValueError(f"hvp: {len(ps)} primals but {len(vs)} tangents")
    call, leaves, nested = _prepare(ps, tuple(range(len(ps))), "hvp")
    with autograd.enable_grad():
        out, _ = _output(f(*call), "hvp")
    _scalar(out, "hvp")
    vts = []
    for i, (t, v) in enumerate(zip(leaves, vs)):
        v = v if isinstance(v, Tensor) else Tensor._make(
            backend.asarray_like(v, t.data, t.dtype), False, None)
        if tuple(v.shape) != t.shape:
            raise ValueError(f"hvp: tangent {i} has shape {tuple(v.shape)} but primal {i} has "
                             f"shape {t.shape}")
        vts.append(v)
    gs = _grads(out, leaves, None, True)
    dot = None
    with autograd.enable_grad():
        for g, v in zip(gs, vts):
            if g.requires_grad:
                term = (g * v).sum()
                dot = term if dot is None else dot + term
    if dot is None:  # f is at most linear: H = 0
        hv = [Tensor._make(xp.zeros_like(t.data), False, None) for t in leaves]
    else:
        hv = _grads(dot, leaves, None, nested)
    return _value(out, nested), _finish(hv, many, nested)
