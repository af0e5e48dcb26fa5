"""The optimizer's compiled plan (finite.CompiledPlan): after one general step the next ones
take a short path; whatever changes in between (a NaN, a moved or frozen parameter, a new
learning rate, weight decay, clipping, loaded state) gives the same result as the general
path, which the NumPy rules (numba off) give bit for bit."""

import numpy as np
import pytest

import tidu
import tidu.accel
from tidu import optim
from tidu.optim import NonFiniteUpdateError

pytest.importorskip("numba", reason="numba (the optional accelerator) not installed")


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [tidu.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
            for s in ((6, 4), (4,), (3,))]


def _backward(params, scale=1.0):
    for p in params:
        p.grad = None
    loss = sum(((p * p * p).sum() for p in params), tidu.tensor(0.0))
    (loss * scale).backward()


def _run(cls, kw, accel_on, events):
    params = _params()
    opt = cls(params, **kw)
    with tidu.accel.disabled() if not accel_on else _Nothing():
        for step in range(8):
            _backward(params)
            event = events.get(step)
            if event is not None:
                event(opt, params)
            opt.step()
            if step == 1 and accel_on:
                assert opt._plan is not None  # the plan is in use from here on
    return [p.numpy().copy() for p in params], [
        {k: a.copy() for k, a in s.items()} for s in opt._state]


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _move(opt, params):
    params[0].data = params[0].data.copy()  # a new array: state and buffers follow it


def _freeze(opt, params):
    params[1].requires_grad = False


def _lr(opt, params):
    opt.learning_rate = 0.05


def _decay(opt, params):
    opt.weight_decay = 0.1


def _clip(opt, params):
    opt.clipnorm = 0.5


def _load(opt, params):
    opt.load_state_dict(opt.state_dict())  # state arrays replaced by loaded copies


EVENTS = {"nothing": {}, "move": {3: _move}, "freeze": {3: _freeze}, "lr": {3: _lr},
          "decay": {3: _decay}, "clip": {4: _clip}, "load": {3: _load}}


@pytest.mark.parametrize("event", sorted(EVENTS))
@pytest.mark.parametrize("cls,kw", [(optim.SGD, {"lr": 0.02}),
                                    (optim.SGD, {"lr": 0.01, "momentum": 0.9}),
                                    (optim.RMSprop, {"lr": 0.01}), (optim.Adam, {"lr": 0.01})],
                         ids=["sgd", "momentum", "rmsprop", "adam"])
def test_the_plan_gives_the_general_path_bits(cls, kw, event):
    w_fast, s_fast = _run(cls, kw, True, EVENTS[event])
    w_ref, s_ref = _run(cls, kw, False, EVENTS[event])
    for a, b in zip(w_fast, w_ref):
        np.testing.assert_array_equal(a, b)
    for sa, sb in zip(s_fast, s_ref):
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k])


def test_a_nan_after_the_plan_is_refused_with_nothing_changed():
    params = _params()
    opt = optim.Adam(params, lr=0.01)
    for _ in range(3):
        _backward(params)
        opt.step()
    assert opt._plan is not None
    before = [p.numpy().copy() for p in params]
    state = [{k: a.copy() for k, a in s.items()} for s in opt._state]
    _backward(params)
    params[2].grad.data[1] = np.nan
    with pytest.raises(NonFiniteUpdateError, match="parameter 2"):
        opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.numpy(), b)
    for s, b in zip(opt._state, state):
        for k in s:
            np.testing.assert_array_equal(s[k], b[k])
    assert opt.iterations == 3


def test_a_step_through_the_plan_stamps_the_parameters():
    params = _params()
    opt = optim.SGD(params, lr=0.1)
    _backward(params)
    opt.step()
    y = params[0] * 2  # recorded before the next step
    _backward(params)
    v = params[0].version
    opt.step()  # through the plan
    assert params[0].version == v + 1
    with pytest.raises(Exception, match="modified|version|in place|changed"):
        y.sum().backward()
