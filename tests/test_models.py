"""Keras-style training API: compile / fit / evaluate / predict / summary, reproducibility."""

import math

import numpy as np
import pytest

import tidu
from tidu import nn
from tidu.callbacks import TerminateOnNaN
from tidu.models import NonFiniteLossError, Sequential


def blobs(n=240, seed=0):
    """Three well-separated Gaussian blobs in 4-D: an easy 3-class problem."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, 4)) * 4
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.standard_normal((n, 4))).astype(np.float32)
    return x, y


def mlp(seed=0, dropout=0.0):
    tidu.manual_seed(seed)
    layers = [nn.Dense(16, activation="relu", input_shape=(4,))]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Dense(3, activation="softmax"))
    return Sequential(layers)


def test_fit_learns_and_history_has_keras_keys():
    x, y = blobs()
    onehot = np.eye(3, dtype=np.float32)[y]
    model = mlp()
    model.compile(optimizer=tidu.optim.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, onehot, epochs=8, batch_size=16, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(hist.history["loss"]) == 8 and hist.epoch == list(range(8))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] > 0.9
    loss, acc = model.evaluate(x, onehot)
    pred = model.predict(x, batch_size=7)
    assert pred.shape == (240, 3)
    np.testing.assert_allclose(pred.sum(1), 1, rtol=1e-5)
    assert acc == pytest.approx(np.mean(pred.argmax(1) == y))
    p = np.clip(pred, 1e-7, 1 - 1e-7)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(240), y])), rel=1e-4)


def test_sparse_labels_and_accuracy_resolution():
    x, y = blobs()
    model = mlp()
    model.compile(optimizer=tidu.optim.RMSprop(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    res = model.evaluate(x, y, return_dict=True)
    assert set(res) == {"loss", "accuracy"} and res["accuracy"] > 0.9


def test_evaluate_averages_unequal_batches_exactly():
    x, y = blobs(n=50)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    full = model.evaluate(x, y, batch_size=50, return_dict=True)
    parts = model.evaluate(x, y, batch_size=7, return_dict=True)  # 7 * 7 + 1
    assert parts["loss"] == pytest.approx(full["loss"], rel=1e-5)
    assert parts["accuracy"] == pytest.approx(full["accuracy"])


def test_same_seed_gives_bit_identical_weights_and_history():
    x, y = blobs()

    def run():
        model = mlp(seed=3, dropout=0.3)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0, seed=7)
        return model.state_dict(), h.history

    (w1, h1), (w2, h2) = run(), run()
    assert h1 == h2
    for k in w1:
        assert np.array_equal(w1[k], w2[k])
    model = mlp(seed=3, dropout=0.3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h3 = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0, seed=8)
    assert h3.history["loss"] != h1["loss"]


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = blobs(n=100)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=1, batch_size=10, validation_split=0.2, verbose=0)
    expected = model.evaluate(x[80:], y[80:])
    assert h.history["val_loss"][0] == pytest.approx(expected, rel=1e-6)


def test_pytorch_style_loop_matches_fit_on_full_batch_gd():
    x, y = blobs(n=64)
    a = mlp(seed=1)
    a.compile(optimizer=tidu.optim.SGD(learning_rate=0.1),
              loss="sparse_categorical_crossentropy")
    a.fit(x, y, epochs=4, batch_size=64, shuffle=False, verbose=0)
    b = mlp(seed=1)
    opt = tidu.optim.SGD(b.parameters(), lr=0.1)
    loss_fn = tidu.losses.SparseCategoricalCrossentropy()
    for _ in range(4):
        loss = loss_fn(y, b(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in a.state_dict().items():
        np.testing.assert_allclose(v, b.state_dict()[k], rtol=1e-6, atol=1e-7)


def test_non_finite_loss_raises_and_keeps_weights_finite():
    x, y = blobs(n=32)
    x[5, 0] = np.nan
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.state_dict()
    with pytest.raises(NonFiniteLossError, match="loss became nan"):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, before[k])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_cleanly(capsys):
    x, y = blobs(n=64)
    x[40:, :] = np.inf
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                     callbacks=[TerminateOnNaN()])
    assert len(hist.history["loss"]) == 1 and math.isnan(hist.history["loss"][0])
    assert all(np.isfinite(v).all() for v in model.state_dict().values())
    assert "invalid loss" in capsys.readouterr().out


def test_regularization_is_part_of_the_loss():
    x, y = blobs(n=40)
    tidu.manual_seed(0)
    reg = tidu.nn.regularizers.L2(0.1)
    model = Sequential([nn.Dense(3, activation="softmax", input_shape=(4,),
                                 kernel_regularizer=reg)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    plain = tidu.losses.get("sparse_categorical_crossentropy")
    with tidu.no_grad():
        base = float(plain(y, model(x)).data)
    w = model.layers[0].kernel.data
    assert model.evaluate(x, y, batch_size=40) == pytest.approx(
        base + 0.1 * float((w.astype(np.float64) ** 2).sum()), rel=1e-5)


def test_summary_lists_layers_shapes_and_counts():
    model = Sequential([nn.Dense(512, activation="relu", input_shape=(784,)),
                        nn.Dense(10, activation="softmax")])
    text = model.summary(print_fn=None)
    assert "(None, 512)" in text and "(None, 10)" in text
    assert "401,920" in text and "5,130" in text
    assert "Total params: 407,050" in text


def test_lazy_model_builds_on_fit_and_unbuilt_summary_explains():
    x, y = blobs(n=32)
    model = Sequential([nn.Dense(8, activation="tanh"), nn.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        model.summary()
    model.compile(optimizer="adam", loss=tidu.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    assert [p.shape for p in model.parameters()] == [(4, 8), (8,), (8, 3), (3,)]


def test_errors_in_users_terms():
    x, y = blobs(n=20)
    model = mlp()
    with pytest.raises(RuntimeError, match="not compiled"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(tidu.ShapeError, match="dense"):
        model.fit(np.ones((20, 5), np.float32), y, verbose=0)


def test_save_and_load_weights_roundtrip(tmp_path):
    model = mlp(seed=1)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    other = mlp(seed=2)
    other.load_weights(path)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, other.state_dict()[k])
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


def test_verbose_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    x, y = blobs(n=32)
    model = mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 2 and "4/4" in lines[0] and "loss:" in lines[0]


def test_sequential_takes_keras_input_first_and_builds_at_once():
    from tidu import keras
    from tidu.keras import layers

    model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4), layers.Dense(2)])
    assert model.input_shape == (None, 6) and model.count_params() == 6 * 4 + 4 + 4 * 2 + 2
    again = type(model).from_config(model.get_config())
    assert again.input_shape == (None, 6) and again.count_params() == model.count_params()
    with pytest.raises(TypeError, match="first entry"):
        keras.Sequential([layers.Dense(4), keras.Input(shape=(6,))])
