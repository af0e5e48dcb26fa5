"""tidu.linalg against torch.linalg: values, gradients, central differences, vjp rules and
second derivatives. Inputs are well-conditioned: shifted by n*I for inverses, SPD built inside
the case (a a^T + n I, so gradcheck perturbs a) for cholesky, symmetrized for eigh; losses of
svd and eigh are invariant to the vectors' signs (U * U, singular values, eigenvalues)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
import tidu.linalg as LA
from _optable import (
    case,
    check_gradcheck,
    check_torch,
    check_vjp,
    functions_of,
    missing_from,
    normal,
)
from tidu.linalg import _util, decomp, solvers

TL = torch.linalg


def shift(n):
    """A + n I: well-conditioned and non-singular for a standard normal n-by-n A."""
    return lambda a: a + n * (np.eye(n) if isinstance(a, tidu.Tensor) else torch.eye(n,
                                                                                     dtype=a.dtype))


def spd(a):
    return shift(a.shape[-1])(a @ _mt(a))


def sym(a):
    return (a + _mt(a)) / 2


def _mt(a):
    return tidu.transpose(a, -1, -2) if isinstance(a, tidu.Tensor) else a.mT


S3 = shift(3)

OPS = [
    case("inv", lambda a: LA.inv(S3(a)), lambda a: TL.inv(S3(a)), normal(3, 3)),
    case("inv_batched", lambda a: LA.inv(S3(a)), lambda a: TL.inv(S3(a)), normal(2, 3, 3)),
    case("solve", lambda a, b: LA.solve(S3(a), b), lambda a, b: TL.solve(S3(a), b),
         normal(3, 3), normal(3, 2)),
    case("solve_vector", lambda a, b: LA.solve(S3(a), b), lambda a, b: TL.solve(S3(a), b),
         normal(3, 3), normal(3)),
    case("solve_batched_vectors", lambda a, b: LA.solve(S3(a), b),
         lambda a, b: TL.solve(S3(a), b), normal(2, 3, 3), normal(2, 3)),
    case("solve_broadcast", lambda a, b: LA.solve(S3(a), b), lambda a, b: TL.solve(S3(a), b),
         normal(2, 1, 3, 3), normal(4, 3, 2)),
    case("det", lambda a: LA.det(S3(a)), lambda a: TL.det(S3(a)), normal(3, 3)),
    case("det_batched", lambda a: LA.det(a), lambda a: TL.det(a), normal(2, 4, 4)),
    case("slogdet_logabsdet", lambda a: LA.slogdet(a).logabsdet,
         lambda a: TL.slogdet(a).logabsdet, normal(2, 3, 3)),
    case("slogdet_sign_times", lambda a: LA.slogdet(a)[0] * LA.slogdet(a)[1],
         lambda a: TL.slogdet(a)[0] * TL.slogdet(a)[1], normal(3, 3)),
    case("cholesky", lambda a: LA.cholesky(spd(a)), lambda a: TL.cholesky(spd(a)),
         normal(3, 3)),
    case("cholesky_upper_batched", lambda a: LA.cholesky(spd(a), upper=True),
         lambda a: TL.cholesky(spd(a), upper=True), normal(2, 4, 4)),
    case("qr_square", lambda a: LA.qr(a).Q * 2 + LA.qr(a).R,
         lambda a: TL.qr(a).Q * 2 + TL.qr(a).R, normal(3, 3)),
    case("qr_tall_Q", lambda a: LA.qr(a)[0], lambda a: TL.qr(a)[0], normal(5, 3)),
    case("qr_tall_R_batched", lambda a: LA.qr(a)[1], lambda a: TL.qr(a)[1], normal(2, 4, 3)),
    case("qr_wide", lambda a: LA.qr(a)[0].sum() * LA.qr(a)[1],
         lambda a: TL.qr(a)[0].sum() * TL.qr(a)[1], normal(3, 5)),
    case("svd_S", lambda a: LA.svd(a)[1], lambda a: TL.svd(a)[1], normal(4, 3)),
    case("svd_U_tall", lambda a: LA.svd(a, full_matrices=False).U ** 2,
         lambda a: TL.svd(a, full_matrices=False).U ** 2, normal(5, 3)),
    case("svd_Vh_tall", lambda a: LA.svd(a, full_matrices=False).Vh ** 2,
         lambda a: TL.svd(a, full_matrices=False).Vh ** 2, normal(5, 3)),
    case("svd_U_wide", lambda a: LA.svd(a, False)[0] ** 2, lambda a: TL.svd(a, False)[0] ** 2,
         normal(3, 4)),
    case("svd_Vh_wide_batched", lambda a: LA.svd(a, False)[2] ** 2,
         lambda a: TL.svd(a, False)[2] ** 2, normal(2, 3, 5)),
    case("svd_square_all", lambda a: (lambda u, s, vh: (u * u).sum(0) * s + (vh * vh)[0])(
         *LA.svd(a)), lambda a: (lambda u, s, vh: (u * u).sum(0) * s + (vh * vh)[0])(*TL.svd(a)),
         normal(3, 3)),
    case("svd_full_matrices_U", lambda a: LA.svd(a)[0][:, :3] ** 2,
         lambda a: TL.svd(a)[0][:, :3] ** 2, normal(5, 3)),
    case("svd_reconstructs", lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(
         *LA.svd(a, False)), lambda a: a * 1.0, normal(4, 3)),
    case("svdvals", lambda a: LA.svdvals(a), lambda a: TL.svdvals(a), normal(2, 3, 5)),
    case("eigh_values", lambda a: LA.eigh(sym(a)).eigenvalues,
         lambda a: TL.eigh(sym(a)).eigenvalues, normal(4, 4)),
    case("eigh_vectors", lambda a: LA.eigh(sym(a)).eigenvectors ** 2,
         lambda a: TL.eigh(sym(a)).eigenvectors ** 2, normal(2, 4, 4)),
    case("eigh_upper_raw", lambda a: LA.eigh(a, UPLO="U")[1] ** 2 + LA.eigh(a, "U")[0],
         lambda a: TL.eigh(a, UPLO="U")[1] ** 2 + TL.eigh(a, "U")[0], normal(3, 3)),
    case("eigh_lower_raw", lambda a: LA.eigh(a)[1] ** 2, lambda a: TL.eigh(a)[1] ** 2,
         normal(3, 3)),
    case("eigvalsh", lambda a: LA.eigvalsh(sym(a), "U"), lambda a: TL.eigvalsh(sym(a), "U"),
         normal(2, 3, 3)),
    case("pinv_tall", lambda a: LA.pinv(a), lambda a: TL.pinv(a), normal(4, 3)),
    case("pinv_wide_batched", lambda a: LA.pinv(a), lambda a: TL.pinv(a), normal(2, 2, 4)),
    case("matrix_power_3", lambda a: LA.matrix_power(a, 3),
         lambda a: TL.matrix_power(a, 3), normal(2, 3, 3)),
    case("matrix_power_0", lambda a: LA.matrix_power(a, 0) * a,
         lambda a: TL.matrix_power(a, 0) * a, normal(2, 3, 3)),
    case("matrix_power_neg", lambda a: LA.matrix_power(S3(a), -2),
         lambda a: TL.matrix_power(S3(a), -2), normal(3, 3)),
]


@pytest.mark.parametrize("c", OPS)
def test_matches_torch(c, torch_check):
    check_torch(c, torch_check)


# eigh of a non-symmetric input reads one triangle, but its gradient is PyTorch's symmetric
# one, which is not the derivative along a perturbation of that triangle alone: those rows
# are checked against torch (above) and their symmetrized twins by central differences
GRADCHECKED = [p for p in OPS if not (p.values[0].id.startswith("eigh_")
                                      and p.values[0].id.endswith("_raw"))]


@pytest.mark.parametrize("c", GRADCHECKED)
def test_gradcheck(c):
    check_gradcheck(c)


@pytest.mark.parametrize("c", OPS)
def test_vjp(c):
    check_vjp(c)


def test_every_public_function_is_in_the_table():
    exempt = {"LinAlgError", "EighResult", "QrResult", "SlogdetResult", "SvdResult"}
    assert not missing_from(OPS, tidu.linalg, exempt)


def test_every_linalg_function_has_a_vjp():
    fns = [f for m in (_util, solvers, decomp) for f in functions_of(m)]
    assert len(fns) >= 10
    assert [f.__name__ for f in fns if not callable(getattr(f, "vjp", None))] == []


SECOND = [c for c in OPS if c.values[0].id in {
    "inv", "solve", "det_batched", "slogdet_logabsdet", "cholesky", "qr_tall_Q", "qr_wide",
    "svd_U_tall", "svd_Vh_wide_batched", "svdvals", "eigh_vectors", "pinv_tall"}]


@pytest.mark.parametrize("c", SECOND)
def test_second_derivatives_match_torch(c):
    """Hessian-vector products through the vjp rules, against torch's double backward."""
    rng = np.random.default_rng(3)
    arrays = [np.random.default_rng(sum(map(ord, c.id)) + i).standard_normal(s[1])
              for i, s in enumerate(c.specs)]
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = c.fn(*xs), c.ref(*ts)
    v = rng.standard_normal(out.shape)
    g = tidu.grad((out * out * v).sum(), xs, create_graph=True)
    e = torch.autograd.grad((ref * ref * torch.from_numpy(v)).sum(), ts, create_graph=True)
    w = [rng.standard_normal(a.shape) for a in arrays]
    h = tidu.grad(sum((gi * wi).sum() for gi, wi in zip(g, w)), xs)
    he = torch.autograd.grad(sum((ei * torch.from_numpy(wi)).sum() for ei, wi in zip(e, w)), ts)
    for a, b in zip(h, he):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-9)


def test_results_are_named_and_float32_stays_float32():
    a = tidu.tensor(np.array([[4.0, 1.0], [1.0, 3.0]], np.float32), requires_grad=True)
    for t in (LA.inv(a), LA.det(a), LA.cholesky(a), *LA.qr(a), *LA.svd(a), *LA.eigh(a),
              LA.pinv(a)):
        assert t.dtype == np.float32
    sign, logabsdet = LA.slogdet(a)
    assert not sign.requires_grad and logabsdet.requires_grad
    assert LA.svd(a).S.shape == (2,) and LA.eigh(a).eigenvectors.shape == (2, 2)
    LA.det(a).backward()
    assert a.grad.dtype == np.float32


def test_eigh_reads_only_the_named_triangle():
    a = np.array([[2.0, 100.0], [1.0, 3.0]])  # the upper entry is ignored with UPLO="L"
    np.testing.assert_allclose(LA.eigvalsh(tidu.tensor(a)).numpy(),
                               TL.eigvalsh(torch.tensor(a)).numpy())
    np.testing.assert_allclose(LA.eigh(tidu.tensor(a), "U")[0].numpy(),
                               TL.eigh(torch.tensor(a), "U")[0].numpy())


def test_constant_inputs_and_no_grad_give_plain_tensors():
    a = np.eye(3) * 2
    assert not LA.inv(a).requires_grad
    with tidu.no_grad():
        assert not LA.svd(tidu.tensor(a, requires_grad=True)).U.requires_grad


def test_errors_name_the_operation():
    with pytest.raises(tidu.ShapeError, match=r"inv: expected a square matrix .* got shape"):
        LA.inv(tidu.ones((2, 3)))
    with pytest.raises(tidu.ShapeError, match="qr: expected a matrix"):
        LA.qr(tidu.ones(3))
    with pytest.raises(tidu.ShapeError, match="solve: B of shape"):
        LA.solve(tidu.ones((3, 3)), tidu.ones((4, 2)))
    with pytest.raises(LA.LinAlgError, match="inv: Singular matrix"):
        LA.inv(tidu.zeros((2, 2)))
    with pytest.raises(LA.LinAlgError, match="cholesky"):
        LA.cholesky(-tidu.ones((1, 1)))
    with pytest.raises(ValueError, match="eigh: UPLO must be 'L' or 'U'"):
        LA.eigh(tidu.ones((2, 2)), UPLO="X")
    with pytest.raises(TypeError, match="matrix_power: n must be an int"):
        LA.matrix_power(tidu.ones((2, 2)), 1.5)
