"""tidu.nn.initializers: Keras's formulas checked on large samples, seeding, lookup by name.

Oracles: the closed-form moments and bounds of each distribution, and scipy.stats
(Kolmogorov-Smirnov against the exact truncated normal / uniform laws). The draws are
seeded, so every statistical check is deterministic.
"""

import math

import numpy as np
import pytest
from scipy import stats

import tidu
from tidu import nn
from tidu.nn import initializers as I

SHAPE = (400, 600)  # fan_in 400, fan_out 600: 240,000 draws
FAN_IN, FAN_OUT = SHAPE


def test_constant_initializers():
    assert np.array_equal(I.Zeros()((2, 3)), np.zeros((2, 3)))
    assert I.Zeros()((2,)).dtype == np.float32
    assert np.array_equal(I.Ones()((4,)), np.ones(4))
    c = I.Constant(0.5)((3, 2), dtype="float64")
    assert c.dtype == np.float64 and np.all(c == 0.5)


def test_compute_fans_follow_keras():
    assert I.compute_fans((784, 512)) == (784, 512)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((3, 3, 16, 32)) == (9 * 16, 9 * 32)  # conv kernel (h, w, in, out)


def test_random_normal_moments():
    w = I.RandomNormal(mean=0.5, stddev=0.2, seed=0)(SHAPE)
    assert w.shape == SHAPE and w.dtype == np.float32
    n = w.size
    assert abs(w.mean() - 0.5) < 4 * 0.2 / math.sqrt(n)
    assert w.std() == pytest.approx(0.2, rel=0.01)
    d = I.RandomNormal()  # Keras's defaults
    assert (d.mean, d.stddev) == (0.0, 0.05)


def test_random_uniform_bounds_and_law():
    w = I.RandomUniform(-0.3, 0.7, seed=1)(SHAPE)
    assert w.min() >= -0.3 and w.max() < 0.7
    assert stats.kstest(w[:20000].astype(np.float64).ravel(), stats.uniform(-0.3, 1.0).cdf
                        ).pvalue > 1e-3
    d = I.RandomUniform()
    assert (d.minval, d.maxval) == (-0.05, 0.05)
    with pytest.raises(ValueError, match="minval"):
        I.RandomUniform(1.0, 0.0)


def test_truncated_normal_is_cut_at_two_stddev():
    w = I.TruncatedNormal(stddev=0.1, seed=2)(SHAPE).astype(np.float64)
    assert np.abs(w).max() <= 0.2 + 1e-7
    assert w.std() == pytest.approx(0.1 * I.TRUNCATION_STD, rel=0.01)
    law = stats.truncnorm(-2, 2, loc=0.0, scale=0.1)
    assert stats.kstest(w.ravel()[:20000], law.cdf).pvalue > 1e-3


def test_truncation_constant_is_the_std_of_a_normal_cut_at_two():
    assert I.TRUNCATION_STD == pytest.approx(stats.truncnorm(-2, 2).std(), rel=1e-12)


@pytest.mark.parametrize("cls, n, factor", [
    (I.GlorotUniform, (FAN_IN + FAN_OUT) / 2, 1.0),
    (I.HeUniform, FAN_IN, 2.0),
    (I.LeCunUniform, FAN_IN, 1.0),
])
def test_uniform_variance_scaling(cls, n, factor):
    limit = math.sqrt(3 * factor / n)  # Glorot: sqrt(6 / (fan_in + fan_out)); He: sqrt(6/fan_in)
    w = cls(seed=3)(SHAPE).astype(np.float64)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # the bound is reached, not a smaller one
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.01)
    assert stats.kstest(w.ravel()[:20000], stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3


def test_glorot_uniform_limit_formula():
    w = I.get("glorot_uniform")((784, 512))
    assert np.abs(w).max() <= math.sqrt(6 / (784 + 512))


@pytest.mark.parametrize("cls, n, factor", [
    (I.GlorotNormal, (FAN_IN + FAN_OUT) / 2, 1.0),
    (I.HeNormal, FAN_IN, 2.0),
    (I.LeCunNormal, FAN_IN, 1.0),
])
def test_truncated_normal_variance_scaling(cls, n, factor):
    std = math.sqrt(factor / n)  # the standard deviation after truncation
    w = cls(seed=4)(SHAPE).astype(np.float64)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)
    underlying = std / 0.87962566103423978
    assert np.abs(w).max() <= 2 * underlying + 1e-7
    law = stats.truncnorm(-2, 2, scale=underlying)
    assert stats.kstest(w.ravel()[:20000], law.cdf).pvalue > 1e-3


def test_variance_scaling_modes_and_untruncated():
    w = I.VarianceScaling(scale=3.0, mode="fan_out", distribution="untruncated_normal",
                          seed=5)(SHAPE)
    assert w.std() == pytest.approx(math.sqrt(3.0 / FAN_OUT), rel=0.01)
    assert np.abs(w).max() > 3 * math.sqrt(3.0 / FAN_OUT)  # tails kept
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


def test_seeded_initializers_are_reproducible_by_themselves():
    a = I.HeNormal(seed=11)
    tidu.manual_seed(0)
    first = a((30, 20))
    tidu.manual_seed(99)
    np.testing.assert_array_equal(a((30, 20)), first)  # same values at every call (Keras)
    np.testing.assert_array_equal(I.HeNormal(seed=11)((30, 20)), first)
    assert not np.array_equal(I.HeNormal(seed=12)((30, 20)), first)


def test_unseeded_initializers_follow_manual_seed():
    init = I.GlorotUniform()
    tidu.manual_seed(3)
    a, b = init((10, 10)), init((10, 10))
    assert not np.array_equal(a, b)  # successive draws from the global generator differ
    tidu.manual_seed(3)
    np.testing.assert_array_equal(init((10, 10)), a)
    np.testing.assert_array_equal(init((10, 10)), b)
    tidu.manual_seed(4)
    m1 = nn.Sequential([nn.Dense(8, input_shape=(3,)), nn.Dense(2)])
    tidu.manual_seed(4)
    m2 = nn.Sequential([nn.Dense(8, input_shape=(3,)), nn.Dense(2)])
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_dtype_argument():
    assert I.RandomNormal(seed=0)((3,), dtype="float64").dtype == np.float64
    assert I.GlorotUniform(seed=0)((3, 3)).dtype == np.float32


@pytest.mark.parametrize("name, cls", [
    ("zeros", I.Zeros), ("ones", I.Ones), ("glorot_uniform", I.GlorotUniform),
    ("xavier_uniform", I.GlorotUniform), ("glorot_normal", I.GlorotNormal),
    ("xavier_normal", I.GlorotNormal), ("he_normal", I.HeNormal), ("he_uniform", I.HeUniform),
    ("lecun_normal", I.LeCunNormal), ("lecun_uniform", I.LeCunUniform),
    ("random_normal", I.RandomNormal), ("random_uniform", I.RandomUniform),
    ("truncated_normal", I.TruncatedNormal), ("GlorotUniform", I.GlorotUniform),
    ("LecunNormal", I.LeCunNormal),
])
def test_get_by_name(name, cls):
    assert type(I.get(name)) is cls


def test_get_other_identifiers_and_errors():
    inst = I.RandomNormal(stddev=0.01)
    assert I.get(inst) is inst and I.get(None) is None

    def fn(shape, dtype=None):
        return np.full(shape, 7.0, dtype=dtype)

    assert I.get(fn) is fn
    layer = nn.Dense(2, kernel_initializer=fn, input_dim=3)
    assert np.all(layer.kernel.numpy() == 7.0)
    rebuilt = I.get({"class_name": "RandomNormal", "config": inst.get_config()})
    assert isinstance(rebuilt, I.RandomNormal) and rebuilt.stddev == 0.01
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        I.get("glorot")
    with pytest.raises(TypeError, match="initializer"):
        I.get(3)
    with pytest.raises(ValueError, match="stddev"):
        I.RandomNormal(stddev=-1)


def test_get_config_round_trip():
    for init in [I.Constant(2.5), I.RandomUniform(-1, 2, seed=3), I.TruncatedNormal(0.1, 0.2),
                 I.VarianceScaling(2.0, "fan_avg", "uniform", seed=1), I.HeNormal(seed=9)]:
        copy = type(init).from_config(init.get_config())
        assert copy.get_config() == init.get_config()
    assert I.HeNormal(seed=9).get_config() == {"seed": 9}
    np.testing.assert_array_equal(
        I.HeNormal.from_config({"seed": 9})((4, 4)), I.HeNormal(seed=9)((4, 4)))
