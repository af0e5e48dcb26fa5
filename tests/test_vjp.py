"""Differentiable derivatives: every op's ``vjp`` rule (its derivative written in tidu
operations) against its NumPy ``backward`` and PyTorch, second derivatives against
``torch.autograd.grad(..., create_graph=True)``, and the ``create_graph`` engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from test_ops import OPS, _seeds


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
