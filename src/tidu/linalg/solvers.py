"""Inverses, linear solves, determinants, the Cholesky factor and the pseudo-inverse.

Gradients are the standard matrix-calculus results (as in PyTorch and JAX), for
non-singular (and, for Cholesky, positive-definite) matrices. Each vjp rule recomputes the
forward result with tidu operations, so second derivatives follow.
"""

from __future__ import annotations

from typing import NamedTuple

from ..autograd import Function
from ..backend import is_array, xp
from ..errors import ShapeError
from ..ops.linalg import matmul
from ..ops.shape import broadcast_like, expand_dims
from ..tensor import Tensor
from ._util import EyeLike, check_matrix, lapack, mT, shape, swap, tril


class Inv(Function):
    def forward(self, a):
        self.inv = lapack("inv", xp.linalg.inv, a)
        return self.inv

    def backward(self, g):  # d(A^-1) = -A^-1 dA A^-1
        xt = swap(self.inv)
        return -(xt @ g @ xt)

    @staticmethod
    def vjp(g, a):
        xt = mT(inv(a))
        return -matmul(xt, matmul(g, xt))


class Solve(Function):
    """X with A X = B; ``vector``: B is a (batch of) vectors, not matrices."""

    def forward(self, a, b, vector):
        self.a, self.vector = a, vector
        x = lapack("solve", xp.linalg.solve, a, b[..., None] if vector else b)
        self.x = x[..., 0] if vector else x
        return self.x

    def backward(self, g):
        gb = xp.linalg.solve(swap(self.a), g[..., None] if self.vector else g)
        if self.vector:
            gb = gb[..., 0]
        ga = None
        if self.needs_grad[0]:
            ga = -(gb[..., :, None] * self.x[..., None, :]) if self.vector else -gb @ swap(self.x)
        return ga, gb

    @staticmethod
    def vjp(g, a, b, vector):
        x = Solve.apply(a, b, vector=vector)
        gb = Solve.apply(mT(a), g, vector=vector)
        if vector:
            ga = -(expand_dims(gb, -1) * expand_dims(x, -2))
        else:
            ga = -matmul(gb, mT(x))
        return ga, gb


class Det(Function):
    def forward(self, a):
        self.a = a
        self.det = xp.linalg.det(a)
        return self.det

    def backward(self, g):  # d det = det tr(A^-1 dA)
        return (g * self.det)[..., None, None] * swap(lapack("det", xp.linalg.inv, self.a))

    @staticmethod
    def vjp(g, a):
        return expand_dims(g * det(a), (-2, -1)) * mT(inv(a))


class LogAbsDet(Function):
    def forward(self, a):
        self.a = a
        return xp.linalg.slogdet(a)[1]

    def backward(self, g):  # d log|det A| = tr(A^-1 dA)
        return g[..., None, None] * swap(lapack("slogdet", xp.linalg.inv, self.a))

    @staticmethod
    def vjp(g, a):
        return expand_dims(g, (-2, -1)) * mT(inv(a))


class Cholesky(Function):
    """The lower (or, with ``upper``, upper) triangular factor of A = L L^T."""

    def forward(self, a, upper=False):
        self.upper = upper
        self.factor = lapack("cholesky", xp.linalg.cholesky, a, upper=upper)
        return self.factor

    def backward(self, g):
        low = swap(self.factor) if self.upper else self.factor
        gl = swap(g) if self.upper else g
        p = xp.tril(swap(low) @ gl)  # Murray (2016), as torch: gA = L^-T phi(L^T gL) L^-1
        phi = 0.5 * (p + swap(xp.tril(p, -1)))
        linv = xp.linalg.inv(low)
        return swap(linv) @ phi @ linv

    @staticmethod
    def vjp(g, a, upper=False):
        low = cholesky(a)
        gl = mT(g) if upper else g
        p = tril(matmul(mT(low), gl))
        phi = 0.5 * (p + mT(tril(p, -1)))
        linv = inv(low)
        return matmul(mT(linv), matmul(phi, linv))


class Pinv(Function):
    """The Moore-Penrose pseudo-inverse; differentiable where the rank does not change."""

    def forward(self, a, rtol=None, hermitian=False):
        kw = {} if rtol is None else {"rtol": rtol}
        self.a = a
        self.p = lapack("pinv", xp.linalg.pinv, a, hermitian=hermitian, **kw)
        return self.p

    def backward(self, g):
        a, p = self.a, self.p
        pt, gt = swap(p), swap(g)
        # Golub and Pereyra (1973): -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)
        ppt = p @ pt
        ptp = pt @ p
        return -(pt @ g @ pt) + gt @ ppt - a @ (p @ (gt @ ppt)) + ptp @ gt - (ptp @ gt) @ p @ a

    @staticmethod
    def vjp(g, a, rtol=None, hermitian=False):
        p = Pinv.apply(a, rtol=rtol, hermitian=hermitian)
        pt, gt = mT(p), mT(g)
        ppt, ptp = matmul(p, pt), matmul(pt, p)
        ptpgt = matmul(ptp, gt)
        return (-matmul(pt, matmul(g, pt)) + matmul(gt, ppt)
                - matmul(a, matmul(p, matmul(gt, ppt))) + ptpgt - matmul(matmul(ptpgt, p), a))


# ----- public functions -----
class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


def inv(a) -> Tensor:
    """The inverse of a (batch of) square matrices (torch.linalg.inv).

    >>> import tidu
    >>> tidu.linalg.inv(tidu.tensor([[2.0, 0.0], [0.0, 4.0]])).numpy().tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    check_matrix(a, "inv")
    return Inv.apply(a)


def solve(a, b) -> Tensor:
    """X with A X = B (torch.linalg.solve, left=True). B is a batch of vectors when it is 1-D
    or has A's shape without its last axis; otherwise a batch of matrices. Batch axes
    broadcast.

    >>> import tidu
    >>> tidu.linalg.solve(tidu.tensor([[2.0, 0.0], [0.0, 4.0]]), tidu.tensor([1.0, 1.0]))
    tensor([0.5 , 0.25])
    """
    check_matrix(a, "solve")
    sa, sb = shape(a), shape(b)
    vector = len(sb) == 1 or sb == sa[:-1]
    n = sb[-1] if vector else (sb[-2] if len(sb) >= 2 else None)
    if n != sa[-1]:
        raise ShapeError(
            f"solve: B of shape {sb} does not match A of shape {sa}: expected {sa[-1]} rows")
    return Solve.apply(a, b, vector=vector)


def det(a) -> Tensor:
    """The determinant of a (batch of) square matrices (torch.linalg.det)."""
    check_matrix(a, "det")
    return Det.apply(a)


def slogdet(a) -> SlogdetResult:
    """(sign, log|det|) of a (batch of) square matrices (torch.linalg.slogdet); the sign has
    no gradient, log|det| has one.

    >>> import tidu
    >>> sign, logabsdet = tidu.linalg.slogdet(tidu.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    >>> float(sign), round(float(logabsdet), 4)
    (-1.0, 0.6931)
    """
    check_matrix(a, "slogdet")
    data = a.data if isinstance(a, Tensor) else a if is_array(a) else xp.asarray(a)
    sign = Tensor._make(xp.linalg.slogdet(data)[0], False, None)
    return SlogdetResult(sign, LogAbsDet.apply(a))


def cholesky(a, upper: bool = False) -> Tensor:
    """The Cholesky factor of a (batch of) symmetric positive-definite matrices: lower L with
    A = L L^T, or upper U = L^T with ``upper`` (torch.linalg.cholesky)."""
    check_matrix(a, "cholesky")
    return Cholesky.apply(a, upper=bool(upper))


def pinv(a, rtol: float | None = None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse (torch.linalg.pinv): singular values below ``rtol`` times the largest
    count as zero (default max(m, n) times the dtype's epsilon)."""
    check_matrix(a, "pinv", square=False)
    return Pinv.apply(a, rtol=rtol, hermitian=bool(hermitian))


def matrix_power(a, n: int) -> Tensor:
    """A to the integer power ``n`` by repeated squaring (n < 0: of the inverse; n = 0: the
    identity), as torch.linalg.matrix_power.

    >>> import tidu
    >>> tidu.linalg.matrix_power(tidu.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).numpy().tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    check_matrix(a, "matrix_power")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__} {n!r}")
    if n == 0:
        return broadcast_like(EyeLike.apply(a), a)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result
