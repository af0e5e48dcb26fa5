"""Factorizations with several outputs: QR, SVD and the symmetric eigendecomposition.

A Function has one output, so each factor is its own Function (``part`` says which) over a
decomposition computed once by the public function and handed to all of them. The gradient
of a factorization is linear in its outputs' gradients, so the parts' gradients add up to
PyTorch's joint formula. Singular vectors and eigenvectors are defined up to sign: a loss
should not depend on it (``U * U`` does not).
"""

from __future__ import annotations

from typing import NamedTuple

from ..autograd import Function
from ..backend import is_array, namespace, xp
from ..ops.linalg import matmul
from ..ops.shape import expand_dims, getitem, index_scatter_add
from ..tensor import Tensor
from ._util import EyeLike, check_matrix, lapack, mT, shape, swap, tril, triu
from .solvers import solve


def _factors(a, op, fn):
    """The decomposition of a Tensor or array, computed once for all its parts (None for a
    symbolic input: each part's forward then computes it)."""
    if isinstance(a, Tensor):
        return lapack(op, fn, a.data)
    if hasattr(a, "shape") and not hasattr(a, "__array__"):
        return None
    return lapack(op, fn, a if is_array(a) else xp.asarray(a))


# ----- QR -----
class Qr(Function):
    """Part 0 (Q) or 1 (R) of the reduced QR decomposition A = Q R."""

    def forward(self, a, part, factors=None, m=None, n=None):
        self.q, self.r = factors if factors is not None else xp.linalg.qr(a)
        self.part = part
        return (self.q, self.r)[part]

    def backward(self, g):
        q, r = self.q, self.r
        m, n = q.shape[-2], r.shape[-1]
        big = g @ swap(r) if self.part == 1 else -(swap(q) @ g)  # M = gR R^T - Q^T gQ
        if m >= n:
            ga = q @ (xp.triu(big) + swap(xp.triu(big, 1)))
            if self.part == 0:
                ga = ga + g
            return swap(xp.linalg.solve(r, swap(ga)))  # ga R^-T
        x = -big
        ga = q @ xp.tril(x - swap(x))
        ga = swap(xp.linalg.solve(r[..., :m], swap(ga)))
        ga = xp.concatenate([ga, xp.zeros_like(ga, shape=ga.shape[:-1] + (n - m,))], axis=-1)
        return ga + q @ g if self.part == 1 else ga

    @staticmethod
    def vjp(g, a, part, factors=None, m=None, n=None):
        q, r = qr(a)
        big = matmul(g, mT(r)) if part == 1 else -matmul(mT(q), g)
        if m >= n:
            ga = matmul(q, triu(big) + mT(triu(big, 1)))
            if part == 0:
                ga = ga + g
            return mT(solve(r, mT(ga)))
        x = -big
        ga = matmul(q, tril(x - mT(x)))
        cols = (Ellipsis, slice(None, m))
        ga = index_scatter_add(mT(solve(getitem(r, cols), mT(ga))), a, cols)
        return ga + matmul(q, g) if part == 1 else ga


class QrResult(NamedTuple):
    Q: Tensor
    R: Tensor


def qr(a) -> QrResult:
    """The reduced QR decomposition A = Q R (torch.linalg.qr, mode="reduced"): Q with
    orthonormal columns, R upper triangular. Differentiable for any shape, as in PyTorch.

    >>> import tidu
    >>> q, r = tidu.linalg.qr(tidu.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 2.0]]))
    >>> q.shape, r.shape
    ((3, 2), (2, 2))
    """
    check_matrix(a, "qr", square=False)
    m, n = shape(a)[-2:]
    f = _factors(a, "qr", xp.linalg.qr)
    f = None if f is None else tuple(f)
    return QrResult(*(Qr.apply(a, part=p, factors=f, m=m, n=n) for p in (0, 1)))


# ----- SVD -----
class Svd(Function):
    """Part 0 (U), 1 (S) or 2 (Vh) of A = U diag(S) Vh, A being m by n."""

    def forward(self, a, part, full_matrices=False, m=None, n=None, factors=None):
        u, s, vh = factors if factors is not None else xp.linalg.svd(a, full_matrices)
        self.u, self.s, self.vh = u[..., :s.shape[-1]], s, vh[..., :s.shape[-1], :]
        self.part = part
        return (u, s, vh)[part]

    def backward(self, g):
        u, s, vh, part = self.u, self.s, self.vh, self.part
        k = s.shape[-1]
        if part == 1:
            return (u * g[..., None, :]) @ vh
        m, n = u.shape[-2], vh.shape[-1]
        e = s[..., None, :] ** 2 - s[..., :, None] ** 2 + namespace(s).eye(k, dtype=s.dtype)
        if part == 0:
            g = g[..., :k]
            x = swap(u) @ g
            core = (x - swap(x)) / e * s[..., None, :]
            if m > n:
                gs = g / s[..., None, :]
                return (u @ core + gs - u @ (swap(u) @ gs)) @ vh
            return u @ core @ vh
        g = g[..., :k, :]
        x = vh @ swap(g)
        core = s[..., :, None] * ((x - swap(x)) / e)
        if m < n:
            gs = g / s[..., :, None]
            return u @ (core @ vh + gs - (gs @ swap(vh)) @ vh)
        return u @ core @ vh

    @staticmethod
    def vjp(g, a, part, full_matrices=False, m=None, n=None, factors=None):
        u, s, vh = svd(a, full_matrices=False)
        if part == 1:
            return matmul(u * expand_dims(g, -2), vh)
        k = min(m, n)
        e = expand_dims(s * s, -2) - expand_dims(s * s, -1) + EyeLike.apply(s)
        if part == 0:
            if full_matrices:
                g = getitem(g, (Ellipsis, slice(None, k)))
            x = matmul(mT(u), g)
            core = (x - mT(x)) / e * expand_dims(s, -2)
            if m > n:
                gs = g / expand_dims(s, -2)
                return matmul(matmul(u, core) + gs - matmul(u, matmul(mT(u), gs)), vh)
            return matmul(u, matmul(core, vh))
        if full_matrices:
            g = getitem(g, (Ellipsis, slice(None, k), slice(None)))
        x = matmul(vh, mT(g))
        core = expand_dims(s, -1) * ((x - mT(x)) / e)
        if m < n:
            gs = g / expand_dims(s, -1)
            return matmul(u, matmul(core, vh) + gs - matmul(matmul(gs, mT(vh)), vh))
        return matmul(u, matmul(core, vh))


class SvdResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def svd(a, full_matrices: bool = True) -> SvdResult:
    """A = U diag(S) Vh (torch.linalg.svd), S in descending order. With ``full_matrices``
    (PyTorch's default) U is m by m and Vh n by n; else U is m by k and Vh k by n, k = min(m, n).
    Gradients need distinct (and, for U and Vh of a non-square A, non-zero) singular values;
    the extra columns of a full U (rows of Vh) get none, as in PyTorch.

    >>> import tidu
    >>> u, s, vh = tidu.linalg.svd(tidu.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> s.numpy().tolist()
    [3.0, 2.0]
    """
    check_matrix(a, "svd", square=False)
    m, n = shape(a)[-2:]
    f = _factors(a, "svd", lambda x: xp.linalg.svd(x, bool(full_matrices)))
    f = None if f is None else tuple(f)
    return SvdResult(*(Svd.apply(a, part=p, full_matrices=bool(full_matrices), m=m, n=n,
                                 factors=f) for p in (0, 1, 2)))


def svdvals(a) -> Tensor:
    """The singular values of A, in descending order (torch.linalg.svdvals)."""
    check_matrix(a, "svdvals", square=False)
    m, n = shape(a)[-2:]
    f = _factors(a, "svdvals", lambda x: xp.linalg.svd(x, False))
    return Svd.apply(a, part=1, full_matrices=False, m=m, n=n,
                     factors=None if f is None else tuple(f))


# ----- symmetric eigendecomposition -----
class Eigh(Function):
    """Part 0 (eigenvalues, ascending) or 1 (eigenvectors) of a symmetric A = V diag(L) V^T,
    from the ``uplo`` triangle of A."""

    def forward(self, a, part, uplo="L", factors=None):
        self.w, self.v = factors if factors is not None else xp.linalg.eigh(a, uplo)
        self.part = part
        return (self.w, self.v)[part]

    def backward(self, g):
        w, v = self.w, self.v
        if self.part == 0:
            return (v * g[..., None, :]) @ swap(v)
        x = swap(v) @ g
        e = w[..., None, :] - w[..., :, None] + namespace(w).eye(w.shape[-1], dtype=w.dtype)
        return v @ (0.5 * (x - swap(x)) / e) @ swap(v)

    @staticmethod
    def vjp(g, a, part, uplo="L", factors=None):
        w, v = eigh(a, uplo)
        if part == 0:
            return matmul(v * expand_dims(g, -2), mT(v))
        x = matmul(mT(v), g)
        e = expand_dims(w, -2) - expand_dims(w, -1) + EyeLike.apply(v)
        return matmul(v, matmul(0.5 * (x - mT(x)) / e, mT(v)))


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def _check_uplo(uplo, op):
    if uplo not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {uplo!r}")


def eigh(a, UPLO: str = "L") -> EighResult:  # noqa: N803 - torch's and NumPy's name
    """Eigenvalues (ascending) and orthonormal eigenvectors of a (batch of) symmetric
    matrices, read from the lower (``UPLO="L"``) or upper triangle (torch.linalg.eigh).
    Gradients as PyTorch's (symmetric), for distinct eigenvalues.

    >>> import tidu
    >>> tidu.linalg.eigh(tidu.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues.numpy().tolist()
    [1.0, 3.0]
    """
    check_matrix(a, "eigh")
    _check_uplo(UPLO, "eigh")
    f = _factors(a, "eigh", lambda x: xp.linalg.eigh(x, UPLO))
    f = None if f is None else tuple(f)
    return EighResult(*(Eigh.apply(a, part=p, uplo=UPLO, factors=f) for p in (0, 1)))


def eigvalsh(a, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues of a (batch of) symmetric matrices, ascending (torch.linalg.eigvalsh)."""
    check_matrix(a, "eigvalsh")
    _check_uplo(UPLO, "eigvalsh")
    f = _factors(a, "eigvalsh", lambda x: xp.linalg.eigh(x, UPLO))
    return Eigh.apply(a, part=0, uplo=UPLO, factors=None if f is None else tuple(f))
