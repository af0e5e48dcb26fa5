"""tidu.nn: Module registration, building, state dicts, layers and Sequential.

Oracles: NumPy formulas, and PyTorch (float64) for gradients.
"""

import math

import numpy as np
import pytest
import torch

import tidu
from tidu import nn
from tidu.errors import ShapeError


def to_float64(module):
    """Replace every parameter of ``module`` by a float64 copy (same names, same order)."""
    for m in module.modules():
        for name, p in list(m.named_parameters()):
            if "." not in name:
                setattr(m, name, nn.Parameter(p.data.astype(np.float64)))
    return module


def rng(seed=0):
    return np.random.default_rng(seed)


# ----- Parameter and registration -----
def test_parameter_is_a_float_tensor_requiring_grad():
    p = nn.Parameter(np.arange(3))
    assert isinstance(p, tidu.Tensor) and p.requires_grad and p.dtype == np.float32
    a = np.ones(2, dtype=np.float64)
    q = nn.Parameter(a, name="w")
    assert q.data is a and q.name == "w"  # float arrays are not copied
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad


def test_attributes_register_in_order_recursively_and_once():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(np.zeros(2))
            self.inner = nn.Linear(2, 3)
            self.b = nn.Parameter(np.zeros(1))
            self.not_a_param = tidu.tensor([1.0], requires_grad=True)

    blk = Block()
    names = [n for n, _ in blk.named_parameters()]
    assert names == ["a", "b", "inner.weight", "inner.bias"]
    assert len(blk.parameters()) == 4
    assert blk.children() == [blk.inner]
    assert [m for m in blk.modules()] == [blk, blk.inner]
    # a shared layer appears once; reassigning an attribute unregisters it
    shared = nn.Linear(2, 2)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.f, self.g = shared, shared

    assert len(Twice().parameters()) == 2
    blk.b = None
    assert [n for n, _ in blk.named_parameters()] == ["a", "inner.weight", "inner.bias"]
    del blk.inner
    assert [n for n, _ in blk.named_parameters()] == ["a"]


def test_lists_of_modules_are_registered_and_subclasses_without_super_init_work():
    class Net(nn.Module):
        def __init__(self):  # no super().__init__(): registration still works
            self.blocks = [nn.Linear(2, 3), nn.Linear(3, 1)]

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    net = Net()
    assert isinstance(net.blocks, nn.ModuleList) and len(net.blocks) == 2
    assert [n for n, _ in net.named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert net(np.ones((4, 2), np.float32)).shape == (4, 1)
    assert net.name == "net"


def test_auto_names_count_per_class_like_keras():
    class FooBarLayer(nn.Module):
        pass

    assert [FooBarLayer().name for _ in range(3)] == [
        "foo_bar_layer", "foo_bar_layer_1", "foo_bar_layer_2"]
    assert FooBarLayer(name="mine").name == "mine"
    assert nn.Dense(2).name.startswith("dense")


def test_array_inputs_become_tensors_without_copy():
    x = np.ones((2, 3), np.float32)
    out = nn.Activation(lambda t: t)(x)
    assert isinstance(out, tidu.Tensor) and out.data is x


# ----- Dense -----
def test_dense_forward_is_x_at_kernel_plus_bias():
    x = rng().standard_normal((6, 4)).astype(np.float32)
    layer = nn.Dense(3)
    y = layer(x)
    assert layer.kernel.shape == (4, 3) and layer.bias.shape == (3,)
    np.testing.assert_allclose(y.numpy(), x @ layer.kernel.numpy() + layer.bias.numpy(),
                               rtol=1e-6)
    # any leading batch axes
    x3 = rng(1).standard_normal((2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(layer(x3).numpy(), x3 @ layer.kernel.numpy() + layer.bias.numpy(),
                               rtol=1e-5, atol=1e-6)
    no_bias = nn.Dense(2, use_bias=False, input_dim=4)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1
    np.testing.assert_allclose(no_bias(x).numpy(), x @ no_bias.kernel.numpy(), rtol=1e-6)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_dense_gradients_match_torch_linear(shape):
    x = rng(2).standard_normal(shape)
    layer = to_float64(nn.Dense(3, input_shape=(4,)))
    layer.bias.data[...] = rng(3).standard_normal(3)
    xt = tidu.tensor(x, requires_grad=True)
    g = rng(4).standard_normal((*shape[:-1], 3))
    layer(xt).backward(g)

    w = torch.tensor(layer.kernel.numpy().T.copy(), requires_grad=True)
    b = torch.tensor(layer.bias.numpy().copy(), requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.linear(xr, w, b)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(layer(x).numpy(), out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.kernel.grad.numpy(), w.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_dense_builds_lazily_or_eagerly():
    lazy = nn.Dense(512)
    assert not lazy.built and lazy.parameters() == [] and lazy.input_shape is None
    lazy(np.zeros((3, 784), np.float32))
    assert lazy.built and lazy.kernel.shape == (784, 512) and lazy.input_shape == (None, 784)
    eager = nn.Dense(512, activation="relu", input_shape=(784,))
    assert eager.built and [p.shape for p in eager.parameters()] == [(784, 512), (512,)]
    assert nn.Dense(2, input_dim=7).kernel.shape == (7, 2)
    assert eager.compute_output_shape((None, 784)) == (None, 512)
    assert eager.compute_output_shape((None, 3, 784)) == (None, 3, 512)


def test_dense_shape_mismatch_names_the_layer_and_both_dims():
    layer = nn.Dense(3, input_shape=(4,), name="dense_probe")
    with pytest.raises(ShapeError) as e:
        layer(np.ones((2, 5), np.float32))
    msg = str(e.value)
    assert "dense_probe" in msg and "4" in msg and "(2, 5)" in msg
    with pytest.raises(ShapeError, match="dense_probe"):
        layer.compute_output_shape((None, 5))


def test_dense_argument_errors():
    with pytest.raises(ValueError, match="units"):
        nn.Dense(0)
    with pytest.raises(ValueError, match="unknown activation 'rellu'"):
        nn.Dense(2, activation="rellu")
    with pytest.raises(ValueError, match="not both"):
        nn.Dense(2, input_shape=(3,), input_dim=3)


def test_activation_names_record_the_ops_nodes_losses_look_for():
    x = np.ones((2, 3), np.float32)
    out = nn.Dense(4, activation="softmax", input_dim=3)(x)
    assert isinstance(out._node, tidu.ops.activation.Softmax)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-6)
    sig = nn.Dense(1, activation="sigmoid", input_dim=3)(tidu.tensor(x, requires_grad=True))
    assert isinstance(sig._node, tidu.ops.activation.Sigmoid)
    z = nn.Dense(2, activation=tidu.relu, input_dim=3)
    assert z.get_config()["activation"] == "relu"


def test_activation_layers_against_numpy():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x), rtol=1e-12)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(nn.Softmax()(x).numpy(), e / e.sum(), rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).numpy(), np.ones_like(x))
    # Keras's defaults: the LeakyReLU layer uses 0.3, the 'leaky_relu' activation 0.2
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x))
    np.testing.assert_allclose(nn.LeakyReLU(alpha=0.01)(x).numpy(), np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(nn.Activation("leaky_relu")(x).numpy(),
                               np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(nn.Activation("linear")(x).numpy(), x)
    assert nn.Tanh().compute_output_shape((None, 3, 2)) == (None, 3, 2)


def test_perceptron_sign_and_step_have_zero_gradient():
    x = tidu.tensor([[-1.5, 0.0, 0.7]], requires_grad=True)
    w = nn.Dense(1, activation="sign", input_dim=3)
    out = w(x)
    assert set(out.numpy().ravel()) <= {-1.0, 0.0, 1.0}
    out.sum().backward()
    assert np.all(w.kernel.grad.numpy() == 0) and np.all(x.grad.numpy() == 0)
    x2 = tidu.tensor([-1.5, 0.0, 0.7], requires_grad=True)
    np.testing.assert_array_equal(nn.Sign()(x2).numpy(), [-1.0, 0.0, 1.0])
    s = nn.Step()(x2)
    np.testing.assert_array_equal(s.numpy(), [0.0, 0.0, 1.0])
    s.sum().backward()
    np.testing.assert_array_equal(x2.grad.numpy(), [0.0, 0.0, 0.0])


# ----- Linear (PyTorch style) -----
def test_linear_matches_torch_after_loading_its_state_dict():
    torch.manual_seed(0)
    ref = torch.nn.Linear(4, 3).double()
    lin = to_float64(nn.Linear(4, 3))
    lin.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng(5).standard_normal((6, 4))
    xt, xr = tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lin(xt).sum().backward()
    ref(xr).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin(x).numpy(), ref(xr).detach().numpy(), rtol=1e-12)


def test_linear_default_init_is_torchs_uniform_bound():
    tidu.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert w.shape == (300, 400) and lin.bias.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    # U(-a, a) has variance a^2 / 3
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.02)
    assert lin.input_shape == (None, 400) and lin.built
    with pytest.raises(ShapeError, match=lin.name):
        lin(np.ones((1, 3), np.float32))


# ----- state dicts -----
def make_mlp():
    return nn.Sequential([nn.Dense(5, activation="tanh", input_shape=(4,)), nn.Dense(3)])


def test_state_dict_round_trip_and_copies():
    a, b = make_mlp(), make_mlp()
    sd = a.state_dict()
    assert list(sd) == ["0.kernel", "0.bias", "1.kernel", "1.bias"]
    sd["0.kernel"][0, 0] += 1.0  # a copy: the model is untouched
    assert a.state_dict()["0.kernel"][0, 0] != sd["0.kernel"][0, 0]
    kernel_array = b[0].kernel.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b[0].kernel.data is kernel_array  # loaded in place
    x = rng(6).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    b.set_weights([w * 0 for w in a.get_weights()])
    assert all(np.all(w == 0) for w in b.get_weights())


def test_load_state_dict_errors_name_the_parameter():
    model = make_mlp()
    sd = model.state_dict()
    missing = {k: v for k, v in sd.items() if k != "1.bias"}
    with pytest.raises(ValueError, match=r"missing \['1.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected \['2.kernel'\]"):
        model.load_state_dict({**sd, "2.kernel": np.zeros(1)})
    wrong = {**sd, "0.kernel": np.zeros((3, 5))}
    with pytest.raises(ShapeError) as e:
        model.load_state_dict(wrong)
    assert "0.kernel" in str(e.value) and "(4, 5)" in str(e.value) and "(3, 5)" in str(e.value)
    # nothing was half-loaded, and strict=False skips the missing name
    np.testing.assert_array_equal(model.state_dict()["0.kernel"], sd["0.kernel"])
    res = model.load_state_dict({"1.bias": np.ones(3)}, strict=False)
    assert "0.kernel" in res.missing_keys
    np.testing.assert_array_equal(model[1].bias.numpy(), np.ones(3))


def test_load_state_dict_on_unbuilt_model():
    sd = make_mlp().state_dict()
    lazy = nn.Sequential([nn.Dense(5, activation="tanh"), nn.Dense(3)])
    with pytest.raises(ValueError, match="build the model first"):
        lazy.load_state_dict(sd)
    lazy.build((None, 4))  # now it can
    lazy.load_state_dict(sd)
    np.testing.assert_array_equal(lazy[1].kernel.numpy(), sd["1.kernel"])


# ----- modes -----
def test_train_and_eval_reach_nested_children():
    inner = nn.Sequential([nn.Dense(3), nn.Dropout(0.5)])
    outer = nn.Sequential([nn.Dense(3), inner, nn.Dropout(0.2)])
    assert all(m.training for m in outer.modules())
    assert outer.eval() is outer
    assert len(outer.modules()) == 6 and not any(m.training for m in outer.modules())
    outer.train()
    assert inner[1].training
    outer.train(False)
    assert not inner[1].training


def test_zero_grad_and_trainable():
    model = make_mlp()
    model(np.ones((2, 4), np.float32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model[0].trainable = False
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]


# ----- Dropout -----
def test_dropout_statistics_and_scaling():
    rate, n = 0.3, 200_000
    drop = nn.Dropout(rate)
    tidu.manual_seed(0)
    x = np.full(n, 2.0, np.float32)
    y = drop(x).numpy()
    zeroed = np.mean(y == 0)
    assert abs(zeroed - rate) < 4 * math.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(y[y != 0], 2.0 / (1 - rate), rtol=1e-6)
    assert y.mean() == pytest.approx(2.0, rel=0.01)
    drop.eval()
    assert drop(x).data is x  # identity in evaluation
    assert nn.Dropout(0.0)(x).data is x


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("rate", [0.1, 1 / 3, 0.7])
def test_dropout_mask_is_the_scale_rounded_once_to_the_dtype(rate, dtype):
    x = np.ones((64, 50), dtype)
    out = nn.Dropout(rate, seed=5)(x).numpy()
    keep = np.random.default_rng(5).random(x.shape) >= rate  # the layer's own generator
    ref = (keep * (1.0 / (1.0 - rate))).astype(dtype)  # float64 product, rounded once
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, ref)


def test_dropout_gradient_is_the_mask_times_the_scale():
    x = tidu.tensor(np.ones((50, 40)), requires_grad=True)
    out = nn.Dropout(0.5, seed=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())  # 0 or 2 at the same places


def test_dropout_is_reproducible():
    x = np.ones((20, 30), np.float32)
    drop = nn.Dropout(0.4)
    tidu.manual_seed(7)
    a = drop(x).numpy()
    b = drop(x).numpy()
    tidu.manual_seed(7)
    np.testing.assert_array_equal(drop(x).numpy(), a)
    assert not np.array_equal(a, b)
    s1, s2 = nn.Dropout(0.4, seed=3), nn.Dropout(0.4, seed=3)
    tidu.manual_seed(1)
    m1 = s1(x).numpy()
    tidu.manual_seed(2)  # its own generator: the global seed does not matter
    np.testing.assert_array_equal(s2(x).numpy(), m1)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match="0 <= rate < 1"):
        nn.Dropout(rate)


# ----- Flatten and Reshape -----
def test_flatten_and_reshape():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.reshape(2, 12))
    assert nn.Flatten()(np.zeros(5, np.float32)).shape == (5, 1)
    assert nn.Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert nn.Flatten().compute_output_shape((None, None, 3)) == (None, None)
    r = nn.Reshape((4, -1))
    np.testing.assert_array_equal(r(x).numpy(), x.reshape(2, 4, 3))
    assert r.compute_output_shape((None, 3, 4)) == (None, 4, 3)
    assert nn.Reshape((6, 2)).compute_output_shape((8, 12)) == (8, 6, 2)
    bad = nn.Reshape((5, 5), name="reshape_probe")
    with pytest.raises(ShapeError, match="reshape_probe.*12 elements"):
        bad(x)
    with pytest.raises(ShapeError, match="reshape_probe"):
        bad.compute_output_shape((None, 12))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Reshape((-1, -1))
    xt = tidu.tensor(x, requires_grad=True)
    nn.Reshape((12,))(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), np.ones_like(x))


# ----- Sequential -----
def test_sequential_chains_layers_and_propagates_shapes():
    tidu.manual_seed(0)
    net = nn.Sequential([nn.Dense(6, activation="relu", input_shape=(4,)), nn.Dropout(0.5),
                         nn.Dense(3), nn.Softmax()])
    assert net.built and net.input_shape == (None, 4)
    assert net.compute_output_shape((None, 4)) == (None, 3)
    assert len(net) == 4 and net[0] is net.layers[0] and list(net) == net.layers
    net.eval()
    x = rng(8).standard_normal((5, 4)).astype(np.float32)
    h = np.maximum(x @ net[0].kernel.numpy() + net[0].bias.numpy(), 0)
    z = h @ net[2].kernel.numpy() + net[2].bias.numpy()
    e = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(net(x).numpy(), e / e.sum(1, keepdims=True), rtol=1e-5)
    net.add(nn.Dense(2))  # built at once from the known shape
    assert net[-1].kernel.shape == (3, 2)
    assert net.pop() is not None and len(net) == 4
    with pytest.raises(ShapeError, match="linear"):
        net.add(nn.Linear(7, 2))
    assert len(net) == 4
    with pytest.raises(TypeError, match="add"):
        net.add("relu")


def test_sequential_builds_lazily_and_with_build():
    net = nn.Sequential([nn.Flatten(), nn.Dense(8, activation="tanh"), nn.Dense(2)])
    assert not net.built and net.parameters() == [] and net.input_shape is None
    net.build((None, 3, 5))
    assert net.built and [p.shape for p in net.parameters()] == [(15, 8), (8,), (8, 2), (2,)]
    lazy = nn.Sequential()
    lazy.add(nn.Dense(4))
    lazy.add(nn.Dense(1))
    out = lazy(np.ones((3, 6), np.float32))
    assert out.shape == (3, 1) and lazy.input_shape == (None, 6) and lazy.built


def test_sequential_config_round_trip():
    net = nn.Sequential([
        nn.Dense(5, activation="relu", input_shape=(4,),
                 kernel_initializer=nn.initializers.RandomNormal(stddev=0.1),
                 kernel_regularizer=nn.regularizers.L2(0.02)),
        nn.Dropout(0.25), nn.LeakyReLU(0.1), nn.Dense(2, activation="softmax")])
    config = net.get_config()
    assert config["layers"][0]["class_name"] == "Dense"
    dense_cfg = config["layers"][0]["config"]
    assert dense_cfg["units"] == 5 and dense_cfg["activation"] == "relu"
    assert dense_cfg["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.02}}
    copy = nn.Sequential.from_config(config)
    assert [type(layer) for layer in copy] == [type(layer) for layer in net]
    assert copy.built and [p.shape for p in copy.parameters()] == [
        p.shape for p in net.parameters()]
    assert copy[0].kernel_regularizer.l2 == 0.02 and copy[1].rate == 0.25
    assert copy[2].negative_slope == 0.1
    assert nn.Dropout(0.5, seed=3, name="drop").get_config() == {
        "rate": 0.5, "seed": 3, "name": "drop"}


def test_text_c_mlp_4_5_3():
    """H = X W_h + b_h, O = H W_o + b_o with 4 inputs, 5 hidden units, 3 outputs."""
    mlp = nn.Sequential([nn.Dense(5, input_shape=(4,)), nn.Dense(3)])
    assert [(n, p.shape) for n, p in mlp.named_parameters()] == [
        ("0.kernel", (4, 5)), ("0.bias", (5,)), ("1.kernel", (5, 3)), ("1.bias", (3,))]
    x = rng(9).standard_normal((10, 4)).astype(np.float32)
    wh, bh, wo, bo = mlp.get_weights()
    np.testing.assert_allclose(mlp(x).numpy(), (x @ wh + bh) @ wo + bo, rtol=1e-5, atol=1e-6)
    # without an activation the stack is one linear layer: W = W_h W_o, b = b_h W_o + b_o
    np.testing.assert_allclose(mlp(x).numpy(), x @ (wh @ wo) + (bh @ wo + bo),
                               rtol=1e-4, atol=1e-5)


def test_sequential_gradients_match_torch():
    net = to_float64(nn.Sequential([nn.Dense(5, activation="tanh", input_shape=(4,)),
                                    nn.Dense(6, activation="relu"),
                                    nn.Dense(3, activation="softmax")]))
    for layer in net:
        layer.bias.data[...] = rng(10).standard_normal(layer.bias.shape)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 6),
                              torch.nn.ReLU(), torch.nn.Linear(6, 3),
                              torch.nn.Softmax(dim=-1)).double()
    with torch.no_grad():
        for layer, lin in zip(net, [ref[0], ref[2], ref[4]]):
            lin.weight.copy_(torch.tensor(layer.kernel.numpy().T))
            lin.bias.copy_(torch.tensor(layer.bias.numpy()))
    x = rng(11).standard_normal((8, 4))
    target = rng(12).standard_normal((8, 3))
    xt = tidu.tensor(x, requires_grad=True)
    loss = ((net(xt) - target) ** 2).mean()
    loss.backward()
    xr = torch.tensor(x, requires_grad=True)
    ref_loss = ((ref(xr) - torch.tensor(target)) ** 2).mean()
    ref_loss.backward()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-10, atol=1e-14)
    for layer, lin in zip(net, [ref[0], ref[2], ref[4]]):
        np.testing.assert_allclose(layer.kernel.grad.numpy(), lin.weight.grad.numpy().T,
                                   rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.bias.grad.numpy(), lin.bias.grad.numpy(),
                                   rtol=1e-10, atol=1e-14)


def test_regularization_loss_sums_the_tree():
    assert make_mlp().regularization_loss() is None
    inner = nn.Sequential([nn.Dense(3, input_dim=2, kernel_regularizer=nn.regularizers.L1(0.1),
                                    bias_regularizer="l2")])
    outer = nn.Sequential([inner, nn.Dense(2, kernel_regularizer=nn.regularizers.L2(0.5))])
    outer.build((None, 2))
    k1, b1 = inner[0].kernel.numpy(), inner[0].bias.numpy()
    k2 = outer[1].kernel.numpy()
    b1[...] = [1.0, -2.0, 0.5]
    expected = 0.1 * np.abs(k1).sum() + 0.01 * (b1**2).sum() + 0.5 * (k2**2).sum()
    reg = outer.regularization_loss()
    assert reg.shape == () and reg.item() == pytest.approx(expected, rel=1e-6)
    reg.backward()
    np.testing.assert_allclose(outer[1].kernel.grad.numpy(), 2 * 0.5 * k2, rtol=1e-6)


def test_custom_layer_with_build_and_get_config():
    class Scale(nn.Module):
        def __init__(self, factor=2.0, name=None):
            super().__init__(name=name)
            self.factor = factor

        def build(self, input_shape):
            self.add_weight("gain", (input_shape[-1],), nn.initializers.Constant(self.factor))

        def forward(self, x):
            return x * self.gain

    layer = Scale(factor=3.0)
    assert not layer.built
    assert layer(np.ones((2, 4), np.float32)).numpy().tolist() == [[3.0] * 4] * 2
    assert layer.built and layer.input_shape == (None, 4)
    assert layer.get_config() == {"factor": 3.0, "name": layer.name}
    assert Scale.from_config({"factor": 5.0}).factor == 5.0


def test_dense_output_shape_follows_an_activation_that_changes_it():
    layer = tidu.nn.Dense(8, activation="glu")
    assert layer.compute_output_shape((None, 5)) == (None, 4)
    layer(tidu.ones(2, 5))
    assert layer(tidu.ones(3, 5)).shape == (3, 4) == (3, *layer.compute_output_shape((None, 5))[1:])
