"""tidu.nn.regularizers: Keras's L1 / L2 / L1L2 penalties, their gradients, weight decay.

Oracles: the NumPy formulas, and torch.optim.SGD's weight_decay for the decay step.
"""

import numpy as np
import pytest
import torch

import tidu
from tidu import nn
from tidu.nn import regularizers as R


def weights(seed=0, shape=(6, 4)):
    # keep entries away from 0, where |w| has a kink
    w = np.random.default_rng(seed).uniform(0.1, 1.0, shape)
    return w * np.random.default_rng(seed + 1).choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("reg, l1, l2", [
    (R.L1(0.03), 0.03, 0.0), (R.L2(0.2), 0.0, 0.2), (R.L1L2(0.05, 0.07), 0.05, 0.07),
    (R.L1(), 0.01, 0.0), (R.L2(), 0.0, 0.01),
])
def test_penalty_and_gradient_match_the_formulas(reg, l1, l2):
    w = weights()
    p = nn.Parameter(w.copy())
    penalty = reg(p)
    assert penalty.shape == ()
    assert penalty.item() == pytest.approx(l1 * np.abs(w).sum() + l2 * (w**2).sum(), rel=1e-12)
    penalty.backward()
    np.testing.assert_allclose(p.grad.numpy(), l1 * np.sign(w) + 2 * l2 * w, rtol=1e-12)


def test_zero_coefficients_give_a_zero_scalar():
    out = R.L1L2()(nn.Parameter(weights()))
    assert out.shape == () and out.item() == 0.0


def test_penalty_accepts_arrays_and_keeps_float32():
    w = weights().astype(np.float32)
    out = R.L2(0.5)(w)
    assert out.dtype == np.float32
    assert out.item() == pytest.approx(0.5 * float((w.astype(np.float64) ** 2).sum()), rel=1e-6)


def test_l2_step_is_weight_decay():
    """One SGD step on loss + L2 penalty: w := w (1 - 2 lr l2) - lr dLoss/dw (Text C)."""
    lr, l2 = 0.1, 0.05
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    layer = nn.Dense(2, use_bias=False, kernel_regularizer=R.L2(l2), input_dim=4)
    layer.kernel = nn.Parameter(weights(4, (4, 2)))  # float64 for an exact comparison
    w0 = layer.kernel.numpy().copy()

    data_loss = ((layer(x) - t) ** 2).mean()
    d_data = tidu.grad(data_loss, layer.kernel).numpy()
    total = ((layer(x) - t) ** 2).mean() + layer.regularization_loss()
    total.backward()
    w1 = w0 - lr * layer.kernel.grad.numpy()
    np.testing.assert_allclose(w1, w0 * (1 - 2 * lr * l2) - lr * d_data, rtol=1e-12)

    # PyTorch's weight_decay=wd adds wd * w to the gradient: Keras's l2 is wd / 2
    wt = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.SGD([wt], lr=lr, weight_decay=2 * l2)
    ((torch.tensor(x) @ wt - torch.tensor(t)) ** 2).mean().backward()
    opt.step()
    np.testing.assert_allclose(w1, wt.detach().numpy(), rtol=1e-12)


def test_l1_pushes_small_weights_towards_zero_at_constant_speed():
    p = nn.Parameter(np.array([0.5, -0.5, 2.0]))
    R.L1(0.1)(p).backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.1, -0.1, 0.1])


def test_dense_regularizers_are_summed_by_the_model():
    model = nn.Sequential([
        nn.Dense(3, input_dim=4, kernel_regularizer=R.L1L2(0.01, 0.02), bias_regularizer="l1"),
        nn.Dense(2),
        nn.Dense(1, kernel_regularizer="l2"),
    ])
    k0, b0 = model[0].kernel.numpy(), model[0].bias.numpy()
    b0[...] = [0.5, -1.0, 2.0]
    k2 = model[2].kernel.numpy()
    expected = (0.01 * np.abs(k0).sum() + 0.02 * (k0**2).sum() + 0.01 * np.abs(b0).sum()
                + 0.01 * (k2**2).sum())
    assert model.regularization_loss().item() == pytest.approx(expected, rel=1e-5)
    with tidu.no_grad():  # also computable outside the graph (evaluation)
        assert model.regularization_loss().item() == pytest.approx(expected, rel=1e-5)


def test_get_and_config():
    assert isinstance(R.get("l1"), R.L1) and R.get("l1").l1 == 0.01
    assert isinstance(R.get("L2"), R.L2) and R.get("l2").l2 == 0.01
    both = R.get("l1_l2")
    assert isinstance(both, R.L1L2) and (both.l1, both.l2) == (0.01, 0.01)
    inst = R.L1L2(0.1, 0.2)
    assert R.get(inst) is inst and R.get(None) is None
    assert R.get(abs) is abs
    assert inst.get_config() == {"l1": 0.1, "l2": 0.2}
    assert R.L2(0.3).get_config() == {"l2": 0.3}
    copy = R.get({"class_name": "L2", "config": {"l2": 0.3}})
    assert isinstance(copy, R.L2) and copy.l2 == 0.3
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        R.get("l3")
    with pytest.raises(TypeError, match="regularizer"):
        R.get(0.1)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        R.L2(-0.1)
