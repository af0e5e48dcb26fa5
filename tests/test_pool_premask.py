"""MaxPool after Conv2D(activation='relu'): the pool's backward applies the rectifier's mask
while it scatters (tidu.accel.pool.max_backward, given the maxima) and the ConvReLU node
skips its own pass over the gradient. Every gradient must keep the bits of the unfused path,
and anything that could see the conv output's gradient (a hook, retain_grad, grad()'s
targets, a second consumer) must still see the unmasked one."""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from tidu.nn import Conv2D, MaxPooling2D
from tidu.ops import _conv_kernels as K

pytest.importorskip("numba")


def _inputs(seed=0, shape=(3, 11, 11, 2)):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal((shape[0], 4, 4, 5)).astype(np.float32)
    g[0, 0, 0, :] = -g[0, 0, 0, :]  # negative gradients at masked maxima give -0 unfused
    return x, g


def _layers():
    tidu.manual_seed(3)
    conv, pool = Conv2D(5, 3, activation="relu"), MaxPooling2D(2)
    conv.build((None, 11, 11, 2))
    with tidu.no_grad():
        conv.bias.data[:] = np.float32(-0.3)  # many outputs rectified to 0, maxima among them
    return conv, pool


def _grads(conv, pool, x, g, how="plain"):
    """(x, kernel, bias) gradients of sum(pool(conv(x)) * g) and the conv output's gradient
    where ``how`` makes it visible."""
    xt = tidu.Tensor(x, requires_grad=True)
    conv.kernel.grad = conv.bias.grad = None
    y = conv(xt)
    seen = {}
    if how == "retain":
        y.retain_grad()
    elif how == "hook":
        y.register_hook(lambda gy: seen.setdefault("hook", gy.numpy().copy()))
    out = (pool(y) * tidu.Tensor(g)).sum()
    if how == "second":
        out = out + (y * y).sum() * 0.01
    if how == "grad":
        gx, gk, gb, gy = tidu.autograd.grad(out, [xt, conv.kernel, conv.bias, y])
        return gx.numpy(), gk.numpy(), gb.numpy(), gy.numpy(), y.numpy()
    out.backward()
    gy = y.grad.numpy() if how == "retain" else seen.get("hook")
    return xt.grad.numpy(), conv.kernel.grad.numpy(), conv.bias.grad.numpy(), gy, y.numpy()


def _spy(monkeypatch) -> list:
    """Record, for each conv_grads call, whether it was given the rectifier's output to mask
    the gradient with."""
    masks, real = [], K.conv_grads

    def spy(x, gy, w, geo, needs, relu=None):
        masks.append(relu is not None)
        return real(x, gy, w, geo, needs, relu)

    monkeypatch.setattr(K, "conv_grads", spy)
    return masks


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_the_fused_mask_gives_the_bits_of_the_numpy_path_and_skips_the_conv_mask(monkeypatch):
    x, g = _inputs()
    conv, pool = _layers()
    with tidu.accel.disabled():
        ref = _grads(conv, pool, x, g)
    masks = _spy(monkeypatch)
    got = _grads(conv, pool, x, g)
    assert masks == [False]  # the pool handed the gradient masked
    for a, b in zip(got[:3], ref[:3]):
        _same_bits(a, b)
    y = got[4][:, :8, :8].reshape(3, 4, 2, 4, 2, 5)
    assert (y.max(axis=(2, 4)) == 0).any()  # some windows' maxima were rectified: masked


@pytest.mark.parametrize("how", ["retain", "hook", "grad"])
def test_a_visible_conv_gradient_is_the_unmasked_one(monkeypatch, how):
    x, g = _inputs(1)
    conv, pool = _layers()
    with tidu.accel.disabled():
        ref = _grads(conv, pool, x, g, how)
    masks = _spy(monkeypatch)
    got = _grads(conv, pool, x, g, how)
    assert masks == [True]  # not fused: the conv masked the gradient itself
    for a, b in zip(got[:3], ref[:3]):
        _same_bits(a, b)
    np.testing.assert_array_equal(got[3], ref[3])  # NumPy's scatter writes g * 0: zero signs
    # the pool's gradient itself, not rectified: nonzero where the maximum was rectified to 0
    assert ((got[3] != 0) & (got[4] == 0)).any()


def test_a_second_consumer_of_the_rectified_output_gets_equal_gradients():
    x, g = _inputs(2)
    conv, pool = _layers()
    with tidu.accel.disabled():
        ref = _grads(conv, pool, x, g, "second")
    got = _grads(conv, pool, x, g, "second")
    for a, b in zip(got[:3], ref[:3]):
        # the pool's masked share plus the other: equal values (a zero's sign may differ)
        np.testing.assert_array_equal(a, b)
