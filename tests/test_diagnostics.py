"""tidu.callbacks.Diagnostics: each statistic against NumPy on constructed networks."""

import math

import numpy as np
import pytest

import tidu
from tidu.callbacks import Callback, Diagnostics
from tidu.callbacks.diagnostics import diagnose, format_table
from tidu.nn import Dense


class Capture(Callback):
    """Copies of every parameter before each step and of its gradient after it."""

    def __init__(self):
        self.before, self.after, self.grads = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append([p.data.astype(np.float64) for p in self.model.parameters()])

    def on_train_batch_end(self, batch, logs=None):
        self.after.append([p.data.astype(np.float64) for p in self.model.parameters()])
        self.grads.append([p.grad.data.astype(np.float64) for p in self.model.parameters()])


def rows(diag, epoch=0):
    return {r["layer"]: r for r in diag.records if r["epoch"] == epoch}


def dead_relu_model():
    """Dense(4, relu) on positive inputs: units 0 and 2 have negative weights and bias, so
    they output 0 for every sample; unit 3 is alive only for the last sample."""
    layer = Dense(4, activation="relu", input_shape=(2,), name="hidden")
    layer.kernel.data[...] = np.array([[-1.0, 1.0, -2.0, 1.0],
                                       [-1.0, 0.5, -1.0, 1.0]], np.float32)
    layer.bias.data[...] = np.array([-0.1, 0.0, -0.3, -5.0], np.float32)
    model = tidu.Sequential([layer, Dense(1, name="out")])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.01), loss="mse")
    return model


X_POS = np.array([[0.5, 0.5], [1.0, 0.2], [0.3, 0.9], [3.0, 3.0]], np.float32)
Y4 = np.array([[1.0], [0.0], [1.0], [2.0]], np.float32)


def test_dead_relu_fraction_is_exactly_the_constructed_one():
    model = dead_relu_model()
    diag = Diagnostics()
    model.fit(X_POS, Y4, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[diag])
    assert rows(diag, 0)["hidden"]["dead"] == 0.5
    assert rows(diag, 1)["hidden"]["dead"] == 0.5  # dead units get no gradient: stay dead
    assert rows(diag)["out"]["dead"] is None  # linear layer: not applicable


def test_dead_means_zero_for_every_sample_of_the_epoch_not_of_one_batch():
    model = dead_relu_model()
    diag = Diagnostics()
    # batches of one sample: unit 3 is zero in three batches, alive in the fourth
    model.fit(X_POS, Y4, batch_size=1, epochs=1, verbose=0, shuffle=False, callbacks=[diag])
    assert rows(diag)["hidden"]["dead"] == 0.5


def test_validation_forward_is_not_recorded_and_forward_is_put_back():
    model = dead_relu_model()
    diag = Diagnostics()
    x_val = np.array([[10.0, 10.0]], np.float32)  # would wake unit 3 only
    model.fit(X_POS[:3], Y4[:3], batch_size=3, epochs=1, verbose=0, callbacks=[diag],
              validation_data=(x_val, Y4[:1]))
    assert rows(diag)["hidden"]["dead"] == 0.75
    assert all("forward" not in layer.__dict__ for layer in model.layers)
    assert model.predict(x_val).shape == (1, 1)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_saturated_fraction_and_activation_moments_match_numpy(act):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    hidden = Dense(6, activation=act, input_shape=(3,), name="squash")
    hidden.kernel.data[...] = rng.normal(scale=3.0, size=(3, 6)).astype(np.float32)
    model = tidu.Sequential([hidden, Dense(1, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    z = x.astype(np.float64) @ hidden.kernel.data + hidden.bias.data
    a = 1 / (1 + np.exp(-z)) if act == "sigmoid" else np.tanh(z)
    sat = (a < 0.01) | (a > 0.99) if act == "sigmoid" else np.abs(a) > 0.99
    assert 0.1 < sat.mean() < 0.9  # the construction saturates some units, not all
    diag = Diagnostics(saturation=0.01)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[diag])
    r = rows(diag)["squash"]
    assert r["kind"] == act
    assert r["saturated"] == pytest.approx(sat.mean(), abs=1e-12)
    assert r["act_mean"] == pytest.approx(a.mean(), rel=1e-5)
    assert r["act_std"] == pytest.approx(a.std(), rel=1e-4)
    assert r["dead"] is None


def test_saturation_of_a_sigmoid_activation_layer():
    x = np.array([[-10.0], [-1.0], [0.0], [1.0], [10.0]], np.float32)
    dense = Dense(1, use_bias=False, kernel_initializer="ones", input_shape=(1,), name="lin")
    model = tidu.Sequential([dense, tidu.nn.Sigmoid(name="sig")])
    model.compile(optimizer="sgd", loss="mse")
    diag = diagnose(model, x, np.zeros((5, 1), np.float32), saturation=0.01)
    assert rows(diag)["sig"]["saturated"] == pytest.approx(2 / 5)
    assert rows(diag)["sig"]["grad_norm"] is None  # no parameters


def test_norms_and_update_ratio_equal_numpy_on_the_parameters():
    tidu.manual_seed(3)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 5)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)
    model = tidu.Sequential([Dense(7, activation="relu", input_shape=(5,), name="h"),
                             Dense(2, name="o")])
    model.compile(optimizer=tidu.optim.Adam(learning_rate=0.01), loss="mse")
    diag, cap = Diagnostics(), Capture()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[diag, cap])
    for epoch in (0, 1):
        before, after, grads = cap.before[epoch], cap.after[epoch], cap.grads[epoch]
        for i, name in enumerate(("h", "o")):
            k = slice(2 * i, 2 * i + 2)  # kernel and bias of the layer
            r = rows(diag, epoch)[name]
            g = np.concatenate([a.ravel() for a in grads[k]])
            w0 = np.concatenate([a.ravel() for a in before[k]])
            w1 = np.concatenate([a.ravel() for a in after[k]])
            assert r["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-9)
            assert r["weight_norm"] == pytest.approx(np.linalg.norm(w1), rel=1e-9)
            assert r["update_ratio"] == pytest.approx(
                np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rel=1e-9)


def test_per_epoch_values_average_the_batches():
    tidu.manual_seed(4)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(12, 3)).astype(np.float32)
    y = rng.normal(size=(12, 1)).astype(np.float32)
    model = tidu.Sequential([Dense(1, input_shape=(3,), name="lin")])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.1), loss="mse")
    diag, cap = Diagnostics(), Capture()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False, callbacks=[diag, cap])
    norms = [np.linalg.norm(np.concatenate([g.ravel() for g in gs])) for gs in cap.grads]
    ratios = [np.linalg.norm(np.concatenate([(a - b).ravel() for a, b in zip(w1, w0)]))
              / np.linalg.norm(np.concatenate([b.ravel() for b in w0]))
              for w0, w1 in zip(cap.before, cap.after)]
    assert len(norms) == 3
    assert rows(diag)["lin"]["grad_norm"] == pytest.approx(np.mean(norms), rel=1e-9)
    assert rows(diag)["lin"]["update_ratio"] == pytest.approx(np.mean(ratios), rel=1e-9)


def test_vanishing_and_exploding_flags():
    tidu.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    y = np.ones((8, 1), np.float32)
    first = Dense(4, activation="tanh", input_shape=(4,), name="first")
    last = Dense(1, name="last")
    model = tidu.Sequential([first, last])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.0), loss="mse")
    model.predict(x)
    last.kernel.data *= 1e-6  # almost nothing flows back to the first layer
    diag = diagnose(model, x, y)
    r = rows(diag)
    assert r["first"]["vanishing"] and r["first"]["flag"] == "vanishing"
    assert not r["last"]["vanishing"] and not r["last"]["exploding"]
    big = diagnose(model, x * 1e6, y * 1e12)
    assert rows(big)["last"]["exploding"] and rows(big)["last"]["flag"] == "exploding"
    assert rows(big)["last"]["grad_norm"] > 1e3


def test_diagnose_one_batch_equals_fit_of_one_epoch():
    def run(use_fit):
        tidu.manual_seed(5)
        model = tidu.Sequential([Dense(5, activation="relu", input_shape=(3,), name="a"),
                                 Dense(1, activation="sigmoid", name="b")])
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
        x = np.random.default_rng(7).normal(size=(10, 3)).astype(np.float32)
        y = (x[:, :1] > 0).astype(np.float32)
        if use_fit:
            diag = Diagnostics()
            model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[diag])
            return diag
        return diagnose(model, x, y)

    a, b = run(True), run(False)
    for ra, rb in zip(a.records, b.records):
        assert ra.keys() == rb.keys()
        for k in ra:
            va, vb = ra[k], rb[k]
            assert va == vb or (isinstance(va, float) and va == pytest.approx(vb, rel=1e-6))


def test_table_series_and_errors(capsys):
    model = dead_relu_model()
    diag = Diagnostics(verbose=1)
    model.fit(X_POS, Y4, batch_size=4, epochs=2, verbose=0, callbacks=[diag])
    printed = capsys.readouterr().out
    assert "epoch 1" in printed and "epoch 2" in printed and "hidden" in printed
    text = diag.table()
    assert text.splitlines()[0] == "epoch 2"
    assert "dead" in text.splitlines()[1] and "update/w" in text.splitlines()[1]
    hidden_line = next(line for line in text.splitlines() if line.startswith("hidden"))
    assert "relu" in hidden_line and "0.5" in hidden_line
    assert diag.series("hidden", "dead") == [0.5, 0.5]
    assert diag.epochs() == [0, 1] and diag.layer_names() == ["hidden", "out"]
    with pytest.raises(KeyError, match="recorded"):
        diag.series("nope", "dead")
    with pytest.raises(KeyError, match="unknown quantity"):
        diag.series("hidden", "dead_units")
    with pytest.raises(ValueError, match="saturation"):
        Diagnostics(saturation=0.7)
    with pytest.raises(ValueError, match="max_grad"):
        Diagnostics(max_grad=-1)
    with pytest.raises(ValueError, match="compile"):
        diagnose(tidu.Sequential([Dense(1, input_shape=(2,))]), X_POS[:, :2], Y4)
    assert "-" in format_table([{"layer": "x", "grad_norm": None}])
    assert math.isfinite(diag.records[0]["weight_norm"])


def test_tidu_diagnose_command(tmp_path, capsys):
    import json

    from tidu.cli import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(6, activation="relu", input_shape=(4,), name="h"),
                             Dense(3, activation="softmax", name="o")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.save(tmp_path / "m.tidu")
    args = ["diagnose", str(tmp_path / "m.tidu"), "--data", str(tmp_path / "data.npz"),
            "--samples", "32"]
    assert main([*args, "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = diagnose(tidu.load_model(tmp_path / "m.tidu"), x[:32],
                        tidu.datasets.to_categorical(y[:32], 3)).records
    assert [r["layer"] for r in printed] == ["h", "o"]
    for got, want in zip(printed, expected):
        for k in ("act_mean", "dead", "grad_norm", "weight_norm", "update_ratio"):
            assert got[k] == pytest.approx(want[k], rel=1e-6)
    assert main([*args, "--out", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "32 samples" in out and "update/w" in out and "wrote 10 plots" in out
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert "diagnostics_dead.png" in pngs and "histograms_gradients.png" in pngs
    assert all((tmp_path / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert main(["diagnose", str(tmp_path / "m.tidu"), "--samples", "0"]) == 1
    assert "--samples" in capsys.readouterr().err
