"""The training stack on another device: layers, losses, optimizers, a PyTorch-style loop,
Keras-style fit/evaluate/predict, compiled functions and saving give the CPU's results.

Runs on the stand-in device 'fake' (tests/_device_double.py, which behaves as CuPy does) and
on 'cuda' where CuPy and a GPU are present (skipped with the reason otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from _device_double import DEVICES, host  # registers the 'fake' device
from tidu import backend, nn
from tidu.errors import DeviceError


def data(n=64, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, n)
    return x, y


def mlp(seed=0):
    tidu.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))


OPTIMIZERS = [
    lambda p: tidu.optim.SGD(p, lr=0.1),
    lambda p: tidu.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda p: tidu.optim.Adam(p, lr=0.01),
    lambda p: tidu.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    lambda p: tidu.optim.RMSprop(p, lr=0.01),
    lambda p: tidu.optim.Adagrad(p, lr=0.1),
]


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=["sgd", "nesterov", "adam", "adamw",
                                                       "rmsprop", "adagrad"])
def test_torch_style_loop_on_device_equals_cpu(make_opt, dev):
    x, y = data()
    runs = {}
    for where in ("cpu", dev):
        model = mlp().to(where)
        opt = make_opt(model.parameters())
        loss_fn = nn.CrossEntropyLoss()
        xb, yb = tidu.tensor(x).to(where), tidu.tensor(y).to(where)
        tidu.manual_seed(1)
        for _ in range(4):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        assert all(p.device == where for p in model.parameters())
        runs[where] = [host(p) for p in model.parameters()] + [float(loss)]
    for a, b in zip(runs["cpu"], runs[dev]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


LOSSES = ["mse", "mae", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy",
          "sparse_categorical_crossentropy", "kl_divergence", "poisson", "hinge",
          "squared_hinge", "cosine_similarity"]


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("name", LOSSES)
def test_every_keras_loss_on_device_equals_cpu(name, dev):
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.05, 0.95, (8, 4)).astype(np.float32)
    pred /= pred.sum(1, keepdims=True)
    if name == "sparse_categorical_crossentropy":
        true = rng.integers(0, 4, 8)
    elif name in ("hinge", "squared_hinge"):
        true = rng.choice([-1.0, 1.0], (8, 4)).astype(np.float32)
    else:
        true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]
    fn = tidu.losses.get(name)
    out = {}
    for where in ("cpu", dev):
        p = tidu.tensor(pred, requires_grad=True)
        loss = fn(tidu.tensor(true).to(where), p.to(where))
        loss.backward()
        out[where] = (float(loss), host(p.grad))
    np.testing.assert_allclose(out[dev][0], out["cpu"][0], rtol=1e-6)
    np.testing.assert_allclose(out[dev][1], out["cpu"][1], rtol=1e-5, atol=1e-7)


def keras_model(seed=0):
    tidu.manual_seed(seed)
    m = tidu.Sequential([tidu.keras.layers.Dense(16, activation="relu", input_shape=(6,)),
                         tidu.keras.layers.Dropout(0.1),
                         tidu.keras.layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("dev", DEVICES)
def test_keras_fit_evaluate_predict_on_device_equal_cpu(dev):
    x, y = data(96)
    res = {}
    for where in ("cpu", dev):
        m = keras_model().to(where)
        tidu.manual_seed(5)
        hist = m.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0)
        ev = m.evaluate(x, y, verbose=0)
        pred = m.predict(x, verbose=0)
        assert isinstance(pred, np.ndarray)
        assert all(p.device == where for p in m.parameters())
        res[where] = (hist.history, ev, pred, [host(p) for p in m.parameters()])
    for key in res["cpu"][0]:
        np.testing.assert_allclose(res[dev][0][key], res["cpu"][0][key], rtol=1e-5)
    np.testing.assert_allclose(res[dev][1], res["cpu"][1], rtol=1e-5)
    np.testing.assert_allclose(res[dev][2], res["cpu"][2], rtol=1e-5, atol=1e-7)
    for a, b in zip(res["cpu"][3], res[dev][3]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dev", DEVICES)
def test_model_moved_before_build_builds_on_its_device(dev):
    layer = tidu.keras.layers.Dense(4)
    layer.to(dev)
    out = layer(tidu.tensor(np.ones((2, 3), np.float32)).to(dev))
    assert out.device == dev and layer.kernel.device == dev


@pytest.mark.parametrize("dev", DEVICES)
def test_saving_a_device_model_and_loading_on_the_cpu(dev, tmp_path):
    x, _ = data(8)
    m = keras_model().to(dev)
    m.predict(x, verbose=0)
    path = tmp_path / "m.tidu"
    m.save(path)
    back = tidu.load_model(path)
    assert all(p.device == "cpu" for p in back.parameters())
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    # and a CPU state dict loads into a device model (copied to its device)
    m2 = keras_model(seed=3).to(dev)
    m2.predict(x, verbose=0)
    m2.load_state_dict(back.state_dict())
    assert all(p.device == dev for p in m2.parameters())
    np.testing.assert_allclose(m2.predict(x, verbose=0), back.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("dev", DEVICES)
def test_compiled_function_runs_on_device_inputs(dev):
    x = tidu.matrix("x")
    w = tidu.shared(np.linspace(-1, 1, 6).astype(np.float32).reshape(6, 1), name="w")
    y = tidu.sigmoid(x @ w).sum()
    (gw,) = tidu.grad(y, [w])
    f = tidu.function([x], [y, gw])
    xv, _ = data(5)
    cpu = f(xv)
    w.set_value(backend.to_device(w.get_value(), dev))
    dev_out = f(backend.to_device(xv, dev))
    for a, b in zip(cpu, dev_out):
        assert backend.device_of(b.data if isinstance(b, tidu.Tensor) else b) == dev
        np.testing.assert_allclose(host(b), host(a), rtol=1e-6)


def test_a_batch_on_the_wrong_device_names_both():
    model = mlp().to("fake")
    with pytest.raises(DeviceError, match="cpu"):
        model(tidu.tensor(np.ones((2, 6), np.float32)))


L = tidu.keras.layers
LAYERS = [
    ("dense", lambda: L.Dense(5, activation="tanh"), (4, 6)),
    ("activation", lambda: L.Activation("gelu"), (4, 6)),
    ("leaky_relu", lambda: L.LeakyReLU(0.1), (4, 6)),
    ("elu", lambda: L.ELU(), (4, 6)),
    ("softmax", lambda: L.Softmax(), (4, 6)),
    ("flatten", lambda: L.Flatten(), (2, 3, 4)),
    ("reshape", lambda: L.Reshape((4, 3)), (2, 3, 4)),
    ("layer_norm", lambda: L.LayerNormalization(), (4, 6)),
    ("batch_norm", lambda: L.BatchNormalization(), (8, 6)),
    ("group_norm", lambda: L.GroupNormalization(groups=2), (2, 5, 5, 4)),
    ("conv1d", lambda: L.Conv1D(3, 3, padding="same"), (2, 8, 4)),
    ("conv2d", lambda: L.Conv2D(3, 3, strides=2), (2, 7, 7, 2)),
    ("conv2d_transpose", lambda: L.Conv2DTranspose(2, 3, strides=2), (2, 4, 4, 3)),
    ("depthwise", lambda: L.DepthwiseConv2D(3), (2, 6, 6, 3)),
    ("separable", lambda: L.SeparableConv2D(4, 3), (2, 6, 6, 3)),
    ("max_pool", lambda: L.MaxPooling2D(2), (2, 6, 6, 3)),
    ("avg_pool", lambda: L.AveragePooling2D(2, padding="same"), (2, 5, 5, 3)),
    ("global_avg", lambda: L.GlobalAveragePooling2D(), (2, 5, 5, 3)),
    ("global_max", lambda: L.GlobalMaxPooling2D(), (2, 5, 5, 3)),
    ("zero_pad", lambda: L.ZeroPadding2D(1), (2, 4, 4, 3)),
    ("crop", lambda: L.Cropping2D(1), (2, 5, 5, 3)),
    ("upsample", lambda: L.UpSampling2D(2, interpolation="bilinear"), (2, 3, 3, 2)),
    ("conv_torch", lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    ("bn_torch", lambda: nn.BatchNorm2d(2), (4, 2, 3, 3)),
    ("adaptive_avg", lambda: nn.AdaptiveAvgPool2d(2), (2, 2, 5, 5)),
]


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize(("name", "make", "shape"), LAYERS,
                         ids=[getattr(p, "values", p)[0] for p in LAYERS])
def test_layer_on_device_equals_cpu(name, make, shape, dev):
    """Forward in training mode, backward to the input and the weights, on the device."""
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    res = {}
    for where in ("cpu", dev):
        tidu.manual_seed(0)
        layer = make().to(where)
        xt = tidu.tensor(x, requires_grad=True)
        out = layer(xt.to(where))
        assert out.device == where
        v = np.random.default_rng(5).standard_normal(out.shape).astype(np.float32)
        out.backward(tidu.tensor(v).to(where))
        res[where] = ([host(out), host(xt.grad)]
                      + [host(p.grad) for p in layer.parameters() if p.grad is not None])
    assert len(res[dev]) == len(res["cpu"])
    for a, b in zip(res["cpu"], res[dev]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
