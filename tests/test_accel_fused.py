"""tidu.accel's fused loops of the small-model step (NumPy's summation order, the
cross-entropy between NumPy's exp and log, the dense layer's bias and rectifier) give the
bits of the NumPy code they replace, also on NaN, -inf and signed zeros, and step aside
where they do not apply."""

import numpy as np
import pytest

import tidu
import tidu.accel
from tidu import nn, optim

pytest.importorskip("numba", reason="numba (the optional accelerator) not installed")

from tidu.accel import reduce as R  # noqa: E402


def same_bits(a, b):
    """Equal values and signs of zero; any NaN equals any NaN (its sign is not NumPy's to
    promise: the compiler may swap the operands of an addition)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)
    keep = ~np.isnan(a)
    np.testing.assert_array_equal(np.signbit(a[keep]), np.signbit(b[keep]))


def _cases(seed=0, n=40):
    rng = np.random.default_rng(seed)
    for trial in range(n):
        r, c = int(rng.integers(1, 70)), int(rng.integers(2, 300))
        for dt in (np.float32, np.float64):
            x = (rng.standard_normal((r, c)) * rng.choice([1e-3, 1, 30, 1e4])).astype(dt)
            if trial % 7 == 0:
                x[0, 0] = np.nan
            if trial % 5 == 0:
                x[-1, :] = -np.inf
            x[rng.random((r, c)) < 0.05] = -0.0
            yield rng, x


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 300, 1000, 4097, 100_003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pairwise_sum_is_numpys(n, dtype):
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    same_bits(np.asarray(R.numpy_sum(x, 0, n), dtype), x.sum())
    m = x[: n - n % 3].reshape(-1, 3) if n >= 3 else x.reshape(1, -1)
    if m.size:
        out = np.empty(m.shape[0], dtype)
        R.row_sums(m, out)
        same_bits(out, m.sum(axis=-1))
    z = np.full(max(n, 1), -0.0, dtype)  # NumPy's sum starts from +0.0
    same_bits(np.asarray(R.numpy_sum(z, 0, z.size), dtype), z.sum())


def test_cross_entropy_loops_give_the_numpy_bits():
    with np.errstate(all="ignore"):
        for rng, x in _cases():
            dt = x.dtype.type
            t = rng.random(x.shape).astype(x.dtype)
            t /= t.sum(1, keepdims=True)
            z = x - x.max(axis=-1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
            got_logp, dot = tidu.accel.log_softmax_dot(x, t, -1)
            same_bits(got_logp, logp)
            same_bits(np.asarray(dot, x.dtype), (logp * t).sum())
            g = dt(rng.random())
            p = np.exp(logp)
            assert tidu.accel.softmax_xent_grad(p, t, g, -1)
            want = np.exp(logp)
            want *= t.sum(axis=-1, keepdims=True)
            want -= t
            want *= g
            same_bits(p, want)


def test_dense_loops_give_the_numpy_bits():
    with np.errstate(all="ignore"):
        for rng, x in _cases(1):
            b = (rng.standard_normal(x.shape[1]) * 10).astype(x.dtype)
            for relu in (True, False):
                got = x.copy()
                assert tidu.accel.bias_relu(got, b, relu)
                want = x + b
                if relu:
                    np.maximum(want, 0, out=want)
                same_bits(got, want)
            g = rng.standard_normal(x.shape).astype(x.dtype)
            d, gb = tidu.accel.relu_backward_bias(g, x)
            mask = g * (x > 0)
            same_bits(d, mask)
            same_bits(gb, mask.sum(axis=0))
            same_bits(tidu.accel.column_sums(g), g.sum(axis=0))
            got = x.copy()
            tidu.accel.relu_(got)
            same_bits(got, np.maximum(x, 0))
    g3 = np.random.default_rng(2).standard_normal((4, 5, 6)).astype(np.float32)
    same_bits(tidu.accel.column_sums(g3), g3.reshape(-1, 6).sum(axis=0))


def test_fused_loops_step_aside():
    x = np.ones((4, 3), np.float32)
    assert tidu.accel.log_softmax_dot(x, x.astype(np.float64), -1) is None  # two dtypes
    assert tidu.accel.log_softmax_dot(x, x, 0) is None  # not the last axis
    assert tidu.accel.log_softmax_dot(np.ones((4, 6), np.float32)[:, ::2], x, -1) is None
    p = np.ones((4, 3), np.float32)
    assert not tidu.accel.softmax_xent_grad(p, x, np.float64(0.5), -1)  # g of another dtype
    assert not tidu.accel.softmax_xent_grad(p, x, np.ones(4, np.float32), -1)  # per row
    assert not tidu.accel.bias_relu(np.ones((3, 4), np.float32).T, np.ones(3, np.float32), True)
    assert not tidu.accel.bias_relu(x, np.ones(3, np.float64), True)
    assert tidu.accel.column_sums(np.ones((5, 1), np.float32)) is None  # NumPy sums pairwise
    assert tidu.accel.relu_backward_bias(np.ones((3, 4)).T, np.ones((4, 3))) is None
    with tidu.accel.disabled():
        assert tidu.accel.log_softmax_dot(x, x, -1) is None
        assert not tidu.accel.bias_relu(x, np.ones(3, np.float32), True)


def _step_bits(accel_on, dtype):
    rng = np.random.default_rng(0)
    with tidu.accel.disabled() if not accel_on else _Nothing():
        tidu.manual_seed(0)
        model = nn.Sequential([nn.Dense(16, activation="relu", input_shape=(6,)),
                               nn.Dense(5)])
        opt = optim.SGD(model.parameters(), lr=0.1)
        loss_fn = tidu.losses.CategoricalCrossentropy(from_logits=True)
        for _ in range(5):
            x = tidu.Tensor(rng.standard_normal((8, 6)).astype(dtype))
            y = np.eye(5, dtype=dtype)[rng.integers(0, 5, 8)]
            loss = loss_fn(y, model(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return float(loss.numpy()), [p.numpy().copy() for p in model.parameters()]


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_training_step_is_the_same_with_and_without_the_loops():
    loss_on, w_on = _step_bits(True, np.float32)
    loss_off, w_off = _step_bits(False, np.float32)
    assert loss_on == loss_off
    for a, b in zip(w_on, w_off):
        same_bits(a, b)
