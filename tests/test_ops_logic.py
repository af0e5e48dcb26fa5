"""tidu.ops.logic against PyTorch: comparisons, logic, float classification, isclose/allclose,
floor division and remainders, bitwise operators and shifts.

Boolean and integer results are compared as float64 (``.double()``) by the table, which also
checks that they carry no gradient; their dtypes are checked below. Integer inputs are drawn as
integer-valued floats and cast inside the case.
"""

from __future__ import annotations

import warnings

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
    missing_from,
    normal,
    table_tests,
)


def ints(*shape):
    return ("ints", shape)


def nonzero_ints(*shape):
    return ("nonzero_ints", shape)


def counts(*shape):
    return ("counts", shape)


def special(*shape):
    return ("special", shape)


def I(t):  # noqa: E743 - an integer view of a float case input, in either library
    """Rounded, so that gradcheck's small perturbations do not change the integer."""
    if isinstance(t, tidu.Tensor):
        return ((t + 0.5) // 1).astype(np.int64)
    return torch.floor(t + 0.5).long()


def binary(name, fn, ref, *specs, ints_in=True, **kw):
    """A case comparing a boolean/integer result as float64; the inputs are cast to int64
    unless ``ints_in`` is False."""
    cast = I if ints_in else (lambda t: t)
    ref = ref or fn
    return case(name, lambda a, b: fn(cast(a), cast(b)).double(),
                lambda a, b: ref(cast(a), cast(b)).double(), *specs, **kw)


OPS = [
    # ----- comparisons (ties from integer values) -----
    binary("eq", tidu.eq, torch.eq, ints(3, 4), ints(4)),
    binary("ne", tidu.ne, torch.ne, ints(3, 1), ints(1, 4)),
    binary("lt", tidu.lt, torch.lt, ints(3, 4), ints(4)),
    binary("le", tidu.le, torch.le, ints(3, 4), ints(3, 4)),
    binary("gt", tidu.gt, torch.gt, normal(2, 3), normal(3), ints_in=False),
    binary("ge", tidu.ge, torch.ge, ints(2, 3), ints(2, 1)),
    binary("eq_method", lambda a, b: a.eq(b), lambda a, b: a.eq(b), ints(5), ints(5)),
    case("ge_scalar_method", lambda a: a.ge(0.5).double(), lambda a: a.ge(0.5).double(),
         normal(4)),
    # ----- logic (nonzero is True) -----
    binary("logical_and", tidu.logical_and, torch.logical_and, ints(3, 4), ints(4)),
    binary("logical_or", tidu.logical_or, torch.logical_or, ints(3, 4), ints(3, 1)),
    binary("logical_xor", tidu.logical_xor, torch.logical_xor, ints(3, 4), ints(4)),
    case("logical_not", lambda a: tidu.logical_not(I(a)).double(),
         lambda a: torch.logical_not(I(a)).double(), ints(3, 4)),
    case("logical_and_method", lambda a: I(a).logical_and(I(a) > 0).double(),
         lambda a: I(a).logical_and(I(a) > 0).double(), ints(6)),
    # ----- float classification and closeness -----
    case("isnan", lambda a: tidu.isnan(a).double(), lambda a: torch.isnan(a).double(),
         special(3, 4)),
    case("isinf", lambda a: a.isinf().double(), lambda a: torch.isinf(a).double(),
         special(3, 4)),
    case("isfinite", lambda a: tidu.isfinite(a).double(), lambda a: torch.isfinite(a).double(),
         special(3, 4)),
    case("isclose", lambda a, b: tidu.isclose(a, a + b * 1e-5).double(),
         lambda a, b: torch.isclose(a, a + b * 1e-5).double(), normal(3, 4), normal(3, 4)),
    case("isclose_tolerances_equal_nan",
         lambda a: tidu.isclose(a, a * 1.01, rtol=0.0, atol=0.02, equal_nan=True).double(),
         lambda a: torch.isclose(a, a * 1.01, rtol=0.0, atol=0.02, equal_nan=True).double(),
         special(3, 4)),
    case("allclose", lambda a: a * float(tidu.allclose(a, a + 1e-9)),
         lambda a: a * float(torch.allclose(a, a + 1e-9)), normal(3)),
    # ----- division operators on floats (differentiable, as in PyTorch) -----
    case("floor_divide_float", lambda a, b: tidu.floor_divide(a, b),
         lambda a, b: torch.div(a, b, rounding_mode="floor"), normal(3, 4), away(4)),
    case("floordiv_operator", lambda a, b: a // b,
         lambda a, b: torch.div(a, b, rounding_mode="floor"), normal(3, 4), away(3, 1)),
    case("rfloordiv_python", lambda a: 3.0 // a,
         lambda a: torch.div(torch.full_like(a, 3.0), a, rounding_mode="floor"), away(5)),
    case("remainder_float", lambda a, b: tidu.remainder(a, b), torch.remainder, normal(3, 4),
         away(4)),
    case("mod_operator", lambda a, b: a % b, None, normal(3, 4), away(3, 1)),
    case("rmod_python", lambda a: 2.5 % a,
         lambda a: torch.remainder(torch.full_like(a, 2.5), a), away(5)),
    case("fmod_float", lambda a, b: tidu.fmod(a, b), torch.fmod, normal(3, 4), away(4)),
    case("fmod_method", lambda a, b: a.fmod(b), lambda a, b: a.fmod(b), normal(6), away(6)),
    # ----- integer operators -----
    binary("floor_divide_int", tidu.floor_divide, torch.floor_divide, ints(3, 4),
           nonzero_ints(4)),
    binary("floordiv_int_operator", lambda a, b: a // b, lambda a, b: a // b, ints(3, 4),
           nonzero_ints(3, 1)),
    binary("remainder_int", tidu.remainder, torch.remainder, ints(3, 4), nonzero_ints(4),),
    binary("mod_int_operator", lambda a, b: a % b, lambda a, b: a % b, ints(3, 4),
           nonzero_ints(4)),
    binary("fmod_int", tidu.fmod, torch.fmod, ints(3, 4), nonzero_ints(4)),
    binary("bitwise_and", tidu.bitwise_and, torch.bitwise_and, ints(3, 4), ints(4),),
    binary("and_operator", lambda a, b: a & b, None, ints(3, 4), ints(3, 1)),
    binary("bitwise_or", tidu.bitwise_or, torch.bitwise_or, ints(3, 4), ints(4)),
    binary("or_operator", lambda a, b: a | b, None, ints(3, 4), ints(4)),
    binary("bitwise_xor", tidu.bitwise_xor, torch.bitwise_xor, ints(3, 4), ints(4),),
    binary("xor_operator", lambda a, b: a ^ b, None, ints(2, 3), ints(3)),
    case("bitwise_not", lambda a: tidu.bitwise_not(I(a)).double(),
         lambda a: torch.bitwise_not(I(a)).double(), ints(3, 4)),
    case("invert_operator", lambda a: (~I(a)).double(), None, ints(3, 4)),
    case("invert_bool", lambda a: (~(I(a) > 0)).double(), None, ints(3, 4)),
    binary("and_bool", lambda a, b: (a > 0) & (b > 0), None, ints(3, 4), ints(4)),
    binary("or_xor_bool", lambda a, b: ((a > 0) | (b > 0)) ^ (a < 0), None, ints(3, 4), ints(4)),
    binary("bitwise_left_shift", tidu.bitwise_left_shift, torch.bitwise_left_shift, ints(3, 4),
           counts(4)),
    binary("lshift_operator", lambda a, b: a << b, None, ints(3, 4), counts(3, 1)),
    binary("bitwise_right_shift", tidu.bitwise_right_shift, torch.bitwise_right_shift,
           ints(3, 4), counts(4)),
    binary("rshift_operator", lambda a, b: a >> b, None, ints(3, 4), counts(4)),
    case("reflected_int_operators",
         lambda a: (7 // I(a) + 7 % I(a) + (5 & I(a)) + (5 | I(a)) + (5 ^ I(a))).double(),
         lambda a: (7 // I(a) + 7 % I(a) + (5 & I(a)) + (5 | I(a)) + (5 ^ I(a))).double(),
         nonzero_ints(3, 4)),
    case("reflected_shifts", lambda a: ((1 << I(a)) + (64 >> I(a))).double(),
         lambda a: ((1 << I(a)) + (64 >> I(a))).double(), counts(5)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row():
    assert not missing_from(OPS, tidu.ops.logic)


# ----- dtypes, gradients and errors -----
def test_results_are_boolean_or_integer_and_leave_the_graph():
    x = tidu.tensor(np.array([1.0, -2.0, np.nan]), requires_grad=True)
    for out in (tidu.eq(x, 1.0), tidu.lt(x, 0), x.isnan(), tidu.isclose(x, x),
                tidu.logical_not(x), tidu.logical_or(x, 0)):
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    i = tidu.tensor(np.array([5, -3], dtype=np.int32))
    for out in (i & 6, i | 1, i ^ i, ~i, i << 2, i >> 1, i // 2, i % 3, tidu.fmod(i, 2)):
        assert out.dtype == np.int32
    assert (i < 0).dtype == np.bool_


def test_allclose_is_a_python_bool():
    a = tidu.tensor([1.0, np.nan])
    assert tidu.allclose(a, a) is False
    assert tidu.allclose(a, a, equal_nan=True) is True
    assert a.allclose(tidu.tensor([1.0 + 1e-7, np.nan]), equal_nan=True) is True


def test_remainder_and_fmod_differ_in_sign_as_in_torch():
    a, b = np.array([5.0, -5.0, 5.0, -5.0]), np.array([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal(tidu.remainder(a, b).numpy(), [2.0, 1.0, -1.0, -2.0])
    np.testing.assert_array_equal(tidu.fmod(a, b).numpy(), [2.0, -2.0, 2.0, -2.0])
    for f, g in ((tidu.remainder, torch.remainder), (tidu.fmod, torch.fmod)):
        np.testing.assert_array_equal(f(a, b).numpy(), g(torch.tensor(a), torch.tensor(b)))


def test_float_division_gradients_follow_torch():
    a = tidu.tensor(np.array([5.0, -5.0, 7.5]), requires_grad=True)
    b = tidu.tensor(np.array([2.0, 2.0, -2.0]), requires_grad=True)
    (tidu.remainder(a, b) + tidu.fmod(a, b) + a // b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])  # 1 + 1 + 0
    np.testing.assert_array_equal(b.grad.numpy(), [-4.0, 5.0, 7.0])  # -floor - trunc


def test_integer_division_by_zero_raises():
    i = tidu.tensor([4, 5])
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        i // tidu.tensor([1, 0])
    with pytest.raises(ZeroDivisionError, match="remainder"):
        i % 0
    with pytest.raises(ZeroDivisionError, match="fmod"):
        tidu.fmod(i, 0)


def test_float_division_by_zero_is_inf_or_nan_without_warnings():
    x = tidu.tensor(np.array([1.0, -2.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fd, rem = (x // 0.0).numpy(), (x % 0.0).numpy()
    t = torch.tensor(x.numpy())
    np.testing.assert_array_equal(fd, torch.div(t, 0.0, rounding_mode="floor").numpy())
    np.testing.assert_array_equal(rem, torch.remainder(t, 0.0).numpy())


def test_bitwise_on_floats_is_a_type_error_naming_the_op():
    x = tidu.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="bitwise_and: expected integer or boolean tensors, "
                                        "got dtype float32"):
        x & 1
    with pytest.raises(TypeError, match="bitwise_left_shift: expected integer tensors"):
        tidu.tensor([True]) << 1
    with pytest.raises(TypeError, match="bitwise_not"):
        tidu.bitwise_not(x)


def test_isclose_rejects_negative_tolerances():
    with pytest.raises(ValueError, match="isclose: rtol and atol must be >= 0"):
        tidu.isclose(tidu.tensor([1.0]), 1.0, rtol=-1)


def test_comparisons_in_a_compiled_function():
    x = tidu.placeholder((None,), "float64", "x")
    f = tidu.function([x], [tidu.ge(x, 0.0), tidu.isnan(x), x % 2.0])
    ge, nan, rem = f(np.array([-1.0, np.nan, 3.0]))
    np.testing.assert_array_equal(ge, [False, False, True])
    np.testing.assert_array_equal(nan, [False, True, False])
    np.testing.assert_array_equal(rem, [1.0, np.nan, 1.0])


# ----- random broadcast shapes against torch -----
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
INT_OPS = {
    "eq": (tidu.eq, torch.eq), "lt": (tidu.lt, torch.lt), "ge": (tidu.ge, torch.ge),
    "logical_xor": (tidu.logical_xor, torch.logical_xor),
    "bitwise_and": (tidu.bitwise_and, torch.bitwise_and),
    "bitwise_xor": (tidu.bitwise_xor, torch.bitwise_xor),
    "floor_divide": (tidu.floor_divide, torch.floor_divide),
    "remainder": (tidu.remainder, torch.remainder), "fmod": (tidu.fmod, torch.fmod),
}


@settings(max_examples=20, deadline=None)
@given(op=st.sampled_from(sorted(INT_OPS)), shapes=pairs, seed=st.integers(0, 2**16))
def test_integer_and_comparison_ops_broadcast_like_torch(op, shapes, seed):
    fn, ref = INT_OPS[op]
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.integers(-9, 10, size=sa)
    b = rng.choice([-1, 1], size=sb) * rng.integers(1, 10, size=sb)
    out = fn(tidu.tensor(a), tidu.tensor(b))
    want = ref(torch.tensor(a), torch.tensor(b))
    assert out.shape == shapes.result_shape == tuple(want.shape)
    assert (out.dtype == np.bool_) == (want.dtype == torch.bool)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
