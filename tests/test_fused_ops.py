"""The fused nodes of the eager hot path: ``affine`` (x @ w + b, optionally through relu; what
Dense records) and ``softmax_cross_entropy`` (the cross-entropies from logits), against
PyTorch autograd and central differences in float64, second order included, and the losses
and layers that use them against their unfused forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from tidu import ops
from tidu.gradcheck import gradcheck

rng = np.random.default_rng(0)


def t64(a, grad=True):
    return tidu.tensor(np.array(a, dtype=np.float64), requires_grad=grad)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("lead", [(5,), (2, 3)])
def test_affine_matches_torch_and_finite_differences(lead, bias, relu):
    x, w, b = rng.standard_normal((*lead, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    args = [x, w] + ([b] if bias else [])
    ins = [t64(a) for a in args]
    out = ops.affine(*ins, relu=relu)
    tins = [torch.tensor(a, requires_grad=True) for a in args]
    tout = tins[0] @ tins[1] + (tins[2] if bias else 0)
    tout = torch.relu(tout) if relu else tout
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    v = rng.standard_normal(out.shape)
    got = tidu.grad(out, ins, tidu.tensor(v))
    want = torch.autograd.grad(tout, tins, torch.tensor(v))
    for g, w_ in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w_.numpy(), rtol=1e-10, atol=1e-12)
    gradcheck(lambda *a: ops.affine(*a, relu=relu), [t64(a) for a in args])


def test_affine_second_order_through_vjp():
    x, w, b = (t64(rng.standard_normal(s)) for s in ((3, 4), (4, 2), (2,)))
    gx, = tidu.grad((ops.affine(x, w, b) ** 2).sum(), [x], create_graph=True)
    tx, tw, tb = (torch.tensor(a.numpy(), requires_grad=True) for a in (x, w, b))
    tgx, = torch.autograd.grad(((tx @ tw + tb) ** 2).sum(), [tx], create_graph=True)
    got = tidu.grad((gx ** 2).sum(), [w])[0]
    want = torch.autograd.grad((tgx ** 2).sum(), [tw])[0]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def test_affine_refuses_shapes_that_do_not_fit():
    with pytest.raises(tidu.errors.ShapeError, match="affine: x of shape"):
        ops.affine(tidu.ones((2, 3)), tidu.ones((4, 2)))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_softmax_cross_entropy_matches_torch_and_finite_differences(reduction):
    x = rng.standard_normal((6, 5)) * 3
    t = rng.dirichlet(np.ones(5), 6)  # probability targets (label smoothing's kind)
    xs, ts = t64(x), t64(t)
    out = ops.softmax_cross_entropy(xs, ts, reduction=reduction)
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    tout = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    v = rng.standard_normal(out.shape)
    got = tidu.grad(out, [xs, ts], tidu.tensor(v))
    want = torch.autograd.grad(tout, [tx, tt], torch.tensor(v))
    for g, w_ in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w_.numpy(), rtol=1e-10, atol=1e-12)
    gradcheck(lambda a, b: ops.softmax_cross_entropy(a, b, reduction=reduction),
              [t64(x), t64(t)])


def test_softmax_cross_entropy_second_order_matches_torch():
    x, t = rng.standard_normal((4, 3)), np.eye(3)[[0, 2, 1, 1]]
    xs = t64(x)
    g, = tidu.grad(ops.softmax_cross_entropy(xs, t, reduction="mean"), [xs],
                   create_graph=True)
    tx = torch.tensor(x, requires_grad=True)
    tg, = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.tensor(t)), [tx],
                              create_graph=True)
    np.testing.assert_allclose(tidu.grad((g ** 3).sum(), [xs])[0].numpy(),
                               torch.autograd.grad((tg ** 3).sum(), [tx])[0].numpy(),
                               rtol=1e-9)


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    x = t64([[1e4, 0.0, -1e4]])
    loss = ops.softmax_cross_entropy(x, [[0.0, 1.0, 0.0]], reduction="sum")
    g, = tidu.grad(loss, [x])
    assert np.isfinite(loss.numpy()) and np.isfinite(g.numpy()).all()
    np.testing.assert_allclose(loss.numpy(), 1e4)
    with pytest.raises(ValueError, match="reduction must be one of"):
        ops.softmax_cross_entropy(x, [[0.0, 1.0, 0.0]], reduction="avg")


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_keras_cross_entropy_losses_equal_their_unfused_form(smoothing):
    """The fused path (Loss.call_reduced) gives the loss and gradients of call + reduction."""
    x = rng.standard_normal((8, 4)) * 2
    labels = rng.integers(0, 4, 8)
    onehot = np.eye(4)[labels]
    cases = [(tidu.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
              onehot)]
    if smoothing == 0.0:
        cases.append((tidu.losses.SparseCategoricalCrossentropy(from_logits=True), labels))
    for loss_fn, y in cases:
        xs = t64(x)
        fused = loss_fn(y, xs)
        plain_x = t64(x)
        plain = loss_fn.call(y, plain_x).mean()  # call + the default reduction
        np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12)
        np.testing.assert_allclose(tidu.grad(fused, [xs])[0].numpy(),
                                   tidu.grad(plain, [plain_x])[0].numpy(), rtol=1e-12)
        tt = torch.tensor(y if y.ndim == 1 else onehot)
        want = torch.nn.functional.cross_entropy(torch.tensor(x), tt,
                                                 label_smoothing=smoothing)
        np.testing.assert_allclose(fused.numpy(), want.numpy(), rtol=1e-12)


def test_dense_relu_records_one_fused_node_and_matches_torch():
    layer = tidu.nn.Dense(3, activation="relu", input_shape=(4,)).double()
    x = t64(rng.standard_normal((5, 4)))
    y = layer(x)
    assert type(y.grad_fn).__name__ == "Affine"
    lin = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(layer.kernel.numpy().T))
        lin.bias.copy_(torch.tensor(layer.bias.numpy()))
    tx = torch.tensor(x.numpy(), requires_grad=True)
    ty = torch.relu(lin(tx))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(layer.kernel.grad.numpy(), lin.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), lin.bias.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
