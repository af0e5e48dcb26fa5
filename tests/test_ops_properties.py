"""Property tests: random shapes and broadcastable pairs for the binary element-wise ops and
random axes for the reductions; values and gradients against PyTorch (float64), and every
gradient has exactly its input's shape (the engine's single un-broadcast is right)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tidu

SETTINGS = settings(max_examples=30, deadline=None)

# name -> (tidu op, torch op, how to draw the first and the second operand)
BINARY = {
    "add": (tidu.add, torch.add, "normal", "normal"),
    "sub": (tidu.sub, torch.sub, "normal", "normal"),
    "mul": (tidu.mul, torch.mul, "normal", "normal"),
    "div": (tidu.div, torch.div, "normal", "away"),
    "pow": (tidu.pow, torch.pow, "pos", "normal"),
    "maximum": (tidu.maximum, torch.maximum, "normal", "normal"),
    "minimum": (tidu.minimum, torch.minimum, "normal", "normal"),
    "operator_add": (lambda a, b: a + b, lambda a, b: a + b, "normal", "normal"),
    "operator_rtruediv": (lambda a, b: b.__rtruediv__(a), lambda a, b: a / b, "normal", "away"),
}


def draw(kind: str, shape, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)


pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=st.integers(0, 2**16))
@example(op="mul", shapes=hnp.BroadcastableShapes(((3, 1), (1, 4)), (3, 4)), seed=1)
@example(op="sub", shapes=hnp.BroadcastableShapes(((), (2, 3)), (2, 3)), seed=2)
@example(op="div", shapes=hnp.BroadcastableShapes(((2, 3, 4), (4,)), (2, 3, 4)), seed=3)
@example(op="pow", shapes=hnp.BroadcastableShapes(((4, 1, 3), (2, 1)), (4, 2, 3)), seed=4)
@example(op="maximum", shapes=hnp.BroadcastableShapes(((1,), ()), (1,)), seed=5)
def test_binary_broadcasting_matches_torch(op, shapes, seed, torch_check):
    fn, ref, kind_a, kind_b = BINARY[op]
    sa, sb = shapes.input_shapes
    a, b = draw(kind_a, sa, seed), draw(kind_b, sb, seed + 1)
    xs, out = torch_check(fn, ref, [a, b], seed=seed)
    assert out.shape == shapes.result_shape
    assert [x.grad.shape for x in xs] == [sa, sb]


@SETTINGS
@given(op=st.sampled_from(["add", "mul", "div"]), shapes=pairs, seed=st.integers(0, 2**16))
def test_binary_float32_gradients_keep_float32(op, shapes, seed):
    fn = BINARY[op][0]
    sa, sb = shapes.input_shapes
    a = tidu.tensor(draw("normal", sa, seed).astype(np.float32), requires_grad=True)
    b = tidu.tensor(draw("away", sb, seed + 1).astype(np.float32), requires_grad=True)
    out = fn(a, b)
    assert out.dtype == np.float32
    out.sum().backward()
    assert (a.grad.shape, b.grad.shape) == (sa, sb)
    assert a.grad.dtype == b.grad.dtype == np.float32


@st.composite
def array_and_axis(draw_):
    shape = draw_(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    axis = draw_(st.one_of(
        st.none(),
        st.integers(-nd, nd - 1) if nd else st.none(),
        hnp.valid_tuple_axes(nd, min_size=1) if nd else st.none(),
    ))
    return shape, axis


REDUCE = {
    "sum": (tidu.sum, lambda t, d, k: torch.sum(t, d, keepdim=k)),
    "mean": (tidu.mean, lambda t, d, k: torch.mean(t, d, keepdim=k)),
    "max": (tidu.max, lambda t, d, k: torch.amax(t, d, keepdim=k)),
    "min": (tidu.min, lambda t, d, k: torch.amin(t, d, keepdim=k)),
    "var": (tidu.var, lambda t, d, k: torch.var(t, d, correction=0, keepdim=k)),
    "logsumexp": (tidu.logsumexp, lambda t, d, k: torch.logsumexp(t, d, keepdim=k)),
}


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(sorted(REDUCE)), shape_axis=array_and_axis(), keep=st.booleans(),
       seed=st.integers(0, 2**16))
@example(op="max", shape_axis=((3, 1, 2), (0, 2)), keep=False, seed=0)
@example(op="var", shape_axis=((), None), keep=True, seed=0)
@example(op="logsumexp", shape_axis=((2, 3), -1), keep=True, seed=0)
def test_reductions_match_torch(op, shape_axis, keep, seed, torch_check):
    shape, axis = shape_axis
    fn, ref = REDUCE[op]
    dim = tuple(range(len(shape))) if axis is None else axis
    x = draw("normal", shape, seed)  # continuous values: no ties for max/min
    xs, out = torch_check(lambda t: fn(t, axis, keep), lambda t: ref(t, dim, keep), [x],
                          seed=seed)
    assert xs[0].grad.shape == shape
    if keep:
        assert out.ndim == len(shape)
