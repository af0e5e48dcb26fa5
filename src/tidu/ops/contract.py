"""Tensor contractions: einsum, outer, tensordot and trace.

Every contraction is an einsum, and so is its gradient: for operand i, the output gradient
contracted with the other operands gives operand i's gradient, once two things are put back.
Indices that appear only in operand i were summed over, so the gradient is constant along them
(broadcast back); an index repeated in operand i (``"ii->i"``, a diagonal) receives the gradient
on that diagonal only (zeros elsewhere). ``outer`` and ``tensordot`` are computed by NumPy's
own routines and differentiated through the einsum they equal.
"""

from __future__ import annotations

import string
from typing import NamedTuple

from .._shapes import check_axis
from ..autograd import Function
from ..backend import namespace, xp
from ..errors import DeviceError, ShapeError
from ._device import retry_beside, zeros_beside
from ._vjp import is_tensor
from .shape import expand_dims

__all__ = ["einsum", "outer", "tensordot", "trace"]

TENSOR_METHODS: tuple = ("outer", "trace")
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # sublist ints 0..51, sorted as ints


class Spec(NamedTuple):
    """An einsum in explicit form: one index string per operand, and the output's."""

    terms: tuple
    out: str

    def __str__(self) -> str:
        return ",".join(self.terms) + "->" + self.out


# ----- parsing: every subscript form NumPy accepts, spelled out explicitly -----
def _parse(subscripts: str, ndims: list) -> Spec:
    """Explicit subscripts for ``subscripts`` and operands of ``ndims`` dimensions, with each
    ellipsis replaced by letters of its own (right-aligned, as broadcasting aligns axes)."""
    s = "".join(subscripts.split())
    lhs, arrow, rhs = s.partition("->")
    if "->" in rhs:
        raise ValueError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands, "
                         f"got {len(ndims)}")
    for t in [*terms, rhs]:
        bad = set(t.replace("...", "")) - set(_LETTERS)
        if bad or t.count("...") > 1:
            raise ValueError(f"einsum: invalid subscript term {t!r} in {subscripts!r}: use "
                             "letters a-z, A-Z and at most one '...' per operand")
    used = set(s) - {".", ",", "-", ">"}
    n_ell = 0
    for t, nd in zip(terms, ndims):
        named = len(t.replace("...", ""))
        if ("..." in t and named > nd) or ("..." not in t and named != nd):
            raise ValueError(f"einsum: term {t!r} names {named} axes, but its operand has "
                             f"{nd} dimensions")
        n_ell = max(n_ell, nd - named)
    free = [c for c in _LETTERS if c not in used]
    if n_ell > len(free):
        raise ValueError("einsum: too many dimensions for the 52 index letters")
    ell = "".join(free[:n_ell])
    full = tuple(t.replace("...", ell[n_ell - (nd - len(t) + 3):]) if "..." in t else t
                 for t, nd in zip(terms, ndims))
    if arrow:
        out = rhs.replace("...", ell)
        missing = set(out) - set("".join(full))
        if missing or len(set(out)) != len(out):
            raise ValueError(f"einsum: output {rhs!r} must name distinct indices of the "
                             f"operands, in {subscripts!r}")
    else:  # implicit: the broadcast axes, then the indices seen once, in alphabetical order
        joined = "".join(full)
        once = sorted((c for c in set(joined) if joined.count(c) == 1 and c not in ell),
                      key=_LETTERS.index)
        out = ell + "".join(once)
    return Spec(full, out)


def _from_sublists(args) -> tuple:
    """NumPy's interleaved form ``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` as a string and
    the operands; an odd number of arguments ends with the output's sublist."""

    def term(sub):
        try:
            return "".join("..." if i is Ellipsis else _LETTERS[i] for i in sub)
        except (TypeError, IndexError):
            raise ValueError(f"einsum: sublist {sub!r} must hold ints 0..51 or Ellipsis") from None

    pairs, out = (args, None) if len(args) % 2 == 0 else (args[:-1], args[-1])
    spec = ",".join(term(s) for s in pairs[1::2]) + ("" if out is None else "->" + term(out))
    return spec, list(pairs[0::2])


def _ndim(x) -> int:
    return x.ndim if hasattr(x, "ndim") else xp.ndim(x)


# ----- the gradient of one operand, in NumPy (backward) and in tidu operations (vjp) -----
def _grad_plan(spec: Spec, i: int):
    """What operand i's gradient needs: the einsum that makes it, and what to put back."""
    term = spec.terms[i]
    unique = "".join(dict.fromkeys(term))  # its indices, each once, in order
    others = [t for j, t in enumerate(spec.terms) if j != i]
    seen = set(spec.out).union(*others)
    kept = "".join(c for c in unique if c in seen)
    made = Spec((spec.out, *others), kept)
    lost = tuple(k for k, c in enumerate(unique) if c not in seen)  # summed away: broadcast
    return made, unique, lost


def _unique_shape(term: str, shape: tuple) -> tuple:
    sizes = dict(zip(term, shape))
    return tuple(sizes[c] for c in dict.fromkeys(term))


def _fit(a, shape: tuple):
    """``a`` made ``shape``: summed where ``shape`` has 1 and ``a`` does not (axes that
    broadcast), broadcast where ``a`` has 1 (axes that were summed); same number of axes."""
    if a.shape == shape:
        return a
    axes = tuple(k for k, (n, m) in enumerate(zip(shape, a.shape)) if n == 1 and m != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return xp.broadcast_to(a, shape)


def _embed(a, term: str, shape: tuple):
    """Zeros of ``shape`` with ``a`` (indexed by ``term``'s distinct letters) written on the
    diagonals that ``term``'s repeated letters describe."""
    out = zeros_beside(a, shape)
    unique = "".join(dict.fromkeys(term))
    if type(out) is not xp.ndarray:  # a device array: write through index grids
        m, k = namespace(a), len(unique)
        grid = {c: m.arange(n).reshape((1,) * j + (n,) + (1,) * (k - j - 1))
                for j, (c, n) in enumerate(zip(unique, a.shape))}
        out[tuple(grid[c] for c in term)] = a
        return out
    strides = {}
    for c, st in zip(term, out.strides):
        strides[c] = strides.get(c, 0) + st
    view = xp.lib.stride_tricks.as_strided(out, a.shape, [strides[c] for c in unique])
    view[...] = a
    return out


def _backward(spec: Spec, g, arrays, needs) -> tuple:
    grads = []
    for i, need in enumerate(needs):
        if not need:
            grads.append(None)
            continue
        made, unique, lost = _grad_plan(spec, i)
        others = [a for j, a in enumerate(arrays) if j != i]
        r = xp.einsum(str(made), g, *others, optimize=len(others) > 1)
        r = _fit(xp.expand_dims(r, lost), _unique_shape(spec.terms[i], arrays[i].shape))
        if len(unique) < len(spec.terms[i]):
            r = _embed(r, spec.terms[i], arrays[i].shape)
        grads.append(r)
    return tuple(grads)


def _vjp(spec: Spec, g, args) -> tuple:
    grads = []
    for i, x in enumerate(args):
        if not is_tensor(x):
            grads.append(None)
            continue
        made, unique, lost = _grad_plan(spec, i)
        r = Einsum.apply(g, *[a for j, a in enumerate(args) if j != i], spec=made)
        # sizes of 1 broadcast against any index, so fit even when no index was lost
        r = Fit.apply(expand_dims(r, lost) if lost else r, x, term=spec.terms[i])
        if len(unique) < len(spec.terms[i]):
            r = Embed.apply(r, x, term=spec.terms[i])
        grads.append(r)
    return tuple(grads)


class Fit(Function):
    """``a`` (axes: ``term``'s distinct letters) summed or broadcast to ``like``'s sizes."""

    def forward(self, a, like, term):
        self.shape = a.shape
        return _fit(a, _unique_shape(term, xp.shape(like)))

    def backward(self, g):
        return _fit(g, self.shape), None

    @staticmethod
    def vjp(g, a, like, term):
        return Fit.apply(g, a, term="".join(dict.fromkeys(term))), None


class Embed(Function):
    """Zeros shaped like ``like`` with ``a`` on the diagonals of ``term``'s repeated letters."""

    def forward(self, a, like, term):
        self.term = term
        return _embed(a, term, xp.shape(like))

    def backward(self, g):
        return xp.einsum(f"{self.term}->{''.join(dict.fromkeys(self.term))}", g), None

    @staticmethod
    def vjp(g, a, like, term):
        return Einsum.apply(g, spec=Spec((term,), "".join(dict.fromkeys(term)))), None


# ----- the operations -----
class Einsum(Function):
    def forward(self, *arrays, spec):
        self.spec, self.arrays = spec, arrays
        return xp.einsum(str(spec), *arrays, optimize=len(arrays) > 2)

    def backward(self, g):
        return _backward(self.spec, g, self.arrays, self.needs_grad)

    @staticmethod
    def vjp(g, *args, spec):
        return _vjp(spec, g, args)


class Outer(Function):
    SPEC = Spec(("i", "j"), "ij")

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.outer(a, b)

    def backward(self, g):
        return _backward(self.SPEC, g, (self.a, self.b), self.needs_grad)

    @staticmethod
    def vjp(g, a, b):
        return _vjp(Outer.SPEC, g, (a, b))


class Tensordot(Function):
    """np.tensordot; its gradient is that of the equal einsum ``spec``."""

    def forward(self, a, b, axes, spec):
        self.a, self.b, self.spec = a, b, spec
        return xp.tensordot(a, b, axes)

    def backward(self, g):
        return _backward(self.spec, g, (self.a, self.b), self.needs_grad)

    @staticmethod
    def vjp(g, a, b, axes, spec):
        return _vjp(spec, g, (a, b))


class Trace(Function):
    """Sum along a diagonal; the gradient puts g on that diagonal, zeros elsewhere."""

    def forward(self, x, offset, axis1, axis2):
        self.shape, self.kw = x.shape, (offset, axis1, axis2)
        return xp.trace(x, offset, axis1, axis2)

    def backward(self, g):
        return _on_diagonal(g, self.shape, *self.kw)

    @staticmethod
    def vjp(g, x, offset, axis1, axis2):
        return OnDiagonal.apply(g, x, offset=offset, axis1=axis1, axis2=axis2)


class OnDiagonal(Function):
    """Zeros shaped like ``like`` with ``g`` on each (offset) diagonal: trace's adjoint."""

    def forward(self, g, like, offset, axis1, axis2):
        self.kw = (offset, axis1, axis2)
        return _on_diagonal(g, xp.shape(like), *self.kw)

    def backward(self, gg):
        return xp.trace(gg, *self.kw), None

    @staticmethod
    def vjp(gg, g, like, offset, axis1, axis2):
        return Trace.apply(gg, offset=offset, axis1=axis1, axis2=axis2), None


def _on_diagonal(g, shape, offset, axis1, axis2):
    out = zeros_beside(g, shape)
    moved = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    n1, n2 = moved.shape[-2:]
    rows = namespace(g).arange(max(0, -offset), min(n1, n2 - offset))
    moved[..., rows, rows + offset] = xp.expand_dims(g, -1)
    return out


# ----- public functions -----
def einsum(subscripts, *operands):
    """Einstein summation with NumPy's subscripts: explicit (``"ij,jk->ik"``) or implicit
    (``"ij,jk"``) output, repeated indices (``"ii->i"``, ``"ii"``), ellipsis broadcasting
    (``"...ij,...jk"``), any number of operands, and NumPy's sublist form.

    >>> import tidu
    >>> a = tidu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> tidu.einsum("ii", a).backward()   # the trace
    >>> a.grad.numpy().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    spec = _parse(subscripts, [_ndim(x) for x in operands])
    try:
        return Einsum.apply(*operands, spec=spec)
    except DeviceError:
        return retry_beside(Einsum.apply, *operands, spec=spec)


def outer(a, b):
    """Outer product of two 1-D tensors: ``out[i, j] = a[i] * b[j]`` (torch.outer).

    >>> import tidu
    >>> tidu.outer(tidu.tensor([1.0, 2.0]), tidu.tensor([3.0, 4.0, 5.0])).shape
    (2, 3)
    """
    nd = (_ndim(a), _ndim(b))
    if nd != (1, 1):
        raise ShapeError(f"outer: expects two 1-D tensors, got {nd[0]}-D and {nd[1]}-D")
    return Outer.apply(a, b)


def tensordot(a, b, axes=2, *, dims=None):
    """Sum of products over ``axes``: an int n (the last n axes of ``a`` with the first n of
    ``b``) or a pair of axis lists, as np.tensordot (``dims`` is torch's name for it).

    >>> import tidu
    >>> a, b = tidu.ones((2, 3, 4)), tidu.ones((4, 3, 5))
    >>> tidu.tensordot(a, b, axes=([1, 2], [1, 0])).shape
    (2, 5)
    """
    axes = axes if dims is None else dims
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, int):
        if not 0 <= axes <= min(na, nb):
            raise ShapeError(f"tensordot: axes={axes} must be between 0 and the smaller "
                             f"number of dimensions, {min(na, nb)}")
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        try:
            ax_a, ax_b = ([x] if isinstance(x, int) else list(x) for x in axes)
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got "
                            f"{axes!r}") from None
        if len(ax_a) != len(ax_b):
            raise ShapeError(f"tensordot: axes {ax_a} and {ax_b} must have the same length")
        ax_a = [check_axis(x, na, "tensordot") for x in ax_a]
        ax_b = [check_axis(x, nb, "tensordot") for x in ax_b]
    ta = list(_LETTERS[:na])
    tb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        tb[j] = ta[i]
    out = [c for k, c in enumerate(ta) if k not in ax_a] + \
          [c for k, c in enumerate(tb) if k not in ax_b]
    spec = Spec(("".join(ta), "".join(tb)), "".join(out))
    return Tensordot.apply(a, b, axes=(tuple(ax_a), tuple(ax_b)), spec=spec)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """Sum along the diagonal ``offset`` of the axes ``axis1`` and ``axis2`` (np.trace; for a
    matrix with the defaults, torch.trace).

    >>> import tidu
    >>> float(tidu.trace(tidu.tensor([[1.0, 2.0], [3.0, 4.0]])))
    5.0
    """
    nd = _ndim(x)
    if nd < 2:
        raise ShapeError(f"trace: expects a tensor with at least 2 dimensions, got {nd}-D")
    a1, a2 = check_axis(axis1, nd, "trace"), check_axis(axis2, nd, "trace")
    if a1 == a2:
        raise ShapeError(f"trace: axis1 and axis2 must differ, got {axis1} and {axis2}")
    return Trace.apply(x, offset=int(offset), axis1=a1, axis2=a2)
