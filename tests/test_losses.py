"""tidu.losses: values and gradients against torch.nn.functional (float64), central
differences, sample weights, the softmax/sigmoid fusion, stability at extreme predictions,
shape errors and name resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tidu
import tidu.losses as L
from tidu.losses.functional import EPSILON

RNG = np.random.default_rng(7)
N, C = 6, 4


def probs(n=N, c=C, seed=0):
    """Rows of probabilities in roughly [0.05, 0.7] (away from the clip bounds)."""
    p = np.random.default_rng(seed).uniform(0.2, 1.0, (n, c))
    return p / p.sum(-1, keepdims=True)


def onehot(labels, c=C):
    return np.eye(c)[labels]


LABELS = np.array([0, 3, 1, 2, 3, 0])
Y_REG = RNG.standard_normal((N, 3))
Y_BIN = np.array([[1.0], [0.0], [1.0], [1.0], [0.0], [0.0]])
Y_SOFT = probs(seed=5)

# name, tidu per-sample loss, torch reduced loss (mean over the batch), y_pred
CASES = [
    ("mse", lambda p: L.mean_squared_error(Y_REG, p),
     lambda p: TF.mse_loss(p, torch.tensor(Y_REG)), RNG.standard_normal((N, 3))),
    ("mae", lambda p: L.mean_absolute_error(Y_REG, p),
     lambda p: TF.l1_loss(p, torch.tensor(Y_REG)), Y_REG + RNG.uniform(0.1, 1, (N, 3))),
    ("bce", lambda p: L.binary_crossentropy(Y_BIN, p),
     lambda p: TF.binary_cross_entropy(p, torch.tensor(Y_BIN)), RNG.uniform(0.05, 0.95, (N, 1))),
    ("bce-soft", lambda p: L.binary_crossentropy(Y_SOFT, p),
     lambda p: TF.binary_cross_entropy(p, torch.tensor(Y_SOFT)), RNG.uniform(0.05, 0.95, (N, C))),
    ("bce-logits", lambda z: L.binary_crossentropy(Y_BIN, z, from_logits=True),
     lambda z: TF.binary_cross_entropy_with_logits(z, torch.tensor(Y_BIN)),
     RNG.normal(0, 3, (N, 1))),
    ("cce", lambda p: L.categorical_crossentropy(onehot(LABELS), p),
     # torch's cross_entropy applies log_softmax: log_softmax(log p) = log(p / sum p)
     lambda p: TF.cross_entropy(torch.log(p), torch.tensor(onehot(LABELS))),
     probs(seed=1) * 1.3),
    ("cce-soft-targets", lambda p: L.categorical_crossentropy(Y_SOFT, p),
     lambda p: TF.cross_entropy(torch.log(p), torch.tensor(Y_SOFT)), probs(seed=2)),
    ("cce-logits", lambda z: L.categorical_crossentropy(onehot(LABELS), z, from_logits=True),
     lambda z: TF.cross_entropy(z, torch.tensor(onehot(LABELS))), RNG.normal(0, 3, (N, C))),
    ("scce", lambda p: L.sparse_categorical_crossentropy(LABELS, p),
     lambda p: TF.cross_entropy(torch.log(p), torch.tensor(LABELS)), probs(seed=3) * 0.8),
    ("scce-logits", lambda z: L.sparse_categorical_crossentropy(LABELS, z, from_logits=True),
     lambda z: TF.cross_entropy(z, torch.tensor(LABELS)), RNG.normal(0, 3, (N, C))),
    ("huber", lambda p: L.huber(Y_REG, p, delta=0.7),
     lambda p: TF.huber_loss(p, torch.tensor(Y_REG), delta=0.7),
     # errors of either sign, some below and some above delta, none at the kink
     Y_REG + RNG.choice([-1, 1], (N, 3)) * RNG.choice([0.2, 0.5, 1.0, 2.0], (N, 3))),
    ("kld", lambda p: L.kl_divergence(Y_SOFT, p),
     lambda p: TF.kl_div(torch.log(p), torch.tensor(Y_SOFT), reduction="batchmean"),
     probs(seed=4)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(case, torch_check):
    _, fn, ref, y_pred = case
    torch_check(lambda p: fn(p).mean(), ref, [y_pred])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case):
    _, fn, _, y_pred = case
    tidu.gradcheck(fn, [y_pred])


def test_per_sample_values_match_torch_unreduced():
    p = RNG.normal(0, 1, (N, 3))
    got = L.mean_squared_error(Y_REG, tidu.tensor(p)).numpy()
    want = TF.mse_loss(torch.tensor(p), torch.tensor(Y_REG), reduction="none").mean(-1)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12)
    z = RNG.normal(0, 2, (N, C))
    got = L.sparse_categorical_crossentropy(LABELS, tidu.tensor(z), from_logits=True)
    want = TF.cross_entropy(torch.tensor(z), torch.tensor(LABELS), reduction="none")
    assert got.shape == (N,)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_classes_reduce_to_the_batch_mean():
    z = RNG.normal(0, 2, (N, C))
    for cls, fn, y in [
        (L.CategoricalCrossentropy, L.categorical_crossentropy, onehot(LABELS)),
        (L.SparseCategoricalCrossentropy, L.sparse_categorical_crossentropy, LABELS),
    ]:
        got = cls(from_logits=True)(y, tidu.tensor(z))
        assert got.shape == ()
        assert float(got) == pytest.approx(float(fn(y, tidu.tensor(z), True).numpy().mean()))


def test_probabilities_are_clipped_like_keras():
    # exact zeros and ones: finite, -log(eps) for the wrong certain prediction
    p = tidu.tensor(np.array([[1.0, 0.0], [0.0, 1.0]]))
    cce = L.categorical_crossentropy([[0.0, 1.0], [0.0, 1.0]], p).numpy()
    np.testing.assert_allclose(cce, [-np.log(EPSILON), -np.log(1 - EPSILON)])
    bce = L.binary_crossentropy([1.0, 0.0], tidu.tensor(np.array([0.0, 0.0]))).numpy()
    np.testing.assert_allclose(bce, [-np.log(EPSILON), -np.log(1 - EPSILON)])


# ----------------------------------------------------------------------------- sample weights
def test_sample_weight_scales_each_sample_then_divides_by_batch_size():
    p, w = RNG.normal(0, 1, (N, 3)), RNG.uniform(0, 2, N)
    per = TF.mse_loss(torch.tensor(p), torch.tensor(Y_REG), reduction="none").mean(-1).numpy()
    mse = L.MeanSquaredError()
    want = float((per * w).sum() / N)  # Keras's 'sum_over_batch_size'
    assert float(mse(Y_REG, tidu.tensor(p), sample_weight=w)) == pytest.approx(want)
    assert float(mse(Y_REG, tidu.tensor(p), sample_weight=w[:, None])) == pytest.approx(want)
    assert float(mse(Y_REG, tidu.tensor(p), sample_weight=2.0)) == pytest.approx(
        2 * per.mean())
    assert float(L.MeanSquaredError(reduction="sum")(Y_REG, tidu.tensor(p), w)) == \
        pytest.approx(float((per * w).sum()))
    none = L.MeanSquaredError(reduction="none")(Y_REG, tidu.tensor(p), w)
    np.testing.assert_allclose(none.numpy(), per * w, rtol=1e-12)


def test_sample_weight_gradient_matches_torch():
    w = RNG.uniform(0, 2, N)
    z = RNG.normal(0, 2, (N, C))
    x = tidu.tensor(z, requires_grad=True)
    L.SparseCategoricalCrossentropy(from_logits=True)(LABELS, x, sample_weight=w).backward()
    t = torch.tensor(z, requires_grad=True)
    (TF.cross_entropy(t, torch.tensor(LABELS), reduction="none") * torch.tensor(w)).mean() \
        .backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_sample_weight_of_the_wrong_shape_is_an_error():
    with pytest.raises(tidu.ShapeError, match=r"mean_squared_error: sample_weight of shape "
                                              r"\(5,\).*\(6,\)"):
        L.MeanSquaredError()(Y_REG, tidu.tensor(Y_REG), sample_weight=np.ones(5))


# ----------------------------------------------------------------------------- fusion
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_output_with_confident_wrong_class_is_fused(dtype):
    z = np.array([[1e4, 0.0], [0.0, 1e4], [2.0, -1.0]], dtype=dtype)
    y = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])  # the first sample is confidently wrong
    logits = tidu.tensor(z, requires_grad=True)
    loss = L.CategoricalCrossentropy()(y, tidu.softmax(logits))
    ref = L.CategoricalCrossentropy(from_logits=True)(y, tidu.tensor(z))
    assert np.isfinite(float(loss)) and float(loss) == pytest.approx(float(ref), rel=1e-6)
    assert float(loss) == pytest.approx((1e4 + np.log1p(np.exp(-3.0))) / 3, rel=1e-6)
    loss.backward()
    e = np.exp(z - z.max(-1, keepdims=True))
    want = (e / e.sum(-1, keepdims=True) - y) / len(z)
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), want, rtol=1e-5, atol=1e-7)


def test_sparse_softmax_fusion_gradient_equals_torch_cross_entropy():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 1.0, 0.5]])
    labels = np.array([2, 1])
    logits = tidu.tensor(z, requires_grad=True)
    loss = L.SparseCategoricalCrossentropy()(labels, tidu.softmax(logits))
    t = torch.tensor(z, requires_grad=True)
    ref = TF.nll_loss(TF.log_softmax(t, dim=-1), torch.tensor(labels))
    ref.backward()
    assert float(loss) == pytest.approx(ref.item(), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_sigmoid_output_is_fused_for_binary_crossentropy():
    z = np.array([[1e4], [-1e4], [0.0], [1.5]], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0])  # (n,) against (n, 1): accepted
    logits = tidu.tensor(z, requires_grad=True)
    loss = L.BinaryCrossentropy()(y, tidu.sigmoid(logits))
    t = torch.tensor(z.astype(np.float64), requires_grad=True)
    ref = TF.binary_cross_entropy_with_logits(t, torch.tensor(y[:, None]))
    ref.backward()
    assert float(loss) == pytest.approx(ref.item(), rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-8)


def test_zero_logits_get_the_sigmoid_gradient():
    # zero-initialized logistic regression (Text A) starts at z = 0 exactly: dz = a - y
    z = tidu.tensor(np.zeros((4, 1)), requires_grad=True)
    y = np.array([[1.0], [0.0], [1.0], [1.0]])
    loss = L.BinaryCrossentropy(from_logits=True)(y, z)
    assert float(loss) == pytest.approx(np.log(2))
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), (0.5 - y) / 4)


def test_no_fusion_without_a_live_graph_falls_back_to_clipping():
    y = np.array([[0.0, 1.0]])
    logits = tidu.tensor(np.array([[1e4, 0.0]]), requires_grad=True)
    with tidu.no_grad():
        p = tidu.softmax(logits)
    assert float(L.categorical_crossentropy(y, p)[0]) == pytest.approx(-np.log(EPSILON))
    p = tidu.softmax(logits)
    (p * p).sum().backward()  # the engine frees p's node (the fused loss would not use it)
    assert float(L.categorical_crossentropy(y, p)[0]) == pytest.approx(-np.log(EPSILON))


def test_softmax_over_another_axis_is_not_fused():
    z = RNG.normal(0, 1, (3, 4))
    p = tidu.softmax(tidu.tensor(z, requires_grad=True), axis=0)
    y = onehot([0, 1, 2], 4)
    got = L.categorical_crossentropy(y, p).numpy()
    q = np.exp(z) / np.exp(z).sum(0, keepdims=True)
    q = q / q.sum(-1, keepdims=True)
    np.testing.assert_allclose(got, -(y * np.log(q)).sum(-1), rtol=1e-12)


def test_categorical_crossentropy_on_another_axis():
    z = RNG.normal(0, 1, (C, N))
    y = onehot(LABELS).T
    got = L.categorical_crossentropy(y, tidu.softmax(tidu.tensor(z, requires_grad=True), 0),
                                     axis=0)
    want = TF.cross_entropy(torch.tensor(z.T), torch.tensor(LABELS), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", [L.MeanSquaredError(), L.MeanAbsoluteError(), L.Huber(),
                                  L.BinaryCrossentropy(), L.BinaryCrossentropy(from_logits=True),
                                  L.CategoricalCrossentropy(), L.KLDivergence(),
                                  L.CategoricalCrossentropy(from_logits=True)])
def test_extreme_predictions_stay_finite(loss):
    y = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    for z in ([[1e4, -1e4], [1e4, -1e4]], [[1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]):
        x = tidu.tensor(np.array(z, dtype=np.float32), requires_grad=True)
        out = loss(y, x)
        out.backward()
        assert np.isfinite(float(out)) and np.isfinite(x.grad.numpy()).all()


# ----------------------------------------------------------------------------- shapes, inputs
def test_categorical_shape_mismatch_names_loss_and_both_shapes():
    y = np.eye(10)[np.arange(32) % 10]
    with pytest.raises(tidu.ShapeError, match=r"categorical_crossentropy: y_true has shape "
                                              r"\(32, 10\) but y_pred has shape \(32, 5\)"):
        L.CategoricalCrossentropy()(y, tidu.tensor(np.ones((32, 5)) / 5))
    with pytest.raises(tidu.ShapeError, match="sparse_categorical_crossentropy"):
        L.categorical_crossentropy(np.arange(32) % 5, tidu.tensor(np.ones((32, 5)) / 5))


def test_sparse_labels_are_checked():
    p = tidu.tensor(np.ones((3, 5)) / 5)
    with pytest.raises(ValueError, match=r"label 7 is out of range .* 5 classes"):
        L.sparse_categorical_crossentropy([0, 7, 1], p)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        L.sparse_categorical_crossentropy([0, -1, 1], p)
    with pytest.raises(ValueError, match="integer class labels, got 1.5"):
        L.sparse_categorical_crossentropy([0.0, 1.5, 1.0], p)
    with pytest.raises(tidu.ShapeError, match="looks one-hot: use categorical_crossentropy"):
        L.sparse_categorical_crossentropy(np.eye(5)[:3], p)
    a = L.sparse_categorical_crossentropy(np.array([[0], [4], [2]]), p).numpy()
    b = L.sparse_categorical_crossentropy(np.array([0.0, 4.0, 2.0]), p).numpy()
    np.testing.assert_allclose(a, np.log(5) * np.ones(3), rtol=1e-6)
    np.testing.assert_array_equal(a, b)


def test_vector_targets_against_column_predictions_never_broadcast_to_a_matrix():
    n = 32
    y, p = RNG.integers(0, 2, n).astype(float), RNG.uniform(0.1, 0.9, (n, 1))
    got = L.binary_crossentropy(y, tidu.tensor(p))
    assert got.shape == (n,)
    want = TF.binary_cross_entropy(torch.tensor(p[:, 0]), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    assert L.mean_squared_error(y[:, None], tidu.tensor(p[:, 0])).shape == (n,)
    with pytest.raises(tidu.ShapeError, match=r"binary_crossentropy: y_true has shape \(32,\) "
                                              r"but y_pred has shape \(32, 2\)"):
        L.binary_crossentropy(y, tidu.tensor(np.full((n, 2), 0.5)))
    with pytest.raises(tidu.ShapeError, match="mean_squared_error"):
        L.mean_squared_error(y[:31], tidu.tensor(p))


def test_y_true_as_list_array_or_tensor_and_never_differentiated():
    p = tidu.tensor(np.array([[0.2, 0.8]]), requires_grad=True)
    t = tidu.tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    vals = [float(L.categorical_crossentropy(y, p)[0])
            for y in ([[0.0, 1.0]], np.array([[0, 1]]), t)]
    assert vals == pytest.approx([-np.log(0.8)] * 3)
    L.categorical_crossentropy(t, p).sum().backward()
    assert t.grad is None and p.grad is not None


def test_loss_follows_y_pred_dtype():
    p = tidu.tensor(np.array([[0.5], [0.25]], dtype=np.float32))
    assert L.BinaryCrossentropy()(np.array([1.0, 0.0]), p).dtype == np.float32
    assert L.MeanSquaredError()([[1], [0]], p).dtype == np.float32


def test_invalid_arguments():
    with pytest.raises(ValueError, match="delta must be positive"):
        L.Huber(delta=0)
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.MeanSquaredError(reduction="mean_of_means")
    with pytest.raises(TypeError, match="y_true must be numeric"):
        L.mean_squared_error(["a"], tidu.tensor([1.0]))
    with pytest.raises(tidu.ShapeError, match="class axis"):
        L.categorical_crossentropy(1.0, tidu.tensor(1.0))


# ----------------------------------------------------------------------------- resolution
@pytest.mark.parametrize("name, cls", [
    ("mse", L.MeanSquaredError), ("MSE", L.MeanSquaredError),
    ("mean_squared_error", L.MeanSquaredError), ("MeanSquaredError", L.MeanSquaredError),
    ("mae", L.MeanAbsoluteError), ("mean_absolute_error", L.MeanAbsoluteError),
    ("binary_crossentropy", L.BinaryCrossentropy), ("bce", L.BinaryCrossentropy),
    ("categorical_crossentropy", L.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
    ("huber", L.Huber), ("kld", L.KLDivergence), ("kl_divergence", L.KLDivergence),
    ("KLDivergence", L.KLDivergence),
])
def test_get_resolves_names(name, cls):
    assert type(L.get(name)) is cls


def test_get_resolves_instances_classes_configs_and_functions():
    loss = L.CategoricalCrossentropy(from_logits=True)
    assert L.get(loss) is loss
    assert type(L.get(L.Huber)) is L.Huber
    assert type(L.get(L.binary_crossentropy)) is L.BinaryCrossentropy
    back = L.get(L.serialize(L.Huber(delta=2.5, name="h")))
    assert (type(back), back.delta, back.name) == (L.Huber, 2.5, "h")

    def cubic(y_true, y_pred):
        return ((y_pred - y_true) ** 3).mean(axis=-1)

    wrapped = L.get(cubic)
    assert isinstance(wrapped, L.LossFunctionWrapper) and wrapped.name == "cubic"
    x = tidu.tensor(np.array([[2.0], [3.0]]), requires_grad=True)
    out = wrapped(np.array([[1], [1]]), x)  # labels shaped as the predictions
    assert float(out) == pytest.approx((1 + 8) / 2)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.5], [6.0]])


def test_get_errors():
    with pytest.raises(ValueError, match="no loss given"):
        L.get(None)
    with pytest.raises(ValueError, match=r"Unknown loss 'mse2'.*binary_crossentropy.*mse"):
        L.get("mse2")
    with pytest.raises(TypeError, match="expected a name"):
        L.get(3)


def test_names_and_configs_round_trip():
    expected = {
        L.MeanSquaredError: "mean_squared_error", L.MeanAbsoluteError: "mean_absolute_error",
        L.BinaryCrossentropy: "binary_crossentropy",
        L.CategoricalCrossentropy: "categorical_crossentropy",
        L.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
        L.Huber: "huber_loss", L.KLDivergence: "kl_divergence",
    }
    for cls, name in expected.items():
        loss = cls()
        assert loss.name == name
        again = cls.from_config(loss.get_config())
        assert again.get_config() == loss.get_config()
    assert L.BinaryCrossentropy(from_logits=True).get_config()["from_logits"] is True


def test_from_logits_on_a_softmax_or_sigmoid_output_warns():
    z = tidu.tensor(RNG.normal(0, 1, (3, 2)), requires_grad=True)
    with pytest.warns(UserWarning, match="produced by softmax"):
        L.CategoricalCrossentropy(from_logits=True)(np.eye(2)[[0, 1, 1]], tidu.softmax(z))
    with pytest.warns(UserWarning, match="produced by sigmoid"):
        L.BinaryCrossentropy(from_logits=True)(np.ones((3, 2)), tidu.sigmoid(z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((6, 4), -1), ((6, 4), 1), ((3, 5, 4), -1),
                                        ((4, 6), 0)])
def test_a_training_steps_loss_call_matches_the_functional_form(shape, axis, dtype):
    """After a loss object's judged calls, its calls take a short path to the fused node:
    the same value and gradient bits as the functional form, and the same errors."""
    z = RNG.normal(0, 2, shape).astype(dtype)
    y = np.eye(shape[axis], dtype=dtype)[RNG.integers(0, shape[axis], z.size // shape[axis])]
    y = np.moveaxis(y.reshape(*np.delete(shape, axis % len(shape)), shape[axis]), -1, axis)
    y = np.ascontiguousarray(y)
    loss = L.CategoricalCrossentropy(from_logits=True, axis=axis)
    for _ in range(loss.JUDGED_CALLS + 1):
        a = tidu.tensor(z, requires_grad=True)
        got = loss(y, a)
    got.backward()
    b = tidu.tensor(z, requires_grad=True)
    want = L.categorical_crossentropy(y, b, from_logits=True, axis=axis, reduction="mean")
    want.backward()
    assert got.dtype == want.dtype == dtype
    assert got.numpy().tobytes() == want.numpy().tobytes()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(tidu.errors.ShapeError, match="y_true has shape"):
        loss(y[..., :1] if axis in (-1, len(shape) - 1) else y[:1], a)
