"""Activation functions beyond relu/sigmoid/tanh, with PyTorch's definitions and defaults.

The ELU family (elu, selu, celu) is one primitive. Stability: log_sigmoid is -softplus(-x)
(finite for any x), the exponentials of the ELU family and of mish see only x <= 0 or go
through softplus, and gelu's exact form uses erf. The piecewise-linear ones (hardtanh,
relu6, hard_sigmoid, hard_swish) pass the gradient strictly inside their linear pieces, as
PyTorch does. softmin and glu are compositions of primitives.

>>> import tidu
>>> tidu.relu6(tidu.tensor([-1.0, 3.0, 9.0])).tolist()
[0.0, 3.0, 6.0]
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from ..autograd import Function
from ..backend import expit, xp
from ..backend import softplus as softplus_kernel
from ..errors import ShapeError
from ._names import torch_names
from .activation import sigmoid, softmax, softplus, tanh
from .elementwise import abs as abs_
from .elementwise import exp, where
from .math import Erf, erf
from .shape import reshape, split

__all__ = [
    "celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_swish", "hardtanh", "log_sigmoid",
    "mish", "prelu", "relu6", "selu", "silu", "softmin", "softsign", "swish",
]

TENSOR_METHODS: tuple = ("prelu",)
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_GELU_C = 0.044715


class ELU(Function):
    """scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise.

    elu is (alpha, 1, 1), selu (SELU_ALPHA, SELU_SCALE, 1), celu (alpha, 1, 1 / alpha).
    """

    def forward(self, x, alpha=1.0, scale=1.0, input_scale=1.0):
        self.x, self.k = x, (alpha, scale, input_scale)
        neg = alpha * xp.expm1(input_scale * xp.minimum(x, 0))
        return scale * xp.where(x > 0, x, neg)

    def backward(self, g):
        alpha, scale, input_scale = self.k
        x = self.x
        return g * (scale * xp.where(x > 0, 1, alpha * input_scale
                                     * xp.exp(input_scale * xp.minimum(x, 0))))

    @staticmethod
    def vjp(g, x, alpha=1.0, scale=1.0, input_scale=1.0):
        neg = (alpha * input_scale) * exp(input_scale * where(x > 0, 0.0, x))  # no overflow
        return g * (scale * where(x > 0, 1.0, neg))


class GELU(Function):
    """x * Phi(x) (Phi: the standard normal CDF), or its tanh approximation."""

    def forward(self, x, approximate="none"):
        self.x, self.approximate = x, approximate
        return x * _gelu_cdf(x, approximate, _ARRAYS)

    def backward(self, g):
        return g * _gelu_derivative(self.x, self.approximate, _ARRAYS)

    @staticmethod
    def vjp(g, x, approximate="none"):
        return g * _gelu_derivative(x, approximate, _TENSORS)


# gelu's formulas are written once, with the functions of a namespace: NumPy's for forward and
# backward, tidu's for vjp
_ARRAYS = SimpleNamespace(erf=Erf.f, exp=xp.exp, tanh=xp.tanh)
_TENSORS = SimpleNamespace(erf=erf, exp=exp, tanh=tanh)


def _gelu_cdf(x, approximate, m):
    """Phi(x), the factor gelu multiplies x by (or its tanh approximation)."""
    if approximate == "tanh":
        return 0.5 * (1 + m.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)))
    return 0.5 * (1 + m.erf(x * _INV_SQRT_2))


def _gelu_derivative(x, approximate, m):
    cdf = _gelu_cdf(x, approximate, m)
    if approximate == "tanh":
        t = 2 * cdf - 1
        return cdf + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x * x)
    return cdf + x * _INV_SQRT_2PI * m.exp(-0.5 * x * x)


class SiLU(Function):
    """x * sigmoid(x); derivative s * (1 + x * (1 - s))."""

    def forward(self, x):
        self.x, self.s = x, expit(x)
        return x * self.s

    def backward(self, g):
        s = self.s
        return g * s * (1 + self.x * (1 - s))

    @staticmethod
    def vjp(g, x):
        s = sigmoid(x)
        return g * s * (1 + x * (1 - s))


class Mish(Function):
    """x * tanh(softplus(x)); derivative t + x * (1 - t^2) * sigmoid(x)."""

    def forward(self, x):
        self.x = x
        self.t = xp.tanh(softplus_kernel(x))
        return x * self.t

    def backward(self, g):
        t = self.t
        return g * (t + self.x * (1 - t * t) * expit(self.x))

    @staticmethod
    def vjp(g, x):
        t = tanh(softplus(x))
        return g * (t + x * (1 - t * t) * sigmoid(x))


class Softsign(Function):
    """x / (1 + |x|); derivative 1 / (1 + |x|)^2."""

    def forward(self, x):
        self.d = 1 + xp.abs(x)
        return x / self.d

    def backward(self, g):
        return g / (self.d * self.d)

    @staticmethod
    def vjp(g, x):
        d = 1 + abs_(x)
        return g / (d * d)


class Hardtanh(Function):
    """clip(x, lo, hi); the gradient passes strictly between lo and hi (torch.nn.Hardtanh)."""

    def forward(self, x, lo=-1.0, hi=1.0):
        self.inside = (x > lo) & (x < hi)
        return xp.clip(x, lo, hi)

    def backward(self, g):
        return g * self.inside

    @staticmethod
    def vjp(g, x, lo=-1.0, hi=1.0):
        return g * ((x > lo) * (x < hi))


class HardSigmoid(Function):
    """relu6(x + 3) / 6; gradient 1/6 for -3 < x < 3."""

    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return xp.clip(x + 3, 0, 6) / 6

    def backward(self, g):
        return g * self.inside / 6

    @staticmethod
    def vjp(g, x):
        return g * ((x > -3) * (x < 3)) / 6


class HardSwish(Function):
    """x * relu6(x + 3) / 6; gradient 0 below -3, x / 3 + 1/2 up to 3, 1 above."""

    def forward(self, x):
        self.x = x
        return x * xp.clip(x + 3, 0, 6) / 6

    def backward(self, g):
        x = self.x
        return g * xp.where(x < -3, 0, xp.where(x <= 3, x / 3 + 0.5, 1))

    @staticmethod
    def vjp(g, x):
        return g * where(x < -3, 0.0, where(x <= 3, x / 3 + 0.5, 1.0))


class LogSigmoid(Function):
    """log(sigmoid(x)) = -softplus(-x): finite for any x; derivative sigmoid(-x)."""

    def forward(self, x):
        self.x = x
        return -softplus_kernel(-x)

    def backward(self, g):
        return g * expit(-self.x)

    @staticmethod
    def vjp(g, x):
        return g * sigmoid(-x)


class PReLU(Function):
    """x for x > 0, weight * x otherwise; the weight arrives already broadcastable."""

    def forward(self, x, weight):
        self.x, self.w = x, weight
        return xp.where(x > 0, x, weight * x)

    def backward(self, g):
        neg = self.x <= 0
        n = self.needs_grad
        return (xp.where(neg, g * self.w, g) if n[0] else None), (
            g * self.x * neg if n[1] else None)

    @staticmethod
    def vjp(g, x, weight):
        return where(x > 0, g, g * weight), where(x > 0, 0.0, g * x)


def elu(x, alpha: float = 1.0):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise.

    >>> import tidu
    >>> round(float(tidu.elu(tidu.tensor(-1.0))), 4)
    -0.6321
    """
    return ELU.apply(x, alpha=float(alpha))


def selu(x):
    """Scaled ELU with the self-normalizing constants (scale 1.0507..., alpha 1.6733...)."""
    return ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(x, alpha: float = 1.0):
    """Continuously differentiable ELU: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    alpha = float(alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero (it divides x), got 0.0")
    return ELU.apply(x, alpha=alpha, input_scale=1.0 / alpha)


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit x * Phi(x); ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as torch.nn.functional.gelu.

    >>> import tidu
    >>> round(float(tidu.gelu(tidu.tensor(1.0))), 4)
    0.8413
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


def silu(x):
    """Sigmoid linear unit x * sigmoid(x) (also called swish)."""
    return SiLU.apply(x)


swish = silu


def mish(x):
    """x * tanh(softplus(x)) (Misra, 2019)."""
    return Mish.apply(x)


def softsign(x):
    """x / (1 + |x|): like tanh, with polynomial tails."""
    return Softsign.apply(x)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0):
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 outside."""
    min_val, max_val = float(min_val), float(max_val)
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val must be less than max_val, got min_val={min_val}"
                         f" and max_val={max_val}")
    return Hardtanh.apply(x, lo=min_val, hi=max_val)


def relu6(x):
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return Hardtanh.apply(x, lo=0.0, hi=6.0)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, a piecewise-linear sigmoid (PyTorch's Hardsigmoid; Keras 3's too).

    >>> import tidu
    >>> tidu.hard_sigmoid(tidu.tensor([-4.0, 0.0, 1.5])).tolist()
    [0.0, 0.5, 0.75]
    """
    return HardSigmoid.apply(x)


def hard_swish(x):
    """x * relu6(x + 3) / 6 (MobileNetV3; Keras's hard_silu)."""
    return HardSwish.apply(x)


def log_sigmoid(x):
    """log(sigmoid(x)) computed as -softplus(-x): finite for any x (-1000 gives -1000)."""
    return LogSigmoid.apply(x)


@torch_names
def softmin(x, axis: int = -1):
    """softmax(-x) along ``axis``: the smallest entries get the most weight."""
    return softmax(-x, axis)


@torch_names
def glu(x, axis: int = -1):
    """Gated linear unit a * sigmoid(b), where a and b are the two halves of ``x`` along
    ``axis`` (whose length must be even); the result is half as long there.

    >>> import tidu
    >>> tidu.glu(tidu.tensor([[2.0, 0.0]])).tolist()
    [[1.0]]
    """
    n = x.shape[axis] if -x.ndim <= axis < x.ndim else None
    if n is None or n % 2:
        raise ShapeError(f"glu: axis {axis} of the input must exist and have an even length, "
                         f"got an input of shape {tuple(x.shape)}")
    a, b = split(x, 2, axis)
    return a * sigmoid(b)


def prelu(x, weight):
    """x for x > 0, weight * x otherwise, with a learnable ``weight`` (F.prelu).

    ``weight`` has one element (shared) or one per channel, the channel axis being axis 1
    (as PyTorch: an input of shape (N, C, ...) takes a weight of shape (C,)). Inputs with
    fewer than 2 axes take a one-element weight.
    """
    if not hasattr(weight, "shape"):
        weight = xp.asarray(weight, dtype=float)
    ndim, wshape = x.ndim, tuple(weight.shape)
    if len(wshape) > 1:
        raise ShapeError(f"prelu: weight must be 0-d or 1-d, got shape {wshape}")
    size = wshape[0] if wshape else 1
    if size != 1:
        channels = x.shape[1] if ndim >= 2 else None
        if channels is not None and channels != size:
            raise ShapeError(f"prelu: weight has {size} elements but the input of shape "
                             f"{tuple(x.shape)} has {channels} channels (axis 1); give 1 "
                             "weight or one per channel")
        if ndim < 2:
            raise ShapeError(f"prelu: an input of shape {tuple(x.shape)} has no channel axis, "
                             f"so weight must have 1 element, got {size}")
        weight = reshape(weight, (-1,) + (1,) * (ndim - 2))  # (C, 1, ..., 1) against axis 1
    else:
        weight = reshape(weight, ())
    return PReLU.apply(x, weight)


ELEMENTWISE: tuple = (ELU, GELU, SiLU, Mish, Softsign, Hardtanh, HardSigmoid, HardSwish,
                      LogSigmoid, PReLU)
"""The Functions here whose result has the broadcast shape of their inputs (a shape rule for
tidu.compile when some axes are unknown)."""
