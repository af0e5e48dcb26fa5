"""Callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger, LambdaCallback."""

import csv

import numpy as np
import pytest

import tidu
from tidu import callbacks, nn
from tidu.models import Sequential


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)).astype(np.float32)
    return x, y[:, None]


def model(seed=0, lr=0.05):
    tidu.manual_seed(seed)
    m = Sequential([nn.Dense(1, input_shape=(3,))])
    m.compile(optimizer=tidu.optim.SGD(learning_rate=lr), loss="mse")
    return m


class Recorder(callbacks.Callback):
    """Keeps the weights seen at the end of each epoch."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.state_dict())


def test_early_stopping_stops_and_restores_best_weights():
    x, y = data()
    m = model(lr=0.05)
    rec = Recorder()
    # a huge min_delta: no epoch after the first counts as an improvement
    es = callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=1e9,
                                 restore_best_weights=True)
    hist = m.fit(x, y, epochs=20, batch_size=30, verbose=0, callbacks=[rec, es])
    assert len(hist.history["loss"]) == 3
    for k, v in rec.weights[0].items():
        assert np.array_equal(m.state_dict()[k], v)


def test_early_stopping_restores_best_even_when_training_ends_normally():
    x, y = data()
    m = model(lr=0.8)  # diverging: the first epoch is the best
    rec = Recorder()
    es = callbacks.EarlyStopping(monitor="loss", patience=100, restore_best_weights=True)
    hist = m.fit(x, y, epochs=4, batch_size=120, verbose=0, callbacks=[rec, es])
    losses = hist.history["loss"]
    best = int(np.argmin(losses))
    assert len(losses) == 4
    for k, v in rec.weights[best].items():
        assert np.array_equal(m.state_dict()[k], v)


def test_model_checkpoint_writes_best_only_atomically(tmp_path):
    x, y = data()
    m = model()
    ck = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.npz"), monitor="val_loss",
                                   save_best_only=True, save_weights_only=True)
    hist = m.fit(x, y, epochs=3, batch_size=20, verbose=0,
                 validation_data=(x[:30], y[:30]), callbacks=[ck])
    files = sorted(p.name for p in tmp_path.iterdir())
    vl = hist.history["val_loss"]
    expected = [f"w-{i + 1:02d}.npz" for i in range(3) if vl[i] == min(vl[: i + 1])]
    assert files == expected
    other = model(seed=5)
    other.load_weights(tmp_path / files[-1])
    assert other.evaluate(x[:30], y[:30], batch_size=20) == pytest.approx(min(vl), rel=1e-6)


def test_reduce_lr_on_plateau_lowers_the_learning_rate():
    x, y = data()
    m = model(lr=0.05)
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9)
    hist = m.fit(x, y, epochs=4, batch_size=30, verbose=0, callbacks=[cb])
    # logged as Keras does: the rate in force during the epoch, before any reduction
    assert hist.history["learning_rate"] == [0.05, 0.05, 0.025, 0.0125]
    assert m.optimizer.learning_rate == 0.00625


def test_csv_logger_and_lambda_callback(tmp_path):
    x, y = data()
    m = model()
    seen = []
    path = tmp_path / "log.csv"
    lam = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    hist = m.fit(x, y, epochs=3, batch_size=40, verbose=0,
                 callbacks=[callbacks.CSVLogger(str(path)), lam])
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2] == seen
    assert [float(r["loss"]) for r in rows] == hist.history["loss"]


class FakeTerminal:
    """A text stream that says it is a terminal, so the progress bar draws with tqdm."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_progress_bar_draws_with_tqdm_on_a_terminal():
    x, y = data(n=64)
    m = model()
    term = FakeTerminal()
    bar = callbacks.ProgbarLogger(verbose=1, stream=term)
    m.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[bar])
    assert "Epoch 1/2" in term.text and "Epoch 2/2" in term.text
    assert "4/4" in term.text and "loss:" in term.text
