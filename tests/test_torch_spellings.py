"""PyTorch's spellings on tidu: dim/keepdim, Tensor methods, nn containers, F and loss modules,
each checked against torch (values, gradients, return types)."""

import numpy as np
import pytest
import torch

import tidu
import tidu.nn as nn
import tidu.nn.functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))


def pair(x=X):
    return tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def check(out_t, out_p, a, b, atol=1e-10):
    """Same values and, after a random-weighted sum, the same input gradients."""
    np.testing.assert_allclose(out_t.numpy(), out_p.detach().numpy(), atol=atol)
    w = RNG.standard_normal(out_p.shape)
    (out_t * tidu.tensor(w)).sum().backward()
    (out_p * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol)


REDUCTIONS = [
    ("sum", {"dim": 1}), ("sum", {"dim": (0, 2), "keepdim": True}), ("mean", {"dim": -1}),
    ("mean", {"dim": 1, "keepdim": True}), ("var", {"dim": 1}), ("std", {"dim": 2}),
    ("var", {"dim": 1, "unbiased": False}), ("std", {"dim": 0, "correction": 0}),
    ("prod", {"dim": 1}), ("logsumexp", {"dim": 2, "keepdim": True}),
    ("norm", {"dim": 1}), ("cumsum", {"dim": 1}), ("cumprod", {"dim": 2}),
    ("softmax", {"dim": 1}), ("log_softmax", {"dim": -1}), ("amax_like_max_nodim", {}),
]


@pytest.mark.parametrize("name,kw", REDUCTIONS, ids=[f"{n}-{k}" for n, k in REDUCTIONS])
def test_reductions_take_dim_and_keepdim_like_torch(name, kw):
    a, b = pair()
    if name == "amax_like_max_nodim":
        check(a.max(), b.max(), a, b)
        return
    check(getattr(a, name)(**kw), getattr(b, name)(**kw), a, b)
    a2, b2 = pair()
    check(getattr(tidu, name)(a2, **kw), getattr(torch, name)(b2, **kw), a2, b2)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_give_values_and_indices_like_torch(name, keepdim):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])  # ties: the gradient goes to one element
    a, b = pair(x)
    got, want = getattr(a, name)(dim=1, keepdim=keepdim), getattr(b, name)(dim=1, keepdim=keepdim)
    assert isinstance(got, tuple) and got._fields == ("values", "indices")
    vals, idx = got
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), want.indices.numpy())
    check(vals, want.values, a, b)
    a2, _ = pair(x)
    fn = getattr(tidu, name)
    assert fn(a2, dim=0).values.shape == (3,)


def test_max_with_axis_keeps_tidus_values_only_result():
    x = np.array([[1.0, 3.0, 3.0]])
    a = tidu.tensor(x, requires_grad=True)
    out = a.max(axis=1)
    assert isinstance(out, tidu.Tensor)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[0.0, 0.5, 0.5]])  # ties share the gradient


def test_var_with_axis_keeps_population_variance_and_dim_is_unbiased():
    a = tidu.tensor(X)
    np.testing.assert_allclose(a.var(axis=1).numpy(), X.var(axis=1))
    np.testing.assert_allclose(a.var(dim=1).numpy(), torch.tensor(X).var(dim=1).numpy())
    np.testing.assert_allclose(a.std(dim=1, unbiased=True).numpy(),
                               torch.tensor(X).std(dim=1, unbiased=True).numpy())


@pytest.mark.parametrize("name", ["argmax", "argmin", "any", "all"])
def test_index_and_truth_reductions_take_dim(name):
    x = X if name.startswith("arg") else X > 0
    t, p = tidu.tensor(x), torch.tensor(x)
    for kw in ({"dim": 1}, {"dim": 2, "keepdim": True}):
        got, want = getattr(t, name)(**kw), getattr(p, name)(**kw)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_median_with_dim_matches_torch():
    x = RNG.standard_normal((4, 6))
    got, want = tidu.median(tidu.tensor(x), dim=1), torch.median(torch.tensor(x), dim=1)
    np.testing.assert_allclose(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def test_both_spellings_at_once_are_refused():
    t = tidu.tensor(X)
    with pytest.raises(TypeError, match="axis= and dim="):
        t.sum(axis=1, dim=1)
    with pytest.raises(TypeError, match="keepdims= and keepdim="):
        tidu.mean(t, 1, keepdims=True, keepdim=True)
    with pytest.raises(TypeError, match="both axis= and dim="):
        tidu.sum(t, 1, dim=1)  # axis given positionally


def test_shape_ops_take_dim_like_torch():
    a, b = pair()
    check(tidu.cat([a, a * 2], dim=1), torch.cat([b, b * 2], dim=1), a, b)
    a, b = pair()
    check(tidu.stack([a, a], dim=-1), torch.stack([b, b], dim=-1), a, b)
    a, b = pair()
    check(a.unsqueeze(dim=1), b.unsqueeze(dim=1), a, b)
    a, b = pair(X[:, :1])
    check(a.squeeze(dim=1), b.squeeze(dim=1), a, b)
    a, b = pair()
    check(a.flatten(start_dim=1), b.flatten(start_dim=1), a, b)
    a, b = pair()
    check(a.flatten(0, 1), b.flatten(0, 1), a, b)
    a, b = pair()
    check(tidu.flatten(a, start_dim=0, end_dim=1), torch.flatten(b, start_dim=0, end_dim=1), a, b)
    a, b = pair()
    check(a.transpose(0, 2), b.transpose(0, 2), a, b)
    a, b = pair()
    check(a.transpose(dim0=1, dim1=2), b.transpose(dim0=1, dim1=2), a, b)
    a, b = pair()
    check(a.permute(2, 0, 1), b.permute(2, 0, 1), a, b)
    a, b = pair()
    check(a.permute(dims=(1, 0, 2)), b.permute(dims=(1, 0, 2)), a, b)
    a, b = pair()
    check(tidu.flip(a, dims=(1,)), torch.flip(b, dims=(1,)), a, b)


def test_tensor_spellings():
    a, b = pair()
    check(a.view(3, 20), b.view(3, 20), a, b)
    a, b = pair()
    check(a.view((-1, 5)), b.view((-1, 5)), a, b)
    t, p = tidu.tensor(X), torch.tensor(X)
    assert t.size() == tuple(p.size()) and t.size(1) == p.size(1) and t.size(-1) == 5
    assert t.size == X.size  # NumPy's element count still works
    assert t.numel() == p.numel() and t.dim() == p.dim() == 3
    assert t.contiguous() is t
    assert t.long().dtype == np.int64 and t.int().dtype == np.int32 and t.bool().dtype == bool
    np.testing.assert_array_equal(t.long().numpy(), p.long().numpy())
    np.testing.assert_array_equal(t.bool().numpy(), p.bool().numpy())
    assert t.to("float32").dtype == np.float32 and t.to(tidu.float32).dtype == np.float32
    assert t.to("cpu") is t and t.to(t) is t
    assert t.type() == "float64" and t.type("float32").dtype == np.float32
    assert t.float().dtype == np.float32 and t.float().double().dtype == np.float64
    if not tidu.backend.cuda_available():  # without CuPy and a GPU, 'cuda' says what is missing
        with pytest.raises(tidu.errors.DeviceError, match="cuda"):
            t.to("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        t.to("tpu:0")


def test_clone_copies_and_keeps_the_gradient():
    a, b = pair()
    c = a.clone()
    assert c.numpy() is not a.numpy() and not np.shares_memory(c.numpy(), a.numpy())
    check(c * 3, b.clone() * 3, a, b)


def test_expand_like_torch():
    x = RNG.standard_normal((3, 1))
    a, b = pair(x)
    check(a.expand(2, 3, 4), b.expand(2, 3, 4), a, b)
    a, b = pair(x)
    check(a.expand(-1, 5), b.expand(-1, 5), a, b)


def test_from_numpy_shares_memory_and_dtype():
    arr = np.arange(6, dtype=np.int32).reshape(2, 3)
    t, p = tidu.from_numpy(arr), torch.from_numpy(arr.copy())
    assert t.dtype == arr.dtype and t.shape == tuple(p.shape)
    arr[0, 0] = 42
    assert t.numpy()[0, 0] == 42
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tidu.from_numpy([1, 2])


# ----------------------------------------------------------------------------- containers
def test_sequential_takes_modules_positionally_or_as_a_list():
    layers = [nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)]
    pos, lst = nn.Sequential(*layers), nn.Sequential(layers)
    assert [n for n, _ in pos.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = tidu.tensor(RNG.standard_normal((5, 4)))
    np.testing.assert_allclose(pos(x).numpy(), lst(x).numpy())
    single = nn.Sequential(nn.Linear(2, 1))
    assert len(single) == 1 and len(single.parameters()) == 2


def test_sequential_matches_torch():
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    net.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = RNG.standard_normal((5, 4))
    a, b = tidu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    check(net(a), tm(b), a, b)
    for (n1, p1), (n2, p2) in zip(net.named_parameters(), tm.named_parameters()):
        assert n1 == n2
        np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), atol=1e-10)


def test_module_dict_registers_its_modules():
    class HeadsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 3)})
            self.heads["b"] = nn.Linear(2, 1)

        def forward(self, x):
            return self.heads["a"](x).sum() + self.heads["b"](x).sum()

    net = HeadsNet()
    assert list(net.heads) == ["a", "b"] and "b" in net.heads and len(net.heads) == 2
    assert list(net.state_dict()) == ["heads.a.weight", "heads.a.bias", "heads.b.weight",
                                      "heads.b.bias"]
    assert len(net.parameters()) == 4
    net(tidu.ones((1, 2))).backward()
    assert all(p.grad is not None for p in net.parameters())
    popped = net.heads.pop("b")
    assert isinstance(popped, nn.Linear) and len(net.parameters()) == 2
    with pytest.raises(KeyError, match="no module under key 'c'"):
        net.heads["c"]
    with pytest.raises(TypeError, match="can only hold Modules"):
        net.heads["c"] = 3
    with pytest.raises(KeyError, match="hide the attribute"):
        net.heads["training"] = nn.ReLU()


def test_parameter_list_and_module_list_register_their_contents():
    class ParamsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([np.ones((2, 2)), tidu.zeros((2,))])
            self.blocks = nn.ModuleList([nn.Linear(2, 2)])

    net = ParamsNet()
    net.ws.append(tidu.ones((3,)))
    assert [n for n, _ in net.named_parameters()] == [
        "ws.0", "ws.1", "ws.2", "blocks.0.weight", "blocks.0.bias"]
    assert all(isinstance(p, nn.Parameter) for p in net.ws)
    assert list(net.state_dict())[:3] == ["ws.0", "ws.1", "ws.2"]
    net.ws[1] = tidu.ones((4,))
    assert net.ws[1].shape == (4,) and net.parameters()[1] is net.ws[1]


# ----------------------------------------------------------------------------- functional
ACTIVATIONS = [("relu", {}), ("gelu", {}), ("silu", {}), ("sigmoid", {}), ("tanh", {}),
               ("softmax", {"dim": 1}), ("log_softmax", {"dim": 1})]


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_functional_activations_match_torch(name, kw):
    a, b = pair()
    check(getattr(F, name)(a, **kw), getattr(torch.nn.functional, name)(b, **kw), a, b)


def test_functional_softmax_takes_dim_positionally():
    a, b = pair()
    check(F.softmax(a, 2), torch.nn.functional.softmax(b, 2), a, b)


def test_functional_linear_matches_torch():
    x, w, bias = RNG.standard_normal((5, 4)), RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    ts = [tidu.tensor(v, requires_grad=True) for v in (x, w, bias)]
    ps = [torch.tensor(v, requires_grad=True) for v in (x, w, bias)]
    out_t, out_p = F.linear(*ts), torch.nn.functional.linear(*ps)
    np.testing.assert_allclose(out_t.numpy(), out_p.detach().numpy(), atol=1e-12)
    out_t.sum().backward()
    out_p.sum().backward()
    for t, p in zip(ts, ps):
        np.testing.assert_allclose(t.grad.numpy(), p.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(F.linear(ts[0], ts[1]).numpy(),
                               torch.nn.functional.linear(ps[0], ps[1]).detach().numpy())


def test_functional_dropout():
    x = tidu.ones((1000,))
    tidu.manual_seed(0)
    out = F.dropout(x, p=0.25)
    np.testing.assert_allclose(np.unique(out.numpy()), [0.0, 1.0 / 0.75], rtol=1e-6)
    assert 0.2 < float((out.numpy() == 0).mean()) < 0.3
    assert F.dropout(x, 0.5, training=False) is x
    assert float(F.dropout(x, 1.0).sum()) == 0.0
    with pytest.raises(ValueError, match="p must be a probability"):
        F.dropout(x, 1.5)


REGRESSION = [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.5}),
              ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
              ("huber_loss", {})]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", REGRESSION, ids=[f"{n}-{k}" for n, k in REGRESSION])
def test_regression_losses_match_torch(name, kw, reduction):
    y = RNG.standard_normal(X.shape)
    a, b = pair()
    got = getattr(F, name)(a, tidu.tensor(y), reduction=reduction, **kw)
    want = getattr(torch.nn.functional, name)(b, torch.tensor(y), reduction=reduction, **kw)
    check(got, want, a, b)


# ----------------------------------------------------------------------------- loss modules
def _classes(n=6, c=4):
    return RNG.standard_normal((n, c)), RNG.integers(0, c, n)


LOSS_MODULES = [
    ("CrossEntropyLoss", {}, "classes"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "reduction": "sum"}, "classes"),
    ("CrossEntropyLoss", {"weight": "w", "ignore_index": 1}, "classes"),
    ("NLLLoss", {"reduction": "none"}, "logprobs"),
    ("MSELoss", {}, "same"), ("L1Loss", {"reduction": "sum"}, "same"),
    ("SmoothL1Loss", {"beta": 0.3}, "same"), ("HuberLoss", {"delta": 2.0}, "same"),
    ("BCELoss", {}, "probs"), ("BCEWithLogitsLoss", {"pos_weight": "pw"}, "binary"),
]


@pytest.mark.parametrize("cls,kw,kind", LOSS_MODULES,
                         ids=[f"{c}-{sorted(k)}" for c, k, _ in LOSS_MODULES])
def test_loss_modules_match_torch(cls, kw, kind):
    x, t = _classes()
    if kind == "logprobs":
        x = torch.log_softmax(torch.tensor(x), 1).numpy()
    elif kind in ("same", "binary", "probs"):
        t = RNG.random(x.shape) if kind != "same" else RNG.standard_normal(x.shape)
        if kind == "probs":
            x = 1 / (1 + np.exp(-x))
    targs = {k: (np.array([1.0, 2.0, 0.5, 1.0]) if v in ("w", "pw") else v)
             for k, v in kw.items()}
    pargs = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in targs.items()}
    crit, ref = getattr(nn, cls)(**targs), getattr(torch.nn, cls)(**pargs)
    assert isinstance(crit, nn.Module)
    a, b = pair(x)
    check(crit(a, tidu.tensor(t)), ref(b, torch.tensor(t)), a, b)


def test_loss_module_refuses_a_bad_reduction():
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")


def test_cross_entropy_and_nll_take_input_then_target():
    x, t = _classes()
    got = F.cross_entropy(tidu.tensor(x), t)
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(float(got), float(want))
    logp = torch.log_softmax(torch.tensor(x), 1)
    np.testing.assert_allclose(float(F.nll_loss(tidu.tensor(logp.numpy()), t)),
                               float(torch.nn.functional.nll_loss(logp, torch.tensor(t))))


def test_max_min_of_two_tensors_are_elementwise_like_torch():
    y = RNG.standard_normal(X.shape)
    for name in ("max", "min"):
        a, b = pair()
        check(getattr(tidu, name)(a, tidu.tensor(y)), getattr(torch, name)(b, torch.tensor(y)),
              a, b)


def test_bound_methods_of_the_extended_ops_take_dim():
    a, b = pair()
    got, want = a.sort(dim=1, descending=True), b.sort(dim=1, descending=True)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    check(got.values, want.values, a, b)
    a, b = pair()
    got, want = a.topk(2, dim=1), b.topk(2, dim=1)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    check(got.values, want.values, a, b)
    a, b = pair()
    check(a.chunk(2, dim=1)[1], b.chunk(2, dim=1)[1], a, b)
    a, b = pair()
    check(a.unbind(dim=2)[3], b.unbind(dim=2)[3], a, b)
    a, b = pair()
    check(a.roll(1, dims=1), b.roll(1, dims=1), a, b)


def test_more_tensor_methods_match_torch():
    y = RNG.standard_normal(X.shape)
    m = RNG.standard_normal((5, 2))
    cases = [
        lambda v, w, mod: v.view_as(w), lambda v, w, mod: v.reshape_as(w.reshape(-1)),
        lambda v, w, mod: v[:, :1].expand_as(w), lambda v, w, mod: v.add(w, alpha=2),
        lambda v, w, mod: v.sub(w, alpha=0.5), lambda v, w, mod: v.mul(w).div(w + 10),
        lambda v, w, mod: v.pow(2).neg(), lambda v, w, mod: v.clamp(min=-0.5, max=0.5),
        lambda v, w, mod: v.clamp(max=0.1), lambda v, w, mod: v.amax(dim=1),
        lambda v, w, mod: v.amin(dim=(0, 2), keepdim=True),
        lambda v, w, mod: v[0].t(), lambda v, w, mod: v[0].mm(mod.tensor(m)),
        lambda v, w, mod: v.bmm(mod.tensor(np.stack([m] * 3))),
        lambda v, w, mod: v.cpu() * 2,
    ]
    for f in cases:
        a, b = pair()
        check(f(a, tidu.tensor(y), tidu), f(b, torch.tensor(y), torch), a, b)


def test_tensor_facts_and_constructors_like_torch():
    t, p = tidu.tensor(X), torch.tensor(X)
    assert t.is_floating_point() and not t.long().is_floating_point()
    assert t.nelement() == p.nelement() and t.element_size() == p.element_size()
    assert t.half().dtype == np.float16 and t.type_as(t.long()).dtype == np.int64
    z, o = t.new_zeros(2, 3), t.new_ones((4,), dtype="int32")
    assert z.shape == (2, 3) and z.dtype == np.float64 and float(z.sum()) == 0.0
    assert o.dtype == np.int32 and o.tolist() == [1, 1, 1, 1]
    assert t.new_tensor([1, 2]).dtype == np.float64
    with pytest.raises(ValueError, match="mm: mat2 must have 2 axes"):
        t[0].mm(t)
    with pytest.raises(ValueError, match="at most 2 axes"):
        t.t()


def test_sequential_of_an_ordered_dict_names_its_layers_like_torch(tmp_path):
    from collections import OrderedDict

    spec = [("fc1", (4, 3)), ("act", None), ("fc2", (3, 2))]
    make = {"tidu": lambda s: nn.Linear(*s) if s else nn.ReLU(),
            "torch": lambda s: torch.nn.Linear(*s) if s else torch.nn.ReLU()}
    net = nn.Sequential(OrderedDict((n, make["tidu"](s)) for n, s in spec))
    ref = torch.nn.Sequential(OrderedDict((n, make["torch"](s)) for n, s in spec)).double()
    assert list(net.state_dict()) == list(ref.state_dict())
    net.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = RNG.standard_normal((5, 4))
    np.testing.assert_allclose(net(tidu.tensor(x)).numpy(),
                               ref(torch.tensor(x)).detach().numpy(), atol=1e-12)
    assert net[1] is net.act and len(net) == 3
    again = nn.Sequential.from_config(net.get_config())
    assert list(again.state_dict()) == list(net.state_dict())
    net.pop()
    assert list(net.state_dict()) == ["fc1.weight", "fc1.bias"]
    with pytest.raises(ValueError, match="layer name 'fc1' must be a new"):
        net.add(nn.ReLU(), name="fc1")
