"""The losses of issue 13: PyTorch-style functions (tidu.nn.functional) against
torch.nn.functional in float64, values and gradients; Keras-style losses (tidu.losses)
against NumPy transcriptions of Keras 3's formulas (Keras is not installed); gradcheck,
stability at extreme logits, errors, names and configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
import tidu.losses as L
import tidu.nn.functional as F
from tidu.losses.functional import EPSILON

RNG = np.random.default_rng(13)
N, C = 6, 4
T = np.array([0, 3, 1, 2, 3, 0])  # class indices
T_IGN = np.array([0, -100, 1, 2, -100, 3])  # two ignored
W = np.array([0.5, 2.0, 1.0, 3.0])  # class weights
T3 = np.array([[[0, 2, -1], [1, 1, 0]], [[3, -1, 2], [0, 1, 3]]])  # (2, 2, 3), -1 ignored
P_SOFT = RNG.dirichlet(np.ones(C), N)
Y01 = RNG.integers(0, 2, (N, C)).astype(float)
PW = np.array([1.0, 3.0, 0.5, 2.0])
W_ROW = RNG.uniform(0, 2, (N, 1))
Y3 = RNG.integers(0, 2, (2, 3, C)).astype(float)


def pair(call, *arrays):
    """One call written for both libraries: ``call(F, constant, *inputs)``."""
    return (lambda *xs: call(F, np.asarray, *xs),
            lambda *ts: call(TF, torch.as_tensor, *ts), [np.asarray(a) for a in arrays])


Z = RNG.normal(0, 2, (N, C))
Z4 = RNG.normal(0, 2, (2, C, 2, 3))
TORCH_CASES = {
    "nll": pair(lambda f, k, x: f.nll_loss(x, k(T)), Z),
    "nll-weight-ignore": pair(lambda f, k, x: f.nll_loss(x, k(T_IGN), k(W)), Z),
    "nll-sum": pair(lambda f, k, x: f.nll_loss(x, k(T_IGN), k(W), reduction="sum"), Z),
    "nll-none": pair(lambda f, k, x: f.nll_loss(x, k(T_IGN), k(W), reduction="none"), Z),
    "nll-4d": pair(lambda f, k, x: f.nll_loss(x, k(T3), k(W), ignore_index=-1), Z4),
    "nll-unbatched": pair(lambda f, k, x: f.nll_loss(x, k(np.array(2))), Z[0]),
    "ce": pair(lambda f, k, x: f.cross_entropy(x, k(T)), Z),
    "ce-weight": pair(lambda f, k, x: f.cross_entropy(x, k(T), k(W)), Z),
    "ce-ignore": pair(lambda f, k, x: f.cross_entropy(x, k(T_IGN)), Z),
    "ce-smooth": pair(lambda f, k, x: f.cross_entropy(x, k(T), label_smoothing=0.2), Z),
    "ce-smooth-weight-ignore": pair(
        lambda f, k, x: f.cross_entropy(x, k(T_IGN), k(W), label_smoothing=0.3), Z),
    "ce-smooth-ignore-sum": pair(lambda f, k, x: f.cross_entropy(
        x, k(T_IGN), label_smoothing=0.3, reduction="sum"), Z),
    "ce-smooth-weight-none": pair(lambda f, k, x: f.cross_entropy(
        x, k(T_IGN), k(W), label_smoothing=0.1, reduction="none"), Z),
    "ce-4d-smooth-weight": pair(lambda f, k, x: f.cross_entropy(
        x, k(T3), k(W), ignore_index=-1, label_smoothing=0.25), Z4),
    "ce-unbatched": pair(lambda f, k, x: f.cross_entropy(x, k(np.array(1))), Z[0]),
    "ce-probs": pair(lambda f, k, x, y: f.cross_entropy(x, y), Z, P_SOFT),
    "ce-probs-weight-smooth": pair(
        lambda f, k, x, y: f.cross_entropy(x, y, k(W), label_smoothing=0.2), Z, P_SOFT),
    "ce-probs-sum": pair(lambda f, k, x, y: f.cross_entropy(x, y, reduction="sum"), Z, P_SOFT),
    "ce-probs-none-4d": pair(lambda f, k, x, y: f.cross_entropy(x, y, k(W), reduction="none"),
                             Z4, RNG.dirichlet(np.ones(C), (2, 2, 3)).transpose(0, 3, 1, 2)),
    "bce": pair(lambda f, k, p, y: f.binary_cross_entropy(p, y),
                RNG.uniform(0.05, 0.95, (N, C)), P_SOFT),
    "bce-weight-sum": pair(lambda f, k, p: f.binary_cross_entropy(
        p, k(Y01), k(W_ROW), reduction="sum"), RNG.uniform(0.05, 0.95, (N, C))),
    "bce-logits": pair(lambda f, k, x, y: f.binary_cross_entropy_with_logits(x, y), Z, P_SOFT),
    "bce-logits-pos-weight": pair(lambda f, k, x, y: f.binary_cross_entropy_with_logits(
        x, y, pos_weight=k(PW)), Z, Y01),
    "bce-logits-weights-none": pair(lambda f, k, x, y: f.binary_cross_entropy_with_logits(
        x, y, k(W), pos_weight=k(PW), reduction="none"), Z, P_SOFT),
    "bce-logits-pos-weight-3d": pair(lambda f, k, x: f.binary_cross_entropy_with_logits(
        x, k(Y3), pos_weight=k(PW)),
        RNG.normal(0, 3, (2, 3, C))),
    "hinge-embedding": pair(lambda f, k, x: f.hinge_embedding_loss(
        x, k(np.where(Y01 > 0, 1.0, -1.0)), margin=1.5), RNG.uniform(0.1, 1.2, (N, C))),
}
COSINE_CASES = {  # tidu's axis is torch's dim
    "axis1": (1, [Z, RNG.normal(size=(N, C))]),
    "axis0": (0, [Z, RNG.normal(size=(N, C))]),
    "broadcast": (-1, [RNG.normal(size=(3, 1, C)), RNG.normal(size=(5, C))]),
}


@pytest.mark.parametrize("case", TORCH_CASES, ids=list(TORCH_CASES))
def test_torch_style_matches_torch(case, torch_check):
    fn, ref, arrays = TORCH_CASES[case]
    torch_check(fn, ref, arrays)


@pytest.mark.parametrize("case", COSINE_CASES, ids=list(COSINE_CASES))
def test_cosine_similarity_matches_torch(case, torch_check):
    axis, arrays = COSINE_CASES[case]
    torch_check(lambda a, b: F.cosine_similarity(a, b, axis=axis),
                lambda a, b: TF.cosine_similarity(a, b, dim=axis), arrays)


def test_cosine_similarity_of_a_zero_vector_is_zero_with_torchs_gradient(torch_check):
    a = np.vstack([np.zeros(C), RNG.normal(size=C)])
    xs, out = torch_check(lambda u, v: F.cosine_similarity(u, v),
                          lambda u, v: TF.cosine_similarity(u, v), [a, RNG.normal(size=(2, C))],
                          rtol=1e-7)
    assert out.numpy()[0] == 0 and np.isfinite(xs[0].grad.numpy()).all()


@pytest.mark.parametrize("case", ["ce-smooth-weight-ignore", "ce-probs-weight-smooth",
                                  "bce-logits-pos-weight", "nll-4d"])
def test_gradcheck(case):
    fn, _, arrays = TORCH_CASES[case]
    tidu.gradcheck(fn, arrays)


def test_second_derivative_matches_torch():
    x = tidu.tensor(Z, requires_grad=True)
    (g,) = tidu.grad(F.cross_entropy(x, T_IGN, W, label_smoothing=0.1), [x], create_graph=True)
    (h,) = tidu.grad((g * g).sum(), [x])
    t = torch.tensor(Z, requires_grad=True)
    (gt,) = torch.autograd.grad(TF.cross_entropy(t, torch.tensor(T_IGN), torch.tensor(W),
                                                 label_smoothing=0.1), [t], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [t])
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- ignore_index
@pytest.mark.parametrize("call", [
    lambda f, k, x: f.nll_loss(x, k(np.full(N, -100))),
    lambda f, k, x: f.nll_loss(x, k(np.full(N, -100)), k(W)),
    lambda f, k, x: f.cross_entropy(x, k(np.full(N, 7)), k(W), ignore_index=7),
    lambda f, k, x: f.cross_entropy(x, k(np.full(N, -100)), label_smoothing=0.2),
])
def test_all_targets_ignored_gives_nan_mean_and_zero_gradient(call):
    x = tidu.tensor(Z, requires_grad=True)
    out = call(F, np.asarray, x)
    t = torch.tensor(Z, requires_grad=True)
    ref = call(TF, torch.as_tensor, t)
    assert np.isnan(float(out)) and np.isnan(ref.item())
    out.backward()
    ref.backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    assert float(F.cross_entropy(Z, np.full(N, -100), reduction="sum")) == 0


def test_ignored_targets_may_be_out_of_range_and_get_no_gradient():
    x = tidu.tensor(Z, requires_grad=True)
    F.cross_entropy(x, np.array([0, 255, 1, 255, 2, 3]), ignore_index=255).backward()
    np.testing.assert_array_equal(x.grad.numpy()[[1, 3]], 0)
    assert np.all(x.grad.numpy()[[0, 2, 4, 5]] != 0)


# ----------------------------------------------------------------------------- stability
BIG = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 1e4, -1e4], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("call, arrays", [
    (lambda f, k, x: f.cross_entropy(x, k(np.array([1, 0, 2]))), [BIG]),
    (lambda f, k, x: f.cross_entropy(x, k(np.array([1, 3, -100])), k(W),
                                     label_smoothing=0.1), [BIG]),
    (lambda f, k, x, y: f.cross_entropy(x, y, label_smoothing=0.1), [BIG, P_SOFT[:3]]),
    (lambda f, k, x: f.nll_loss(TF.log_softmax(x, 1) if f is TF else tidu.log_softmax(x, 1),
                                k(np.array([1, 0, 2]))), [BIG]),
    (lambda f, k, x, y: f.binary_cross_entropy_with_logits(x, y, pos_weight=k(PW)),
     [BIG, Y01[:3]]),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_stay_finite_and_match_torch(call, arrays, dtype):
    xs = [tidu.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    def const(a):
        return torch.as_tensor(a if a.dtype.kind in "iu" else a.astype(dtype))

    out, ref = call(F, np.asarray, *xs), call(TF, const, *ts)
    out.backward()
    ref.backward()
    assert out.dtype == dtype and np.isfinite(float(out))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert float(out) == pytest.approx(ref.item(), rel=rtol)
    for x, t in zip(xs, ts):
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-7)


def test_binary_cross_entropy_at_exact_zero_and_one_is_clamped_like_torch():
    p, y = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    x = tidu.tensor(p, requires_grad=True)
    out = F.binary_cross_entropy(x, y, reduction="none")
    ref = TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(out.numpy(), ref.numpy())  # 100, 100, 0, 0
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ----------------------------------------------------------------------------- errors
def test_torch_style_errors_name_the_function_and_argument():
    with pytest.raises(ValueError, match=r"cross_entropy: target 4 is out of bounds .* 4 class"):
        F.cross_entropy(Z, np.array([0, 4, 1, 2, 3, 0]))
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices"):
        F.nll_loss(Z, T.astype(float))
    with pytest.raises(ValueError, match="ignore_index=3 is not supported for probability"):
        F.cross_entropy(Z, P_SOFT, ignore_index=3)
    with pytest.raises(TypeError, match="must be floating"):
        F.cross_entropy(Z, np.ones((N, C), dtype=int))
    with pytest.raises(tidu.ShapeError, match=r"weight must hold one value per class, shape "
                                              r"\(4,\), got shape \(3,\)"):
        F.nll_loss(Z, T, weight=np.ones(3))
    with pytest.raises(tidu.ShapeError, match=r"class indices need shape \(6,\)"):
        F.cross_entropy(Z, T[:5])
    with pytest.raises(ValueError, match="binary_cross_entropy: input must hold probabilities"):
        F.binary_cross_entropy(Z, Y01)
    with pytest.raises(tidu.ShapeError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(Z, Y01, pos_weight=np.ones(3))
    with pytest.raises(tidu.ShapeError, match=r"target has shape \(6,\) but input has shape"):
        F.binary_cross_entropy_with_logits(Z[:, :1], Y01[:, 0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.nll_loss(Z, T, reduction="batchmean")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(Z, T, label_smoothing=1.5)
    with pytest.raises(tidu.ShapeError, match="class axis"):
        F.cross_entropy(np.float64(1.0), np.array(0))
    with pytest.raises(TypeError):
        F.cross_entropy(Z, T, W, -100)  # everything after weight is keyword-only


def test_float32_inputs_give_float32_losses():
    z = tidu.tensor(Z.astype(np.float32))
    for out in (F.cross_entropy(z, T, W), F.nll_loss(z, T),
                F.binary_cross_entropy_with_logits(z, Y01, pos_weight=PW),
                F.cosine_similarity(z, z), F.cross_entropy(z, P_SOFT)):
        assert out.dtype == np.float32


def test_activations_are_reexported():
    assert F.relu is tidu.ops.relu and F.softmax is tidu.ops.softmax
    assert float(F.leaky_relu(tidu.tensor(-1.0))) == pytest.approx(-0.01)  # torch's slope


# ----------------------------------------------------------------------------- Keras-style
def k_softplus(x):
    return np.logaddexp(0.0, x)


def k_log_softmax(z, axis=-1):
    m = z.max(axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis, keepdims=True))


def k_cce(y, p, from_logits=False, label_smoothing=0.0):
    """Keras 3 categorical_crossentropy, transcribed."""
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[-1]
    if from_logits:
        return -(y * k_log_softmax(p)).sum(-1)
    p = np.clip(p / p.sum(-1, keepdims=True), EPSILON, 1 - EPSILON)
    return -(y * np.log(p)).sum(-1)


def k_bce(y, p, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        return (np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))).mean(-1)
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def k_scce(y, z, ignore_class):
    """Keras 3 sparse_categorical_crossentropy(from_logits=True, ignore_class=...)."""
    valid = y != ignore_class
    y, z = y * valid, z * valid[..., None]
    res = -np.take_along_axis(k_log_softmax(z), y[..., None], -1)[..., 0]
    return np.where(valid, res, 0.0), valid


def k_normalize(x):
    return x * np.minimum(1 / np.sqrt((x * x).sum(-1, keepdims=True)), 1 / EPSILON)


def k_hinge_labels(y):
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


KERAS = {  # name: (tidu loss, NumPy transcription, y_true, y_pred)
    "cce-smooth": (lambda y, p: L.categorical_crossentropy(y, p, label_smoothing=0.1),
                   lambda y, p: k_cce(y, p, label_smoothing=0.1), np.eye(C)[T], P_SOFT * 1.2),
    "cce-smooth-logits": (
        lambda y, p: L.categorical_crossentropy(y, p, from_logits=True, label_smoothing=0.3),
        lambda y, p: k_cce(y, p, True, 0.3), np.eye(C)[T], Z),
    "bce-smooth": (lambda y, p: L.binary_crossentropy(y, p, label_smoothing=0.2),
                   lambda y, p: k_bce(y, p, label_smoothing=0.2), Y01,
                   RNG.uniform(0.05, 0.95, (N, C))),
    "bce-smooth-logits": (lambda y, p: L.binary_crossentropy(y, p, True, label_smoothing=0.2),
                          lambda y, p: k_bce(y, p, True, 0.2), Y01, Z),
    "cosine": (L.cosine_similarity, lambda y, p: -(k_normalize(y) * k_normalize(p)).sum(-1),
               RNG.normal(size=(N, C)), Z),
    "hinge-01": (L.hinge, lambda y, p: np.maximum(1 - k_hinge_labels(y) * p, 0).mean(-1), Y01,
                 Z * 0.3),
    "hinge-pm1": (L.hinge, lambda y, p: np.maximum(1 - y * p, 0).mean(-1), 2 * Y01 - 1, Z * 0.3),
    "hinge-other": (L.hinge, lambda y, p: np.maximum(1 - y * p, 0).mean(-1),
                    np.where(Y01 > 0, 1.0, 0.5), Z * 0.3),
    "squared-hinge": (L.squared_hinge,
                      lambda y, p: np.maximum(1 - k_hinge_labels(y) * p, 0).__pow__(2).mean(-1),
                      Y01, Z * 0.3),
    "log-cosh": (L.log_cosh, lambda y, p: np.log(np.cosh(p - y)).mean(-1),
                 RNG.normal(size=(N, C)), Z),
    "poisson": (L.poisson, lambda y, p: (p - y * np.log(p + EPSILON)).mean(-1),
                RNG.poisson(2.0, (N, C)).astype(float), RNG.uniform(0.5, 4, (N, C))),
}


@pytest.mark.parametrize("case", KERAS, ids=list(KERAS))
def test_keras_style_matches_the_keras_formula(case):
    fn, ref, y, p = KERAS[case]
    got = fn(y, tidu.tensor(p))
    assert got.shape == (N,)
    np.testing.assert_allclose(got.numpy(), ref(y, p), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", KERAS, ids=list(KERAS))
def test_keras_style_gradcheck(case):
    fn, _, y, p = KERAS[case]
    tidu.gradcheck(lambda q: fn(y, q), [p])


@pytest.mark.parametrize("fn, ref, y, p", [
    (lambda y, p: L.categorical_crossentropy(y, p, from_logits=True, label_smoothing=0.2),
     lambda y, p: TF.cross_entropy(p, y, label_smoothing=0.2), np.eye(C)[T], Z),
    (lambda y, p: L.binary_crossentropy(y, p, from_logits=True, label_smoothing=0.2),
     lambda y, p: TF.binary_cross_entropy_with_logits(p, y * 0.8 + 0.1), Y01, Z),
    (L.cosine_similarity,
     lambda y, p: -TF.cosine_similarity(p, y, dim=-1, eps=EPSILON).mean(),
     RNG.normal(size=(N, C)), Z),
    (L.poisson, lambda y, p: TF.poisson_nll_loss(p, y, log_input=False, eps=EPSILON),
     RNG.poisson(2.0, (N, C)).astype(float), RNG.uniform(0.5, 4, (N, C))),
])
def test_keras_style_gradients_match_torch(fn, ref, y, p, torch_check):
    torch_check(lambda q: fn(y, q).mean(), lambda q: ref(torch.tensor(y), q), [p])


def test_log_cosh_is_finite_for_huge_errors():
    x = tidu.tensor(np.array([[1e4, -1e4, 0.0]]), requires_grad=True)
    out = L.LogCosh()(np.zeros((1, 3)), x)
    out.backward()
    assert float(out) == pytest.approx((2e4 - 2 * np.log(2)) / 3)
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, -1 / 3, 0.0]])


def test_sparse_ignore_class_masks_like_keras():
    y = np.array([0, -1, 2, 3, -1, 1])
    per, valid = k_scce(y, Z, -1)
    got = L.sparse_categorical_crossentropy(y, tidu.tensor(Z), True, ignore_class=-1)
    np.testing.assert_allclose(got.numpy(), per, rtol=1e-12)
    x = tidu.tensor(Z, requires_grad=True)
    out = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)(y, x)
    w = valid * (valid.size / (valid.sum() + EPSILON))  # Keras's apply_mask
    assert float(out) == pytest.approx((per * w).sum() / valid.size, rel=1e-12)
    out.backward()
    t = torch.tensor(Z, requires_grad=True)
    ref = TF.cross_entropy(t, torch.tensor(y), ignore_index=-1)  # mean over the valid ones
    ref.backward()
    assert float(out) == pytest.approx(ref.item(), rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(x.grad.numpy()[~valid], 0)
    sw = RNG.uniform(0, 2, N)
    summed = L.SparseCategoricalCrossentropy(True, "sum", ignore_class=-1)(y, Z, sample_weight=sw)
    assert float(summed) == pytest.approx((per * sw).sum(), rel=1e-12)
    # (n, 1) labels, and probabilities through the softmax fusion
    p = tidu.softmax(tidu.tensor(Z, requires_grad=True))
    again = L.SparseCategoricalCrossentropy(ignore_class=-1)(y[:, None], p)
    assert float(again) == pytest.approx(float(out), rel=1e-12)


def test_label_smoothing_on_the_loss_classes():
    z, y = tidu.tensor(Z), np.eye(C)[T]
    got = L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(y, z)
    assert float(got) == pytest.approx(k_cce(y, Z, True, 0.1).mean(), rel=1e-12)
    got = L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(Y01, z)
    assert float(got) == pytest.approx(k_bce(Y01, Z, True, 0.1).mean(), rel=1e-12)
    p = tidu.softmax(tidu.tensor(np.array([[1e4, 0.0]]), requires_grad=True))
    smoothed = L.CategoricalCrossentropy(label_smoothing=0.2)([[0.0, 1.0]], p)
    assert float(smoothed) == pytest.approx(0.9 * 1e4, rel=1e-9)  # fused: exact and finite
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        L.BinaryCrossentropy(label_smoothing=-0.1)


def test_existing_losses_are_unchanged_by_default():
    y = np.eye(C)[T]
    assert float(L.CategoricalCrossentropy(True)(y, tidu.tensor(Z))) == pytest.approx(
        k_cce(y, Z, True).mean(), rel=1e-12)
    assert float(L.SparseCategoricalCrossentropy(True)(T, tidu.tensor(Z))) == pytest.approx(
        k_cce(y, Z, True).mean(), rel=1e-12)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        L.sparse_categorical_crossentropy([0, -1, 1, 2, 3, 0], tidu.tensor(Z))


def test_keras_losses_compile_to_the_eager_values():
    y_bin = Y01
    for loss, y in [(L.Hinge(), y_bin), (L.SquaredHinge(), 2 * y_bin - 1), (L.LogCosh(), P_SOFT),
                    (L.Poisson(), y_bin), (L.CosineSimilarity(), P_SOFT),
                    (L.CategoricalCrossentropy(True, label_smoothing=0.1), np.eye(C)[T]),
                    (L.SparseCategoricalCrossentropy(True, ignore_class=-1), T_IGN.clip(-1)),
                    (L.BinaryCrossentropy(True, label_smoothing=0.1), y_bin)]:
        p = np.abs(Z) + 0.1
        step = tidu.compile.jit(lambda a, b, loss=loss: loss(a, b))
        np.testing.assert_allclose(step(y, p).numpy(), loss(y, tidu.tensor(p)).numpy(),
                                   rtol=1e-12, err_msg=type(loss).__name__)


# ----------------------------------------------------------------------------- resolution
@pytest.mark.parametrize("name, cls", [
    ("cosine_similarity", L.CosineSimilarity), ("CosineSimilarity", L.CosineSimilarity),
    ("hinge", L.Hinge), ("Hinge", L.Hinge), ("squared_hinge", L.SquaredHinge),
    ("SquaredHinge", L.SquaredHinge), ("log_cosh", L.LogCosh), ("logcosh", L.LogCosh),
    ("LogCosh", L.LogCosh), ("poisson", L.Poisson), ("Poisson", L.Poisson),
])
def test_get_resolves_the_new_names(name, cls):
    assert type(L.get(name)) is cls


@pytest.mark.parametrize("fn, cls", [
    (L.cosine_similarity, L.CosineSimilarity), (L.hinge, L.Hinge),
    (L.squared_hinge, L.SquaredHinge), (L.log_cosh, L.LogCosh), (L.poisson, L.Poisson),
])
def test_get_maps_functions_to_classes(fn, cls):
    assert type(L.get(fn)) is cls


@pytest.mark.parametrize("loss", [
    L.CosineSimilarity(axis=0, name="cos"), L.Hinge(reduction="sum"), L.SquaredHinge(),
    L.LogCosh(), L.Poisson(reduction="none"),
    L.CategoricalCrossentropy(from_logits=True, axis=0, label_smoothing=0.1),
    L.BinaryCrossentropy(label_smoothing=0.25), L.SparseCategoricalCrossentropy(ignore_class=3),
])
def test_configs_round_trip(loss):
    back = L.get(L.serialize(loss))
    assert type(back) is type(loss) and back.get_config() == loss.get_config()
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


def test_default_names_follow_keras():
    assert [c().name for c in (L.CosineSimilarity, L.Hinge, L.SquaredHinge, L.LogCosh,
                               L.Poisson)] == ["cosine_similarity", "hinge", "squared_hinge",
                                               "log_cosh", "poisson"]
    assert L.SparseCategoricalCrossentropy(ignore_class=-1).get_config()["ignore_class"] == -1
    assert L.CategoricalCrossentropy().get_config()["label_smoothing"] == 0.0
