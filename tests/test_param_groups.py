"""PyTorch-style parameter groups: per-group lr and weight decay, against torch.optim."""

import numpy as np
import pytest
import torch

import tidu
import tidu.nn as nn
import tidu.optim as O


def _pair(seed=0):
    tidu.manual_seed(seed)
    a, b = nn.Linear(4, 3), nn.Linear(3, 2)
    ta, tb = torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)
    with torch.no_grad():
        for ours, theirs in ((a, ta), (b, tb)):
            theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    return a, b, ta, tb


def _run(a, b, opt, ta, tb, topt, steps=4, atol=1e-6):
    rng = np.random.default_rng(1)
    for _ in range(steps):
        x = rng.normal(size=(6, 4)).astype(np.float32)
        opt.zero_grad()
        (b(tidu.relu(a(tidu.tensor(x)))) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        (tb(torch.relu(ta(torch.tensor(x)))) ** 2).mean().backward()
        topt.step()
    for ours, theirs in ((a, ta), (b, tb)):
        np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                   rtol=1e-5, atol=atol)
        np.testing.assert_allclose(ours.bias.numpy(), theirs.bias.detach().numpy(),
                                   rtol=1e-5, atol=atol)


def test_two_group_sgd_with_momentum_matches_torch():
    a, b, ta, tb = _pair()
    opt = O.SGD([{"params": a.parameters()},
                 {"params": b.parameters(), "lr": 0.01, "weight_decay": 0.1}],
                lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": ta.parameters()},
                            {"params": tb.parameters(), "lr": 0.01, "weight_decay": 0.1}],
                           lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, 0.1]
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    _run(a, b, opt, ta, tb, topt)


def test_two_group_adam_matches_torch():
    a, b, ta, tb = _pair(1)
    opt = O.Adam([{"params": a.parameters(), "weight_decay": 0.01},
                  {"params": b.parameters(), "lr": 0.003}], lr=0.01, epsilon=1e-8)
    topt = torch.optim.Adam([{"params": ta.parameters(), "weight_decay": 0.01},
                             {"params": tb.parameters(), "lr": 0.003}], lr=0.01, eps=1e-8)
    # tidu's Adam adds epsilon to sqrt(v) before the bias correction (Keras's epsilon hat),
    # torch after it: the weights agree to about 1e-5 where gradients are tiny
    _run(a, b, opt, ta, tb, topt, atol=2e-5)


def test_setting_a_group_lr_changes_the_next_step_as_in_torch():
    a, b, ta, tb = _pair(2)
    opt = O.SGD([{"params": a.parameters()}, {"params": b.parameters()}], lr=0.1)
    topt = torch.optim.SGD([{"params": ta.parameters()}, {"params": tb.parameters()}], lr=0.1)
    _run(a, b, opt, ta, tb, topt, steps=2)
    opt.param_groups[1]["lr"] = 0.0
    topt.param_groups[1]["lr"] = 0.0
    before = b.weight.numpy().copy()
    _run(a, b, opt, ta, tb, topt, steps=2)
    np.testing.assert_array_equal(b.weight.numpy(), before)


def test_single_group_api_is_one_group():
    w = tidu.tensor([1.0], requires_grad=True)
    opt = O.SGD([w], lr=0.1)
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["params"] == [w]
    opt.param_groups[0]["lr"] = 0.5
    assert opt.learning_rate == 0.5 and opt.lr == 0.5
    opt.learning_rate = 0.25
    assert opt.param_groups[0]["lr"] == 0.25
    keras = O.SGD(learning_rate=0.2)  # Keras style: one group, parameters attached later
    keras.build([w])
    assert keras.param_groups[0]["params"] == [w] and keras.param_groups[0]["lr"] == 0.2


def test_state_dict_restores_group_rates():
    a, b, *_ = _pair()
    opt = O.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.01}], lr=0.1)
    opt.param_groups[0]["lr"] = 0.05
    sd = opt.state_dict()
    fresh = O.SGD([{"params": a.parameters()}, {"params": b.parameters()}], lr=0.3)
    fresh.load_state_dict(sd)
    assert [g["lr"] for g in fresh.param_groups] == [0.05, 0.01]
    one = O.SGD(a.parameters() + b.parameters(), lr=0.3)
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        one.load_state_dict(sd)


def test_bad_groups_are_named():
    a, b, *_ = _pair()
    with pytest.raises(ValueError, match="group 1 must have 'params'.*per-group \\['momentum'\\]"):
        O.SGD([{"params": a.parameters()}, {"params": b.parameters(), "momentum": 0.5}])
    with pytest.raises(ValueError, match="group 0.*learning_rate must be a number"):
        O.SGD([{"params": a.parameters(), "lr": -1.0}])
    opt = O.SGD([{"params": a.parameters()}], lr=0.1)
    opt.param_groups[0]["lr"] = "fast"
    a.weight.grad = tidu.ones(*a.weight.shape)
    with pytest.raises(ValueError, match="param_groups\\[0\\].*learning_rate.*'fast'"):
        opt.step()


def test_add_param_group_matches_torch():
    a, b, ta, tb = _pair(3)
    opt = O.SGD(a.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(ta.parameters(), lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b.parameters(), "lr": 0.03})
    topt.add_param_group({"params": tb.parameters(), "lr": 0.03})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.03]
    assert len(opt.params) == 4 and len(opt.state_dict()["state"]) == 4
    _run(a, b, opt, ta, tb, topt)
    with pytest.raises(ValueError, match="parameter 0 of the new group is already in"):
        opt.add_param_group({"params": [a.weight]})
    empty = O.SGD(lr=0.2)  # Keras style, no parameters yet: the group becomes the first
    empty.learning_rate = 0.25
    empty.add_param_group({"params": a.parameters()})
    assert len(empty.param_groups) == 1 and empty.param_groups[0]["lr"] == 0.25
