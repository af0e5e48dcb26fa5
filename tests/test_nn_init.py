"""tidu.nn.init: in-place initializers with PyTorch's formulas; statistics on large tensors."""

import math

import numpy as np
import pytest
import torch

import tidu
import tidu.nn as nn
from tidu.nn import init


def _pair(shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float32)), torch.empty(shape)


@pytest.mark.parametrize("nonlinearity,a", [("relu", 0.0), ("leaky_relu", 0.2), ("tanh", 0.0),
                                            ("linear", 0.0), ("selu", 0.0)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_std_matches_formula_and_torch(nonlinearity, a, mode):
    shape = (400, 250, 3)  # fan_in = 750, fan_out = 1200 (PyTorch's layout)
    p, t = _pair(shape)
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    assert init.calculate_gain(nonlinearity, a) == pytest.approx(gain, rel=1e-12)
    fan = 750 if mode == "fan_in" else 1200
    std = gain / math.sqrt(fan)
    out = init.kaiming_normal_(p, a=a, mode=mode, nonlinearity=nonlinearity)
    assert out is p and p.dtype == tidu.float32
    torch.nn.init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    assert p.numpy().std() == pytest.approx(std, rel=0.01)
    assert t.std().item() == pytest.approx(std, rel=0.01)
    init.kaiming_uniform_(p, a=a, mode=mode, nonlinearity=nonlinearity)
    w = p.numpy()
    assert w.std() == pytest.approx(std, rel=0.01)
    assert np.abs(w).max() <= math.sqrt(3) * std * (1 + 1e-6)


def test_xavier_matches_formula_and_torch():
    p, t = _pair((600, 400))
    std = 1.5 * math.sqrt(2 / 1000)
    init.xavier_normal_(p, gain=1.5)
    torch.nn.init.xavier_normal_(t, gain=1.5)
    assert p.numpy().std() == pytest.approx(std, rel=0.01) == t.std().item()
    init.xavier_uniform_(p, gain=1.5)
    torch.nn.init.xavier_uniform_(t, gain=1.5)
    assert p.numpy().std() == pytest.approx(std, rel=0.01)
    assert np.abs(p.numpy()).max() <= math.sqrt(3) * std * (1 + 1e-6)
    assert abs(p.numpy()).max() == pytest.approx(t.abs().max().item(), rel=1e-3)


def test_uniform_normal_constant():
    p = nn.Parameter(np.zeros((500, 500), dtype=np.float32))
    init.uniform_(p, -2.0, 4.0)
    w = p.numpy()
    assert w.min() >= -2 and w.max() <= 4
    assert w.mean() == pytest.approx(1.0, abs=0.02) and w.std() == pytest.approx(
        6 / math.sqrt(12), rel=0.01)
    init.normal_(p, mean=3.0, std=0.5)
    assert p.numpy().mean() == pytest.approx(3.0, abs=0.01)
    assert p.numpy().std() == pytest.approx(0.5, rel=0.01)
    assert init.constant_(p, 0.25).numpy().tolist() == np.full((500, 500), 0.25).tolist()
    assert init.zeros_(p).numpy().sum() == 0 and init.ones_(p).numpy().sum() == 500 * 500


def test_trunc_normal_bounds_and_std_match_torch():
    p, t = _pair((1000, 1000))
    init.trunc_normal_(p, mean=0.5, std=1.0, a=-1.0, b=1.5)
    torch.nn.init.trunc_normal_(t, mean=0.5, std=1.0, a=-1.0, b=1.5)
    w = p.numpy()
    assert w.min() >= -1.0 and w.max() <= 1.5
    assert w.mean() == pytest.approx(t.mean().item(), abs=0.005)
    assert w.std() == pytest.approx(t.std().item(), rel=0.01)


@pytest.mark.parametrize("shape", [(50, 30), (30, 50), (20, 5, 3)])
def test_orthogonal(shape):
    p = nn.Parameter(np.zeros(shape, dtype=np.float32))
    init.orthogonal_(p, gain=2.0)
    w = p.numpy().reshape(shape[0], -1).astype(np.float64)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


def test_seeded_by_tidu_and_by_a_generator():
    a, b = nn.Parameter(np.zeros((3, 4))), nn.Parameter(np.zeros((3, 4)))
    tidu.manual_seed(7)
    init.kaiming_uniform_(a)
    tidu.manual_seed(7)
    init.kaiming_uniform_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    init.normal_(a, generator=np.random.default_rng(1))
    init.normal_(b, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_in_place_on_a_layer_and_no_graph():
    layer = nn.Linear(8, 4)
    before = layer.weight
    init.xavier_uniform_(layer.weight)
    init.zeros_(layer.bias)
    assert layer.weight is before and layer.bias.numpy().tolist() == [0.0] * 4
    assert layer.weight.grad is None and layer.weight.requires_grad
    out = layer(tidu.ones(2, 8)).sum()
    out.backward()
    assert layer.weight.grad.shape == (4, 8)


def test_errors_are_named():
    with pytest.raises(ValueError, match="kaiming_normal_: fan in and fan out need a tensor of "
                       "2 or more dimensions, got shape \\(5,\\)"):
        init.kaiming_normal_(nn.Parameter(np.zeros(5)))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_uniform_(nn.Parameter(np.zeros((2, 2))), mode="fan")
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="uniform_: expected a tidu Tensor or Parameter, got "
                       "ndarray"):
        init.uniform_(np.zeros(3))


def test_nn_utils_reexports():
    from tidu.nn import utils
    from tidu.optim import clip
    from tidu.optimize import vector
    assert utils.clip_grad_norm_ is clip.clip_grad_norm_
    assert utils.clip_grad_value_ is clip.clip_grad_value_
    layer = nn.Linear(3, 2)
    vec = utils.parameters_to_vector(layer.parameters())
    assert vec.shape == (8,) and utils.vector_to_parameters is vector.vector_to_parameters
    utils.vector_to_parameters(np.arange(8.0), layer.parameters())
    assert layer.weight.numpy().ravel().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    torch_layer = torch.nn.Linear(3, 2)
    torch.nn.utils.vector_to_parameters(torch.arange(8.0), torch_layer.parameters())
    np.testing.assert_array_equal(layer.weight.numpy(), torch_layer.weight.detach().numpy())
