"""tidu.keras: its names are tidu's objects, its adapters behave as Keras's, and every name
that docs/porting.md lists as supported exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import tidu
from tidu import keras

PORTING = Path(__file__).resolve().parents[1] / "docs" / "porting.md"


# classes whose listed attributes are set per instance: how to make one
_INSTANCES = {"tidu.optim.Optimizer": lambda: tidu.optim.SGD([tidu.zeros(1, requires_grad=True)])}


def _resolve(dotted: str):
    """The object a dotted name such as 'tidu.nn.Dense' or 'tidu.Tensor.view' names."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for j in range(i, len(parts)):
            owner = ".".join(parts[:j])
            if not hasattr(obj, parts[j]) and owner in _INSTANCES:
                obj = _INSTANCES[owner]()
            obj = getattr(obj, parts[j])
        return obj
    raise ImportError(dotted)


def _supported_names() -> list[str]:
    """The tidu names in the 'tidu' column of every table in docs/porting.md."""
    names = []
    for line in PORTING.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or set(line) <= set("|- :"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 2 or cells[1] in ("tidu", ""):
            continue
        names += re.findall(r"`(tidu(?:\.\w+)+)", cells[1])
    return names


def test_every_name_in_the_port_guide_exists():
    names = _supported_names()
    assert len(names) > 100, "the port guide's tables were not found"
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (ImportError, AttributeError) as e:
            missing.append(f"{name}: {e}")
    assert not missing, "\n".join(missing)


def test_names_are_tidus_objects():
    assert keras.Model is tidu.Model and keras.Sequential is tidu.Sequential
    assert keras.models.load_model is tidu.load_model
    assert keras.layers.Dense is tidu.nn.Dense
    assert keras.optimizers.Adam is tidu.optim.Adam
    assert keras.optimizers.schedules is tidu.optim.schedules
    assert keras.losses.CategoricalCrossentropy is tidu.losses.CategoricalCrossentropy
    assert keras.metrics.Accuracy is tidu.metrics.Accuracy
    assert keras.callbacks.EarlyStopping is tidu.callbacks.EarlyStopping
    assert keras.regularizers.l2 is tidu.regularizers.l2
    assert keras.initializers.GlorotUniform is tidu.initializers.GlorotUniform
    assert keras.activations.relu is tidu.nn.activations.relu
    assert keras.utils.to_categorical is tidu.datasets.to_categorical
    assert keras.datasets.fashion_mnist.load_data is tidu.datasets.fashion_mnist.load_data


@pytest.mark.parametrize("name, rate", [("SGD", 0.01), ("RMSprop", 0.001), ("Adam", 0.001),
                                        ("AdamW", 0.001), ("Adagrad", 0.001)])
def test_optimizers_take_learning_rate_with_keras_defaults(name, rate):
    cls = getattr(keras.optimizers, name)
    assert float(cls().learning_rate) == pytest.approx(rate)  # Keras 3's defaults
    assert float(cls(learning_rate=0.5).learning_rate) == 0.5
    assert float(cls(0.25).learning_rate) == 0.25  # Keras's first positional argument


def test_set_random_seed_makes_weights_repeat():
    def weights():
        keras.utils.set_random_seed(7)
        layer = keras.layers.Dense(3)
        layer(np.ones((1, 4), "float32"))
        return layer.kernel.numpy().copy()

    np.testing.assert_array_equal(weights(), weights())
    with pytest.raises(TypeError, match="seed must be an int, got str"):
        keras.utils.set_random_seed("7")


def test_plot_model_writes_the_layers_as_dot(tmp_path):
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dropout(0.1, name="drop"),
                              keras.layers.Dense(2, name="out")])
    model(np.zeros((1, 3), "float32"))
    path = tmp_path / "model.dot"
    text = keras.utils.plot_model(model, to_file=path, show_shapes=True, rankdir="LR")
    assert path.read_text() == text
    assert "rankdir=LR" in text
    for name, cls, shape_in, shape_out in (("hidden", "Dense", "(?, 3)", "(?, 4)"),
                                           ("drop", "Dropout", "(?, 4)", "(?, 4)"),
                                           ("out", "Dense", "(?, 4)", "(?, 2)")):
        assert f'"{name}: {cls}\\ninput: {shape_in}\\noutput: {shape_out}"' in text
    assert model.training  # drawing ran the model in evaluation mode and put it back
    assert "l0 -> l1;" in text and "l1 -> l2;" in text and "l2 -> l3" not in text
    with pytest.raises(ValueError, match="rankdir must be"):
        keras.utils.plot_model(model, to_file=path, rankdir="UP")


def test_concatenate_and_add_match_torch():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4)).astype("float32")
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    xa, xb = tidu.tensor(a, requires_grad=True), tidu.tensor(b, requires_grad=True)
    cat = keras.layers.Concatenate(axis=1)([xa, xb])
    tcat = torch.cat([ta, tb], dim=1)
    np.testing.assert_allclose(cat.numpy(), tcat.detach().numpy())
    add = keras.layers.Add()([xa, xb, xa])
    tadd = ta + tb + ta
    np.testing.assert_allclose(add.numpy(), tadd.detach().numpy(), rtol=1e-6)
    w = rng.normal(size=(3, 8)).astype("float32")
    ((cat * tidu.tensor(w)).sum() + (add * add).sum()).backward()
    ((tcat * torch.tensor(w)).sum() + (tadd * tadd).sum()).backward()
    np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        keras.layers.Add()([xa])
    with pytest.raises(TypeError, match="expects a list of tensors, got Tensor"):
        keras.layers.Concatenate()(xa)


def test_keras_layer_add_weight_and_call():
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         name="scale")
            self.frozen = self.add_weight(shape=(1,), initializer="zeros", trainable=False)

        def call(self, inputs):
            return inputs * self.scale + self.frozen

    layer = Scale()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert [n for n, _ in layer.named_parameters()] == ["scale", "variable"]
    assert layer.scale.requires_grad and not layer.frozen.requires_grad
    with pytest.raises(TypeError, match="add_weight needs shape="):
        layer.add_weight(initializer="ones")


def test_register_keras_serializable_saves_and_loads_a_custom_layer(tmp_path):
    @keras.saving.register_keras_serializable(package="MyLayers")
    class TimesTwo(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), TimesTwo()])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.tidu"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.layers[1]) is TimesTwo
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    with pytest.raises(TypeError, match="cannot tell what"):
        keras.saving.register_keras_serializable()(lambda x: x)


def test_missing_names_say_where_to_look():
    with pytest.raises(AttributeError, match="has no attribute 'LSTM'.*docs/porting.md"):
        keras.layers.LSTM  # noqa: B018


def test_dropout_takes_keras_training_argument():
    keras.utils.set_random_seed(5)
    layer = keras.layers.Dropout(0.5)
    x = np.ones((4, 500), "float32")
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x)
    dropped = layer(x, training=True).numpy()
    assert set(np.unique(dropped)) == {0.0, 2.0}  # inverted dropout: survivors scaled by 2
    assert 0.4 < (dropped == 0).mean() < 0.6
    assert not layer.training  # the call's argument does not change the layer's mode
    layer.train()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert tidu.registry.lookup("layer", "Dropout")[0] is tidu.nn.Dropout
