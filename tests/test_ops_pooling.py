"""tidu.ops.pooling and tidu.ops.resize against PyTorch (float64 values and gradients),
central differences and the vjp rules, on random configurations: kernel, stride, padding,
dilation, ceil_mode, count_include_pad, divisor_override, adaptive sizes that do and do not
divide, interpolate modes, sizes, scale factors and align_corners; then channels_last, Keras's
'same' windows, dtypes and the errors."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
import tidu.nn.functional as F
from _optable import case, distinct, functions_of, missing_from, normal, table_tests

POOLING = importlib.import_module("tidu.ops.pooling")
RESIZE = importlib.import_module("tidu.ops.resize")
RNG = np.random.default_rng(16)


def _torch_ok(fn, shape) -> bool:
    try:
        fn(torch.zeros(shape, dtype=torch.float64))
        return True
    except RuntimeError:
        return False


def _random_pool(nsp: int, kind: str, n: int) -> list:
    """``n`` random configurations PyTorch accepts, as (id suffix, kwargs, input shape)."""
    out = []
    while len(out) < n:
        k = tuple(int(v) for v in RNG.integers(1, 4, nsp))
        kw = {"kernel_size": k if nsp == 2 else k[0]}
        if RNG.random() < 0.7:
            s = tuple(int(v) for v in RNG.integers(1, 4, nsp))
            kw["stride"] = s if nsp == 2 else s[0]
        p = tuple(int(RNG.integers(0, ki // 2 + 1)) for ki in k)
        kw["padding"] = p if nsp == 2 else p[0]
        kw["ceil_mode"] = bool(RNG.random() < 0.5)
        if kind == "max" and RNG.random() < 0.4:
            d = tuple(int(v) for v in RNG.integers(1, 3, nsp))
            kw["dilation"] = d if nsp == 2 else d[0]
        if kind == "avg":
            kw["count_include_pad"] = bool(RNG.random() < 0.5)
            if nsp == 2 and RNG.random() < 0.25:
                kw["divisor_override"] = int(RNG.integers(1, 5))
        shape = (2, 2, *(int(v) for v in RNG.integers(4, 9, nsp)))
        fn = getattr(TF, f"{kind}_pool{nsp}d")
        if _torch_ok(lambda t, fn=fn, kw=kw: fn(t, **kw), shape):
            out.append(("_".join(f"{a[0]}{b}" for a, b in kw.items()).replace(" ", ""),
                        kw, shape))
    return out


def _pool_cases(nsp: int, kind: str, n: int) -> list:
    cases = []
    for i, (tag, kw, shape) in enumerate(_random_pool(nsp, kind, n)):
        name = f"{kind}_pool{nsp}d"
        spec = distinct(*shape) if kind == "max" else normal(*shape)
        ours, theirs = getattr(F, name), getattr(TF, name)
        cases.append(case(f"{name}_{i}_{tag}", lambda a, kw=kw, f=ours: f(a, **kw),
                          lambda a, kw=kw, f=theirs: f(a, **kw), spec))
    return cases


def _cl(fn, nsp):
    """``fn`` on a channels_first tensor, applied to a channels_last one (torch side)."""
    to_first, to_last = ((0, 2, 1), (0, 2, 1)) if nsp == 1 else ((0, 3, 1, 2), (0, 2, 3, 1))
    return lambda a: fn(a.permute(*to_first)).permute(*to_last)


def _same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _keras_same_max(a, k, s):
    """Keras's 'same' max pooling written out in torch: -inf padding, then valid pooling."""
    (t, b), (l, r) = _same_pads(a.shape[2], k, s), _same_pads(a.shape[3], k, s)
    return TF.max_pool2d(TF.pad(a, (l, r, t, b), value=-float("inf")), k, s)


def _keras_same_avg(a, k, s):
    """Keras's 'same' average: the window sums over the counts of real elements."""
    (t, b), (l, r) = _same_pads(a.shape[2], k, s), _same_pads(a.shape[3], k, s)
    pad = (l, r, t, b)
    sums = TF.avg_pool2d(TF.pad(a, pad), k, s, divisor_override=1)
    counts = TF.avg_pool2d(TF.pad(torch.ones_like(a), pad), k, s, divisor_override=1)
    return sums / counts


OPS = [
    *_pool_cases(1, "max", 6), *_pool_cases(2, "max", 10),
    *_pool_cases(1, "avg", 6), *_pool_cases(2, "avg", 10),
    case("max_pool2d_return_indices", lambda a: F.max_pool2d(a, 3, 2, 1, 2, True, True)[1].double(),
         lambda a: TF.max_pool2d(a, 3, 2, 1, 2, True, True)[1].double(), distinct(2, 2, 9, 8)),
    case("max_pool1d_return_indices_values",
         lambda a: F.max_pool1d(a, 3, 2, 1, return_indices=True)[0],
         lambda a: TF.max_pool1d(a, 3, 2, 1, return_indices=True)[0], distinct(2, 3, 9)),
    case("max_pool2d_unbatched", lambda a: F.max_pool2d(a, 2, 1),
         lambda a: TF.max_pool2d(a, 2, 1), distinct(3, 5, 4)),
    case("max_pool2d_channels_last_overlap",
         lambda a: F.max_pool2d(a, 3, 2, 1, data_format="channels_last"),
         _cl(lambda a: TF.max_pool2d(a, 3, 2, 1), 2), distinct(2, 7, 6, 3)),
    case("max_pool2d_channels_last_odd", lambda a: F.max_pool2d(a, 2, data_format="channels_last"),
         _cl(lambda a: TF.max_pool2d(a, 2), 2), distinct(2, 7, 5, 3)),
    case("max_pool1d_channels_last", lambda a: F.max_pool1d(a, 2, data_format="channels_last"),
         _cl(lambda a: TF.max_pool1d(a, 2), 1), distinct(2, 9, 3)),
    case("avg_pool2d_channels_last_ceil",
         lambda a: F.avg_pool2d(a, 3, 2, 1, True, False, data_format="channels_last"),
         _cl(lambda a: TF.avg_pool2d(a, 3, 2, 1, True, False), 2), normal(2, 8, 7, 3)),
    case("avg_pool1d_channels_last", lambda a: F.avg_pool1d(a, 3, 2, data_format="channels_last"),
         _cl(lambda a: TF.avg_pool1d(a, 3, 2), 1), normal(2, 9, 3)),
    case("max_pool2d_keras_same", lambda a: F.max_pool2d(a, 3, 2, "same"),
         lambda a: _keras_same_max(a, 3, 2), distinct(2, 2, 7, 8)),
    case("max_pool2d_keras_same_stride1", lambda a: F.max_pool2d(a, 2, 1, "same"),
         lambda a: _keras_same_max(a, 2, 1), distinct(2, 2, 5, 6)),
    case("max_pool2d_keras_valid", lambda a: F.max_pool2d(a, 3, 2, "valid"),
         lambda a: TF.max_pool2d(a, 3, 2), distinct(2, 2, 7, 8)),
    case("avg_pool2d_keras_same", lambda a: F.avg_pool2d(a, 3, 2, "same"),
         lambda a: _keras_same_avg(a, 3, 2), normal(2, 2, 7, 8)),
    case("avg_pool2d_keras_same_k2", lambda a: F.avg_pool2d(a, 2, 2, "same"),
         lambda a: _keras_same_avg(a, 2, 2), normal(2, 2, 5, 7)),
    case("adaptive_avg_pool1d_divides", lambda a: F.adaptive_avg_pool1d(a, 4),
         lambda a: TF.adaptive_avg_pool1d(a, 4), normal(2, 3, 8)),
    case("adaptive_avg_pool1d_uneven", lambda a: F.adaptive_avg_pool1d(a, 3),
         lambda a: TF.adaptive_avg_pool1d(a, 3), normal(2, 3, 7)),
    case("adaptive_avg_pool2d_uneven", lambda a: F.adaptive_avg_pool2d(a, (3, 5)),
         lambda a: TF.adaptive_avg_pool2d(a, (3, 5)), normal(2, 2, 7, 6)),
    case("adaptive_avg_pool2d_divides", lambda a: F.adaptive_avg_pool2d(a, (2, 3)),
         lambda a: TF.adaptive_avg_pool2d(a, (2, 3)), normal(2, 2, 6, 6)),
    case("adaptive_avg_pool2d_global", lambda a: F.adaptive_avg_pool2d(a, 1),
         lambda a: TF.adaptive_avg_pool2d(a, 1), normal(2, 3, 5, 4)),
    case("adaptive_avg_pool2d_none_upsizes", lambda a: F.adaptive_avg_pool2d(a, (None, 7)),
         lambda a: TF.adaptive_avg_pool2d(a, (None, 7)), normal(2, 2, 5, 4)),
    case("adaptive_avg_pool2d_channels_last",
         lambda a: F.adaptive_avg_pool2d(a, (3, 2), data_format="channels_last"),
         _cl(lambda a: TF.adaptive_avg_pool2d(a, (3, 2)), 2), normal(2, 7, 5, 3)),
    case("adaptive_max_pool1d_uneven", lambda a: F.adaptive_max_pool1d(a, 3),
         lambda a: TF.adaptive_max_pool1d(a, 3), distinct(2, 3, 7)),
    case("adaptive_max_pool2d_uneven", lambda a: F.adaptive_max_pool2d(a, (3, 4)),
         lambda a: TF.adaptive_max_pool2d(a, (3, 4)), distinct(2, 2, 7, 6)),
    case("adaptive_max_pool2d_upsizes", lambda a: F.adaptive_max_pool2d(a, (5, 6)),
         lambda a: TF.adaptive_max_pool2d(a, (5, 6)), distinct(1, 2, 3, 4)),
    case("adaptive_max_pool2d_channels_last",
         lambda a: F.adaptive_max_pool2d(a, (2, 3), data_format="channels_last"),
         _cl(lambda a: TF.adaptive_max_pool2d(a, (2, 3)), 2), distinct(2, 5, 7, 3)),
    case("interpolate_nearest_scale2", lambda a: F.interpolate(a, scale_factor=2),
         lambda a: TF.interpolate(a, scale_factor=2), normal(2, 2, 3, 4)),
    case("interpolate_nearest_size_uneven", lambda a: F.interpolate(a, size=(5, 9)),
         lambda a: TF.interpolate(a, size=(5, 9)), normal(2, 2, 3, 4)),
    case("interpolate_nearest_down_scale", lambda a: F.interpolate(a, scale_factor=(0.6, 1.7)),
         lambda a: TF.interpolate(a, scale_factor=(0.6, 1.7)), normal(2, 2, 7, 5)),
    case("interpolate_nearest_1d", lambda a: F.interpolate(a, size=7),
         lambda a: TF.interpolate(a, size=7), normal(2, 3, 5)),
    case("interpolate_linear_1d", lambda a: F.interpolate(a, scale_factor=2.5, mode="linear"),
         lambda a: TF.interpolate(a, scale_factor=2.5, mode="linear"), normal(2, 3, 5)),
    case("interpolate_linear_1d_align_corners",
         lambda a: F.interpolate(a, size=8, mode="linear", align_corners=True),
         lambda a: TF.interpolate(a, size=8, mode="linear", align_corners=True),
         normal(2, 3, 5)),
    case("interpolate_bilinear_size", lambda a: F.interpolate(a, size=(7, 3), mode="bilinear"),
         lambda a: TF.interpolate(a, size=(7, 3), mode="bilinear"), normal(2, 2, 4, 5)),
    case("interpolate_bilinear_scale",
         lambda a: F.interpolate(a, scale_factor=1.5, mode="bilinear", align_corners=False),
         lambda a: TF.interpolate(a, scale_factor=1.5, mode="bilinear", align_corners=False),
         normal(2, 2, 4, 5)),
    case("interpolate_bilinear_align_corners_down",
         lambda a: F.interpolate(a, size=(3, 8), mode="bilinear", align_corners=True),
         lambda a: TF.interpolate(a, size=(3, 8), mode="bilinear", align_corners=True),
         normal(2, 2, 6, 5)),
    case("interpolate_bilinear_to_one",
         lambda a: F.interpolate(a, size=(1, 4), mode="bilinear", align_corners=True),
         lambda a: TF.interpolate(a, size=(1, 4), mode="bilinear", align_corners=True),
         normal(1, 2, 3, 3)),
    case("interpolate_bilinear_channels_last",
         lambda a: F.interpolate(a, scale_factor=2, mode="bilinear",
                                 data_format="channels_last"),
         _cl(lambda a: TF.interpolate(a, scale_factor=2, mode="bilinear"), 2),
         normal(2, 3, 4, 2)),
    case("upsample_bilinear", lambda a: F.upsample(a, size=(6, 6), mode="bilinear"),
         lambda a: TF.interpolate(a, size=(6, 6), mode="bilinear"), normal(1, 2, 4, 3)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row_and_every_function_a_vjp():
    assert not missing_from(OPS, POOLING)
    assert not missing_from(OPS, RESIZE)
    for module in (POOLING, RESIZE):
        assert functions_of(module)
        assert all(callable(getattr(f, "vjp", None)) for f in functions_of(module))


def test_second_derivative_of_max_pool_through_a_square():
    """The vjp of the scatter is the gather: d/dx of sum(grad(sum(pool(x)^2))^2) vs torch."""
    x = np.random.default_rng(3).permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.1
    a = tidu.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    (ga,) = tidu.grad((F.max_pool2d(a, 3, 2, 1) ** 2).sum(), [a], create_graph=True)
    (gt,) = torch.autograd.grad((TF.max_pool2d(t, 3, 2, 1) ** 2).sum(), [t], create_graph=True)
    (ga ** 2).sum().backward()
    (gt ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), (3, 1, "same")])
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_channels_last_equals_channels_first_transposed(op, kernel, stride, padding):
    x = np.random.default_rng(0).standard_normal((3, 9, 8, 4)).astype(np.float32)
    fn = getattr(F, op)
    a = tidu.tensor(x, requires_grad=True)
    b = tidu.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    ya = fn(a, kernel, stride, padding, data_format="channels_last")
    yb = fn(b, kernel, stride, padding)
    np.testing.assert_array_equal(ya.numpy(), yb.numpy().transpose(0, 2, 3, 1))
    g = np.random.default_rng(1).standard_normal(ya.shape).astype(np.float32)
    ya.backward(g)
    yb.backward(np.ascontiguousarray(g.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy().transpose(0, 2, 3, 1))


def test_ties_send_the_gradient_to_the_first_maximum_like_torch():
    """ReLU outputs are full of equal zeros: each window's gradient goes to one element."""
    x = np.maximum(np.random.default_rng(2).integers(-3, 3, (2, 3, 8, 7)), 0).astype(float)
    for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}):
        a, t = tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.max_pool2d(a, **kw).sum().backward()
        TF.max_pool2d(t, **kw).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


def test_nan_propagates_and_gets_the_gradient():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = np.nan
    a, t = tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, r = F.max_pool2d(a, 2), TF.max_pool2d(t, 2)
    np.testing.assert_array_equal(y.numpy(), r.detach().numpy())
    y.sum().backward()
    r.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("fn", [
    lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: F.avg_pool2d(a, 2, data_format="channels_last"),
    lambda a: F.adaptive_avg_pool2d(a, 3), lambda a: F.adaptive_max_pool2d(a, 3),
    lambda a: F.interpolate(a, scale_factor=2, mode="bilinear"), lambda a: F.max_pool1d(a[0], 2),
])
def test_float32_stays_float32(fn):
    a = tidu.tensor(np.random.default_rng(0).standard_normal((2, 3, 7, 7)).astype(np.float32),
                    requires_grad=True)
    y = fn(a)
    assert y.dtype == np.float32
    y.sum().backward()
    assert a.grad.dtype == np.float32


@pytest.mark.parametrize("call,words", [
    (lambda x: F.max_pool2d(x, 5), ["max_pool2d", "(1, 2, 4, 4)", "kernel_size=(5, 5)"]),
    (lambda x: F.max_pool2d(x, 3, padding=2), ["max_pool2d", "padding=(2, 2)", "half"]),
    (lambda x: F.avg_pool2d(x, 2, padding=2), ["avg_pool2d", "padding=(2, 2)", "half"]),
    (lambda x: F.max_pool2d(x, 5, padding="valid"), ["max_pool2d", "pool_size=(5, 5)"]),
    (lambda x: F.max_pool2d(x, 2, padding="full"), ["max_pool2d", "'full'"]),
    (lambda x: F.max_pool2d(x[0, 0], 2), ["max_pool2d", "(4, 4)", "3-D"]),
    (lambda x: F.max_pool2d(x, 2, data_format="nhwc"), ["max_pool2d", "'nhwc'"]),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ["avg_pool2d", "divisor_override"]),
    (lambda x: F.adaptive_avg_pool2d(x, 0), ["adaptive_avg_pool2d", "output_size"]),
    (lambda x: F.interpolate(x, scale_factor=2, mode="cubic"), ["interpolate", "'cubic'"]),
    (lambda x: F.interpolate(x, scale_factor=2, mode="linear"), ["interpolate", "'linear'",
                                                                  "3-D"]),
    (lambda x: F.interpolate(x, size=3, scale_factor=2), ["interpolate", "exactly one"]),
    (lambda x: F.interpolate(x, scale_factor=2, align_corners=True), ["interpolate",
                                                                       "align_corners"]),
])
def test_errors_name_the_function_and_the_values(call, words):
    with pytest.raises((ValueError, tidu.ShapeError)) as info:
        call(tidu.zeros(1, 2, 4, 4))
    for w in words:
        assert w in str(info.value)


def test_torch_refuses_the_same_configurations():
    """The errors above are ones PyTorch raises too (not stricter, not looser)."""
    t = torch.zeros(1, 2, 4, 4)
    for call in (lambda: TF.max_pool2d(t, 5), lambda: TF.max_pool2d(t, 3, padding=2),
                 lambda: TF.avg_pool2d(t, 2, padding=2)):
        with pytest.raises(RuntimeError):
            call()
