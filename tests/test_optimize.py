"""tidu.optimize: scipy.optimize.minimize over tidu functions and models."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tidu
import tidu.optimize as topt
from tidu.nn import Dense

so = pytest.importorskip("scipy.optimize")

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def parabola(x):
    """Text D's example: x^2 - 4x + 8, minimum 4 at x = 2."""
    return x ** 2 - 4 * x + 8


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _double_backward_works() -> bool:
    """Whether tidu can differentiate a gradient again (what hessp needs)."""
    try:
        x = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True)
        (g,) = tidu.grad((x ** 3).sum(), [x], create_graph=True)
        (h,) = tidu.grad((g * x).sum(), [x])
        return np.allclose(h.numpy(), [9.0, 36.0])
    except Exception:
        return False


needs_hvp = pytest.mark.skipif(not _double_backward_works(),
                               reason="tidu.grad(create_graph=True) not available yet")


# ----- functions of one array -----


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "CG", "TNC", "SLSQP", "Nelder-Mead",
                                    "Powell", "COBYLA"])
def test_parabola_from_1_3_reaches_the_minimum_4_at_2(method):
    res = topt.minimize(parabola, 1.3, method=method)
    tol = 1e-4 if method in ("Nelder-Mead", "Powell", "COBYLA") else 1e-6
    assert float(res.x) == pytest.approx(2.0, abs=tol)
    assert float(res.fun) == pytest.approx(4.0, abs=tol ** 2)
    assert len(res.history) == res.nfev  # one entry per evaluation
    assert res.history[0] == pytest.approx(1.3 ** 2 - 4 * 1.3 + 8)


def test_gradient_methods_get_tidus_gradient_so_they_need_few_evaluations():
    res = topt.minimize(parabola, 1.3, method="BFGS")
    fd = so.minimize(lambda x: float(x[0] ** 2 - 4 * x[0] + 8), [1.3], method="BFGS")
    assert res.nfev <= 4 and res.nfev < fd.nfev  # scipy alone spends evaluations on jac
    assert float(res.x) == pytest.approx(fd.x[0], abs=1e-6)


def test_derivative_free_methods_get_no_jac_and_no_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns if it gets a jac it cannot use
        res = topt.minimize(parabola, 1.3, method="Nelder-Mead")
    assert res.success


@needs_hvp
@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-krylov", "trust-constr",
                                    "dogleg", "trust-exact"])
def test_second_order_methods_on_the_parabola(method):
    res = topt.minimize(parabola, 1.3, method=method)
    assert float(res.x) == pytest.approx(2.0, abs=1e-6)
    assert float(res.fun) == pytest.approx(4.0, abs=1e-10)
    assert res.nfev <= 4  # exact curvature: Newton lands on the minimum of a parabola


def test_x_keeps_its_shape_and_args_reach_fun():
    target = np.arange(6.0).reshape(2, 3)
    res = topt.minimize(lambda x, t: ((x - t) ** 2).sum(), np.zeros((2, 3)), args=(target,),
                        method="L-BFGS-B")
    assert res.x.shape == (2, 3)
    np.testing.assert_allclose(res.x, target, atol=1e-6)


def test_bounds_and_a_default_method():
    res = topt.minimize(parabola, np.array([1.3]), bounds=[(None, 1.5)])  # scipy: L-BFGS-B
    assert res.x[0] == pytest.approx(1.5)
    res = topt.minimize(parabola, np.array([1.3]))  # scipy: BFGS
    assert res.x[0] == pytest.approx(2.0, abs=1e-6)


def test_rosenbrock_jacobian_agrees_with_check_grad_and_scipys_rosen_der():
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # scipy's tutorial
    obj = topt.Objective.from_function(rosen, x0)
    np.testing.assert_allclose(obj.jac(x0), so.rosen_der(x0), rtol=1e-12)
    assert obj.fun(x0) == pytest.approx(so.rosen(x0), rel=1e-14)
    # check_grad compares with forward differences: error ~ sqrt(machine eps) * curvature
    assert so.check_grad(obj.fun, obj.jac, x0) < 1e-4 * np.linalg.norm(so.rosen_der(x0))
    res = topt.minimize(rosen, x0, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-9})
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-5)


def test_mlp_loss_in_float64_agrees_with_check_grad():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((30, 3)), rng.standard_normal((30, 1))
    shapes = [(3, 5), (5,), (5, 1), (1,)]
    params = [tidu.nn.Parameter(rng.standard_normal(s) * 0.5) for s in shapes]
    assert all(p.dtype == np.float64 for p in params)

    def loss():
        w1, b1, w2, b2 = params
        return ((tidu.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()

    obj = topt.Objective(params, loss)
    x0 = obj.vector()
    assert x0.shape == (26,)
    err = so.check_grad(obj.fun, obj.jac, x0, epsilon=1e-7)
    assert err < 1e-6 * max(1.0, np.linalg.norm(obj.jac(x0)))
    assert so.check_grad(obj.fun, obj.jac, x0 + 0.3, epsilon=1e-7) < 1e-5


@needs_hvp
def test_hessp_matches_scipys_rosenbrock_hessian():
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # scipy's tutorial
    obj = topt.Objective.from_function(rosen, x0)
    p = np.random.default_rng(1).standard_normal(5)
    np.testing.assert_allclose(obj.hessp(x0, p), so.rosen_hess_prod(x0, p), rtol=1e-10)
    np.testing.assert_allclose(obj.hess(x0), so.rosen_hess(x0), rtol=1e-10)
    for method in ("Newton-CG", "trust-ncg", "trust-krylov", "trust-exact"):
        res = topt.minimize(rosen, x0, method=method, tol=1e-10)
        np.testing.assert_allclose(res.x, np.ones(5), atol=1e-6)
    # the same iterates as scipy with the hand-written rosen_der and rosen_hess_prod
    ours = topt.minimize(rosen, x0, method="Newton-CG")
    ref = so.minimize(so.rosen, x0, method="Newton-CG", jac=so.rosen_der,
                      hessp=so.rosen_hess_prod)
    assert (ours.nit, ours.nfev) == (ref.nit, ref.nfev)
    np.testing.assert_allclose(ours.x, ref.x, rtol=1e-10)


@needs_hvp
def test_hessp_of_a_model_loss_matches_tidu_func_hvp_and_is_reused_per_point():
    func = pytest.importorskip("tidu.func")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    arrays = [rng.standard_normal(s) * 0.5 for s in [(3, 4), (4,), (4, 1), (1,)]]

    def f(w1, b1, w2, b2):
        return ((tidu.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()

    params = [tidu.nn.Parameter(a.copy()) for a in arrays]
    obj = topt.Objective(params, lambda: f(*params))
    x0 = obj.vector()
    vs = [rng.standard_normal(a.shape) for a in arrays]
    _, want = func.hvp(f, tuple(arrays), tuple(vs))
    flat = np.concatenate([v.ravel() for v in vs])
    np.testing.assert_allclose(obj.hessp(x0, flat),
                               np.concatenate([np.asarray(h).ravel() for h in want]),
                               rtol=1e-10, atol=1e-12)
    h = obj.hess(x0)  # 21 more products at the same point, from one first-order graph
    np.testing.assert_allclose(h @ flat, obj.hessp(x0, flat), rtol=1e-10, atol=1e-12)
    assert obj.size == 21 and obj.nhev == 23 and obj.nfev == 0


# ----- non-finite values -----


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_a_nonfinite_loss_raises_and_leaves_the_best_point():
    x = tidu.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(topt.NonFiniteObjectiveError, match="loss is nan"):
        topt.minimize_model([x], lambda: (tidu.log(x) ** 2 + 3 * x).sum(), method="BFGS")
    assert x.numpy()[0] > 0  # the best point, not the NaN one


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_nonfinite_inf_lets_derivative_free_methods_step_around_a_domain():
    # -log(x) + x has its minimum 1 at x = 1; the simplex starts with a vertex at x < 0
    simplex = {"initial_simplex": [[3.0], [-0.5]]}
    res = topt.minimize(lambda x: -tidu.log(x) + x, 3.0, method="Nelder-Mead",
                        nonfinite="inf", options=simplex)
    assert float(res.x) == pytest.approx(1.0, abs=1e-3)
    assert float(res.fun) == pytest.approx(1.0, abs=1e-9)
    assert np.inf in res.history
    with pytest.raises(topt.NonFiniteObjectiveError, match="loss is nan"):
        topt.minimize(lambda x: -tidu.log(x) + x, 3.0, method="Nelder-Mead", options=simplex)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_a_nonfinite_gradient_at_a_finite_loss_is_reported():
    x = tidu.tensor(np.array([0.0, 1.0]), requires_grad=True)  # d sqrt(x)/dx = inf at 0
    with pytest.raises(topt.NonFiniteObjectiveError, match="gradient is not finite"):
        topt.minimize_model([x], lambda: tidu.sqrt(x).sum(), method="L-BFGS-B")


def test_without_double_backward_second_order_methods_say_what_they_need(monkeypatch):
    import tidu.optimize.bridge as bridge
    monkeypatch.setattr(bridge, "_double_backward_available", lambda: False)
    with pytest.raises(ValueError, match="hessp=True"):
        topt.minimize(parabola, 1.3, method="trust-ncg")
    res = topt.minimize(parabola, 1.3, method="Newton-CG")  # scipy differences the jac
    assert float(res.x) == pytest.approx(2.0, abs=1e-5) and res.nhev == 0


def test_bad_loss_functions_are_reported():
    x = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        topt.minimize_model([x], lambda: x * 2)
    with pytest.raises(TypeError, match="Tensor"):
        topt.minimize_model([x], lambda: 3.0)
    with pytest.raises(ValueError, match="nonfinite"):
        topt.minimize(parabola, 1.3, nonfinite="ignore")
    with pytest.raises(ValueError, match="no parameters"):
        topt.minimize_model([], lambda: x.sum())


# ----- models and parameter vectors -----


def test_parameters_to_vector_and_back_keep_order_shape_and_dtype():
    a = tidu.nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    b = tidu.nn.Parameter(np.zeros(3))
    topt.vector_to_parameters(np.arange(7.0), [a, b])
    assert a.dtype == np.float32 and b.dtype == np.float64
    assert a.numpy().tolist() == [[0, 1], [2, 3]] and b.numpy().tolist() == [4, 5, 6]
    v = topt.parameters_to_vector([a, b])
    assert v.dtype == np.float64 and v.tolist() == list(range(7))
    with pytest.raises(ValueError, match="7 entries"):
        topt.vector_to_parameters(np.zeros(6), [a, b])


def test_a_float32_regression_model_fits_exactly_and_holds_the_result():
    tidu.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.5], [-2.0], [0.5]], dtype=np.float32) + 0.25
    model = tidu.Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    res = topt.minimize_model(model, x=x, y=y, method="L-BFGS-B",
                              callback=lambda xk: seen.append(model.evaluate(x, y, verbose=0)))
    assert res.success and res.fun < 1e-10
    assert model.layers[0].kernel.dtype == np.float32  # written back in the model's dtype
    np.testing.assert_allclose(model.layers[0].kernel.numpy()[:, 0], [1.5, -2.0, 0.5],
                               atol=1e-4)
    np.testing.assert_allclose(topt.parameters_to_vector(model.parameters()), res.x,
                               atol=1e-6)
    assert seen and seen[-1] < seen[0]  # the callback saw the iterates in the model
    assert model.evaluate(x, y, verbose=0) < 1e-10


def test_an_unbuilt_uncompiled_model_fits_from_x_y_and_a_loss_name():
    tidu.manual_seed(2)
    x = np.linspace(-1, 1, 30, dtype=np.float32)[:, None]
    model = tidu.Sequential([Dense(1)])
    res = topt.minimize_model(model, x=x, y=3 * x - 1, loss="mse", method="BFGS")
    assert model.built and res.fun < 1e-10
    np.testing.assert_allclose([model.layers[0].kernel.item(), model.layers[0].bias.item()],
                               [3.0, -1.0], atol=1e-4)
    with pytest.raises(ValueError, match="loss="):
        topt.minimize_model(tidu.Sequential([Dense(1)]), x=x, y=x)
    with pytest.raises(ValueError, match="not both"):
        topt.minimize_model(model, lambda: model(x).sum(), x=x, y=x)


def test_a_small_mlp_fits_with_a_closure_and_frozen_weights_stay():
    tidu.manual_seed(1)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (40, 1)).astype(np.float32)
    y = np.sin(2 * x)
    model = tidu.Sequential([Dense(16, activation="tanh", input_shape=(1,)), Dense(1)])
    model.layers[1].bias.requires_grad = False
    frozen = model.layers[1].bias.numpy().copy()
    loss = tidu.losses.get("mse")

    def closure():
        return loss(y, model(x))

    res = topt.minimize_model(model, closure, method="BFGS", options={"maxiter": 2000})
    assert res.x.size == 16 + 16 + 16  # the frozen bias is not a variable
    assert float(closure().item()) < 1e-4
    np.testing.assert_array_equal(model.layers[1].bias.numpy(), frozen)


def test_an_interrupted_run_leaves_the_model_at_its_best_point():
    w = tidu.tensor(np.array([5.0]), requires_grad=True)

    calls = []

    def stop(intermediate_result):
        calls.append(intermediate_result.fun)
        if len(calls) >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        topt.minimize_model([w], lambda: ((w - 1.0) ** 4).sum(), method="BFGS", callback=stop)
    assert abs(w.numpy()[0] - 1.0) < 4.0


def test_stop_iteration_from_the_callback_ends_the_run():
    w = tidu.tensor(np.array([5.0, -3.0]), requires_grad=True)

    def enough(intermediate_result):
        if intermediate_result.fun < 1:
            raise StopIteration

    res = topt.minimize_model([w], lambda: rosen(w), method="L-BFGS-B", callback=enough)
    assert res.fun < 1 and "StopIteration" in res.message
    assert topt.parameters_to_vector([w]).tolist() == res.x.tolist()


# ----- scipy is optional -----


def test_importing_tidu_optimize_does_not_import_scipy():
    assert tidu.optimize is topt
    code = "import sys, tidu, tidu.optimize; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_without_scipy_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"pip install tidu\[scipy\]"):
        topt.minimize(parabola, 1.3)


# ----- Text A's logistic regression on cat vs non-cat -----


def test_catvnoncat_lbfgsb_reaches_the_cost_of_2000_gradient_descent_steps():
    if not (DATA / "catvnoncat").is_dir():
        pytest.skip(f"needs the cat vs non-cat data in {DATA / 'catvnoncat'} (not present)")
    pytest.importorskip("h5py")
    (xtr, ytr), _, _ = tidu.datasets.catvnoncat.load_data(DATA / "catvnoncat")
    X = xtr.reshape(len(xtr), -1) / 255.0  # (209, 12288), float64
    Y = ytr.astype(np.float64)[:, None]
    w = tidu.zeros(X.shape[1], 1, dtype="float64", requires_grad=True)
    b = tidu.tensor(0.0, dtype="float64", requires_grad=True)

    def cost():  # the cross-entropy of sigmoid(Xw + b), written stably
        z = X @ w + b
        return (tidu.softplus(z) - Y * z).mean()

    res = topt.minimize_model([w, b], cost, method="L-BFGS-B")
    gd_cost_2000 = 0.135608  # Text A's gradient descent after 2000 steps (lr 0.005, from 0)
    first = next(i for i, f in enumerate(res.history) if f <= gd_cost_2000) + 1
    assert first < 100  # far fewer evaluations than 2000 gradient steps
    assert res.fun < gd_cost_2000 / 10
    assert np.mean(((X @ w.numpy() + b.numpy()) > 0) == (Y > 0.5)) == 1.0
