"""tidu.ops.normalization: batch_norm, layer_norm and group_norm against PyTorch (float64
values and gradients), central differences, the vjp rules and second derivatives; the
running-statistics updates, float32 accuracy and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
import tidu.nn.functional as F
from _optable import case, missing_from, normal, pos, table_tests
from tidu.ops import normalization as N

RM = np.array([0.3, -0.2, 0.5])
RV = np.array([0.5, 1.5, 2.0])


def bn_train(x, w=None, b=None):
    return F.batch_norm(x, None, None, w, b, training=True)


def tbn_train(x, w=None, b=None):
    return TF.batch_norm(x, None, None, w, b, training=True)


def last(fn):
    """A torch channels-first function applied to a channels-last tensor."""
    def wrapped(x, *rest):
        nd = x.ndim
        to_first = (0, nd - 1, *range(1, nd - 1))
        to_last = (0, *range(2, nd), 1)
        return fn(x.permute(to_first), *rest).permute(to_last)
    return wrapped


def t_bn_stats(x, m, v, w, b, eps=1e-5):
    """Inference batch norm composed of torch operations (differentiable in m and v)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - m.reshape(shape)) / torch.sqrt(v.reshape(shape) + eps) * w.reshape(shape) \
        + b.reshape(shape)


OPS = [
    case("batch_norm_train_2d", bn_train, tbn_train, normal(6, 3), normal(3), normal(3)),
    case("batch_norm_train_3d", bn_train, tbn_train, normal(4, 3, 5), normal(3), normal(3)),
    case("batch_norm_train_4d", bn_train, tbn_train, normal(3, 2, 4, 3), normal(2), normal(2)),
    case("batch_norm_train_no_affine", bn_train, tbn_train, normal(5, 2, 3)),
    case("batch_norm_train_weight_only", lambda x, w: bn_train(x, w),
         lambda x, w: tbn_train(x, w), normal(5, 3), normal(3)),
    case("batch_norm_train_axis_last_4d",
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, axis=-1),
         last(tbn_train), normal(2, 3, 2, 4), normal(4), normal(4)),
    case("batch_norm_train_axis_last_3d",
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, axis=2),
         last(tbn_train), normal(3, 4, 2), normal(2), normal(2)),
    case("batch_norm_eval_4d", lambda x, w, b: F.batch_norm(x, RM, RV, w, b),
         lambda x, w, b: TF.batch_norm(x, torch.tensor(RM), torch.tensor(RV), w, b),
         normal(2, 3, 2, 2), normal(3), normal(3)),
    case("batch_norm_eval_2d_no_affine", lambda x: F.batch_norm(x, RM, RV),
         lambda x: TF.batch_norm(x, torch.tensor(RM), torch.tensor(RV)), normal(4, 3)),
    case("batch_norm_eval_axis_last", lambda x, w, b: F.batch_norm(x, RM, RV, w, b, axis=-1),
         last(lambda x, w, b: TF.batch_norm(x, torch.tensor(RM), torch.tensor(RV), w, b)),
         normal(2, 2, 3), normal(3), normal(3)),
    case("batch_norm_eval_grad_of_statistics", lambda x, m, v, w, b: F.batch_norm(
        x, m, v, w, b), t_bn_stats, normal(3, 2, 4), normal(2), pos(2), normal(2), normal(2)),
    case("layer_norm_last", lambda x, w, b: F.layer_norm(x, 5, w, b),
         lambda x, w, b: TF.layer_norm(x, (5,), w, b), normal(4, 5), normal(5), normal(5)),
    case("layer_norm_two_dims", lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
         lambda x, w, b: TF.layer_norm(x, (3, 4), w, b), normal(2, 3, 4), normal(3, 4),
         normal(3, 4)),
    case("layer_norm_no_affine", lambda x: F.layer_norm(x, (2, 3)),
         lambda x: TF.layer_norm(x, (2, 3)), normal(3, 2, 3)),
    case("layer_norm_eps", lambda x: F.layer_norm(x, (4,), eps=0.1),
         lambda x: TF.layer_norm(x, (4,), eps=0.1), normal(3, 4)),
    *[case(f"group_norm_{g}_groups", lambda x, w, b, g=g: F.group_norm(x, g, w, b),
           lambda x, w, b, g=g: TF.group_norm(x, g, w, b), normal(2, 6, 3), normal(6),
           normal(6)) for g in (1, 2, 3, 6)],
    case("group_norm_4d", lambda x, w, b: F.group_norm(x, 2, w, b),
         lambda x, w, b: TF.group_norm(x, 2, w, b), normal(2, 4, 3, 2), normal(4), normal(4)),
    case("group_norm_no_affine_2d", lambda x: F.group_norm(x, 2),
         lambda x: TF.group_norm(x, 2), normal(3, 4)),
    case("group_norm_axis_last", lambda x, w, b: F.group_norm(x, 2, w, b, axis=-1),
         last(lambda x, w, b: TF.group_norm(x, 2, w, b)), normal(2, 3, 2, 4), normal(4),
         normal(4)),
]

test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_function_is_in_the_table():
    assert missing_from(OPS, N) == set()


@pytest.mark.parametrize("name, fn, ref, shapes", [
    ("batch_norm", bn_train, tbn_train, [(4, 3, 2), (3,), (3,)]),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(x, RM, RV, w, b),
     lambda x, w, b: TF.batch_norm(x, torch.tensor(RM), torch.tensor(RV), w, b),
     [(4, 3, 2), (3,), (3,)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
     lambda x, w, b: TF.layer_norm(x, (2, 3), w, b), [(3, 2, 3), (2, 3), (2, 3)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b),
     lambda x, w, b: TF.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
])
def test_second_derivatives_match_torch(name, fn, ref, shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in shapes]
    v = rng.standard_normal(shapes[0])
    u = [rng.standard_normal(s) for s in shapes]
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    gs = tidu.grad(fn(*xs), xs, v, create_graph=True)
    second = tidu.grad(sum((g * w).sum() for g, w in zip(gs, u)), xs)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tg = torch.autograd.grad(ref(*ts), ts, torch.tensor(v), create_graph=True)
    want = torch.autograd.grad(sum((g * torch.tensor(w)).sum() for g, w in zip(tg, u)), ts,
                               allow_unused=True)
    for got, e in zip(second, want):
        expected = np.zeros(got.shape) if e is None else e.numpy()
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_running_statistics_follow_torch(dtype):
    rng = np.random.default_rng(0)
    rm, rv = np.zeros(3, dtype), np.ones(3, dtype)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    for k in range(4):
        x = (rng.standard_normal((5, 3, 2)) * (k + 1) + k).astype(dtype)
        y = F.batch_norm(tidu.tensor(x), rm, rv, training=True, momentum=0.3)
        ty = TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
        assert y.dtype == dtype and rm.dtype == dtype and rv.dtype == dtype
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=tol)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=tol)
    assert not np.allclose(rm, 0) and not np.allclose(rv, 1)


def test_running_statistics_in_tensors_and_channels_last_are_updated_in_place():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2, 4))
    rm, rv = tidu.zeros(4, dtype="float64"), tidu.ones(4, dtype="float64")
    F.batch_norm(tidu.tensor(x), rm, rv, training=True, axis=-1)
    flat = x.reshape(-1, 4)
    np.testing.assert_allclose(rm.numpy(), 0.1 * flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * flat.var(0, ddof=1), rtol=1e-12)


def test_inference_leaves_running_statistics_alone():
    rm, rv = RM.copy(), RV.copy()
    F.batch_norm(tidu.tensor(np.ones((2, 3))), rm, rv)
    np.testing.assert_array_equal(rm, RM)
    np.testing.assert_array_equal(rv, RV)


@pytest.mark.parametrize("fn", [
    lambda x: F.batch_norm(x, None, None, training=True),
    lambda x: F.batch_norm(x, None, None, training=True, axis=-1),
    lambda x: F.layer_norm(x, (8,)),
    lambda x: F.group_norm(x, 2),
])
def test_float32_large_mean_stays_float32_and_accurate(fn):
    rng = np.random.default_rng(2)
    x = (1000.0 + 0.01 * rng.standard_normal((64, 8))).astype(np.float32)
    xt = tidu.tensor(x, requires_grad=True)
    y = fn(xt)
    assert y.dtype == np.float32
    ref = fn(tidu.tensor(x.astype(np.float64)))  # the same float32 values, in float64
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=2e-3)
    assert np.abs(y.numpy()).max() > 1.0  # really normalised, not collapsed to 0
    y.backward(np.ones_like(x))
    assert xt.grad.dtype == np.float32 and np.isfinite(xt.grad.numpy()).all()


def test_float32_weight_and_bias_gradients_stay_float32():
    x = tidu.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    w, b = tidu.ones(3, requires_grad=True), tidu.zeros(3, requires_grad=True)
    F.batch_norm(x, None, None, w, b, training=True).sum().backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.batch_norm(tidu.ones(3), None, None, training=True), tidu.ShapeError,
     r"batch_norm: expects an input with a batch axis and a channel axis.*\(3,\)"),
    (lambda: F.batch_norm(tidu.ones(2, 3), None, None, tidu.ones(4), training=True),
     tidu.ShapeError, r"batch_norm: weight has shape \(4,\), expected \(3,\).*3 channels"),
    (lambda: F.batch_norm(tidu.ones(2, 3, 5), np.zeros(5), np.ones(5)), tidu.ShapeError,
     r"running_mean has shape \(5,\), expected \(3,\)"),
    (lambda: F.batch_norm(tidu.ones(2, 3)), ValueError, "running_mean and running_var"),
    (lambda: F.batch_norm(tidu.ones(1, 3), None, None, training=True), ValueError,
     r"more than 1 value per channel.*\(1, 3\)"),
    (lambda: F.batch_norm(tidu.ones(2, 3), None, None, training=True, axis=0),
     tidu.ShapeError, "batch axis"),
    (lambda: F.batch_norm(tidu.ones(2, 3), None, None, training=True, axis=3),
     tidu.ShapeError, "batch_norm"),
    (lambda: F.group_norm(tidu.ones(2, 6, 3), 4), ValueError,
     r"6 channels.*num_groups=4"),
    (lambda: F.group_norm(tidu.ones(2, 6), 0), ValueError, "positive integer"),
    (lambda: F.group_norm(tidu.ones(2, 6), 3, tidu.ones(3)), tidu.ShapeError,
     r"weight has shape \(3,\), expected \(6,\)"),
    (lambda: F.layer_norm(tidu.ones(2, 3, 4), (3,)), tidu.ShapeError,
     r"normalized_shape \(3,\).*\(2, 3, 4\)"),
    (lambda: F.layer_norm(tidu.ones(2, 4), 4, tidu.ones(3)), tidu.ShapeError,
     r"weight has shape \(3,\), expected \(4,\)"),
])
def test_errors_name_the_function_and_the_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()
