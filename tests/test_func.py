"""tidu.func (grad, value_and_grad, vjp, jacobian, hessian, hvp) against torch.func and
torch.autograd.functional, in float64, on Rosenbrock, an L2-regularised logistic regression,
a small tanh MLP and softmax cross-entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tidu
from tidu import func

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))
Y01 = (RNG.uniform(size=6) > 0.5).astype(float)
YHOT = np.eye(4)[RNG.integers(0, 4, size=6)]
YREG = RNG.standard_normal((6, 1))
LAM = 0.1


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


# ----- each loss twice: with tidu operations and with torch -----
def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def logreg(w, b):
    z = tidu.matmul(X, w) + b
    return (tidu.softplus(z) - Y01 * z).mean() + 0.5 * LAM * (w * w).sum()


def logreg_t(w, b):
    z = _t(X) @ w + b
    return (F.softplus(z) - _t(Y01) * z).mean() + 0.5 * LAM * (w * w).sum()


def mlp(w1, b1, w2):
    h = tidu.tanh(tidu.matmul(X, w1) + b1)
    return ((tidu.matmul(h, w2) - YREG) ** 2).mean()


def mlp_t(w1, b1, w2):
    h = torch.tanh(_t(X) @ w1 + b1)
    return ((h @ w2 - _t(YREG)) ** 2).mean()


def softmax_ce(w):
    return -(YHOT * tidu.log_softmax(tidu.matmul(X, w), axis=-1)).sum(axis=1).mean()


def softmax_ce_t(w):
    return -(_t(YHOT) * torch.log_softmax(_t(X) @ w, -1)).sum(1).mean()


CASES = {
    "rosenbrock": (rosenbrock, rosenbrock, [RNG.standard_normal(5)]),
    "logreg_l2": (logreg, logreg_t, [RNG.standard_normal(3), np.array(0.3)]),
    "tanh_mlp": (mlp, mlp_t, [RNG.standard_normal((3, 4)), RNG.standard_normal(4),
                              RNG.standard_normal((4, 1))]),
    "softmax_ce": (softmax_ce, softmax_ce_t, [RNG.standard_normal((3, 4))]),
}
IDS = list(CASES)


@pytest.mark.parametrize("name", IDS)
def test_value_and_grad_match_torch_func(name):
    f, ft, args = CASES[name]
    nums = tuple(range(len(args)))
    value, grads = func.value_and_grad(f, argnums=nums)(*args)
    want = torch.func.grad_and_value(ft, argnums=nums)(*map(_t, args))
    assert isinstance(value, float) and value == pytest.approx(want[1].item(), rel=1e-12)
    assert isinstance(grads, tuple) and len(grads) == len(args)
    for g, w, a in zip(grads, want[0], args):
        assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == a.shape
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-10, atol=1e-13)
    g0 = func.grad(f)(*args)  # argnums=0: one array, not a tuple
    np.testing.assert_allclose(g0, grads[0], rtol=1e-14)


@pytest.mark.parametrize("name", IDS)
def test_hvp_matches_torch_and_hessian_times_v(name):
    f, ft, args = CASES[name]
    vs = [RNG.standard_normal(a.shape) for a in args]
    value, hv = func.hvp(f, tuple(args), tuple(vs))
    tvalue, thv = torch.autograd.functional.hvp(ft, tuple(map(_t, args)), tuple(map(_t, vs)))
    assert value == pytest.approx(tvalue.item(), rel=1e-12)
    for h, t, a in zip(hv, thv, args):
        assert h.shape == a.shape and h.dtype == np.float64
        np.testing.assert_allclose(h, t.numpy(), rtol=1e-9, atol=1e-12)
    if len(args) == 1:  # one primal: plain arrays in and out, and H v from the full Hessian
        value1, hv1 = func.hvp(f, args[0], vs[0])
        H = func.hessian(f)(args[0])
        n = args[0].size
        np.testing.assert_allclose(hv1, (H.reshape(n, n) @ vs[0].ravel()).reshape(vs[0].shape),
                                   rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", IDS)
def test_hessian_matches_torch(name):
    f, ft, args = CASES[name]
    H = func.hessian(f)(*args)
    Ht = torch.autograd.functional.hessian(ft, tuple(map(_t, args)))[0][0]
    assert H.shape == args[0].shape * 2
    np.testing.assert_allclose(H, Ht.numpy(), rtol=1e-9, atol=1e-12)
    n = args[0].size
    np.testing.assert_allclose(H.reshape(n, n), H.reshape(n, n).T, rtol=1e-10, atol=1e-12)


def test_jacobian_of_a_vector_function_matches_torch():
    x, w = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    jx, jw = func.jacobian(lambda a, b: tidu.softmax(tidu.matmul(a, b)), argnums=(0, 1))(x, w)
    tx, tw = torch.autograd.functional.jacobian(lambda a, b: torch.softmax(a @ b, -1),
                                                (_t(x), _t(w)))
    assert jx.shape == (2, 4, 2, 3) and jw.shape == (2, 4, 3, 4)
    np.testing.assert_allclose(jx, tx.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(jw, tw.numpy(), rtol=1e-10, atol=1e-13)


def test_vjp_matches_torch_func_vjp():
    x = RNG.standard_normal((3, 4))
    ct = RNG.standard_normal((3, 4))
    out, back = func.vjp(lambda a: tidu.tanh(a) * a, x)
    tout, tback = torch.func.vjp(lambda a: torch.tanh(a) * a, _t(x))
    np.testing.assert_allclose(out, tout.numpy(), rtol=1e-14)
    for _ in range(2):  # vjp_fn may be called again
        (g,) = back(ct)
        np.testing.assert_allclose(g, tback(_t(ct))[0].numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="cotangent has shape"):
        back(np.ones(4))


def test_nested_grad_gives_higher_derivatives():
    def f(x):
        return x**4

    d1, d2, d3 = func.grad(f), func.grad(func.grad(f)), func.grad(func.grad(func.grad(f)))
    for x in (-1.5, 0.5, 2.0):
        assert float(d1(x)) == pytest.approx(4 * x**3)
        assert float(d2(x)) == pytest.approx(12 * x**2)
        assert float(d3(x)) == pytest.approx(24 * x)
    assert float(func.grad(d3)(0.7)) == pytest.approx(24.0)
    # a smooth non-polynomial one against torch's nested grad
    g = func.grad(func.grad(lambda x: tidu.sigmoid(x) * tidu.exp(-x * x)))
    gt = torch.func.grad(torch.func.grad(lambda x: torch.sigmoid(x) * torch.exp(-x * x)))
    assert float(g(0.3)) == pytest.approx(gt(_t(0.3)).item(), rel=1e-12)


def test_grad_of_value_and_grad_of_a_two_argument_function():
    def f(x, y):
        return (x * x * y).sum()

    # sum(df/dx) = sum(2 x y), whose gradient with respect to y is 2 x
    h = func.grad(lambda x, y: func.grad(f)(x, y).sum(), argnums=1)
    x, y = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    np.testing.assert_allclose(h(x, y), 2 * x)


def test_dtypes_and_input_kinds():
    f = lambda x: (x * x).sum()  # noqa: E731
    g32 = func.grad(f)(np.array([1.0, 2.0], dtype=np.float32))
    assert g32.dtype == np.float32 and g32.tolist() == [2.0, 4.0]
    g = func.grad(f)(3.0)  # a Python float: float64, shape ()
    assert g.dtype == np.float64 and g.shape == () and float(g) == 6.0
    t = tidu.tensor([1.0, -1.0])
    gt = func.grad(f)(t)
    assert isinstance(gt, np.ndarray) and gt.tolist() == [2.0, -2.0]
    assert t.grad is None and not t.requires_grad  # the caller's tensor is left alone
    v, gv = func.value_and_grad(lambda x: x * 2.0)(np.array([1.5]))
    assert isinstance(v, np.ndarray) and v.tolist() == [3.0] and gv.tolist() == [2.0]


def test_transforms_record_even_inside_no_grad():
    with tidu.no_grad():
        g = func.grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
        _, hv = func.hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.ones(2))
    assert g.tolist() == [3.0, 12.0] and hv.tolist() == [6.0, 12.0]


def test_has_aux():
    def f(x):
        y = tidu.tanh(x)
        return (y * y).sum(), {"y": y, "n": 3}

    (value, aux), g = func.value_and_grad(f, has_aux=True)(np.array([0.2, -0.4]))
    g2, aux2 = func.grad(f, has_aux=True)(np.array([0.2, -0.4]))
    np.testing.assert_allclose(aux["y"], np.tanh([0.2, -0.4]))
    assert isinstance(aux["y"], np.ndarray) and aux["n"] == 3 and aux2["n"] == 3
    y = np.tanh([0.2, -0.4])
    np.testing.assert_allclose(g, 2 * y * (1 - y * y), rtol=1e-12)
    np.testing.assert_allclose(g2, g)
    assert value == pytest.approx(float((y * y).sum()))
    with pytest.raises(TypeError, match="pair"):
        func.grad(lambda x: (x * x).sum(), has_aux=True)(np.ones(2))


def test_constant_and_linear_functions():
    assert func.grad(lambda x: tidu.tensor(2.0))(np.ones(3)).tolist() == [0.0] * 3
    _, hv = func.hvp(lambda x: (3 * x).sum(), np.ones(2), np.ones(2))
    assert hv.tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(func.hessian(lambda x: (3 * x).sum())(np.ones(2)),
                                  np.zeros((2, 2)))


def test_clear_errors():
    with pytest.raises(tidu.GradientError, match="scalar.*shape \\(3,\\).*jacobian"):
        func.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match="argument 0 has dtype int64.*floating"):
        func.grad(lambda x: (x * 2).sum())(np.arange(3))
    with pytest.raises(ValueError, match="argnums 2 is out of range.*2 positional"):
        func.grad(lambda x, y: (x * y).sum(), argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int"):
        func.grad(lambda x: x, argnums="x")(1.0)
    with pytest.raises(TypeError, match="not a tidu Tensor"):
        func.grad(lambda x: np.sum(np.asarray(x)))(np.ones(2))
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        func.hvp(lambda a, b: (a * b).sum(), (np.ones(2), np.ones(2)), np.ones(2))
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        func.hvp(lambda a: (a * a).sum(), np.ones(2), np.ones(3))
    with pytest.raises(tidu.GradientError, match="scalar"):
        func.hvp(lambda a: a * a, np.ones(2), np.ones(2))
