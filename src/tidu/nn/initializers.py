"""Weight initializers with Keras 3's formulas and defaults.

An initializer is called as ``init(shape, dtype=None)`` and returns a NumPy array (float32
by default). Random initializers draw from tidu's global generator (so ``tidu.manual_seed``
reproduces them), or, given ``seed=``, from their own generator made afresh from that seed
at every call: like Keras, a seeded initializer returns the same values each time it is
called with the same shape.

Fans of a weight shape (Keras's rule): a 2-D kernel ``(in, out)`` has fan_in = in and
fan_out = out; a 1-D shape ``(n,)`` has both equal to n; for more axes ``(..., in, out)``
the leading axes are a receptive field that multiplies both.

Why not all zeros: every unit of a layer would compute the same function and receive the
same gradient, so they would never become different (Text C). Why scale by the fans: to keep
the variance of activations and gradients roughly constant from layer to layer.

>>> import numpy as np, tidu
>>> w = tidu.nn.initializers.GlorotUniform(seed=0)((784, 512))
>>> w.shape, w.dtype, bool(np.abs(w).max() <= np.sqrt(6 / (784 + 512)))
((784, 512), dtype('float32'), True)
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend, registry
from ..random import get_generator

# std of a standard normal truncated to [-2, 2]: divide by it so the truncated draws keep
# the intended variance (Keras's constant)
TRUNCATION_STD = 0.87962566103423978


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` (see the module docstring)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _dtype(dtype):
    return backend.default_float if dtype is None else dtype


class Initializer:
    """Base class: subclasses define ``__call__(shape, dtype=None) -> array``."""

    def __call__(self, shape, dtype=None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments as a dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (the default for biases)."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(tuple(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(tuple(shape), self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomInitializer(Initializer):
    """Base of random initializers: the generator is tidu's, or one made from ``seed``."""

    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return get_generator() if self.seed is None else np.random.default_rng(self.seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


def _positive(value, what: str) -> float:
    value = float(value)
    if not value > 0:
        raise ValueError(f"{what} must be positive, got {value}")
    return value


def truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal draws (float64) with those beyond two ``stddev`` from ``mean`` redrawn."""
    z = rng.standard_normal(tuple(shape))
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return mean + stddev * z


class RandomNormal(RandomInitializer):
    """Samples from N(mean, stddev^2); Keras's defaults mean 0, stddev 0.05.

    Text C's "random Gaussian initialization N(0, 0.01)" is ``RandomNormal(stddev=0.01)``.
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = float(mean)
        self.stddev = _positive(stddev, "stddev")

    def __call__(self, shape, dtype=None) -> np.ndarray:
        z = self._rng().standard_normal(tuple(shape))
        return (self.mean + self.stddev * z).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev^2) with draws more than two stddev from the mean redrawn (Keras).

    The result's standard deviation is about 0.88 * stddev (the truncation removes the tails).
    """

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return truncated_normal(self._rng(), shape, self.mean, self.stddev).astype(_dtype(dtype))


class RandomUniform(RandomInitializer):
    """Samples from U[minval, maxval); Keras's defaults -0.05 and 0.05."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)
        if not self.minval < self.maxval:
            raise ValueError(f"RandomUniform: minval ({minval}) must be below maxval ({maxval})")

    def __call__(self, shape, dtype=None) -> np.ndarray:
        u = self._rng().uniform(self.minval, self.maxval, tuple(shape))
        return u.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Variance ``scale / n`` where n is fan_in, fan_out or their mean (by ``mode``).

    ``distribution='truncated_normal'``: a normal truncated at two standard deviations,
    with stddev ``sqrt(scale / n) / 0.8796...`` so that the variance after truncation is
    ``scale / n``; ``'untruncated_normal'``: N(0, scale / n); ``'uniform'``:
    U[-limit, limit] with ``limit = sqrt(3 * scale / n)``. ('normal' means truncated, as
    in Keras.)
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        super().__init__(seed)
        self.scale = _positive(scale, "scale")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {self.DISTRIBUTIONS}, got "
                             f"{distribution!r}")
        self.mode, self.distribution = mode, distribution

    def variance(self, shape) -> float:
        """The target variance ``scale / n`` for a weight of ``shape``."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        var = self.variance(shape)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            out = truncated_normal(rng, shape, 0.0, math.sqrt(var) / TRUNCATION_STD)
        elif self.distribution == "untruncated_normal":
            out = math.sqrt(var) * rng.standard_normal(tuple(shape))
        else:
            limit = math.sqrt(3.0 * var)
            out = rng.uniform(-limit, limit, tuple(shape))
        return out.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed arguments; its config is only the seed."""

    PRESET: tuple = ()

    def __init__(self, seed: int | None = None):
        scale, mode, distribution = self.PRESET
        super().__init__(scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: U[-limit, limit], limit = sqrt(6 / (fan_in + fan_out)).

    Keras's default kernel initializer.
    """

    PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal of variance 2 / (fan_in + fan_out)."""

    PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """He uniform (for ReLU layers): U[-limit, limit], limit = sqrt(6 / fan_in)."""

    PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """He normal (for ReLU layers): truncated normal of variance 2 / fan_in."""

    PRESET = (2.0, "fan_in", "truncated_normal")


class LeCunUniform(_Preset):
    """LeCun uniform: U[-limit, limit], limit = sqrt(3 / fan_in)."""

    PRESET = (1.0, "fan_in", "uniform")


class LeCunNormal(_Preset):
    """LeCun normal (for SELU layers): truncated normal of variance 1 / fan_in."""

    PRESET = (1.0, "fan_in", "truncated_normal")


LecunNormal, LecunUniform = LeCunNormal, LeCunUniform  # Keras's spelling

_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "xavier_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "xavier_normal": GlorotNormal,
    "he_uniform": HeUniform, "kaiming_uniform": HeUniform,
    "he_normal": HeNormal, "kaiming_normal": HeNormal,
    "lecun_uniform": LeCunUniform, "lecun_normal": LeCunNormal,
}
_BY_CLASS = {c.__name__: c for c in set(_BY_NAME.values())}
_BY_CLASS.update({"LecunNormal": LeCunNormal, "LecunUniform": LeCunUniform})


def get(identifier):
    """An initializer from a name, a config dict, an instance or a callable.

    Args:
        identifier: a name ('glorot_uniform', 'xavier_uniform', 'he_normal', 'zeros', ...
            or a class name such as 'GlorotUniform'), a dict
            ``{'class_name': ..., 'config': {...}}``, an Initializer, a callable
            ``(shape, dtype) -> array``, or None (returns None).

    Raises:
        ValueError: an unknown name.
        TypeError: anything else.
    """
    return registry.resolve("initializer", identifier)


registry.define_kind(
    "initializer", where="initializers.get", base=Initializer, classes=_BY_CLASS,
    aliases=_BY_NAME, wrap=lambda fn: fn, none=None,
    expected="a name such as 'glorot_uniform', an Initializer or a callable (shape, dtype) "
             "-> array")
