"""Indexing ops (tidu.ops.index): gather/scatter along an axis, index_select/index_add, masks,
one_hot, nonzero and index_put, against PyTorch (float64), central differences and the vjp
rules. Rows use distinct write positions where a repeated write would be ambiguous in
PyTorch; the rows named ``*_last_wins`` spell out tidu's rule (the last write in row-major
order wins, and only it gets a gradient) as a PyTorch expression without repeats."""

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
    missing_from,
    normal,
    table_tests,
)

T = torch.from_numpy
IDX_G = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])  # gather rows of a (3, 4): repeats accumulate
IDX_G1 = np.array([[4, 0, 0], [1, 3, 4]])  # gather along axis 1 of a (2, 5)
IDX_S = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])  # scatter into rows of (3, 4): distinct per column
IDX_REP = np.array([0, 2, 0, 0, 1])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])
LABELS = np.array([3, 0, 2])


def clone_put(index, accumulate=False):
    """PyTorch's out-of-place assignment, the reference for index_put."""
    def ref(a, v):
        out = a.clone()
        if accumulate:
            out[index] += v
        else:
            out[index] = v
        return out
    return ref


OPS = [
    # ----- gather and take_along_axis -----
    case("gather_axis0_repeats", lambda a: tidu.gather(a, 0, IDX_G),
         lambda a: torch.gather(a, 0, T(IDX_G)), normal(3, 4)),
    case("gather_dim_keyword", lambda a: tidu.gather(a, dim=1, index=IDX_G1),
         lambda a: torch.gather(a, 1, T(IDX_G1)), normal(2, 5)),
    case("gather_smaller_index_tensor", lambda a: a.gather(-1, tidu.tensor(IDX_G1[:, :2])),
         lambda a: a.gather(-1, T(IDX_G1[:, :2])), normal(3, 5)),
    case("take_along_axis_1", lambda a: tidu.take_along_axis(a, IDX_G1.T[:, :1], 1),
         lambda a: torch.take_along_dim(a, T(IDX_G1.T[:, :1]), 1), normal(3, 5)),
    case("take_along_axis_broadcast", lambda a: tidu.take_along_axis(a, IDX_G[:1], axis=0),
         lambda a: torch.take_along_dim(a, T(IDX_G[:1]), 0), normal(3, 4)),
    case("take_along_axis_broadcast_input", lambda a: tidu.take_along_axis(a, IDX_G, axis=0),
         lambda a: torch.take_along_dim(a, T(IDX_G), 0), normal(3, 1)),
    case("take_along_axis_none_flat", lambda a: tidu.take_along_axis(a, [5, 0, 5, 11], None),
         lambda a: torch.take_along_dim(a, torch.tensor([5, 0, 5, 11])), normal(3, 4)),
    case("take_along_axis_negative", lambda a: tidu.take_along_axis(a, -1 - IDX_G, dim=0),
         lambda a: torch.take_along_dim(a, T(2 - IDX_G), 0), normal(3, 4)),
    # ----- scatter, scatter_add -----
    case("scatter_distinct", lambda a, s: tidu.scatter(a, 0, IDX_S, s),
         lambda a, s: a.scatter(0, T(IDX_S), s), normal(3, 4), normal(2, 4)),
    case("scatter_src_larger", lambda a, s: a.scatter(dim=1, index=IDX_G1[:, :2], src=s),
         lambda a, s: a.scatter(1, T(IDX_G1[:, :2]), s[:2, :2]), normal(2, 5), normal(3, 4)),
    case("scatter_value", lambda a: tidu.scatter(a, 1, IDX_G1, value=2.5),
         lambda a: a.scatter(1, T(IDX_G1), 2.5), normal(2, 5)),
    case("scatter_last_wins", lambda a, s: tidu.scatter(a, 0, IDX_G, s) * a,
         lambda a, s: a.scatter(0, T(IDX_G[:1]), s[:1]).scatter(0, T(IDX_G[1:]), s[1:]) * a,
         normal(3, 4), normal(2, 4)),
    case("scatter_add_repeats", lambda a, s: tidu.scatter_add(a, 0, IDX_G, s),
         lambda a, s: a.scatter_add(0, T(IDX_G), s), normal(3, 4), normal(2, 4)),
    case("scatter_add_axis1_method", lambda a, s: a.scatter_add(1, IDX_G1, s) * a,
         lambda a, s: a.scatter_add(1, T(IDX_G1), s) * a, normal(2, 5), normal(2, 3)),
    # ----- index_select, index_add -----
    case("index_select_axis1_repeats", lambda a: tidu.index_select(a, 1, [3, 0, 3]),
         lambda a: torch.index_select(a, 1, torch.tensor([3, 0, 3])), normal(2, 4, 2)),
    case("index_select_method_tensor", lambda a: a.index_select(0, tidu.tensor(IDX_REP)),
         lambda a: a.index_select(0, T(IDX_REP)), normal(3, 2)),
    case("index_add_repeats_alpha", lambda a, s: tidu.index_add(a, 0, IDX_REP, s, alpha=2.0),
         lambda a, s: torch.index_add(a, 0, T(IDX_REP), s, alpha=2.0), normal(3, 4),
         normal(5, 4)),
    case("index_add_axis_last", lambda a, s: a.index_add(-1, [1, 0], s) * a,
         lambda a, s: a.index_add(-1, torch.tensor([1, 0]), s) * a, normal(2, 3), normal(2, 2)),
    # ----- masks -----
    case("masked_fill_number", lambda a: tidu.masked_fill(a, MASK, -1.0),
         lambda a: a.masked_fill(T(MASK), -1.0), normal(3, 4)),
    case("masked_fill_tensor_value", lambda a, v: a.masked_fill(MASK[0], v),
         lambda a, v: a.masked_fill(T(MASK[0]), v), normal(3, 4), normal()),
    case("masked_fill_tensor_mask", lambda a: tidu.masked_fill(a, a > 0, 0.0) * a,
         lambda a: a.masked_fill(a > 0, 0.0) * a, away(2, 3)),
    case("masked_select", lambda a: tidu.masked_select(a, MASK),
         lambda a: torch.masked_select(a, T(MASK)), normal(3, 4)),
    case("masked_select_broadcast_x", lambda a: a.masked_select(MASK),
         lambda a: a.masked_select(T(MASK)), normal(4)),
    # ----- integer results: one_hot, nonzero -----
    case("one_hot_times", lambda a: tidu.one_hot(LABELS, 5).to(a.device) * a,
         lambda a: F.one_hot(T(LABELS), 5) * a, normal(3, 5)),
    case("one_hot_inferred", lambda a: tidu.one_hot(tidu.tensor(LABELS)).to(a.device) * a,
         lambda a: F.one_hot(T(LABELS)) * a, normal(4)),
    case("nonzero_as_index", lambda a: a[tuple(tidu.nonzero(a > 0).T)] * 2,
         lambda a: a[tuple(torch.nonzero(a > 0).T)] * 2, away(3, 4)),
    case("nonzero_as_tuple", lambda a: a[a.nonzero(as_tuple=True)],
         lambda a: a[a.nonzero(as_tuple=True)], away(2, 3, 2)),
    # ----- index_put -----
    case("index_put_rows", lambda a, v: tidu.index_put(a, np.array([2, 0]), v),
         lambda a, v: torch.index_put(a, (torch.tensor([2, 0]),), v), normal(3, 4),
         normal(2, 4)),
    case("index_put_slices_broadcast", lambda a, v: a.index_put((slice(None), slice(1, 3)), v),
         clone_put((slice(None), slice(1, 3))), normal(3, 4), normal(2)),
    case("index_put_mask", lambda a, v: tidu.index_put(a, MASK, v),
         lambda a, v: torch.index_put(a, (T(MASK),), v), normal(3, 4), normal(7)),
    case("index_put_mask_0d_value", lambda a, v: tidu.index_put(a, tidu.tensor(MASK), v),
         clone_put(T(MASK)), normal(3, 4), normal()),
    case("index_put_int_ellipsis_none", lambda a, v: tidu.index_put(a, (Ellipsis, None, 1), v),
         clone_put((Ellipsis, None, 1)), normal(2, 3, 4), normal(3, 1)),
    case("index_put_two_arrays", lambda a, v: tidu.index_put(a, ([0, 2, 2], [1, 3, 1]), v),
         clone_put(([0, 2, 2], [1, 3, 1])), normal(3, 4), normal(3)),
    case("index_put_array_and_slice", lambda a, v: tidu.index_put(a, (np.array([2, 0]),
                                                                      slice(1, None)), v),
         clone_put((torch.tensor([2, 0]), slice(1, None))), normal(3, 4), normal(2, 1)),
    case("index_put_leading_ones", lambda a, v: tidu.index_put(a, 1, v),
         clone_put(1), normal(3, 4), normal(1, 1, 4)),
    case("index_put_negative_step", lambda a, v: tidu.index_put(a, (slice(None, None, -2),), v),
         lambda a, v: torch.index_put(a, (torch.tensor([2, 0]),), v), normal(3, 4),
         normal(2, 4)),
    case("index_put_last_wins", lambda a, v: tidu.index_put(a, [0, 2, 0], v) * a,
         lambda a, v: torch.index_put(a, (torch.tensor([2, 0]),), v[1:]) * a, normal(3, 4),
         normal(3, 4)),
    case("index_put_accumulate_repeats", lambda a, v: tidu.index_put(a, IDX_REP, v, True),
         lambda a, v: torch.index_put(a, (T(IDX_REP),), v, accumulate=True), normal(3, 4),
         normal(5, 4)),
    case("index_put_accumulate_broadcast",
         lambda a, v: tidu.index_put(a, (IDX_REP, slice(None)), v, accumulate=True) * a,
         lambda a, v: torch.index_put(a, (T(IDX_REP),), v.expand(5, 4), accumulate=True) * a,
         normal(3, 4), normal(4)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row():
    assert not missing_from(OPS, tidu.ops.index)


# ----- index_put: every index kind x[index] takes, against NumPy's assignment -----
@st.composite
def shape_and_index(draw):
    """A shape and an index of ints, slices (any step), one integer array of distinct
    positions or one mask, None and Ellipsis: no position is written twice."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    items, advanced = [], False
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "array", "mask"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            items.append(slice(draw(st.integers(-n, n)), draw(st.integers(-n - 1, n)),
                               draw(st.sampled_from([1, 2, -1, -2]))))
        elif kind == "array" and not advanced:
            perm = draw(st.permutations(range(n)))
            items.append(np.array(perm[:draw(st.integers(1, n))]))
            advanced = True
        elif kind == "mask" and not advanced:
            items.append(draw(hnp.arrays(bool, n)))
            advanced = True
        else:
            items.append(slice(None))
    cut = draw(st.integers(0, len(items)))
    if draw(st.booleans()):  # an Ellipsis standing for the axes from ``cut`` on
        items = items[:cut] + [Ellipsis]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    return shape, tuple(items)


def _expected_put(x, index, v, g, accumulate):
    """NumPy's x[index] = v (or +=), and its gradients for the output gradient g."""
    out = x.copy()
    if accumulate:
        np.add.at(out, index, v)
    else:
        out[index] = v
    gx = g.copy()
    if not accumulate:
        gx[index] = 0
    gv = g[index]
    lead = gv.ndim - v.ndim
    gv = gv.sum(axis=tuple(range(lead)))
    gv = gv.sum(axis=tuple(i for i, n in enumerate(v.shape) if n == 1), keepdims=True)
    return out, gx, gv


@settings(max_examples=25, deadline=None)
@given(si=shape_and_index(), seed=st.integers(0, 2**16), accumulate=st.booleans(),
       broadcast=st.booleans())
def test_index_put_takes_every_index_kind(si, seed, accumulate, broadcast):
    shape, index = si
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(shape)
    target = x0[index].shape
    vshape = tuple(1 if broadcast and i % 2 else n for i, n in enumerate(target))
    v0, g = rng.standard_normal(vshape[1:] if broadcast else vshape), rng.standard_normal(shape)
    want, gx_want, gv_want = _expected_put(x0, index, v0, g, accumulate)
    for create_graph in (False, True):
        x, v = tidu.tensor(x0, requires_grad=True), tidu.tensor(v0, requires_grad=True)
        out = tidu.index_put(x, index, v, accumulate=accumulate)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
        gx, gv = tidu.grad(out, [x, v], g, create_graph=create_graph)
        np.testing.assert_allclose(gx.numpy(), gx_want, rtol=1e-12)
        np.testing.assert_allclose(gv.numpy(), gv_want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x.numpy(), x0)  # functional: x itself is left alone


def test_index_put_repeated_writes_last_wins_and_only_it_gets_a_gradient():
    x = tidu.tensor(np.zeros((2, 3)), requires_grad=True)
    v = tidu.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    out = tidu.index_put(x, ([0, 1, 0, 0], [2, 1, 2, 0]), v)  # (0, 2) twice: v[2] wins
    np.testing.assert_array_equal(out.numpy(), [[4.0, 0.0, 3.0], [0.0, 2.0, 0.0]])
    (out * np.arange(1.0, 7.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 5.0, 3.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]])
    tidu.gradcheck(lambda a, b: tidu.index_put(a, ([0, 1, 0, 0], [2, 1, 2, 0]), b),
                   [np.ones((2, 3)), np.arange(4.0)])


def test_index_put_accumulate_adds_repeated_writes():
    x = tidu.tensor(np.ones(4), requires_grad=True)
    v = tidu.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = tidu.index_put(x, tidu.tensor(np.array([3, 3, 0])), v, accumulate=True)
    np.testing.assert_array_equal(out.numpy(), [4.0, 1.0, 1.0, 4.0])
    (out * np.arange(4.0)).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [3.0, 3.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(4.0))
    w = tidu.tensor(np.zeros(3), requires_grad=True)  # a broadcast value, repeated
    tidu.index_put(tidu.zeros(3), [1, 1, 2], w[:1] * 1, accumulate=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 0.0, 0.0])


def test_scatter_repeated_writes_last_wins():
    out = tidu.scatter(tidu.zeros(2, 2), 0, [[1, 0], [1, 0]], tidu.tensor([[1., 2.], [3., 4.]]))
    np.testing.assert_array_equal(out.numpy(), [[0.0, 4.0], [3.0, 0.0]])


# ----- gather, scatter_add and take_along_axis on random shapes -----
@st.composite
def gather_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = tuple(draw(st.integers(1, 4)) if d == axis % len(shape) else
                   draw(st.integers(1, n)) for d, n in enumerate(shape))
    return shape, axis, ishape


@settings(max_examples=20, deadline=None)
@given(gc=gather_case(), seed=st.integers(0, 2**16))
def test_gather_and_scatter_add_random_shapes(gc, seed, torch_check):
    shape, axis, ishape = gc
    rng = np.random.default_rng(seed)
    index = rng.integers(0, shape[axis], ishape)
    ti = T(index)
    x0, s0 = rng.standard_normal(shape), rng.standard_normal(ishape)
    torch_check(lambda a: tidu.gather(a, axis, index), lambda a: a.gather(axis, ti), [x0])
    torch_check(lambda a, s: tidu.scatter_add(a, axis, index, s),
                lambda a, s: a.scatter_add(axis, ti, s), [x0, s0])
    ashape = tuple(m if d == axis % len(shape) else rng.choice([1, n])
                   for d, (m, n) in enumerate(zip(ishape, shape)))
    along = rng.integers(-shape[axis], shape[axis], ashape)
    got = tidu.take_along_axis(tidu.tensor(x0), along, axis)
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(x0, along, axis))


# ----- dtypes, no gradients for integer results -----
def test_integer_results_and_dtypes():
    h = tidu.one_hot(np.array([[1, 0], [2, 1]]), 3)
    assert h.dtype == np.int64 and h.shape == (2, 2, 3) and not h.requires_grad
    x = tidu.tensor(np.array([[0.0, 1.5], [2.0, 0.0]]), requires_grad=True)
    nz = tidu.nonzero(x)
    assert nz.dtype == np.int64 and not nz.requires_grad
    np.testing.assert_array_equal(nz.numpy(), [[0, 1], [1, 0]])
    rows, cols = x.nonzero(as_tuple=True)
    np.testing.assert_array_equal(rows.numpy(), [0, 1])
    assert tidu.nonzero(tidu.tensor(3.0)).shape == (1, 0)  # as torch: a 0-d input
    assert [t.numpy().tolist() for t in tidu.nonzero(tidu.tensor(3.0), as_tuple=True)] == [[0]]
    f = tidu.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = tidu.gather(f, 1, [[0], [2]]) + tidu.index_put(f, 0, np.float64(2.0))[:, :1]
    assert y.dtype == np.float32
    y.sum().backward()
    assert f.grad.dtype == np.float32
    i = tidu.scatter_add(tidu.tensor(np.zeros(3, np.int64)), 0, [1, 1], tidu.tensor([2, 3]))
    assert i.dtype == np.int64 and i.numpy().tolist() == [0, 5, 0]
    m = tidu.masked_fill(tidu.tensor(np.arange(3)), [True, False, False], 7)
    assert m.dtype == np.int64 and m.numpy().tolist() == [7, 1, 2]


def test_masked_fill_value_tensor_of_another_dtype_keeps_x_dtype():
    x = tidu.tensor(np.ones(3, np.float32))
    v = tidu.tensor(np.float64(2.0), requires_grad=True)
    out = tidu.masked_fill(x, [True, True, False], v)
    assert out.dtype == np.float32
    out.sum().backward()
    assert float(v.grad) == 2.0 and v.grad.dtype == np.float64


# ----- errors name the op, the argument, the range and the shapes -----
@pytest.mark.parametrize("call, error, match", [
    (lambda x: tidu.gather(x, 0, [[3, 0, 0, 0]]), IndexError,
     r"gather: index 3 is out of range for axis 0 of length 3 \(valid: 0 to 2\); index of "
     r"shape \(1, 4\), input of shape \(3, 4\)"),
    (lambda x: tidu.gather(x, 1, [[-1]]), IndexError, "valid: 0 to 3"),
    (lambda x: tidu.gather(x, 0, [0, 1]), tidu.ShapeError, "needs as many axes"),
    (lambda x: tidu.gather(x, 1, [[0]] * 4), tidu.ShapeError, "longer than the input"),
    (lambda x: tidu.gather(x, 0, [[0.5]]), TypeError, "index must hold integers, got float64"),
    (lambda x: tidu.gather(x, 2, [[0]]), tidu.ShapeError, "axis 2 is out of range"),
    (lambda x: tidu.gather(x, 0, dim=0, index=[[0]]), TypeError, "both axis=0 and dim=0"),
    (lambda x: tidu.gather(x, index=[[0]]), TypeError, "missing the axis"),
    (lambda x: tidu.gather(x, 0), TypeError, "missing the index"),
    (lambda x: tidu.take_along_axis(x, [[5]], 1), IndexError, r"valid: -4 to 3"),
    (lambda x: tidu.take_along_axis(x, [[0, 1]] * 2, 1), tidu.ShapeError, "does not broadcast"),
    (lambda x: tidu.scatter(x, 0, [[0]]), TypeError, "exactly one of src"),
    (lambda x: tidu.scatter(x, 0, [[0, 1]], x[:1, :1]), tidu.ShapeError,
     r"src of shape \(1, 1\) must .*\(index of shape \(1, 2\)\)"),
    (lambda x: tidu.scatter_add(x, 1, [[4]], x), IndexError, "scatter_add: index 4"),
    (lambda x: tidu.index_select(x, 0, [[0]]), tidu.ShapeError, "index must be 1-D"),
    (lambda x: tidu.index_select(x, 0, [-1]), IndexError,
     r"index_select: index -1 .*\(valid: 0 to 2\)"),
    (lambda x: tidu.index_add(x, 1, [0], x), tidu.ShapeError,
     r"source must have shape \(3, 1\) .* got \(3, 4\)"),
    (lambda x: tidu.masked_fill(x, [1, 0, 1, 0], 0.0), TypeError, "mask must be boolean, got"),
    (lambda x: tidu.masked_fill(x, np.ones((2, 3, 4), bool), 0.0), tidu.ShapeError,
     "does not broadcast to x's shape"),
    (lambda x: tidu.masked_fill(x, x > 0, x), tidu.ShapeError, "a number or a 0-d tensor"),
    (lambda x: tidu.masked_select(x, np.ones(3, bool)), tidu.ShapeError, "does not broadcast"),
    (lambda x: tidu.one_hot([0, 4, 1], 3), IndexError,
     r"one_hot: label 4 is out of range .* \(valid: 0 to 2\); label of shape \(3,\)"),
    (lambda x: tidu.one_hot([-1, 0]), IndexError, "label -1 is out of range"),
    (lambda x: tidu.one_hot([0.0, 1.0], 2), TypeError, "labels must be integers"),
    (lambda x: tidu.one_hot([0], 0), ValueError, "num_classes must be a positive int or -1"),
    (lambda x: tidu.one_hot(np.zeros(0, int)), IndexError, "cannot infer num_classes"),
    (lambda x: tidu.index_put(x, 3, 1.0), IndexError,
     r"index_put: index 3 is out of range for axis 0 of length 3 \(valid: -3 to 2\); input of "
     r"shape \(3, 4\)"),
    (lambda x: tidu.index_put(x, (Ellipsis, None, [0, 4]), 1.0), IndexError,
     r"index 4 is out of range for axis 1 of length 4 \(valid: -4 to 3\); index of shape \(2,\)"),
    (lambda x: tidu.index_put(x, np.ones(2, bool), 1.0), IndexError,
     r"index_put: boolean index did not match .* \(input of shape \(3, 4\), index \[bool array "
     r"of shape \(2,\)\]\)"),
    (lambda x: tidu.index_put(x, (slice(None), [0, 1]), np.ones(3)), tidu.ShapeError,
     r"values of shape \(3,\) do not broadcast to the shape \(3, 2\) of x\[index\]"),
    (lambda x: tidu.index_put(x, [0.5], 1.0), TypeError, "integers or booleans, got float64"),
    (lambda x: tidu.index_put(x, "a", 1.0), TypeError, "an index is made of ints"),
])
def test_errors(call, error, match):
    x = tidu.tensor(np.zeros((3, 4)))
    with pytest.raises(error, match=match):
        call(x)


# ----- symbolic graphs and second derivatives -----
def test_symbolic_indices_are_graph_values():
    x, i = tidu.dmatrix("x"), tidu.lvector("i")
    j = tidu.placeholder((None, None), "int64", name="j")
    w = tidu.shared(np.arange(6.0).reshape(3, 2), name="w")
    rows = tidu.index_select(w, 0, i)
    picked = tidu.gather(w, 1, j)
    put = tidu.index_put(w, i, x)
    cost = (rows * x).sum() + (picked * picked).sum() + (put * put).sum()
    (g,) = tidu.grad(cost, [w])
    f = tidu.function([x, i, j], [rows, picked, put, g])
    xv, iv, jv = np.ones((2, 2)), np.array([2, 0]), np.array([[1], [0], [1]])
    w0 = np.arange(6.0).reshape(3, 2)
    rows_v, picked_v, put_v, g_v = f(xv, iv, jv)
    np.testing.assert_array_equal(rows_v, w0[[2, 0]])
    np.testing.assert_array_equal(picked_v, np.take_along_axis(w0, jv, 1))
    want_put = w0.copy()
    want_put[iv] = xv
    np.testing.assert_array_equal(put_v, want_put)
    tw = torch.tensor(w0, requires_grad=True)
    tput = torch.index_put(tw, (T(iv),), T(xv))
    tcost = (tw[T(iv)] * T(xv)).sum() + (tw.gather(1, T(jv)) ** 2).sum() + (tput ** 2).sum()
    tcost.backward()
    np.testing.assert_allclose(g_v, tw.grad.numpy())
    with pytest.raises(IndexError, match="index 3 is out of"):
        f(xv, np.array([3, 0]), jv)


@pytest.mark.parametrize("fn, ref", [
    (lambda a, v: (tidu.gather(a, 0, IDX_G) ** 3).sum() + tidu.scatter_add(a, 0, IDX_G, v) ** 3,
     lambda a, v: (a.gather(0, T(IDX_G)) ** 3).sum() + a.scatter_add(0, T(IDX_G), v[:2]) ** 3),
    (lambda a, v: tidu.index_put(a, [0, 2, 0], v[:3]) ** 3,
     lambda a, v: torch.index_put(a, (torch.tensor([2, 0]),), v[1:]) ** 3),
    (lambda a, v: tidu.masked_fill(a, MASK, 1.0) * tidu.masked_select(v, MASK[1]).sum() ** 2,
     lambda a, v: a.masked_fill(T(MASK), 1.0) * torch.masked_select(v, T(MASK[1])).sum() ** 2),
])
def test_second_derivatives_match_torch(fn, ref):
    rng = np.random.default_rng(0)
    a0, v0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a, v = tidu.tensor(a0, requires_grad=True), tidu.tensor(v0, requires_grad=True)
    ta, tv = torch.tensor(a0, requires_grad=True), torch.tensor(v0, requires_grad=True)
    d = tidu.grad(fn(a, v).sum(), [a, v], create_graph=True)
    td = torch.autograd.grad(ref(ta, tv).sum(), [ta, tv], create_graph=True)
    dd = tidu.grad(sum((x * x).sum() for x in d), [a, v])
    tdd = torch.autograd.grad(sum((x * x).sum() for x in td), [ta, tv])
    for got, want in zip(dd, tdd):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
