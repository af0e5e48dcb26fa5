"""tidu.metrics: each metric against a NumPy formula, exact averaging over batches of unequal
size (with and without sample weights), and Keras's resolution of 'accuracy' from the loss."""

from __future__ import annotations

import numpy as np
import pytest

import tidu
import tidu.losses as L
import tidu.metrics as M

RNG = np.random.default_rng(3)
N, C = 23, 4
LABELS = RNG.integers(0, C, N)
ONEHOT = np.eye(C)[LABELS]
SCORES = RNG.uniform(0, 1, (N, C))
BIN_TRUE = RNG.integers(0, 2, (N, 1)).astype(float)
BIN_PRED = RNG.uniform(0, 1, (N, 1))
REG_TRUE, REG_PRED = RNG.normal(size=(N, 3)), RNG.normal(size=(N, 3))

# metric factory, y_true, y_pred, per-sample NumPy formula
CASES = [
    ("binary_accuracy", M.BinaryAccuracy, BIN_TRUE, BIN_PRED,
     lambda t, p: ((p > 0.5) == t)[:, 0].astype(float)),
    ("binary_accuracy_threshold", lambda: M.BinaryAccuracy(threshold=0.8), BIN_TRUE, BIN_PRED,
     lambda t, p: ((p > 0.8) == t)[:, 0].astype(float)),
    ("categorical_accuracy", M.CategoricalAccuracy, ONEHOT, SCORES,
     lambda t, p: (t.argmax(1) == p.argmax(1)).astype(float)),
    ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy, LABELS, SCORES,
     lambda t, p: (t == p.argmax(1)).astype(float)),
    ("sparse_labels_column", M.SparseCategoricalAccuracy, LABELS[:, None], SCORES,
     lambda t, p: (t[:, 0] == p.argmax(1)).astype(float)),
    ("accuracy", M.Accuracy, LABELS, np.where(RNG.uniform(size=N) < 0.6, LABELS, 0),
     lambda t, p: (t == p).astype(float)),
    ("mean_squared_error", M.MeanSquaredError, REG_TRUE, REG_PRED,
     lambda t, p: ((t - p) ** 2).mean(1)),
    ("mean_absolute_error", M.MeanAbsoluteError, REG_TRUE, REG_PRED,
     lambda t, p: np.abs(t - p).mean(1)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_metric_matches_numpy_formula(case):
    _, make, t, p, formula = case
    m = make()
    m.update_state(t, p)
    assert m.result() == pytest.approx(formula(t, p).mean(), rel=1e-12)
    assert isinstance(m.result(), float)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unequal_batches_give_the_all_at_once_result(case):
    _, make, t, p, formula = case
    w = RNG.uniform(0, 2, N)
    for weights in (None, w):
        whole, parts = make(), make()
        whole.update_state(t, p, sample_weight=weights)
        for lo, hi in [(0, 10), (10, 13), (13, 22), (22, 23)]:
            parts.update_state(t[lo:hi], p[lo:hi],
                               sample_weight=None if weights is None else weights[lo:hi])
        want = formula(t, p).mean() if weights is None else \
            (formula(t, p) * w).sum() / w.sum()
        assert parts.result() == pytest.approx(whole.result(), rel=1e-12)
        assert parts.result() == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_functional_forms_are_per_sample(case):
    name, _, t, p, formula = case
    fn = getattr(M, name.replace("_threshold", "").replace("sparse_labels_column",
                                                         "sparse_categorical_accuracy"))
    kwargs = {"threshold": 0.8} if "threshold" in name else {}
    np.testing.assert_allclose(fn(t, p, **kwargs), formula(t, p), rtol=1e-12)


def test_reset_and_empty_result():
    m = M.CategoricalAccuracy()
    assert m.result() == 0.0
    m.update_state(ONEHOT, SCORES)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(ONEHOT[:2], ONEHOT[:2])
    assert m.result() == 1.0


def test_mean_tracks_the_loss_as_the_training_loop_uses_it():
    losses, sizes = [0.9, 0.5, 0.2], [128, 128, 44]
    m = M.Mean(name="loss")
    for v, n in zip(losses, sizes):
        m.update_state(v, sample_weight=n)
    assert m.name == "loss"
    assert m.result() == pytest.approx(np.dot(losses, sizes) / sum(sizes))
    m = M.Mean()
    m.update_state(np.array([1.0, 2.0, 6.0]))
    m.update_state(tidu.tensor([3.0]))
    assert m.result() == pytest.approx(3.0)


def test_tensors_are_accepted_and_call_updates():
    m = M.SparseCategoricalAccuracy()
    assert m(tidu.tensor(LABELS[:5]), tidu.tensor(SCORES[:5])) == pytest.approx(
        (LABELS[:5] == SCORES[:5].argmax(1)).mean())
    assert m(LABELS[5:], SCORES[5:]) == pytest.approx((LABELS == SCORES.argmax(1)).mean())


def test_binary_accuracy_reshapes_vector_targets_but_never_broadcasts():
    m = M.BinaryAccuracy()
    m.update_state(BIN_TRUE[:, 0], BIN_PRED)  # (n,) against (n, 1)
    assert m.result() == pytest.approx(((BIN_PRED > 0.5) == BIN_TRUE).mean())
    with pytest.raises(tidu.ShapeError, match=r"binary_accuracy: y_true has shape \(23,\) but "
                                              r"y_pred has shape \(23, 2\)"):
        m.update_state(BIN_TRUE[:, 0], np.hstack([BIN_PRED, BIN_PRED]))


def test_shape_errors_name_the_metric_and_hint():
    with pytest.raises(tidu.ShapeError, match="categorical_accuracy.*sparse_categorical"):
        M.CategoricalAccuracy().update_state(LABELS, SCORES)
    with pytest.raises(tidu.ShapeError, match="looks one-hot: use categorical_accuracy"):
        M.SparseCategoricalAccuracy().update_state(ONEHOT, SCORES)
    with pytest.raises(tidu.ShapeError, match="sample_weight of shape"):
        M.MeanSquaredError().update_state(REG_TRUE, REG_PRED, sample_weight=np.ones(5))


# ----------------------------------------------------------------------------- resolution
@pytest.mark.parametrize("loss, cls", [
    ("binary_crossentropy", M.BinaryAccuracy), (L.BinaryCrossentropy(), M.BinaryAccuracy),
    ("categorical_crossentropy", M.CategoricalAccuracy),
    (L.CategoricalCrossentropy(from_logits=True), M.CategoricalAccuracy),
    (L.categorical_crossentropy, M.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", M.SparseCategoricalAccuracy),
    (L.SparseCategoricalCrossentropy, M.SparseCategoricalAccuracy),
])
def test_accuracy_is_resolved_from_the_loss(loss, cls):
    for ident in ("accuracy", "acc"):
        m = M.get(ident, loss=loss)
        assert type(m) is cls and m.name == ident


def test_accuracy_for_logits_thresholds_at_zero():
    assert M.get("accuracy", loss="bce").fn_kwargs["threshold"] == 0.5
    m = M.get("accuracy", loss=L.BinaryCrossentropy(from_logits=True))
    m.update_state([1, 0, 1], np.array([[0.3], [-2.0], [-0.1]]))
    assert m.result() == pytest.approx(2 / 3)


@pytest.mark.parametrize("t, p, kind, want", [
    (BIN_TRUE, BIN_PRED, "binary", ((BIN_PRED > 0.5) == BIN_TRUE).mean()),
    (ONEHOT, SCORES, "categorical", (ONEHOT.argmax(1) == SCORES.argmax(1)).mean()),
    (LABELS, SCORES, "sparse", (LABELS == SCORES.argmax(1)).mean()),
])
@pytest.mark.parametrize("loss", ["mse", None, lambda t, p: (p - t).mean(-1)])
def test_accuracy_for_other_losses_is_chosen_from_the_first_batch(t, p, kind, want, loss):
    m = M.get("accuracy", loss=loss)
    assert m.name == "accuracy" and m.result() == 0.0
    m.update_state(t[:9], p[:9])
    m.update_state(t[9:], p[9:])
    assert m.kind == kind and m.name == "accuracy"
    assert m.result() == pytest.approx(want)
    m.reset_state()
    assert m.result() == 0.0


def test_get_resolves_names_instances_classes_and_functions():
    m = M.get("mse")
    assert type(m) is M.MeanSquaredError and m.name == "mse"
    assert type(M.get("mean_absolute_error")) is M.MeanAbsoluteError
    assert type(M.get("binary_accuracy")) is M.BinaryAccuracy
    assert type(M.get("BinaryAccuracy")) is M.BinaryAccuracy
    assert type(M.get(M.CategoricalAccuracy)) is M.CategoricalAccuracy
    inst = M.Mean()
    assert M.get(inst) is inst

    def max_error(y_true, y_pred):
        return np.abs(np.asarray(y_true) - y_pred).max(axis=-1)

    w = M.get(max_error)
    assert w.name == "max_error"
    w.update_state(REG_TRUE, REG_PRED)
    assert w.result() == pytest.approx(np.abs(REG_TRUE - REG_PRED).max(1).mean())


def test_loss_names_give_their_batch_mean_as_a_metric():
    m = M.get("categorical_crossentropy")
    p = SCORES / SCORES.sum(1, keepdims=True)
    m.update_state(ONEHOT[:10], p[:10])
    m.update_state(ONEHOT[10:], p[10:])
    assert m.name == "categorical_crossentropy"
    assert m.result() == pytest.approx(-np.log(p[np.arange(N), LABELS]).mean(), rel=1e-12)


def test_get_errors():
    with pytest.raises(ValueError, match=r"Unknown metric 'accuracy2'.*binary_accuracy"):
        M.get("accuracy2")
    with pytest.raises(ValueError, match="no metric given"):
        M.get(None)
    with pytest.raises(TypeError, match="expected a name"):
        M.get(1.5)
