"""tidu.callbacks.TensorBoard: the event files hold the logged values (read back with
tensorboardX's protobuf definitions)."""

import struct
from pathlib import Path

import numpy as np
import pytest

import tidu
from tidu.callbacks import Callback, TensorBoard
from tidu.nn import Dense

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402


def read_events(folder: Path) -> list:
    """Every Event of the TFRecord event files in ``folder`` (length, crc, data, crc)."""
    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            record = data[pos + 12:pos + 12 + length]
            pos += 12 + length + 4
            e = event_pb2.Event()
            e.ParseFromString(record)
            events.append(e)
    return events


def scalars(folder: Path) -> dict:
    out: dict = {}
    for e in read_events(folder):
        for v in e.summary.value:
            if v.HasField("simple_value"):
                out.setdefault(v.tag, []).append((e.step, v.simple_value))
    return out


def histograms(folder: Path) -> dict:
    out: dict = {}
    for e in read_events(folder):
        for v in e.summary.value:
            if v.HasField("histo"):
                out.setdefault(v.tag, []).append((e.step, v.histo))
    return out


class Keep(Callback):
    def __init__(self):
        self.batch_losses, self.weights = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.layers[0].kernel.data.copy())


def fit(tmp_path, **options):
    tidu.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = tidu.Sequential([Dense(4, activation="relu", input_shape=(3,), name="hidden"),
                             Dense(1, activation="sigmoid", name="out")])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    keep = Keep()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
                        validation_data=(x[:8], y[:8]),
                        callbacks=[TensorBoard(tmp_path, **options), keep])
    return history, keep


def test_epoch_scalars_train_and_validation(tmp_path):
    history, _ = fit(tmp_path)
    train, val = scalars(tmp_path / "train"), scalars(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]],
                                   history.history[name], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in val[f"epoch_{name}"]],
                                   history.history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], 0.05, rtol=1e-6)
    assert not any(tag.startswith("batch_") for tag in train)
    assert not histograms(tmp_path / "train")


def test_batch_scalars_and_histograms(tmp_path):
    _, keep = fit(tmp_path, update_freq="batch", histogram_freq=1, write_grads=True)
    train = scalars(tmp_path / "train")
    assert [s for s, _ in train["batch_loss"]] == list(range(1, 10))
    np.testing.assert_allclose([v for _, v in train["batch_loss"]], keep.batch_losses,
                               rtol=1e-6)
    hist = histograms(tmp_path / "train")
    assert {"hidden/kernel", "hidden/bias", "out/kernel", "out/bias",
            "hidden/kernel/grad"} <= set(hist)
    for (_, h), w in zip(hist["hidden/kernel"], keep.weights):
        assert h.num == w.size
        assert h.sum == pytest.approx(float(w.sum()), rel=1e-5, abs=1e-6)
        assert h.min == pytest.approx(float(w.min()), rel=1e-6)
        assert h.max == pytest.approx(float(w.max()), rel=1e-6)
    assert [s for s, _ in hist["hidden/kernel"]] == [0, 1, 2]


def test_every_n_batches_and_bad_arguments(tmp_path):
    fit(tmp_path, update_freq=4, histogram_freq=2)
    train = scalars(tmp_path / "train")
    assert [s for s, _ in train["batch_loss"]] == [4, 8]
    assert [s for s, _ in histograms(tmp_path / "train")["out/kernel"]] == [1]
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(tmp_path, update_freq="step")
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(tmp_path, histogram_freq=-1)
