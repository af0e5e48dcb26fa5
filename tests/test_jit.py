"""Compiled training: Model.compile(jit_compile=True) and the tidu.compile.jit decorator give
the eager results (to float rounding), one plan per input shape."""

from __future__ import annotations

import numpy as np
import pytest

import tidu
from tidu.nn import Dense, Dropout


def data(n=300, d=784, k=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, d), dtype=np.float32)
    y = np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    return x, y


def text_b(dropout: float):
    layers = [Dense(512, activation="relu", input_shape=(784,))]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(10, activation="softmax"))
    return tidu.Sequential(layers)


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_text_b_network_with_rmsprop_compiled_equals_eager(dropout):
    x, y = data()
    runs = {}
    for jit in (False, True):
        tidu.manual_seed(0)
        model = text_b(dropout)
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit)
        hist = model.fit(x, y, epochs=2, batch_size=128, verbose=0, seed=3)
        runs[jit] = (hist.history, [p.data.copy() for p in model.parameters()], model)
    (h0, p0, _), (h1, p1, m1) = runs[False], runs[True]
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-5)
    assert h1["accuracy"] == h0["accuracy"]
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    # 300 samples in batches of 128: 128, 128 and a last partial batch of 44 -> two plans
    assert len(m1._jit_step.plans) == 2
    # the plans really changed the weights (not a no-op that happens to match)
    tidu.manual_seed(0)
    fresh = text_b(dropout)
    fresh(x[:1])
    assert not np.allclose(fresh.parameters()[0].data, p1[0])


def test_dropout_draws_a_new_mask_on_every_call():
    tidu.manual_seed(0)
    drop = Dropout(0.5)
    f = tidu.compile.jit(lambda x: drop(x) * 1.0)
    ones = np.ones(1000, np.float32)
    a, b = f(ones).numpy(), f(ones).numpy()
    assert set(np.unique(a)) == {0.0, 2.0} and not np.array_equal(a, b)
    assert len(f.plans) == 1


def test_pytorch_style_step_decorated():
    x, y = data(64, 20, 5, seed=1)
    loss_fn = tidu.losses.CategoricalCrossentropy(from_logits=True)
    results = {}
    for jit in (False, True):
        tidu.manual_seed(1)
        model = tidu.Sequential([Dense(16, activation="tanh", input_shape=(20,)), Dense(5)])
        model(x[:1])
        opt = tidu.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

        def step(xb, yb, model=model, opt=opt):
            loss = loss_fn(yb, model(xb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return {"loss": loss}

        if jit:
            step = tidu.compile.jit(step)
        losses = [float(step(x, y)["loss"]) for _ in range(6)]
        results[jit] = losses, [p.data.copy() for p in model.parameters()]
    np.testing.assert_allclose(results[True][0], results[False][0], rtol=1e-5)
    assert results[True][0][-1] < results[True][0][0]
    for a, b in zip(results[False][1], results[True][1]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_jit_retraces_for_new_shapes_and_static_arguments():
    w = tidu.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

    @tidu.compile.jit
    def f(x, scale):
        return (w * x).sum() * scale, x * 2

    s, d = f(np.ones(3), 2.0)
    assert float(s) == 12.0 and d.numpy().tolist() == [2.0, 2.0, 2.0]
    w.data[:] = 0.0  # parameters are read at run time, never frozen into the plan
    assert float(f(np.ones(3), 2.0)[0]) == 0.0
    f(np.ones(3), 3.0)
    assert len(f.plans) == 2


def test_compiled_fit_reports_a_non_finite_loss_without_updating():
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(3, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.ones((8, 4), np.float32)
    y = np.full((8, 3), np.inf, np.float32)
    model(x[:1])
    before = [p.data.copy() for p in model.parameters()]
    value, _ = model.train_step(x, y)
    assert not np.isfinite(value)
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, p.data)
