"""The op-table machinery shared by every table file (tests/test_ops*.py).

A table is a list of ``case(id, tidu_fn, torch_fn, *input_specs, **gradcheck_kwargs)``; the
checks below run a case against PyTorch autograd (float64, values and gradients), against
central differences (``tidu.gradcheck``), and its ``vjp`` rules (create_graph) against the
NumPy backward, PyTorch, and PyTorch's second derivatives.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import tidu


def normal(*shape):
    """Standard normal values (smooth ops)."""
    return ("normal", shape)


def away(*shape):
    """Values of either sign with |x| in [0.2, 1.5]: away from the kink at 0."""
    return ("away", shape)


def pos(*shape):
    """Positive values in [0.5, 2] (log, sqrt, denominators, pow bases)."""
    return ("pos", shape)


def distinct(*shape):
    """Distinct values at least 0.3 apart (max/min without ties)."""
    return ("distinct", shape)


def make(spec, seed: int) -> np.ndarray:
    kind, shape = spec
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "away":
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.5, size=shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, size=shape)
    if kind == "unit":  # inside (-1, 1), away from its ends (asin, acos, atanh)
        return rng.uniform(-0.9, 0.9, size=shape)
    if kind == "above1":  # in [1.2, 3] (acosh)
        return rng.uniform(1.2, 3.0, size=shape)
    if kind == "offgrid":  # in [-8, 8], >= 0.1 from every multiple of 0.5: off the kinks of
        # hardtanh, relu6, hard_sigmoid, hard_swish and the jumps of floor, ceil, round
        half = rng.integers(-16, 16, size=shape) * 0.5
        return half + rng.uniform(0.1, 0.4, size=shape)
    if kind == "ints":  # integer values in [-9, 9] (integer ops, ties)
        return rng.integers(-9, 10, size=shape).astype(float)
    if kind == "nonzero_ints":  # integer values in [-9, 9] other than 0 (divisors)
        return rng.choice([-1.0, 1.0], size=shape) * rng.integers(1, 10, size=shape)
    if kind == "counts":  # integer values in [0, 5] (shift amounts)
        return rng.integers(0, 6, size=shape).astype(float)
    if kind == "zeros":  # normal values, about a third of them exactly 0 (products)
        return rng.standard_normal(shape) * (rng.uniform(size=shape) > 0.35)
    if kind == "special":  # normal values with NaN, inf and -inf among them
        return rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.0, -2.5, 1e-9], size=shape)
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(0, 0.05, n)).reshape(shape)


@dataclass
class Case:
    id: str
    fn: object  # tidu function of the input Tensors
    ref: object  # the same with torch (None: fn also works on torch tensors)
    specs: tuple
    gc: dict = field(default_factory=dict)  # extra gradcheck arguments


def case(id, fn, ref, *specs, **gc):
    return pytest.param(Case(id, fn, ref or fn, specs, gc), id=id)


def seeds(c: Case):
    """The case's input arrays, seeded by its id (so every run sees the same values)."""
    base = sum(map(ord, c.id))
    return [make(s, base + i) for i, s in enumerate(c.specs)]


def check_torch(c: Case, torch_check) -> None:
    torch_check(c.fn, c.ref, seeds(c))


def check_gradcheck(c: Case) -> None:
    result = tidu.gradcheck(c.fn, seeds(c), **c.gc)
    assert result.ok
    assert all(a.shape == n.shape for a, n in zip(result.analytic, result.numerical))


def check_vjp(c: Case) -> None:
    """Gradients through the vjp rules (create_graph=True) equal backward's and torch's."""
    arrays = [np.array(a, dtype=np.float64) for a in seeds(c)]
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    out = c.fn(*xs)
    if not out.requires_grad:  # no gradient (integers, booleans, indices): nor in torch
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        ref = c.ref(*ts)
        if isinstance(ref, torch.Tensor) and ref.requires_grad:  # torch: a zero gradient
            gs = torch.autograd.grad(ref.sum(), ts, allow_unused=True)
            assert all(g is None or not g.any() for g in gs)
        return
    v = np.random.default_rng(1).standard_normal(out.shape)
    plain = tidu.grad(out, xs, v, retain_graph=True)
    via_vjp = tidu.grad(out, xs, v, create_graph=True)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = torch.autograd.grad(c.ref(*ts), ts, torch.from_numpy(v), allow_unused=True)
    for x, p, g, e in zip(xs, plain, via_vjp, expected):
        assert isinstance(g, tidu.Tensor)
        assert g.shape == x.shape and g.dtype == x.dtype
        np.testing.assert_allclose(g.numpy(), p.numpy(), rtol=1e-10, atol=1e-12)
        want = np.zeros(x.shape) if e is None else e.numpy()
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-9, atol=1e-11)


def missing_from(table, module, exempt=()) -> set:
    """Names in ``module.__all__`` that no case id of ``table`` mentions."""
    tested = " ".join(p.values[0].id for p in table)
    return {n for n in set(module.__all__) - set(exempt) if n not in tested}


def functions_of(module) -> list:
    """The Function subclasses a module defines."""
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, tidu.Function) and obj.__module__ == module.__name__]


def table_tests(table):
    """The three parametrized tests of a table file: torch, gradcheck and the vjp rules.

    Use ``test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)``.
    """
    @pytest.mark.parametrize("c", table)
    def test_matches_torch(c, torch_check):
        check_torch(c, torch_check)

    @pytest.mark.parametrize("c", table)
    def test_gradcheck(c):
        check_gradcheck(c)

    @pytest.mark.parametrize("c", table)
    def test_vjp(c):
        check_vjp(c)

    return test_matches_torch, test_gradcheck, test_vjp
