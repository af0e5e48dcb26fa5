"""model.save / tidu.models.load_model: one safetensors file, JSON architecture, exact resume."""

import json

import numpy as np
import pytest

import tidu
from tidu import io, nn
from tidu.nn import layers as L

pytest.importorskip("safetensors")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 6)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 24)]

# non-default arguments, so that a config that is lost shows in the predictions
ARGS = {"Activation": ("tanh",), "Dropout": (0.5,), "Reshape": ((2, 3),), "Linear": (6, 6),
        "Dense": (6, "selu"), "LeakyReLU": (0.1,), "PReLU": (6, 0.1), "CELU": (0.7,),
        "ELU": (0.6,), "GELU": ("tanh",), "Hardtanh": (-0.5, 0.8), "Softplus": (2.0, 5.0),
        "Softmax": (-1,)}
# layers on images and sequences need spatial inputs: they round-trip in their own files
# (tests/test_pooling_layers.py)
SPATIAL = set(L._pooling.__all__) | set(L._spatial.__all__)
SPATIAL |= set(L._conv.__all__)  # tests/test_conv_layers.py
SPATIAL |= set(L._normalization.__all__)  # tests/test_norm_layers.py
LAYERS = sorted(set(L.__all__) - {"Sequential"} - SPATIAL)


def _randomize(model, seed=1):
    """Weights that initialization would not produce (PReLU's slopes included)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=p.shape).astype(p.dtype) for p in model.parameters()])


def _model(layer):
    tail = [L.Flatten()] if isinstance(layer, L.Reshape) else []
    out = 3 if isinstance(layer, L.GLU) else 6
    return tidu.Sequential([L.Dense(6, input_shape=(6,)), layer, *tail,
                            L.Dense(out, activation="relu"), L.Dense(3)])


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_round_trips_bit_for_bit(tmp_path, name):
    model = _model(getattr(L, name)(*ARGS.get(name, ())))
    _randomize(model)
    path = tmp_path / "m.tidu"
    model.save(path)
    back = tidu.models.load_model(path)
    assert type(back) is tidu.Sequential and back is not model
    assert [type(m) for m in back.layers] == [type(m) for m in model.layers]
    assert back.layers[1].get_config() == json.loads(json.dumps(model.layers[1].get_config()))
    assert list(back.state_dict()) == list(model.state_dict())
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    assert back.predict(X).dtype == model.predict(X).dtype


def test_nested_sequential_and_lazy_build(tmp_path):
    inner = tidu.Sequential([L.Dense(5, activation="tanh"), L.PReLU(5)])
    model = tidu.Sequential([L.Dense(4), inner, L.Dense(2)])  # no input_shape: lazy
    model(X[:1])
    _randomize(model, 2)
    model.save(tmp_path / "m.safetensors")
    back = tidu.load_model(tmp_path / "m.safetensors")
    assert isinstance(back.layers[1], tidu.Sequential)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def _compiled(seed=3):
    tidu.manual_seed(seed)
    model = tidu.Sequential([L.Dense(8, activation="relu", input_shape=(6,)), L.PReLU(8),
                             L.Dense(3, activation="softmax")])
    model.compile(optimizer=tidu.optim.RMSprop(learning_rate=0.01, momentum=0.5,
                                               centered=True),
                  loss="categorical_crossentropy", metrics=["accuracy", "mse"])
    return model


def test_resume_with_optimizer_equals_uninterrupted_training(tmp_path):
    fit = {"batch_size": 5, "verbose": 0, "shuffle": False}
    straight = _compiled()
    h3 = straight.fit(X, Y, epochs=3, **fit)
    first = _compiled()
    first.fit(X, Y, epochs=2, **fit)
    first.save(tmp_path / "m.tidu")
    resumed = tidu.models.load_model(tmp_path / "m.tidu")
    assert resumed.optimizer.iterations == first.optimizer.iterations == 10
    assert resumed.optimizer.get_config() == first.optimizer.get_config()
    h1 = resumed.fit(X, Y, epochs=1, **fit)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h1.history["loss"] == h3.history["loss"][2:]
    assert h1.history["accuracy"] == h3.history["accuracy"][2:]
    assert resumed.evaluate(X, Y) == straight.evaluate(X, Y)


def test_without_optimizer_state_training_restarts_the_optimizer(tmp_path):
    model = _compiled()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.tidu", include_optimizer=False)
    keys, meta = io.load_tensors(tmp_path / "m.tidu")
    assert set(keys) == set(model.state_dict()) and "optimizer_state" not in meta
    back = tidu.load_model(tmp_path / "m.tidu")
    assert back.optimizer.iterations == 0 and back.loss is not None
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    raw = tidu.load_model(tmp_path / "m.tidu", compile=False)
    assert raw.loss is None
    np.testing.assert_array_equal(raw.predict(X), model.predict(X))


def test_uncompiled_model_and_compile_false_skip_the_optimizer(tmp_path):
    model = _compiled()
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.tidu")
    back = tidu.load_model(tmp_path / "m.tidu", compile=False)  # the slots are left unread
    assert back.loss is None
    with pytest.raises(RuntimeError, match="not compiled"):
        back.evaluate(X, Y)
    plain = tidu.Sequential([L.Dense(2, input_shape=(6,))])
    plain.save(tmp_path / "p.tidu")
    assert tidu.load_model(tmp_path / "p.tidu").loss is None


class Scaled(nn.Module):
    """A user layer: a learnable per-feature scale."""

    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.units = units
        self.scale = nn.Parameter(np.ones(units, np.float32))

    def forward(self, x):
        return x * self.scale


def test_custom_layer_needs_registration_and_the_error_names_it(tmp_path):
    model = tidu.Sequential([L.Dense(4, input_shape=(6,)), Scaled(4)])
    _randomize(model)
    model.save(tmp_path / "m.tidu")
    with pytest.raises(ValueError) as info:
        tidu.load_model(tmp_path / "m.tidu")
    msg = str(info.value)
    assert "'Scaled'" in msg and "layer" in msg and "m.tidu" in msg
    assert "register_serializable" in msg and "custom_objects" in msg
    back = tidu.load_model(tmp_path / "m.tidu", custom_objects={"Scaled": Scaled})
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_registered_layer_and_subclassed_model(tmp_path):
    @tidu.register_serializable(name="test_saving>Gate")
    class Gate(nn.Module):
        def __init__(self, units=3, name=None):
            super().__init__(name=name)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], self.units))

        def forward(self, x):
            return tidu.sigmoid(x @ self.w)

    @tidu.register_serializable()
    class TwoTower(tidu.Model):
        def __init__(self, hidden=5, name=None):
            super().__init__(name=name)
            self.left = L.Dense(hidden, activation="tanh")
            self.gate = Gate(hidden)

        def forward(self, x):
            return self.left(x) * self.gate(x)

    model = TwoTower(7)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, :1].repeat(7, 1), epochs=1, batch_size=6, verbose=0)
    model.save(tmp_path / "m.tidu")
    meta = io.load_tensors(tmp_path / "m.tidu", keys=())[1]
    assert json.loads(meta["model"])["class_name"] == "TwoTower"
    back = tidu.load_model(tmp_path / "m.tidu")
    assert type(back) is TwoTower and type(back.gate) is Gate and back.gate.units == 7
    assert back.optimizer.iterations == 4
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def _rewrite(path, out, **changes):
    """The file at ``path`` with some compile arguments replaced, written to ``out``."""
    arrays, meta = io.load_tensors(path)
    compiled = json.loads(meta["compile"])
    compiled.update(changes)
    io.save_tensors(arrays, out, {**meta, "compile": json.dumps(compiled)})
    return out


@pytest.mark.parametrize("change, words", [
    ({"loss": "mse2"}, ["Unknown loss 'mse2'"]),
    ({"loss": {"class_name": "FocalLoss", "config": {}}}, ["Unknown loss 'FocalLoss'"]),
    ({"metrics": ["accuracy", "f7_score"]}, ["Unknown metric 'f7_score'"]),
    ({"optimizer": {"class_name": "Lion", "config": {}}}, ["unknown optimizer 'Lion'"]),
])
def test_unknown_names_in_the_file_are_errors(tmp_path, change, words):
    model = _compiled()
    model.save(tmp_path / "m.tidu")
    bad = _rewrite(tmp_path / "m.tidu", tmp_path / "bad.tidu", **change)
    with pytest.raises(ValueError) as info:
        tidu.load_model(bad)
    for w in [*words, "bad.tidu", "register_serializable"]:
        assert w in str(info.value)


def test_the_file_is_safetensors_with_json_metadata_and_no_pickle(tmp_path):
    from safetensors.numpy import load_file

    model = _compiled()
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.tidu")
    raw = (tmp_path / "m.tidu").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])  # the header itself is JSON
    meta = header.pop("__metadata__")
    for key in ("model", "input_shape", "compile", "optimizer_state"):
        json.loads(meta[key])
    assert meta["format"] == "tidu.model" and meta["format_version"] == "1"
    for proto in range(2, 6):  # a pickle starts with PROTO n; none appears anywhere
        assert bytes([0x80, proto, 0x95]) not in raw and bytes([0x80, proto, 0x7D]) not in raw
    tensors = load_file(tmp_path / "m.tidu")  # an ordinary safetensors reader opens it
    assert set(header) == set(tensors)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(tensors[k], v)
    slots = model.optimizer.state_dict()["state"]
    assert len(slots) == 5 and len(slots[0]) == 3  # centered RMSprop with momentum
    assert {k for k in tensors if k.startswith("optimizer/")} == {
        f"optimizer/{i}/{s}" for i, entry in slots.items() for s in entry}
    for i, entry in slots.items():
        for s, a in entry.items():
            np.testing.assert_array_equal(tensors[f"optimizer/{i}/{s}"], a)


def test_wrong_weights_in_the_file_load_nothing(tmp_path):
    model = _compiled()
    model.save(tmp_path / "m.tidu")
    arrays, meta = io.load_tensors(tmp_path / "m.tidu")
    arrays["0.kernel"] = np.zeros((6, 9), np.float32)
    io.save_tensors(arrays, tmp_path / "bad.tidu", meta)
    with pytest.raises(io.FileFormatError, match=r"bad.tidu.*'0.kernel' has shape \(6, 9\)"):
        tidu.load_model(tmp_path / "bad.tidu")
    del arrays["0.kernel"]
    io.save_tensors(arrays, tmp_path / "gone.tidu", meta)
    with pytest.raises(io.FileFormatError, match=r"missing \['0.kernel'\]"):
        tidu.load_model(tmp_path / "gone.tidu")
    io.save_tensors(arrays, tmp_path / "weights.tidu")  # no metadata: a weights-only file
    with pytest.raises(io.FileFormatError, match="not a tidu model file.*load_weights"):
        tidu.load_model(tmp_path / "weights.tidu")
    io.save_tensors(arrays, tmp_path / "j.tidu", {**meta, "model": "{not json"})
    with pytest.raises(io.FileFormatError, match="'model' is not valid JSON"):
        tidu.load_model(tmp_path / "j.tidu")


def test_save_errors(tmp_path):
    model = tidu.Sequential([L.Dense(2, input_shape=(6,))])
    with pytest.raises(ValueError, match=r"'.tidu'.*got '.keras'"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="not built"):
        tidu.Sequential([L.Dense(2)]).save(tmp_path / "m.tidu")
    odd = tidu.Sequential([L.Dense(2, input_shape=(6,)), L.Activation(lambda x: x * 2)])
    with pytest.raises(ValueError, match=r"activation is function.*register_serializable"):
        odd.save(tmp_path / "m.tidu")
    model.compile(optimizer="sgd", loss=lambda t, p: ((p - t) ** 2).mean(axis=-1))
    with pytest.raises(ValueError, match=r"the loss is the function '<lambda>'"):
        model.save(tmp_path / "m.tidu")
    assert not list(tmp_path.iterdir())  # nothing written


def test_registered_loss_and_metric_functions_round_trip(tmp_path):
    @tidu.register_serializable(kind="loss")
    def half_squared(y_true, y_pred):
        return 0.5 * ((y_pred - y_true) ** 2).mean(axis=-1)

    @tidu.register_serializable(kind="metric")
    def max_error(y_true, y_pred):
        return np.abs(np.asarray(y_pred) - y_true).max(axis=-1)

    model = tidu.Sequential([L.Dense(3, input_shape=(6,))])
    model.compile(optimizer="sgd", loss=half_squared, metrics=[max_error, "mae"])
    model.save(tmp_path / "m.tidu")
    back = tidu.load_model(tmp_path / "m.tidu")
    assert back.loss.fn is half_squared
    assert [m.name for m in back.compiled_metrics] == ["max_error", "mae"]
    assert back.evaluate(X, Y) == model.evaluate(X, Y)


def test_save_weights_and_load_weights_still_work(tmp_path):
    model = _compiled()
    _randomize(model)
    for name in ("w.safetensors", "w.npz"):
        model.save_weights(tmp_path / name)
        other = _compiled(seed=9)
        other.load_weights(tmp_path / name)
        np.testing.assert_array_equal(other.predict(X), model.predict(X))
