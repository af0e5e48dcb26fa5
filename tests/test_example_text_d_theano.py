"""Text D's Theano program runs as written under tidu.function, and its figures hold."""

import contextlib
import io

import numpy as np
import pytest

import tidu
from _examples import example


@pytest.fixture(scope="module")
def run():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        res = example("text_d_theano").main(["--steps", "1000", "--brief"])
    return {**res, "printed": out.getvalue()}


def stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def test_the_program_fits_d_exactly_with_finite_xent(run):
    assert run["train_accuracy"] == 1.0  # 784 features > 400 samples: random labels fit
    assert run["all_finite"] and np.isfinite(run["last_xent"]).all()
    assert np.isfinite(run["final_cost"]) and run["final_cost"] < 0.3
    assert run["train"].stats["log_one_minus_sigmoid"] >= 1
    assert run["train"].stats["log_sigmoid"] >= 1 and run["train"].stats["sigmoid"] >= 1
    assert run["new_predictions"].shape == (30,)
    for text in ("Initial model:", "Final model:", "target values for D:", "prediction on D:",
                 "30 new random samples", "training accuracy 100.0%"):
        assert text in run["printed"]


def test_the_literal_formula_overflows_without_the_rewrite(run):
    x, y = run["D"]
    z = x @ run["w0"] + run["b0"]
    assert np.abs(z).max() > 37  # beyond 37, 1 - sigmoid(z) rounds to 0 in float64
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        p_1 = 1 / (1 + np.exp(-z))
        naive = -y * np.log(p_1) - (1 - y) * np.log(1 - p_1)
    assert not np.isfinite(naive).all()  # NumPy, literally: inf (or nan)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        xt, yt = tidu.tensor(x), tidu.tensor(y.astype(np.float64))
        p = 1 / (1 + tidu.exp(-(xt @ tidu.tensor(run["w0"])) - run["b0"]))
        eager = (-yt * tidu.log(p) - (1 - yt) * tidu.log(1 - p)).numpy()
    assert not np.isfinite(eager).all()  # eager tidu, no rewriter: the same infinities
    # the compiled first step from the same initial values is finite and correct
    xent_c = tidu.function([run["x"], run["y"]], -run["y"] * tidu.log(
        1 / (1 + tidu.exp(-tidu.dot(run["x"], tidu.constant(run["w0"])) - run["b0"]))))
    ref = y * np.logaddexp(0, -z)
    np.testing.assert_allclose(xent_c(x, y), ref, rtol=1e-12, atol=1e-300)


def test_compiled_steps_equal_a_numpy_reference(run):
    x, y = run["D"]
    y = y.astype(np.float64)
    w_s, b_s, train = run["w_shared"], run["b_shared"], run["train"]
    w, b = run["w0"].copy(), run["b0"]
    w_s.set_value(w.copy())
    b_s.set_value(b)
    for _ in range(5):
        z = x @ w + b
        p = stable_sigmoid(z)
        xent_ref = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
        pred, xent = train(x, y)
        np.testing.assert_array_equal(pred, p > 0.5)
        np.testing.assert_allclose(xent, xent_ref, rtol=1e-12, atol=1e-12)
        gw = x.T @ (p - y) / len(y) + 0.02 * w
        gb = np.mean(p - y)
        w, b = w - 0.1 * gw, b - 0.1 * gb
        np.testing.assert_allclose(w_s.get_value(), w, rtol=1e-12, atol=1e-12)
        assert abs(float(b_s.get_value()) - b) < 1e-12
