"""tidu.func (grad, value_and_grad, vjp, jacobian, hessian, hvp) against torch.func and
torch.autograd.functional, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from tidu import func


def rosenbrock(x, lib=tidu):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _t(a):
    return torch.tensor(a, dtype=torch.float64)


def test_hvp_of_rosenbrock_matches_torch_and_hessian_times_v():
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    value, hv = func.hvp(rosenbrock, x, v)
    tv, thv = torch.autograd.functional.hvp(rosenbrock, _t(x), _t(v))
    assert isinstance(value, float) and value == pytest.approx(tv.item(), rel=1e-12)
    assert hv.dtype == np.float64 and hv.shape == x.shape
    np.testing.assert_allclose(hv, thv.numpy(), rtol=1e-10)
    np.testing.assert_allclose(hv, func.hessian(rosenbrock)(x) @ v, rtol=1e-10)
