"""tidu.ops.convolution: conv1d/2d/3d and conv_transpose1d/2d against PyTorch (float64 values
and gradients), central differences and the vjp rules, on many configurations (stride,
padding as int/tuple/'valid'/'same', dilation, groups, depthwise, bias or not); second
derivatives; channels-last; TensorFlow's 'same' with strides; dtypes; errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
import tidu.nn.functional as F
from _optable import case, functions_of, missing_from, normal, table_tests
from tidu.ops import convolution as C

FNS = {1: (F.conv1d, TF.conv1d), 2: (F.conv2d, TF.conv2d), 3: (F.conv3d, TF.conv3d)}
TFNS = {1: (F.conv_transpose1d, TF.conv_transpose1d),
        2: (F.conv_transpose2d, TF.conv_transpose2d)}


def conv_case(id, nd, n, c, size, o, k, bias=True, **kw):
    """One conv row: input (n, c, *size), weight (o, c // groups, *k), optional bias."""
    fn, ref = FNS[nd]
    g = kw.get("groups", 1)
    specs = [normal(n, c, *size), normal(o, c // g, *k)] + ([normal(o)] if bias else [])
    return case(f"conv{nd}d_{id}", lambda *a: fn(*a, **kw), lambda *a: ref(*a, **kw), *specs)


def transpose_case(id, nd, n, c, size, o, k, bias=True, **kw):
    """One transposed row: input (n, c, *size), weight (c, o // groups, *k)."""
    fn, ref = TFNS[nd]
    g = kw.get("groups", 1)
    specs = [normal(n, c, *size), normal(c, o // g, *k)] + ([normal(o)] if bias else [])
    return case(f"conv_transpose{nd}d_{id}", lambda *a: fn(*a, **kw),
                lambda *a: ref(*a, **kw), *specs)


OPS = [
    conv_case("plain", 2, 2, 3, (6, 5), 4, (3, 3)),
    conv_case("no_bias", 2, 1, 2, (5, 5), 3, (2, 3), bias=False),
    conv_case("stride_pad_int", 2, 2, 2, (7, 6), 3, (3, 3), stride=2, padding=1),
    conv_case("tuple_args", 2, 1, 3, (8, 7), 2, (3, 2), stride=(2, 1), padding=(1, 0),
              dilation=(1, 2)),
    conv_case("valid", 2, 1, 2, (5, 6), 2, (3, 3), padding="valid"),
    conv_case("same_odd", 2, 1, 2, (5, 6), 3, (3, 3), padding="same"),
    conv_case("same_even_dilated", 2, 1, 2, (6, 5), 2, (2, 3), padding="same", dilation=2),
    conv_case("groups", 2, 2, 4, (5, 5), 6, (3, 3), groups=2, padding=1),
    conv_case("depthwise", 2, 2, 3, (5, 6), 3, (3, 3), groups=3, stride=2, padding=1),
    conv_case("depthwise_multiplier", 2, 1, 2, (5, 5), 4, (3, 3), groups=2, bias=False),
    conv_case("dilated_strided", 2, 1, 2, (9, 8), 2, (3, 2), stride=2, dilation=2),
    conv_case("1x1", 2, 2, 3, (4, 4), 5, (1, 1)),
    conv_case("plain", 1, 2, 3, (9,), 4, (3,)),
    conv_case("stride_dilation_groups", 1, 2, 4, (11,), 2, (3,), stride=2, dilation=2,
              groups=2, padding=2),
    conv_case("same", 1, 1, 2, (7,), 3, (4,), padding="same", bias=False),
    conv_case("plain", 3, 1, 2, (4, 5, 4), 3, (2, 3, 2)),
    conv_case("stride_pad_groups", 3, 1, 4, (5, 4, 5), 2, (3, 2, 3), stride=(2, 1, 2),
              padding=(1, 0, 1), groups=2),
    conv_case("same", 3, 1, 1, (4, 4, 3), 2, (3, 3, 3), padding="same", bias=False),
    transpose_case("plain", 2, 2, 3, (4, 5), 2, (3, 3)),
    transpose_case("stride_output_padding", 2, 1, 2, (3, 4), 3, (3, 3), stride=2,
                   padding=1, output_padding=1),
    transpose_case("groups_dilation", 2, 1, 4, (3, 3), 6, (2, 3), groups=2, dilation=2,
                   stride=(1, 2), bias=False),
    transpose_case("output_padding_tuple", 2, 1, 2, (3, 3), 2, (3, 2), stride=(3, 2),
                   output_padding=(2, 1)),
    transpose_case("plain", 1, 2, 3, (5,), 2, (3,)),
    transpose_case("stride_pad", 1, 1, 2, (4,), 4, (4,), stride=3, padding=2,
                   output_padding=1, groups=2),
]

test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_name_has_a_row_and_every_function_a_vjp():
    assert not missing_from(OPS, C)
    fns = functions_of(C)
    assert {f.__name__ for f in fns} >= {"Conv", "ConvInput", "ConvWeight"}
    assert all(callable(getattr(f, "vjp", None)) for f in fns)


# ----- random configurations -----
def _random_config(rng, nd):
    g = int(rng.choice([1, 2]))
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    s = tuple(int(v) for v in rng.integers(1, 3, nd))
    p = tuple(int(v) for v in rng.integers(0, 3, nd))
    size = tuple(int(dd * (kk - 1) + 1 + rng.integers(0, 4)) for kk, dd in zip(k, d))
    return g, k, d, s, p, size


@pytest.mark.parametrize("seed", range(8))
def test_random_configurations_match_torch(seed, torch_check):
    rng = np.random.default_rng(seed)
    nd = 1 + seed % 3
    g, k, d, s, p, size = _random_config(rng, nd)
    c, o = 2 * g, 2 * g
    fn, ref = FNS[nd]
    kw = dict(stride=s, padding=p, dilation=d, groups=g)
    arrays = [rng.standard_normal((2, c, *size)), rng.standard_normal((o, c // g, *k)),
              rng.standard_normal(o)]
    torch_check(lambda *a: fn(*a, **kw), lambda *a: ref(*a, **kw), arrays, seed=seed)
    if nd < 3:
        tfn, tref = TFNS[nd]
        op = tuple(int(rng.integers(0, max(a, b))) for a, b in zip(s, d))
        kw = dict(stride=s, padding=0, output_padding=op, dilation=d, groups=g)
        arrays = [rng.standard_normal((2, c, *size)), rng.standard_normal((c, o // g, *k))]
        torch_check(lambda *a: tfn(*a, **kw), lambda *a: tref(*a, **kw), arrays, seed=seed)


@pytest.mark.parametrize("nd, kw", [(2, dict(stride=2, padding=1, groups=2)),
                                    (1, dict(dilation=2, padding="same", groups=2)),
                                    (2, dict(transposed=True, stride=2, output_padding=1))])
def test_second_derivatives_match_torch(nd, kw):
    """Gradients of a gradient norm: Conv, ConvInput and ConvWeight differentiated again."""
    kw = dict(kw)
    transposed = kw.pop("transposed", False)
    fn, ref = (TFNS if transposed else FNS)[nd]
    rng = np.random.default_rng(nd)
    x0, w0 = rng.standard_normal((2, 4, *[6] * nd)), rng.standard_normal((4, 2, *[3] * nd))
    xs = [tidu.tensor(a, requires_grad=True) for a in (x0, w0)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x0, w0)]
    outs = []
    for lib, args, f in ((tidu, xs, fn), (torch, ts, ref)):
        y = f(*args, **kw)
        loss = (lib.tanh(y) * y).sum()
        gx, gw = (tidu.grad(loss, args, create_graph=True) if lib is tidu else
                  torch.autograd.grad(loss, args, create_graph=True))
        total = (gx * gx).sum() + (gw * gw * gw).sum()
        outs.append(tidu.grad(total, args) if lib is tidu else torch.autograd.grad(total, args))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-9)


# ----- layouts, 'same' with strides, dtypes -----
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_channels_last_equals_channels_first(nd):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, 4, *[7] * nd))
    w, b = rng.standard_normal((6, 2, *[3] * nd)), rng.standard_normal(6)
    fn = FNS[nd][0]
    kw = dict(stride=2, padding=1, dilation=1, groups=2)
    first = fn(tidu.tensor(x), tidu.tensor(w), tidu.tensor(b), **kw).numpy()
    xl = tidu.tensor(np.moveaxis(x, 1, -1), requires_grad=True)
    last = fn(xl, tidu.tensor(w), tidu.tensor(b), data_format="channels_last", **kw)
    np.testing.assert_allclose(np.moveaxis(last.numpy(), -1, 1), first, rtol=1e-12, atol=1e-12)
    last.sum().backward()
    xf = tidu.tensor(x, requires_grad=True)
    fn(xf, tidu.tensor(w), tidu.tensor(b), **kw).sum().backward()
    np.testing.assert_allclose(np.moveaxis(xl.grad.numpy(), -1, 1), xf.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


def _tf_same(n, k, s, d):
    total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("n, k, s, d", [(7, 3, 2, 1), (8, 3, 2, 1), (8, 4, 3, 1), (9, 3, 2, 2),
                                        (5, 1, 2, 1), (6, 2, 1, 1)])
def test_same_with_stride_follows_tensorflow(n, k, s, d, torch_check):
    """'same' gives ceil(n / s) outputs, padding total // 2 before and the rest after."""
    lo, hi = _tf_same(n, k, s, d)
    rng = np.random.default_rng(n * k)
    arrays = [rng.standard_normal((2, 2, n, n + 1)), rng.standard_normal((3, 2, k, k))]
    lo2, hi2 = _tf_same(n + 1, k, s, d)

    def ref(x, w):
        return TF.conv2d(TF.pad(x, (lo2, hi2, lo, hi)), w, stride=s, dilation=d)

    _, out = torch_check(lambda x, w: F.conv2d(x, w, stride=s, padding="same", dilation=d),
                         ref, arrays)
    assert out.shape[2:] == (-(-n // s), -(-(n + 1) // s))


def test_float32_stays_float32():
    x = tidu.tensor(np.ones((2, 3, 6, 6), np.float32), requires_grad=True)
    w = tidu.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    b = tidu.tensor(np.zeros(4, np.float32), requires_grad=True)
    y = F.conv2d(x, w, b, padding="same")
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
    t = F.conv_transpose2d(x, tidu.tensor(np.ones((3, 2, 3, 3), np.float32)), stride=2)
    assert t.dtype == np.float32


def test_no_grad_keeps_nothing_and_gives_the_same_values():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    with tidu.no_grad():
        y = F.conv2d(tidu.tensor(x), tidu.tensor(w))
    assert not y.requires_grad
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w)).numpy())


# ----- errors in the user's terms -----
def test_wrong_channels_names_the_function_and_both_counts():
    with pytest.raises(tidu.errors.ShapeError, match=r"conv2d: expected an input with 3 "
                       r"channels.*got 4 channels"):
        F.conv2d(tidu.ones(1, 4, 5, 5), tidu.ones(2, 3, 3, 3))
    with pytest.raises(tidu.errors.ShapeError, match=r"conv2d: expected an input with 4 "
                       r"channels.*groups=2.*got 3"):
        F.conv2d(tidu.ones(1, 3, 5, 5), tidu.ones(2, 2, 3, 3), groups=2)
    with pytest.raises(tidu.errors.ShapeError, match="conv_transpose2d: expected an input "
                       "with 2 channels"):
        F.conv_transpose2d(tidu.ones(1, 3, 5, 5), tidu.ones(2, 3, 3, 3))


def test_kernel_larger_than_padded_input():
    with pytest.raises(tidu.errors.ShapeError, match=r"conv1d: the kernel \(size 5.*larger "
                       r"than the padded input.*size 3 \+ padding 0\+0"):
        F.conv1d(tidu.ones(1, 1, 3), tidu.ones(1, 1, 5))
    F.conv1d(tidu.ones(1, 1, 3), tidu.ones(1, 1, 5), padding=1)  # 5 fits 3 + 1 + 1


def test_bad_arguments():
    x, w = tidu.ones(1, 2, 5, 5), tidu.ones(2, 2, 3, 3)
    with pytest.raises(ValueError, match="conv2d: padding must be an int, a tuple of 2 ints, "
                       "'valid' or 'same', got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="conv2d: stride must be an int >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(tidu.errors.ShapeError, match="conv2d: expected a 4-D input"):
        F.conv2d(tidu.ones(2, 5, 5), w)
    with pytest.raises(ValueError, match="conv_transpose2d: padding must be an int"):
        F.conv_transpose2d(x, w, padding="same")
    with pytest.raises(ValueError, match="output_padding .* must be smaller"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="data_format"):
        F.conv2d(x, w, data_format="NHWC")


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(groups=2, padding="same"),
                                dict(groups=4, dilation=2)])
def test_chunks_of_the_batch_give_the_same_results(kw, monkeypatch, torch_check):
    """The kernels work on a few images at a time; one image per chunk changes nothing."""
    from tidu.ops import _conv_kernels

    monkeypatch.setattr(_conv_kernels, "CHUNK_BYTES", 1)
    rng = np.random.default_rng(5)
    g = kw.get("groups", 1)
    arrays = [rng.standard_normal((5, 4, 7, 6)), rng.standard_normal((8, 4 // g, 3, 3)),
              rng.standard_normal(8)]
    torch_check(lambda *a: F.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), arrays)
    x = rng.standard_normal((3, 8, 7, 6))
    w = rng.standard_normal((8, 4 // g, 3, 3))
    torch_check(lambda *a: F.conv_transpose2d(*a, stride=2, groups=g),
                lambda *a: TF.conv_transpose2d(*a, stride=2, groups=g), [x, w])
