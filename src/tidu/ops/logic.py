"""Comparisons, logic, float classification and integer (bitwise, floor-division) operators.

Boolean and integer results carry no gradient, as in PyTorch: they come from
:class:`NoGrad` operations, which record nothing eagerly (yet are still symbolic nodes inside
``tidu.compile`` graphs). Three division operators are differentiable on floats, as in
PyTorch: ``remainder`` and ``fmod`` (d/da = 1, d/db = -floor(a/b) or -trunc(a/b)) and
``floor_divide`` (a zero gradient, piecewise constant).

>>> import tidu
>>> a = tidu.tensor([5, -5, 7])
>>> (a // 2).tolist(), (a % 2).tolist(), tidu.fmod(a, 2).tolist(), (a & 6).tolist()
([2, -3, 3], [1, 1, 1], [1, -1, 1], [4, 2, 6])
"""

from __future__ import annotations

from ..autograd import Function, no_grad
from ..backend import xp
from ._vjp import is_tensor

__all__ = [
    "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_not", "logical_xor",
    "isnan", "isinf", "isfinite", "isclose", "allclose",
    "floor_divide", "remainder", "fmod",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift",
]


class NoGrad(Function):
    """Base of operations whose result has no gradient (booleans, integers, indices).

    ``apply`` runs under ``no_grad`` so that an eager result never requires grad (a symbolic
    input still records a node); ``vjp`` gives ``None`` for every argument.
    """

    @classmethod
    def apply(cls, *args, **kwargs):
        with no_grad():
            return super().apply(*args, **kwargs)

    def backward(self, g):  # pragma: no cover - never recorded eagerly
        return (None,) * len(self.inputs)

    @staticmethod
    def vjp(g, *args, **kwargs):
        return (None,) * len(args)


class Ufunc(NoGrad):
    """One NumPy ufunc, named by ``op``, on the positional arrays (a boolean or integer result)."""

    def forward(self, *arrays, op: str):
        return getattr(xp, op)(*arrays)


def _data(x):
    return x.data if is_tensor(x) else x  # (a CuPy array's .data is its memory pointer)


def _dtype(x):
    dt = getattr(x, "dtype", None)
    return xp.asarray(x).dtype if dt is None else xp.dtype(dt)


def _ufunc(op: str, *args):
    return Ufunc.apply(*args, op=op)


# ----- comparisons and logic -----
def eq(a, b):
    """a == b element-wise, with broadcasting (a boolean tensor).

    >>> import tidu
    >>> tidu.eq(tidu.tensor([1, 2, 3]), 2).tolist()
    [False, True, False]
    """
    return _ufunc("equal", a, b)


def ne(a, b):
    """a != b element-wise (a boolean tensor)."""
    return _ufunc("not_equal", a, b)


def lt(a, b):
    """a < b element-wise (a boolean tensor)."""
    return _ufunc("less", a, b)


def le(a, b):
    """a <= b element-wise (a boolean tensor)."""
    return _ufunc("less_equal", a, b)


def gt(a, b):
    """a > b element-wise (a boolean tensor)."""
    return _ufunc("greater", a, b)


def ge(a, b):
    """a >= b element-wise (a boolean tensor)."""
    return _ufunc("greater_equal", a, b)


def logical_and(a, b):
    """Element-wise AND of the truth values (nonzero is True), as ``torch.logical_and``."""
    return _ufunc("logical_and", a, b)


def logical_or(a, b):
    """Element-wise OR of the truth values (nonzero is True)."""
    return _ufunc("logical_or", a, b)


def logical_xor(a, b):
    """Element-wise exclusive OR of the truth values (nonzero is True)."""
    return _ufunc("logical_xor", a, b)


def logical_not(a):
    """Element-wise NOT of the truth values: True where ``a`` is zero.

    >>> import tidu
    >>> tidu.logical_not(tidu.tensor([0.0, 2.0])).tolist()
    [True, False]
    """
    return _ufunc("logical_not", a)


def isnan(x):
    """True where ``x`` is NaN (never for integers)."""
    return _ufunc("isnan", x)


def isinf(x):
    """True where ``x`` is +inf or -inf."""
    return _ufunc("isinf", x)


def isfinite(x):
    """True where ``x`` is neither NaN nor infinite."""
    return _ufunc("isfinite", x)


class IsClose(NoGrad):
    def forward(self, a, b, rtol, atol, equal_nan):
        return xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """|a - b| <= atol + rtol |b| element-wise (PyTorch's defaults); infinities of one sign
    are close to each other, NaN to nothing unless ``equal_nan``.

    >>> import tidu
    >>> tidu.isclose(tidu.tensor([1.0, 1.1]), 1.0 + 1e-7).tolist()
    [True, False]
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    return IsClose.apply(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(a, b, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether every element pair is close (see :func:`isclose`); a Python bool, as torch.

    >>> import tidu
    >>> tidu.allclose(tidu.tensor([1.0, 2.0]), tidu.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    return bool(xp.all(_data(isclose(a, b, rtol, atol, equal_nan))))


# ----- division operators (differentiable on floats, as in PyTorch) -----
def _check_int_zero(op: str, a, b) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would warn and give 0)."""
    if xp.issubdtype(xp.result_type(a, b), xp.integer) and xp.any(xp.equal(b, 0)):
        raise ZeroDivisionError(f"{op}: integer division by zero (a divisor is 0)")


class FloorDivide(Function):
    """floor(a / b); piecewise constant, so its gradient is zero."""

    def forward(self, a, b):
        _check_int_zero("floor_divide", a, b)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.floor_divide(a, b)

    def backward(self, g):
        z = xp.zeros_like(g)
        return (z if self.needs_grad[0] else None), (z if self.needs_grad[1] else None)

    @staticmethod
    def vjp(g, a, b):
        return (g * 0.0 if is_tensor(a) else None), (g * 0.0 if is_tensor(b) else None)


class Remainder(Function):
    """a - b floor(a / b): the sign of the divisor (Python's ``%``, ``torch.remainder``)."""

    rounding = staticmethod(xp.floor_divide)
    kernel = staticmethod(xp.remainder)

    def forward(self, a, b):
        _check_int_zero(type(self).__name__.lower(), a, b)
        self.a, self.b = a, b
        with xp.errstate(divide="ignore", invalid="ignore"):
            return self.kernel(a, b)

    def backward(self, g):
        gb = None
        if self.needs_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                gb = -g * self.rounding(self.a, self.b)
        return (g if self.needs_grad[0] else None), gb

    @classmethod
    def vjp(cls, g, a, b):
        gb = -g * Quotient.apply(a, b, op=cls.__name__) if is_tensor(b) else None
        return (g if is_tensor(a) else None), gb


class Fmod(Remainder):
    """a - b trunc(a / b): the sign of the dividend (C's fmod, ``torch.fmod``)."""

    kernel = staticmethod(xp.fmod)

    @staticmethod
    def rounding(a, b):
        return xp.trunc(xp.true_divide(a, b))


class Quotient(NoGrad):
    """The rounded quotient that ``remainder``'s (``fmod``'s) derivative in b multiplies by:
    a constant, since rounding has a zero gradient."""

    def forward(self, a, b, op):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (Fmod if op == "Fmod" else Remainder).rounding(a, b)


def floor_divide(a, b):
    """a // b rounded toward -inf (``torch.floor_divide``); integer division by zero raises
    ZeroDivisionError. On floats the gradient is zero."""
    return FloorDivide.apply(a, b)


def remainder(a, b):
    """a % b with the sign of b (Python's and ``torch.remainder``'s modulus)."""
    return Remainder.apply(a, b)


def fmod(a, b):
    """The C remainder a - b trunc(a / b), with the sign of a (``torch.fmod``): not
    :func:`remainder` for operands of different signs (fmod(-5, 2) = -1, remainder = 1)."""
    return Fmod.apply(a, b)


# ----- bitwise operators -----
def _bitwise(op: str, name: str, *args, shift: bool = False):
    for x in args:
        dt = _dtype(x)
        if not (xp.issubdtype(dt, xp.integer) or (dt == xp.bool_ and not shift)):
            kinds = "integer" if shift else "integer or boolean"
            raise TypeError(f"{name}: expected {kinds} tensors, got dtype {dt}")
    return _ufunc(op, *args)


def bitwise_and(a, b):
    """a & b on integers (bitwise) or booleans (logical)."""
    return _bitwise("bitwise_and", "bitwise_and", a, b)


def bitwise_or(a, b):
    """a | b on integers (bitwise) or booleans (logical)."""
    return _bitwise("bitwise_or", "bitwise_or", a, b)


def bitwise_xor(a, b):
    """a ^ b on integers (bitwise) or booleans (logical)."""
    return _bitwise("bitwise_xor", "bitwise_xor", a, b)


def bitwise_not(a):
    """~a: the bitwise complement of integers (-a - 1), the negation of booleans.

    >>> import tidu
    >>> (~tidu.tensor([0, 5])).tolist(), (~tidu.tensor([True, False])).tolist()
    ([-1, -6], [False, True])
    """
    return _bitwise("invert", "bitwise_not", a)


def bitwise_left_shift(a, b):
    """a << b on integers (a times 2**b)."""
    return _bitwise("left_shift", "bitwise_left_shift", a, b, shift=True)


def bitwise_right_shift(a, b):
    """a >> b on integers (arithmetic shift: floor(a / 2**b))."""
    return _bitwise("right_shift", "bitwise_right_shift", a, b, shift=True)


def _reflected(fn, name: str):
    def op(self, other):
        return fn(other, self)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{fn.__name__}(other, self): the reflected operator."
    return op


TENSOR_METHODS: tuple = (
    "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_not", "logical_xor",
    "isnan", "isinf", "isfinite", "isclose", "allclose",
    "floor_divide", "remainder", "fmod",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift",
    ("__floordiv__", floor_divide), ("__rfloordiv__", _reflected(floor_divide, "__rfloordiv__")),
    ("__mod__", remainder), ("__rmod__", _reflected(remainder, "__rmod__")),
    ("__and__", bitwise_and), ("__rand__", _reflected(bitwise_and, "__rand__")),
    ("__or__", bitwise_or), ("__ror__", _reflected(bitwise_or, "__ror__")),
    ("__xor__", bitwise_xor), ("__rxor__", _reflected(bitwise_xor, "__rxor__")),
    ("__invert__", bitwise_not),
    ("__lshift__", bitwise_left_shift),
    ("__rlshift__", _reflected(bitwise_left_shift, "__rlshift__")),
    ("__rshift__", bitwise_right_shift),
    ("__rrshift__", _reflected(bitwise_right_shift, "__rrshift__")),
)
"""Names in this module that are also Tensor methods (bound by tidu.tensor)."""
