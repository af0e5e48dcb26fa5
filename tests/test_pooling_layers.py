"""Pooling and spatial layers: Keras's shapes (summary, compute_output_shape), no parameters,
channels_first, configs that round-trip, saved models, PyTorch-style layers against torch.nn,
ZeroPadding2D / Cropping2D / UpSampling2D values, and errors that name the layer and shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
from tidu.nn import layers as L

RNG = np.random.default_rng(0)
POOLING = L._pooling.__all__
SPATIAL = L._spatial.__all__
# one instance of every class (aliases included), with non-default arguments where they exist
KERAS_2D = {
    "MaxPooling2D": L.MaxPooling2D((3, 2), strides=(2, 1), padding="same"),
    "AveragePooling2D": L.AveragePooling2D(3, 2, "same"),
    "GlobalAveragePooling2D": L.GlobalAveragePooling2D(keepdims=True),
    "GlobalMaxPooling2D": L.GlobalMaxPooling2D(),
    "ZeroPadding2D": L.ZeroPadding2D(((1, 2), (0, 3))),
    "Cropping2D": L.Cropping2D(((1, 0), (2, 1))),
    "UpSampling2D": L.UpSampling2D((2, 3), interpolation="bilinear"),
}
KERAS_1D = {
    "MaxPooling1D": L.MaxPooling1D(3, 2, "same"), "AveragePooling1D": L.AveragePooling1D(2),
    "GlobalAveragePooling1D": L.GlobalAveragePooling1D(), "GlobalMaxPooling1D":
    L.GlobalMaxPooling1D(keepdims=True), "ZeroPadding1D": L.ZeroPadding1D((2, 1)),
    "Cropping1D": L.Cropping1D(2), "UpSampling1D": L.UpSampling1D(3),
}
TORCH = {
    "MaxPool2d": (L.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1,
                                                                             ceil_mode=True)),
    "MaxPool1d": (L.MaxPool1d(2, 1, dilation=2), torch.nn.MaxPool1d(2, 1, dilation=2)),
    "AvgPool2d": (L.AvgPool2d(3, 2, 1, count_include_pad=False),
                  torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    "AvgPool1d": (L.AvgPool1d(3, 2, 1, ceil_mode=True), torch.nn.AvgPool1d(3, 2, 1,
                                                                             ceil_mode=True)),
    "AdaptiveAvgPool2d": (L.AdaptiveAvgPool2d((3, None)), torch.nn.AdaptiveAvgPool2d((3, None))),
    "AdaptiveAvgPool1d": (L.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3)),
    "AdaptiveMaxPool2d": (L.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
    "AdaptiveMaxPool1d": (L.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4)),
    "Upsample": (L.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
                 torch.nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True)),
}
ALIASES = {"MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"}


def test_every_exported_class_is_covered_here():
    assert set(POOLING) | set(SPATIAL) == set(KERAS_2D) | set(KERAS_1D) | set(TORCH) | ALIASES
    for name in ALIASES:
        assert getattr(L, name) is getattr(L, name.replace("Avg", "Average").replace(
            "Pool", "Pooling"))
    for name in (*POOLING, *SPATIAL):
        assert name in tidu.nn.__all__ and name in tidu.keras.layers.__all__


# Keras's documented shapes (keras.io pooling and reshaping layer pages)
@pytest.mark.parametrize("layer,shape,expected", [
    (L.MaxPooling2D(2), (None, 26, 26, 32), (None, 13, 13, 32)),
    (L.MaxPooling2D(2), (None, 11, 11, 64), (None, 5, 5, 64)),
    (L.MaxPooling2D(2, padding="same"), (None, 11, 11, 64), (None, 6, 6, 64)),
    (L.MaxPooling2D((2, 2), strides=(1, 1)), (None, 3, 3, 1), (None, 2, 2, 1)),
    (L.MaxPooling2D(3, 2, "same"), (None, 7, 8, 5), (None, 4, 4, 5)),
    (L.MaxPooling2D(2, data_format="channels_first"), (None, 32, 26, 26), (None, 32, 13, 13)),
    (L.AveragePooling2D(3, 2), (None, 9, 9, 3), (None, 4, 4, 3)),
    (L.MaxPooling1D(2, 1), (None, 5, 1), (None, 4, 1)),
    (L.AveragePooling1D(2, padding="same"), (None, 5, 1), (None, 3, 1)),
    (L.GlobalAveragePooling2D(), (None, 4, 5, 3), (None, 3)),
    (L.GlobalMaxPooling2D(keepdims=True), (None, 4, 5, 3), (None, 1, 1, 3)),
    (L.GlobalMaxPooling2D(data_format="channels_first"), (None, 3, 4, 5), (None, 3)),
    (L.GlobalAveragePooling1D(), (None, 10, 3), (None, 3)),
    (L.ZeroPadding2D(((1, 2), (0, 3))), (None, 4, 5, 3), (None, 7, 8, 3)),
    (L.ZeroPadding2D(1, data_format="channels_first"), (None, 3, 4, 5), (None, 3, 6, 7)),
    (L.Cropping2D(((2, 2), (4, 4))), (None, 28, 28, 3), (None, 24, 20, 3)),
    (L.UpSampling2D((2, 3)), (None, 4, 5, 3), (None, 8, 15, 3)),
    (L.UpSampling1D(2), (None, 3, 4), (None, 6, 4)),
    (L.ZeroPadding1D(2), (None, 3, 4), (None, 7, 4)),
    (L.Cropping1D(1), (None, 5, 4), (None, 3, 4)),
    (L.MaxPooling2D(2), (None, None, None, 3), (None, None, None, 3)),
])
def test_output_shapes_are_keras_and_match_the_forward(layer, shape, expected):
    assert layer.compute_output_shape(shape) == expected
    if None not in shape[1:]:
        x = RNG.standard_normal((2, *shape[1:])).astype(np.float32)
        y = layer(x)
        assert y.shape == (2, *expected[1:]) and y.dtype == np.float32
    assert layer.count_params() == 0 and not list(layer.parameters())


def test_summary_of_the_mnist_convnet_tail():
    model = tidu.Sequential([L.Dense(26 * 26 * 32, input_shape=(1,)), L.Reshape((26, 26, 32)),
                             L.MaxPooling2D(pool_size=(2, 2)), L.ZeroPadding2D(1),
                             L.Cropping2D(((1, 0), (2, 1))), L.MaxPooling2D(2),
                             L.Flatten(), L.Dense(10)])
    text = model.summary(print_fn=None)
    for row in ("(None, 13, 13, 32)", "(None, 15, 15, 32)", "(None, 14, 12, 32)",
                "(None, 7, 6, 32)", "(None, 1344)", "13,450", "(None, 26, 26, 32)  "):
        assert row in text
    assert "max_pooling2d" in text and "zero_padding2d" in text


@pytest.mark.parametrize("fmt", ["channels_first", "channels_last"])
@pytest.mark.parametrize("name", sorted(KERAS_2D))
def test_channels_first_equals_channels_last_transposed(name, fmt):
    layer = KERAS_2D[name]
    other = type(layer).from_config({**layer.get_config(), "name": None,
                                     "data_format": "channels_first"})
    x = RNG.standard_normal((2, 7, 8, 3)).astype(np.float32)
    want = layer(x).numpy()
    got = other(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).numpy()
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1) if got.ndim == 4 else got, want,
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted({**KERAS_2D, **KERAS_1D, **TORCH}))
def test_config_round_trips_through_json(name):
    layer = {**KERAS_2D, **KERAS_1D}.get(name) or TORCH[name][0]
    config = json.loads(json.dumps(layer.get_config()))
    back = type(layer).from_config(config)
    assert json.loads(json.dumps(back.get_config())) == config and repr(back) == repr(layer)
    shape = (2, 9, 8, 3) if name in KERAS_2D else (2, 9, 3) if name in KERAS_1D else \
        (2, 3, 9) if "1d" in name else (2, 3, 9, 8)
    x = RNG.standard_normal(shape)
    np.testing.assert_array_equal(back(x).numpy(), layer(x).numpy())


def test_keras_configs_hold_keras_values():
    assert L.MaxPooling2D(2).get_config() | {"name": "n"} == {
        "name": "n", "pool_size": (2, 2), "strides": (2, 2), "padding": "valid",
        "data_format": "channels_last"}
    assert L.ZeroPadding2D(1).get_config()["padding"] == ((1, 1), (1, 1))
    assert L.Cropping2D((1, 2)).get_config()["cropping"] == ((1, 1), (2, 2))


def test_a_saved_model_predicts_the_same(tmp_path):
    model = tidu.Sequential([
        L.Dense(72, input_shape=(5,)), L.Reshape((6, 6, 2)), L.ZeroPadding2D(1), L.MaxPooling2D(2),
        L.UpSampling2D(2, interpolation="bilinear"), L.Cropping2D(1),
        L.AveragePooling2D(2, 1, "same"), L.GlobalMaxPooling2D(keepdims=True), L.Flatten(),
        L.Dense(4)])
    x = RNG.standard_normal((5, 5)).astype(np.float32)
    model.save(tmp_path / "m.tidu")
    back = tidu.load_model(tmp_path / "m.tidu")
    assert [type(m) for m in back.layers] == [type(m) for m in model.layers]
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


@pytest.mark.parametrize("name", sorted(TORCH))
def test_torch_style_layers_match_torch_nn(name):
    ours, theirs = TORCH[name]
    assert repr(ours) == repr(theirs)
    shape = (2, 3, 9, 8) if "1d" not in name else (2, 3, 9)
    x = RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.1  # distinct: no ties
    a, t = tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, r = ours(a), theirs(t)
    assert ours.compute_output_shape((None, *shape[1:])) == (None, *r.shape[1:])
    np.testing.assert_allclose(y.numpy(), r.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(tuple(r.shape))
    y.backward(g)
    r.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert ours.count_params() == 0 == sum(p.numel() for p in theirs.parameters())


def test_torch_reprs_and_indices():
    assert repr(L.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, " \
        "ceil_mode=False)"
    x = RNG.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6).astype(float)
    y, i = L.MaxPool2d(2, return_indices=True)(x)
    r, j = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(i.numpy(), j.numpy())
    np.testing.assert_array_equal(y.numpy(), r.numpy())


def test_spatial_values_against_torch():
    x = RNG.standard_normal((2, 5, 6, 3))
    t = torch.tensor(x).permute(0, 3, 1, 2)
    to_last = (0, 2, 3, 1)
    np.testing.assert_array_equal(L.ZeroPadding2D(((1, 2), (3, 0)))(x).numpy(),
                                  TF.pad(t, (3, 0, 1, 2)).permute(*to_last).numpy())
    np.testing.assert_array_equal(L.Cropping2D(((1, 2), (0, 3)))(x).numpy(), x[:, 1:-2, 0:3])
    np.testing.assert_array_equal(L.UpSampling2D((2, 3))(x).numpy(),
                                  x.repeat(2, axis=1).repeat(3, axis=2))
    up = torch.nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(L.UpSampling2D((2, 3), interpolation="bilinear")(x).numpy(),
                               up(t).permute(*to_last).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(L.UpSampling1D(2)(x[:, :, 0]).numpy(),
                                  x[:, :, 0].repeat(2, axis=1))
    np.testing.assert_array_equal(L.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))
    np.testing.assert_allclose(L.GlobalAveragePooling1D()(x[:, 0]).numpy(), x[:, 0].mean(1))


def test_gradients_through_the_keras_layers():
    x = RNG.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) * 0.1
    for layer in (*KERAS_2D.values(), L.MaxPooling2D(2)):
        assert tidu.gradcheck(lambda a, layer=layer: layer(a), [x]).ok


@pytest.mark.parametrize("layer,shape,words", [
    (L.MaxPooling2D(2), (None, 26, 26), ["max_pooling2d", "4-D", "(batch, rows, cols, "
                                          "channels)", "(None, 26, 26)"]),
    (L.MaxPooling2D(3), (None, 2, 5, 1), ["max_pooling2d", "(None, 2, 5, 1)",
                                          "pool_size=(3, 3)"]),
    (L.AveragePooling1D(2, data_format="channels_first"), (None, 3), [
        "average_pooling1d", "(batch, channels, steps)", "(None, 3)"]),
    (L.GlobalAveragePooling2D(), (None, 4, 3), ["global_average_pooling2d", "(None, 4, 3)"]),
    (L.Cropping2D(((2, 2), (0, 0))), (None, 4, 5, 3), ["cropping2d", "(None, 4, 5, 3)"]),
    (L.UpSampling2D(2), (None, 4), ["up_sampling2d", "(None, 4)"]),
    (L.MaxPool2d(3), (None, 3, 2, 2), ["max_pool2d", "(None, 3, 2, 2)", "kernel_size=(3, 3)"]),
    (L.AdaptiveAvgPool2d(2), (None, 8), ["adaptive_avg_pool2d", "(N, C, H, W)", "(None, 8)"]),
    (L.Upsample(scale_factor=2), (None, 8), ["upsample", "(N, C, H, W)", "(None, 8)"]),
])
def test_shape_errors_name_the_layer_and_the_shapes(layer, shape, words):
    for call, batch in ((lambda: layer.compute_output_shape(shape), "None"),
                        (lambda: layer(np.zeros((2, *shape[1:]), np.float32)), "2")):
        with pytest.raises(tidu.ShapeError) as info:
            call()
        for w in words:
            assert w.replace("(None,", f"({batch},") in str(info.value)


@pytest.mark.parametrize("make,words", [
    (lambda: L.MaxPooling2D(2, padding="full"), ["max_pooling2d", "'full'"]),
    (lambda: L.MaxPooling2D(0), ["max_pooling2d", "pool_size"]),
    (lambda: L.AveragePooling2D(2, data_format="nhwc"), ["average_pooling2d", "'nhwc'"]),
    (lambda: L.ZeroPadding2D(((1, 2, 3),)), ["zero_padding2d", "padding"]),
    (lambda: L.Cropping2D(-1), ["cropping2d", "cropping"]),
    (lambda: L.UpSampling2D(2, interpolation="area"), ["up_sampling2d", "'area'"]),
    (lambda: L.MaxPool2d(3, padding=2), ["max_pool2d", "padding=(2, 2)"]),
    (lambda: L.AdaptiveAvgPool2d(0), ["adaptive_avg_pool2d", "output_size"]),
    (lambda: L.Upsample(), ["upsample", "size", "scale_factor"]),
])
def test_bad_arguments_name_the_layer(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for w in words:
        assert w in str(info.value)


def test_jit_compile_trains_like_eager():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 8)).astype("float32"), rng.integers(0, 3, 32)
    hist = {}
    for jit in (False, True):
        tidu.manual_seed(0)
        model = tidu.Sequential([
            L.Dense(72, input_shape=(8,)), L.Reshape((6, 6, 2)), L.ZeroPadding2D(1),
            L.MaxPooling2D(2), L.UpSampling2D(2, interpolation="bilinear"), L.Cropping2D(1),
            L.AveragePooling2D(2, 1, "same"), L.MaxPooling2D(3, 2, "same"),
            L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        hist[jit] = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0).history["loss"]
    np.testing.assert_allclose(hist[True], hist[False], rtol=1e-5)
    assert hist[True][1] != hist[True][0]


def test_symbolic_inputs_of_unknown_size_are_refused_in_words():
    x = tidu.dtensor4("x")
    for call in (lambda: tidu.nn.functional.max_pool2d(x, 2),
                 lambda: tidu.nn.functional.interpolate(x, scale_factor=2)):
        with pytest.raises(tidu.ShapeError, match="needs known spatial sizes"):
            call()


def test_input_shape_starts_a_sequential_and_is_checked():
    model = tidu.Sequential([L.ZeroPadding2D((1, 1), input_shape=(28, 28, 1)),
                             L.MaxPooling2D(2), L.Flatten(), L.Dense(3)])
    assert model.input_shape == (None, 28, 28, 1)
    assert "(None, 15, 15, 1)" in model.summary(print_fn=None)
    assert model.count_params() == 15 * 15 * 3 + 3
    with pytest.raises(tidu.ShapeError, match=r"max_pooling2d.*\(None, 28\)"):
        L.MaxPooling2D(2, input_shape=(28,))


def test_functional_models_carry_the_shapes_and_the_values():
    inp = tidu.Input((12, 12, 2))
    h = L.UpSampling2D(2, interpolation="bilinear")(L.AveragePooling2D(3, 2, "same")(
        L.MaxPooling2D(2)(inp)))
    out = L.Dense(3)(L.GlobalMaxPooling2D()(L.Cropping2D(1)(L.ZeroPadding2D(2)(h))))
    model = tidu.Model(inp, out)
    assert "(None, 3, 3, 2)" in model.summary(print_fn=None)
    x = RNG.standard_normal((4, 12, 12, 2)).astype(np.float32)
    eager = model.layers[-1](model.layers[-2](model.layers[-3](model.layers[-4](
        model.layers[-5](model.layers[-6](model.layers[-7](tidu.tensor(x))))))))
    np.testing.assert_allclose(model.predict(x), eager.numpy(), rtol=1e-6)
