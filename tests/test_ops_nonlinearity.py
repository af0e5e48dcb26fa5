"""tidu.ops.nonlinearity (and softplus's beta and threshold): activations against PyTorch
(float64 values and gradients), central differences and the vjp rules; random shapes by
hypothesis; stability at large inputs; dtypes and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tidu
from _optable import (
    away,
    case,
    make,
    missing_from,
    normal,
    pos,
    table_tests,
)
from tidu.ops import nonlinearity as N


def offgrid(*shape):
    """Values in [-8, 8] at least 0.1 from every multiple of 0.5 (off every kink here)."""
    return ("offgrid", shape)


# name -> (tidu function, torch function, input kind): the element-wise activations
ELEMENTWISE = {
    "elu": (tidu.elu, F.elu, "away"),
    "elu_alpha": (lambda a: tidu.elu(a, 0.5), lambda a: F.elu(a, 0.5), "away"),
    "selu": (tidu.selu, F.selu, "away"),
    "celu": (tidu.celu, F.celu, "away"),
    "celu_alpha": (lambda a: tidu.celu(a, 2.5), lambda a: F.celu(a, 2.5), "away"),
    "gelu": (tidu.gelu, F.gelu, "normal"),
    "gelu_tanh": (lambda a: tidu.gelu(a, approximate="tanh"),
                  lambda a: F.gelu(a, approximate="tanh"), "normal"),
    "silu": (tidu.silu, F.silu, "normal"),
    "swish": (tidu.swish, F.silu, "normal"),
    "mish": (tidu.mish, F.mish, "normal"),
    "softsign": (tidu.softsign, F.softsign, "away"),
    "hardtanh": (tidu.hardtanh, F.hardtanh, "offgrid"),
    "hardtanh_bounds": (lambda a: tidu.hardtanh(a, -2.0, 3.0),
                        lambda a: F.hardtanh(a, -2.0, 3.0), "offgrid"),
    "relu6": (tidu.relu6, F.relu6, "offgrid"),
    # F.hardsigmoid's gradient multiplies by a float32 1/6 (off by 3e-8 in float64): the
    # reference is its definition relu6(x + 3) / 6 (and F.hardsigmoid, at 1e-7, below)
    "hard_sigmoid": (tidu.hard_sigmoid, lambda a: F.relu6(a + 3) / 6, "offgrid"),
    "hard_swish": (tidu.hard_swish, F.hardswish, "offgrid"),
    "log_sigmoid": (tidu.log_sigmoid, F.logsigmoid, "normal"),
    "softplus_beta": (lambda a: tidu.softplus(a, beta=2.0), lambda a: F.softplus(a, 2.0),
                      "normal"),
    "softplus_threshold": (lambda a: tidu.softplus(a * 4, beta=0.5, threshold=1.0),
                           lambda a: F.softplus(a * 4, 0.5, 1.0), "offgrid"),
}

OPS = [
    *[case(n, f, r, (k, (3, 4))) for n, (f, r, k) in ELEMENTWISE.items()],
    case("elu_wide", lambda a: tidu.elu(a * 30), lambda a: F.elu(a * 30), away(6)),
    case("mish_wide", lambda a: tidu.mish(a * 30), lambda a: F.mish(a * 30), away(6)),
    case("log_sigmoid_wide", lambda a: tidu.log_sigmoid(a * 40),
         lambda a: F.logsigmoid(a * 40), away(6)),
    case("softplus_threshold_20", lambda a: tidu.softplus(a * 30, threshold=20.0),
         lambda a: F.softplus(a * 30), away(3, 4)),
    case("softmin", tidu.softmin, lambda a: F.softmin(a, -1), normal(3, 4)),
    case("softmin_axis0", lambda a: tidu.softmin(a, axis=0), lambda a: F.softmin(a, 0),
         normal(3, 4)),
    case("glu", tidu.glu, F.glu, normal(3, 4)),
    case("glu_axis1_3d", lambda a: tidu.glu(a, 1), lambda a: F.glu(a, 1), normal(2, 6, 3)),
    case("prelu_channels", tidu.prelu, F.prelu, away(2, 3, 4), pos(3)),
    case("prelu_shared", tidu.prelu, F.prelu, away(3, 5), normal(1)),
    case("prelu_2d_channels", tidu.prelu, F.prelu, away(4, 3), normal(3)),
    case("prelu_4d", lambda a, w: a.prelu(w), F.prelu, away(2, 3, 2, 2), normal(3)),
    case("prelu_1d_input", tidu.prelu, F.prelu, away(5), normal(1)),
]


test_against_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_name_has_a_row():
    assert not missing_from(OPS, N)


def test_every_name_is_exported():
    for name in N.__all__:
        assert getattr(tidu, name) is getattr(N, name)
    assert tidu.swish is tidu.silu


# ----- random shapes -----
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


@settings(max_examples=20, deadline=None)
@given(op=st.sampled_from(sorted(ELEMENTWISE)), shape=shapes, seed=st.integers(0, 2**16))
def test_elementwise_any_shape(op, shape, seed, torch_check):
    fn, ref, kind = ELEMENTWISE[op]
    xs, out = torch_check(fn, ref, [make((kind, shape), seed)], seed=seed)
    assert out.shape == shape and xs[0].grad.shape == shape


@settings(max_examples=15, deadline=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4),
       shared=st.booleans(), seed=st.integers(0, 2**16))
def test_prelu_any_shape(shape, shared, seed, torch_check):
    w = make(("normal", (1 if shared else shape[1],)), seed + 1)
    xs, out = torch_check(tidu.prelu, F.prelu, [make(("away", shape), seed), w], seed=seed)
    assert out.shape == shape and xs[1].grad.shape == w.shape


# ----- stability and dtypes -----
def test_finite_at_extreme_inputs():
    x = tidu.tensor(np.array([-1000.0, -50.0, 50.0, 1000.0]), requires_grad=True)
    for fn in (tidu.elu, tidu.selu, tidu.celu, tidu.gelu, tidu.silu, tidu.mish,
               tidu.log_sigmoid, tidu.softplus, tidu.softsign, tidu.hard_swish):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = fn(x)
            (g,) = tidu.grad(y.sum(), [x])
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(g.numpy())), fn.__name__
    assert tidu.log_sigmoid(x).tolist()[0] == -1000.0


def test_hard_sigmoid_matches_torch_hardsigmoid(torch_check):
    x = make(("offgrid", (4, 5)), 2)
    torch_check(tidu.hard_sigmoid, F.hardsigmoid, [x], rtol=1e-7)


def test_softplus_threshold_is_exactly_linear_and_default_is_exact_with_one_node():
    x = tidu.tensor(np.array([25.0, 100.0]), requires_grad=True)
    y = tidu.softplus(x)  # exact by default: log(1 + e^x), not x, above 20
    np.testing.assert_array_equal(y.numpy(), np.logaddexp(x.numpy(), 0))
    assert y.tolist()[0] != 25.0 and type(y.grad_fn).__name__ == "Softplus"
    assert not y.grad_fn.kwargs  # softplus(x): the form tidu.compile's rewrites build
    lin = tidu.softplus(x, threshold=20.0)  # PyTorch's linear form above the threshold
    assert lin.tolist() == [25.0, 100.0]
    lin.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert tidu.softplus(tidu.tensor([1e4]), beta=1.0, threshold=float("inf")).tolist() == [1e4]


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_float32_stays_float32(name):
    fn, _, kind = ELEMENTWISE[name]
    x = tidu.tensor(make((kind, (5,)), 0).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_second_derivatives_match_torch():
    x0 = make(("away", (4,)), 7)
    for fn, ref in [(tidu.elu, F.elu), (tidu.gelu, F.gelu), (tidu.mish, F.mish),
                    (lambda t: tidu.gelu(t, "tanh"), lambda t: F.gelu(t, approximate="tanh")),
                    (tidu.silu, F.silu), (tidu.log_sigmoid, F.logsigmoid),
                    (lambda t: tidu.softplus(t, beta=3.0), lambda t: F.softplus(t, 3.0))]:
        h = tidu.func.hessian(lambda t, f=fn: f(t).sum())(x0)
        want = torch.autograd.functional.hessian(lambda t, r=ref: r(t).sum(), torch.tensor(x0))
        np.testing.assert_allclose(np.asarray(h), want.numpy(), rtol=1e-9, atol=1e-12)


def test_prelu_weight_gradient_sums_over_all_but_channels():
    x = tidu.tensor(-np.ones((2, 3, 4)), requires_grad=True)
    w = tidu.tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    tidu.prelu(x, w).sum().backward()
    assert w.grad.tolist() == [-8.0, -8.0, -8.0]


# ----- errors -----
def test_errors_name_the_op_and_argument():
    x = tidu.ones(2, 3)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        tidu.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="celu: alpha must be nonzero"):
        tidu.celu(x, 0.0)
    with pytest.raises(ValueError, match="hardtanh: min_val must be less than max_val"):
        tidu.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="softplus: beta must be a number > 0"):
        tidu.softplus(x, beta=0)
    with pytest.raises(tidu.ShapeError, match="glu: axis -1 .* even length"):
        tidu.glu(x)
    with pytest.raises(tidu.ShapeError, match="prelu: weight has 2 elements .* 3 channels"):
        tidu.prelu(x, tidu.ones(2))
    with pytest.raises(tidu.ShapeError, match="prelu: .* no channel axis"):
        tidu.prelu(tidu.ones(3), tidu.ones(3))
