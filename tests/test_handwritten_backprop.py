"""Text D: backpropagation written by hand for Linear -> ReLU -> Linear -> MSE in plain NumPy,
checked against tidu's automatic differentiation and against PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu

# ----- the hand-written version (plain NumPy) -----


def lin(x, w, b):
    return x @ w + b


def relu(x):
    return np.maximum(x, 0.0)


def mse(out, targ):
    return ((out[:, 0] - targ) ** 2).mean()


def mse_grad(out, targ):
    """d mse / d out: 2 (out - targ) / n, in the shape of out (n, 1)."""
    return 2.0 * (out[:, 0] - targ)[:, None] / targ.shape[0]


def lin_grad(inp, out_g, w):
    """Gradients of out = inp @ w + b: (d inp, d w, d b)."""
    return out_g @ w.T, inp.T @ out_g, out_g.sum(0)


def relu_grad(inp, out_g):
    """0 where the input is <= 0, the incoming gradient where it is above."""
    return (inp > 0).astype(inp.dtype) * out_g


def forward_and_backward(x, targ, w1, b1, w2, b2):
    """The forward pass, then the chain rule from the loss back to every parameter."""
    l1 = lin(x, w1, b1)
    l2 = relu(l1)
    out = lin(l2, w2, b2)
    loss = mse(out, targ)
    out_g = mse_grad(out, targ)
    l2_g, w2_g, b2_g = lin_grad(l2, out_g, w2)
    l1_g = relu_grad(l1, l2_g)
    x_g, w1_g, b1_g = lin_grad(x, l1_g, w1)
    return loss, {"x": x_g, "w1": w1_g, "b1": b1_g, "w2": w2_g, "b2": b2_g}


# ----- the same network in tidu and in torch -----


def tidu_loss(x, targ, w1, b1, w2, b2):
    out = tidu.relu(x @ w1 + b1) @ w2 + b2
    return ((out[:, 0] - targ) ** 2).mean()


def torch_loss(x, targ, w1, b1, w2, b2):
    out = torch.relu(x @ w1 + b1) @ w2 + b2
    return ((out[:, 0] - targ) ** 2).mean()


NAMES = ["x", "w1", "b1", "w2", "b2"]


def problem(seed: int, dtype=np.float64, n=64, n_in=10, n_hidden=50):
    """Random inputs and Kaiming-scaled weights, as in the text's example."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.standard_normal((n, n_in)),
        "w1": rng.standard_normal((n_in, n_hidden)) * np.sqrt(2 / n_in),
        "b1": np.zeros(n_hidden),
        "w2": rng.standard_normal((n_hidden, 1)) * np.sqrt(2 / n_hidden),
        "b2": np.zeros(1),
    }
    targ = rng.standard_normal(n)
    return {k: v.astype(dtype) for k, v in arrays.items()}, targ.astype(dtype)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_handwritten_backprop_matches_tidu_and_torch(seed):
    arrays, targ = problem(seed)
    loss, grads = forward_and_backward(arrays["x"], targ, *(arrays[k] for k in NAMES[1:]))

    ts = {k: tidu.tensor(v, requires_grad=True) for k, v in arrays.items()}
    t_loss = tidu_loss(ts["x"], tidu.tensor(targ), *(ts[k] for k in NAMES[1:]))
    t_loss.backward()

    ps = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    p_loss = torch_loss(ps["x"], torch.tensor(targ), *(ps[k] for k in NAMES[1:]))
    p_loss.backward()

    assert np.allclose(t_loss.item(), loss) and np.allclose(p_loss.item(), loss)
    for k in NAMES:
        assert ts[k].grad.shape == arrays[k].shape
        assert np.allclose(ts[k].grad.numpy(), grads[k], rtol=1e-10, atol=1e-12), k
        assert np.allclose(ps[k].grad.numpy(), grads[k], rtol=1e-10, atol=1e-12), k


def test_handwritten_backprop_in_float32():
    arrays, targ = problem(3, dtype=np.float32)
    loss, grads = forward_and_backward(arrays["x"], targ, *(arrays[k] for k in NAMES[1:]))
    ts = {k: tidu.tensor(v, requires_grad=True) for k, v in arrays.items()}
    tidu_loss(ts["x"], tidu.tensor(targ), *(ts[k] for k in NAMES[1:])).backward()
    for k in NAMES:
        assert ts[k].grad.dtype == np.float32
        assert np.allclose(ts[k].grad.numpy(), grads[k], rtol=1e-4, atol=1e-6), k


def test_relu_grad_is_zero_at_and_below_zero():
    inp = np.array([-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(relu_grad(inp, np.ones(3)), [0.0, 0.0, 1.0])
    x = tidu.tensor(inp, requires_grad=True)
    tidu.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_text_c_formulas_for_one_hidden_layer():
    """dL/dW2 = dL/dO h^T, dL/dh = W2^T dL/dO, dL/dz = dL/dh * phi'(z), dL/dW1 = dL/dz x^T
    (column-vector convention, one sample), against tidu's gradients."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 1)), rng.standard_normal((3, 1))
    W1, W2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 5))
    z = W1 @ x
    h = np.tanh(z)
    o = W2 @ h
    dO = o - y  # L = 0.5 |o - y|^2
    dW2 = dO @ h.T
    dh = W2.T @ dO
    dz = dh * (1 - np.tanh(z) ** 2)
    dW1 = dz @ x.T
    w1, w2 = tidu.tensor(W1, requires_grad=True), tidu.tensor(W2, requires_grad=True)
    loss = 0.5 * ((w2 @ tidu.tanh(w1 @ x) - y) ** 2).sum()
    g1, g2 = tidu.grad(loss, [w1, w2])
    np.testing.assert_allclose(g1.numpy(), dW1, rtol=1e-10)
    np.testing.assert_allclose(g2.numpy(), dW2, rtol=1e-10)
