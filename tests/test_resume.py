"""Exact resume: generator states, fit(seed, initial_epoch), callbacks' states, and
BackupAndRestore surviving SIGKILL at random moments with bit-identical final weights."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tidu
from tidu import callbacks as C
from tidu.callbacks.backup_and_restore import _join, _split
from tidu.nn import Dense, Dropout


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    return x, y


def model(seed=0):
    tidu.manual_seed(seed)
    m = tidu.Sequential([Dense(16, activation="relu", input_shape=(8,)), Dropout(0.3),
                         Dense(16, activation="relu"), Dropout(0.2, seed=11),
                         Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(np.array_equal(sa[k], sb[k]) for k in sa)


# ----- generator states -----
def test_global_generator_state_round_trip_is_json():
    tidu.manual_seed(4)
    tidu.random.get_generator().random(3)
    state = json.loads(json.dumps(tidu.random.get_state()))
    expected = tidu.random.get_generator().random(5)
    tidu.manual_seed(99)
    tidu.random.set_state(state)
    assert np.array_equal(tidu.random.get_generator().random(5), expected)


def test_set_state_refuses_what_is_not_a_state():
    with pytest.raises(ValueError, match="expected a generator state"):
        tidu.random.set_state({"bit_generator": "os", "state": {}})
    with pytest.raises(ValueError, match="not a valid PCG64 state"):
        tidu.random.set_state({"bit_generator": "PCG64", "state": {"state": "x"}})
    mt = np.random.Generator(np.random.MT19937(0))
    with pytest.raises(ValueError, match="PCG64 generator, the generator given is MT19937"):
        tidu.random.set_state(tidu.random.get_state(), mt)


def test_seed_epoch_depends_on_seed_and_epoch_only():
    a = tidu.random.seed_epoch(3, 2).random(4)
    tidu.random.get_generator().random(10)
    assert np.array_equal(tidu.random.seed_epoch(3, 2).random(4), a)
    assert not np.array_equal(tidu.random.seed_epoch(3, 1).random(4), a)
    assert not np.array_equal(tidu.random.seed_epoch(4, 2).random(4), a)


def test_dropout_own_generator_state_round_trip():
    drop = Dropout(0.5, seed=1)
    drop(tidu.ones(10))
    state = json.loads(json.dumps(drop.get_rng_state()))
    expected = drop(tidu.ones(50)).numpy()
    other = Dropout(0.5, seed=2)
    other.set_rng_state(state)
    assert np.array_equal(other(tidu.ones(50)).numpy(), expected)
    assert Dropout(0.5).get_rng_state() is None
    with pytest.raises(ValueError, match="has no generator of its own"):
        Dropout(0.5).set_rng_state(state)
    with pytest.raises(ValueError, match="got no state"):
        other.set_rng_state(None)


# ----- fit(seed, initial_epoch) -----
def test_fit_with_initial_epoch_continues_the_generator_of_an_uninterrupted_fit():
    x, y = data()
    whole = model()
    hw = whole.fit(x, y, epochs=4, batch_size=10, verbose=0, seed=5)
    parts = model()
    h1 = parts.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=5)
    h2 = parts.fit(x, y, epochs=4, batch_size=10, verbose=0, seed=5, initial_epoch=2)
    assert same_weights(whole, parts)
    assert h1.history["loss"] + h2.history["loss"] == hw.history["loss"]
    assert h2.epoch == [2, 3]
    # before the epoch rule the second call replayed epoch 0's shuffle: a different run
    replay = model()
    replay.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=5)
    replay.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=5)
    assert not same_weights(whole, replay)


# ----- callbacks' states -----
def json_round_trip(state):
    tensors = {}
    text = json.dumps(_split(state, "", tensors))
    return _join(json.loads(text), tensors)


def test_callbacks_state_round_trip(tmp_path):
    x, y = data()
    m = model()
    es = C.EarlyStopping(monitor="loss", patience=50, restore_best_weights=True)
    rl = C.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=10.0)
    mc = C.ModelCheckpoint(str(tmp_path / "w.npz"), monitor="loss", save_best_only=True,
                           save_weights_only=True)
    csv_path = tmp_path / "log.csv"
    log = C.CSVLogger(str(csv_path))
    hist = m.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=1, callbacks=[es, rl, mc, log])
    states = {type(c).__name__: json_round_trip(c.get_state()) for c in (es, rl, mc, hist)}
    assert states["EarlyStopping"]["wait"] == es.wait and states["EarlyStopping"]["best"] == \
        es.best
    assert all(np.array_equal(v, es.best_weights[k])
               for k, v in states["EarlyStopping"]["best_weights"].items())
    fresh = {"EarlyStopping": C.EarlyStopping(monitor="loss", restore_best_weights=True),
             "ReduceLROnPlateau": C.ReduceLROnPlateau(monitor="loss"),
             "ModelCheckpoint": C.ModelCheckpoint(str(tmp_path / "v.npz")),
             "History": C.History()}
    for name, cb in fresh.items():
        cb.on_train_begin()
        cb.set_state(states[name])
        assert json.dumps(_split(cb.get_state(), "", {})) == \
            json.dumps(_split(states[name], "", {})), name
    assert fresh["History"].history == hist.history and fresh["History"].epoch == [0, 1, 2]
    assert fresh["ReduceLROnPlateau"].wait == rl.wait
    assert fresh["ModelCheckpoint"].best == mc.best


def test_csv_logger_state_puts_back_what_was_written_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old,row\n")
    log = C.CSVLogger(str(path), append=True)
    log.on_train_begin()
    log.on_epoch_end(0, {"loss": 1.5})
    state = json_round_trip(log.get_state())
    log.on_epoch_end(1, {"loss": 1.25})  # written after the checkpoint: must not survive
    log.on_train_end()
    again = C.CSVLogger(str(path), append=True)
    again.on_train_begin()
    again.set_state(state)
    again.on_epoch_end(1, {"loss": 1.0})
    again.on_train_end()
    # append to a non-empty file: no second header (CSVLogger's rule), the killed row gone
    assert path.read_text().splitlines() == ["old,row", "0,1.5", "1,1.0"]


# ----- BackupAndRestore in one process -----
class Crash(Exception):
    pass


class CrashAt(C.Callback):
    """Raise at a given (epoch, batch): a stand-in for a kill, without timing."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_train_batch_end(self, batch, logs=None):
        if (self.model.fit_state.epoch, batch) == self.at:
            raise Crash


def run(backup, crash=None, save_freq=4, log=None):
    x, y = data()
    m = model()
    cbs = [C.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=10.0),
           C.EarlyStopping(monitor="loss", patience=50, restore_best_weights=True)]
    if log is not None:
        cbs.append(C.CSVLogger(str(log)))
    cbs.append(CrashAt(*(crash or (None, None))))
    if backup is not None:
        cbs.append(C.BackupAndRestore(backup, save_freq=save_freq))
    hist = m.fit(x, y, epochs=4, batch_size=10, verbose=0, seed=2, callbacks=cbs,
                 validation_data=data(30, seed=1))
    return m, hist


@pytest.mark.parametrize("save_freq, crash", [(4, (1, 6)), (4, (2, 0)), (5, (1, 9)),
                                              ("epoch", (2, 3)), (3, (3, 9))])
def test_backup_and_restore_after_a_crash_equals_an_uninterrupted_fit(tmp_path, save_freq,
                                                                      crash):
    ref, ref_hist = run(None, log=tmp_path / "ref.csv")
    backup = tmp_path / "backup"
    with pytest.raises(Crash):
        run(backup, crash=crash, save_freq=save_freq, log=tmp_path / "run.csv")
    assert os.listdir(backup)
    resumed, hist = run(backup, save_freq=save_freq, log=tmp_path / "run.csv")
    assert same_weights(ref, resumed)
    assert hist.history == ref_hist.history and hist.epoch == [0, 1, 2, 3]
    assert (tmp_path / "run.csv").read_text() == (tmp_path / "ref.csv").read_text()
    assert resumed.optimizer.iterations == ref.optimizer.iterations
    assert resumed.optimizer.learning_rate == ref.optimizer.learning_rate
    assert not backup.exists()  # deleted after the successful fit


def test_backup_kept_with_delete_checkpoint_false_and_a_finished_run_trains_no_more(tmp_path):
    x, y = data()
    m = model()
    bk = C.BackupAndRestore(tmp_path, delete_checkpoint=False)
    m.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=2, callbacks=[bk])
    assert os.path.exists(bk.path)
    again = model(seed=7)
    hist = again.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=2, callbacks=[bk])
    assert same_weights(m, again) and hist.epoch == [0, 1]  # the History is restored too
    assert again.optimizer.iterations == m.optimizer.iterations


def test_backup_from_another_fit_is_refused(tmp_path):
    with pytest.raises(Crash):
        run(tmp_path, crash=(1, 2))
    x, y = data()
    m = model()
    with pytest.raises(ValueError, match=r"written by another fit \(callbacks "
                                         r"\['ReduceLROnPlateau'"):
        m.fit(x, y, epochs=4, batch_size=10, verbose=0, callbacks=[C.BackupAndRestore(tmp_path)])


def test_save_freq_is_checked():
    for bad in (0, -3, 2.5, True, "batch"):
        with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive"):
            C.BackupAndRestore("b", save_freq=bad)


# ----- ModelCheckpoint: whole model by default -----
def test_model_checkpoint_saves_the_whole_model_unless_weights_only(tmp_path):
    pytest.importorskip("safetensors")  # model.save writes safetensors
    x, y = data()
    m = model()
    m.fit(x, y, epochs=2, batch_size=16, verbose=0,
          callbacks=[C.ModelCheckpoint(str(tmp_path / "m-{epoch}.tidu"))])
    assert sorted(os.listdir(tmp_path)) == ["m-1.tidu", "m-2.tidu"]
    loaded = tidu.models.load_model(tmp_path / "m-2.tidu")
    assert same_weights(m, loaded)
    assert loaded.optimizer.iterations == m.optimizer.iterations
    m.fit(x, y, epochs=1, batch_size=16, verbose=0,
          callbacks=[C.ModelCheckpoint(str(tmp_path / "w.npz"), save_weights_only=True)])
    other = model(seed=9)
    other.load_weights(tmp_path / "w.npz")
    assert same_weights(m, other)
    with pytest.raises(ValueError, match="should end in '.tidu'"):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0,
              callbacks=[C.ModelCheckpoint(str(tmp_path / "whole.npz"))])


# ----- SIGKILL at random moments -----
WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    import tidu
    from tidu import callbacks as C
    from tidu.nn import Dense, Dropout

    out, backup = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(960, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 960)]
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(64, activation="relu", input_shape=(64,)), Dropout(0.2),
                             Dense(32, activation="relu"), Dropout(0.1, seed=5),
                             Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    cbs = [C.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_delta=10.0),
           C.EarlyStopping(monitor="loss", patience=100, restore_best_weights=True),
           C.CSVLogger(out + ".csv")]
    if backup != "-":
        cbs.append(C.BackupAndRestore(backup, save_freq=5))
    open(out + ".started", "w").close()  # imports done: the test's clock starts now
    model.fit(x, y, epochs=6, batch_size=16, verbose=0, seed=3, callbacks=cbs)
    np.savez(out + ".npz", **model.state_dict())
""")


def test_fit_killed_with_sigkill_and_restarted_ends_bit_identical(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    # TIDU_ACCEL=0: the kill moments are fractions of the training time, and the first step's
    # one-time numba import (tidu.accel, about 0.5 s) is longer than this whole small run's
    # training; the kernels give the same bits, so the run itself is the same either way
    env = {**os.environ, "TIDU_ACCEL": "0", "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(os.path.dirname(tidu.__file__)), os.environ.get("PYTHONPATH", "")])}

    def start(name, backup):
        (tmp_path / f"{name}.started").unlink(missing_ok=True)
        return subprocess.Popen([sys.executable, str(script), str(tmp_path / name), backup],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)

    def wait_started(name, proc) -> float:
        deadline = time.monotonic() + 60
        while not (tmp_path / f"{name}.started").exists() and proc.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.005)
        return time.monotonic()

    ref = start("ref", "-")  # no backup at all
    assert ref.wait(timeout=120) == 0, ref.stderr.read()
    timed = start("timed", str(tmp_path / "timed_backup"))  # uninterrupted, with backups
    t0 = wait_started("timed", timed)
    assert timed.wait(timeout=120) == 0, timed.stderr.read()
    train_s = time.monotonic() - t0
    # kills at random moments of the training itself, scaled to this machine's speed
    fractions = random.Random(14).sample([0.1, 0.15, 0.2, 0.25, 0.3], 4)
    backup = tmp_path / "backup"
    kills = resumed = 0
    for fraction in [*fractions, None]:
        if backup.exists() and os.listdir(backup):
            resumed += 1
        proc = start("run", str(backup))
        if fraction is not None:
            wait_started("run", proc)
            try:
                proc.wait(timeout=fraction * train_s)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
    assert proc.returncode == 0
    assert kills >= 2 and resumed >= 2, (kills, resumed)
    arrays = [np.load(tmp_path / f"{name}.npz") for name in ("ref", "timed", "run")]
    for other in arrays[1:]:
        assert other.files == arrays[0].files
        assert all(np.array_equal(arrays[0][k], other[k]) for k in other.files)
    logs = [(tmp_path / f"{name}.csv").read_text() for name in ("ref", "timed", "run")]
    assert logs[0] == logs[1] == logs[2] and len(logs[0].splitlines()) == 7
    # the backup is gone; only temporaries of killed writes may wait for tidu.io's cleanup
    left = os.listdir(backup) if backup.exists() else []
    assert all(".tidu-tmp-" in name for name in left), left
