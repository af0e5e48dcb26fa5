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

import tidu
from _optable import (
    away,
    case,
    check_gradcheck,
    check_torch,
    check_vjp,
    missing_from,
    normal,
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
    case("one_hot_times", lambda a: tidu.one_hot(LABELS, 5) * a,
         lambda a: F.one_hot(T(LABELS), 5) * a, normal(3, 5)),
    case("one_hot_inferred", lambda a: tidu.one_hot(tidu.tensor(LABELS)) * a,
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


@pytest.mark.parametrize("c", OPS)
def test_matches_torch(c, torch_check):
    check_torch(c, torch_check)


@pytest.mark.parametrize("c", OPS)
def test_gradcheck(c):
    check_gradcheck(c)


@pytest.mark.parametrize("c", OPS)
def test_vjp(c):
    check_vjp(c)


def test_every_public_name_has_a_row():
    assert not missing_from(OPS, tidu.ops.index)
