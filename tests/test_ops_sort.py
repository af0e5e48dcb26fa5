"""tidu.ops.sort against PyTorch: sort, argsort, topk, kthvalue, median and quantile, their
values and the gradients scattered back to the chosen elements (distinct inputs, so that no
tie decides a gradient), their int64 indices, and the tie and NaN conventions."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tidu
from _optable import (
    case,
    distinct,
    functions_of,
    missing_from,
    table_tests,
)

SORT = importlib.import_module("tidu.ops.sort")  # tidu.ops.sort is also the function's name


def ints(*shape):
    return ("ints", shape)


def Q(*q):
    return torch.tensor(q, dtype=torch.float64)


OPS = [
    case("sort_values", lambda a: tidu.sort(a).values, lambda a: torch.sort(a).values,
         distinct(3, 4)),
    case("sort_axis0_descending", lambda a: tidu.sort(a, 0, descending=True)[0],
         lambda a: torch.sort(a, 0, descending=True)[0], distinct(3, 4)),
    case("sort_method_3d", lambda a: a.sort(1).values, lambda a: a.sort(1).values,
         distinct(2, 3, 4)),
    case("sort_indices", lambda a: tidu.sort(a, -1).indices.double(),
         lambda a: torch.sort(a, -1).indices.double(), distinct(3, 4)),
    case("argsort", lambda a: tidu.argsort(a, 0).double(),
         lambda a: torch.argsort(a, 0).double(), distinct(4, 3)),
    case("argsort_descending_method", lambda a: a.argsort(descending=True).double(),
         lambda a: a.argsort(descending=True).double(), distinct(2, 5)),
    case("topk", lambda a: tidu.topk(a, 2).values, lambda a: torch.topk(a, 2).values,
         distinct(3, 5)),
    case("topk_smallest_axis0", lambda a: tidu.topk(a, 3, axis=0, largest=False).values,
         lambda a: torch.topk(a, 3, dim=0, largest=False).values, distinct(4, 2)),
    case("topk_indices_method", lambda a: a.topk(2, sorted=False).indices.double(),
         lambda a: a.topk(2).indices.double(), distinct(3, 4)),
    case("kthvalue", lambda a: tidu.kthvalue(a, 2).values,
         lambda a: torch.kthvalue(a, 2).values, distinct(3, 4)),
    case("kthvalue_axis0_keepdims", lambda a: a.kthvalue(3, 0, keepdims=True).values,
         lambda a: a.kthvalue(3, 0, keepdim=True).values, distinct(4, 3)),
    case("kthvalue_indices", lambda a: tidu.kthvalue(a, 1, 1).indices.double(),
         lambda a: torch.kthvalue(a, 1, 1).indices.double(), distinct(3, 4)),
    case("median_all_even", lambda a: tidu.median(a), lambda a: torch.median(a),
         distinct(2, 3)),
    case("median_all_odd", lambda a: a.median(), lambda a: a.median(), distinct(5)),
    case("median_axis_even", lambda a: tidu.median(a, 1).values,
         lambda a: torch.median(a, 1).values, distinct(3, 4)),
    case("median_axis0_keepdims", lambda a: tidu.median(a, 0, keepdims=True).values,
         lambda a: torch.median(a, 0, keepdim=True).values, distinct(3, 4)),
    case("median_indices", lambda a: tidu.median(a, -1).indices.double(),
         lambda a: torch.median(a, -1).indices.double(), distinct(2, 5)),
    case("quantile_all", lambda a: tidu.quantile(a, 0.3), lambda a: torch.quantile(a, 0.3),
         distinct(3, 4)),
    case("quantile_list", lambda a: tidu.quantile(a, [0.0, 0.25, 0.5, 0.9, 1.0]),
         lambda a: torch.quantile(a, Q(0.0, 0.25, 0.5, 0.9, 1.0)), distinct(7)),
    case("quantile_axis", lambda a: a.quantile(0.6, axis=1),
         lambda a: a.quantile(0.6, dim=1), distinct(3, 5)),
    case("quantile_list_axis_keepdims", lambda a: tidu.quantile(a, [0.2, 0.7], 1, True),
         lambda a: torch.quantile(a, Q(0.2, 0.7), 1, True), distinct(2, 3, 4)),
    case("quantile_list_axis0", lambda a: tidu.quantile(a, [0.2, 0.7], 0),
         lambda a: torch.quantile(a, Q(0.2, 0.7), 0), distinct(4, 3)),
    case("quantile_all_keepdims", lambda a: tidu.quantile(a, [0.4], keepdims=True),
         lambda a: torch.quantile(a, Q(0.4), keepdim=True), distinct(2, 3)),
    case("quantile_scalar_all_keepdims", lambda a: tidu.quantile(a, 0.4, keepdims=True),
         lambda a: torch.quantile(a, 0.4, keepdim=True), distinct(2, 3)),
]
for _mode in ("lower", "higher", "midpoint", "nearest"):
    OPS.append(case(
        f"quantile_{_mode}",
        lambda a, m=_mode: tidu.quantile(a, [0.1, 0.5, 0.75], axis=1, interpolation=m),
        lambda a, m=_mode: torch.quantile(a, Q(0.1, 0.5, 0.75), dim=1, interpolation=m),
        distinct(2, 5),
    ))


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row_and_every_function_a_vjp():
    assert not missing_from(OPS, SORT)
    assert all(callable(getattr(f, "vjp", None)) for f in functions_of(SORT))


# ----- dtypes, ties, NaN, errors -----
def test_indices_are_int64_outside_the_graph():
    x = tidu.tensor(np.array([[3.0, 1.0, 2.0]]), requires_grad=True)
    for pair in (tidu.sort(x), tidu.topk(x, 2), tidu.kthvalue(x, 1), tidu.median(x, 1)):
        values, indices = pair
        assert values.requires_grad and values.dtype == np.float64
        assert indices.dtype == np.int64 and not indices.requires_grad
        assert pair.values is values and pair.indices is indices
    assert tidu.argsort(x).dtype == np.int64


def test_ties_keep_their_order_like_torchs_stable_sort():
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]])
    t = torch.tensor(x)
    for desc in (False, True):
        got = tidu.sort(x, descending=desc)
        want = torch.sort(t, descending=desc, stable=True)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
        np.testing.assert_array_equal(tidu.argsort(x, descending=desc).numpy(),
                                      want.indices.numpy())


def test_tied_values_send_their_gradient_to_the_element_they_came_from():
    x = tidu.tensor(np.array([1.0, 2.0, 1.0, 2.0]), requires_grad=True)
    values, indices = tidu.sort(x)
    (values * tidu.tensor(np.array([1.0, 10.0, 100.0, 1000.0]))).sum().backward()
    np.testing.assert_array_equal(indices.numpy(), [0, 2, 1, 3])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 100.0, 10.0, 1000.0])


def test_median_of_an_even_count_is_the_lower_middle_value(torch_check):
    x = np.array([4.0, 1.0, 3.0, 2.0])
    assert float(tidu.median(x)) == 2.0
    torch_check(tidu.median, torch.median, [x])  # the gradient goes to x[3] only


def test_median_and_quantile_of_data_with_nan_are_nan():
    x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
    t = torch.tensor(x)
    np.testing.assert_array_equal(tidu.median(x, 1).values.numpy(), torch.median(t, 1).values)
    np.testing.assert_array_equal(tidu.median(x, 1).indices.numpy(), torch.median(t, 1).indices)
    assert np.isnan(float(tidu.median(x)))
    np.testing.assert_array_equal(tidu.quantile(x, [0.1, 0.5], 1).numpy(),
                                  torch.quantile(t, Q(0.1, 0.5), 1).numpy())


def test_nan_sorts_as_the_largest_value():
    x = np.array([1.0, np.nan, 3.0, 2.0])
    for desc in (False, True):
        got, want = tidu.sort(x, descending=desc), torch.sort(torch.tensor(x), descending=desc)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_integer_tensors_sort_and_keep_their_dtype():
    x = tidu.tensor(np.array([3, 1, 2], dtype=np.int32))
    assert tidu.sort(x).values.dtype == np.int32
    assert tidu.sort(x, descending=True).values.tolist() == [3, 2, 1]
    assert tidu.topk(x, 1).values.tolist() == [3]


def test_argument_errors_name_the_op():
    x = tidu.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"topk: k must be an int in \[0, 3\]"):
        tidu.topk(x, 4)
    with pytest.raises(ValueError, match=r"kthvalue: k must be an int in \[1, 2\]"):
        tidu.kthvalue(x, 0, axis=0)
    with pytest.raises(ValueError, match=r"quantile: q must be a float in \[0, 1\]"):
        tidu.quantile(x, 1.5)
    with pytest.raises(ValueError, match="quantile: interpolation must be one of"):
        tidu.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(tidu.ShapeError, match="sort: axis 2 is out of range"):
        tidu.sort(x, 2)
    with pytest.raises(ValueError, match="median of an empty tensor"):
        tidu.median(np.zeros(0))


def test_second_derivatives_through_sort_and_quantile():
    x = tidu.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = (tidu.sort(x).values ** 3 * tidu.tensor([1.0, 2.0, 3.0])).sum()
    (g,) = tidu.grad(y, [x], create_graph=True)
    (h,) = tidu.grad(g.sum(), [x])
    t = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tg, = torch.autograd.grad((torch.sort(t).values ** 3 * Q(1, 2, 3)).sum(), t,
                              create_graph=True)
    np.testing.assert_allclose(h.numpy(), torch.autograd.grad(tg.sum(), t)[0].numpy())


def test_sort_in_a_compiled_function():
    x = tidu.placeholder((2, 3), "float64", "x")
    values = tidu.sort(x, 1).values
    f = tidu.function([x], [values, tidu.grad((values * np.arange(3.0)).sum(), x)])
    a = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    v, g = f(a)
    np.testing.assert_array_equal(v, np.sort(a, 1))
    np.testing.assert_array_equal(g, [[2.0, 0.0, 1.0], [1.0, 2.0, 0.0]])


# ----- random shapes and axes against torch -----
@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@settings(max_examples=20, deadline=None)
@given(sa=array_and_axis(), descending=st.booleans(), seed=st.integers(0, 2**16))
def test_sort_any_shape_and_axis_matches_torch(sa, descending, seed, torch_check):
    shape, axis = sa
    n = int(np.prod(shape))
    x = np.random.default_rng(seed).permutation(n).reshape(shape) * 0.5  # distinct
    torch_check(lambda t: tidu.sort(t, axis, descending).values,
                lambda t: torch.sort(t, axis, descending).values, [x], seed=seed)
    k = (shape[axis] + 1) // 2
    torch_check(lambda t: tidu.topk(t, k, axis).values, lambda t: torch.topk(t, k, axis).values,
                [x], seed=seed)
    torch_check(lambda t: tidu.median(t, axis).values, lambda t: torch.median(t, axis).values,
                [x], seed=seed)
