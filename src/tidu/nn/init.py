"""In-place initialization of Parameters, as ``torch.nn.init``.

Every function fills its tensor's array in place (under ``no_grad``; the autograd version is
bumped so graphs recorded before can no longer go backward through it) and returns the
tensor. Random ones draw from tidu's global generator (:func:`tidu.manual_seed` reproduces
them) or from the ``generator`` given.

Fans follow PyTorch's layout, which is also tidu's ``Linear``/``Conv`` layout
``(out_features, in_features, *kernel)``: ``fan_in = shape[1] * receptive field``,
``fan_out = shape[0] * receptive field``. (The Keras initializers of
:mod:`tidu.nn.initializers` read ``(..., in, out)`` kernels instead.)

>>> import tidu, tidu.nn as nn
>>> layer = nn.Linear(100, 50)
>>> _ = nn.init.zeros_(layer.bias); float(layer.bias.numpy().sum())
0.0
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from ..random import get_generator
from ..safety import bump_version
from ..tensor import Tensor

__all__ = ["calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "normal_",
           "ones_", "orthogonal_", "trunc_normal_", "uniform_", "xavier_normal_",
           "xavier_uniform_", "zeros_"]


def _check(who: str, tensor) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{who}: expected a tidu Tensor or Parameter, got "
                        f"{type(tensor).__name__}")
    return tensor


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        np.copyto(tensor.data, np.asarray(values), casting="unsafe")
    bump_version(tensor)
    return tensor


def _rng(generator) -> np.random.Generator:
    return get_generator() if generator is None else generator


def _fans(who: str, tensor: Tensor) -> tuple[int, int]:
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"nn.init.{who}: fan in and fan out need a tensor of 2 or more "
                         f"dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity ('linear', 'conv*', 'sigmoid': 1,
    'tanh': 5/3, 'relu': sqrt(2), 'leaky_relu': sqrt(2 / (1 + slope**2)) with slope
    ``param`` (default 0.01), 'selu': 3/4)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"nn.init.calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nn.init.calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
                     f"expected one of {[*linear, 'tanh', 'relu', 'leaky_relu', 'selu']}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from U(a, b)."""
    _check("uniform_", tensor)
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from N(mean, std**2)."""
    _check("normal_", tensor)
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std**2) draws kept in ``[a, b]`` (absolute bounds, as PyTorch's);
    draws outside are redrawn.

    Raises:
        ValueError: ``a >= b``, or an interval so far in the tail that redrawing fails.
    """
    _check("trunc_normal_", tensor)
    if not a < b:
        raise ValueError(f"nn.init.trunc_normal_: needs a < b, got a={a}, b={b}")
    rng = _rng(generator)
    z = rng.normal(mean, std, tensor.shape)
    bad = (z < a) | (z > b)
    for _ in range(1000):
        if not bad.any():
            break
        z[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (z < a) | (z > b)
    else:
        raise ValueError(f"nn.init.trunc_normal_: [a, b] = [{a}, {b}] is too far from "
                         f"mean={mean} (std={std}) to draw from by rejection")
    return _fill(tensor, z)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _check("constant_", tensor)
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-r, r), ``r = gain * sqrt(6 / (fan_in + fan_out))`` (the formula of
    Keras's ``GlorotUniform``)."""
    fan_in, fan_out = _fans("xavier_uniform_", _check("xavier_uniform_", tensor))
    r = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator).uniform(-r, r, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``
    (untruncated, unlike Keras's ``GlorotNormal``)."""
    fan_in, fan_out = _fans("xavier_normal_", _check("xavier_normal_", tensor))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator).normal(0.0, std, tensor.shape))


def _kaiming_std(who: str, tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{who}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(who, _check(who, tensor))
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-r, r), ``r = sqrt(3) * gain / sqrt(fan)``, ``gain`` from
    :func:`calculate_gain` (``a`` is leaky_relu's negative slope), ``fan`` per ``mode``."""
    r = math.sqrt(3.0) * _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return _fill(tensor, _rng(generator).uniform(-r, r, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std**2), ``std = gain / sqrt(fan)`` (see :func:`kaiming_uniform_`)."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    return _fill(tensor, _rng(generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``: the Q of the QR decomposition of a normal
    draw, with the signs of R's diagonal folded in (Saxe et al., 2013). Extra dimensions are
    flattened into the columns."""
    _check("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"nn.init.orthogonal_: needs 2 or more dimensions, got shape "
                         f"{tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
