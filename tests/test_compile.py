"""tidu.compile: symbolic graphs, tidu.function, each optimization shown to fire, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from tidu.errors import ShapeError


def ops_in(f) -> str:
    return f.graph


# ----- symbolic variables -----
def test_placeholders_have_dtype_and_partly_known_shape():
    x = tidu.placeholder((None, 784), "float32", name="x")
    assert x.static_shape == (None, 784) and x.dtype == np.float32 and x.ndim == 2
    assert tidu.dmatrix("d").dtype == np.float64 and tidu.dmatrix("d").ndim == 2
    assert tidu.fvector().dtype == np.float32 and tidu.tensor4().ndim == 4
    assert tidu.scalar().static_shape == ()
    y = tidu.dot(x, tidu.shared(np.ones((784, 10), "float32")))
    assert y.static_shape == (None, 10) and y.dtype == np.float32


def test_symbolic_values_refuse_to_be_read():
    x = tidu.vector("x")
    with pytest.raises(TypeError, match="symbolic"):
        bool(x > 0)
    with pytest.raises(TypeError, match="symbolic"):
        x.numpy()
    with pytest.raises(tidu.GradientError, match="tidu.grad"):
        x.sum().backward()


def test_shared_get_set_value():
    w = tidu.shared(np.arange(3.0), name="w")
    v = w.get_value()
    v[0] = 99
    assert w.get_value()[0] == 0  # a copy unless borrow=True
    w.set_value([5, 6, 7])
    assert w.get_value().dtype == np.float64 and w.get_value().tolist() == [5, 6, 7]
    with pytest.raises(TypeError, match="cannot store"):
        w.set_value(np.array(["a"]))


# ----- function semantics -----
def test_single_output_list_output_and_no_output():
    x = tidu.dvector("x")
    f1 = tidu.function([x], x * 2)
    f2 = tidu.function([x], [x * 2, x.sum()])
    f0 = tidu.function([x], None)
    a = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f1(a), [2.0, 4.0])
    out = f2(a)
    assert isinstance(out, list) and float(out[1]) == 3.0
    assert f0(a) == []


def test_updates_read_the_old_values():
    a = tidu.shared(1.0, name="a")
    b = tidu.shared(2.0, name="b")
    swap = tidu.function([], [], updates=[(a, b), (b, a)])
    swap()
    assert (float(a.get_value()), float(b.get_value())) == (2.0, 1.0)
    w = tidu.shared(np.zeros(3), name="w")
    v = tidu.shared(np.zeros(3), name="v")
    step = tidu.function([], [], updates=[(w, w + 1), (v, v + w)])
    step()
    step()
    np.testing.assert_array_equal(w.get_value(), 2.0)
    np.testing.assert_array_equal(v.get_value(), 1.0)  # v + (old w): 0 + 0, then 0 + 1


def test_outputs_are_computed_before_updates():
    w = tidu.shared(np.ones(2), name="w")
    f = tidu.function([], [w * 1.0, w], updates=[(w, w + 1)])
    first = f()
    np.testing.assert_array_equal(first[0], 1.0)
    np.testing.assert_array_equal(first[1], 1.0)
    second = f()
    np.testing.assert_array_equal(second[1], 2.0)
    np.testing.assert_array_equal(first[1], 1.0)  # returned values are not overwritten


def test_givens_replace_a_variable():
    x = tidu.dvector("x")
    data = tidu.shared(np.array([1.0, 2.0, 3.0]), name="data")
    f = tidu.function([], (x * x).sum(), givens=[(x, data)])
    assert float(f()) == 14.0


def test_a_new_shape_gets_its_own_plan_with_the_same_results():
    x = tidu.dmatrix("x")
    w = tidu.shared(np.arange(4.0), name="w")
    f = tidu.function([x], tidu.tanh(tidu.dot(x, w)) * 2 + 1)
    rng = np.random.default_rng(0)
    for n in (5, 3, 5):
        a = rng.standard_normal((n, 4))
        np.testing.assert_allclose(f(a), np.tanh(a @ np.arange(4.0)) * 2 + 1, rtol=1e-14)
    assert len(f._plans) == 2


# ----- errors name the input, the expected and the given shape -----
def test_wrong_shape_names_the_input_and_both_shapes():
    x = tidu.placeholder((None, 3), "float64", name="x")
    f = tidu.function([x], x.sum(), name="total")
    with pytest.raises(ShapeError, match=r"total: input 0 \('x'\) expects shape \(\?, 3\), "
                                         r"got shape \(2, 4\)"):
        f(np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="expects shape"):
        f(np.zeros(3))


def test_wrong_dtype_and_argument_count():
    x = tidu.fvector("x")
    f = tidu.function([x], x * 2)
    with pytest.raises(TypeError, match="expects dtype float32, got float64"):
        f(np.zeros(3))
    g = tidu.function([x], x * 2, allow_input_downcast=True)
    assert g(np.ones(2)).dtype == np.float32
    assert f([1.0, 2.0]).dtype == np.float32  # a list converts
    with pytest.raises(TypeError, match="expected 1 input"):
        f(np.zeros(3, "float32"), np.zeros(3, "float32"))


def test_missing_input_is_named():
    x, y = tidu.dvector("x"), tidu.dvector("y")
    with pytest.raises(ValueError, match="variable 'y'.*not among the inputs"):
        tidu.function([x], x + y)


# ----- each optimization fires -----
def test_common_subexpression_elimination():
    x = tidu.dvector("x")
    f = tidu.function([x], tidu.exp(x) * 2 + tidu.exp(x))
    assert f.stats["cse"] >= 1
    assert f.stats["nodes"] == 3  # one Exp, Mul, Add
    a = np.array([0.5, -1.0])
    np.testing.assert_allclose(f(a), 3 * np.exp(a))


def test_constant_folding():
    x = tidu.dvector("x")
    f = tidu.function([x], x * (tidu.constant(2.0, "float64") * 3.0 + 1.0))
    assert f.stats["constant_folding"] >= 2
    assert "constant 7.0" in f.graph
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [7.0, 14.0])


@pytest.mark.parametrize("z", [0.3, 40.0, -40.0, 1000.0, -1000.0])
def test_stable_log_sigmoid_rewrites_and_dead_code(z):
    x = tidu.dvector("x")
    p = tidu.sigmoid(x)
    f = tidu.function([x], [tidu.log(p), tidu.log(1 - p)])
    assert f.stats["log_sigmoid"] == 1 and f.stats["log_one_minus_sigmoid"] == 1
    assert "Sigmoid" not in f.graph and f.stats["dead_code"] >= 1
    a = np.array([z])
    lp, l1p = f(a)
    ref = torch.nn.functional.logsigmoid(torch.tensor(a))
    np.testing.assert_allclose(lp, ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(l1p, torch.nn.functional.logsigmoid(-torch.tensor(a)).numpy(),
                               rtol=1e-12)


def test_sigmoid_written_out_is_recognised_and_its_gradient_is_stable():
    x = tidu.dvector("x")
    p = 1 / (1 + tidu.exp(-x))
    cost = -tidu.log(1 - p).sum()
    (g,) = tidu.grad(cost, [x])
    f = tidu.function([x], [cost, g])
    assert f.stats["sigmoid"] == 1 and f.stats["log_one_minus_sigmoid"] == 1
    c, gv = f(np.array([800.0, -3.0]))
    assert np.isfinite(c) and np.all(np.isfinite(gv))
    t = torch.tensor([800.0, -3.0], dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.softplus(t).sum()
    ref.backward()
    np.testing.assert_allclose(c, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(gv, t.grad.numpy(), rtol=1e-12)


def test_log_softmax_and_logsumexp_rewrites():
    z = tidu.dmatrix("z")
    f = tidu.function([z], [tidu.log(tidu.softmax(z)), tidu.log(tidu.exp(z).sum(axis=1))])
    assert f.stats["log_softmax"] == 1 and f.stats["logsumexp"] == 1
    a = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    ls, lse = f(a)
    t = torch.tensor(a)
    np.testing.assert_allclose(ls, torch.log_softmax(t, 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(lse, torch.logsumexp(t, 1).numpy(), rtol=1e-12)


def test_buffers_are_reused_without_changing_results():
    x = tidu.dmatrix("x")
    y = x
    for _ in range(6):
        y = tidu.tanh(y * 1.5 + 0.1) - y / 3
    out = y.sum(axis=1)
    fast = tidu.function([x], out)
    plain = tidu.compile.CompiledFunction([x], out, reuse_buffers=False)
    a = np.random.default_rng(1).standard_normal((50, 40))
    np.testing.assert_array_equal(fast(a), plain(a))
    np.testing.assert_array_equal(fast(a), plain(a))  # the second call runs the plan
    assert fast.stats["buffer_reuse"] >= 5
    assert fast.stats["buffers"] <= 3 and plain.stats["buffer_reuse"] == 0


def test_shared_variables_are_updated_in_place():
    x = tidu.dvector("x")
    w = tidu.shared(np.zeros(4), name="w")
    arr = w.get_value(borrow=True)
    f = tidu.function([x], [], updates=[(w, w - 0.5 * x)])
    for _ in range(3):
        f(np.ones(4))
    assert w.get_value(borrow=True) is arr
    np.testing.assert_array_equal(arr, -1.5)
    assert f.stats["inplace_updates"] == 1
    assert "out=s" in f.code


def test_graph_text_and_drawing():
    x = tidu.dvector("x")
    f = tidu.function([x], tidu.log(tidu.sigmoid(x)).sum())
    text = f.graph
    assert "Softplus" in text and "input x" in text
    assert tidu.debugprint(f) == text
    assert tidu.debugprint(x * 2).startswith("out:")
    assert f.to_dot().startswith("digraph tidu {") and "Softplus" in f.to_dot()
    assert tidu.viz.to_dot(f) == f.to_dot()


# ----- gradients -----
def test_symbolic_gradients_of_an_mlp_match_torch():
    rng = np.random.default_rng(0)
    W1 = tidu.shared(rng.standard_normal((5, 7)) * 0.5, name="W1")
    b1 = tidu.shared(np.zeros(7), name="b1")
    W2 = tidu.shared(rng.standard_normal((7, 3)) * 0.5, name="W2")
    x, y = tidu.dmatrix("x"), tidu.dmatrix("y")
    h = tidu.relu(tidu.dot(x, W1) + b1)
    p = tidu.softmax(tidu.dot(h, W2))
    cost = -(y * tidu.log(p)).sum(axis=1).mean() + 1e-3 * (W1 * W1).sum()
    grads = tidu.grad(cost, [W1, b1, W2])
    f = tidu.function([x, y], [cost, *grads])
    xa = rng.standard_normal((6, 5))
    ya = np.eye(3)[rng.integers(0, 3, 6)]
    out = f(xa, ya)
    ts = [torch.tensor(v.get_value(), requires_grad=True) for v in (W1, b1, W2)]
    hh = torch.relu(torch.tensor(xa) @ ts[0] + ts[1])
    ref = -(torch.tensor(ya) * torch.log_softmax(hh @ ts[2], 1)).sum(1).mean() \
        + 1e-3 * (ts[0] ** 2).sum()
    ref.backward()
    np.testing.assert_allclose(out[0], ref.item(), rtol=1e-12)
    for got, t in zip(out[1:], ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert f.stats["log_softmax"] == 1


def test_gradient_of_a_parameter_tensor_reads_its_current_value():
    w = tidu.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = tidu.dvector("x")
    cost = (w * w * x).sum()
    (g,) = tidu.grad(cost, [w])
    f = tidu.function([x], g)
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 4.0])
    w.data[:] = [3.0, 5.0]
    np.testing.assert_array_equal(f(np.ones(2)), [6.0, 10.0])


def test_gradient_requires_a_scalar_cost():
    x = tidu.dvector("x")
    with pytest.raises(tidu.GradientError, match="scalar"):
        tidu.grad(tidu.placeholder((3,), "float64") * 2, [x])


def test_symbolic_index_and_condition():
    x, i = tidu.dmatrix("x"), tidu.lvector("i")
    w = tidu.shared(np.arange(6.0).reshape(3, 2), name="w")
    rows = w[i]
    (g,) = tidu.grad((rows * x).sum(), [w])
    f = tidu.function([x, i], [rows, g, tidu.where(x > 0, x, -x)])
    rows_v, g_v, abs_v = f(np.ones((4, 2)), np.array([0, 2, 2, 1]))
    np.testing.assert_array_equal(rows_v, np.arange(6.0).reshape(3, 2)[[0, 2, 2, 1]])
    np.testing.assert_array_equal(g_v, [[1, 1], [1, 1], [2, 2]])  # repeated rows accumulate
    np.testing.assert_array_equal(abs_v, 1.0)


def test_sparse_labels_in_a_compiled_fit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 6)).astype("float32")
    y = rng.integers(0, 3, 40)
    hist = {}
    for jit in (False, True):
        tidu.manual_seed(0)
        m = tidu.Sequential([tidu.nn.Dense(3, activation="softmax", input_shape=(6,))])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        hist[jit] = m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0).history["loss"]
    np.testing.assert_allclose(hist[True], hist[False], rtol=1e-5)


def test_symbolic_second_derivatives_compile_to_a_hessian_vector_product():
    x, v = tidu.dvector("x"), tidu.dvector("v")
    (g,) = tidu.grad((tidu.tanh(x) * x ** 3).sum(), [x])
    (hv,) = tidu.grad((g * v).sum(), [x])
    f = tidu.function([x, v], [g, hv])
    a, d = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    got_g, got_hv = f(a, d)
    ta = torch.tensor(a, requires_grad=True)
    fn = lambda t: (torch.tanh(t) * t ** 3).sum()  # noqa: E731
    _, ref_hv = torch.autograd.functional.hvp(fn, ta, torch.tensor(d))
    (ref_g,) = torch.autograd.grad(fn(ta), ta)
    np.testing.assert_allclose(got_g, ref_g.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got_hv, ref_hv.numpy(), rtol=1e-12)
    assert f.stats["gradients"] == 2
