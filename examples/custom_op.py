"""A user-defined differentiable operation: softplus(x) = log(1 + e^x), written to be stable.

Shows the whole custom-operation recipe from docs/custom_ops.md: subclass ``tidu.Function``,
compute on arrays in ``forward`` (keeping what ``backward`` needs on ``self``), return the
input's gradient from ``backward``, call it with ``Softplus.apply``, wrap it in a function,
and prove the gradient right with ``tidu.gradcheck`` (central differences in float64).

The naive formula overflows: e^x is inf in float64 from x = 710 on. Written as
max(x, 0) + log(1 + e^-|x|), only e^-|x| <= 1 is ever computed. Its derivative is the
sigmoid, computed from the same e^-|x|.

Run: python examples/custom_op.py
"""

import numpy as np

import tidu


class Softplus(tidu.Function):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|); derivative sigmoid(x)."""

    def forward(self, x):
        e = np.exp(-np.abs(x))
        self.sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))  # all backward needs
        return np.maximum(x, 0) + np.log1p(e)

    def backward(self, grad):
        return grad * self.sig


def softplus(x):
    """Smooth ReLU: log(1 + e^x), finite for any input."""
    return Softplus.apply(x)


class WrongSoftplus(Softplus):
    """The same forward with a deliberately wrong derivative (1 - sigmoid), for gradcheck."""

    def backward(self, grad):
        return grad * (1 - self.sig)


def _row(values) -> str:
    return " ".join(f"{v:>10.6g}" for v in values)


def main() -> None:
    x = tidu.tensor([-800.0, -3.0, 0.0, 2.0, 800.0], dtype="float64", requires_grad=True)
    with np.errstate(over="ignore"):
        naive = np.log(1 + np.exp(x.numpy()))
    y = softplus(x)
    print("x                ", _row(x.numpy()))
    print("naive log(1+e^x) ", _row(naive))
    print("softplus(x)      ", _row(y.numpy()))
    y.sum().backward()
    print("d softplus / dx  ", _row(x.grad.numpy()), " (the sigmoid)")

    # softplus is smooth everywhere, so any inputs will do; gradcheck works in float64
    rng = np.random.default_rng(0)
    inputs = [rng.normal(0.0, 3.0, size=(3, 4))]
    result = tidu.gradcheck(softplus, inputs)
    print("\ntidu.gradcheck(softplus, [x of shape (3, 4)]):")
    print(result)

    bad = tidu.gradcheck(WrongSoftplus.apply, inputs, raise_exception=False)
    print("\ntidu.gradcheck(WrongSoftplus.apply, ...) with a wrong backward:")
    print(bad)


if __name__ == "__main__":
    main()
