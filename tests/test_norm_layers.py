"""Normalization layers: Keras's BatchNormalization / LayerNormalization /
GroupNormalization and PyTorch's BatchNorm1d/2d, LayerNorm, GroupNorm; SpatialDropout.
Parameter counts and summaries, moving statistics by hand, torch state dicts, train vs eval,
get_config, training (eager and jit_compile), saving, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from tidu import nn
from tidu.nn import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNormalization,
    Dense,
    GroupNorm,
    GroupNormalization,
    LayerNorm,
    LayerNormalization,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)

RNG = np.random.default_rng(0)


def batch(*shape, seed=0, scale=2.0, shift=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


# ----- Keras: counts, summary, moving statistics -----
def test_batch_normalization_counts_and_summary_match_keras():
    model = tidu.Sequential([Dense(32, input_shape=(8,)), BatchNormalization(), Dense(2)])
    bn = model.layers[1]
    assert bn.count_params() == 128
    assert sum(p.size for p in bn.non_trainable_weights) == 64
    assert [p.name.split("/")[-1] for p in bn.weights] == ["gamma", "beta", "moving_mean",
                                                           "moving_variance"]
    text = model.summary(print_fn=None)
    row = next(line for line in text.splitlines() if "BatchNormalization" in line)
    assert "(None, 32)" in row and "128" in row
    assert "Total params: 482" in text and "Non-trainable params: 64" in text
    image = BatchNormalization(input_shape=(5, 5, 32))
    assert image.compute_output_shape((None, 5, 5, 32)) == (None, 5, 5, 32)
    assert image.count_params() == 128
    first = BatchNormalization(axis=1, input_shape=(16, 5, 5))
    assert first.gamma.shape == (16,) and first.count_params() == 64
    assert BatchNormalization(center=False, scale=False, input_shape=(8,)).count_params() == 16


@pytest.mark.parametrize("axis, shape", [(-1, (6, 3, 3, 4)), (1, (6, 4, 3, 3)), (-1, (10, 4))])
def test_moving_statistics_follow_keras_momentum_by_hand(axis, shape):
    bn = BatchNormalization(axis=axis, momentum=0.9)
    a = axis % len(shape)
    red = tuple(i for i in range(len(shape)) if i != a)
    mm, mv = np.zeros(4), np.ones(4)
    for k in range(3):
        x = batch(*shape, seed=k, shift=k)
        y = bn(x)  # a new layer is in training mode
        mean, var = x.astype(np.float64).mean(red), x.astype(np.float64).var(red)
        mm, mv = mm * 0.9 + mean * 0.1, mv * 0.9 + var * 0.1  # Keras: population variance
        bshape = [1] * len(shape)
        bshape[a] = 4
        want = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-3)
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), mv, rtol=1e-5)
    bn.eval()
    x = batch(*shape, seed=9)
    before = bn.moving_mean.numpy().copy()
    bshape = [1] * len(shape)
    bshape[a] = 4
    want = (x - mm.reshape(bshape)) / np.sqrt(mv.reshape(bshape) + 1e-3)
    np.testing.assert_allclose(bn(x).numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)  # inference: no update


def test_training_argument_and_frozen_layer_choose_the_statistics():
    bn = BatchNormalization(input_shape=(3,))
    x = batch(8, 3)
    train_out = bn(x, training=True).numpy()
    np.testing.assert_allclose(train_out.mean(0), 0, atol=1e-5)
    bn.moving_mean.data[...] = 0.0
    bn.moving_variance.data[...] = 1.0
    bn.eval()
    np.testing.assert_allclose(bn(x).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(bn(x, training=True).numpy(), train_out, rtol=1e-5)
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)  # training=True updated them
    bn.moving_mean.data[...] = 0.0
    bn.moving_variance.data[...] = 1.0
    bn.train()
    bn.trainable = False  # Keras: a frozen BatchNormalization runs in inference mode
    np.testing.assert_allclose(bn(x).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0.0)


# constant 2-D gamma and beta are what a normalization starts from, not a symmetry mistake
@pytest.mark.filterwarnings("ignore:.*compute the same value")
def test_layer_and_group_normalization_match_their_definitions():
    x = batch(2, 5, 5, 8)
    ln = LayerNormalization(input_shape=(5, 5, 8))
    x64 = x.astype(np.float64)
    m, v = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    np.testing.assert_allclose(ln(x).numpy(), (x64 - m) / np.sqrt(v + 1e-3), rtol=1e-4,
                               atol=1e-5)
    ln2 = LayerNormalization(axis=[1, 2])
    out = ln2(x).numpy()
    assert ln2.gamma.shape == (5, 5)
    m, v = x64.mean((1, 2), keepdims=True), x64.var((1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x64 - m) / np.sqrt(v + 1e-3), rtol=1e-4, atol=1e-5)
    gn = GroupNormalization(groups=4)
    g = x64.reshape(2, 5, 5, 4, 2)
    m, v = g.mean((1, 2, 4), keepdims=True), g.var((1, 2, 4), keepdims=True)
    want = ((g - m) / np.sqrt(v + 1e-3)).reshape(x.shape)
    np.testing.assert_allclose(gn(x).numpy(), want, rtol=1e-4, atol=1e-5)
    assert gn.count_params() == 16
    first = GroupNormalization(groups=2, axis=1)(np.moveaxis(x, -1, 1))
    torch_ref = torch.nn.functional.group_norm(torch.tensor(np.moveaxis(x, -1, 1)), 2,
                                               eps=1e-3)
    np.testing.assert_allclose(first.numpy(), torch_ref.numpy(), rtol=1e-4, atol=1e-5)


# ----- PyTorch: state dicts and outputs -----
def _to_tidu(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def test_torch_batchnorm2d_state_dict_loads_and_matches_in_train_and_eval():
    torch.manual_seed(0)
    tb = torch.nn.BatchNorm2d(3, momentum=0.2)
    with torch.no_grad():
        tb.weight.uniform_(0.5, 1.5)
        tb.bias.uniform_(-1, 1)
    for k in range(3):
        tb(torch.tensor(batch(4, 3, 5, 5, seed=k, shift=k)))
    bn = BatchNorm2d(3, momentum=0.2)
    assert list(bn.state_dict()) == list(tb.state_dict())
    bn.load_state_dict(_to_tidu(tb))
    assert float(bn.num_batches_tracked.numpy()) == 3
    x = batch(4, 3, 5, 5, seed=7)
    tb.eval()
    bn.eval()
    np.testing.assert_allclose(bn(x).numpy(), tb(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    tb.train()
    bn.train()
    np.testing.assert_allclose(bn(x).numpy(), tb(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    for k, v in tb.state_dict().items():
        np.testing.assert_allclose(bn.state_dict()[k], v.numpy(), rtol=1e-5, atol=1e-6)
    # and back: tidu's state dict loads into torch
    tb2 = torch.nn.BatchNorm2d(3)
    tb2.load_state_dict({k: torch.tensor(v) for k, v in bn.state_dict().items()})
    assert int(tb2.num_batches_tracked) == 4


def test_torch_parameter_counts_and_trainable_weights():
    bn, tb = BatchNorm2d(16), torch.nn.BatchNorm2d(16)
    assert sum(p.size for p in bn.trainable_weights) == sum(p.numel() for p in tb.parameters())
    assert bn.count_params() == 4 * 16 + 1  # the buffers are weights too (non-trainable)
    assert sum(p.size for p in bn.non_trainable_weights) == 2 * 16 + 1
    for ours, theirs in [(LayerNorm((4, 5)), torch.nn.LayerNorm((4, 5))),
                         (GroupNorm(2, 6), torch.nn.GroupNorm(2, 6)),
                         (BatchNorm1d(5, affine=False), torch.nn.BatchNorm1d(5, affine=False))]:
        assert sum(p.size for p in ours.trainable_weights) == \
            sum(p.numel() for p in theirs.parameters())
        assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batchnorm1d_cumulative_average_and_no_running_stats_follow_torch():
    bn, tb = BatchNorm1d(4, momentum=None), torch.nn.BatchNorm1d(4, momentum=None)
    for k in range(3):
        x = batch(6, 4, 3, seed=k, shift=k)
        np.testing.assert_allclose(bn(x).numpy(), tb(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), tb.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), tb.running_var.numpy(), rtol=1e-5)
    free = BatchNorm1d(4, track_running_stats=False).eval()
    x = batch(6, 4)
    ref = torch.nn.BatchNorm1d(4, track_running_stats=False).eval()(torch.tensor(x))
    np.testing.assert_allclose(free(x).numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:.*compute the same value")
@pytest.mark.parametrize("make", [lambda: (LayerNorm((5, 5)), torch.nn.LayerNorm((5, 5))),
                                  lambda: (GroupNorm(3, 6), torch.nn.GroupNorm(3, 6))])
def test_torch_layer_and_group_norm_state_dicts_match_torch(make):
    ours, theirs = make()
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1, 1)
    ours.load_state_dict(_to_tidu(theirs))
    x = batch(2, 6, 5, 5)
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)


# ----- get_config -----
@pytest.mark.parametrize("layer", [
    BatchNormalization(axis=1, momentum=0.9, epsilon=1e-2, center=False,
                       gamma_regularizer="l2"),
    LayerNormalization(axis=[1, 2], epsilon=1e-4, scale=False),
    GroupNormalization(groups=4, axis=1, epsilon=1e-2),
    BatchNorm2d(8, eps=1e-3, momentum=None, affine=False),
    BatchNorm1d(3, track_running_stats=False),
    LayerNorm((3, 4), eps=1e-6, elementwise_affine=False),
    GroupNorm(2, 4, eps=1e-4, affine=False),
    SpatialDropout2D(0.3, data_format="channels_first", seed=1),
    SpatialDropout1D(0.2),
])
def test_get_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    assert repr(again) == repr(layer)


# ----- SpatialDropout -----
@pytest.mark.parametrize("cls, fmt, shape, spatial", [
    (SpatialDropout2D, "channels_last", (4, 5, 6, 8), (1, 2)),
    (SpatialDropout2D, "channels_first", (4, 8, 5, 6), (2, 3)),
    (SpatialDropout1D, None, (4, 7, 8), (1,)),
    (SpatialDropout3D, "channels_last", (2, 3, 3, 3, 8), (1, 2, 3)),
])
def test_spatial_dropout_drops_whole_channels(cls, fmt, shape, spatial):
    tidu.manual_seed(0)
    kw = {} if fmt is None else {"data_format": fmt}
    layer = cls(0.5, **kw)
    x = tidu.tensor(batch(*shape, scale=1.0, shift=3.0), requires_grad=True)
    y = layer(x)
    ratio = y.numpy() / x.numpy()
    per_map = ratio.min(axis=spatial)
    np.testing.assert_allclose(ratio.max(axis=spatial), per_map, rtol=1e-6)  # one per map
    assert set(np.round(np.unique(per_map), 5)) == {0.0, 2.0}  # dropped, or scaled by 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-6)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_spatial_dropout_errors_and_rate():
    with pytest.raises(tidu.ShapeError, match=r"spatial_dropout2d.*4-D.*\(2, 3, 4\)"):
        SpatialDropout2D(0.5)(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.5, data_format="nhwc")
    with pytest.raises(ValueError, match="rate"):
        SpatialDropout2D(1.0)


# ----- errors in the layer's terms -----
@pytest.mark.parametrize("call, error, match", [
    (lambda: BatchNormalization(input_shape=(32,))(np.ones((2, 16), np.float32)),
     tidu.ShapeError, r"batch_normalization.*32 channels on axis 1.*\(2, 16\)"),
    (lambda: BatchNormalization(input_shape=(4, 4, 3))(np.ones((2, 4, 3), np.float32)),
     tidu.ShapeError, r"batch_normalization.*4-D input.*\(2, 4, 3\)"),
    (lambda: BatchNormalization(axis=0, input_shape=(3,)), tidu.ShapeError, "batch axis"),
    (lambda: GroupNormalization(groups=3, input_shape=(8,)), ValueError,
     r"group_normalization.*8.*multiple of groups=3"),
    (lambda: GroupNormalization(input_shape=(4, 4, 16)), ValueError,
     r"groups=32 cannot be more than the number of channels, 16"),
    (lambda: LayerNormalization(input_shape=(5,))(np.ones((2, 6), np.float32)),
     tidu.ShapeError, r"layer_normalization.*\(2, 6\)"),
    (lambda: BatchNorm2d(3)(np.ones((2, 3, 4), np.float32)), tidu.ShapeError,
     r"batch_norm2d\w*: expected a 4-D input \(N, C, H, W\).*\(2, 3, 4\)"),
    (lambda: BatchNorm2d(3)(np.ones((2, 4, 5, 5), np.float32)), tidu.ShapeError,
     r"batch_norm2d\w*: expected 3 channels on axis 1.*\(2, 4, 5, 5\) with 4"),
    (lambda: BatchNorm1d(3)(np.ones((1, 3), np.float32)), ValueError,
     "more than 1 value per channel"),
    (lambda: GroupNorm(4, 6), ValueError, "num_channels=6 must be divisible by num_groups=4"),
    (lambda: LayerNorm(4)(np.ones((2, 5), np.float32)), tidu.ShapeError,
     r"layer_norm.*last dimensions are \(4,\).*\(2, 5\)"),
])
def test_errors_name_the_layer_and_the_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----- training -----
def _blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = (rng.standard_normal((n, 4)) + labels[:, None] * 1.5) * 10 + 50
    return x.astype(np.float32), np.eye(3, dtype=np.float32)[labels]


def _mlp():
    return tidu.Sequential([BatchNormalization(input_shape=(4,)), Dense(16, activation="relu"),
                            BatchNormalization(gamma_regularizer="l2"),
                            Dense(3, activation="softmax")])


def test_mlp_with_batch_normalization_trains_and_moving_stats_follow_the_rule():
    x, y = _blobs()
    tidu.manual_seed(0)
    model = _mlp()
    model.compile(optimizer=tidu.optim.Adam(0.05), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=len(x), verbose=0)
    loss = hist.history["loss"]
    assert loss[-1] < 0.5 * loss[0]
    bn = model.layers[0]
    # every batch is the whole data set: moving = m^15 * init + (1 - m^15) * batch statistic
    keep = 0.99 ** 15
    np.testing.assert_allclose(bn.moving_mean.numpy(), (1 - keep) * x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), keep + (1 - keep) * x.var(0),
                               rtol=1e-4)
    pred = model.predict(x)  # inference: the moving statistics, not the batch's
    model.eval()
    np.testing.assert_allclose(pred, model(x).numpy(), rtol=1e-5)
    model.train()
    assert not np.allclose(pred, model(x).numpy(), atol=1e-3)


def test_optimizer_and_weight_decay_leave_running_stats_to_the_batch_norm_rule():
    x = batch(8, 3, seed=4)
    tidu.manual_seed(0)
    model = tidu.Sequential([BatchNorm1d(3), nn.Linear(3, 2)])
    opt = tidu.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.5)
    bn = model.layers[0]
    w_before = bn.weight.numpy().copy()
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    x64 = x.astype(np.float64)
    mean, var = x64.mean(0), x64.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), (1 - 0.9 ** 2) * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.81 + (1 - 0.81) * var, rtol=1e-5)
    assert float(bn.num_batches_tracked.numpy()) == 2
    assert bn.running_mean.grad is None
    assert not np.allclose(bn.weight.numpy(), w_before)  # the trainable ones did move


def _torch_mlp():
    return tidu.Sequential([BatchNorm1d(4, momentum=None), nn.Linear(4, 16), nn.ReLU(),
                            BatchNorm1d(16), nn.Linear(16, 3), nn.Softmax(-1)])


@pytest.mark.parametrize("make", [_mlp, _torch_mlp])
def test_jit_compile_trains_batch_normalization_exactly_like_eager(make):
    x, y = _blobs(seed=1)
    runs = []
    for jit in (False, True):
        tidu.manual_seed(0)
        model = make()
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
        hist = model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=2)
        runs.append((hist.history["loss"], model.get_weights(), model))
    (l0, w0, _), (l1, w1, m1) = runs
    np.testing.assert_allclose(l1, l0, rtol=1e-5)
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    assert m1._jit_step.plans  # really compiled
    first = m1.layers[0]
    stats = first.moving_mean if hasattr(first, "moving_mean") else first.running_mean
    assert not np.allclose(stats.numpy(), 0)  # moving statistics updated
    if hasattr(first, "num_batches_tracked"):
        assert float(first.num_batches_tracked.numpy()) == 3 * 3  # 96 samples, batches of 32


def test_second_derivatives_do_not_update_running_statistics_again():
    bn = BatchNorm1d(3)
    x = tidu.tensor(batch(8, 3), requires_grad=True)
    (gx,) = tidu.grad((bn(x) ** 3).sum(), [x], create_graph=True)
    (gx ** 2).sum().backward()
    assert float(bn.num_batches_tracked.numpy()) == 1
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)


def test_saved_model_keeps_moving_statistics(tmp_path):
    pytest.importorskip("safetensors")
    x, y = _blobs(seed=2)
    tidu.manual_seed(0)
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    model.save(tmp_path / "bn.tidu")
    back = tidu.load_model(tmp_path / "bn.tidu")
    for a, b in zip(model.layers, back.layers):
        for n, v in a.state_dict().items():
            np.testing.assert_array_equal(b.state_dict()[n], v)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    assert not np.allclose(back.layers[2].moving_variance.numpy(), 1.0)


ROUND_TRIP = {
    "BatchNormalization": (lambda: BatchNormalization(axis=1, momentum=0.9), (4, 3, 5)),
    "BatchNorm1d": (lambda: BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    "BatchNorm2d": (lambda: BatchNorm2d(3, eps=1e-3), (4, 3, 2, 2)),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(3), (2, 3, 2, 2, 2)),
    "LayerNormalization": (lambda: LayerNormalization(axis=[1, 2], input_shape=(3, 5)),
                           (4, 3, 5)),
    "LayerNorm": (lambda: LayerNorm((3, 5)), (4, 3, 5)),
    "GroupNorm": (lambda: GroupNorm(3, 3), (4, 3, 5)),
    "GroupNormalization": (lambda: GroupNormalization(groups=2), (4, 5, 4)),
    "SpatialDropout1D": (lambda: SpatialDropout1D(0.5), (4, 3, 5)),
    "SpatialDropout2D": (lambda: SpatialDropout2D(0.5, data_format="channels_first"),
                         (4, 3, 2, 2)),
    "SpatialDropout3D": (lambda: SpatialDropout3D(0.5), (2, 2, 2, 2, 3)),
}


def test_round_trip_table_covers_every_layer():
    from tidu.nn.layers import normalization

    assert set(ROUND_TRIP) == set(normalization.__all__)


@pytest.mark.filterwarnings("ignore:.*compute the same value")
@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_every_layer_saves_and_loads_bit_for_bit(tmp_path, name):
    pytest.importorskip("safetensors")
    import json

    make, shape = ROUND_TRIP[name]
    model = tidu.Sequential([make()])
    x = batch(*shape, seed=5)
    if not model.built:
        model(x)
    rng = np.random.default_rng(1)  # weights (and positive variances) init would not give
    model.set_weights([rng.uniform(0.5, 2.0, p.shape).astype(p.dtype)
                       for p in model.parameters()])
    model.save(tmp_path / "m.tidu")
    back = tidu.load_model(tmp_path / "m.tidu")
    assert type(back.layers[0]) is type(model.layers[0])
    assert back.layers[0].get_config() == json.loads(json.dumps(model.layers[0].get_config()))
    assert list(back.state_dict()) == list(model.state_dict())
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_functional_model_with_normalization_layers():
    inp = tidu.Input((4, 4, 8))
    h = BatchNormalization()(inp)
    h = GroupNormalization(groups=2)(h)
    h = SpatialDropout2D(0.2)(h)
    h = nn.Flatten()(h)
    out = Dense(3, activation="softmax")(LayerNormalization()(h))
    model = tidu.Model(inp, out)
    text = model.summary(print_fn=None)
    assert "(None, 4, 4, 8)" in text and "Non-trainable params: 16" in text
    x = batch(32, 4, 4, 8, seed=3)
    y = np.eye(3, dtype=np.float32)[np.arange(32) % 3]
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    bn = next(m for m in model.modules() if isinstance(m, BatchNormalization))
    assert not np.allclose(bn.moving_mean.numpy(), 0)
    assert model.predict(x).shape == (32, 3)
