"""The rules of docs/semantics.md, where NumPy and PyTorch disagree, one test each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tidu
from tidu.errors import ShapeError


@pytest.fixture
def float64_default():
    tidu.set_default_dtype("float64")
    yield
    tidu.set_default_dtype("float32")


def test_integers_promote_to_the_default_float_as_in_pytorch():
    i = tidu.tensor([1, 2, 3])
    ti = torch.tensor([1, 2, 3])
    cases = [
        (i + 0.5, ti + 0.5), (tidu.exp(i), torch.exp(ti)), (i / i, ti / ti),
        (i * 1.5, ti * 1.5), (tidu.sqrt(i), torch.sqrt(ti)), (tidu.ones(3) + i, torch.ones(3) + ti),
        (tidu.sigmoid(i), torch.sigmoid(ti)), (i + 1, ti + 1), (i // 2, ti // 2),
    ]
    for got, want in cases:
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_creation_dtypes_follow_pytorch():
    assert tidu.arange(5.5, 175.5, 2.5).dtype == np.float32
    assert tidu.arange(5).dtype == np.int64
    assert tidu.full((2,), 4).dtype == np.int64
    assert tidu.full((2,), 4.0).dtype == np.float32
    assert tidu.full((2,), True).dtype == bool
    assert tidu.tensor([1.5]).dtype == np.float32


def test_the_default_float_is_settable(float64_default):
    assert tidu.get_default_dtype() == np.float64
    assert tidu.tensor([1.5]).dtype == np.float64
    assert (tidu.tensor([1, 2]) / 2).dtype == np.float64
    assert tidu.ones(2).dtype == np.float64


def test_set_default_dtype_refuses_integers():
    with pytest.raises(TypeError, match="floating dtype"):
        tidu.set_default_dtype("int32")


def test_float64_and_explicit_casts_are_kept():
    x = tidu.tensor(np.array([1.0, 2.0]))  # a NumPy float64 array keeps its dtype
    assert (x + tidu.tensor([1, 2])).dtype == np.float64
    assert tidu.cast(tidu.tensor([1, 2]), "float64").dtype == np.float64


@pytest.mark.parametrize("base", [0.0, -1.0, 2.0])
@pytest.mark.parametrize("exponent", [-1.0, 0.0, 1.5, 2.0])
def test_pow_gradients_follow_pytorch_at_zero_and_negative_bases(base, exponent):
    a = tidu.tensor(np.float64(base), requires_grad=True)
    b = tidu.tensor(np.float64(exponent), requires_grad=True)
    with np.errstate(all="ignore"):
        (a ** b).backward()
    ta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
    (ta ** tb).backward()
    np.testing.assert_equal(float(a.grad), ta.grad.item())
    np.testing.assert_equal(float(b.grad), tb.grad.item())


def test_x_to_the_zero_has_gradient_zero_at_zero():
    x = tidu.tensor(np.array([0.0, 2.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    (g,) = tidu.grad((x ** 0).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("values, ddof", [([1.0, 2.0], 2), ([1.0, 2.0], 3), ([1.0, 1.0], 2)])
def test_var_with_ddof_at_least_n_is_inf_or_nan_like_pytorch(values, ddof):
    x = tidu.tensor(np.array(values), requires_grad=True)
    v = tidu.var(x, ddof=ddof)
    with np.errstate(all="ignore"):
        v.backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    tv = torch.var(t, correction=ddof)
    tv.backward()
    np.testing.assert_equal(float(v), tv.item())  # inf, or NaN for zero spread, as PyTorch
    assert not np.isfinite(x.grad.numpy()).all()  # no ZeroDivisionError: a non-finite grad


@pytest.mark.parametrize("axis", [0, -1])
def test_axis_0_and_minus_1_work_on_0d_tensors(axis):
    x = tidu.tensor(np.array(3.0), requires_grad=True)
    t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    for f, g in [(lambda v: v.sum(axis), lambda v: v.sum(axis)),
                 (lambda v: v.mean(axis), lambda v: v.mean(axis)),
                 (lambda v: tidu.softmax(v, axis), lambda v: torch.softmax(v, axis)),
                 (lambda v: tidu.log_softmax(v, axis), lambda v: torch.log_softmax(v, axis)),
                 (lambda v: tidu.logsumexp(v, axis), lambda v: torch.logsumexp(v, axis))]:
        got, want = f(x), g(t)
        assert got.shape == () and float(got) == pytest.approx(want.item())
    with pytest.raises(ShapeError):
        x.sum(1)


def test_squeeze_of_an_axis_that_is_not_1_is_an_error():
    # PyTorch returns the tensor unchanged; tidu (like NumPy) says what is wrong
    with pytest.raises(ShapeError, match="axis 0 of shape \\(2, 3\\) has length 2, not 1"):
        tidu.ones(2, 3).squeeze(0)


def test_advanced_indexing_mixed_with_integers_follows_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tidu.tensor(a)
    # an integer and an index array separated by a slice: NumPy puts the broadcast index
    # axis first, (2, 3); PyTorch gives (3, 2). tidu is NumPy's rule.
    assert x[0, :, [0, 1]].shape == a[0, :, [0, 1]].shape == (2, 3)
    assert tuple(torch.tensor(a)[0, :, [0, 1]].shape) == (3, 2)
    # where the two agree, the values and gradients agree too
    xg = tidu.tensor(a, requires_grad=True)
    xg[:, 0, [0, 2]].sum().backward()
    t = torch.tensor(a, requires_grad=True)
    t[:, 0, [0, 2]].sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), t.grad.numpy())
