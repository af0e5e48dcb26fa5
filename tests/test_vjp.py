"""Differentiable derivatives: every op's ``vjp`` rule (its derivative written in tidu
operations) against its NumPy ``backward`` and PyTorch, second derivatives against
``torch.autograd.grad(..., create_graph=True)``, and the ``create_graph`` engine."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import tidu
from test_ops import OPS, _seeds
from tidu.nn.activations import Heaviside


def _f64(arrays):
    return [np.array(a, dtype=np.float64) for a in arrays]


@pytest.mark.parametrize("c", OPS)
def test_vjp_matches_backward_and_torch(c):
    arrays = _f64(_seeds(c))
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    out = c.fn(*xs)
    if not out.requires_grad:
        pytest.skip("no graph (constant output)")
    v = np.random.default_rng(1).standard_normal(out.shape)
    plain = tidu.grad(out, xs, v, retain_graph=True)
    via_vjp = tidu.grad(out, xs, v, create_graph=True)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = c.ref(*ts)
    expected = torch.autograd.grad(ref, ts, torch.from_numpy(v), allow_unused=True)
    for x, p, g, e in zip(xs, plain, via_vjp, expected):
        assert isinstance(g, tidu.Tensor)
        assert g.shape == x.shape and g.dtype == x.dtype
        np.testing.assert_allclose(g.numpy(), p.numpy(), rtol=1e-10, atol=1e-12)
        want = np.zeros(x.shape) if e is None else e.numpy()
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-9, atol=1e-11)


def _second_order(fn, arrays, seed=2):
    """w . d/dx (v . d fn/dx) for random v, w: every second-derivative term, one number per
    input element (zeros where fn is linear in the inputs)."""
    rng = np.random.default_rng(seed)
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    v = rng.standard_normal(out.shape)
    ws = [rng.standard_normal(a.shape) for a in arrays]
    gs = tidu.grad(out, xs, v, create_graph=True)
    s = sum((g * w).sum() for g, w in zip(gs, ws))
    if not s.requires_grad:
        return [np.zeros(a.shape) for a in arrays], (v, ws)
    return [h.numpy() for h in tidu.grad(s, xs)], (v, ws)


def _second_order_torch(fn, arrays, v, ws):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    gs = torch.autograd.grad(out, ts, torch.from_numpy(v), create_graph=True, allow_unused=True)
    s = sum((g * torch.from_numpy(w)).sum() for g, w in zip(gs, ws) if g is not None)
    if not isinstance(s, torch.Tensor) or not s.requires_grad:
        return [np.zeros(a.shape) for a in arrays]
    hs = torch.autograd.grad(s, ts, allow_unused=True)
    return [np.zeros(a.shape) if h is None else h.numpy(force=True) for h, a in zip(hs, arrays)]


@pytest.mark.parametrize("c", OPS)
def test_second_derivatives_match_torch(c):
    arrays = _f64(_seeds(c))
    got, (v, ws) = _second_order(c.fn, arrays)
    want = _second_order_torch(c.ref, arrays, v, ws)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)


def _functions():
    """Every concrete Function subclass defined in tidu.ops (and the Heaviside step)."""
    import importlib
    import pkgutil

    mods = [importlib.import_module(f"tidu.ops.{m.name}")  # every module of the package
            for m in pkgutil.iter_modules(tidu.ops.__path__)]
    found = {Heaviside}
    for m in mods:
        for _, obj in inspect.getmembers(m, inspect.isclass):
            if issubclass(obj, tidu.Function) and obj.__module__ == m.__name__:
                found.add(obj)
    return sorted(found, key=lambda c: c.__name__)


def test_every_function_has_a_vjp_staticmethod():
    fns = _functions()
    assert len(fns) >= 35
    missing = [f.__name__ for f in fns if not callable(getattr(f, "vjp", None))]
    assert not missing


def test_heaviside_vjp_is_zero_and_differentiable():
    x = tidu.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = (Heaviside.apply(x) * x * x).sum()  # = sum of x^2 over x > 0
    (g,) = tidu.grad(y, [x], create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 1.0, 4.0])
    np.testing.assert_array_equal(tidu.grad(g.sum(), x).numpy(), [0.0, 2.0, 2.0])


def _smooth(x, w):
    return tidu.tanh(x @ w).sum() + (tidu.exp(x) * tidu.sigmoid(x)).mean()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_gives_a_grad_with_a_graph():
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    x, w = tidu.tensor(x0, requires_grad=True), tidu.tensor(w0, requires_grad=True)
    _smooth(x, w).backward(create_graph=True)
    assert x.grad.requires_grad and w.grad.grad_fn is not None
    gx = x.grad
    (gx * gx).sum().backward()  # d/dx, d/dw of |dL/dx|^2, accumulated onto the first grads
    xt, wt = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    loss = torch.tanh(xt @ wt).sum() + (torch.exp(xt) * torch.sigmoid(xt)).mean()
    loss.backward(create_graph=True)
    gxt = xt.grad
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.detach().numpy(), rtol=1e-10)


def test_create_graph_retains_the_graph_by_default_and_plain_grad_does_not():
    x = tidu.tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = (tidu.exp(x) * x).sum()
    g1 = tidu.grad(y, x, create_graph=True)
    g2 = tidu.grad(y, x)  # the graph is still there: retain_graph defaulted to True
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(tidu.GradientError, match="second time"):
        tidu.grad(y, x)


def test_grad_outputs_tensor_is_differentiable():
    """The double-vjp trick: d/du (u J) = J gives J v; here J = diag(3 x^2) for y = x^3."""
    x = tidu.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    u = tidu.tensor(np.zeros(3), requires_grad=True)
    y = x ** 3
    (vjp,) = tidu.grad(y, [x], grad_outputs=u, create_graph=True)
    jv = tidu.grad(vjp, u, grad_outputs=np.ones(3))  # forward-mode product J @ 1
    np.testing.assert_allclose(jv.numpy(), 3 * x.numpy() ** 2)


def test_third_derivative_of_a_polynomial():
    x = tidu.tensor(1.5, dtype="float64", requires_grad=True)
    y = x ** 4 - 2 * x ** 3
    (d1,) = tidu.grad(y, [x], create_graph=True)
    (d2,) = tidu.grad(d1, [x], create_graph=True)
    (d3,) = tidu.grad(d2, [x])
    assert (float(d1), float(d2), float(d3)) == pytest.approx(
        (4 * 1.5**3 - 6 * 1.5**2, 12 * 1.5**2 - 12 * 1.5, 24 * 1.5 - 12))


def test_float32_graph_keeps_float32_gradients():
    x = tidu.tensor([0.5, -1.0], requires_grad=True)
    (g,) = tidu.grad((x.sigmoid() * x).mean(), [x], create_graph=True)
    h = tidu.grad(g.sum(), x)
    assert g.dtype == np.float32 and h.dtype == np.float32


class NoVjp(tidu.Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g * 2


def test_a_function_without_vjp_names_itself():
    x = tidu.tensor([1.0], requires_grad=True)
    y = NoVjp.apply(x).sum()
    assert tidu.grad(y, x, retain_graph=True).tolist() == [2.0]  # first order still works
    with pytest.raises(tidu.GradientError, match="NoVjp has no vjp.*define vjp"):
        tidu.grad(y, x, create_graph=True)


def test_vjp_handles_constants_and_shared_inputs():
    x = tidu.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    c = np.array([0.5, -1.0])
    y = (x * c + x * x + tidu.maximum(x, 2.5) + tidu.where(x > 2, x, 3.0)).sum()
    (g,) = tidu.grad(y, [x], create_graph=True)
    want = c + 2 * x.numpy() + (x.numpy() > 2.5) + (x.numpy() > 2)
    np.testing.assert_allclose(g.numpy(), want)
    np.testing.assert_allclose(tidu.grad(g.sum(), x).numpy(), np.full((2, 2), 2.0))
