"""Every primitive, driven by one table: forward values and gradients against PyTorch autograd
(float64), and tidu.gradcheck (central differences in float64) on the same inputs.

Inputs stay away from kinks (|x| >= 0.2 for abs/relu, distinct values for max/min, values
off the clip bounds) except in the explicit tie tests at the end.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tidu
from _optable import (
    Case,
    away,
    case,
    check_gradcheck,
    check_torch,
    distinct,
    normal,
    pos,
    seeds,
)

MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])
COND = np.array([True, False, True, False])
IDX_REP = np.array([0, 2, 0, 0, 1])  # repeated indices: gradients must accumulate
T = torch

OPS = [
    # ----- binary arithmetic with broadcasting -----
    case("add", lambda a, b: a + b, None, normal(3, 4), normal(4)),
    case("add_n1_1m", lambda a, b: tidu.add(a, b), lambda a, b: a + b, normal(3, 1), normal(1, 4)),
    case("add_scalar_shape", lambda a, b: a + b, None, normal(), normal(2, 3)),
    case("sub", lambda a, b: a - b, None, normal(2, 3, 1), normal(3, 4)),
    case("rsub_python", lambda a: 2 - a, None, normal(3)),
    case("mul", lambda a, b: a * b, None, normal(3, 1), normal(1, 4)),
    case("mul_leading", lambda a, b: tidu.mul(a, b), lambda a, b: a * b, normal(2, 3, 4),
         normal(4)),
    case("div", lambda a, b: a / b, None, normal(3, 4), pos(3, 1)),
    case("div_neg_denominator", lambda a, b: tidu.div(a, b), lambda a, b: a / b, normal(4),
         away(2, 4)),
    case("rdiv_python", lambda a: 1 / a, None, pos(5)),
    case("neg", lambda a: -a, None, normal(2, 3)),
    case("neg_fn", lambda a: tidu.neg(a), lambda a: torch.neg(a), normal(4)),
    case("pow_tensor_exponent", lambda a, b: a**b, None, pos(3, 4), normal(4)),
    case("pow_fn", lambda a, b: tidu.pow(a, b), lambda a, b: torch.pow(a, b), pos(2, 1), away(3)),
    case("pow_scalar_int", lambda a: a**3, None, normal(3, 4)),
    case("pow_scalar_neg_frac", lambda a: a**-0.5, None, pos(5)),
    case("pow_scalar_frac", lambda a: a**2.5, None, pos(2, 2)),
    case("rpow_python", lambda a: 2**a, None, normal(4)),
    # ----- element-wise math -----
    case("exp", lambda a: tidu.exp(a), lambda a: torch.exp(a), normal(3, 4)),
    case("exp_method", lambda a: a.exp(), None, normal(5)),
    case("log", lambda a: tidu.log(a), lambda a: torch.log(a), pos(3, 4)),
    case("sqrt", lambda a: tidu.sqrt(a), lambda a: torch.sqrt(a), pos(3, 4)),
    case("abs", lambda a: tidu.abs(a), lambda a: torch.abs(a), away(3, 4)),
    case("abs_builtin", lambda a: abs(a), None, away(6)),
    case("maximum", lambda a, b: tidu.maximum(a, b), lambda a, b: torch.maximum(a, b),
         normal(3, 4), normal(4)),
    case("minimum", lambda a, b: tidu.minimum(a, b), lambda a, b: torch.minimum(a, b),
         normal(3, 1), normal(1, 4)),
    case("where", lambda a, b: tidu.where(COND, a, b),
         lambda a, b: torch.where(torch.from_numpy(COND), a, b), normal(3, 4), normal(4)),
    case("where_tensor_cond", lambda a, b: tidu.where(a > 0, a, b),
         lambda a, b: torch.where(a > 0, a, b), away(3, 4), normal(3, 1)),
    case("clip", lambda a: tidu.clip(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7),
         away(4, 5)),
    case("clip_lo_only", lambda a: a.clip(0.1), lambda a: torch.clamp(a, min=0.1), away(6)),
    case("clip_hi_only", lambda a: tidu.clip(a, None, 0.1), lambda a: torch.clamp(a, max=0.1),
         away(6)),
    case("sign_zero_grad", lambda a: tidu.sign(a) * a, lambda a: torch.sign(a) * a, away(5)),
    case("sign", lambda a: tidu.sign(a), lambda a: torch.sign(a), away(2, 3)),
    # ----- activations -----
    case("sigmoid", lambda a: tidu.sigmoid(a), lambda a: torch.sigmoid(a), normal(3, 4)),
    case("sigmoid_wide", lambda a: (a * 8).sigmoid(), lambda a: (a * 8).sigmoid(), normal(10)),
    case("tanh", lambda a: tidu.tanh(a), lambda a: torch.tanh(a), normal(3, 4)),
    case("relu", lambda a: tidu.relu(a), lambda a: torch.relu(a), away(3, 4)),
    case("leaky_relu", lambda a: tidu.leaky_relu(a), lambda a: F.leaky_relu(a), away(3, 4)),
    case("leaky_relu_alpha", lambda a: tidu.leaky_relu(a, 0.2), lambda a: F.leaky_relu(a, 0.2),
         away(8)),
    # ----- matrix products -----
    case("matmul_1d_1d", lambda a, b: a @ b, None, normal(4), normal(4)),
    case("matmul_1d_2d", lambda a, b: a @ b, None, normal(4), normal(4, 3)),
    case("matmul_2d_1d", lambda a, b: a @ b, None, normal(3, 4), normal(4)),
    case("matmul_2d_2d", lambda a, b: tidu.matmul(a, b), lambda a, b: a @ b, normal(3, 4),
         normal(4, 2)),
    case("matmul_batched", lambda a, b: a @ b, None, normal(2, 3, 4), normal(2, 4, 5)),
    case("matmul_batch_broadcast", lambda a, b: a @ b, None, normal(2, 1, 3, 4),
         normal(5, 4, 2)),
    case("matmul_batch_2d", lambda a, b: a @ b, None, normal(2, 3, 4), normal(4, 2)),
    case("matmul_2d_batch", lambda a, b: a @ b, None, normal(3, 4), normal(2, 4, 2)),
    case("matmul_batch_1d", lambda a, b: a @ b, None, normal(2, 3, 4), normal(4)),
    case("matmul_1d_batch", lambda a, b: a @ b, None, normal(4), normal(2, 4, 3)),
    case("dot_1d", lambda a, b: tidu.dot(a, b), lambda a, b: torch.dot(a, b), normal(5),
         normal(5)),
    case("dot_2d", lambda a, b: a.dot(b), lambda a, b: a @ b, normal(2, 3), normal(3, 4)),
    # ----- shape operations -----
    case("reshape", lambda a: a.reshape(4, 6), None, normal(2, 3, 4)),
    case("reshape_tuple_infer", lambda a: tidu.reshape(a, (3, -1)),
         lambda a: a.reshape(3, -1), normal(2, 3, 4)),
    case("flatten", lambda a: tidu.flatten(a), lambda a: a.flatten(), normal(2, 3, 4)),
    case("flatten_batch", lambda a: tidu.flatten(a, 1), lambda a: a.flatten(1), normal(2, 3, 4)),
    case("transpose_reverse", lambda a: a.transpose(), lambda a: a.permute(2, 1, 0),
         normal(2, 3, 4)),
    case("transpose_T", lambda a: a.T, None, normal(3, 4)),
    case("transpose_swap", lambda a: tidu.transpose(a, 0, 2), lambda a: a.transpose(0, 2),
         normal(2, 3, 4)),
    case("transpose_swap_negative", lambda a: a.transpose(1, -1), None, normal(2, 3, 4, 5)),
    case("transpose_permutation", lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1),
         normal(2, 3, 4)),
    case("permute", lambda a: tidu.permute(a, 1, -1, 0), lambda a: a.permute(1, 2, 0),
         normal(2, 3, 4)),
    case("permute_tuple", lambda a: a.permute((3, 1, 0, 2)), lambda a: a.permute(3, 1, 0, 2),
         normal(2, 3, 4, 5)),
    case("broadcast_to", lambda a: tidu.broadcast_to(a, (2, 3, 4)),
         lambda a: a.broadcast_to((2, 3, 4)), normal(3, 1)),
    case("broadcast_to_scalar", lambda a: a.broadcast_to((2, 3)),
         lambda a: a.broadcast_to((2, 3)), normal()),
    case("squeeze_all", lambda a: tidu.squeeze(a), lambda a: a.squeeze(), normal(1, 3, 1, 4)),
    case("squeeze_axis", lambda a: a.squeeze(-2), lambda a: a.squeeze(-2), normal(1, 3, 1, 4)),
    case("squeeze_tuple", lambda a: a.squeeze((0, 2)), lambda a: a.squeeze((0, 2)),
         normal(1, 3, 1, 4)),
    case("unsqueeze", lambda a: tidu.unsqueeze(a, 0), lambda a: a.unsqueeze(0), normal(3, 4)),
    case("unsqueeze_negative", lambda a: a.unsqueeze(-1), None, normal(3, 4)),
    case("unsqueeze_middle", lambda a: a.unsqueeze(1), None, normal(3, 4)),
    case("concatenate_0", lambda a, b, c: tidu.concatenate([a, b, c]),
         lambda a, b, c: torch.cat([a, b, c]), normal(2, 3), normal(1, 3), normal(4, 3)),
    case("concatenate_neg", lambda a, b: tidu.cat([a, b], axis=-1),
         lambda a, b: torch.cat([a, b], -1), normal(2, 3, 1), normal(2, 3, 2)),
    case("concatenate_same_tensor", lambda a: tidu.concatenate([a, a * 2], axis=1),
         lambda a: torch.cat([a, a * 2], 1), normal(2, 2)),
    case("stack_0", lambda a, b: tidu.stack([a, b]), lambda a, b: torch.stack([a, b]),
         normal(2, 3), normal(2, 3)),
    case("stack_last", lambda a, b, c: tidu.stack([a, b, c], axis=-1),
         lambda a, b, c: torch.stack([a, b, c], -1), normal(2, 3), normal(2, 3), normal(2, 3)),
    case("split_equal",
         lambda a: sum(p * (i + 1) for i, p in enumerate(tidu.split(a, 3, axis=1))),
         lambda a: sum(p * (i + 1) for i, p in enumerate(torch.split(a, 2, dim=1))),
         normal(2, 6)),
    case("split_indices", lambda a: tidu.split(a, [1, 4], axis=0)[1] * 3,
         lambda a: torch.split(a, [1, 3, 1], dim=0)[1] * 3, normal(5, 2)),
    case("split_negative_axis", lambda a: tidu.split(a, 2, axis=-1)[1].exp(),
         lambda a: torch.split(a, 2, dim=-1)[1].exp(), normal(3, 4)),
    case("pad", lambda a: tidu.pad(a, ((1, 2), (0, 3)), value=0.5),
         lambda a: F.pad(a, (0, 3, 1, 2), value=0.5), normal(2, 3)),
    case("pad_int", lambda a: tidu.pad(a, 1) * a.sum(), lambda a: F.pad(a, (1, 1, 1, 1)) * a.sum(),
         normal(2, 3)),
    case("pad_same_per_axis", lambda a: tidu.pad(a, (2, 1)),
         lambda a: F.pad(a, (2, 1, 2, 1, 2, 1)), normal(2, 1, 3)),
    # ----- indexing -----
    case("index_int", lambda a: a[1], None, normal(3, 4)),
    case("index_slices", lambda a: a[::2, 1:-1], None, normal(5, 4)),
    case("index_negative_step", lambda a: a[::-1], lambda a: a.flip(0), normal(4, 2)),
    case("index_ellipsis_none", lambda a: a[..., None, 1], None, normal(2, 3, 4)),
    case("index_int_array_repeats", lambda a: a[IDX_REP], lambda a: a[torch.from_numpy(IDX_REP)],
         normal(3, 4)),
    case("index_list_repeats", lambda a: a[[2, 2, 0]], None, normal(3, 2)),
    case("index_negative_array", lambda a: a[np.array([-1, -1, 0])],
         lambda a: a[torch.tensor([-1, -1, 0])], normal(4)),
    case("index_slice_and_array", lambda a: a[1:, IDX_REP],
         lambda a: a[1:, torch.from_numpy(IDX_REP)], normal(3, 4)),
    case("index_array_and_slice", lambda a: a[np.array([2, 0, 2]), ::2],
         lambda a: a[torch.tensor([2, 0, 2]), ::2], normal(3, 4)),
    case("index_two_arrays", lambda a: a[np.array([0, 2, 0]), np.array([1, 1, 1])],
         lambda a: a[torch.tensor([0, 2, 0]), torch.tensor([1, 1, 1])], normal(3, 4)),
    case("index_arrays_split_by_slice", lambda a: a[np.array([0, 1, 1]), :, np.array([2, 0, 2])],
         lambda a: a[torch.tensor([0, 1, 1]), :, torch.tensor([2, 0, 2])], normal(2, 3, 4)),
    case("index_mask_rows_and_slice", lambda a: a[np.array([True, False, True]), 1:],
         lambda a: a[torch.tensor([True, False, True]), 1:], normal(3, 4)),
    case("index_bool_mask", lambda a: a[MASK], lambda a: a[torch.from_numpy(MASK)],
         normal(3, 4)),
    case("index_bool_tensor_mask", lambda a: a[a > 0], lambda a: a[a > 0], away(3, 4)),
    case("index_bool_rows", lambda a: a[np.array([True, False, True])],
         lambda a: a[torch.tensor([True, False, True])], normal(3, 4)),
    case("softplus", lambda a: tidu.softplus(a), lambda a: F.softplus(a), normal(3, 4)),
    case("softplus_large", lambda a: tidu.softplus(a * 50), lambda a: F.softplus(a * 50),
         normal(3, 4)),
    # ----- shape-agnostic forms used by derivative expressions -----
    case("sum_to_like", lambda a, b: tidu.ops.sum_to_like(a, b),
         lambda a, b: a.sum(0, keepdim=True).sum(1, keepdim=True) * 1 + 0 * b.sum(),
         normal(3, 4), normal(1, 1)),
    case("broadcast_like", lambda a, b: tidu.ops.broadcast_like(a, b) * b,
         lambda a, b: a.expand(3, 4) * b, normal(4), normal(3, 4)),
    case("reshape_like", lambda a, b: tidu.ops.reshape_like(a, b) * b,
         lambda a, b: a.reshape(4, 3) * b, normal(3, 4), normal(4, 3)),
    case("expand_dims", lambda a: tidu.ops.expand_dims(a, (0, 2)),
         lambda a: a.unsqueeze(0).unsqueeze(2), normal(3, 4)),
    case("index_scatter_add", lambda g, x: tidu.ops.index_scatter_add(g, x, IDX_REP) * x,
         lambda g, x: torch.zeros(3, 4, dtype=g.dtype).index_add(0, torch.from_numpy(IDX_REP), g)
         * x, normal(5, 4), normal(3, 4)),
    case("index_scatter_add_mask", lambda g, x: tidu.ops.index_scatter_add(g, x, MASK),
         lambda g, x: torch.zeros(3, 4, dtype=g.dtype).masked_scatter(torch.from_numpy(MASK), g),
         normal(7), normal(3, 4)),
    case("split_like", lambda g, a, b: tidu.ops.split_like(g, [a, b], 1, axis=-1),
         lambda g, a, b: g[:, 2:], normal(3, 5), normal(3, 2), normal(3, 3)),
    # ----- softmax family -----
    case("softmax", lambda a: tidu.softmax(a), lambda a: torch.softmax(a, -1), normal(3, 4)),
    case("softmax_axis0", lambda a: a.softmax(0), lambda a: a.softmax(0), normal(3, 4)),
    case("log_softmax", lambda a: tidu.log_softmax(a), lambda a: torch.log_softmax(a, -1),
         normal(3, 4)),
    case("log_softmax_axis1", lambda a: a.log_softmax(1), lambda a: a.log_softmax(1),
         normal(2, 3, 4)),
    case("logsumexp_all", lambda a: tidu.logsumexp(a),
         lambda a: torch.logsumexp(a.reshape(-1), 0), normal(3, 4)),
    case("logsumexp_axis", lambda a: a.logsumexp(1), lambda a: torch.logsumexp(a, 1),
         normal(3, 4)),
    case("logsumexp_keepdims", lambda a: tidu.logsumexp(a, -1, keepdims=True),
         lambda a: torch.logsumexp(a, -1, keepdim=True), normal(2, 3, 4)),
    case("logsumexp_tuple", lambda a: tidu.logsumexp(a, (0, 2)),
         lambda a: torch.logsumexp(a, (0, 2)), normal(2, 3, 4)),
    # ----- dtype -----
    case("cast_float32", lambda a: tidu.cast(a, "float32").double() * a,
         lambda a: a.float().double() * a, normal(3), rtol=1e-2, eps=1e-3),
    case("cast_method", lambda a: a.astype(np.float64) + 1, lambda a: a + 1, normal(3)),
]

REDUCTIONS = {
    "sum": (tidu.sum, lambda t, dim, k: torch.sum(t, dim, keepdim=k)),
    "mean": (tidu.mean, lambda t, dim, k: torch.mean(t, dim, keepdim=k)),
    "max": (tidu.max, lambda t, dim, k: torch.amax(t, dim, keepdim=k)),
    "min": (tidu.min, lambda t, dim, k: torch.amin(t, dim, keepdim=k)),
    "var": (tidu.var, lambda t, dim, k: torch.var(t, dim, correction=0, keepdim=k)),
}
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]

for _name, (_fn, _ref) in REDUCTIONS.items():
    for _axis in AXES:
        for _keep in (False, True):
            _dim = (0, 1, 2) if _axis is None else _axis
            OPS.append(case(
                f"{_name}_axis{_axis}_keep{_keep}".replace(" ", ""),
                lambda a, f=_fn, ax=_axis, k=_keep: f(a, ax, k),
                lambda a, r=_ref, d=_dim, k=_keep: r(a, d, k),
                distinct(2, 3, 4),
            ))
OPS += [
    case("sum_method", lambda a: a.sum(), lambda a: a.sum(), normal(3, 4)),
    case("mean_method_axis", lambda a: a.mean(axis=0), lambda a: a.mean(0), normal(3, 4)),
    case("max_method", lambda a: a.max(1), lambda a: a.amax(1), distinct(3, 4)),
    case("min_method_keep", lambda a: a.min(0, keepdims=True),
         lambda a: a.amin(0, keepdim=True), distinct(3, 4)),
    case("var_ddof1", lambda a: tidu.var(a, 1, ddof=1), lambda a: torch.var(a, 1), normal(3, 4)),
    case("var_method", lambda a: a.var(), lambda a: a.var(correction=0), normal(3, 4)),
    case("sum_scalar", lambda a: a.sum(), lambda a: a.sum(), normal()),
    case("sum_list_axis", lambda a: a.sum([0, 1]), lambda a: a.sum((0, 1)), normal(2, 3)),
    # a small composite: the graph of logistic regression
    case("logistic_loss",
         lambda w, b, x: -(tidu.log(tidu.sigmoid(x @ w + b)) * 0.3
                           + tidu.log(1 - tidu.sigmoid(x @ w + b)) * 0.7).mean(),
         lambda w, b, x: -(torch.log(torch.sigmoid(x @ w + b)) * 0.3
                           + torch.log(1 - torch.sigmoid(x @ w + b)) * 0.7).mean(),
         normal(3), normal(), normal(5, 3)),
]


def _seeds(c: Case):
    return seeds(c)


@pytest.mark.parametrize("c", OPS)
def test_matches_torch(c: Case, torch_check):
    check_torch(c, torch_check)


@pytest.mark.parametrize("c", OPS)
def test_gradcheck(c: Case):
    check_gradcheck(c)


def test_every_public_op_is_in_the_table():
    tested = " ".join(p.values[0].id for p in OPS)
    extended = {n for m in tidu.ops.EXTENDED for n in m.__all__}  # their own table files
    names = set(tidu.ops.__all__) - {"getitem", "permute", "cast"} - extended
    missing = {n for n in names if n not in tested}
    assert not missing


# ----- ties and kinks, where the gradient is a convention (PyTorch's) -----


def test_maximum_minimum_split_ties_equally(torch_check):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, -1.0])
    torch_check(tidu.maximum, torch.maximum, [a, b])
    torch_check(tidu.minimum, torch.minimum, [a, b])
    x, y = tidu.tensor(a, requires_grad=True), tidu.tensor(b, requires_grad=True)
    tidu.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(y.grad.numpy(), [0.5, 0.0, 0.5, 0.5])


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("keep", [False, True])
def test_max_min_share_among_ties_like_amax(axis, keep, torch_check):
    x = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, -1.0], [3.0, 0.0, 0.0]])
    dim = (0, 1) if axis is None else axis
    torch_check(lambda t: tidu.max(t, axis, keep), lambda t: torch.amax(t, dim, keep), [x])
    torch_check(lambda t: tidu.min(t, axis, keep), lambda t: torch.amin(t, dim, keep), [x])


def test_max_of_all_ties_shares_the_gradient_equally():
    x = tidu.tensor(np.full((2, 2), 5.0), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 0.25))


def test_kinks_follow_pytorch_conventions(torch_check):
    x = np.array([-1.0, 0.0, 2.0, 0.5, 1.0])
    torch_check(tidu.relu, torch.relu, [x])  # relu'(0) = 0
    torch_check(tidu.abs, torch.abs, [x])  # |x|'(0) = 0
    torch_check(tidu.sign, torch.sign, [x])
    torch_check(lambda t: tidu.clip(t, 0.0, 1.0), lambda t: torch.clamp(t, 0.0, 1.0), [x])
    torch_check(lambda t: tidu.leaky_relu(t, 0.1), lambda t: F.leaky_relu(t, 0.1), [x])


def test_relu_of_minus_infinity_is_zero():
    y = tidu.relu(tidu.tensor([-np.inf, -1.0, 2.0, np.inf]))
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 2.0, np.inf])


def test_integer_index_arrays_accumulate_repeated_gradients():
    x = tidu.tensor(np.arange(4.0), requires_grad=True)
    x[[1, 1, 1, 3, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0, 0.0, 2.0])


def test_split_pieces_and_pad_values():
    x = tidu.tensor(np.arange(12.0).reshape(3, 4))
    a, b = tidu.split(x, 2, axis=1)
    np.testing.assert_array_equal(a.numpy(), x.numpy()[:, :2])
    np.testing.assert_array_equal(b.numpy(), x.numpy()[:, 2:])
    parts = tidu.split(x, [1, 1, 3])
    assert [p.shape for p in parts] == [(1, 4), (0, 4), (2, 4), (0, 4)]
    padded = tidu.pad(x, ((0, 1), (2, 0)), value=-1.0)
    np.testing.assert_array_equal(padded.numpy(),
                                  np.pad(x.numpy(), ((0, 1), (2, 0)), constant_values=-1.0))


def test_transpose_semantics():
    x = tidu.tensor(np.zeros((2, 3, 4, 5)))
    assert x.transpose().shape == (5, 4, 3, 2)  # no args: reverse
    assert x.transpose(0, 2).shape == (4, 3, 2, 5)  # two args: swap, as torch.transpose
    assert x.transpose(-1, 0).shape == (5, 3, 4, 2)
    assert x.transpose(1, 0, 3, 2).shape == (3, 2, 5, 4)  # more: a permutation
    assert x.transpose((3, 2, 1, 0)).shape == (5, 4, 3, 2)
    y = tidu.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(y.transpose(0, 1).numpy(), y.numpy().T)
    np.testing.assert_array_equal(y.transpose(1, 0).numpy(), y.numpy().T)


def test_cast_dtype_and_gradient_dtype():
    x = tidu.tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = tidu.cast(x, "float32")
    assert y.dtype == np.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    i = tidu.cast(x, "int64")
    assert i.dtype == np.int64 and not i.requires_grad  # integers leave the graph


def test_shape_methods_on_tensor():
    x = tidu.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.reshape((6, 4)).shape == (6, 4)
    assert x.flatten().shape == (24,)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert tidu.stack([x, x], axis=1).shape == (2, 2, 3, 4)
