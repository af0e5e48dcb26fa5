"""Compiled symbolic functions on another device: ``tidu.function`` with shared state and
updates, folded constants, ``tidu.grad`` and ``tidu.compile.jit`` give the CPU's results, on
the inputs' device, with one plan per device.

Runs on the stand-in device 'fake' (tests/_device_double.py, which refuses host arrays and
implicit conversions as CuPy does) and on 'cuda' where CuPy and a GPU are present (skipped
with the reason otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from _device_double import DEVICES, host  # registers the 'fake' device
from tidu import backend, nn
from tidu.errors import DeviceError


def on(a, dev) -> bool:
    """True when the array or tensor ``a`` lives on device ``dev``."""
    return backend.device_of(a.data if isinstance(a, tidu.Tensor) else a) == dev


def host_arrays_in_plans(f) -> list:
    """The NumPy arrays that the device plans of ``f`` hold (constants, buffers)."""
    found = []
    for sig, plan in f._plans.items():
        if all(s[-1] is np.ndarray for s in sig):
            continue
        found += [k for k, v in plan.__globals__.items() if type(v) is np.ndarray]
    return found


def logreg(n=40, feats=12, seed=0, lr=0.1):
    """Text D's Theano program: logistic regression with updates of the shared w and b."""
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((n, feats)), rng.integers(0, 2, n).astype(np.float64))
    x, y = tidu.dmatrix("x"), tidu.dvector("y")
    w = tidu.shared(rng.standard_normal(feats), name="w")
    b = tidu.shared(0.0, name="b")
    p_1 = 1 / (1 + tidu.exp(-tidu.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * tidu.log(p_1) - (1 - y) * tidu.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = tidu.grad(cost, [w, b])
    train = tidu.function([x, y], [prediction, xent, cost],
                          updates=[(w, w - lr * gw), (b, b - lr * gb)])
    predict = tidu.function([x], prediction)
    return data, w, b, train, predict


@pytest.mark.parametrize("dev", DEVICES)
def test_logistic_regression_training_on_device_equals_cpu(dev):
    (xv, yv), w, b, train, predict = logreg()
    w0, b0 = w.get_value(), b.get_value()
    runs = {}
    for where in ("cpu", dev):
        w.set_value(backend.to_device(w0, where))
        b.set_value(backend.to_device(b0, where))
        xd, yd = backend.to_device(xv, where), backend.to_device(yv, where)
        steps = []
        for _ in range(6):
            pred, xent, cost = train(xd, yd)
            assert all(on(r, where) for r in (pred, xent, cost))
            steps.append((host(pred), host(xent), host(cost)))
        assert on(w.get_value(), where) and on(b.get_value(), where)
        assert on(w.get_value(borrow=True), where)
        runs[where] = steps, host(w.get_value()), host(b.get_value()), host(predict(xd))
    cpu, other = runs["cpu"], runs[dev]
    for (p0, x0, c0), (p1, x1, c1) in zip(cpu[0], other[0]):
        np.testing.assert_array_equal(p1, p0)
        np.testing.assert_allclose(x1, x0, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c1, c0, rtol=1e-12)
    np.testing.assert_allclose(other[1], cpu[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(other[2], cpu[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(other[3], cpu[3])
    assert cpu[0][-1][2] < cpu[0][0][2]  # it trained
    # one plan per device, and the device plan holds no host arrays
    assert len(train._plans) == 2 and host_arrays_in_plans(train) == []


@pytest.mark.parametrize("dev", DEVICES)
def test_back_and_forth_between_cpu_and_device(dev):
    (xv, yv), w, b, train, _ = logreg(seed=1)
    train(xv, yv)
    train(xv, yv)  # the CPU fast path is armed now
    w.set_value(backend.to_device(w.get_value(), dev))
    b.set_value(backend.to_device(b.get_value(), dev))
    train(backend.to_device(xv, dev), backend.to_device(yv, dev))
    w.set_value(backend.to_host(w.get_value()))
    b.set_value(backend.to_host(b.get_value()))
    train(xv, yv)
    train(xv, yv)
    assert type(w.get_value()) is np.ndarray and len(train._plans) == 2
    _, w2, b2, train2, _ = logreg(seed=1)  # the same five steps, all on the CPU
    for _ in range(5):
        train2(xv, yv)
    np.testing.assert_allclose(w.get_value(), w2.get_value(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.get_value(), b2.get_value(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dev", DEVICES)
def test_folded_and_plan_constants_move_to_the_device_once(dev):
    x = tidu.fmatrix("x")
    c = tidu.constant(np.array([1.0, -2.0, 0.5], np.float32))
    scale = tidu.exp(tidu.constant(np.float32(0.5))) * 2  # folded at compile time
    y = ((x * (c * 2 + 1)) * scale).mean() + (x - c).max() + tidu.constant(3.0, "float32")
    (gx,) = tidu.grad(y, [x])  # the mean's 1/n becomes a constant of the plan
    f = tidu.function([x], [y, gx, x * c, tidu.sum(x, axis=0)])
    assert f.stats["constant_folding"] >= 1
    xv = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    cpu = f(xv)
    xd = backend.to_device(xv, dev)
    first = f(xd)
    plan = next(p for s, p in f._plans.items() if s[0][-1] is not np.ndarray)
    consts = {k: v for k, v in plan.__globals__.items() if backend.is_array(v)}
    assert consts and all(on(v, dev) for v in consts.values())
    again = f(xd)
    for k, v in consts.items():  # moved when the plan was built, not per call
        assert plan.__globals__[k] is v
    assert host_arrays_in_plans(f) == []
    for a, b1, b2 in zip(cpu, first, again):
        assert on(b1, dev) and on(b2, dev)
        np.testing.assert_allclose(host(b1), a, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(host(b2), a, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dev", DEVICES)
def test_scalars_integers_comparisons_and_leaf_updates_on_device(dev):
    x = tidu.dvector("x")
    a = tidu.shared(np.array([1.0, 2.0]), name="a")
    s = tidu.shared(np.zeros(2), name="s")
    n = tidu.shared(np.array([0.0, 0.0]), name="n")
    f = tidu.function([x], [x.sum(), x.argmax(), x > 0, (x * 2).reshape((1, -1))],
                      updates=[(a, s), (s, a),       # a swap: the new values are leaves
                               (n, x)])              # a new shape, from an input
    xv = np.array([0.5, -1.0, 3.0])
    ref = f(xv)
    ref_state = [host(v.get_value()) for v in (a, s, n)]
    for v, init in ((a, [1.0, 2.0]), (s, [0.0, 0.0]), (n, [0.0, 0.0])):
        v.set_value(backend.to_device(np.array(init), dev))
    for _ in range(2):  # the first call runs generically, the second runs the plan
        a.set_value(backend.to_device(np.array([1.0, 2.0]), dev))
        s.set_value(backend.to_device(np.zeros(2), dev))
        n.set_value(backend.to_device(np.zeros(2), dev))
        out = f(backend.to_device(xv, dev))
        for r, o in zip(ref, out):
            assert on(o, dev)
            np.testing.assert_array_equal(host(o), r)
        for v, want in zip((a, s, n), ref_state):
            assert on(v.get_value(borrow=True), dev)
            np.testing.assert_array_equal(host(v.get_value()), want)


@pytest.mark.parametrize("dev", DEVICES)
def test_shared_made_from_a_device_array_stays_there(dev):
    w = tidu.shared(backend.to_device(np.arange(3.0), dev), name="w")
    assert on(w.get_value(), dev) and w.dtype == np.float64
    w.set_value(backend.to_device(np.ones(3, np.float32), dev))  # cast, on the device
    assert on(w.get_value(), dev) and w.get_value().dtype == np.float64
    x = tidu.dvector("x")
    f = tidu.function([x], (w * x).sum(), updates=[(w, w + x)])
    # a float32 array for a float64 input is cast safely, on its device
    out = f(backend.to_device(np.array([1.0, 2.0, 3.0], np.float32), dev))
    assert on(out, dev) and float(host(out)) == 6.0
    np.testing.assert_array_equal(host(w.get_value()), [2.0, 3.0, 4.0])


@pytest.mark.parametrize("dev", DEVICES)
def test_a_cpu_shared_variable_with_device_inputs_names_both_devices(dev):
    (xv, yv), w, b, train, _ = logreg()
    with pytest.raises(DeviceError, match=r"input 0 \('x'\) on .*shared variable 'w' on cpu"):
        train(backend.to_device(xv, dev), backend.to_device(yv, dev))
    train(xv, yv)
    train(xv, yv)  # the CPU fast path is armed: it must notice the state moved
    w.set_value(backend.to_device(w.get_value(), dev))
    b.set_value(backend.to_device(b.get_value(), dev))
    with pytest.raises(DeviceError, match=r"on cpu.*shared variable 'w' on " + dev):
        train(xv, yv)
    with pytest.raises(DeviceError, match="input 1"):  # inputs on two devices
        train(backend.to_device(xv, dev), yv)


def _torch_style(dev, jit: bool, modules: bool, steps=4):
    """A PyTorch-style step (loss, zero_grad, backward, step) with SGD and momentum: over
    nn modules, or over parameters and functional operations."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 10)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
    tidu.manual_seed(0)
    if modules:
        model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 4)).to(dev)
        params = model.parameters()
        loss_fn = tidu.losses.CategoricalCrossentropy(from_logits=True)

        def loss_of(xb, yb):
            return loss_fn(yb, model(xb))
    else:
        init = [rng.standard_normal((10, 16)) * 0.3, np.zeros(16),
                rng.standard_normal((16, 4)) * 0.3, np.zeros(4)]
        params = [tidu.tensor(backend.to_device(a.astype(np.float32), dev),
                              requires_grad=True) for a in init]
        w1, b1, w2, b2 = params

        def loss_of(xb, yb):
            logits = tidu.tanh(xb @ w1 + b1) @ w2 + b2
            return -(yb * tidu.log_softmax(logits, axis=-1)).sum(axis=-1).mean()
    opt = tidu.optim.SGD(params, lr=0.5, momentum=0.9)

    def step(xb, yb):
        loss = loss_of(xb, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss}

    if jit:
        step = tidu.compile.jit(step)
    xd, yd = backend.to_device(x, dev), backend.to_device(y, dev)
    losses = []
    for _ in range(steps):
        out = step(xd, yd)["loss"]
        assert on(out, dev)
        losses.append(float(host(out)))
    assert all(on(p, dev) for p in params)
    return losses, [host(p) for p in params], step


def _check_torch_style(dev, modules):
    ref_losses, ref_params, _ = _torch_style("cpu", jit=False, modules=modules)
    cpu_losses, cpu_params, _ = _torch_style("cpu", jit=True, modules=modules)
    losses, params, step = _torch_style(dev, jit=True, modules=modules)
    np.testing.assert_allclose(cpu_losses, ref_losses, rtol=1e-5)
    np.testing.assert_allclose(losses, cpu_losses, rtol=1e-5)
    assert losses[-1] < losses[0]
    for a, b in zip(cpu_params, params):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert len(step.plans) == 1
    assert host_arrays_in_plans(step.compiled[0]) == []


@pytest.mark.parametrize("dev", DEVICES)
def test_jit_compiled_torch_style_step_on_device_equals_cpu(dev):
    _check_torch_style(dev, modules=False)


@pytest.mark.parametrize("dev", DEVICES)
def test_jit_compiled_step_over_nn_modules_on_device_equals_cpu(dev):
    _check_torch_style(dev, modules=True)


def _keras_jit_run(where, jit=True, build_first=True):
    """A Keras model compiled with ``jit_compile``, moved to ``where`` and trained there
    (fit with validation, then train_on_batch, evaluate, test_on_batch, predict)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 40)]
    tidu.manual_seed(0)
    first = {"input_shape": (6,)} if build_first else {}  # else built by fit, on ``where``
    m = tidu.Sequential([tidu.nn.Dense(8, activation="relu", **first),
                         tidu.nn.Dropout(0.25),
                         tidu.nn.Dense(3, activation="softmax")])
    m.compile(optimizer=tidu.optim.Adam(learning_rate=0.02), loss="categorical_crossentropy",
              metrics=["accuracy"],
              jit_compile=jit)
    assert m.built == build_first
    m.to(where)
    hist = m.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False, seed=4,
                 validation_split=0.2)
    tob = m.train_on_batch(x[:8], y[:8])
    assert all(on(p, where) for p in m.parameters())
    assert all(on(a, where) for a in _optimizer_arrays(m.optimizer))
    ev = m.evaluate(x, y, batch_size=16, verbose=0)
    test = m.test_on_batch(x[:8], y[:8])
    pred, pob = m.predict(x, batch_size=16), m.predict_on_batch(x[:8])
    assert type(pred) is np.ndarray and type(pob) is np.ndarray
    if jit:
        assert m._jit_step.plans  # really compiled
    return hist.history, tob, ev, test, pred, pob, [host(p) for p in m.parameters()]


def _optimizer_arrays(opt) -> list:
    """The arrays of an optimizer's per-parameter state (momenta, squared averages)."""
    return [a for slots in getattr(opt, "_state", []) for a in slots.values()
            if backend.is_array(a)]


def _assert_runs_equal(got, want):
    for key in want[0]:
        np.testing.assert_allclose(got[0][key], want[0][key], rtol=1e-5, err_msg=key)
    for a, b in zip(want[1:6], got[1:6]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    for a, b in zip(want[6], got[6]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("build_first", [True, False], ids=["built", "moved_unbuilt"])
@pytest.mark.parametrize("dev", DEVICES)
def test_keras_jit_compile_fit_evaluate_predict_on_device_equal_cpu(dev, build_first):
    eager = _keras_jit_run("cpu", jit=False, build_first=build_first)
    cpu = _keras_jit_run("cpu", build_first=build_first)
    other = _keras_jit_run(dev, build_first=build_first)
    _assert_runs_equal(cpu, eager)
    _assert_runs_equal(other, cpu)
    assert cpu[0]["loss"][-1] < cpu[0]["loss"][0]  # it trained


@pytest.mark.parametrize("dev", DEVICES)
def test_keras_jit_compile_train_step_takes_host_batches_on_device(dev):
    x = np.random.default_rng(1).standard_normal((8, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2, 0, 1]]
    losses = {}
    for where in ("cpu", dev):
        tidu.manual_seed(0)
        m = tidu.Sequential([tidu.nn.Dense(3, activation="softmax", input_shape=(6,))])
        m.compile(optimizer="sgd", loss="categorical_crossentropy", jit_compile=True)
        m(x[:1])
        m.to(where)
        value, pred = m.train_step(x, y)  # NumPy batch: moved to the model's device
        assert on(pred, where)
        losses[where] = value, host(pred), [host(p) for p in m.parameters()]
    np.testing.assert_allclose(losses[dev][0], losses["cpu"][0], rtol=1e-6)
    np.testing.assert_allclose(losses[dev][1], losses["cpu"][1], rtol=1e-6)
    for a, b in zip(losses["cpu"][2], losses[dev][2]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_jit_with_parameters_on_the_cpu_and_inputs_on_the_device_names_both():
    w = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    f = tidu.compile.jit(lambda x: (w * x).sum())
    with pytest.raises(DeviceError, match="fake.*tensor 'w' of shape \\(2,\\) on cpu"):
        f(backend.to_device(np.ones(2), "fake"))
    assert float(f(np.ones(2))) == 3.0


@pytest.mark.parametrize("dev", DEVICES)
def test_fit_evaluate_predict_take_data_already_on_the_device(dev):
    """x and y given as device arrays or device Tensors train exactly as the host arrays."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((24, 5)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    runs = []
    for wrap in (lambda a: a, lambda a: backend.to_device(a, dev),
                 lambda a: tidu.tensor(a).to(dev)):
        tidu.manual_seed(0)
        m = tidu.Sequential([tidu.nn.Dense(3, input_shape=(5,))]).to(dev)
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        hist = m.fit(wrap(x), wrap(y), epochs=2, batch_size=8, verbose=0, shuffle=False)
        runs.append((hist.history["loss"], m.evaluate(wrap(x), wrap(y), verbose=0),
                     m.predict(wrap(x), verbose=0)))
    for got in runs[1:]:
        np.testing.assert_allclose(got[0], runs[0][0], rtol=1e-6)
        np.testing.assert_allclose(got[1], runs[0][1], rtol=1e-6)
        np.testing.assert_allclose(got[2], runs[0][2], rtol=1e-6)
