"""tidu.backend.recycle: large temporaries on reused memory, never shared by live arrays."""

import gc
import os
import subprocess
import sys

import numpy as np
import pytest

from tidu.backend import recycle

MIB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    monkeypatch.setattr(recycle, "MIN_BYTES", MIB)
    monkeypatch.setattr(recycle, "LIMIT_BYTES", 64 * MIB)
    recycle.clear()
    yield
    recycle.clear()


def test_an_array_is_an_ordinary_writable_c_array():
    a = recycle.empty((512, 1024), np.float32)
    assert a.shape == (512, 1024) and a.dtype == np.float32
    assert a.flags.c_contiguous and a.flags.writeable
    a[...] = 3.0
    assert float(a.sum()) == 3.0 * a.size
    assert recycle.zeros((300, 1000), np.float64).any() == False  # noqa: E712 - zeros


def test_a_freed_block_serves_the_next_array_of_its_size():
    a = recycle.empty((1024, 512), np.float32)
    address = a.ctypes.data
    del a
    assert recycle.held() == 2 * MIB
    b = recycle.empty((2048, 256), np.float32)  # same bytes, another shape
    assert b.ctypes.data == address
    assert recycle.held() == 0
    c = recycle.empty((1024, 1024), np.float32)  # another size: a block of its own
    assert c.ctypes.data != address


def test_a_block_is_not_reused_while_any_view_of_it_lives():
    a = recycle.empty((1024, 512), np.float32)
    a[...] = 1.0
    view = a[100:200].T[::2]  # a view of a view
    assert np.shares_memory(view, a)
    address = a.ctypes.data
    del a
    gc.collect()
    b = recycle.empty((1024, 512), np.float32)
    assert b.ctypes.data != address
    b[...] = 7.0
    assert np.all(view == 1.0)  # the view's memory was not handed out again
    del view
    c = recycle.empty((1024, 512), np.float32)
    assert c.ctypes.data == address


def test_small_arrays_and_foreign_arrays_come_from_numpy():
    small = recycle.empty((10, 10), np.float32)
    assert small.base is None  # NumPy's own array
    del small
    assert recycle.held() == 0
    big = recycle.like(np.ones((4, 4)), shape=(1024, 1024))
    assert big.shape == (1024, 1024) and big.dtype == np.float64
    assert big.base is not None


def test_the_pool_keeps_at_most_its_limit_and_per_size_count(monkeypatch):
    monkeypatch.setattr(recycle, "LIMIT_BYTES", 5 * MIB)
    arrays = [recycle.empty(MIB // 4, np.float32) for _ in range(8)]
    del arrays
    assert recycle.held() == 5 * MIB  # five 1 MiB blocks kept, three let go
    recycle.clear()
    monkeypatch.setattr(recycle, "LIMIT_BYTES", 64 * MIB)
    monkeypatch.setattr(recycle, "PER_SIZE", 2)
    arrays = [recycle.empty(MIB // 4, np.float32) for _ in range(4)]
    del arrays
    assert recycle.held() == 2 * MIB


def test_a_convnet_step_gives_the_same_result_with_and_without_the_pool(monkeypatch):
    import tidu
    from tidu.keras import layers

    def run():
        tidu.manual_seed(0)
        model = tidu.Sequential([
            layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D(2), layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10)])
        model.compile(loss=tidu.losses.SparseCategoricalCrossentropy(from_logits=True),
                      optimizer="adam")
        rng = np.random.default_rng(0)
        x = rng.random((96, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, 96)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
        return [w.copy() for w in model.get_weights()]

    monkeypatch.setattr(recycle, "MIN_BYTES", 64 << 10)  # this small net's maps use the pool
    recycle.clear()
    pooled = run()
    assert recycle.held() > 0  # the pool was used
    monkeypatch.setattr(recycle, "MIN_BYTES", 1 << 62)
    plain = run()
    for a, b in zip(pooled, plain):
        assert np.array_equal(a, b)


def test_the_environment_switch_turns_the_pool_off():
    code = ("from tidu.backend import recycle; a = recycle.empty((1024, 1024), 'float32');"
            "print(a.base is None)")
    env = dict(os.environ, TIDU_RECYCLE="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "True"
