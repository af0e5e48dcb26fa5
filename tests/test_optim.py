"""tidu.optim: every optimizer against torch.optim (where the formulas coincide or map) and
against straight NumPy transcriptions of Keras 3's formulas, one-step golden values,
convergence on a parabola and on the Rosenbrock function, weight decay, clipping (against
torch.nn.utils), schedules (against torch.optim.lr_scheduler and the formulas), state_dict
round trips that resume bit-identically, and the errors users meet."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import tidu
import tidu.optim as O
from tidu.optim import schedules as S

SHAPES = [(), (3,), (2, 3)]


def make_params(shapes=SHAPES, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def make_grads(steps, shapes=SHAPES, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]


def run_tidu(factory, params0, grads):
    """Feed the same gradient sequence to a tidu optimizer; return the params after each step."""
    ps = [tidu.Tensor(p.copy(), requires_grad=True) for p in params0]
    opt = factory(ps)
    history = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = tidu.Tensor(g.copy())
        opt.step()
        history.append([p.data.copy() for p in ps])
    return history


def run_torch(factory, params0, grads):
    ps = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
    opt = factory(ps)
    history = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g.copy())
        opt.step()
        history.append([p.detach().numpy().copy() for p in ps])
    return history


def assert_histories_close(a, b, rtol=1e-11, atol=1e-13):
    assert len(a) == len(b)
    for step, (xs, ys) in enumerate(zip(a, b)):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")


# ----- against torch.optim (float64, 12 steps) -----
# Keras's epsilon sits inside the sqrt (RMSprop, Adagrad) or is "epsilon hat" (Adam): the
# formulas coincide with PyTorch's exactly when epsilon is 0; SGD's velocity v = -lr * buf.
TORCH_CASES = [
    ("sgd", lambda ps: O.SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd-momentum", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    ("sgd-nesterov", lambda ps: O.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    ("sgd-wd", lambda ps: O.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.1),
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("rmsprop", lambda ps: O.RMSprop(ps, lr=0.01, rho=0.8, epsilon=0.0),
     lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.8, eps=0.0)),
    ("rmsprop-momentum", lambda ps: O.RMSprop(ps, lr=0.01, momentum=0.7, epsilon=0.0),
     lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.7, eps=0.0)),
    ("rmsprop-centered", lambda ps: O.RMSprop(ps, lr=0.01, centered=True, epsilon=0.0,
                                              momentum=0.3, weight_decay=0.05),
     lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, centered=True, eps=0.0,
                                    momentum=0.3, weight_decay=0.05)),
    ("adam", lambda ps: O.Adam(ps, lr=0.01, beta_1=0.8, beta_2=0.95, epsilon=0.0),
     lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.95), eps=0.0)),
    ("adam-amsgrad-wd", lambda ps: O.Adam(ps, lr=0.01, amsgrad=True, epsilon=0.0,
                                          weight_decay=0.1),
     lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True, eps=0.0, weight_decay=0.1)),
    ("adamw", lambda ps: O.AdamW(ps, lr=0.01, weight_decay=0.05, epsilon=0.0),
     lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05, eps=0.0)),
    ("adamw-amsgrad", lambda ps: O.AdamW(ps, lr=0.02, weight_decay=0.5, epsilon=0.0,
                                         amsgrad=True),
     lambda ps: torch.optim.AdamW(ps, lr=0.02, weight_decay=0.5, eps=0.0, amsgrad=True)),
    ("adagrad", lambda ps: O.Adagrad(ps, lr=0.1, epsilon=0.0),
     lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    ("adagrad-wd", lambda ps: O.Adagrad(ps, lr=0.1, epsilon=0.0, initial_accumulator_value=0.5,
                                        weight_decay=0.2),
     lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.5, eps=0.0,
                                    weight_decay=0.2)),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_over_several_steps(name, ours, theirs):
    params0, grads = make_params(), make_grads(12)
    assert_histories_close(run_tidu(ours, params0, grads), run_torch(theirs, params0, grads))


def test_adam_default_epsilon_close_to_torch():
    # Keras's epsilon hat vs PyTorch's eps differ by the factor sqrt(1 - beta_2**t): tiny next
    # to sqrt(v) for unit-scale gradients.
    params0, grads = make_params(), make_grads(20)
    ours = run_tidu(lambda ps: O.Adam(ps, lr=0.01), params0, grads)
    theirs = run_torch(lambda ps: torch.optim.Adam(ps, lr=0.01, eps=1e-7), params0, grads)
    assert_histories_close(ours, theirs, rtol=1e-5, atol=1e-6)


# ----- against NumPy transcriptions of Keras 3's update_step (default epsilons) -----
def keras_sgd(w, gs, lr, momentum=0.0, nesterov=False):
    v, out = np.zeros_like(w), []
    for g in gs:
        if momentum:
            v = momentum * v - lr * g
            w = w + (momentum * v - lr * g if nesterov else v)
        else:
            w = w - lr * g
        out.append(w)
    return out


def keras_rmsprop(w, gs, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    v, m, a, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for g in gs:
        v = rho * v + (1 - rho) * g ** 2
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a ** 2 + epsilon
        else:
            denominator = v + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            m = momentum * m + increment
            w = w - m
        else:
            w = w - increment
        out.append(w)
    return out


def keras_adam(w, gs, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, wd=0.0):
    m, v, vh, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(gs, start=1):
        w = w - w * wd * lr  # Keras's (decoupled) weight decay, applied before the step
        alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g ** 2 - v) * (1 - beta_2)
        if amsgrad:
            vh = np.maximum(vh, v)
        w = w - m * alpha / (np.sqrt(vh if amsgrad else v) + epsilon)
        out.append(w)
    return out


def keras_adagrad(w, gs, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    acc, out = np.full_like(w, initial_accumulator_value), []
    for g in gs:
        acc = acc + g ** 2
        w = w - lr * g / np.sqrt(acc + epsilon)
        out.append(w)
    return out


KERAS_CASES = [
    ("sgd-momentum", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9),
     lambda w, gs: keras_sgd(w, gs, 0.05, 0.9)),
    ("sgd-nesterov", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
     lambda w, gs: keras_sgd(w, gs, 0.05, 0.9, True)),
    ("rmsprop", lambda ps: O.RMSprop(ps, lr=0.01), lambda w, gs: keras_rmsprop(w, gs, 0.01)),
    ("rmsprop-momentum-centered", lambda ps: O.RMSprop(ps, lr=0.01, momentum=0.5, centered=True,
                                                       epsilon=1e-3),
     lambda w, gs: keras_rmsprop(w, gs, 0.01, momentum=0.5, centered=True, epsilon=1e-3)),
    ("adam", lambda ps: O.Adam(ps, lr=0.01), lambda w, gs: keras_adam(w, gs, 0.01)),
    ("adam-amsgrad", lambda ps: O.Adam(ps, lr=0.01, amsgrad=True, epsilon=1e-3),
     lambda w, gs: keras_adam(w, gs, 0.01, amsgrad=True, epsilon=1e-3)),
    ("adamw", lambda ps: O.AdamW(ps, lr=0.01), lambda w, gs: keras_adam(w, gs, 0.01, wd=0.004)),
    ("adagrad", lambda ps: O.Adagrad(ps, lr=0.1), lambda w, gs: keras_adagrad(w, gs, 0.1)),
]


@pytest.mark.parametrize("name,ours,reference", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_matches_keras_formulas(name, ours, reference):
    params0, grads = make_params(), make_grads(15)
    history = run_tidu(ours, params0, grads)
    expected = [reference(params0[i], [gs[i] for gs in grads]) for i in range(len(SHAPES))]
    for step, xs in enumerate(history):
        for i, x in enumerate(xs):
            np.testing.assert_allclose(x, expected[i][step], rtol=1e-12, atol=1e-14)


# ----- one-step golden values (Keras's documented examples, loss w**2 / 2 so g = w) -----
@pytest.mark.parametrize("factory,w0,expected", [
    (lambda ps: O.SGD(ps, lr=0.1), 1.0, 0.9),
    (lambda ps: O.SGD(ps, lr=0.1, momentum=0.9), 1.0, 0.9),
    (lambda ps: O.RMSprop(ps, lr=0.1), 10.0, 10 - 1 / math.sqrt(10 + 1e-7)),  # Keras: 9.683772
    (lambda ps: O.Adam(ps, lr=0.1), 10.0, 10.0 - 0.1 * 1.0 / (1.0 + 1e-7 / np.sqrt(0.1))),
    (lambda ps: O.AdamW(ps, lr=0.1), 10.0, 9.996 - 0.1 * 1.0 / (1.0 + 1e-7 / np.sqrt(0.1))),
    (lambda ps: O.Adagrad(ps, lr=0.1), 1.0, 1.0 - 0.1 / math.sqrt(1.1 + 1e-7)),
], ids=["sgd", "sgd-momentum", "rmsprop", "adam", "adamw", "adagrad"])
def test_one_step_golden(factory, w0, expected):
    w = tidu.tensor(np.array([w0]), requires_grad=True)
    opt = factory([w])
    (w * w / 2).sum().backward()
    opt.step()
    assert opt.iterations == 1
    np.testing.assert_allclose(w.numpy(), [expected], rtol=1e-12)


def test_sgd_momentum_second_step_is_larger():
    # Keras's documented example: the first step moves by 0.1, the second by 0.18.
    w = tidu.tensor(np.array([1.0]), requires_grad=True)
    opt = O.SGD([w], lr=0.1, momentum=0.9)
    moves = []
    for _ in range(2):
        before = w.numpy().copy()
        opt.zero_grad()
        (w * w / 2).sum().backward()
        opt.step()
        moves.append(float(before[0] - w.numpy()[0]))
    np.testing.assert_allclose(moves, [0.1, 0.18], rtol=1e-12)


# ----- convergence: an ill-conditioned parabola and Rosenbrock (analytic gradients) -----
def parabola_grad(x):
    return np.array([1.0, 10.0]) * (x - np.array([3.0, -2.0]))


def rosenbrock_grad(x):
    a, b = x
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


def minimize(factory, grad_fn, x0, steps):
    p = tidu.Tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    opt = factory([p])
    for _ in range(steps):
        p.grad = tidu.Tensor(grad_fn(p.data))
        opt.step()
    return p.data


CONVERGENCE = [
    # name, factory, rosenbrock steps, rosenbrock tolerance
    ("sgd", lambda ps: O.SGD(ps, lr=1e-3), 10000, 0.03),
    ("sgd-momentum", lambda ps: O.SGD(ps, lr=1e-3, momentum=0.9), 5000, 1e-6),
    ("sgd-nesterov", lambda ps: O.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True), 5000, 1e-6),
    ("rmsprop", lambda ps: O.RMSprop(ps, lr=1e-3), 10000, 5e-3),
    ("rmsprop-centered", lambda ps: O.RMSprop(ps, lr=1e-3, centered=True), 10000, 5e-3),
    ("rmsprop-momentum", lambda ps: O.RMSprop(ps, lr=1e-4, momentum=0.9), 6000, 1e-3),
    ("adam", lambda ps: O.Adam(ps, lr=0.02), 5000, 1e-6),
    ("adam-amsgrad", lambda ps: O.Adam(ps, lr=0.02, amsgrad=True), 10000, 1e-3),
    ("adamw", lambda ps: O.AdamW(ps, lr=0.02, weight_decay=1e-4), 6000, 2e-3),
    ("adagrad", lambda ps: O.Adagrad(ps, lr=0.5), 10000, 2e-3),
]


@pytest.mark.parametrize("name,factory,steps,tol", CONVERGENCE, ids=[c[0] for c in CONVERGENCE])
def test_converges_on_parabola_and_rosenbrock(name, factory, steps, tol):
    start = np.array([-1.2, 1.0])
    x = minimize(factory, rosenbrock_grad, start, steps)
    assert np.abs(x - 1.0).max() < tol, x
    y = minimize(factory, parabola_grad, [0.0, 0.0], steps)
    assert np.abs(y - [3.0, -2.0]).max() < max(tol, 1e-3), y


# ----- the hand-written loop -----
def test_handwritten_loop_fits_least_squares():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.01 * rng.standard_normal(64)
    w = tidu.tensor(np.zeros(3), requires_grad=True)
    b = tidu.tensor(np.zeros(()), requires_grad=True)
    opt = O.SGD([w, b], lr=0.1)
    xt = tidu.Tensor(X)
    for _ in range(300):
        loss = (((xt @ w + b) - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        assert w.grad is None and b.grad is None
    sol, *_ = np.linalg.lstsq(np.c_[X, np.ones(64)], y, rcond=None)
    np.testing.assert_allclose(np.r_[w.numpy(), b.numpy()], sol, atol=1e-6)


@pytest.mark.parametrize("cls", [O.SGD, O.RMSprop, O.Adam, O.AdamW, O.Adagrad])
def test_updates_in_place_keeps_dtype_and_never_touches_grads(cls):
    # Two parameters share one gradient array (the engine may do that); weight decay and
    # clipping must not write into it.
    shared = np.array([[0.5, -3.0], [2.0, 1.0]], dtype=np.float32)
    ws = [tidu.Tensor(np.ones((2, 2), np.float32), requires_grad=True) for _ in range(2)]
    arrays = [w.data for w in ws]
    for w in ws:
        w.grad = tidu.Tensor(shared)
    opt = cls(ws, lr=0.1, weight_decay=0.1, clipvalue=1.0)
    opt.step()
    np.testing.assert_array_equal(shared, [[0.5, -3.0], [2.0, 1.0]])
    assert all(w.data is a and w.dtype == np.float32 for w, a in zip(ws, arrays))
    assert all(w.grad.data is shared for w in ws)
    assert not np.array_equal(arrays[0], np.ones((2, 2)))


def test_params_without_grad_are_skipped():
    a = tidu.tensor(np.array([1.0]), requires_grad=True)
    b = tidu.tensor(np.array([2.0]), requires_grad=True)
    opt = O.Adam([a, b], lr=0.1)
    (a * 3).sum().backward()
    opt.step()
    assert b.numpy().tolist() == [2.0]
    np.testing.assert_array_equal(opt.state_dict()["state"][1]["momentum"], [0.0])
    assert a.numpy()[0] < 1.0


# ----- weight decay semantics -----
def test_coupled_weight_decay_is_an_l2_penalty():
    # SGD with weight_decay=wd equals plain SGD on loss + wd/2 * ||w||^2.
    w0 = np.array([1.0, -2.0, 0.5])
    w1 = tidu.tensor(w0.copy(), requires_grad=True)
    w2 = tidu.tensor(w0.copy(), requires_grad=True)
    o1 = O.SGD([w1], lr=0.1, momentum=0.9, weight_decay=0.3)
    o2 = O.SGD([w2], lr=0.1, momentum=0.9)
    for _ in range(5):
        for w, o, extra in ((w1, o1, 0.0), (w2, o2, 0.15)):
            o.zero_grad()
            ((w * w * w).sum() + extra * (w * w).sum()).backward()
            o.step()
    np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-12)


def test_adamw_decay_is_decoupled():
    # With a zero gradient Adam's step is 0, so only the decoupled decay moves the weights.
    w = tidu.tensor(np.array([2.0, -4.0]), requires_grad=True)
    opt = O.AdamW([w], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        w.grad = tidu.Tensor(np.zeros(2))
        opt.step()
    np.testing.assert_allclose(w.numpy(), np.array([2.0, -4.0]) * 0.95 ** 3, rtol=1e-12)


# ----- clipping -----
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = make_grads(1, seed=4)[0]
    ours = [tidu.Tensor(np.zeros(s), requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    olds = []
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tidu.Tensor(g.copy()), torch.tensor(g.copy())
        olds.append(p.grad.data)
    total = O.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected.item(), rtol=1e-12)
    for p, q, old, g in zip(ours, theirs, olds, grads):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
        np.testing.assert_array_equal(old, g)  # the old gradient array was not written


def test_clip_grad_value_matches_torch():
    grads = make_grads(1, seed=5)[0]
    ours = [tidu.Tensor(np.zeros(s), requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tidu.Tensor(g.copy()), torch.tensor(g.copy())
    O.clip_grad_value_(ours, 0.4)
    torch.nn.utils.clip_grad_value_(theirs, 0.4)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_nonfinite():
    w = tidu.tensor(np.array([0.0, 0.0]), requires_grad=True)
    w.grad = tidu.Tensor(np.array([np.inf, 1.0]))
    assert O.clip_grad_norm_(w, 1.0) == math.inf
    with pytest.raises(FloatingPointError, match="norm"):
        O.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        O.clip_grad_norm_([w], 0.0)
    with pytest.raises(TypeError, match="position 0"):
        O.clip_grad_value_([np.zeros(2)], 1.0)


def test_global_clipnorm_matches_torch_clip_then_step():
    params0, grads = make_params(), make_grads(4, seed=6)
    grads = [[3 * g for g in gs] for gs in grads]  # norms well above the limit

    def torch_factory(ps):
        inner = torch.optim.SGD(ps, lr=0.1, momentum=0.9)

        class Clipped:
            def step(self):
                torch.nn.utils.clip_grad_norm_(ps, 1.5)
                inner.step()
        return Clipped()

    ours = run_tidu(lambda ps: O.SGD(ps, lr=0.1, momentum=0.9, global_clipnorm=1.5),
                    params0, grads)
    # torch divides by (norm + 1e-6), Keras (and tidu) by the norm
    assert_histories_close(ours, run_torch(torch_factory, params0, grads), rtol=1e-6)


def test_clipnorm_and_clipvalue_per_parameter():
    params0, grads = make_params(), make_grads(1, seed=7)
    grads = [[4 * g for g in gs] for gs in grads]
    by_norm = run_tidu(lambda ps: O.SGD(ps, lr=1.0, clipnorm=1.0), params0, grads)[0]
    by_value = run_tidu(lambda ps: O.SGD(ps, lr=1.0, clipvalue=0.5), params0, grads)[0]
    for w0, g, wn, wv in zip(params0, grads[0], by_norm, by_value):
        n = np.linalg.norm(g)
        np.testing.assert_allclose(wn, w0 - g * 1.0 / max(n, 1.0), rtol=1e-12)
        np.testing.assert_allclose(wv, w0 - np.clip(g, -0.5, 0.5), rtol=1e-12)
    with pytest.raises(ValueError, match="at most one"):
        O.SGD(clipnorm=1.0, global_clipnorm=1.0)


# ----- state_dict / load_state_dict -----
ALL_FACTORIES = [
    ("sgd-nesterov", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    ("rmsprop-centered", lambda ps: O.RMSprop(ps, momentum=0.5, centered=True)),
    ("adam-amsgrad", lambda ps: O.Adam(ps, lr=S.ExponentialDecay(0.01, 3, 0.5), amsgrad=True)),
    ("adamw", lambda ps: O.AdamW(ps, lr=0.01, global_clipnorm=1.0)),
    ("adagrad", lambda ps: O.Adagrad(ps, lr=0.1, weight_decay=0.01)),
]


def _plain(x) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in x.items())
    return x is None or isinstance(x, (np.ndarray, bool, int, float, str))


@pytest.mark.parametrize("name,factory", ALL_FACTORIES, ids=[c[0] for c in ALL_FACTORIES])
def test_state_dict_round_trip_resumes_bit_identically(name, factory):
    params0, grads = make_params(dtype=np.float32), make_grads(10, seed=8)
    ps = [tidu.Tensor(p.copy(), requires_grad=True) for p in params0]
    opt = factory(ps)
    for gs in grads[:5]:
        for p, g in zip(ps, gs):
            p.grad = tidu.Tensor(g.astype(np.float32))
        opt.step()
    saved = opt.state_dict()
    assert _plain(saved) and saved["iterations"] == 5 and sorted(saved["state"]) == [0, 1, 2]
    weights = [p.data.copy() for p in ps]
    # resume into a fresh copy of the model, with an optimizer built with other settings
    qs = [tidu.Tensor(w.copy(), requires_grad=True) for w in weights]
    resumed = factory(qs)
    resumed.load_state_dict(saved)
    assert resumed.iterations == 5
    for gs in grads[5:]:
        for opt_, params in ((opt, ps), (resumed, qs)):
            for p, g in zip(params, gs):
                p.grad = tidu.Tensor(g.astype(np.float32))
            opt_.step()
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.data, q.data)
    # the saved dict holds copies: later steps did not change it
    again = factory([tidu.Tensor(w.copy(), requires_grad=True) for w in weights])
    again.load_state_dict(saved)
    assert again.iterations == 5


def test_load_state_dict_restores_learning_rate_and_hyperparameters():
    w = tidu.tensor(np.ones(2), requires_grad=True)
    opt = O.SGD([w], lr=0.1, momentum=0.9)
    opt.learning_rate = 0.025  # as ReduceLROnPlateau does
    other = O.SGD([tidu.tensor(np.ones(2), requires_grad=True)], lr=0.5, momentum=0.5)
    other.load_state_dict(opt.state_dict())
    assert other.learning_rate == 0.025 and other.momentum == 0.9


def test_load_state_dict_before_build_is_applied_at_build():
    w = tidu.tensor(np.ones(3), requires_grad=True)
    opt = O.Adam([w], lr=0.1)
    w.grad = tidu.Tensor(np.array([1.0, -2.0, 3.0]))
    opt.step()
    lazy = O.Adam(learning_rate=0.1)
    lazy.load_state_dict(opt.state_dict())
    assert not lazy.built
    lazy.build([tidu.tensor(np.ones(3), requires_grad=True)])
    assert lazy.iterations == 1
    np.testing.assert_array_equal(lazy.state_dict()["state"][0]["momentum"],
                                  opt.state_dict()["state"][0]["momentum"])
    bad = O.Adam(learning_rate=0.1)
    bad.load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="shape"):
        bad.build([tidu.tensor(np.ones(4), requires_grad=True)])


def test_load_state_dict_errors():
    ws = [tidu.tensor(np.ones(3), requires_grad=True), tidu.tensor(np.ones(2), requires_grad=True)]
    saved = O.Adam(ws).state_dict()
    with pytest.raises(ValueError, match="saved from Adam, this optimizer is SGD"):
        O.SGD(ws).load_state_dict(saved)
    with pytest.raises(ValueError, match="for 2 parameters, this optimizer has 1"):
        O.Adam(ws[:1]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        O.Adam(ws[::-1]).load_state_dict(saved)
    with pytest.raises(ValueError, match="velocity_hat"):
        O.Adam(ws, amsgrad=True).load_state_dict(saved)
    with pytest.raises(ValueError, match="state_dict"):
        O.Adam(ws).load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="no state for parameter 1"):
        O.Adam(ws).load_state_dict(dict(saved, state={0: saved["state"][0], 5: {}}))
    as_json = dict(saved, state={str(k): v for k, v in saved["state"].items()})
    O.Adam(ws).load_state_dict(as_json)  # string keys, as after a trip through JSON
    broken = dict(saved, hyperparameters=dict(saved["hyperparameters"], beta_1=1.5))
    with pytest.raises(ValueError, match="beta_1"):
        O.Adam(ws).load_state_dict(broken)


# ----- learning rate: floats, schedules, the setter -----
def test_schedule_drives_the_learning_rate():
    sched = S.StepDecay(0.1, step_size=2, gamma=0.5)
    w = tidu.tensor(np.array([0.0]), requires_grad=True)
    opt = O.SGD([w], lr=sched)
    rates = []
    for _ in range(5):
        rates.append(opt.learning_rate)
        w.grad = tidu.Tensor(np.array([-1.0]))
        opt.step()
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.025]
    np.testing.assert_allclose(w.numpy(), [sum(rates)], rtol=1e-12)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.01
    opt.learning_rate = S.ExponentialDecay(1.0, 1, 0.5)  # a new schedule is fine
    assert opt.learning_rate == 0.5 ** 5


def test_learning_rate_setter_and_alias():
    opt = O.RMSprop(learning_rate=0.01)
    assert opt.learning_rate == 0.01 and opt.lr == 0.01
    opt.learning_rate = 0.001
    assert opt.lr == 0.001 and opt.get_config()["learning_rate"] == 0.001
    opt.lr = np.float32(0.5)
    assert type(opt.learning_rate) is float
    for bad in (-1.0, float("nan"), "fast"):
        with pytest.raises(ValueError, match="learning_rate"):
            opt.learning_rate = bad


def test_step_decay_matches_torch_step_lr():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.3)
    torch_sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.7)
    ours = S.StepDecay(0.3, step_size=3, gamma=0.7)
    for t in range(20):
        np.testing.assert_allclose(ours(t), opt.param_groups[0]["lr"], rtol=1e-12)
        opt.step()
        torch_sched.step()


def test_exponential_decay_formula_and_torch():
    smooth, stairs = S.ExponentialDecay(0.1, 4, 0.5), S.ExponentialDecay(0.1, 4, 0.5, True)
    for t in range(13):
        np.testing.assert_allclose(smooth(t), 0.1 * 0.5 ** (t / 4), rtol=1e-14)
        np.testing.assert_allclose(stairs(t), 0.1 * 0.5 ** (t // 4), rtol=1e-14)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.2)
    torch_sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    ours = S.ExponentialDecay(0.2, decay_steps=1, decay_rate=0.9)
    for t in range(15):
        np.testing.assert_allclose(ours(t), opt.param_groups[0]["lr"], rtol=1e-12)
        opt.step()
        torch_sched.step()


def test_cosine_decay_matches_torch_and_keras_formula():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    torch_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.02)
    ours = S.CosineDecay(0.1, decay_steps=10, alpha=0.2)
    for t in range(11):
        np.testing.assert_allclose(ours(t), opt.param_groups[0]["lr"], rtol=1e-10)
        opt.step()
        torch_sched.step()
    assert ours(10) == ours(50) == pytest.approx(0.02)  # Keras holds the floor
    warm = S.CosineDecay(0.0, decay_steps=4, warmup_target=1.0, warmup_steps=2)
    expected = [0.0, 0.5] + [0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(5)] + [0.0]
    np.testing.assert_allclose([warm(t) for t in range(8)], expected, atol=1e-15)


def test_schedule_validation_and_serialization():
    for bad in (lambda: S.StepDecay(0.1, 0), lambda: S.StepDecay(0.1, 2.5),
                lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.CosineDecay(-1.0, 10),
                lambda: S.CosineDecay(0.1, 10, alpha=2.0),
                lambda: S.CosineDecay(0.1, 10, warmup_target=1.0)):
        with pytest.raises(ValueError):
            bad()
    for sched in (S.StepDecay(0.1, 3), S.ExponentialDecay(0.1, 5, 0.9, staircase=True),
                  S.CosineDecay(0.1, 7, alpha=0.1, warmup_target=0.2, warmup_steps=3)):
        copy = S.deserialize(S.serialize(sched))
        assert type(copy) is type(sched) and copy.get_config() == sched.get_config()
        assert [copy(t) for t in range(12)] == [sched(t) for t in range(12)]
    with pytest.raises(ValueError, match="known"):
        S.deserialize({"class_name": "Nope", "config": {}})


# ----- names, defaults, configs -----
KERAS_DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULTS))
def test_get_by_name_has_keras_defaults(name):
    for spelling in (name, name.upper(), name.capitalize()):
        opt = O.get(spelling)
        assert not opt.built and opt.iterations == 0
        config = opt.get_config()
        for key, value in KERAS_DEFAULTS[name].items():
            assert config[key] == value, (spelling, key)
        assert config["clipnorm"] is None and config["global_clipnorm"] is None
    copy = O.get(O.serialize(opt))
    assert type(copy) is type(opt) and copy.get_config() == opt.get_config()


def test_get_other_identifiers():
    opt = O.Adam()
    assert O.get(opt) is opt
    assert isinstance(O.get(O.Adagrad), O.Adagrad)
    sched = O.get({"class_name": "SGD", "config": {
        "learning_rate": S.serialize(S.CosineDecay(0.1, 100)), "momentum": 0.9}})
    assert isinstance(sched._learning_rate, S.CosineDecay) and sched.momentum == 0.9
    assert O.get(O.serialize(sched)).get_config() == sched.get_config()
    with pytest.raises(ValueError, match=r"'adagrad', 'adam', 'adamw', 'rmsprop', 'sgd'"):
        O.get("adamax")
    with pytest.raises(ValueError, match="class_name"):
        O.get({"config": {}})
    with pytest.raises(TypeError, match="optimizer name"):
        O.get(0.1)


def test_constructor_styles():
    w = tidu.tensor(np.ones(2), requires_grad=True)
    assert O.SGD(0.2).learning_rate == 0.2                       # Keras: first arg is the rate
    assert O.SGD(learning_rate=0.3).learning_rate == 0.3
    assert O.SGD([w], 0.4, 0.9).momentum == 0.9                 # PyTorch positional order
    assert O.Adam(S.StepDecay(0.1, 5)).learning_rate == 0.1
    assert O.SGD([w], lr=0.1).params[0] is w
    assert "momentum=0.9" in repr(O.SGD(momentum=0.9))
    with pytest.raises(TypeError, match="not both"):
        O.SGD(lr=0.1, learning_rate=0.1)
    with pytest.raises(TypeError, match="learning rate"):
        O.SGD(0.1, lr=0.2)
    with pytest.raises(ValueError, match="empty parameter list"):
        O.Adam([])
    with pytest.raises(TypeError, match="ndarray at position 1"):
        O.SGD([w, np.ones(2)])
    with pytest.raises(ValueError, match="positions 0 and 2"):
        O.SGD([w, tidu.tensor(np.ones(2), requires_grad=True), w])


@pytest.mark.parametrize("make,match", [
    (lambda: O.SGD(momentum=-0.1), "momentum"),
    (lambda: O.SGD(nesterov=True), "nesterov"),
    (lambda: O.RMSprop(rho=1.0), "rho"),
    (lambda: O.RMSprop(epsilon=-1.0), "epsilon"),
    (lambda: O.Adam(beta_1=1.0), "beta_1"),
    (lambda: O.Adam(beta_2=-0.5), "beta_2"),
    (lambda: O.AdamW(weight_decay=None), "weight_decay"),
    (lambda: O.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: O.SGD(weight_decay=-1.0), "weight_decay"),
    (lambda: O.SGD(clipnorm=0.0), "clipnorm"),
    (lambda: O.SGD(lr=-0.1), "learning_rate"),
])
def test_hyperparameter_validation(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_build_step_and_zero_grad_errors():
    opt = O.SGD(learning_rate=0.1)
    with pytest.raises(RuntimeError, match="build"):
        opt.step()
    w = tidu.tensor(np.ones(2), requires_grad=True)
    opt.build([w])
    with pytest.raises(ValueError, match="backward"):
        opt.step()
    w.grad = tidu.Tensor(np.ones(2))
    opt.step()
    opt.build([tidu.tensor(np.zeros(2), requires_grad=True)])  # same shapes: state kept
    assert opt.iterations == 1
    with pytest.raises(ValueError, match="new optimizer"):
        opt.build([tidu.tensor(np.zeros(3), requires_grad=True)])
    v = opt.params[0]
    v.grad = tidu.Tensor(np.ones(2))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert v.grad is None


def test_step_with_closure_returns_the_loss():
    w = tidu.tensor(np.array([2.0]), requires_grad=True)
    opt = O.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = ((w - 1.0) ** 2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 1.0
    np.testing.assert_allclose(w.numpy(), [1.5])


def test_docstring_examples():
    import doctest
    import importlib

    for name in ("", ".optimizer", ".sgd", ".rmsprop", ".adam", ".adagrad", ".clip",
                 ".schedules"):
        module = importlib.import_module("tidu.optim" + name)
        result = doctest.testmod(module)
        assert result.failed == 0, name
    assert result.attempted > 0
