"""In-place operations, version counters, and backward refusing stale graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu


def test_the_issue_reproducer_raises_instead_of_mixing_old_and_new_weights():
    w = tidu.tensor([1.0, 2.0], requires_grad=True, name="w")
    opt = tidu.optim.SGD([w], lr=0.1)
    l1 = (w * w).sum()
    l2 = (w * w * w).sum()
    l1.backward()
    opt.step()
    assert w.version == 1
    with pytest.raises(tidu.GradientError, match=r"Mul used a tensor that was then changed in "
                                                 r"place: tensor 'w' of shape \(2,\) is at "
                                                 r"version 1"):
        l2.backward()
    # recomputing after the step is fine
    w.grad = None
    (w * w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.array([0.8, 1.6]) ** 2, rtol=1e-6)


@pytest.mark.parametrize("name, args, ref", [
    ("add_", (2.0,), lambda t: t.add_(2.0)),
    ("sub_", (0.5,), lambda t: t.sub_(0.5)),
    ("mul_", (3.0,), lambda t: t.mul_(3.0)),
    ("div_", (4.0,), lambda t: t.div_(4.0)),
    ("clamp_", (-0.5, 0.5), lambda t: t.clamp_(-0.5, 0.5)),
    ("fill_", (7.0,), lambda t: t.fill_(7.0)),
    ("zero_", (), lambda t: t.zero_()),
])
def test_inplace_ops_match_torch_and_keep_identity(name, args, ref):
    a = np.random.default_rng(0).standard_normal((3, 4))
    t = tidu.tensor(a.copy())
    arr = t.numpy()
    out = getattr(t, name)(*args)
    assert out is t and t.numpy() is arr and t.version == 1
    expected = ref(torch.tensor(a.copy())).numpy()
    np.testing.assert_allclose(t.numpy(), expected)


def test_add_alpha_and_copy_broadcast():
    t = tidu.zeros(2, 3)
    t.add_(tidu.ones(3), alpha=2)
    np.testing.assert_array_equal(t.numpy(), 2.0)
    t.copy_(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [1, 2, 3]])


def test_inplace_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = tidu.tensor([1.0, 2.0], requires_grad=True, name="w")
    with pytest.raises(tidu.GradientError, match="leaf that requires grad"):
        w.add_(1.0)
    with pytest.raises(tidu.GradientError, match="leaf that requires grad"):
        w[0] = 5.0
    with tidu.no_grad():
        w.add_(1.0)
        w[1] = 10.0
    np.testing.assert_array_equal(w.numpy(), [2.0, 10.0])
    assert w.version == 2


def test_inplace_in_a_graph_is_differentiable_like_torch():
    a0, b0 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, 2.0])
    a = tidu.tensor(a0, requires_grad=True)
    b = tidu.tensor(b0, requires_grad=True)
    y = a * 2
    y.mul_(b)
    y.add_(b)
    (y * y).sum().backward()
    ta = torch.tensor(a0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    ty = ta * 2
    ty.mul_(tb)
    ty.add_(tb)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())


def test_a_node_that_saw_the_old_value_refuses_backward():
    a = tidu.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1.0
    z = (y * y).sum()  # Mul saved y
    y.add_(1.0)
    with pytest.raises(tidu.GradientError, match="changed in place"):
        z.backward()


def test_setitem_without_gradients_is_plain_assignment():
    t = tidu.zeros(4)
    t[1:3] = 5.0
    t[np.array([0])] = tidu.tensor([2.0])
    np.testing.assert_array_equal(t.numpy(), [2.0, 5.0, 5.0, 0.0])
    assert t.version == 2


def test_inplace_cannot_change_shape_or_lose_precision():
    t = tidu.zeros(3)
    with pytest.raises(tidu.GradientError, match="cannot change a tensor's shape"):
        t.add_(tidu.ones(2, 3))
    i = tidu.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="cannot be stored"):
        i.add_(0.5)


def test_requires_grad_setter_refuses_integer_tensors():
    i = tidu.tensor([1, 2, 3])
    with pytest.raises(tidu.GradientError, match="floating-point"):
        i.requires_grad = True
    with pytest.raises(tidu.GradientError, match="floating-point"):
        i.requires_grad_()
    f = tidu.tensor([1.0])
    f.requires_grad = True
    assert f.requires_grad and f.is_leaf


def test_load_state_dict_bumps_versions():
    layer = tidu.nn.Linear(2, 2)
    w = layer.weight
    loss = (layer(tidu.ones(1, 2)) ** 2).sum()
    layer.load_state_dict({k: v * 0 for k, v in layer.state_dict().items()})
    assert w.version == 1
    with pytest.raises(tidu.GradientError, match="changed in place"):
        loss.backward()


def test_a_compiled_update_of_a_parameter_bumps_its_version():
    w = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    x = tidu.dvector("x")
    step = tidu.function([x], [], updates=[(w, w - x)])
    step(np.ones(2))
    step(np.ones(2))
    assert w.version == 2
    np.testing.assert_array_equal(w.numpy(), [-1.0, 0.0])
    with pytest.raises(tidu.GradientError, match="changed in place"):
        loss.backward()
