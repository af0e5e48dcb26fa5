"""Activation layers: element-wise functions (softmax: along an axis) with no weights.

Each layer's output has its input's shape.
"""

from __future__ import annotations

from ... import ops
from .. import activations
from .._utils import normalize_shape
from ..module import Module


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
