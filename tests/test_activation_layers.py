"""Activation layers and activation names: each layer against its torch.nn module (float64
values and input gradients), configs and Sequential round trips, Keras's names in
``Dense(activation=...)``, and PReLU's learnable weight against torch.nn.PReLU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tidu
from _optable import make
from tidu import nn

# tidu layer, its torch.nn counterpart, input kind (offgrid: off every kink)
LAYERS = [
    (nn.ELU(), torch.nn.ELU(), "away"),
    (nn.ELU(alpha=0.4), torch.nn.ELU(alpha=0.4), "away"),
    (nn.SELU(), torch.nn.SELU(), "away"),
    (nn.CELU(alpha=2.0), torch.nn.CELU(alpha=2.0), "away"),
    (nn.GELU(), torch.nn.GELU(), "normal"),
    (nn.GELU("tanh"), torch.nn.GELU("tanh"), "normal"),
    (nn.SiLU(), torch.nn.SiLU(), "normal"),
    (nn.Mish(), torch.nn.Mish(), "normal"),
    (nn.Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(2.0, 5.0), "offgrid"),
    (nn.Softsign(), torch.nn.Softsign(), "away"),
    (nn.Hardtanh(-2.0, 2.5), torch.nn.Hardtanh(-2.0, 2.5), "offgrid"),
    (nn.ReLU6(), torch.nn.ReLU6(), "offgrid"),
    (nn.Hardswish(), torch.nn.Hardswish(), "offgrid"),
    (nn.LogSigmoid(), torch.nn.LogSigmoid(), "normal"),
    (nn.Softmin(axis=1), torch.nn.Softmin(dim=1), "normal"),
    (nn.GLU(), torch.nn.GLU(), "normal"),
    (nn.GLU(axis=0), torch.nn.GLU(dim=0), "normal"),
]
IDS = [f"{type(t).__name__}{i}" for i, (t, _, _) in enumerate(LAYERS)]


@pytest.mark.parametrize(("layer", "ref", "kind"), LAYERS, ids=IDS)
def test_layer_matches_torch(layer, ref, kind, torch_check):
    x = make((kind, (4, 6)), 1)
    _, out = torch_check(layer, ref, [x])
    assert out.shape == layer.compute_output_shape((4, 6))
    assert layer.parameters() == []


def test_hardsigmoid_layer(torch_check):
    x = make(("offgrid", (3, 4)), 2)
    torch_check(nn.Hardsigmoid(), torch.nn.Hardsigmoid(), [x], rtol=1e-7)  # float32 1/6


NEW = [nn.CELU, nn.ELU, nn.GELU, nn.GLU, nn.Hardsigmoid, nn.Hardswish, nn.Hardtanh,
       nn.LogSigmoid, nn.Mish, nn.PReLU, nn.ReLU6, nn.SELU, nn.SiLU, nn.Softmin, nn.Softplus,
       nn.Softsign]


def test_exported():
    for cls in NEW:
        assert cls.__name__ in nn.__all__ and cls.__name__ in nn.layers.__all__
        assert getattr(nn.layers, cls.__name__) is cls


@pytest.mark.parametrize("layer", [
    nn.ELU(0.5, name="e"), nn.CELU(alpha=3.0), nn.GELU(approximate="tanh"),
    nn.Hardtanh(min_val=-0.5, max_val=2.0), nn.Softmin(axis=0), nn.GLU(axis=1),
    nn.Softplus(beta=0.5), nn.PReLU(num_parameters=3, init=0.1), nn.SiLU(), nn.Mish(),
], ids=lambda m: type(m).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    assert config["name"] == layer.name
    copy = type(layer).from_config(config)
    assert type(copy) is type(layer) and copy.get_config() == config
    x = make(("away", (2, 6)), 3) if not isinstance(layer, nn.PReLU) else np.ones((2, 3))
    np.testing.assert_allclose(copy(x).numpy(), layer(x).numpy())


def test_configs_hold_the_arguments():
    assert nn.ELU(0.5, name="e").get_config() == {"alpha": 0.5, "name": "e"}
    assert nn.GELU("tanh", name="g").get_config() == {"approximate": "tanh", "name": "g"}
    assert nn.Hardtanh(-2, 3, name="h").get_config() == {"min_val": -2, "max_val": 3,
                                                          "name": "h"}
    assert nn.PReLU(4, init=0.1, name="p").get_config() == {"num_parameters": 4, "init": 0.1,
                                                            "name": "p"}
    assert nn.Softmin(0, name="s").get_config() == {"axis": 0, "name": "s"}


def test_sequential_with_activation_layers_round_trips():
    net = nn.Sequential([nn.Dense(6, input_shape=(4,)), nn.GELU(), nn.Dense(6),
                         nn.PReLU(6, init=0.2), nn.GLU(), nn.Dense(2, activation="silu"),
                         nn.Activation("hard_sigmoid")])
    config = net.get_config()
    assert [c["class_name"] for c in config["layers"]] == [
        "Dense", "GELU", "Dense", "PReLU", "GLU", "Dense", "Activation"]
    assert config["layers"][5]["config"]["activation"] == "silu"
    assert config["layers"][6]["config"]["activation"] == "hard_sigmoid"
    copy = nn.Sequential.from_config(config)
    assert [p.shape for p in copy.parameters()] == [p.shape for p in net.parameters()]
    copy.load_state_dict(net.state_dict())
    x = make(("normal", (3, 4)), 4).astype(np.float32)
    np.testing.assert_allclose(copy(x).numpy(), net(x).numpy(), rtol=1e-6)
    assert "3.weight" in net.state_dict()
    assert net.compute_output_shape((None, 4)) == (None, 2)


# ----- activation names -----
KERAS = {  # Keras 3 name -> the same function written with torch
    "elu": F.elu, "selu": F.selu, "celu": F.celu, "gelu": F.gelu, "glu": F.glu,
    "silu": F.silu, "swish": F.silu, "mish": F.mish, "softplus": F.softplus,
    "softsign": F.softsign, "hard_sigmoid": lambda t: F.relu6(t + 3) / 6,
    "hard_silu": F.hardswish, "hard_swish": F.hardswish, "hard_tanh": F.hardtanh,
    "relu6": F.relu6, "log_sigmoid": F.logsigmoid, "exponential": torch.exp,
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_keras_activation_names(name, torch_check):
    fn = nn.activations.get(name)
    torch_check(fn, KERAS[name], [make(("offgrid", (3, 4)), 5) / 4])
    assert nn.activations.serialize(fn) in (name, {"swish": "silu",
                                                   "hard_swish": "hard_silu"}.get(name))
    assert nn.activations.get(name.upper()) is fn


def test_keras_gelu_flag_selects_the_tanh_form():
    x = tidu.tensor(np.linspace(-3, 3, 7))
    np.testing.assert_allclose(nn.activations.gelu(x, approximate=True).numpy(),
                               tidu.gelu(x, "tanh").numpy())


def test_dense_with_named_and_tidu_activations():
    layer = nn.Dense(3, activation="gelu", input_shape=(4,))
    x = np.ones((2, 4), np.float32)
    want = tidu.gelu(x @ layer.kernel.numpy() + layer.bias.numpy()).numpy()
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-6)
    assert layer.get_config()["activation"] == "gelu"
    for fn, name in [(tidu.mish, "mish"), (tidu.hard_swish, "hard_silu"), (tidu.elu, "elu"),
                     (tidu.softplus, "softplus")]:
        assert nn.Dense(2, activation=fn).get_config()["activation"] == name
    with pytest.raises(ValueError, match="unknown activation 'gelu_new'.*'hard_silu'"):
        nn.Dense(2, activation="gelu_new")


# ----- PReLU's weight -----
@pytest.mark.parametrize(("num", "shape"), [(1, (5, 3)), (3, (4, 3)), (3, (2, 3, 5)),
                                            (2, (2, 2, 3, 3)), (1, (7,))])
def test_prelu_gradients_match_torch(num, shape):
    x = make(("away", shape), 6)
    init = np.linspace(0.1, 0.4, num)
    layer = nn.PReLU(num)
    layer.weight = nn.Parameter(init.copy())  # float64, to compare at 1e-12
    ref = torch.nn.PReLU(num).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(init))
    xt = torch.tensor(x, requires_grad=True)
    xs = tidu.tensor(x, requires_grad=True)
    v = make(("normal", shape), 7)
    out = layer(xs)
    out.backward(v)
    ref(xt).backward(torch.from_numpy(v))
    np.testing.assert_allclose(out.numpy(), ref(xt).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_prelu_weight_is_a_parameter_and_trains():
    layer = nn.PReLU(3)
    assert layer.weight.dtype == np.float32 and layer.weight.tolist() == [0.25] * 3
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.name == f"{layer.name}/weight"
    x = -np.ones((8, 3), np.float32)
    target = np.array([0.5, 1.0, 2.0], np.float32)  # y = -w: the slopes to learn are -target
    opt = tidu.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = ((layer(x) + target) ** 2).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(layer.weight.numpy(), target, atol=1e-4)


def test_prelu_in_a_gradient_check():
    w = np.array([0.3, -0.2])
    assert tidu.gradcheck(lambda a, b: tidu.prelu(a, b), [make(("away", (3, 2, 4)), 8), w]).ok


# ----- errors -----
def test_errors_name_the_layer_and_argument():
    with pytest.raises(ValueError, match="gelu.*: approximate must be 'none' or 'tanh'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match="celu.*: alpha must be nonzero"):
        nn.CELU(0)
    with pytest.raises(TypeError, match="elu.*: alpha must be a number"):
        nn.ELU("1")
    with pytest.raises(ValueError, match="hardtanh.*: min_val must be less than max_val"):
        nn.Hardtanh(1, 1)
    with pytest.raises(ValueError, match="p_re_lu.*: num_parameters must be a positive"):
        nn.PReLU(0)
    with pytest.raises(tidu.ShapeError, match="prelu: weight has 3 elements .* 4 channels"):
        nn.PReLU(3)(tidu.ones(2, 4))
    with pytest.raises(tidu.ShapeError, match="expected an input with 3 channels on axis 1"):
        nn.PReLU(3).compute_output_shape((None, 4))
    with pytest.raises(tidu.ShapeError, match="must have an even length"):
        nn.GLU().compute_output_shape((None, 5))
