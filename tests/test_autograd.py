"""The autograd engine: the chain rule on Text A's graph, accumulation, deep graphs, freed
graphs, tidu.grad, no_grad, operators with foreign operands, dtypes and numerical stability."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import tidu


def leaf(values, dtype=None):
    return tidu.tensor(values, requires_grad=True, dtype=dtype)


# ----- Text A: J(a, b, c) = 3(a + b*c) -----


def test_text_a_computation_graph_forward_and_backward():
    a, b, c = leaf(7.0), leaf(4.0), leaf(2.0)
    u = b * c
    v = a + u
    J = 3 * v
    assert (u.item(), v.item(), J.item()) == (8.0, 15.0, 45.0)
    for t in (u, v):
        t.retain_grad()
    J.backward()
    assert v.grad.item() == 3.0  # dJ/dv
    assert u.grad.item() == 3.0  # dJ/du
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, 6.0, 12.0)


def test_text_a_graph_with_tidu_grad_and_nudges():
    a, b, c = leaf(7.0, "float64"), leaf(4.0, "float64"), leaf(2.0, "float64")

    def J(a, b, c):
        return 3 * (a + b * c)

    grads = tidu.grad(J(a, b, c), [a, b, c])
    assert [g.item() for g in grads] == [3.0, 6.0, 12.0]
    # the text's nudge of 0.001: J moves by (dJ/da) * 0.001
    assert J(a + 0.001, b, c).item() - 45.0 == pytest.approx(3 * 0.001)
    assert J(a, b + 0.001, c).item() - 45.0 == pytest.approx(6 * 0.001)


# ----- accumulation -----


def test_gradients_accumulate_until_zeroed():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 - 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])


def test_a_tensor_used_several_times_gets_the_sum_of_its_paths():
    x = leaf(3.0, "float64")
    y = x * x + x * 2 + x  # dy/dx = 2x + 3
    y.backward()
    assert x.grad.item() == 9.0
    a = leaf([1.0, 2.0])
    (a + a).sum().backward()  # one op consuming the same tensor twice
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_leaf_gradients_are_writable_and_not_shared():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # Add hands one array to both inputs, sum a broadcast view
    a.grad.data *= 10  # what an optimizer or clip-by-norm does in place
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    g = np.ones(2, dtype=np.float32)
    c = leaf([1.0, 1.0])
    c.backward(g)
    c.grad.data += 1
    np.testing.assert_array_equal(g, [1.0, 1.0])


# ----- deep graphs and freeing -----


def test_chain_of_100000_operations_backpropagates_without_recursion_error():
    x = leaf(1.0, "float64")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y
    gc.collect()


def test_deleting_a_deep_graph_that_was_never_backpropagated_does_not_crash():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    assert y.item() == 100_001.0
    del y
    gc.collect()
    assert x.grad is None


def test_second_backward_through_a_freed_graph_raises_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(tidu.GradientError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_frees_saved_arrays():
    x = leaf(np.ones(3))
    y = x.exp()
    z = y.sum()
    z.backward()
    assert not hasattr(y.grad_fn, "out")  # Exp's saved output is released


# ----- tidu.grad -----


def test_grad_returns_gradients_without_touching_dot_grad():
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    w, x = leaf(w0), leaf(x0)
    h = tidu.tanh(x @ w)  # a non-leaf input
    loss = (h * h).mean()
    gw, gh, gx = tidu.grad(loss, [w, h, x])
    assert w.grad is None and x.grad is None and h.grad is None
    tw, tx = (torch.tensor(v, requires_grad=True) for v in (w0, x0))
    th = torch.tanh(tx @ tw)
    rw, rh, rx = torch.autograd.grad((th * th).mean(), [tw, th, tx])
    for got, want in ((gw, rw), (gh, rh), (gx, rx)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    single = tidu.grad((x @ w).sum(), w)
    assert isinstance(single, tidu.Tensor) and single.shape == (3, 2)


def test_grad_with_output_gradients_and_unused_inputs():
    x, unused = leaf([1.0, 2.0, 3.0]), leaf([1.0])
    y = x * x
    gx, gu = tidu.grad(y, [x, unused], grad_outputs=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(gx.numpy(), [2.0, 0.0, -6.0])
    np.testing.assert_array_equal(gu.numpy(), [0.0])
    assert not gx.requires_grad


def test_grad_of_several_outputs_sums_them():
    x = leaf(2.0, "float64")
    (g,) = tidu.grad([x * x, x * 3], [x])
    assert g.item() == 7.0


# ----- no_grad -----


def test_no_grad_context_records_nothing_and_restores_the_mode():
    w = leaf([1.0, 2.0])
    with tidu.no_grad():
        y = w * 2
        assert not tidu.is_grad_enabled()
        with tidu.enable_grad():
            z = w * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert tidu.is_grad_enabled()
    with pytest.raises(RuntimeError, match="boom"), tidu.no_grad():
        raise RuntimeError("boom")
    assert tidu.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    w = leaf([1.0])

    @tidu.no_grad()
    def f(t):
        return t * 2

    @tidu.no_grad
    def g(t):
        return t * 2

    assert not f(w).requires_grad and not g(w).requires_grad
    assert f(w).item() == 2.0 and g.__name__ == "g"
    assert (w * 2).requires_grad


# ----- tensor basics -----


def test_detach_item_numpy_and_array_facts():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y.numpy())
    assert y.grad_fn.name == "Mul" and not y.is_leaf and x.is_leaf
    assert (x.shape, x.ndim, x.dtype, x.size, len(x)) == ((2, 3), 2, np.float32, 6, 2)
    assert isinstance(x.numpy(), np.ndarray)
    assert y.sum().item() == 42.0 and isinstance(y.sum().item(), float)
    assert float(y[0, 0]) == 2.0 and int(y[1, 2]) == 12
    with pytest.raises(ValueError, match="one element"):
        x.item()


def test_repr():
    assert repr(tidu.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(leaf([1.0, 2.0])) == "tensor([1., 2.], requires_grad=True)"
    assert repr(leaf([1.0]) * 2) == "tensor([2.], grad_fn=Mul)"
    assert repr(tidu.tensor(np.array([1.5]))) == "tensor([1.5], dtype=float64)"
    assert repr(tidu.tensor(3)) == "tensor(3, dtype=int64)"
    assert repr(tidu.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"


# ----- operators with Python scalars and NumPy arrays on either side -----


@pytest.mark.parametrize(
    "expr",
    [
        lambda t, A: A(np.ones(3)) * t,
        lambda t, A: t * A(np.full(3, 2.0)),
        lambda t, A: A(np.arange(3.0)) + t,
        lambda t, A: A(np.arange(3.0)) - t,
        lambda t, A: t - A(np.arange(3.0)),
        lambda t, A: A(np.full(3, 2.0)) / t,
        lambda t, A: A(np.full(3, 2.0)) ** t,
        lambda t, A: t ** A(np.arange(3.0)),
        lambda t, A: 2 - t,
        lambda t, A: 1 / t,
        lambda t, A: 2**t,
        lambda t, A: t**2,
        lambda t, A: 3 + t,
        lambda t, A: t - 1.5,
        lambda t, A: t / 4,
        lambda t, A: A(np.ones((2, 3))) @ t,
        lambda t, A: t @ A(np.ones((3, 2))),
        lambda t, A: -t + abs(t),
    ],
)
def test_operators_with_scalars_and_arrays_on_either_side(expr, torch_check):
    """NumPy arrays on the left defer to the Tensor (``__array_ufunc__ = None``)."""
    x0 = np.array([0.5, 1.5, 2.5])
    assert isinstance(expr(tidu.tensor(x0), np.asarray), tidu.Tensor)
    torch_check(lambda t: expr(t, np.asarray), lambda t: expr(t, torch.from_numpy), [x0])


def test_comparisons_give_boolean_tensors_outside_the_graph():
    x = leaf([1.0, -1.0])
    m = x > 0
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal((x <= np.array([1.0, -2.0])).numpy(), [True, False])


# ----- dtypes -----


def test_dtype_rules():
    x = tidu.tensor([1.0, 2.0])
    assert x.dtype == np.float32  # Python floats default to float32
    assert tidu.tensor(np.ones(2)).dtype == np.float64  # NumPy arrays keep their dtype
    assert tidu.tensor([1.0], dtype="float64").dtype == np.float64
    assert (x * 2.0).dtype == np.float32 and (2.5 - x).dtype == np.float32
    assert (x * np.float64(2.0)).dtype == np.float32  # NumPy scalars act like Python scalars
    assert (x / np.float64(3.0)).dtype == np.float32
    assert (x + tidu.tensor(np.ones(2))).dtype == np.float64
    assert (x @ np.ones(2)).dtype == np.float64
    assert tidu.ones(2).dtype == np.float32 and tidu.randn(2, dtype="float64").dtype == np.float64


def test_gradients_have_the_dtype_of_their_tensor():
    a = leaf([1.0, 2.0])  # float32
    b = leaf(np.array([3.0, 4.0]))  # float64
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])
    c = leaf([1.0, 2.0])
    (c * c).backward(np.array([1.0, 1.0]))  # a float64 output gradient for a float32 output
    assert c.grad.dtype == np.float32
    d = leaf([1.0])
    d.backward(tidu.tensor(np.array([2.0])))  # backward on a leaf with a float64 gradient
    assert d.grad.dtype == np.float32


# ----- numerical stability at |x| = 1e4 -----


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, fn, ref",
    [
        ("sigmoid", tidu.sigmoid, torch.sigmoid),
        ("softmax", lambda t: tidu.softmax(t, -1), lambda t: torch.softmax(t, -1)),
        ("log_softmax", lambda t: tidu.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1)),
        ("logsumexp", lambda t: tidu.logsumexp(t, -1), lambda t: torch.logsumexp(t, -1)),
        ("tanh", tidu.tanh, torch.tanh),
    ],
)
def test_stable_for_inputs_of_magnitude_1e4(name, fn, ref, dtype):
    x0 = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4 + 1.0, -2e4, 5e3]], dtype=dtype)
    x = leaf(x0)
    y = fn(x)
    v = np.linspace(-1.0, 1.0, y.size).reshape(y.shape).astype(dtype)
    y.backward(v)
    assert y.dtype == np.dtype(dtype) and x.grad.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    t = torch.tensor(x0, requires_grad=True)
    r = ref(t)
    r.backward(torch.from_numpy(v))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y.numpy(), r.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


def test_retain_grad_on_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x * 4  # no retain_grad: keeps no .grad
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18 + 4, 36 + 4])
    assert other.grad is None


# ----- custom Functions -----


class Cube(tidu.Function):
    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, grad):
        return grad * 3 * self.x**2


def test_custom_function_backward_and_gradcheck():
    x = leaf([1.0, -2.0])
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert tidu.gradcheck(lambda t: Cube.apply(t), [np.array([0.3, -1.2, 2.0])]).ok


def test_gradcheck_catches_a_wrong_gradient():
    class BadSquare(tidu.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return grad * self.x  # should be 2x

    with pytest.raises(tidu.GradcheckError, match="FAILED"):
        tidu.gradcheck(lambda t: BadSquare.apply(t), [np.array([1.0, 2.0])])
    result = tidu.gradcheck(lambda t: BadSquare.apply(t), [np.array([1.0, 2.0])],
                            raise_exception=False)
    assert not result.ok


def test_leaf_grads_never_alias_each_other_or_the_callers_gradient():
    a = tidu.tensor([1.0], requires_grad=True)
    b = tidu.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 1  # an optimizer may update a gradient in place
    assert b.grad.tolist() == [1.0]
    g = np.ones(2, np.float32)
    w = tidu.tensor([1.0, 2.0], requires_grad=True)
    w.backward(g)
    w.grad.data += 5
    assert g.tolist() == [1.0, 1.0]


def test_retained_non_leaf_accumulates_without_changing_what_flows_back():
    x = tidu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).retain_grad()
    z = (y * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert y.grad.tolist() == [4.0, 4.0]
    assert x.grad.tolist() == [12.0, 12.0]


@pytest.mark.parametrize("seed", range(5))
def test_random_dag_gradients_match_torch(seed):
    """The engine's order (newest node first): tensors reused by later nodes at every depth,
    several roots, in-place steps and a tensor built before its sibling branch; the leaves'
    gradients equal torch's."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((4, 4))
    w0 = rng.standard_normal((4, 4))

    def build(lib, x, w):
        made = [x, w]
        for i in range(12):
            a, b = (made[j] for j in rng_pick[i])
            op = ops[i]
            made.append(a * b if op == 0 else a + b if op == 1 else
                        lib.tanh(a) @ w if op == 2 else a - 0.5 * b)
        return [made[-1].sum() + (x * w).sum(), (made[-3] * made[5]).sum()]

    ops = rng.integers(0, 4, 12)
    rng_pick = [sorted(rng.choice(i + 2, 2)) for i in range(12)]
    xt = tidu.tensor(x0, requires_grad=True)
    wt = tidu.tensor(w0, requires_grad=True)
    outs = build(tidu, xt, wt)
    tidu.autograd.backward(outs[0] + 2.0 * outs[1])
    xr = torch.tensor(x0, requires_grad=True)
    wr = torch.tensor(w0, requires_grad=True)
    ro = build(torch, xr, wr)
    (ro[0] + 2.0 * ro[1]).backward()
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad.numpy(), wr.grad.numpy(), rtol=1e-10, atol=1e-10)
    gx, gw = tidu.grad([o for o in build(tidu, xt, wt)], [xt, wt], [1.0, 2.0])
    np.testing.assert_allclose(gx.numpy(), xr.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gw.numpy(), wr.grad.numpy(), rtol=1e-10, atol=1e-10)
