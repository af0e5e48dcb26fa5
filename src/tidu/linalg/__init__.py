"""Linear algebra with gradients (torch.linalg's names and conventions), batched over leading
axes: inv, solve, det, slogdet, cholesky, qr, svd, svdvals, eigh, eigvalsh, pinv,
matrix_power.

Every function is a tidu Function (or a composition of them) with a ``vjp``, so gradients
can be differentiated again. Gradients assume well-posed inputs: non-singular matrices,
positive-definite ones for cholesky, distinct singular values and eigenvalues for svd and eigh.

>>> import tidu
>>> a = tidu.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> tidu.linalg.det(a).backward()
>>> a.grad.numpy().tolist()        # d det / dA = det(A) A^-T
[[3.0, -1.0], [-1.0, 4.0]]
"""

from __future__ import annotations

from ._util import LinAlgError
from .decomp import EighResult, QrResult, SvdResult, eigh, eigvalsh, qr, svd, svdvals
from .solvers import SlogdetResult, cholesky, det, inv, matrix_power, pinv, slogdet, solve

__all__ = [
    "LinAlgError", "cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_power", "pinv", "qr",
    "slogdet", "solve", "svd", "svdvals",
    "EighResult", "QrResult", "SlogdetResult", "SvdResult",
]
