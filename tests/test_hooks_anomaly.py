"""register_hook, retain_grad on non-leaf tensors, and anomaly mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu


def test_hooks_see_and_replace_gradients_like_torch():
    x0 = np.array([1.0, -2.0, 3.0])
    seen = []
    x = tidu.tensor(x0, requires_grad=True)
    y = x * x
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x.register_hook(lambda g: g * 2)
    y.sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    ty = tx * tx
    tx.register_hook(lambda g: g * 2)
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(seen[0], [1.0, 1.0, 1.0])
    h.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x0)


def test_hook_on_a_non_leaf_changes_what_flows_upstream():
    x = tidu.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g * 0)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_hooks_on_the_create_graph_path():
    x = tidu.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (g,) = tidu.grad((x ** 3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), 30 * np.array([1.0, 4.0]))


def test_register_hook_needs_requires_grad():
    with pytest.raises(tidu.GradientError, match="does not require grad"):
        tidu.ones(2).register_hook(print)


def test_retain_grad_on_non_leaf():
    x = tidu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * 3 * np.array([1.0, 2.0]))


def test_anomaly_mode_names_the_op_and_the_users_line():
    x = tidu.tensor([0.0, 4.0], requires_grad=True)
    with tidu.detect_anomaly():
        y = (tidu.sqrt(x) * 2).sum()  # the line the error must point at
        with pytest.raises(tidu.GradientError) as err:
            y.backward()
    msg = str(err.value)
    assert "backward of Sqrt produced inf" in msg
    assert "test_hooks_anomaly.py" in msg and "tidu.sqrt(x) * 2" in msg
    assert not tidu.is_anomaly_enabled()


def test_without_anomaly_mode_the_inf_just_flows():
    x = tidu.tensor([0.0, 4.0], requires_grad=True)
    tidu.sqrt(x).sum().backward()
    assert np.isinf(x.grad.numpy()[0])


def test_anomaly_mode_catches_nan_from_a_custom_op():
    class Bad(tidu.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, g):
            return g * np.nan

    x = tidu.tensor([1.0], requires_grad=True)
    tidu.set_detect_anomaly(True)
    try:
        y = Bad.apply(x).sum()
        with pytest.raises(tidu.GradientError, match="backward of Bad produced NaN"):
            y.backward()
    finally:
        tidu.set_detect_anomaly(False)
