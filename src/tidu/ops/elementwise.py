"""Element-wise arithmetic and math. Gradients keep the output's (broadcast) shape; the engine
reduces them to each input's shape."""

from __future__ import annotations

import operator

from ..autograd import Function
from ..backend import xp
from ..errors import DeviceError
from ._device import beside, retry_beside
from ._vjp import is_tensor


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g

    @staticmethod
    def vjp(g, a, b):
        return (g if is_tensor(a) else None), (g if is_tensor(b) else None)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs_grad[1] else None)

    @staticmethod
    def vjp(g, a, b):
        return (g if is_tensor(a) else None), (-g if is_tensor(b) else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        n = self.needs_grad
        return (g * self.b if n[0] else None), (g * self.a if n[1] else None)

    @staticmethod
    def vjp(g, a, b):
        return (g * b if is_tensor(a) else None), (g * a if is_tensor(b) else None)


class Div(Function):
    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, g):
        ga = g / self.b
        return ga, (-ga * self.out if self.needs_grad[1] else None)

    @staticmethod
    def vjp(g, a, b):
        ga = g / b
        return (ga if is_tensor(a) else None), (-ga * a / b if is_tensor(b) else None)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g

    @staticmethod
    def vjp(g, a):
        return -g


class Pow(Function):
    """a ** b with PyTorch's derivatives: d/da is 0 where b == 0 (so x**0 has gradient 0 at
    x = 0), and d/db is 0 where a == 0 and b >= 0, a^b log(a) elsewhere (NaN for a < 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs_grad[0]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                ga = xp.where(xp.equal(b, 0), 0, g * b * a ** (b - 1))
        if self.needs_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                zero = xp.equal(a, 0) & xp.greater_equal(b, 0)
                gb = g * xp.where(zero, 0, self.out * xp.log(xp.where(zero, 1, a)))
        return ga, gb

    @staticmethod
    def vjp(g, a, b):
        ga = gb = None
        if is_tensor(b) and not is_tensor(a):  # a number base: an array of b's dtype
            a = xp.asarray(a, dtype=b.dtype)
        if is_tensor(a):
            ga = where(b == 0, 0.0, g * b * a ** (b - 1)) if is_tensor(b) else (
                g * 0.0 if b == 0 else g * b * a ** (b - 1))
        if is_tensor(b):
            zero = where(a == 0, 1.0, 0.0) * where(b >= 0, 1.0, 0.0) > 0
            gb = g * where(zero, 0.0, a ** b * log(where(zero, 1.0, a)))
        return ga, gb


class Exp(Function):
    def forward(self, a):
        self.out = xp.exp(a)
        return self.out

    def backward(self, g):
        return g * self.out

    @staticmethod
    def vjp(g, a):
        return g * exp(a)


class Log(Function):
    def forward(self, a):
        self.a = a
        return xp.log(a)

    def backward(self, g):
        return g / self.a

    @staticmethod
    def vjp(g, a):
        return g / a


class Sqrt(Function):
    def forward(self, a):
        self.out = xp.sqrt(a)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)

    @staticmethod
    def vjp(g, a):
        return g / (2 * sqrt(a))


class Abs(Function):
    def forward(self, a):
        self.a = a
        return xp.abs(a)

    def backward(self, g):
        return g * xp.sign(self.a)

    @staticmethod
    def vjp(g, a):
        return g * sign(a)


class Sign(Function):
    """sign(x); its gradient is zero everywhere (undefined at 0, taken as 0)."""

    def forward(self, a):
        self.shape = a.shape
        return xp.sign(a)

    def backward(self, g):
        return xp.zeros_like(g)

    @staticmethod
    def vjp(g, a):
        return g * 0.0


class _Extremum(Function):
    """maximum/minimum: the gradient goes to the chosen input; ties split it in half."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.pick(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        first = self.wins(a, b) + 0.5 * (a == b)
        return (g * first if self.needs_grad[0] else None), (
            g * (1 - first) if self.needs_grad[1] else None
        )

    @classmethod
    def vjp(cls, g, a, b):
        tie = (g * (a == b)) * 0.5
        ga = g * cls.wins(a, b) + tie if is_tensor(a) else None
        gb = g * cls.wins(b, a) + tie if is_tensor(b) else None
        return ga, gb


class Maximum(_Extremum):
    pick = staticmethod(xp.maximum)
    wins = staticmethod(operator.gt)  # works on arrays (backward) and Tensors (vjp)


class Minimum(_Extremum):
    pick = staticmethod(xp.minimum)
    wins = staticmethod(operator.lt)


class Where(Function):
    def forward(self, cond, a, b):
        self.cond = cond
        return xp.where(cond, a, b)

    def backward(self, g):
        z = g.dtype.type(0)
        return None, xp.where(self.cond, g, z), xp.where(self.cond, z, g)

    @staticmethod
    def vjp(g, cond, a, b):
        return (None, where(cond, g, 0.0) if is_tensor(a) else None,
                where(cond, 0.0, g) if is_tensor(b) else None)


class Clip(Function):
    """clip(x, lo, hi); the gradient passes where lo <= x <= hi (as torch.clamp)."""

    def forward(self, a, lo, hi):
        self.a, self.lo, self.hi = a, lo, hi
        return xp.clip(a, lo, hi)

    def backward(self, g):
        lo, hi = self.lo, self.hi
        if lo is None and hi is None:
            return g, None, None
        inside = (self.a >= lo) if lo is not None else None
        if hi is not None:
            inside = (self.a <= hi) if inside is None else inside & (self.a <= hi)
        return xp.where(inside, g, 0), None, None

    @staticmethod
    def vjp(g, a, lo, hi):
        if lo is not None:
            g = g * (a >= lo)
        if hi is not None:
            g = g * (a <= hi)
        return g, None, None


class Cast(Function):
    exact_dtype = True
    def forward(self, a, dtype):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype), None

    @staticmethod
    def vjp(g, a, dtype):
        return (cast(g, a.dtype) if is_tensor(a) else None), None


def _square(op: str, a, b, out):
    """``out``, after asking tidu.debug whether broadcasting made it an accidental (n, n)
    matrix (Text A's labels-against-predictions bug); only square results pay the call."""
    s = out.shape
    if len(s) == 2 and s[0] == s[1] != 1:
        from ..debug.detectors import square_broadcast  # lazy: tidu.debug imports ops

        square_broadcast(op, a, b, s)
    return out


def add(a, b):
    """a + b with broadcasting."""
    try:
        out = Add.apply(a, b)
    except DeviceError:
        out = retry_beside(Add.apply, a, b)
    return _square("add", a, b, out)


def sub(a, b):
    """a - b with broadcasting."""
    try:
        out = Sub.apply(a, b)
    except DeviceError:
        out = retry_beside(Sub.apply, a, b)
    return _square("sub", a, b, out)


def mul(a, b):
    """a * b with broadcasting."""
    try:
        out = Mul.apply(a, b)
    except DeviceError:
        out = retry_beside(Mul.apply, a, b)
    return _square("mul", a, b, out)


def div(a, b):
    """a / b with broadcasting."""
    try:
        out = Div.apply(a, b)
    except DeviceError:
        out = retry_beside(Div.apply, a, b)
    return _square("div", a, b, out)


def neg(a):
    """-a."""
    return Neg.apply(a)


def pow(a, b):
    """a ** b; differentiable in both (the exponent's gradient is 0 where a <= 0)."""
    try:
        return Pow.apply(a, b)
    except DeviceError:
        return retry_beside(Pow.apply, a, b)


def exp(a):
    """e ** a."""
    return Exp.apply(a)


def log(a):
    """Natural logarithm."""
    return Log.apply(a)


def sqrt(a):
    """Square root."""
    return Sqrt.apply(a)


def abs(a):
    """|a|; gradient sign(a) (0 at 0)."""
    return Abs.apply(a)


def sign(a):
    """-1, 0 or 1; zero gradient (the perceptron's step)."""
    return Sign.apply(a)


def maximum(a, b):
    """Element-wise maximum; ties share the gradient equally (as PyTorch)."""
    try:
        return Maximum.apply(a, b)
    except DeviceError:
        return retry_beside(Maximum.apply, a, b)


def minimum(a, b):
    """Element-wise minimum; ties share the gradient equally (as PyTorch)."""
    try:
        return Minimum.apply(a, b)
    except DeviceError:
        return retry_beside(Minimum.apply, a, b)


def where(cond, a, b):
    """Pick ``a`` where ``cond`` is true, ``b`` elsewhere; ``cond`` gets no gradient."""
    from ..tensor import Tensor

    if isinstance(cond, Tensor):
        if cond.data is None:  # symbolic (tidu.compile): the condition is a graph value
            return Where.apply(cond, a, b)
        cond = cond.data
    if type(cond) is not xp.ndarray:
        return Where.apply(beside(cond, a, b, dtype=bool), a, b)
    try:
        return Where.apply(cond if cond.dtype == bool else cond.astype(bool), a, b)
    except DeviceError:
        return Where.apply(beside(cond, a, b, dtype=bool), a, b)


def clip(a, lo=None, hi=None):
    """Limit values to [lo, hi] (either bound may be None)."""
    return Clip.apply(a, lo, hi)


def cast(a, dtype):
    """Convert to ``dtype``; the gradient is converted back.

    A cast to an integer or boolean dtype leaves the graph (its result cannot carry a
    gradient), as in PyTorch.
    """
    dtype = xp.dtype(dtype)
    if not xp.issubdtype(dtype, xp.floating):
        from ..tensor import Tensor

        data = a.data if isinstance(a, Tensor) else xp.asarray(a)
        return Tensor._make(data.astype(dtype), False, None)
    return Cast.apply(a, dtype)
