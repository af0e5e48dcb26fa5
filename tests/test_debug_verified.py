"""Verified mode: each sampled operation's backward checked against float64 finite differences."""

import inspect

import numpy as np
import pytest

import tidu
from tidu.autograd import Function
from tidu.debug import VerificationError
from tidu.nn import Dense, Dropout

rng = np.random.default_rng(0)


class GoodTanh(tidu.Function):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y ** 2)


class BadTanh(GoodTanh):
    def backward(self, g):
        return g * (1 - self.y)  # the derivative of tanh is 1 - y**2


class BadScale(tidu.Function):
    """a * b with a wrong gradient for b only."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, 2 * g * self.a


class Act(tidu.nn.Module):
    def __init__(self, op, name=None):
        super().__init__(name=name)
        self.op = op

    def forward(self, x):
        return self.op.apply(x)  # APPLY_LINE


APPLY_LINE = next(i for i, line in enumerate(inspect.getsource(inspect.getmodule(Act))
                                             .splitlines(), 1) if line.endswith("# APPLY_LINE"))


def data(n=128):
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 1)]
    return x, y


def model(op=None, dropout=0.0):
    tidu.manual_seed(0)  # the weights, and so the values each check probes, fixed
    layers = [Dense(16, input_shape=(6,))]
    layers += [Act(op)] if op is not None else [tidu.nn.ReLU()]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(3, activation="softmax"))
    m = tidu.Sequential(layers)
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def test_fit_with_verify_stops_at_a_wrong_custom_backward_and_names_it():
    x, y = data()
    m = model(BadTanh)
    cb = tidu.debug.Verify(rate=0.1)
    with pytest.raises(VerificationError) as e:
        m.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    err = e.value
    msg = str(err)
    assert err.op == "BadTanh" and err.input_index == 0
    assert "backward of BadTanh is wrong for its input 0 (shape (32, 16), float32)" in msg
    assert err.error > 0.1 and f"relative error {err.error:.3g}" in msg
    pos, backward, fd = err.worst
    assert abs(backward - fd) > 1e-3 and f"worst element probed: {list(pos)}" in msg
    assert err.site == (__file__, APPLY_LINE) and f"{__file__}:{APPLY_LINE}" in msg
    assert "return self.op.apply(x)" in msg
    assert "train_step" not in m.__dict__  # fit stopped: the wrapper is gone
    assert Function.__dict__["apply"] is tidu.debug.verified.__globals__["_ORIGINAL"]


def test_fit_verify_argument_catches_the_wrong_backward():
    x, y = data()
    with pytest.raises(VerificationError, match="backward of BadTanh is wrong"):
        model(BadTanh).fit(x, y, epochs=1, batch_size=32, verbose=0, verify=0.1)
    model(GoodTanh).fit(x, y, epochs=1, batch_size=32, verbose=0, verify=True)
    assert Function.__dict__["apply"] is tidu.debug.verified.__globals__["_ORIGINAL"]


def test_fit_with_verify_passes_on_correct_operations_and_counts():
    x, y = data()
    cb = tidu.debug.Verify(rate=1.0)
    m = model(GoodTanh, dropout=0.25)
    m.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[cb])
    v = cb.verifier
    # 4 steps, each checking 9 gradients: the first Dense's kernel and bias (one fused
    # node), GoodTanh, the dropout mask, the second Dense's input, kernel and bias, the
    # softmax and the cross-entropy
    assert v.seen > 0 and v.sampled == v.seen and v.checked >= 4 * 9
    assert "gradients checked" in v.summary()


def test_verified_mode_does_not_change_training():
    x, y = data()

    def run(callbacks):
        tidu.manual_seed(1)
        m = model(dropout=0.5)
        return m.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=3,
                     callbacks=callbacks).history["loss"]

    plain = run([])
    checked = run([tidu.debug.Verify(rate=1.0)])
    np.testing.assert_array_equal(plain, checked)  # same dropout masks, same updates


def test_verified_names_the_wrong_input_of_a_two_input_op():
    a = tidu.tensor(rng.normal(size=(5, 4)), requires_grad=True)
    b = tidu.tensor(rng.normal(size=(5, 4)), requires_grad=True)
    with tidu.debug.verified(rate=1.0), pytest.raises(VerificationError, match="input 1") as e:
        BadScale.apply(a, b).sum().backward()
    assert e.value.input_index == 1 and e.value.site[0] == __file__
    assert np.isclose(e.value.error, 0.5, atol=0.05)  # backward gives twice the derivative


def test_verified_passes_on_builtin_operations_and_skips_kinks():
    x = tidu.tensor(rng.normal(size=(6, 5)), requires_grad=True)
    w = tidu.tensor(rng.normal(size=(5, 4)), requires_grad=True)
    z = tidu.tensor(np.array([[0.0, 1.0], [-1.0, 0.0]]), requires_grad=True)
    with tidu.debug.verified(rate=1.0) as v:
        h = tidu.tanh(x @ w) + tidu.sigmoid(x).sum(axis=1, keepdims=True)
        out = tidu.log_softmax(h, axis=1) * tidu.exp(-h ** 2) / (1 + tidu.abs(h))
        loss = out.mean() + tidu.logsumexp(h, axis=0).sum() + tidu.relu(z).sum()
        loss.backward()
    assert v.checked >= 15
    assert v.skipped.get("non-smooth point", 0) >= 1  # relu at exactly 0


def test_random_forward_is_skipped_not_reported():
    class Noisy(tidu.Function):
        def forward(self, x):
            return x + tidu.random.get_generator().normal(size=x.shape)

        def backward(self, g):
            return g

    x = tidu.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    with tidu.debug.verified(rate=1.0) as v:
        Noisy.apply(x).sum().backward()
    assert v.skipped == {"random or stateful forward": 1}


def test_sampling_rate_and_first_calls():
    x = tidu.tensor(rng.normal(size=(3,)), requires_grad=True)
    with tidu.debug.verified(rate=0.0) as v:
        for _ in range(20):
            tidu.exp(x).sum().backward()
    assert v.seen == 40 and v.sampled == 2  # the first Exp and the first Sum
    with pytest.raises(ValueError, match="rate must be in"):
        tidu.debug.verified(rate=2)


def test_a_later_fit_without_verify_is_not_checked():
    x, y = data(64)
    m = model(BadTanh)
    cb = tidu.debug.Verify(rate=1.0)
    with pytest.raises(VerificationError):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    m.fit(x, y, epochs=1, verbose=0)  # the wrong op still trains, unchecked, as it would
    assert Function.__dict__["apply"] is tidu.debug.verified.__globals__["_ORIGINAL"]
