"""tidu.optim.lr_scheduler against torch.optim.lr_scheduler, step by step."""

import numpy as np
import pytest
import torch

import tidu
import tidu.optim as O
from tidu.optim import lr_scheduler as S


def _optimizers(lrs=(0.1, 0.02), momentum=0.9):
    ours_p = [tidu.tensor([1.0], requires_grad=True) for _ in lrs]
    theirs_p = [torch.zeros(1, requires_grad=True) for _ in lrs]
    ours = O.SGD([{"params": [p], "lr": lr} for p, lr in zip(ours_p, lrs)], lr=lrs[0],
                 momentum=momentum)
    theirs = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(theirs_p, lrs)],
                             lr=lrs[0], momentum=momentum)
    return ours, ours_p, theirs, theirs_p


def _step(opt, params, torch_opt, torch_params):
    for p in params:
        p.grad = tidu.ones(1)
    opt.step()
    for p in torch_params:
        p.grad = torch.ones(1)
    torch_opt.step()


CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 6], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=20)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=20, anneal_strategy="linear",
                        three_phase=True, pct_start=0.25)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rates_match_torch(name, kwargs):
    opt, ps, topt, tps = _optimizers()
    sched = getattr(S, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(20 if name == "OneCycleLR" else 15):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-10)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                                   [g["lr"] for g in topt.param_groups], rtol=1e-10)
        if name == "OneCycleLR":
            np.testing.assert_allclose(opt.momentum, topt.param_groups[0]["momentum"],
                                       rtol=1e-10)
        _step(opt, ps, topt, tps)
        sched.step()
        tsched.step()
    if name == "OneCycleLR":
        with pytest.raises(ValueError, match="more than total_steps=20"):
            sched.step()


def test_scheduler_drives_the_update():
    w = tidu.tensor([0.0], requires_grad=True)
    opt = O.SGD([w], lr=1.0)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = tidu.ones(1)
        opt.step()
        sched.step()
    assert w.tolist() == [-(1.0 + 0.5 + 0.25)] and opt.learning_rate == 0.125


@pytest.mark.parametrize("kwargs", [
    dict(mode="min", factor=0.5, patience=2),
    dict(mode="max", factor=0.1, patience=1, threshold=0.1, threshold_mode="abs", cooldown=2,
         min_lr=[0.001, 0.0005]),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    opt, ps, topt, tps = _optimizers()
    sched = S.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.93, 0.94, 0.92, 0.91, 0.99, 0.97, 0.98, 0.96, 0.5, 0.6, 0.7,
               0.8, 0.85, 0.84, 0.83]
    for m in metrics:
        _step(opt, ps, topt, tps)
        sched.step(m)
        tsched.step(m)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
    assert sched.get_last_lr() != [0.1, 0.02]  # it did reduce


def test_state_dict_resumes():
    opt, *_ = _optimizers()
    sched = S.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    opt2, *_ = _optimizers()
    sched2 = S.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_bad_arguments_are_named():
    opt, *_ = _optimizers()
    with pytest.raises(ValueError, match="StepLR: step_size must be an int >= 1, got 0"):
        S.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="max_lr has 3 values.*2 parameter groups"):
        S.OneCycleLR(opt, max_lr=[1, 2, 3], total_steps=5)
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum"):
        S.OneCycleLR(O.SGD([tidu.tensor([1.0])], lr=0.1), max_lr=1.0, total_steps=5)
    with pytest.raises(TypeError, match="follows the schedule"):
        S.StepLR(O.SGD([tidu.tensor([1.0])], lr=O.StepDecay(0.1, 2)), step_size=1)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'up'"):
        S.ReduceLROnPlateau(opt, mode="up")
