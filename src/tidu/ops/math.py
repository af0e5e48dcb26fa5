"""Element-wise math beyond the basics: trigonometric and hyperbolic functions and their
inverses, logarithms and exponentials in other bases, rounding, erf, lerp and hypot.

Most of these are smooth functions f of one input. Each is a :class:`_Smooth` subclass that
names its NumPy function and writes its derivative f'(x) once, as ``derivative(x, m)`` with
the functions of a namespace ``m``: NumPy in ``backward`` and this module (tidu operations)
in ``vjp``, so the two can never disagree. Integer inputs give float32 results, as in
PyTorch. The rounding functions (floor, ceil, round, trunc) keep the input's dtype and have
a zero gradient everywhere, as in PyTorch.

>>> import tidu
>>> x = tidu.tensor([0.0, 1.0], requires_grad=True)
>>> tidu.sin(x).sum().backward()
>>> x.grad.tolist() == [1.0, float(tidu.cos(tidu.tensor(1.0)))]
True
"""

from __future__ import annotations

import math
import sys

from ..autograd import Function
from ..backend import default_float, is_array, special_function, xp
from ._vjp import is_tensor
from .elementwise import exp, sqrt  # noqa: F401 - the m.exp and m.sqrt of derivative rules

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cos", "cosh", "erf",
    "erfc", "exp2", "expm1", "floor", "hypot", "lerp", "log10", "log1p", "log2", "reciprocal",
    "round", "rsqrt", "sin", "sinh", "square", "tan", "trunc",
]

TENSOR_METHODS: tuple = tuple(__all__)
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _floating(a):
    """``a`` as a floating array: integers and booleans become float32 (PyTorch's rule).
    Python numbers become Python floats, so they stay weakly typed (float32 stays float32)."""
    if isinstance(a, (int, float)):
        return float(a)
    if type(a) is not xp.ndarray and not is_array(a):
        a = xp.asarray(a)
    return a if a.dtype.kind in "fc" else a.astype(default_float)


_special: dict = {}


def _scipy_or_math(name: str):
    """scipy.special's ``name`` ufunc, imported on first use (importing tidu never imports
    scipy), or ``math.<name>`` vectorized when scipy is missing."""
    f = _special.get(name)
    if f is None:
        try:
            import scipy.special as sc

            f = getattr(sc, name)
        except ImportError:  # pragma: no cover - scipy is an optional extra
            f = _vectorized(getattr(math, name))
        _special[name] = f
    return f


def _special_call(name: str, x):
    """scipy.special's ``name`` of ``x``: the array library's own (cupyx.scipy.special on a
    GPU) for device arrays, scipy's (or math's, vectorized) on the CPU."""
    if type(x) is not xp.ndarray:
        f = special_function(name, x)
        if f is not None:
            return f(x)
    return _scipy_or_math(name)(x)


def _vectorized(scalar_fn):
    """An element-wise array function from a function of one Python float (keeps dtypes)."""
    v = xp.vectorize(scalar_fn, otypes=[xp.float64])

    def f(x):
        return xp.asarray(v(x)).astype(x.dtype, copy=False)

    return f


class _Smooth(Function):
    """A differentiable element-wise function: ``f`` (NumPy) and its ``derivative(x, m)``."""

    f = None  # the array function (a NumPy ufunc)

    @staticmethod
    def derivative(x, m):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x):
        self.x = x = _floating(x)
        return self.f(x)

    def backward(self, g):
        return g * self.derivative(self.x, xp)

    @classmethod
    def vjp(cls, g, x):
        return g * cls.derivative(x, sys.modules[__name__])


def _smooth(name: str, f, derivative, doc: str):
    """A :class:`_Smooth` subclass called ``name`` computing ``f`` with ``derivative``."""
    return type(name, (_Smooth,), {"f": staticmethod(f), "derivative": staticmethod(derivative),
                                   "__doc__": doc, "__module__": __name__})


# f'(x) for each function, written with m.<fn> (numpy or this module) and arithmetic only
Sin = _smooth("Sin", xp.sin, lambda x, m: m.cos(x), "sin(x); derivative cos(x).")
Cos = _smooth("Cos", xp.cos, lambda x, m: -m.sin(x), "cos(x); derivative -sin(x).")
Tan = _smooth("Tan", xp.tan, lambda x, m: 1 + m.tan(x) ** 2, "tan(x); derivative 1 + tan^2.")
Asin = _smooth("Asin", xp.arcsin, lambda x, m: 1 / m.sqrt(1 - x * x), "arcsin on [-1, 1].")
Acos = _smooth("Acos", xp.arccos, lambda x, m: -1 / m.sqrt(1 - x * x), "arccos on [-1, 1].")
Atan = _smooth("Atan", xp.arctan, lambda x, m: 1 / (1 + x * x), "arctan(x).")
Sinh = _smooth("Sinh", xp.sinh, lambda x, m: m.cosh(x), "sinh(x); derivative cosh(x).")
Cosh = _smooth("Cosh", xp.cosh, lambda x, m: m.sinh(x), "cosh(x); derivative sinh(x).")
Asinh = _smooth("Asinh", xp.arcsinh, lambda x, m: 1 / m.sqrt(x * x + 1), "arcsinh(x).")
Acosh = _smooth("Acosh", xp.arccosh, lambda x, m: 1 / m.sqrt(x * x - 1), "arccosh, x >= 1.")
Atanh = _smooth("Atanh", xp.arctanh, lambda x, m: 1 / (1 - x * x), "arctanh on (-1, 1).")
Log2 = _smooth("Log2", xp.log2, lambda x, m: 1 / (x * _LN2), "Base-2 logarithm.")
Log10 = _smooth("Log10", xp.log10, lambda x, m: 1 / (x * _LN10), "Base-10 logarithm.")
Log1p = _smooth("Log1p", xp.log1p, lambda x, m: 1 / (1 + x), "log(1 + x), exact for small x.")
Exp2 = _smooth("Exp2", xp.exp2, lambda x, m: m.exp2(x) * _LN2, "2 ** x.")
Expm1 = _smooth("Expm1", xp.expm1, lambda x, m: m.exp(x), "e ** x - 1, exact for small x.")
Rsqrt = _smooth("Rsqrt", lambda x: 1 / xp.sqrt(x), lambda x, m: -0.5 * x ** -1.5,
                "1 / sqrt(x).")
Reciprocal = _smooth("Reciprocal", xp.reciprocal, lambda x, m: -1 / (x * x), "1 / x.")
Square = _smooth("Square", xp.square, lambda x, m: 2 * x, "x * x.")
Erf = _smooth("Erf", lambda x: _special_call("erf", x),
              lambda x, m: _TWO_OVER_SQRT_PI * m.exp(-x * x),
              "The error function 2/sqrt(pi) * integral of e^-t^2 from 0 to x.")
Erfc = _smooth("Erfc", lambda x: _special_call("erfc", x),
               lambda x, m: -_TWO_OVER_SQRT_PI * m.exp(-x * x),
               "1 - erf(x), without cancellation for large x.")


class _Rounding(Function):
    """A step function: integer inputs come back unchanged, and the gradient is zero."""

    f = None

    def forward(self, x, **kw):
        if type(x) is not xp.ndarray and not is_array(x):
            x = xp.asarray(x)
        return x.copy() if x.dtype.kind in "biu" else self.f(x, **kw)

    def backward(self, g):
        return xp.zeros_like(g)

    @staticmethod
    def vjp(g, x, **kw):
        return g * 0.0


class Floor(_Rounding):
    f = staticmethod(xp.floor)


class Ceil(_Rounding):
    f = staticmethod(xp.ceil)


class Trunc(_Rounding):
    f = staticmethod(xp.trunc)


class Round(_Rounding):
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places."""

    f = staticmethod(lambda x, decimals=0: xp.round(x, decimals))


class Atan2(Function):
    """The angle of the point (x, y), in (-pi, pi]: d/dy = x / r^2, d/dx = -y / r^2."""

    def forward(self, y, x):
        self.y, self.x = y, x = _floating(y), _floating(x)
        return xp.arctan2(y, x)

    def backward(self, g):
        r2 = self.x * self.x + self.y * self.y
        n = self.needs_grad
        return (g * self.x / r2 if n[0] else None), (-g * self.y / r2 if n[1] else None)

    @staticmethod
    def vjp(g, y, x):
        r2 = x * x + y * y
        return (g * x / r2 if is_tensor(y) else None), (-g * y / r2 if is_tensor(x) else None)


class Hypot(Function):
    """sqrt(a^2 + b^2) without overflow; d/da = a / hypot (nan at a = b = 0, as PyTorch)."""

    def forward(self, a, b):
        self.a, self.b = _floating(a), _floating(b)
        self.out = xp.hypot(self.a, self.b)
        return self.out

    def backward(self, g):
        n = self.needs_grad
        return (g * self.a / self.out if n[0] else None), (
            g * self.b / self.out if n[1] else None)

    @staticmethod
    def vjp(g, a, b):
        h = hypot(a, b)
        return (g * a / h if is_tensor(a) else None), (g * b / h if is_tensor(b) else None)


class Lerp(Function):
    """start + weight * (end - start), computed as PyTorch does (exact at weight 0 and 1)."""

    def forward(self, start, end, weight):
        self.diff = end - start
        self.weight = weight
        return xp.where(xp.abs(weight) < 0.5, start + weight * self.diff,
                        end - self.diff * (1 - weight))

    def backward(self, g):
        n, w = self.needs_grad, self.weight
        return ((g * (1 - w) if n[0] else None), (g * w if n[1] else None),
                (g * self.diff if n[2] else None))

    @staticmethod
    def vjp(g, start, end, weight):
        return ((g * (1 - weight) if is_tensor(start) else None),
                (g * weight if is_tensor(end) else None),
                (g * (end - start) if is_tensor(weight) else None))


def sin(x):
    """Sine (radians)."""
    return Sin.apply(x)


def cos(x):
    """Cosine (radians)."""
    return Cos.apply(x)


def tan(x):
    """Tangent (radians)."""
    return Tan.apply(x)


def asin(x):
    """Inverse sine, defined on [-1, 1] (nan outside, as NumPy and PyTorch)."""
    return Asin.apply(x)


def acos(x):
    """Inverse cosine, defined on [-1, 1]."""
    return Acos.apply(x)


def atan(x):
    """Inverse tangent, in (-pi/2, pi/2)."""
    return Atan.apply(x)


def atan2(y, x):
    """The angle of (x, y) in (-pi, pi], element-wise with broadcasting (``y`` first).

    >>> import tidu
    >>> print(f"{float(tidu.atan2(tidu.tensor(1.0), tidu.tensor(-1.0))):.4f}")
    2.3562
    """
    return Atan2.apply(y, x)


def sinh(x):
    """Hyperbolic sine."""
    return Sinh.apply(x)


def cosh(x):
    """Hyperbolic cosine."""
    return Cosh.apply(x)


def asinh(x):
    """Inverse hyperbolic sine."""
    return Asinh.apply(x)


def acosh(x):
    """Inverse hyperbolic cosine, defined for x >= 1 (its gradient is infinite at 1)."""
    return Acosh.apply(x)


def atanh(x):
    """Inverse hyperbolic tangent, defined on (-1, 1)."""
    return Atanh.apply(x)


def log2(x):
    """Base-2 logarithm."""
    return Log2.apply(x)


def log10(x):
    """Base-10 logarithm."""
    return Log10.apply(x)


def log1p(x):
    """log(1 + x), accurate when |x| is tiny (where log(1 + x) rounds 1 + x first)."""
    return Log1p.apply(x)


def exp2(x):
    """2 ** x."""
    return Exp2.apply(x)


def expm1(x):
    """exp(x) - 1, accurate when |x| is tiny."""
    return Expm1.apply(x)


def rsqrt(x):
    """1 / sqrt(x).

    >>> import tidu
    >>> tidu.rsqrt(tidu.tensor([4.0])).tolist()
    [0.5]
    """
    return Rsqrt.apply(x)


def reciprocal(x):
    """1 / x."""
    return Reciprocal.apply(x)


def square(x):
    """x * x (one node, gradient 2x)."""
    return Square.apply(x)


def erf(x):
    """The Gauss error function (scipy.special.erf on first use, else math.erf per element).

    >>> import tidu
    >>> float(tidu.erf(tidu.tensor(0.0)))
    0.0
    """
    return Erf.apply(x)


def erfc(x):
    """The complementary error function 1 - erf(x), accurate where erf(x) is near 1."""
    return Erfc.apply(x)


def floor(x):
    """The largest integer <= x (integers unchanged); zero gradient."""
    return Floor.apply(x)


def ceil(x):
    """The smallest integer >= x (integers unchanged); zero gradient."""
    return Ceil.apply(x)


def trunc(x):
    """x rounded toward zero (integers unchanged); zero gradient."""
    return Trunc.apply(x)


def round(x, decimals: int = 0):
    """Round to ``decimals`` places, halves to even (torch.round); zero gradient.

    >>> import tidu
    >>> tidu.round(tidu.tensor([0.5, 1.5, -2.5])).tolist()
    [0.0, 2.0, -2.0]
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
    return Round.apply(x) if decimals == 0 else Round.apply(x, decimals=decimals)


def hypot(a, b):
    """sqrt(a^2 + b^2) element-wise with broadcasting, without intermediate overflow."""
    return Hypot.apply(a, b)


def lerp(start, end, weight):
    """Linear interpolation start + weight * (end - start) (torch.lerp).

    ``weight`` is a number or a tensor broadcastable against ``start`` and ``end``; all
    three are differentiable.

    >>> import tidu
    >>> tidu.lerp(tidu.tensor([0.0, 10.0]), tidu.tensor([1.0, 20.0]), 0.25).tolist()
    [0.25, 12.5]
    """
    if isinstance(weight, bool) or not (isinstance(weight, (int, float))
                                        or hasattr(weight, "shape")):
        raise TypeError(f"lerp: weight must be a number or a tensor, got "
                        f"{type(weight).__name__}")
    return Lerp.apply(start, end, weight)



ELEMENTWISE: tuple = (*_Smooth.__subclasses__(), Floor, Ceil, Trunc, Round, Atan2, Hypot, Lerp)
"""The Functions here whose result has the broadcast shape of their inputs (a shape rule for
tidu.compile when some axes are unknown)."""
