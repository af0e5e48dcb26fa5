"""Layout operations (tidu.ops.layout) and the pad modes of tidu.pad: one table against PyTorch
(float64 values and gradients), central differences and the vjp rules; second derivatives
through the transposes; hypothesis shapes; dtypes, edge cases and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tidu
from _optable import (
    case,
    missing_from,
    normal,
    table_tests,
)
from tidu.errors import ShapeError

T = torch
REPS = np.array([1, 0, 2])
SETTINGS = settings(max_examples=20, deadline=None)


def weighted(parts):
    """One tensor from a tuple of pieces, each scaled differently (so gradients tell them
    apart); works for tidu and torch pieces alike."""
    return [p * (i + 1) for i, p in enumerate(parts)]


def torch_pad(a, pw, mode):
    """F.pad for numpy-style pairs on any leading axes: torch pads only trailing axes in the
    non-constant modes and wants a batch axis in front of them."""
    flat = tuple(v for lo_hi in reversed(pw) for v in lo_hi)
    return F.pad(a[None], flat, mode=mode)[0]


OPS = [
    # ----- repeating -----
    case("tile_int", lambda a: tidu.tile(a, 2), lambda a: T.tile(a, (2,)), normal(2, 3)),
    case("tile_adds_axes", lambda a: tidu.tile(a, (2, 1, 3)), lambda a: T.tile(a, (2, 1, 3)),
         normal(2, 3)),
    case("tile_method_short", lambda a: a.tile((3,)), lambda a: a.tile((3,)), normal(2, 2)),
    case("repeat", lambda a: a.repeat(2, 1, 2), None, normal(3, 2)),
    case("repeat_tuple", lambda a: tidu.repeat(a, (2, 3)), lambda a: a.repeat(2, 3),
         normal(2, 2)),
    case("repeat_scalar", lambda a: tidu.repeat(a, 3), lambda a: a.repeat(3), normal()),
    case("repeat_interleave_int", lambda a: tidu.repeat_interleave(a, 2, axis=1),
         lambda a: T.repeat_interleave(a, 2, dim=1), normal(2, 3)),
    case("repeat_interleave_flat", lambda a: a.repeat_interleave(3),
         lambda a: a.repeat_interleave(3), normal(2, 2)),
    case("repeat_interleave_counts", lambda a: tidu.repeat_interleave(a, REPS, axis=-1),
         lambda a: T.repeat_interleave(a, T.from_numpy(REPS), dim=-1), normal(2, 3)),
    case("repeat_interleave_list_axis0", lambda a: tidu.repeat_interleave(a, [2, 1], axis=0),
         lambda a: T.repeat_interleave(a, T.tensor([2, 1]), dim=0), normal(2, 3)),
    # ----- reordering -----
    case("flip", lambda a: tidu.flip(a, 0), lambda a: T.flip(a, (0,)), normal(3, 4)),
    case("flip_tuple", lambda a: a.flip((0, -1)), lambda a: a.flip((0, 2)), normal(2, 3, 4)),
    case("flip_all", lambda a: tidu.flip(a), lambda a: T.flip(a, (0, 1)), normal(3, 4)),
    case("roll_flat", lambda a: tidu.roll(a, 5), lambda a: T.roll(a, 5), normal(3, 4)),
    case("roll_axes", lambda a: a.roll((1, -2), (0, 1)), lambda a: a.roll((1, -2), (0, 1)),
         normal(3, 4)),
    case("roll_one_axis", lambda a: tidu.roll(a, -7, axis=-1), lambda a: T.roll(a, -7, -1),
         normal(2, 3, 4)),
    case("movedim", lambda a: tidu.movedim(a, 0, -1), lambda a: T.movedim(a, 0, -1),
         normal(2, 3, 4)),
    case("movedim_tuple", lambda a: a.movedim((0, 1), (2, 0)),
         lambda a: a.movedim((0, 1), (2, 0)), normal(2, 3, 4)),
    case("moveaxis", lambda a: tidu.moveaxis(a, -1, 1), lambda a: T.moveaxis(a, -1, 1),
         normal(2, 3, 4, 5)),
    case("unflatten", lambda a: tidu.unflatten(a, 1, (3, -1)),
         lambda a: T.unflatten(a, 1, (3, -1)), normal(2, 12)),
    case("unflatten_method_last", lambda a: a.unflatten(-1, (2, 1, 2)),
         lambda a: a.unflatten(-1, (2, 1, 2)), normal(3, 4)),
    # ----- triangles and diagonals -----
    case("tril", lambda a: tidu.tril(a), lambda a: T.tril(a), normal(4, 4)),
    case("tril_k", lambda a: tidu.tril(a, 1), lambda a: T.tril(a, 1), normal(3, 5)),
    case("tril_batched", lambda a: a.tril(-1), lambda a: a.tril(-1), normal(2, 3, 4)),
    case("triu", lambda a: tidu.triu(a), lambda a: T.triu(a), normal(4, 4)),
    case("triu_k_batched", lambda a: a.triu(2), lambda a: a.triu(2), normal(2, 4, 5)),
    case("triu_negative_k", lambda a: tidu.triu(a, -1), lambda a: T.triu(a, -1), normal(5, 3)),
    case("diag_1d", lambda a: tidu.diag(a), lambda a: T.diag(a), normal(3)),
    case("diag_1d_above", lambda a: tidu.diag(a, 2), lambda a: T.diag(a, 2), normal(3)),
    case("diag_1d_below", lambda a: a.diag(-1), lambda a: a.diag(-1), normal(4)),
    case("diag_2d", lambda a: tidu.diag(a, 1), lambda a: T.diag(a, 1), normal(3, 4)),
    case("diag_2d_below", lambda a: tidu.diag(a, -2), lambda a: T.diag(a, -2), normal(4, 3)),
    case("diagonal", lambda a: tidu.diagonal(a), lambda a: T.diagonal(a), normal(3, 4)),
    case("diagonal_offset_axes", lambda a: tidu.diagonal(a, 1, 2, 0),
         lambda a: T.diagonal(a, 1, 2, 0), normal(2, 3, 4)),
    case("diagonal_method_negative", lambda a: a.diagonal(-1, -1, -2),
         lambda a: a.diagonal(-1, -1, -2), normal(2, 3, 4)),
    case("eye_times", lambda a: tidu.eye(3, 4, dtype="float64", device=a.device) * a,
         lambda a: T.eye(3, 4, dtype=T.float64) * a, normal(3, 4)),
    # ----- grids -----
    case("meshgrid_ij", lambda a, b: tidu.stack(tidu.meshgrid(a, b)),
         lambda a, b: T.stack(T.meshgrid(a, b, indexing="ij")), normal(2), normal(3)),
    case("meshgrid_xy_three", lambda a, b, c: tidu.stack(tidu.meshgrid(a, b, c, indexing="xy")),
         lambda a, b, c: T.stack(T.meshgrid(a, b, c, indexing="xy")),
         normal(2), normal(3), normal(4)),
    case("meshgrid_list_scalar", lambda a, b: tidu.stack(tidu.meshgrid([a, b])) ** 2,
         lambda a, b: T.stack(T.meshgrid([a, b], indexing="ij")) ** 2, normal(), normal(3)),
    # ----- pieces -----
    case("chunk_uneven", lambda a: tidu.concatenate(weighted(tidu.chunk(a, 3, axis=1)), 1),
         lambda a: T.cat(weighted(T.chunk(a, 3, dim=1)), 1), normal(2, 5)),
    case("chunk_fewer_pieces", lambda a: tidu.concatenate(weighted(a.chunk(4)), 0),
         lambda a: T.cat(weighted(a.chunk(4)), 0), normal(6, 2)),
    case("unbind", lambda a: tidu.stack(weighted(a.unbind(1))),
         lambda a: T.stack(weighted(a.unbind(1))), normal(2, 3)),
    case("unbind_last", lambda a: tidu.stack(weighted(tidu.unbind(a, -1)), 0),
         lambda a: T.stack(weighted(T.unbind(a, -1)), 0), normal(2, 2, 3)),
    case("narrow", lambda a: tidu.narrow(a, 1, 1, 2), lambda a: T.narrow(a, 1, 1, 2),
         normal(3, 4)),
    case("narrow_negative_start", lambda a: a.narrow(0, -2, 2), lambda a: a.narrow(0, -2, 2),
         normal(4, 2)),
    # ----- pad modes, numpy-style pairs, and negative widths (crops) -----
    case("pad_reflect", lambda a: tidu.pad(a, ((0, 0), (1, 2), (2, 1)), mode="reflect"),
         lambda a: F.pad(a, (2, 1, 1, 2), mode="reflect"), normal(2, 4, 5)),
    case("pad_replicate", lambda a: tidu.pad(a, ((0, 0), (2, 1)), mode="replicate"),
         lambda a: F.pad(a, (2, 1), mode="replicate"), normal(2, 3)),
    case("pad_edge_positional", lambda a: tidu.pad(a, 1, "edge"),
         lambda a: torch_pad(a, ((1, 1), (1, 1)), "replicate"), normal(3, 4)),
    case("pad_circular", lambda a: tidu.pad(a, ((0, 0), (0, 0), (3, 1)), mode="circular"),
         lambda a: F.pad(a, (3, 1), mode="circular"), normal(1, 2, 4)),
    case("pad_wrap_two_axes", lambda a: tidu.pad(a, ((1, 2), (2, 0)), mode="wrap"),
         lambda a: torch_pad(a, ((1, 2), (2, 0)), "circular"), normal(3, 4)),
    case("pad_reflect_all_axes", lambda a: tidu.pad(a, (1, 2), mode="reflect"),
         lambda a: torch_pad(a, ((1, 2),) * 3, "reflect"), normal(3, 4, 4)),
    case("pad_negative_constant", lambda a: tidu.pad(a, ((-1, 1), (2, -2)), value=0.5),
         lambda a: F.pad(a, (2, -2, -1, 1), value=0.5), normal(3, 5)),
    case("pad_negative_only", lambda a: tidu.pad(a, (-1, -1)), lambda a: F.pad(a, (-1,) * 4),
         normal(4, 5)),
    case("pad_negative_reflect", lambda a: tidu.pad(a, ((0, 0), (-1, 2), (2, -1)),
                                                    mode="reflect"),
         lambda a: F.pad(a, (2, -1, -1, 2), mode="reflect"), normal(2, 4, 5)),
    case("pad_negative_replicate", lambda a: tidu.pad(a, ((0, 0), (3, -2)), mode="replicate"),
         lambda a: F.pad(a, (3, -2), mode="replicate"), normal(2, 5)),
    case("pad_negative_circular", lambda a: tidu.pad(a, ((0, 0), (-1, 2), (2, -1)),
                                                     mode="circular"),
         lambda a: F.pad(a, (2, -1, -1, 2), mode="circular"), normal(1, 4, 5)),
    case("pad_times_input", lambda a: tidu.pad(a, ((0, 0), (2, 2)), mode="reflect") ** 2,
         lambda a: F.pad(a, (2, 2), mode="reflect") ** 2, normal(2, 4)),
    # ----- pad_last: torch's flat tuple, last axis first -----
    case("pad_last_constant", lambda a: tidu.pad_last(a, (1, 2, 0, 1), value=-1.0),
         lambda a: F.pad(a, (1, 2, 0, 1), value=-1.0), normal(2, 3, 4)),
    case("pad_last_reflect_crop", lambda a: tidu.pad_last(a, (2, -1, -1, 1), mode="reflect"),
         lambda a: F.pad(a, (2, -1, -1, 1), mode="reflect"), normal(1, 2, 4, 5)),
    case("pad_last_replicate_3d", lambda a: tidu.pad_last(a, (1, 0, 0, 2, 1, 1), "replicate"),
         lambda a: F.pad(a, (1, 0, 0, 2, 1, 1), mode="replicate"), normal(1, 1, 2, 3, 3)),
    case("pad_last_circular", lambda a: a.sum() * tidu.pad_last(a, (2, 1), "circular"),
         lambda a: a.sum() * F.pad(a, (2, 1), mode="circular"), normal(2, 3)),
]


test_matches_torch, test_gradcheck, test_vjp = table_tests(OPS)


def test_every_public_name_has_a_row():
    assert not missing_from(OPS, tidu.ops.layout)


# ----- second derivatives: the transposes (PadAdjoint, DiagonalScatter, ...) differentiate
SECOND = {
    "pad_reflect": (lambda a: tidu.pad(a, ((1, -1), (2, 1)), mode="reflect"),
                    lambda a: torch_pad(a, ((1, -1), (2, 1)), "reflect")),
    "pad_circular": (lambda a: tidu.pad_last(a, (-1, 2, 1, 1), "circular"),
                     lambda a: F.pad(a[None], (-1, 2, 1, 1), mode="circular")[0]),
    "pad_replicate": (lambda a: tidu.pad(a, 2, mode="replicate"),
                      lambda a: torch_pad(a, ((2, 2), (2, 2)), "replicate")),
    "pad_constant": (lambda a: tidu.pad(a, ((1, -2), (0, 1))),
                     lambda a: F.pad(a, (0, 1, 1, -2))),
    "diag": (lambda a: tidu.diag(tidu.diagonal(a, 1)), lambda a: T.diag(T.diagonal(a, 1))),
    "roll_tril_triu": (lambda a: tidu.triu(tidu.roll(tidu.tril(a, 1), (1, 2), (0, 1))),
                       lambda a: T.triu(T.roll(T.tril(a, 1), (1, 2), (0, 1)))),
    "tile_flip_interleave": (
        lambda a: tidu.repeat_interleave(tidu.flip(tidu.tile(a, (2, 1)), 1), [1, 2, 0, 1, 1],
                                         axis=1),
        lambda a: T.repeat_interleave(T.flip(T.tile(a, (2, 1)), (1,)),
                                      T.tensor([1, 2, 0, 1, 1]), dim=1)),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivatives_match_torch(name):
    fn, ref = SECOND[name]
    rng = np.random.default_rng(3)
    a, u = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    x = tidu.tensor(a, requires_grad=True)
    (g,) = tidu.grad((fn(x) ** 3).sum(), [x], create_graph=True)
    (h,) = tidu.grad((g * u).sum(), [x])
    t = torch.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad((ref(t) ** 3).sum(), t, create_graph=True)
    (ht,) = torch.autograd.grad((gt * torch.from_numpy(u)).sum(), t)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


def test_compiled_pad_and_layout_gradients_match_torch():
    x = tidu.placeholder((4, 5), "float64", name="x")
    y = ((tidu.pad(x, ((1, -1), (2, 1)), mode="reflect") ** 3).sum()
         + (tidu.roll(tidu.flip(tidu.tril(x, 1), 0), 1) ** 2).sum()
         + (tidu.diag(tidu.diagonal(x, 1)) ** 3).sum())
    (gx,) = tidu.grad(y, [x])
    f = tidu.function([x], [y, gx])
    a = np.random.default_rng(0).standard_normal((4, 5))
    value, grad = f(a)
    t = torch.tensor(a, requires_grad=True)
    yt = ((torch_pad(t, ((1, -1), (2, 1)), "reflect") ** 3).sum()
          + (T.roll(T.flip(T.tril(t, 1), (0,)), 1) ** 2).sum()
          + (T.diag(T.diagonal(t, 1)) ** 3).sum())
    np.testing.assert_allclose(float(value), yt.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, torch.autograd.grad(yt, t)[0].numpy(), rtol=1e-10)


# ----- hypothesis: random shapes -----
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def _draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@SETTINGS
@given(shape=shapes, reps=st.lists(st.integers(0, 3), min_size=0, max_size=4),
       seed=st.integers(0, 2**16))
def test_tile_and_repeat_shapes(shape, reps, seed, torch_check):
    a = _draw(shape, seed)
    torch_check(lambda t: tidu.tile(t, tuple(reps)), lambda t: T.tile(t, tuple(reps)), [a])
    sizes = tuple(reps) + (2,) * max(1 - len(reps), len(shape) - len(reps))  # torch: >= 1
    xs, out = torch_check(lambda t: t.repeat(*sizes), lambda t: t.repeat(*sizes), [a])
    assert xs[0].grad.shape == shape


@SETTINGS
@given(shape=shapes.filter(len), data=st.data(), seed=st.integers(0, 2**16))
def test_flip_roll_movedim_narrow_interleave_shapes(shape, data, seed, torch_check):
    nd = len(shape)
    axes = tuple(data.draw(st.permutations(range(nd))))[:data.draw(st.integers(1, nd))]
    shifts = tuple(data.draw(st.integers(-5, 5)) for _ in axes)
    a = _draw(shape, seed)
    torch_check(lambda t: tidu.flip(t, axes), lambda t: T.flip(t, axes), [a])
    torch_check(lambda t: tidu.roll(t, shifts, axes), lambda t: T.roll(t, shifts, axes), [a])
    dst = tuple(data.draw(st.permutations(range(nd))))[:len(axes)]
    torch_check(lambda t: tidu.movedim(t, axes, dst), lambda t: T.movedim(t, axes, dst), [a])
    ax = axes[0]
    start = data.draw(st.integers(0, shape[ax]))
    length = data.draw(st.integers(0, shape[ax] - start))
    torch_check(lambda t: tidu.narrow(t, ax, start, length),
                lambda t: T.narrow(t, ax, start, length), [a])
    reps = data.draw(st.lists(st.integers(0, 3), min_size=shape[ax], max_size=shape[ax]))
    torch_check(lambda t: tidu.repeat_interleave(t, reps, ax),
                lambda t: T.repeat_interleave(t, T.tensor(reps, dtype=T.int64), dim=ax), [a])


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
       k=st.integers(-5, 5), chunks=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_triangles_diagonals_chunks_shapes(shape, k, chunks, seed, torch_check):
    a = _draw(shape, seed)
    torch_check(lambda t: tidu.tril(t, k), lambda t: T.tril(t, k), [a])
    torch_check(lambda t: tidu.triu(t, k), lambda t: T.triu(t, k), [a])
    torch_check(lambda t: tidu.diagonal(t, k, -1, 0) * 2, lambda t: T.diagonal(t, k, -1, 0) * 2,
                [a])
    torch_check(lambda t: tidu.concatenate(weighted(tidu.chunk(t, chunks, -1)), -1),
                lambda t: T.cat(weighted(T.chunk(t, chunks, -1)), -1), [a])
    assert len(tidu.chunk(tidu.tensor(a), chunks, -1)) == len(T.chunk(T.tensor(a), chunks, -1))


@SETTINGS
@given(spatial=st.lists(st.integers(4, 6), min_size=1, max_size=3).map(tuple),
       channels=st.integers(1, 2),
       mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]),
       data=st.data(), seed=st.integers(0, 2**16))
def test_pad_modes_and_crops_shapes(spatial, channels, mode, data, seed, torch_check):
    """Random widths in [-2, 3] on 1 to 3 spatial axes of a (1, C, ...) batch, against F.pad.

    Reflections and wraps stay within what is left after cropping: beyond it torch reads
    the cropped-away values in "reflect" (and NumPy's repeated reflection applies in tidu).
    Every axis keeps an element: torch's reflect backward of an empty output returns
    uninitialized memory.
    """
    flat = tuple(data.draw(st.integers(-2, 3)) for _ in range(2 * len(spatial)))
    for i, n in enumerate(reversed(spatial)):
        lo, hi = flat[2 * i], flat[2 * i + 1]
        kept = n + min(lo, 0) + min(hi, 0)
        assume(kept > 0 and (mode in ("constant", "replicate") or max(lo, hi) < kept))
    a = _draw((1, channels) + spatial, seed)
    xs, out = torch_check(lambda t: tidu.pad_last(t, flat, mode),
                          lambda t: F.pad(t, flat, mode=mode), [a])
    pairs = ((0, 0), (0, 0)) + tuple(flat[i:i + 2] for i in range(len(flat) - 2, -1, -2))
    torch_check(lambda t: tidu.pad(t, pairs, mode=mode), lambda t: F.pad(t, flat, mode=mode), [a])


# ----- focused tests: values, dtypes, edge cases -----
def test_eye_is_a_creation_function():
    e = tidu.eye(3)
    assert e.dtype == np.float32 and not e.requires_grad and e.shape == (3, 3)
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    np.testing.assert_array_equal(tidu.eye(2, 4, dtype="float64").numpy(), np.eye(2, 4))
    assert tidu.eye(2, dtype="int64").dtype == np.int64
    assert tidu.eye(0).shape == (0, 0) and tidu.eye(2, 0).shape == (2, 0)
    assert tidu.eye(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="eye: n must be a non-negative int, got -1"):
        tidu.eye(-1)
    with pytest.raises(ValueError, match="eye: m must be"):
        tidu.eye(2, 1.5)


def test_layout_ops_keep_float32_and_integer_tensors_carry_no_gradient():
    x = tidu.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), requires_grad=True)
    outs = [tidu.tile(x, 2), x.repeat(1, 2), x.repeat_interleave(2, axis=0), x.flip(0),
            x.roll(1, 1), x.tril(), x.triu(), x.diag(), x.diagonal(), x.movedim(0, 1),
            x.unflatten(1, (2, 2)), x.narrow(1, 0, 2), x.chunk(2)[0], x.unbind()[0],
            tidu.pad(x, 1, mode="reflect"), tidu.pad_last(x, (1, -1), "circular"),
            tidu.meshgrid(x[0], x[1])[1]]
    for y in outs:
        assert y.dtype == np.float32 and y.requires_grad
        y.sum().backward()
        assert x.grad.dtype == np.float32 and x.grad.shape == (3, 4)
    i = tidu.tensor(np.arange(6).reshape(2, 3))
    for y in (i.flip(1), i.roll(1), i.tril(), i.diag(), tidu.pad(i, 1, mode="replicate"),
              i.repeat(2, 1), i.repeat_interleave(2)):
        assert y.dtype == np.int64 and not y.requires_grad
    np.testing.assert_array_equal(tidu.pad(i, ((0, 0), (2, 1)), mode="reflect").numpy(),
                                  np.pad(i.numpy(), ((0, 0), (2, 1)), mode="reflect"))


def test_pieces_are_tuples_with_torch_sizes():
    x = tidu.tensor(np.arange(10.0))
    assert isinstance(tidu.chunk(x, 3), tuple) and isinstance(tidu.unbind(x), tuple)
    assert [p.shape[0] for p in tidu.chunk(x, 4)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in tidu.chunk(x, 20)] == [1] * 10
    assert [p.shape for p in tidu.chunk(tidu.zeros(0, 2), 3)] == [(0, 2)] * 3
    assert tidu.unbind(tidu.zeros(0, 2)) == ()
    assert tidu.narrow(x, 0, 10, 0).shape == (0,)
    np.testing.assert_array_equal(tidu.narrow(x, 0, -3, 2).numpy(), [7.0, 8.0])


def test_edge_values():
    x = tidu.tensor(np.arange(6.0).reshape(2, 3))
    assert tidu.tile(x, (0, 2)).shape == (0, 6)
    assert tidu.repeat_interleave(x, 0, axis=1).shape == (2, 0)
    np.testing.assert_array_equal(tidu.repeat_interleave(tidu.tensor(3.0), 2).numpy(), [3, 3])
    np.testing.assert_array_equal(tidu.repeat_interleave(x, tidu.tensor([2]), axis=0).numpy(),
                                  np.repeat(x.numpy(), 2, axis=0))
    np.testing.assert_array_equal(tidu.flip(x, ()).numpy(), x.numpy())
    np.testing.assert_array_equal(tidu.flip(tidu.tensor(2.0)).numpy(), 2.0)
    np.testing.assert_array_equal(tidu.roll(x, 2, (0, 1)).numpy(), np.roll(x.numpy(), 2, (0, 1)))
    assert tidu.diag(tidu.zeros(0)).shape == (0, 0)
    assert tidu.diag(x, 5).shape == (0,)
    assert tidu.meshgrid(tidu.zeros(3))[0].shape == (3,)
    gx, gy = tidu.meshgrid(tidu.tensor([1.0, 2.0]), tidu.tensor([5.0, 6.0, 7.0]), indexing="xy")
    nx, ny = np.meshgrid([1.0, 2.0], [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(gx.numpy(), nx)
    np.testing.assert_array_equal(gy.numpy(), ny)


def test_pad_crops_with_negative_widths_and_keeps_the_old_signature():
    x = tidu.tensor(np.arange(12.0).reshape(3, 4))
    assert tidu.pad(tidu.ones(3), (-1, 0)).shape == (2,)
    np.testing.assert_array_equal(tidu.pad(x, ((-1, -1), (0, -4))).numpy(), np.zeros((1, 0)))
    np.testing.assert_array_equal(tidu.pad(x, ((0, 1), (2, 0)), -1.0).numpy(),
                                  np.pad(x.numpy(), ((0, 1), (2, 0)), constant_values=-1.0))
    for numpy_mode, mode in (("edge", "replicate"), ("wrap", "circular"), ("reflect",) * 2):
        want = np.pad(x.numpy(), ((2, 1), (1, 3)), mode=numpy_mode)
        np.testing.assert_array_equal(tidu.pad(x, ((2, 1), (1, 3)), mode=mode).numpy(), want)
        np.testing.assert_array_equal(tidu.pad(x, ((2, 1), (1, 3)), numpy_mode).numpy(), want)
    # past torch's limits (a reflection wider than the axis) NumPy's rule holds
    np.testing.assert_array_equal(tidu.pad(x, ((0, 0), (6, 0)), mode="reflect").numpy(),
                                  np.pad(x.numpy(), ((0, 0), (6, 0)), mode="reflect"))
    np.testing.assert_array_equal(tidu.pad_last(x, ()).numpy(), x.numpy())


def test_wide_reflect_and_wrap_gradients_add_every_copy():
    for mode in ("reflect", "circular", "replicate"):
        result = tidu.gradcheck(lambda t, m=mode: tidu.pad(t, ((2, 7), (5, 1)), mode=m),
                                [np.random.default_rng(0).standard_normal((3, 2))])
        assert result.ok
    x = tidu.tensor(np.zeros(3), requires_grad=True)
    tidu.pad(x, (2, 0), mode="replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 1.0])


# ----- errors name the op, the argument, what was expected and what arrived -----
def test_errors():
    x = tidu.zeros(2, 3)
    with pytest.raises(ShapeError, match=r"repeat: needs a size for each of the 2 axes"):
        x.repeat(2)
    with pytest.raises(ValueError, match="tile: repetitions must be non-negative"):
        tidu.tile(x, -1)
    with pytest.raises(TypeError, match="tile: reps must be an int or a sequence of ints"):
        tidu.tile(x, 1.5)
    with pytest.raises(ShapeError, match="repeat_interleave: 2 repeats for axis 1 of length 3"):
        tidu.repeat_interleave(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match="repeat_interleave: repeats must be non-negative"):
        tidu.repeat_interleave(x, -1)
    with pytest.raises(TypeError, match="repeat_interleave: repeats must be an int or a 1-D"):
        tidu.repeat_interleave(x, [1.5, 2.0, 1.0], axis=1)
    with pytest.raises(ShapeError, match="flip: axis 2 is out of range"):
        x.flip(2)
    with pytest.raises(ShapeError, match="flip: axis .* names the same axis twice"):
        x.flip((0, 0))
    with pytest.raises(ValueError, match="roll: 2 shifts for 3 axes"):
        tidu.zeros(2, 2, 2).roll((1, 1), (0, 1, 2))
    with pytest.raises(ValueError, match="roll: with axis=None, shifts must be one int"):
        x.roll((1, 2))
    with pytest.raises(ShapeError, match=r"tril: needs at least 2 axes, got .* shape \(3,\)"):
        tidu.tril(tidu.zeros(3))
    with pytest.raises(TypeError, match="triu: k must be an int"):
        tidu.triu(x, 0.5)
    with pytest.raises(ShapeError, match="diag: needs a 1-D or 2-D tensor"):
        tidu.diag(tidu.zeros(2, 2, 2))
    with pytest.raises(ShapeError, match="diagonal: axis1 and axis2 must differ"):
        tidu.diagonal(x, 0, 1, -1)
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy', got 'ji'"):
        tidu.meshgrid(tidu.zeros(2), indexing="ji")
    with pytest.raises(ShapeError, match=r"meshgrid: needs 0-D or 1-D tensors.*\(2, 3\)"):
        tidu.meshgrid(x, tidu.zeros(2))
    with pytest.raises(ValueError, match="meshgrid: needs at least one tensor"):
        tidu.meshgrid()
    with pytest.raises(ShapeError, match="movedim: source .* names an axis twice"):
        tidu.movedim(x, (0, 0), (0, 1))
    with pytest.raises(ValueError, match="movedim: source .* same number of axes"):
        tidu.movedim(x, (0, 1), 0)
    with pytest.raises(ShapeError, match=r"unflatten: sizes \(2, 2\) do not multiply to 3"):
        x.unflatten(1, (2, 2))
    with pytest.raises(ShapeError, match="unflatten: sizes"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        x.chunk(0)
    with pytest.raises(ShapeError, match="unbind: axis 0 is out of range"):
        tidu.unbind(tidu.tensor(1.0))
    with pytest.raises(ShapeError, match="narrow: start 1 . length 3 exceeds the length 3"):
        x.narrow(1, 1, 3)
    with pytest.raises(ShapeError, match="narrow: start -4 is out of range for axis 1"):
        x.narrow(1, -4, 1)


def test_pad_errors():
    x = tidu.zeros(2, 3)
    with pytest.raises(ValueError, match="pad: mode must be 'constant', .* got 'mirror'"):
        tidu.pad(x, 1, mode="mirror")
    with pytest.raises(ValueError, match="pad: mode 'reflect' .* takes no value, got value=1"):
        tidu.pad(x, 1, 1.0, mode="reflect")
    with pytest.raises(ShapeError, match=r"pad: widths \(-2, -2\) crop 4 elements from axis 0"):
        tidu.pad(x, ((-2, -2), (0, 0)))
    with pytest.raises(ShapeError, match="pad: mode 'circular' has nothing to copy on axis 1"):
        tidu.pad(x, ((0, 0), (-3, 1)), mode="circular")
    with pytest.raises(ShapeError, match=r"pad: pad_width .* does not fit .* shape \(2, 3\)"):
        tidu.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ShapeError, match="pad_last: pad_width .* an even number of widths"):
        tidu.pad_last(x, (1, 2, 3))
    with pytest.raises(ShapeError, match="pad_last: .* at most two per axis"):
        tidu.pad_last(x, (1,) * 6)
