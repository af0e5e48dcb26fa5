"""tidu.ops.math: trigonometric, hyperbolic, logarithmic and exponential functions, rounding,
erf, lerp and hypot, against PyTorch (float64 values and gradients), central differences and
the vjp rules; random shapes by hypothesis; dtypes, domains and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
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
from tidu.ops import math as M

T = torch


def unit(*shape):
    """Values in (-0.9, 0.9): inside the domain of asin, acos, atanh."""
    return ("unit", shape)


def above1(*shape):
    """Values in [1.2, 3]: inside the domain of acosh."""
    return ("above1", shape)


def offgrid(*shape):
    """Values at least 0.1 from every multiple of 0.5 (no rounding jump within reach)."""
    return ("offgrid", shape)


# name -> (tidu function, torch function, input kind): the one-input smooth functions
UNARY = {
    "sin": (tidu.sin, T.sin, "normal"), "cos": (tidu.cos, T.cos, "normal"),
    "tan": (tidu.tan, T.tan, "unit"), "asin": (tidu.asin, T.asin, "unit"),
    "acos": (tidu.acos, T.acos, "unit"), "atan": (tidu.atan, T.atan, "normal"),
    "sinh": (tidu.sinh, T.sinh, "normal"), "cosh": (tidu.cosh, T.cosh, "normal"),
    "asinh": (tidu.asinh, T.asinh, "normal"), "acosh": (tidu.acosh, T.acosh, "above1"),
    "atanh": (tidu.atanh, T.atanh, "unit"), "log2": (tidu.log2, T.log2, "pos"),
    "log10": (tidu.log10, T.log10, "pos"), "log1p": (tidu.log1p, T.log1p, "pos"),
    "exp2": (tidu.exp2, T.exp2, "normal"), "expm1": (tidu.expm1, T.expm1, "normal"),
    "rsqrt": (tidu.rsqrt, T.rsqrt, "pos"), "reciprocal": (tidu.reciprocal, T.reciprocal, "away"),
    "square": (tidu.square, T.square, "normal"), "erf": (tidu.erf, T.erf, "normal"),
    "erfc": (tidu.erfc, T.erfc, "normal"),
}
ROUNDING = {"floor": (tidu.floor, T.floor), "ceil": (tidu.ceil, T.ceil),
            "round": (tidu.round, T.round), "trunc": (tidu.trunc, T.trunc)}

OPS = [
    *[case(n, f, r, (k, (3, 4))) for n, (f, r, k) in UNARY.items()],
    *[case(n, f, r, offgrid(3, 4)) for n, (f, r) in ROUNDING.items()],
    case("sin_method", lambda a: a.sin(), None, normal(5)),
    case("erf_method_0d", lambda a: a.erf(), None, normal()),
    case("square_method_3d", lambda a: a.square(), None, normal(2, 3, 2)),
    case("round_decimals", lambda a: tidu.round(a * 10, decimals=1),
         lambda a: T.round(a * 10, decimals=1), offgrid(6)),
    case("floor_times_x", lambda a: tidu.floor(a) * a, lambda a: T.floor(a) * a, offgrid(5)),
    case("log1p_tiny", lambda a: tidu.log1p(a * 1e-9), lambda a: T.log1p(a * 1e-9), normal(4)),
    case("atan2", tidu.atan2, T.atan2, normal(3, 4), normal(3, 4)),
    case("atan2_broadcast", tidu.atan2, T.atan2, normal(3, 1), away(4)),
    case("atan2_method", lambda a, b: a.atan2(b), None, normal(4), normal(2, 4)),
    case("atan2_scalar_x", lambda a: tidu.atan2(a, 2.0),
         lambda a: T.atan2(a, T.tensor(2.0, dtype=T.float64)), normal(4)),
    case("hypot", tidu.hypot, T.hypot, normal(3, 4), normal(3, 4)),
    case("hypot_broadcast", lambda a, b: a.hypot(b), None, away(2, 1, 3), away(4, 1)),
    case("lerp_scalar_weight", lambda a, b: tidu.lerp(a, b, 0.3), lambda a, b: T.lerp(a, b, 0.3),
         normal(3, 4), normal(3, 4)),
    case("lerp_weight_above_half", lambda a, b: a.lerp(b, 0.8), None, normal(5), normal(5)),
    case("lerp_tensor_weight", tidu.lerp, T.lerp, normal(3, 4), normal(3, 4), normal(3, 4)),
    case("lerp_broadcast", tidu.lerp, T.lerp, normal(3, 1), normal(4), pos(3, 4)),
    case("lerp_end_broadcast_weight", lambda a, b, w: tidu.lerp(a, b, w), T.lerp, normal(2, 3),
         normal(2, 3), normal(3)),
]


test_against_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_name_has_a_row():
    assert not missing_from(OPS, M)


def test_every_name_is_exported_and_a_tensor_method():
    for name in M.__all__:
        assert getattr(tidu, name) is getattr(M, name)
        assert callable(getattr(tidu.Tensor, name))


# ----- random shapes -----
SETTINGS = settings(max_examples=20, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


@SETTINGS
@given(op=st.sampled_from(sorted(UNARY)), shape=shapes, seed=st.integers(0, 2**16))
def test_unary_any_shape(op, shape, seed, torch_check):
    fn, ref, kind = UNARY[op]
    xs, out = torch_check(fn, ref, [make((kind, shape), seed)], seed=seed)
    assert out.shape == shape and xs[0].grad.shape == shape


@SETTINGS
@given(op=st.sampled_from(["atan2", "hypot", "lerp"]), shapes=pairs,
       seed=st.integers(0, 2**16))
def test_binary_broadcasting(op, shapes, seed, torch_check):
    sa, sb = shapes.input_shapes
    fn, ref = {"atan2": (tidu.atan2, T.atan2), "hypot": (tidu.hypot, T.hypot),
               "lerp": (lambda a, b: tidu.lerp(a, b, 0.7), lambda a, b: T.lerp(a, b, 0.7))}[op]
    xs, out = torch_check(fn, ref, [make(("away", sa), seed), make(("away", sb), seed + 1)],
                          seed=seed)
    assert out.shape == shapes.result_shape
    assert [x.grad.shape for x in xs] == [sa, sb]


# ----- dtypes -----
@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_stays_float32(name):
    fn, _, kind = UNARY[name]
    x = tidu.tensor(make((kind, (4,)), 0).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["sin", "exp2", "rsqrt", "erf"])
def test_integer_inputs_give_float32(name):
    y = getattr(tidu, name)(tidu.tensor(np.array([1, 2, 4])))
    assert y.dtype == np.float32 and not y.requires_grad
    want = getattr(T, name)(T.tensor([1, 2, 4]))
    assert want.dtype == T.float32
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding_integers_unchanged(name):
    x = tidu.tensor(np.array([-3, 0, 7], dtype=np.int32))
    y = getattr(tidu, name)(x)
    assert y.dtype == np.int32 and y.tolist() == [-3, 0, 7]


def test_binary_with_a_python_number_keeps_float32():
    x = tidu.tensor([0.5, 2.0])
    assert tidu.atan2(x, 1.0).dtype == tidu.hypot(3, x).dtype == np.float32
    assert tidu.lerp(x, x * 2, 0.5).dtype == np.float32


# ----- values where the naive forms fail -----
def test_round_halves_to_even_as_torch():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    np.testing.assert_array_equal(tidu.round(tidu.tensor(x)).numpy(), T.round(T.tensor(x)))


def test_rounding_gradient_is_zero():
    x = tidu.tensor([0.3, 1.7, -2.2], requires_grad=True)
    (tidu.floor(x) + tidu.ceil(x) + tidu.round(x) + tidu.trunc(x)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_accuracy_near_zero_and_in_tails():
    tiny = np.array([1e-12, -3e-15])
    np.testing.assert_allclose(tidu.log1p(tidu.tensor(tiny)).numpy(), np.log1p(tiny), rtol=1e-15)
    np.testing.assert_allclose(tidu.expm1(tidu.tensor(tiny)).numpy(), np.expm1(tiny), rtol=1e-15)
    big = np.array([6.0, 10.0, 25.0])
    np.testing.assert_allclose(tidu.erfc(tidu.tensor(big)).numpy(),
                               T.erfc(T.tensor(big)).numpy(), rtol=1e-12)
    assert tidu.erfc(tidu.tensor(big)).numpy().min() > 0  # 1 - erf(x) would be 0
    np.testing.assert_allclose(tidu.hypot(*[tidu.tensor(np.array([1e200]))] * 2).numpy(),
                               [math.sqrt(2) * 1e200])


def test_lerp_exact_at_the_ends():
    a, b = tidu.tensor(np.array([0.1, 1e16])), tidu.tensor(np.array([0.3, 1.0]))
    assert tidu.lerp(a, b, 1.0).tolist() == [0.3, 1.0]
    assert tidu.lerp(a, b, 0.0).tolist() == [0.1, 1e16]


def test_outside_the_domain_is_nan_as_torch():
    with np.errstate(invalid="ignore", divide="ignore"):
        for fn, ref, x in [(tidu.asin, T.asin, 1.5), (tidu.acosh, T.acosh, 0.5),
                           (tidu.log2, T.log2, -1.0), (tidu.rsqrt, T.rsqrt, -4.0)]:
            got = fn(tidu.tensor(np.array([x]))).numpy()
            np.testing.assert_array_equal(got, ref(T.tensor([x], dtype=T.float64)).numpy())


def test_erf_without_scipy_uses_math_erf(monkeypatch):
    fallback = M._vectorized(math.erf)
    monkeypatch.setitem(M._special, "erf", fallback)
    x = np.linspace(-3, 3, 7).astype(np.float32)
    y = tidu.erf(tidu.tensor(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), T.erf(T.from_numpy(x)).numpy(), rtol=1e-6)


# ----- second derivatives through the vjp rules -----
@pytest.mark.parametrize("name", ["tan", "asin", "acosh", "rsqrt", "erf", "exp2", "log10"])
def test_second_derivative_matches_torch(name):
    fn, ref, kind = UNARY[name]
    x0 = make((kind, (4,)), 3)
    h = tidu.func.hessian(lambda t: fn(t).sum())(x0)
    want = torch.autograd.functional.hessian(lambda t: ref(t).sum(), T.tensor(x0))
    np.testing.assert_allclose(np.asarray(h), want.numpy(), rtol=1e-9, atol=1e-12)


# ----- errors -----
def test_errors_name_the_op_and_argument():
    x = tidu.tensor([1.0])
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        tidu.round(x, decimals=1.5)
    with pytest.raises(TypeError, match="lerp: weight must be a number or a tensor"):
        tidu.lerp(x, x, "half")
    with pytest.raises(tidu.ShapeError, match="atan2"):
        tidu.atan2(tidu.ones(3), tidu.ones(4))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), (1, False), ((0, 2), True),
                                           (-1, False)])
def test_mean_gives_numpys_bits(dtype, axis, keepdims):
    """tidu's mean (a sum divided by the count, for float32/float64) is NumPy's mean exactly,
    dtype included (float16 takes np.mean itself, which sums in float32)."""
    x = (np.random.default_rng(5).standard_normal((7, 33, 5)) * 100).astype(dtype)
    got = tidu.Tensor(x).mean(axis=axis, keepdims=keepdims).numpy()
    want = np.mean(x, axis=axis, keepdims=keepdims)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(got, want)
