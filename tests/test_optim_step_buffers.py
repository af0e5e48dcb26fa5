"""The copy-free finite check and optimizer state that follows moved parameters.

A checked step writes the new state into spare arrays and swaps them in only when every
array is finite (tidu.optim.finite); these tests hold it to the unchecked in-place rules bit
for bit, check that a refused step after many swaps leaves everything as it was, and that
state made on the CPU follows a model moved to another device afterwards (the stand-in
device 'fake' of tests/_device_double.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from _device_double import DEVICES, host  # registers the 'fake' device
from tidu import backend, nn
from tidu.optim.optimizer import NonFiniteUpdateError

RULES = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("AdamW", {}), ("Adagrad", {}),
]


def run(name, kw, check, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    ps = [nn.Parameter(rng.standard_normal(s).astype(np.float32)) for s in [(7, 5), (5,)]]
    opt = getattr(tidu.optim, name)(ps, lr=0.01, **kw)
    opt.check_finite = check
    for _ in range(steps):
        for p in ps:
            p.grad = tidu.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    return ps, opt


@pytest.mark.parametrize("name, kw", RULES)
def test_checked_steps_equal_the_in_place_rules_bit_for_bit(name, kw):
    ps, opt = run(name, kw, check=True)
    qs, ref = run(name, kw, check=False)
    for p, q in zip(ps, qs):
        assert np.array_equal(p.data, q.data)
    for s, r in zip(opt.state_dict()["state"].values(), ref.state_dict()["state"].values()):
        for k in s:
            assert np.array_equal(s[k], r[k]), k


@pytest.mark.parametrize("name, kw", RULES)
def test_a_refused_step_after_swaps_changes_nothing(name, kw):
    ps, opt = run(name, kw, check=True, steps=3)  # spares already swapped in and out
    before = [p.data.copy() for p in ps], opt.state_dict()
    ps[0].grad = tidu.tensor(np.ones(ps[0].shape, np.float32))
    ps[1].grad = tidu.tensor(np.full(ps[1].shape, np.nan, np.float32))
    with pytest.raises(NonFiniteUpdateError, match=r"parameter 1 of shape \(5,\).*gradient"):
        opt.step()
    for p, d in zip(ps, before[0]):
        assert np.array_equal(p.data, d)
    now = opt.state_dict()
    assert now["iterations"] == before[1]["iterations"] == 3
    for i, slots in before[1]["state"].items():
        for k, a in slots.items():
            assert np.array_equal(now["state"][i][k], a)
    # and the optimizer goes on exactly as one that never saw the bad step
    ps[1].grad = tidu.tensor(np.ones(ps[1].shape, np.float32))
    opt.step()
    qs, ref = run(name, kw, check=False, steps=3)
    for q in qs:
        q.grad = tidu.tensor(np.ones(q.shape, np.float32))
    ref.step()
    for p, q in zip(ps, qs):
        assert np.array_equal(p.data, q.data)


def test_loaded_state_is_used_not_a_stale_spare():
    ps, opt = run("Adam", {}, check=True, steps=2)
    saved = opt.state_dict()
    run_on = [p.data.copy() for p in ps]
    opt.step()  # moves the state on
    opt.load_state_dict(saved)
    for p, d in zip(ps, run_on):
        p.data[...] = d
    opt.step()
    qs, ref = run("Adam", {}, check=False, steps=2)
    for p, q in zip(ps, qs):
        q.grad = p.grad
    ref.step()
    for p, q in zip(ps, qs):
        assert np.array_equal(p.data, q.data)


def mlp():
    tidu.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def train(model, opt, x, y, steps):
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("dev", DEVICES)
def test_state_follows_a_model_moved_after_the_optimizer_was_made(dev, check):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)
    ref = mlp()
    ref_opt = tidu.optim.RMSprop(ref.parameters(), lr=0.01, momentum=0.9)
    train(ref, ref_opt, tidu.tensor(x), tidu.tensor(y), 4)

    model = mlp()
    opt = tidu.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9)
    opt.check_finite = check
    train(model, opt, tidu.tensor(x), tidu.tensor(y), 2)  # state made on the CPU
    model.to(dev)
    on = backend.device(dev)
    train(model, opt, tidu.tensor(x).to(dev), tidu.tensor(y).to(dev), 2)
    for slots in opt._state:
        assert all(backend.device_of(a) == on for a in slots.values())
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(host(p.data), q.data, rtol=1e-6, atol=1e-7)
