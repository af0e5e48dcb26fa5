"""Contractions (einsum, outer, tensordot, trace) against torch: values, gradients, central
differences and the vjp rules, over many subscript patterns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tidu
from _optable import (
    case,
    functions_of,
    missing_from,
    normal,
    table_tests,
)


def ein(subscripts):
    """A case function pair for one subscript string (torch.einsum as the oracle)."""
    return (lambda *xs: tidu.einsum(subscripts, *xs),
            lambda *ts: torch.einsum(subscripts, *ts))


EINSUMS = [
    ("ij,jk->ik", (3, 4), (4, 5)),
    ("ij,jk", (3, 4), (4, 5)),  # implicit output
    ("ba", (2, 3)),  # implicit: alphabetical order transposes
    ("ii->i", (3, 3)),  # diagonal
    ("ii", (3, 3)),  # trace
    ("iij->ij", (3, 3, 2)),
    ("iijj->ij", (2, 2, 3, 3)),
    ("ii,i->i", (3, 3), (3,)),
    ("i,i->", (4,), (4,)),
    ("ij->", (3, 4)),
    ("ij->j", (3, 4)),
    ("ijk->kji", (2, 3, 4)),
    ("ij,k->ijk", (2, 3), (4,)),  # k appears only in b: a's gradient broadcasts it back
    ("ij,jk->i", (2, 3), (3, 4)),
    ("ij,ij->ij", (3, 1), (3, 4)),  # a size-1 axis broadcasts
    ("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2)),
    ("...ij,...jk", (2, 3, 4), (4, 2)),
    ("...i,...i", (2, 3), (3,)),
    ("...ii->...i", (2, 3, 3)),
    ("i...->...", (3, 2, 2)),
    ("bij,bjk,bkl->bil", (2, 3, 4), (2, 4, 5), (2, 5, 3)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ("i,j,k->ijk", (2,), (3,), (2,)),
    (",i->i", (), (3,)),
    ("Ab,bC->AC", (2, 3), (3, 2)),
]

OPS = [
    case(f"einsum[{s}]", *ein(s), *(normal(*sh) for sh in shapes))
    for s, *shapes in EINSUMS
] + [
    case("einsum_sublists", lambda a, b: tidu.einsum(a, [0, 1], b, [1, 2], [0, 2]),
         lambda a, b: a @ b, normal(3, 4), normal(4, 2)),
    case("einsum_sublists_implicit_ellipsis", lambda a, b: tidu.einsum(a, [..., 1], b, [1]),
         lambda a, b: a @ b, normal(2, 3, 4), normal(4)),
    case("einsum_spaces", lambda a, b: tidu.einsum(" ij , jk -> ik ", a, b),
         lambda a, b: a @ b, normal(3, 4), normal(4, 2)),
    case("einsum_constant_operand", lambda a: tidu.einsum("ij,j->i", a, np.arange(4.0)),
         lambda a: a @ torch.arange(4.0, dtype=a.dtype), normal(3, 4)),
    case("einsum_same_tensor_twice", lambda a: tidu.einsum("ij,ij->", a, a),
         lambda a: (a * a).sum(), normal(3, 4)),
    case("outer", lambda a, b: tidu.outer(a, b), lambda a, b: torch.outer(a, b), normal(3),
         normal(4)),
    case("outer_method", lambda a, b: a.outer(b), None, normal(2), normal(5)),
    case("tensordot_int", lambda a, b: tidu.tensordot(a, b, 2),
         lambda a, b: torch.tensordot(a, b, 2), normal(2, 3, 4), normal(3, 4, 5)),
    case("tensordot_zero", lambda a, b: tidu.tensordot(a, b, 0),
         lambda a, b: torch.tensordot(a, b, 0), normal(2, 3), normal(4)),
    case("tensordot_lists", lambda a, b: tidu.tensordot(a, b, axes=([1, 0], [0, 2])),
         lambda a, b: torch.tensordot(a, b, dims=([1, 0], [0, 2])), normal(2, 3, 4),
         normal(3, 5, 2)),
    case("tensordot_ints_pair", lambda a, b: tidu.tensordot(a, b, dims=(-1, 0)),
         lambda a, b: torch.tensordot(a, b, dims=([1], [0])), normal(3, 4), normal(4, 2)),
    case("trace", lambda a: tidu.trace(a), lambda a: torch.trace(a), normal(4, 4)),
    case("trace_method_rect", lambda a: a.trace(), lambda a: torch.trace(a), normal(3, 5)),
    case("trace_offset", lambda a: tidu.trace(a, 1),
         lambda a: torch.diagonal(a, 1).sum(), normal(4, 5)),
    case("trace_neg_offset_axes", lambda a: tidu.trace(a, -1, axis1=2, axis2=0),
         lambda a: torch.diagonal(a, -1, 2, 0).sum(-1), normal(3, 2, 4)),
    case("trace_second_order", lambda a: tidu.trace(a * a, 2) * a.sum(),
         lambda a: torch.diagonal(a * a, 2).sum() * a.sum(), normal(4, 4)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_op_is_in_the_table():
    assert not missing_from(OPS, tidu.ops.contract)


def test_every_function_has_a_vjp():
    fns = functions_of(tidu.ops.contract)
    assert len(fns) >= 6
    assert all(callable(getattr(f, "vjp", None)) for f in fns)


@pytest.mark.parametrize("s", ["ii->i", "ij,jk->ik", "...ij,...jk", "ij,k->ijk"])
def test_second_derivatives_match_torch(s):
    shapes = {"ii->i": [(3, 3)], "ij,jk->ik": [(2, 3), (3, 2)], "...ij,...jk": [(2, 2, 3),
              (3, 2)], "ij,k->ijk": [(2, 3), (2,)]}[s]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(sh) for sh in shapes]
    xs = [tidu.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    loss = (tidu.einsum(s, *xs) ** 3).sum()
    ref = (torch.einsum(s, *ts) ** 3).sum()
    g = tidu.grad(loss, xs, create_graph=True)
    e = torch.autograd.grad(ref, ts, create_graph=True)
    w = [rng.standard_normal(sh) for sh in shapes]
    h = tidu.grad(sum((gi * wi).sum() for gi, wi in zip(g, w)), xs)
    he = torch.autograd.grad(sum((ei * torch.from_numpy(wi)).sum() for ei, wi in zip(e, w)),
                             ts)
    for a, b in zip(h, he):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), m=st.integers(1, 4), k=st.integers(1, 4),
       n=st.integers(1, 4), one=st.booleans())
def test_batched_products_match_torch(batch, m, k, n, one, torch_check):
    rng = np.random.default_rng(m * 16 + k * 4 + n)
    b_batch = [1 if one else d for d in batch]  # a batch axis of 1 broadcasts
    a = rng.standard_normal((*batch, m, k))
    b = rng.standard_normal((*b_batch, k, n))
    torch_check(lambda x, y: tidu.einsum("...ij,...jk->...ik", x, y),
                lambda x, y: torch.einsum("...ij,...jk->...ik", x, y), [a, b])
    torch_check(lambda x: tidu.einsum("...ij->...j", x), lambda x: x.sum(-2), [a])


def test_float32_stays_float32():
    a = tidu.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    out = tidu.einsum("ij,jk->ik", a, np.ones((3, 2), np.float32))
    out.sum().backward()
    assert out.dtype == np.float32 and a.grad.dtype == np.float32
    assert tidu.trace(a).dtype == np.float32


@pytest.mark.parametrize("args, match", [
    (("ij,jk->ik", np.ones((2, 3))), "name 2 operands, got 1"),
    (("ij->ik", np.ones((2, 3))), "must name distinct indices"),
    (("ij->ii", np.ones((2, 3))), "must name distinct indices"),
    (("ijk", np.ones((2, 3))), "names 3 axes, but its operand has 2"),
    (("i1", np.ones((2, 3))), "invalid subscript"),
    (("i->i->i", np.ones(2)), "more than one"),
    (("ij,jk", np.ones((2, 3)), np.ones((4, 2))), "einsum"),
])
def test_einsum_errors_name_the_problem(args, match):
    with pytest.raises(ValueError, match=match):
        tidu.einsum(*args)


def test_contraction_errors():
    with pytest.raises(tidu.ShapeError, match="outer: expects two 1-D tensors, got 2-D"):
        tidu.outer(tidu.ones((2, 2)), tidu.ones(2))
    with pytest.raises(tidu.ShapeError, match="trace: expects a tensor with at least 2"):
        tidu.trace(tidu.ones(3))
    with pytest.raises(tidu.ShapeError, match="axis1 and axis2 must differ"):
        tidu.trace(tidu.ones((3, 3)), axis1=1, axis2=-1)
    with pytest.raises(tidu.ShapeError, match="tensordot: axes=3"):
        tidu.tensordot(tidu.ones((2, 2)), tidu.ones((2, 2)), 3)
    with pytest.raises(tidu.ShapeError, match="same length"):
        tidu.tensordot(tidu.ones((2, 2)), tidu.ones((2, 2)), ([0, 1], [0]))
    with pytest.raises(TypeError, match="tensordot: axes must be"):
        tidu.tensordot(tidu.ones((2, 2)), tidu.ones((2, 2)), "x")
