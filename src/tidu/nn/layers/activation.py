"""Activation layers: element-wise functions (softmax, softmin: along an axis).

Each layer's output has its input's shape, except GLU's (half as long on its axis). Only
PReLU has a weight. The layers added after Keras's own follow PyTorch's ``torch.nn`` names
and arguments (``ELU(alpha)``, ``GELU(approximate)``, ``Hardtanh(min_val, max_val)``, ...),
with ``axis`` for PyTorch's ``dim``.
"""

from __future__ import annotations

from ... import ops
from ...backend import default_float, xp
from ...errors import ShapeError
from .. import activations
from .._utils import normalize_shape
from ..module import Module
from ..parameter import Parameter


class _Elementwise(Module):
    """An activation layer: output shape = input shape."""

    def compute_output_shape(self, input_shape) -> tuple:
        return normalize_shape(input_shape)


class Activation(_Elementwise):
    """Apply an activation given by name or callable (see ``tidu.nn.activations``).

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Activation("tanh")(tidu.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, activation, name: str | None = None):
        super().__init__(name=name)
        self.activation = activations.get(activation)

    def forward(self, x):
        return self.activation(x)

    def extra_repr(self) -> str:
        return repr(activations.serialize(self.activation) or self.activation)


class ReLU(_Elementwise):
    """max(x, 0): non-saturating for x > 0, gradient 0 for x <= 0.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.ReLU()(tidu.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def forward(self, x):
        return ops.relu(x)


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)): outputs in (0, 1), saturates for large |x|.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Sigmoid()(tidu.tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, x):
        return ops.sigmoid(x)


class Tanh(_Elementwise):
    """tanh(x): zero centred, outputs in (-1, 1), saturates for large |x|.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Tanh()(tidu.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x):
        return ops.tanh(x)


class LeakyReLU(_Elementwise):
    """x for x > 0, ``negative_slope * x`` otherwise.

    The default slope is Keras's ``LeakyReLU`` layer default, 0.3 (PyTorch's
    ``nn.LeakyReLU`` uses 0.01; pass it explicitly to match). ``alpha`` is accepted as
    another name for ``negative_slope``.

    Args:
        negative_slope: slope for x <= 0 (>= 0).

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.LeakyReLU(0.5)(tidu.tensor([-2.0, 3.0])).tolist()
    [-1.0, 3.0]
    """

    def __init__(self, negative_slope: float = 0.3, name: str | None = None, *,
                 alpha: float | None = None):
        super().__init__(name=name)
        if alpha is not None:
            negative_slope = alpha
        negative_slope = float(negative_slope)
        if not negative_slope >= 0:
            raise ValueError(f"{self.name}: negative_slope must be >= 0, got {negative_slope}")
        self.negative_slope = negative_slope

    @property
    def alpha(self) -> float:
        return self.negative_slope

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope, "name": self.name}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(_Elementwise):
    """exp(x) / sum(exp(x)) along ``axis``: a probability distribution over that axis.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Softmax()(tidu.tensor([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name=name)
        self.axis = int(axis)

    def forward(self, x):
        return ops.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Sign(_Elementwise):
    """The perceptron's output sign(x) in {-1, 0, 1}; its gradient is zero everywhere.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Sign()(tidu.tensor([-0.5, 0.0, 2.0])).tolist()
    [-1.0, 0.0, 1.0]
    """

    def forward(self, x):
        return ops.sign(x)


class Step(_Elementwise):
    """The threshold unit: 1 where x > 0, else 0 (so step(0) = 0); zero gradient.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.Step()(tidu.tensor([-0.5, 0.0, 2.0])).tolist()
    [0.0, 0.0, 1.0]
    """

    def forward(self, x):
        return activations.step(x)


def _number(value, what: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{layer}: {what} must be a number, got {value!r}")
    return float(value)


class ELU(_Elementwise):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise (Keras's and PyTorch's ELU).

    Args:
        alpha: the value the negative side saturates to is -alpha.

    Shape:
        - Input: any.
        - Output: same as the input.

    >>> import tidu
    >>> tidu.nn.ELU()(tidu.tensor([2.0])).tolist()
    [2.0]
    """

    def __init__(self, alpha: float = 1.0, name: str | None = None):
        super().__init__(name=name)
        self.alpha = _number(alpha, "alpha", self.name)

    def forward(self, x):
        return ops.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(_Elementwise):
    """Scaled ELU with the self-normalizing constants (torch.nn.SELU)."""

    def forward(self, x):
        return ops.selu(x)


class CELU(_Elementwise):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) (torch.nn.CELU).

    Args:
        alpha: nonzero scale of the negative side.
    """

    def __init__(self, alpha: float = 1.0, name: str | None = None):
        super().__init__(name=name)
        self.alpha = _number(alpha, "alpha", self.name)
        if self.alpha == 0:
            raise ValueError(f"{self.name}: alpha must be nonzero, got 0.0")

    def forward(self, x):
        return ops.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(_Elementwise):
    """x * Phi(x), Phi the standard normal CDF (torch.nn.GELU).

    Args:
        approximate: 'none' (exact, by erf) or 'tanh' (the tanh approximation).

    >>> import tidu
    >>> tidu.nn.GELU()(tidu.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, approximate: str = "none", name: str | None = None):
        super().__init__(name=name)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"{self.name}: approximate must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Elementwise):
    """x * sigmoid(x), also called swish (torch.nn.SiLU)."""

    def forward(self, x):
        return ops.silu(x)


class Mish(_Elementwise):
    """x * tanh(softplus(x)) (torch.nn.Mish)."""

    def forward(self, x):
        return ops.mish(x)


class Softplus(_Elementwise):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold (torch.nn.Softplus)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0, name: str | None = None):
        super().__init__(name=name)
        self.beta = _number(beta, "beta", self.name)
        self.threshold = _number(threshold, "threshold", self.name)
        if not self.beta > 0:
            raise ValueError(f"{self.name}: beta must be > 0, got {self.beta}")

    def forward(self, x):
        return ops.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(_Elementwise):
    """x / (1 + |x|) (torch.nn.Softsign)."""

    def forward(self, x):
        return ops.softsign(x)


class Hardtanh(_Elementwise):
    """x clipped to [min_val, max_val] (torch.nn.Hardtanh).

    Args:
        min_val, max_val: the bounds, min_val < max_val.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, name: str | None = None):
        super().__init__(name=name)
        self.min_val = _number(min_val, "min_val", self.name)
        self.max_val = _number(max_val, "max_val", self.name)
        if not self.min_val < self.max_val:
            raise ValueError(f"{self.name}: min_val must be less than max_val, got "
                             f"min_val={self.min_val} and max_val={self.max_val}")

    def forward(self, x):
        return ops.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(_Elementwise):
    """min(max(x, 0), 6) (torch.nn.ReLU6).

    >>> import tidu
    >>> tidu.nn.ReLU6()(tidu.tensor([-1.0, 7.0])).tolist()
    [0.0, 6.0]
    """

    def forward(self, x):
        return ops.relu6(x)


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6 (torch.nn.Hardsigmoid; Keras 3's hard_sigmoid)."""

    def forward(self, x):
        return ops.hard_sigmoid(x)


class Hardswish(_Elementwise):
    """x * relu6(x + 3) / 6 (torch.nn.Hardswish; Keras's hard_silu)."""

    def forward(self, x):
        return ops.hard_swish(x)


class LogSigmoid(_Elementwise):
    """log(sigmoid(x)) = -softplus(-x), finite for any input (torch.nn.LogSigmoid)."""

    def forward(self, x):
        return ops.log_sigmoid(x)


class Softmin(_Elementwise):
    """softmax(-x) along ``axis`` (torch.nn.Softmin, whose ``dim`` is ``axis`` here)."""

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name=name)
        self.axis = int(axis)

    def forward(self, x):
        return ops.softmin(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class GLU(Module):
    """Gated linear unit a * sigmoid(b), a and b the halves of the input along ``axis``
    (torch.nn.GLU).

    Shape:
        - Input: (*, 2n, *) with 2n on ``axis``.
        - Output: (*, n, *).

    >>> import tidu
    >>> tidu.nn.GLU()(tidu.ones(2, 6)).shape
    (2, 3)
    """

    def __init__(self, axis: int = -1, name: str | None = None):
        super().__init__(name=name)
        self.axis = int(axis)

    def forward(self, x):
        return ops.glu(x, self.axis)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = list(normalize_shape(input_shape))
        if not -len(shape) <= self.axis < len(shape):
            raise ShapeError(f"{self.name}: axis {self.axis} is out of range for input shape "
                             f"{tuple(shape)}")
        n = shape[self.axis]
        if n is not None and n % 2:
            raise ShapeError(f"{self.name}: axis {self.axis} must have an even length, got "
                             f"input shape {tuple(shape)}")
        shape[self.axis] = None if n is None else n // 2
        return tuple(shape)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class PReLU(_Elementwise):
    """x for x > 0, ``weight * x`` otherwise, with a learned slope (torch.nn.PReLU).

    The design is PyTorch's: ``weight`` is a Parameter of shape (num_parameters,), made at
    construction and filled with ``init``; one slope is shared by every element, or, with
    ``num_parameters=C``, there is one per channel, the channel axis being axis 1 of the
    input (the features of a (batch, features) input, the channels of (N, C, H, W)). Keras's
    PReLU (per-element alpha on the last axes, initialized to 0) is not reproduced; for a
    (batch, features) input, ``PReLU(features, init=0.0)`` is the same layer. Weight decay
    should not be applied to ``weight`` (PyTorch's advice).

    Args:
        num_parameters: 1 or the number of channels.
        init: the initial slope.

    Shape:
        - Input: (N, C, ...) when num_parameters = C > 1; any shape otherwise.
        - Output: same as the input.

    >>> import tidu
    >>> layer = tidu.nn.PReLU()
    >>> layer.weight.shape, layer(tidu.tensor([[-2.0, 3.0]])).tolist()
    ((1,), [[-0.5, 3.0]])
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, name: str | None = None):
        super().__init__(name=name)
        if (isinstance(num_parameters, bool) or not isinstance(num_parameters, int)
                or num_parameters < 1):
            raise ValueError(f"{self.name}: num_parameters must be a positive integer, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = _number(init, "init", self.name)
        w = xp.full((num_parameters,), self.init, dtype=default_float)
        self.weight = Parameter(w, name=f"{self.name}/weight")

    def forward(self, x):
        return ops.prelu(x, self.weight)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        n = self.num_parameters
        if n > 1 and (len(shape) < 2 or shape[1] not in (None, n)):
            raise ShapeError(f"{self.name}: expected an input with {n} channels on axis 1, "
                             f"got input shape {shape}")
        return shape

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
