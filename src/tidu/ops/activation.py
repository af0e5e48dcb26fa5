"""Activations and the softmax family, written to stay finite for inputs of any magnitude."""

from __future__ import annotations

from .. import accel
from .._shapes import check_axis, normalize_axis
from ..autograd import Function
from ..backend import expit, xp
from ..backend import softplus as softplus_kernel
from ._names import torch_names
from ._vjp import unreduce
from .elementwise import exp, where
from .reduce import sum as sum_


class Sigmoid(Function):
    """1 / (1 + e^-x) without overflow (``backend.expit``: scipy's expit, or e^-|x| form)."""

    def forward(self, x):
        out = expit(x)
        self.out = out
        return out

    def backward(self, g):
        return g * self.out * (1 - self.out)

    @staticmethod
    def vjp(g, x):
        s = sigmoid(x)
        return g * s * (1 - s)


class Softplus(Function):
    """log(1 + e^(beta x)) / beta as logaddexp(beta x, 0) / beta: exact and finite for any
    input. With a ``threshold`` (PyTorch's 20), x itself where beta x > threshold."""

    def forward(self, x, beta=1.0, threshold=None):
        z = x if beta == 1 else beta * x
        self.z, self.threshold = z, threshold
        out = softplus_kernel(z)
        if beta != 1:
            out = out / beta
        return out if threshold is None else xp.where(z > threshold, x, out)

    def backward(self, g):
        if self.threshold is None:
            return g * expit(self.z)
        return g * xp.where(self.z > self.threshold, 1, expit(self.z))

    @staticmethod
    def vjp(g, x, beta=1.0, threshold=None):
        z = x if beta == 1 else beta * x
        if threshold is None:
            return g * sigmoid(z)
        return g * where(z > threshold, 1.0, sigmoid(z))


class Tanh(Function):
    def forward(self, x):
        self.out = xp.tanh(x)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)

    @staticmethod
    def vjp(g, x):
        t = tanh(x)
        return g * (1 - t * t)


class ReLU(Function):
    """max(x, 0); gradient 1 above 0 and 0 at or below it."""

    def forward(self, x):
        self.mask = x > 0
        return xp.maximum(x, 0)  # not x * mask: -inf * 0 would give nan

    def backward(self, g):
        return g * self.mask

    @staticmethod
    def vjp(g, x):
        return g * (x > 0)


class LeakyReLU(Function):
    def forward(self, x, alpha):
        self.mask, self.alpha = x > 0, alpha
        return xp.where(self.mask, x, alpha * x)

    def backward(self, g):
        return xp.where(self.mask, g, self.alpha * g), None

    @staticmethod
    def vjp(g, x, alpha):
        return where(x > 0, g, g * alpha), None


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along ``axis``."""

    def forward(self, x, axis=-1):
        e = xp.exp(accel.shift_by_max(x, axis))
        self.out = e / e.sum(axis=axis, keepdims=True)
        self.axis = axis
        return self.out

    def backward(self, g):
        s = self.out
        return s * (g - (g * s).sum(axis=self.axis, keepdims=True))

    @staticmethod
    def vjp(g, x, axis=-1):
        s = softmax(x, axis)
        return s * (g - sum_(g * s, axis, keepdims=True))


class LogSoftmax(Function):
    """x - logsumexp(x) along ``axis``."""

    def forward(self, x, axis=-1):
        z = accel.shift_by_max(x, axis)
        self.out = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
        self.axis = axis
        return self.out

    def backward(self, g):
        return g - xp.exp(self.out) * g.sum(axis=self.axis, keepdims=True)

    @staticmethod
    def vjp(g, x, axis=-1):
        # exp(log_softmax(x)) rather than softmax(x): the compiler then shares the forward's
        # log_softmax node instead of computing a second softmax
        return g - exp(log_softmax(x, axis)) * sum_(g, axis, keepdims=True)


class LogSumExp(Function):
    """log(sum(exp(x))) along ``axis``, shifted by the (detached) maximum."""

    def forward(self, x, axis=None, keepdims=False):
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        self.x, self.out_keep = x, out
        self.axis, self.keepdims = axis, keepdims
        return out if keepdims else xp.squeeze(out, axis=axis)

    def backward(self, g):
        if not self.keepdims:
            g = g.reshape(self.out_keep.shape)
        return g * xp.exp(self.x - self.out_keep)

    @staticmethod
    def vjp(g, x, axis=None, keepdims=False):
        return unreduce(g, axis, keepdims) * exp(x - logsumexp(x, axis, keepdims=True))


def sigmoid(x):
    """Logistic sigmoid; finite for any input (no overflow at |x| = 1e4)."""
    return Sigmoid.apply(x)


def softplus(x, beta: float = 1.0, threshold: float | None = None):
    """Smooth ReLU log(1 + exp(beta x)) / beta without overflow; its derivative is
    sigmoid(beta x). ``threshold=20`` gives torch.nn.functional.softplus's linear form
    (x itself where beta x > 20); the default computes the exact value everywhere (they
    differ by at most e^-20 relative).

    >>> import tidu
    >>> tidu.softplus(tidu.tensor([0.0, 1000.0]), beta=2.0).tolist()
    [0.3465735912322998, 1000.0]
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
        raise ValueError(f"softplus: beta must be a number > 0, got {beta!r}")
    if threshold is not None and (isinstance(threshold, bool)
                                  or not isinstance(threshold, (int, float))):
        raise TypeError(f"softplus: threshold must be a number or None, got {threshold!r}")
    if beta == 1 and threshold is None:
        return Softplus.apply(x)  # the default (tidu.compile's rewrites call this form)
    return Softplus.apply(x, beta=float(beta), threshold=None if threshold is None
                          else float(threshold))


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def relu(x):
    """Rectified linear unit max(x, 0)."""
    return ReLU.apply(x)


def leaky_relu(x, alpha: float = 0.01):
    """x for x > 0, alpha * x otherwise (PyTorch's default slope 0.01)."""
    return LeakyReLU.apply(x, alpha)


@torch_names
def softmax(x, axis: int = -1):
    """Probabilities along ``axis``: exp(x) / sum(exp(x)), computed from x - max(x)."""
    if _ndim(x) == 0 and axis in (0, -1):  # a 0-d tensor: one element along its one axis
        from .shape import reshape

        return reshape(softmax(reshape(x, (1,)), 0), ())
    return Softmax.apply(x, axis=check_axis(axis, _ndim(x), "softmax"))


@torch_names
def log_softmax(x, axis: int = -1):
    """log(softmax(x)) computed as x - logsumexp(x): finite where softmax underflows."""
    if _ndim(x) == 0 and axis in (0, -1):  # a 0-d tensor: one element along its one axis
        from .shape import reshape

        return reshape(log_softmax(reshape(x, (1,)), 0), ())
    return LogSoftmax.apply(x, axis=check_axis(axis, _ndim(x), "log_softmax"))


@torch_names
def logsumexp(x, axis=None, keepdims: bool = False):
    """log(sum(exp(x))) over ``axis`` (all axes when None), stable for large inputs."""
    axis = normalize_axis(axis, _ndim(x), "logsumexp")
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def _ndim(x) -> int:
    nd = getattr(x, "ndim", None)
    return xp.ndim(x) if nd is None else nd
