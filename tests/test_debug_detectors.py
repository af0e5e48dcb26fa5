"""tidu.debug's mistake detectors: each triggers on the mistake and stays quiet on correct code."""

import warnings

import numpy as np
import pytest

import tidu
import tidu.losses as L
from tidu.debug import (
    BroadcastWarning,
    DivergingLossWarning,
    DropoutInEvalWarning,
    FromLogitsWarning,
    MistakeError,
    SymmetryWarning,
)
from tidu.losses import torch_style as TF
from tidu.nn import Dense, Dropout


def quiet(fn, category=tidu.debug.TiduWarning):
    """Run ``fn`` and assert it issued no warning of ``category``; return its value."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        out = fn()
    assert not [w for w in got if issubclass(w.category, category)], [str(w.message) for w in got]
    return out


rng = np.random.default_rng(0)
M = 12


def logistic(y_shape, column=False):
    """Text A's hand-written cost with labels of ``y_shape``; predictions of shape (1, m),
    or (m, 1) with ``column``."""
    w = tidu.tensor(rng.normal(size=(3, 1)), requires_grad=True)
    X = rng.normal(size=(3, M))
    Y = (rng.random(M) > 0.5).astype(np.float64).reshape(y_shape)
    A = tidu.sigmoid(X.T @ w if column else w.T @ X)
    return -(Y * tidu.log(A) + (1 - Y) * tidu.log(1 - A)).mean()


# ----------------------------------------------------------------------------- broadcasting
def test_text_a_cost_with_column_labels_warns_with_shapes_and_fix():
    with tidu.debug.watch(), pytest.warns(BroadcastWarning) as rec:
        cost = logistic((M, 1))
    msg = str(rec[0].message)
    assert f"labels of shape ({M}, 1)" in msg and f"predictions of shape (1, {M})" in msg
    assert f"({M}, {M}) matrix" in msg and f"Y.reshape(1, {M})" in msg
    assert rec[0].filename == __file__  # the user's line, not tidu's
    assert cost.shape == ()


def test_text_a_cost_warns_by_default_without_watch():
    with pytest.warns(BroadcastWarning, match=f"made a \\({M}, {M}\\) matrix"):
        logistic((M, 1))
    quiet(lambda: logistic((1, M)).backward())


def test_vector_labels_against_column_predictions_warn():
    with tidu.debug.watch(), pytest.warns(BroadcastWarning, match=r"A\.reshape\(-1\)"):
        logistic((M,), column=True)


def test_text_a_cost_with_matching_labels_is_quiet():
    with tidu.debug.watch():
        quiet(lambda: logistic((1, M)).backward())
        quiet(lambda: logistic((M,)).backward())  # (m,) against (1, m) gives (1, m): right
        quiet(lambda: logistic((M, 1), column=True).backward())


def test_pairwise_differences_are_not_reported():
    x = tidu.tensor(rng.normal(size=M), requires_grad=True)
    with tidu.debug.watch():
        d = quiet(lambda: (x.reshape(-1, 1) - x) ** 2)
    assert d.shape == (M, M)


def test_square_broadcast_outside_watch_mode_when_called():
    a = tidu.tensor(rng.normal(size=(M, 1)), requires_grad=True)
    with pytest.warns(BroadcastWarning, match="labels of shape"):
        tidu.debug.square_broadcast("sub", np.zeros(M), a, (M, M))
    quiet(lambda: tidu.debug.square_broadcast("sub", np.zeros(M), a, (M, 1)))


def test_keras_losses_refuse_labels_of_a_row_against_a_vector():
    y = np.zeros((1, M), dtype=np.float32)
    pred = tidu.tensor(np.full((M,), 0.5, dtype=np.float32))
    for loss in (L.BinaryCrossentropy(), L.MeanSquaredError()):
        with pytest.raises(tidu.ShapeError, match=r"\(1, 12\).*\(12,\)"):
            loss(y, pred)
    quiet(lambda: L.BinaryCrossentropy()(y.reshape(-1), pred.reshape(-1, 1)))  # (m,) vs (m, 1)


# ----------------------------------------------------------------------------- from_logits
def probs(n=64, c=1):
    z = rng.normal(size=(n, c)).astype(np.float32)
    if c == 1:
        return z, 1 / (1 + np.exp(-z))
    e = np.exp(z - z.max(1, keepdims=True))
    return z, e / e.sum(1, keepdims=True)


def test_probabilities_to_a_from_logits_binary_loss():
    z, p = probs()
    y = (z > 0).astype(np.float32)
    with pytest.warns(FromLogitsWarning, match="from_logits=True.*probabilities"):
        L.BinaryCrossentropy(from_logits=True)(y, tidu.tensor(p))
    quiet(lambda: L.BinaryCrossentropy(from_logits=True)(y, tidu.tensor(z)))
    quiet(lambda: L.BinaryCrossentropy()(y, tidu.tensor(p)))


def test_probabilities_to_a_from_logits_categorical_loss():
    z, p = probs(c=5)
    y = np.eye(5, dtype=np.float32)[np.arange(64) % 5]
    with pytest.warns(FromLogitsWarning, match="each row sums to 1"):
        L.CategoricalCrossentropy(from_logits=True)(y, tidu.tensor(p))
    with pytest.warns(FromLogitsWarning):
        L.SparseCategoricalCrossentropy(from_logits=True)(np.arange(64) % 5, tidu.tensor(p))
    with pytest.warns(FromLogitsWarning, match="cross_entropy"):
        TF.cross_entropy(tidu.tensor(p), np.arange(64) % 5)
    quiet(lambda: L.CategoricalCrossentropy(from_logits=True)(y, tidu.tensor(z)))
    quiet(lambda: TF.cross_entropy(tidu.tensor(z), np.arange(64) % 5))


def test_logits_to_a_probability_loss():
    z, p = probs(c=5)
    y = np.eye(5, dtype=np.float32)[np.arange(64) % 5]
    with pytest.warns(FromLogitsWarning, match="from_logits=False.*look like logits"):
        L.CategoricalCrossentropy()(y, tidu.tensor(z))
    zb, pb = probs()
    with pytest.warns(FromLogitsWarning, match="from_logits=False"):
        L.BinaryCrossentropy()((zb > 0).astype(np.float32), tidu.tensor(zb))
    quiet(lambda: L.CategoricalCrossentropy()(y, tidu.tensor(p)))


def test_fit_with_softmax_output_and_from_logits_warns():
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(64) % 3]
    m = tidu.Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    m.compile(optimizer="sgd", loss=L.CategoricalCrossentropy(from_logits=True))
    with pytest.warns(FromLogitsWarning):
        m.fit(x, y, epochs=1, verbose=0)
    m = tidu.Sequential([Dense(3, input_shape=(4,))])
    m.compile(optimizer="sgd", loss=L.CategoricalCrossentropy(from_logits=True))
    quiet(lambda: m.fit(x, y, epochs=1, verbose=0))


# ----------------------------------------------------------------------------- symmetry
def mlp(hidden_init, out_init, units=8):
    return tidu.Sequential([Dense(units, activation="tanh", input_shape=(4,),
                                  kernel_initializer=hidden_init),
                            Dense(1, activation="sigmoid", kernel_initializer=out_init)])


def fit(model, lr=0.1, epochs=1, callbacks=None):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model.compile(optimizer=tidu.optim.SGD(learning_rate=lr), loss="binary_crossentropy")
    return model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks)


def test_all_zero_initialization_warns_with_the_fix():
    with pytest.warns(SymmetryWarning) as rec:
        fit(mlp("zeros", "zeros"))
    msg = str(rec[0].message)
    assert "kernel" in msg and "(4, 8)" in msg and "8 units" in msg
    assert "glorot_uniform" in msg and "Text C" in msg


def test_random_or_single_unit_or_zero_output_initialization_is_quiet():
    quiet(lambda: fit(mlp("glorot_uniform", "glorot_uniform")))
    quiet(lambda: fit(mlp("glorot_uniform", "zeros")))  # a zero output layer breaks no symmetry
    logreg = tidu.Sequential([Dense(1, activation="sigmoid", input_shape=(4,),
                                    kernel_initializer="zeros")])  # Text A's w = zeros
    quiet(lambda: fit(logreg))


def test_constant_initialization_in_a_hand_written_loop():
    m = mlp("ones", "ones")
    x = tidu.tensor(rng.normal(size=(16, 4)).astype(np.float32))
    with pytest.warns(SymmetryWarning, match="1.0"):
        m(x)
    quiet(lambda: m(x))  # once


# ----------------------------------------------------------------------------- learning rate
def test_a_loss_that_keeps_growing_names_the_learning_rate():
    x = rng.normal(size=(256, 4)).astype(np.float32) * 3
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)

    def run(lr):
        m = tidu.Sequential([Dense(1, input_shape=(4,))])
        m.compile(optimizer=tidu.optim.SGD(learning_rate=lr), loss="mse")
        return m.fit(x, y, epochs=1, batch_size=16, verbose=0,
                     callbacks=[tidu.debug.WatchLoss()])

    with pytest.warns(DivergingLossWarning, match=r"learning rate \(0\.15\).*Lower it"):
        run(0.15)
    quiet(lambda: run(0.01))


def test_loss_watcher_in_a_hand_written_loop():
    w = tidu.debug.LossWatcher(patience=3, lr=2.0)
    quiet(lambda: [w.update(v) for v in (5.0, 4.0, 4.1, 3.0, 3.2, 2.0, 2.05, 2.04)])
    with pytest.warns(DivergingLossWarning, match=r"3 steps.*\(2\)"):
        for v in (2.0, 3.0, 5.0, 9.0):
            w.update(v)


# ----------------------------------------------------------------------------- dropout
def test_dropout_left_on_in_a_hand_written_evaluation():
    m = tidu.Sequential([Dense(8, input_shape=(4,)), Dropout(0.5), Dense(1)])
    x = tidu.tensor(rng.normal(size=(16, 4)).astype(np.float32))
    with tidu.no_grad(), pytest.warns(DropoutInEvalWarning, match=r"model\.eval\(\)"):
        m(x)
    quiet(lambda: m(x))  # training with gradients
    m.eval()
    with tidu.no_grad():
        quiet(lambda: m(x))
    quiet(lambda: m.predict(x.numpy(), verbose=0))


# ----------------------------------------------------------------------------- modes
def test_strict_mode_raises_and_off_silences():
    z, p = probs()
    y = (z > 0).astype(np.float32)
    loss = L.BinaryCrossentropy(from_logits=True)
    with tidu.debug.strict(), pytest.raises(MistakeError, match="from_logits=True") as e:
        loss(y, tidu.tensor(p))
    assert e.value.category is FromLogitsWarning
    with tidu.debug.strict(), pytest.raises(MistakeError):
        fit(mlp("zeros", "zeros"))
    assert tidu.debug.get_mode() == "warn"
    tidu.debug.set_mode("off")
    try:
        quiet(lambda: loss(y, tidu.tensor(p)))
    finally:
        tidu.debug.set_mode("warn")
    with pytest.raises(ValueError, match="mode must be one of"):
        tidu.debug.set_mode("loud")


def test_warnings_can_be_filtered_by_kind():
    z, p = probs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", FromLogitsWarning)
        L.BinaryCrossentropy(from_logits=True)((z > 0).astype(np.float32), tidu.tensor(p))


def test_a_loss_object_judges_its_first_calls_only():
    """The from-logits check reads every prediction; a loss object runs it on its first
    JUDGED_CALLS calls (the mistake is the model's, visible from the first batch), not on
    every training step."""
    z, p = probs(c=5)
    y = np.eye(5, dtype=np.float32)[np.arange(64) % 5]
    for cls, target in ((L.CategoricalCrossentropy, y),
                        (L.SparseCategoricalCrossentropy, np.arange(64) % 5)):
        loss = cls(from_logits=True)
        for _ in range(loss.JUDGED_CALLS):
            quiet(lambda f=loss, t=target: f(t, tidu.tensor(z)))
        quiet(lambda f=loss, t=target: f(t, tidu.tensor(p)))  # judged no more
        with pytest.warns(FromLogitsWarning):  # a new object judges again
            cls(from_logits=True)(target, tidu.tensor(p))
        with pytest.warns(FromLogitsWarning):  # the functional form judges every call
            fn = (L.categorical_crossentropy if cls is L.CategoricalCrossentropy
                  else L.sparse_categorical_crossentropy)
            fn(target, tidu.tensor(p), from_logits=True)
