"""Convolution layers: Keras's Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
and PyTorch's Conv1d/Conv2d/ConvTranspose2d: parameter counts and shapes as Keras and torch
document them, torch state dicts as the oracle, configs, saving, jit_compile, errors, and a
small CNN that learns."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import tidu
from tidu.errors import ShapeError
from tidu.nn import (
    Conv1D,
    Conv1d,
    Conv2D,
    Conv2d,
    Conv2DTranspose,
    Conv3D,
    ConvTranspose2d,
    Dense,
    DepthwiseConv2D,
    Flatten,
    SeparableConv2D,
)


# ----- Keras: parameter counts and output shapes (Keras's documented values) -----
@pytest.mark.parametrize("make, shape, params, out", [
    (lambda: Conv2D(32, 3, activation="relu"), (28, 28, 1), 320, (26, 26, 32)),
    (lambda: Conv2D(64, (3, 3)), (13, 13, 32), 18_496, (11, 11, 64)),
    (lambda: Conv2D(8, 3, padding="same", strides=2), (9, 10, 3), 224, (5, 5, 8)),
    (lambda: Conv2D(8, 3, groups=2, use_bias=False), (7, 7, 4), 144, (5, 5, 8)),
    (lambda: Conv2D(4, 3, dilation_rate=2), (9, 9, 2), 76, (5, 5, 4)),
    (lambda: Conv2D(6, 3, data_format="channels_first"), (3, 8, 8), 168, (6, 6, 6)),
    (lambda: Conv1D(16, 5), (100, 8), 656, (96, 16)),
    (lambda: Conv1D(4, 3, strides=2, padding="same"), (9, 2), 28, (5, 4)),
    (lambda: Conv3D(4, 3), (6, 6, 6, 2), 220, (4, 4, 4, 4)),
    (lambda: DepthwiseConv2D(3), (8, 8, 16), 160, (6, 6, 16)),
    (lambda: DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (8, 8, 4), 80,
     (8, 8, 8)),
    (lambda: SeparableConv2D(32, 3), (16, 16, 8), 8 * 9 + 8 * 32 + 32, (14, 14, 32)),
    (lambda: SeparableConv2D(8, 3, depth_multiplier=2, use_bias=False), (6, 6, 3), 102,
     (4, 4, 8)),
    (lambda: Conv2DTranspose(16, 3, strides=2, padding="same"), (7, 7, 8), 1168, (14, 14, 16)),
    (lambda: Conv2DTranspose(4, 3, strides=2), (5, 5, 2), 76, (11, 11, 4)),
    (lambda: Conv2DTranspose(4, 2, strides=3), (5, 5, 2), 36, (15, 15, 4)),
    (lambda: Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=0), (5, 5, 2),
     76, (9, 9, 4)),
])
def test_keras_params_and_shapes(make, shape, params, out):
    assert make().compute_output_shape((None, *shape)) == (None, *out)  # before it is built
    layer = make()
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    y = layer(x)
    assert y.shape == (2, *out)
    assert layer.count_params() == params
    assert layer.compute_output_shape((None, *shape)) == (None, *out)
    assert y.dtype == np.float32


def test_keras_weight_names_and_layouts():
    assert [n for n, _ in Conv2D(4, (3, 2), input_shape=(8, 8, 3)).named_parameters()] == \
        ["kernel", "bias"]
    assert Conv2D(4, (3, 2), input_shape=(8, 8, 3)).kernel.shape == (3, 2, 3, 4)
    d = DepthwiseConv2D(3, depth_multiplier=2, input_shape=(8, 8, 3))
    assert d.depthwise_kernel.shape == (3, 3, 3, 2) and d.bias.shape == (6,)
    s = SeparableConv2D(5, 3, input_shape=(8, 8, 3))
    assert [n for n, _ in s.named_parameters()] == ["depthwise_kernel", "pointwise_kernel",
                                                   "bias"]
    assert s.pointwise_kernel.shape == (1, 1, 3, 5)
    assert Conv2DTranspose(6, 3, input_shape=(4, 4, 2)).kernel.shape == (3, 3, 6, 2)


def test_keras_layers_equal_torch_on_the_same_weights():
    """Channels-last Keras layers against torch's NCHW functions with the kernels moved."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 4))
    xt = torch.tensor(x.transpose(0, 3, 1, 2))
    nchw = lambda t: t.detach().numpy().transpose(0, 2, 3, 1)  # noqa: E731

    conv = Conv2D(6, 3, strides=2, padding="same", groups=2, input_shape=(9, 8, 4))
    conv.set_weights([rng.standard_normal(p.shape).astype(np.float32)
                      for p in conv.parameters()])
    k, b = (torch.tensor(p.data.astype(np.float64)) for p in conv.parameters())
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (0, 1, 1, 1)),
                                     k.permute(3, 2, 0, 1), b, stride=2, groups=2)
    np.testing.assert_allclose(conv(x.astype(np.float32)).numpy(), nchw(ref), atol=1e-4)

    dw = DepthwiseConv2D(3, depth_multiplier=2, input_shape=(9, 8, 4))
    dk = torch.tensor(dw.depthwise_kernel.data.astype(np.float64))  # (3, 3, 4, 2)
    ref = torch.nn.functional.conv2d(xt, dk.reshape(3, 3, 1, 8).permute(3, 2, 0, 1), groups=4)
    np.testing.assert_allclose(dw(x.astype(np.float32)).numpy(), nchw(ref), atol=1e-4)

    tr = Conv2DTranspose(3, 3, strides=2, padding="same", input_shape=(9, 8, 4))
    tk = torch.tensor(tr.kernel.data.astype(np.float64))  # (3, 3, 3, 4): (kh, kw, out, in)
    full = torch.nn.functional.conv_transpose2d(xt, tk.permute(3, 2, 0, 1), stride=2)
    # TF's 'same' for the 18 x 16 output: total padding (9 - 1) * 2 + 3 - 18 = 1 (and 1 for
    # the width), all of it after, so the output is the first 18 x 16 of the full one
    ref = full[:, :, :18, :16]
    out = tr(x.astype(np.float32)).numpy()
    assert out.shape == (2, 18, 16, 3) and tuple(full.shape[2:]) == (19, 17)
    np.testing.assert_allclose(out, nchw(ref), atol=1e-4)


def test_channels_first_equals_channels_last():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)
    for make in (lambda f: Conv2D(4, 3, strides=2, padding="same", data_format=f),
                 lambda f: DepthwiseConv2D(3, depth_multiplier=2, data_format=f),
                 lambda f: SeparableConv2D(4, 3, data_format=f),
                 lambda f: Conv2DTranspose(4, 3, strides=2, data_format=f)):
        last, first = make("channels_last"), make("channels_first")
        tidu.manual_seed(0)  # the same kernels: each is built on its first call
        a = last(x).numpy()
        tidu.manual_seed(0)
        b = first(x.transpose(0, 3, 1, 2)).numpy()
        np.testing.assert_allclose(b.transpose(0, 2, 3, 1), a, rtol=1e-5, atol=1e-5)


def test_summary_of_the_simple_mnist_convnet(capsys):
    from tidu.nn import MaxPooling2D

    model = tidu.Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
                             MaxPooling2D(2), Conv2D(64, 3, activation="relu"),
                             MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])
    model.summary()
    text = capsys.readouterr().out
    for row in ("(None, 26, 26, 32)", "320", "(None, 11, 11, 64)", "18,496", "34,826"):
        assert row in text
    assert re.search(r"\bconv2d(_\d+)? \(Conv2D\)", text)  # Keras's default name


# ----- PyTorch style: shapes, counts, torch's state dicts -----
@pytest.mark.parametrize("make, tmake, shape", [
    (lambda: Conv2d(3, 8, 3, padding=1), lambda: torch.nn.Conv2d(3, 8, 3, padding=1),
     (2, 3, 9, 9)),
    (lambda: Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
     lambda: torch.nn.Conv2d(4, 6, (3, 2), stride=2, dilation=(1, 2), groups=2, bias=False),
     (1, 4, 10, 9)),
    (lambda: Conv2d(2, 4, 3, padding="same"), lambda: torch.nn.Conv2d(2, 4, 3, padding="same"),
     (1, 2, 6, 7)),
    (lambda: Conv1d(3, 5, 4, stride=2, padding=1), lambda: torch.nn.Conv1d(3, 5, 4, 2, 1),
     (2, 3, 12)),
    (lambda: ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
     lambda: torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
     (2, 4, 5, 6)),
    (lambda: ConvTranspose2d(4, 6, 2, stride=2, groups=2),
     lambda: torch.nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2), (1, 4, 3, 3)),
])
def test_torch_layers_load_torch_state_dicts(make, tmake, shape):
    layer, ref = make(), tmake()
    assert [(n, p.shape) for n, p in layer.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    assert layer.count_params() == sum(p.numel() for p in ref.parameters())
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    want = ref(torch.from_numpy(x)).detach().numpy()
    got = layer(x).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape((None, *shape[1:])) == (None, *want.shape[1:])


def test_torch_init_bounds_match_torch():
    """kaiming_uniform(a=sqrt(5)): |w| and |b| below 1 / sqrt(fan_in), fan_in from dim 1."""
    tidu.manual_seed(0)
    conv, tr = Conv2d(4, 16, 3), ConvTranspose2d(4, 16, 3)
    bound = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.9 * bound
    tbound = 1 / np.sqrt(16 * 9)
    assert np.abs(tr.weight.data).max() <= tbound and tr.weight.shape == (4, 16, 3, 3)
    with pytest.raises(ValueError, match="padding_mode='zeros'"):
        Conv2d(2, 2, 3, padding_mode="reflect")


# ----- configs, saving, compile -----
@pytest.mark.parametrize("make, shape", [
    (lambda: Conv2D(5, (3, 2), strides=2, padding="same", activation="tanh",
                    kernel_initializer="he_normal", dilation_rate=1), (8, 8, 2)),
    (lambda: DepthwiseConv2D(3, depth_multiplier=2, data_format="channels_first"), (2, 6, 6)),
    (lambda: SeparableConv2D(4, 3, padding="same"), (6, 6, 2)),
    (lambda: Conv2DTranspose(3, 3, strides=2, output_padding=1), (4, 4, 2)),
    (lambda: Conv1D(3, 2, dilation_rate=2), (9, 2)),
    (lambda: Conv3D(2, 2, groups=2), (4, 4, 4, 2)),
    (lambda: Conv2d(2, 4, 3, stride=2, groups=2), (2, 7, 7)),
    (lambda: ConvTranspose2d(2, 3, 3, stride=2, output_padding=1), (2, 4, 4)),
])
def test_get_config_round_trips(make, shape):
    layer = make()
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    y = layer(x)
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config({**config, "name": None})
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y.numpy())
    assert {k: v for k, v in clone.get_config().items() if k != "name"} == \
        {k: v for k, v in config.items() if k != "name"}


def _small_cnn():
    return tidu.Sequential([
        Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        SeparableConv2D(6, 3, strides=2, activation="relu"),
        DepthwiseConv2D(2), Flatten(), Dense(3, activation="softmax")])


def _images(n=48, seed=0):
    """Three classes: a bright row, a bright column or a bright diagonal, with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i, c in enumerate(y):
        j = rng.integers(1, 7)
        if c == 0:
            x[i, j, :, 0] += 2
        elif c == 1:
            x[i, :, j, 0] += 2
        else:
            x[i, np.arange(8), np.arange(8), 0] += 2
    return x, np.eye(3, dtype=np.float32)[y]


def test_save_and_load_a_cnn(tmp_path):
    pytest.importorskip("safetensors")
    tidu.manual_seed(0)
    model = _small_cnn()
    x, _ = _images(8)
    path = tmp_path / "cnn.tidu"
    model.save(path)
    back = tidu.models.load_model(path)
    assert [type(m) for m in back.layers] == [type(m) for m in model.layers]
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_jit_compile_trains_a_cnn_to_the_eager_weights():
    x, y = _images()
    weights = {}
    for jit in (False, True):
        tidu.manual_seed(0)
        model = _small_cnn()
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
        weights[jit] = [p.data.copy() for p in model.parameters()]
    for a, b in zip(weights[False], weights[True]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    tidu.manual_seed(0)
    assert not np.allclose(_small_cnn().parameters()[0].data, weights[True][0])


def test_a_small_cnn_learns():
    x, y = _images(60)
    tidu.manual_seed(0)
    model = _small_cnn()
    model.compile(optimizer=tidu.optim.Adam(lr=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=12, verbose=0, seed=0)
    loss = hist.history["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert hist.history["accuracy"][-1] > 0.8


# ----- errors in the user's terms -----
def test_errors_name_the_layer_and_the_shapes():
    layer = Conv2D(4, 3, input_shape=(8, 8, 3), name="features")
    with pytest.raises(ShapeError, match=r"features: expected an input with 3 channels, got 5 "
                       r"channels \(input shape \(2, 8, 8, 5\)"):
        layer(np.zeros((2, 8, 8, 5), np.float32))
    with pytest.raises(ShapeError, match="features: expected an input of 4 dimensions"):
        layer(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ShapeError, match=r"features \(Conv2D\): the kernel .* larger than the "
                       "padded input"):
        layer(np.zeros((1, 2, 2, 3), np.float32))
    torch_style = Conv2d(3, 4, 3, name="stem")
    with pytest.raises(ShapeError, match=r"stem: expected an input \(N, 3, H, W\) with 3 "
                       r"channels, got input shape \(1, 4, 8, 8\)"):
        torch_style(np.zeros((1, 4, 8, 8), np.float32))
    with pytest.raises(ShapeError, match="not divisible by groups=2"):
        Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        Conv2D(4, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="in_channels=3 must be divisible by groups=2"):
        Conv2d(3, 4, 3, groups=2)
