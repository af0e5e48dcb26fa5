"""Shared test helper: PyTorch autograd in float64 as the oracle for values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu

# scripts that tests launch with mpirun: not test modules (importing one would run it)
collect_ignore = ["distributed_scripts"]


def compare_with_torch(tidu_fn, torch_fn, arrays, seed: int = 0, rtol=1e-9, atol=1e-11):
    """Check ``tidu_fn`` against ``torch_fn`` on float64 copies of ``arrays``.

    Compares the outputs, then the vector-Jacobian products for one random output gradient
    (one backward pass each), and checks that every gradient has its input's shape and
    dtype. Returns the tidu inputs (with ``.grad`` filled) and the output.
    """
    xs = [tidu.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    ts = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out, ref = tidu_fn(*xs), torch_fn(*ts)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    expected = [None] * len(ts)
    if ref.requires_grad:
        expected = torch.autograd.grad(ref, ts, torch.from_numpy(v), allow_unused=True)
    if out.requires_grad:
        out.backward(v)
    for x, t, g in zip(xs, ts, expected):
        want = np.zeros(t.shape) if g is None else g.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        if x.grad is not None:
            assert x.grad.shape == x.shape and x.grad.dtype == x.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return xs, out


@pytest.fixture(scope="session")
def torch_check():
    """``compare_with_torch``, as a fixture (session-scoped so hypothesis tests may use it)."""
    return compare_with_torch
