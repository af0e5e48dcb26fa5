"""tidu.ops.scan against PyTorch: prod (exact gradients with zeros), std, vector norms,
argmax/argmin, any/all, cumsum, cumprod (with zeros), cummax/cummin and logcumsumexp."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tidu
from _optable import (
    away,
    case,
    distinct,
    functions_of,
    missing_from,
    normal,
    table_tests,
)

INF = float("inf")


def ints(*shape):
    return ("ints", shape)


def zeros(*shape):
    return ("zeros", shape)


def R(t):
    """Integer-valued (ties), and unchanged by gradcheck's small perturbations."""
    return (t + 0.5) // 1 if isinstance(t, tidu.Tensor) else torch.floor(t + 0.5)


def prod_axes(t, axes, keep):
    """torch.prod over several axes, one at a time."""
    for a in axes:
        t = t.prod(a, keepdim=True)
    return t if keep else t.squeeze(axes)


OPS = [
    # ----- prod -----
    case("prod_all", lambda a: tidu.prod(a), lambda a: torch.prod(a), normal(2, 3)),
    case("prod_axis1", lambda a: tidu.prod(a, 1), lambda a: torch.prod(a, 1), normal(3, 4)),
    case("prod_axis_neg_keepdims", lambda a: a.prod(-1, keepdims=True),
         lambda a: a.prod(-1, keepdim=True), normal(2, 3, 4)),
    case("prod_tuple_axes", lambda a: tidu.prod(a, (0, 2)),
         lambda a: prod_axes(a, (0, 2), False), normal(2, 3, 4)),
    case("prod_tuple_keepdims", lambda a: tidu.prod(a, (2, 0), True),
         lambda a: prod_axes(a, (0, 2), True), normal(2, 3, 2)),
    case("prod_all_keepdims", lambda a: tidu.prod(a, keepdims=True),
         lambda a: a.prod().reshape(1, 1), normal(2, 3)),
    case("prod_with_zeros", lambda a: tidu.prod(a, 1), lambda a: torch.prod(a, 1), zeros(5, 4)),
    case("prod_all_with_zeros", lambda a: tidu.prod(a), lambda a: torch.prod(a), zeros(6)),
    # ----- std -----
    case("std_all", lambda a: tidu.std(a), lambda a: torch.std(a, correction=0), normal(3, 4)),
    case("std_axis_ddof1", lambda a: tidu.std(a, 1, ddof=1), lambda a: torch.std(a, 1),
         normal(3, 4)),
    case("std_tuple_keepdims", lambda a: a.std((0, 2), keepdims=True),
         lambda a: a.std((0, 2), correction=0, keepdim=True), normal(2, 3, 4)),
    # ----- norms -----
    case("norm_2", lambda a: tidu.norm(a), lambda a: torch.linalg.vector_norm(a), normal(3, 4)),
    case("norm_2_axis", lambda a: a.norm(axis=1), lambda a: torch.linalg.vector_norm(a, dim=1),
         normal(3, 4)),
    case("norm_1_keepdims", lambda a: tidu.norm(a, 1, 0, True),
         lambda a: torch.linalg.vector_norm(a, 1, 0, True), away(3, 4)),
    case("norm_3_p_alias", lambda a: tidu.norm(a, p=3, axis=-1),
         lambda a: torch.linalg.vector_norm(a, 3, -1), normal(2, 5)),
    case("norm_half", lambda a: tidu.norm(a, 0.5, 1),
         lambda a: torch.linalg.vector_norm(a, 0.5, 1), away(3, 4)),
    case("norm_minus1", lambda a: tidu.norm(a, -1), lambda a: torch.linalg.vector_norm(a, -1),
         away(2, 3)),
    case("norm_inf", lambda a: tidu.norm(a, INF, 1),
         lambda a: torch.linalg.vector_norm(a, INF, 1), distinct(3, 4)),
    case("norm_minus_inf", lambda a: tidu.norm(a, -INF),
         lambda a: torch.linalg.vector_norm(a, -INF), distinct(3, 4)),
    case("norm_0", lambda a: tidu.norm(a * (a > 0), 0, 1),
         lambda a: torch.linalg.vector_norm(a * (a > 0), 0, 1), away(3, 4)),
    case("norm_fro_matrix", lambda a: tidu.norm(a, "fro", (1, 2)),
         lambda a: torch.linalg.matrix_norm(a, "fro"), normal(2, 3, 4)),
    # ----- indices and truth values -----
    case("argmax_all", lambda a: tidu.argmax(a).double(), lambda a: torch.argmax(a).double(),
         distinct(3, 4)),
    case("argmax_axis_keepdims", lambda a: a.argmax(0, keepdims=True).double(),
         lambda a: a.argmax(0, keepdim=True).double(), distinct(3, 4)),
    case("argmax_all_keepdims", lambda a: tidu.argmax(a, keepdims=True).double(),
         lambda a: torch.argmax(a, keepdim=True).double(), distinct(2, 3)),
    case("argmin_axis", lambda a: tidu.argmin(a, -1).double(),
         lambda a: torch.argmin(a, -1).double(), distinct(2, 3, 4)),
    case("argmax_argmin_ties_first",
         lambda a: (tidu.argmax(R(a), 1) * 10 + R(a).argmin(1)).double(),
         lambda a: (torch.argmax(R(a), 1) * 10 + R(a).argmin(1)).double(), ints(6, 3)),
    case("any_all", lambda a: tidu.any(R(a) > 3).double(),
         lambda a: torch.any(R(a) > 3).double(), ints(3, 4)),
    case("any_axis_keepdims", lambda a: (R(a) > 3).any(1, keepdims=True).double(),
         lambda a: (R(a) > 3).any(1, keepdim=True).double(), ints(3, 4)),
    case("all_axis", lambda a: tidu.all(R(a) > -5, 0).double(),
         lambda a: torch.all(R(a) > -5, 0).double(), ints(3, 4)),
    case("all_tuple_method", lambda a: (R(a) > -7).all((0, 1)).double(),
         lambda a: (R(a) > -7).all().double(), ints(2, 3)),
    # ----- scans -----
    case("cumsum", lambda a: tidu.cumsum(a, 1), lambda a: torch.cumsum(a, 1), normal(3, 4)),
    case("cumsum_axis0_3d", lambda a: a.cumsum(0), lambda a: a.cumsum(0), normal(3, 2, 2)),
    case("cumsum_flat", lambda a: tidu.cumsum(a), lambda a: torch.cumsum(a.reshape(-1), 0),
         normal(2, 3)),
    case("cumprod", lambda a: tidu.cumprod(a, -1), lambda a: torch.cumprod(a, -1),
         normal(3, 4)),
    case("cumprod_with_zeros", lambda a: tidu.cumprod(a, 1), lambda a: torch.cumprod(a, 1),
         zeros(6, 5)),
    case("cumprod_axis0_method", lambda a: a.cumprod(0), lambda a: a.cumprod(0), zeros(5, 3)),
    case("cummax_values", lambda a: tidu.cummax(a, 1).values,
         lambda a: torch.cummax(a, 1).values, distinct(3, 5)),
    case("cummax_indices", lambda a: tidu.cummax(a, 0).indices.double(),
         lambda a: torch.cummax(a, 0).indices.double(), distinct(4, 3)),
    case("cummin_values_method", lambda a: a.cummin(-1)[0], lambda a: a.cummin(-1)[0],
         distinct(2, 3, 4)),
    case("cummin_indices", lambda a: tidu.cummin(a, 1).indices.double(),
         lambda a: torch.cummin(a, 1).indices.double(), distinct(3, 4)),
    case("cummax_cummin_ties", lambda a: (tidu.cummax(R(a), 1)[1] * 10 + tidu.cummin(R(a), 1)[1])
         .double(), lambda a: (torch.cummax(R(a), 1)[1] * 10 + torch.cummin(R(a), 1)[1]).double(),
         ints(4, 6)),
    case("logcumsumexp", lambda a: tidu.logcumsumexp(a, 1), lambda a: torch.logcumsumexp(a, 1),
         normal(3, 4)),
    case("logcumsumexp_wide_method", lambda a: (a * 30).logcumsumexp(0),
         lambda a: (a * 30).logcumsumexp(0), normal(5, 2)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row_and_every_function_a_vjp():
    assert not missing_from(OPS, tidu.ops.scan)
    assert all(callable(getattr(f, "vjp", None)) for f in functions_of(tidu.ops.scan))


# ----- zeros, degenerate cases, dtypes -----
def test_prod_and_cumprod_gradients_with_zeros_match_torch(torch_check):
    x = np.array([[1.0, 0.0, 2.0, 0.0, 3.0], [0.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 0.0, 3.0, 0.0]])
    for axis in (0, 1):
        torch_check(lambda t, a=axis: tidu.prod(t, a), lambda t, a=axis: torch.prod(t, a), [x])
        torch_check(lambda t, a=axis: tidu.cumprod(t, a), lambda t, a=axis: torch.cumprod(t, a),
                    [x])
    t = tidu.tensor(np.array([2.0, 0.0, 3.0]), requires_grad=True)
    tidu.prod(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 6.0, 0.0])


def test_std_with_ddof_at_least_n_is_inf_or_nan_as_torch_without_warnings():
    a = np.array([[1.0, 2.0], [3.0, 3.0]])
    x = tidu.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = tidu.std(x, 1, ddof=2)
        s.sum().backward()
        s3 = tidu.std(x, 1, ddof=3)
    t = torch.tensor(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about the degrees of freedom
        np.testing.assert_array_equal(s.numpy(), torch.std(t, 1, correction=2).numpy())
        np.testing.assert_array_equal(s3.numpy(), torch.std(t, 1, correction=3).numpy())
    assert np.isinf(s.numpy()[0]) and np.isnan(s.numpy()[1])
    assert np.isnan(x.grad.numpy()).all()


def test_std_and_norm_have_zero_gradient_where_they_are_zero(torch_check):
    c = np.full((2, 3), 1.5)
    torch_check(lambda t: tidu.std(t, 1), lambda t: torch.std(t, 1, correction=0), [c])
    z = np.zeros((2, 3))
    for p in (2, 1, 3, 0.5, INF):
        torch_check(lambda t, p=p: tidu.norm(t, p, 1),
                    lambda t, p=p: torch.linalg.vector_norm(t, p, 1), [z])
    x = tidu.tensor(np.zeros(3), requires_grad=True)
    (g,) = tidu.grad(tidu.norm(x), [x], create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0])


def test_norm_inf_shares_the_gradient_among_ties(torch_check):
    x = np.array([[3.0, -3.0, 1.0, 0.0]])
    torch_check(lambda t: tidu.norm(t, INF), lambda t: torch.linalg.vector_norm(t, INF), [x])


def test_norm_rejects_unknown_orders_and_integers():
    with pytest.raises(ValueError, match="norm: ord must be a number, inf, -inf or 'fro'.*nuc"):
        tidu.norm(tidu.tensor([[1.0]]), "nuc")
    with pytest.raises(TypeError, match="norm: expected a floating-point tensor, got dtype int"):
        tidu.norm(tidu.tensor([1, 2]))


def test_dtypes_of_indices_truth_values_and_integer_scans():
    x = tidu.tensor(np.array([[1.0, 3.0], [2.0, 0.0]]), requires_grad=True)
    for i in (tidu.argmax(x), x.argmin(1), tidu.cummax(x, 1).indices, x.cummin(0)[1]):
        assert i.dtype == np.int64 and not i.requires_grad
    for b in (x.any(), tidu.all(x, 0), tidu.any(tidu.tensor([0, 2]))):
        assert b.dtype == np.bool_ and not b.requires_grad
    i = tidu.tensor(np.array([1, 2, 3], dtype=np.int32))
    for out, ref in ((tidu.cumsum(i, 0), torch.cumsum(torch.tensor([1, 2, 3]), 0)),
                     (tidu.prod(i), torch.prod(torch.tensor([1, 2, 3]))),
                     (tidu.cumsum(tidu.tensor([True, True]), 0),
                      torch.cumsum(torch.tensor([True, True]), 0))):
        assert out.dtype == np.int64 and ref.dtype == torch.int64
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_cummax_of_nan_holds_it_like_torch():
    x = np.array([1.0, np.nan, 3.0, 0.5])
    for f, g in ((tidu.cummax, torch.cummax), (tidu.cummin, torch.cummin)):
        got, want = f(x, 0), g(torch.tensor(x), 0)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_logcumsumexp_is_stable_at_both_ends(torch_check):
    x = np.array([[-1000.0, 0.0, 1000.0, 999.0], [-800.0, -900.0, -700.0, -1000.0]])
    torch_check(lambda t: tidu.logcumsumexp(t, 1), lambda t: torch.logcumsumexp(t, 1), [x])


def test_argmax_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match="argmax: the argmax of an empty tensor"):
        tidu.argmax(np.zeros((0, 2)))


def test_scans_in_a_compiled_function():
    x = tidu.placeholder((2, 3), "float64", "x")  # known shapes: the ops have no shape rules
    y = tidu.cumprod(x, 1)
    f = tidu.function([x], [y, tidu.argmax(x, 1), tidu.grad(y.sum(), x)])
    a = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, 4.0]])
    out, idx, g = f(a)
    np.testing.assert_array_equal(out, np.cumprod(a, 1))
    np.testing.assert_array_equal(idx, [2, 2])
    np.testing.assert_array_equal(g, [[9.0, 4.0, 2.0], [1.0, 10.0, 0.0]])


# ----- random shapes and axes against torch -----
SCANS = {
    "cumsum": (tidu.cumsum, torch.cumsum),
    "cumprod": (tidu.cumprod, torch.cumprod),
    "logcumsumexp": (tidu.logcumsumexp, torch.logcumsumexp),
    "cummax": (lambda t, a: tidu.cummax(t, a).values, lambda t, a: torch.cummax(t, a).values),
    "prod": (tidu.prod, torch.prod),
    "std": (lambda t, a: tidu.std(t, a, ddof=1), torch.std),
}


@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@settings(max_examples=20, deadline=None)
@given(op=st.sampled_from(sorted(SCANS)), sa=array_and_axis(), seed=st.integers(0, 2**16))
def test_scans_and_reductions_any_shape_and_axis_match_torch(op, sa, seed, torch_check):
    fn, ref = SCANS[op]
    shape, axis = sa
    assume(op != "std" or shape[axis] > 1)  # one sample has no ddof=1 estimate
    n = int(np.prod(shape))
    x = (np.random.default_rng(seed).permutation(n).reshape(shape) - n / 2) * 0.3 + 0.01
    torch_check(lambda t: fn(t, axis), lambda t: ref(t, axis), [x], seed=seed)
