"""Bad input to training (issue 14, item 5): every case is refused before anything changes,
with a message naming the method, the argument, what was expected and what arrived."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tidu
from tidu import nn
from tidu.callbacks import LambdaCallback, ModelCheckpoint, TerminateOnNaN
from tidu.models import NonFiniteLossError, Sequential
from tidu.optim.optimizer import NonFiniteUpdateError

METHODS = ("fit", "evaluate", "predict")


def blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = (rng.normal(size=(n, 4)) + y[:, None]).astype(np.float32)
    return x, y


def mlp(seed=0, optimizer="sgd", loss="sparse_categorical_crossentropy", **kw):
    tidu.manual_seed(seed)
    model = Sequential([nn.Dense(8, activation="relu", input_shape=(4,)),
                        nn.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, **kw)
    return model


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before, iterations=0):
    after = model.state_dict()
    assert after.keys() == before.keys()
    for k, v in before.items():
        assert np.array_equal(after[k], v, equal_nan=True), k
    assert model.optimizer.iterations == iterations


def call(model, method, x, y=None, **kw):
    if method == "predict":
        return model.predict(x, **kw)
    if method == "fit":
        return model.fit(x, y, verbose=0, **kw)
    return model.evaluate(x, y, **kw)


# ----------------------------------------------------------------------- batch sizes
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [0, -1, -32])
def test_non_positive_batch_size_is_refused(method, bad):
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(ValueError, match=rf"{method}: batch_size must be a positive integer "
                                         rf".*got {bad}$"):
        call(model, method, x, y, batch_size=bad)
    assert_unchanged(model, before)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [2.5, 8.0, "32", True])
def test_non_integer_batch_size_is_refused(method, bad):
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(TypeError, match=rf"{method}: batch_size must be a positive integer"
                                        rf".*got {bad!r} \({type(bad).__name__}\)"):
        call(model, method, x, y, batch_size=bad)
    assert_unchanged(model, before)


def test_batch_size_zero_does_not_leak_range_error():
    x, y = blobs()
    with pytest.raises(ValueError) as info:
        mlp().predict(x, batch_size=0)
    assert "range()" not in str(info.value) and "batch_size" in str(info.value)


def test_batch_size_none_means_32_and_numpy_ints_are_accepted():
    x, y = blobs(n=70)
    model = mlp()
    assert np.array_equal(model.predict(x, batch_size=None), model.predict(x, batch_size=32))
    assert model.evaluate(x, y, batch_size=np.int64(7)) == pytest.approx(
        model.evaluate(x, y, batch_size=70), rel=1e-6)
    steps = []
    model.fit(x, y, batch_size=None, verbose=0, shuffle=False,
              callbacks=[LambdaCallback(on_batch_end=lambda b, logs: steps.append(b))])
    assert steps == [0, 1, 2]  # ceil(70 / 32)


# ----------------------------------------------------------------------- empty data
@pytest.mark.parametrize("method", METHODS)
def test_empty_arrays_are_refused(method):
    model = mlp()
    before = weights(model)
    x, y = np.zeros((0, 4), np.float32), np.zeros((0,), np.int64)
    with pytest.raises(ValueError, match=rf"^{method}: x has no samples \(shape \(0, 4\)\); "
                                         "expected at least one sample"):
        call(model, method, x, y)
    assert_unchanged(model, before)


def test_fit_on_empty_arrays_is_not_an_unbound_local_error():
    with pytest.raises(ValueError, match="fit: x has no samples"):
        mlp().fit(np.zeros((0, 4)), np.zeros((0,)), verbose=0)
    # nor on an empty list
    with pytest.raises((ValueError, tidu.ShapeError), match="fit: x"):
        mlp().fit([], [], verbose=0)


def test_empty_validation_data_gives_no_made_up_val_loss():
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(ValueError, match=r"fit: validation_data\[0\] has no samples"):
        model.fit(x, y, verbose=0, validation_data=(x[:0], y[:0]))
    assert_unchanged(model, before)
    with pytest.raises(ValueError, match=r"fit: validation_data must be a pair .*got dict"):
        model.fit(x, y, verbose=0, validation_data={"x": x, "y": y})


def test_validation_data_is_checked_like_x():
    x, y = blobs()
    model = mlp()
    with pytest.raises(tidu.ShapeError, match=r"fit: validation_data\[0\] has shape \(40, 5\)"):
        model.fit(x, y, verbose=0, validation_data=(np.ones((40, 5)), y))
    with pytest.raises(ValueError, match=r"validation_data\[0\] and validation_data\[1\] must "
                                         "have the same number of samples"):
        model.fit(x, y, verbose=0, validation_data=(x, y[:5]))


# ----------------------------------------------------------------------- shapes
@pytest.mark.parametrize("method", METHODS)
def test_one_sample_without_batch_axis_is_refused(method):
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(tidu.ShapeError, match=rf"{method}: x has shape \(4,\), but the model "
                                              r"'.*' takes inputs of shape \(n_samples, 4\)"
                                              r".*one sample without its batch axis: pass "
                                              r"x\[None\]"):
        call(model, method, x[0], y[:1])
    assert_unchanged(model, before)
    # the suggested fix works
    assert model.predict(x[0][None]).shape == (1, 3)


def test_one_d_input_to_an_unbuilt_model_is_refused_with_both_readings():
    model = Sequential([nn.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(tidu.ShapeError, match=r"predict: x is 1-D \(shape \(5,\)\).*"
                                              r"x\.reshape\(-1, 1\) for 5 samples of one "
                                              r"feature, or x\[None\] for one sample"):
        model.predict(np.ones(5))
    assert not model.built
    assert model.predict(np.ones(5).reshape(-1, 1)).shape == (5, 2)


def test_a_model_built_for_scalar_samples_takes_1d_input():
    class Scale(tidu.Model):
        def build(self, input_shape):
            self.w = nn.Parameter(np.ones((), np.float32))

        def forward(self, x):
            return x * self.w

    model = Scale()
    model.build((None,))
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(np.arange(3))
    assert out.dtype == np.float32 and out.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("method", METHODS)
def test_wrong_feature_count_and_scalars(method):
    x, y = blobs()
    model = mlp()
    with pytest.raises(tidu.ShapeError, match=rf"{method}: x has shape \(40, 5\), but the model "
                                              r"'.*' takes inputs of shape \(n_samples, 4\), "
                                              r"the input of its first layer 'dense"):
        call(model, method, np.ones((40, 5)), y)
    with pytest.raises(tidu.ShapeError, match=rf"{method}: x must have samples on its first "
                                              r"axis, got a scalar \(3\.0\)"):
        call(model, method, 3.0, y)


# ----------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_input_gives_float32(dtype):
    x, y = blobs()
    xi = (np.abs(x) > 1).astype(dtype) if dtype is np.bool_ else np.round(np.abs(x)).astype(dtype)
    model = mlp()
    out = model.predict(xi)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, model.predict(xi.astype(np.float32)))
    assert model.evaluate(xi, y) == pytest.approx(model.evaluate(xi.astype(np.float32), y))
    hist = model.fit(xi, y, epochs=1, verbose=0)
    assert math.isfinite(hist.history["loss"][0])


def test_integer_input_to_a_model_without_weights_is_float32_too():
    model = Sequential([nn.ReLU()])
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(np.arange(-2, 4).reshape(3, 2))
    assert out.dtype == np.float32 and out.tolist() == [[0, 0], [0, 1], [2, 3]]


@pytest.mark.parametrize("method, arg", [("fit", "x"), ("evaluate", "x"), ("predict", "x"),
                                         ("fit", "y"), ("evaluate", "y")])
def test_complex_input_is_refused_not_truncated(method, arg):
    x, y = blobs()
    model = mlp()
    before = weights(model)
    data = {"x": x, "y": y.astype(np.float32)}
    data[arg] = data[arg] + 1j
    with pytest.raises(TypeError, match=rf"{method}: {arg} is complex \(complex\d+\); .*"
                                        "imaginary part"):
        call(model, method, data["x"], data["y"])
    assert_unchanged(model, before)


BAD_VALUES = [
    (None, r"is None; expected a NumPy array"),
    ("abc", r"must be a NumPy array .* got a str \('abc'\)"),
    (b"abc", r"got a bytes"),
    ({"a": np.ones((2, 4))}, r"got a dict \(tidu models take one input array"),
    ({1, 2}, r"got a set"),
    (np.array([["a", "b", "c", "d"]]), r"must hold real numbers, got an array of dtype <U1 "
                                       r"\(strings: convert them"),
    (np.array([[1.0, None, 2.0, 3.0]], dtype=object), r"dtype object \(Python objects"),
    ([[1.0, 2.0, 3.0, 4.0], [1.0]], r"could not be made into an array \(.*\); expected .* "
                                    "samples of equal shape"),
    (np.array(["2020-01-01"] * 4, dtype="datetime64[D]").reshape(1, 4),
     r"got an array of dtype datetime64"),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value, pattern", BAD_VALUES)
def test_non_numeric_x_is_refused_with_a_clear_type_error(method, value, pattern):
    _, y = blobs(n=1)
    model = mlp()
    before = weights(model)
    with pytest.raises(TypeError, match=rf"^{method}: x .*?{pattern}"):
        call(model, method, value, y)
    assert_unchanged(model, before)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
@pytest.mark.parametrize("value, pattern", BAD_VALUES[:4])
def test_non_numeric_y_is_refused_with_a_clear_type_error(method, value, pattern):
    x, _ = blobs(n=1)
    with pytest.raises(TypeError, match=rf"^{method}: y .*?{pattern}"):
        call(mlp(), method, x, value)


def test_symbolic_tensor_as_data_is_refused():
    with pytest.raises(TypeError, match=r"predict: x is a symbolic tensor"):
        mlp().predict(tidu.placeholder((None, 4), name="x"))


def test_integer_labels_stay_integers_for_sparse_losses():
    x, y = blobs()
    model = mlp()
    # float64 labels work too (cast to float32); both give the same loss
    assert model.evaluate(x, y) == pytest.approx(model.evaluate(x, y.astype(np.float64)))


def test_train_step_checks_its_batch():
    x, y = blobs()
    model = mlp()
    before = weights(model)
    with pytest.raises(TypeError, match=r"^train_step: x is complex"):
        model.train_step(x + 1j, y)
    with pytest.raises(ValueError, match=r"^train_step: x has no samples"):
        model.train_step(x[:0], y[:0])
    with pytest.raises(tidu.ShapeError, match=r"^train_step: x has shape \(4,\)"):
        model.train_step(x[0], y[:1])
    assert_unchanged(model, before)
    value, pred = model.train_step(x.astype(np.int64), y)
    assert math.isfinite(value) and pred.dtype == np.float32


# ----------------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("bad", [2.0, -1.0, 1.5, np.nan, -np.inf])
def test_binary_crossentropy_refuses_labels_outside_0_1(bad):
    y = np.array([[0.0], [1.0], [bad], [0.5]], np.float32)
    p = tidu.tensor([[0.2], [0.7], [0.4], [0.5]])
    with pytest.raises(ValueError, match=rf"binary_crossentropy: y_true must hold targets in "
                                         rf"\[0, 1\].*got {bad!r} \(1 of 4 values outside\)"):
        tidu.losses.binary_crossentropy(y, p)
    for from_logits in (False, True):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            tidu.losses.BinaryCrossentropy(from_logits=from_logits)(y, p)


def test_binary_crossentropy_takes_labels_probabilities_ints_and_bools():
    p = tidu.tensor([[0.2], [0.7], [0.9]])
    ref = tidu.losses.binary_crossentropy(np.array([[0.0], [1.0], [1.0]]), p).numpy()
    assert (ref > 0).all()
    for y in (np.array([[0], [1], [1]]), np.array([[False], [True], [True]]), [0, 1, 1]):
        np.testing.assert_allclose(tidu.losses.binary_crossentropy(y, p).numpy(), ref)
    soft = tidu.losses.binary_crossentropy([[0.0], [0.25], [1.0]], p).numpy()
    assert np.isfinite(soft).all() and (soft > 0).all()


def test_binary_crossentropy_in_fit_refuses_before_training():
    tidu.manual_seed(0)
    model = Sequential([nn.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, _ = blobs()
    y = np.where(np.arange(40) % 2, 1.0, -1.0)  # -1/1 labels: a hinge user's habit
    before = weights(model)
    with pytest.raises(ValueError, match=r"got -1\.0 \(\d+ of \d+ values outside\); for labels "
                                         "-1/1 use hinge"):
        model.fit(x, y, verbose=0)
    assert_unchanged(model, before)


def test_binary_crossentropy_skips_symbolic_targets():
    y = tidu.placeholder((2, 1), name="y")
    p = tidu.placeholder((2, 1), name="p")
    loss = tidu.losses.binary_crossentropy(y, tidu.sigmoid(p)).mean()
    f = tidu.function([y, p], loss)
    yv = np.array([[0.0], [1.0]], np.float32)
    pv = np.array([[0.3], [-0.2]], np.float32)
    expected = float(tidu.losses.binary_crossentropy(yv, tidu.sigmoid(tidu.tensor(pv)))
                     .mean().numpy())
    assert float(np.asarray(f(yv, pv))) == pytest.approx(expected, rel=1e-6)


def test_binary_crossentropy_with_jit_compile_trains():
    tidu.manual_seed(0)
    model = Sequential([nn.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", jit_compile=True)
    x, y = blobs()
    hist = model.fit(x, (y > 0).astype(np.float32), epochs=2, verbose=0)
    assert all(math.isfinite(v) and v > 0 for v in hist.history["loss"])


# ----------------------------------------------------------------------- non-finite updates
def two_params(dtype=np.float32):
    a = nn.Parameter(np.array([1.0, 2.0], dtype), name="a")
    b = nn.Parameter(np.array([[3.0, 4.0]], dtype), name="b")
    return a, b


def snapshot(opt):
    return ([p.data.copy() for p in opt.params], [p._version for p in opt.params],
            opt.state_dict())


def assert_same(opt, snap):
    data, versions, state = snap
    for p, d, v in zip(opt.params, data, versions):
        assert np.array_equal(p.data, d, equal_nan=True) and p._version == v
    now = opt.state_dict()
    assert now["iterations"] == state["iterations"]
    for i, slots in state["state"].items():
        for k, arr in slots.items():
            assert np.array_equal(now["state"][i][k], arr, equal_nan=True), (i, k)


def test_overflowing_update_is_undone_and_names_the_parameter():
    a, b = two_params()
    opt = tidu.optim.SGD([a, b], lr=1e38, momentum=0.9)
    for p in (a, b):
        p.grad = tidu.tensor(np.ones(p.shape, np.float32) * 1e-3)
    opt.step()  # a finite first step: momentum slots are now non-zero
    a.grad = tidu.tensor(np.full(a.shape, 1e-3, np.float32))
    b.grad = tidu.tensor(np.full(b.shape, 1e3, np.float32))  # lr * g overflows float32
    snap = snapshot(opt)
    with pytest.raises(NonFiniteUpdateError, match=r"SGD\.step: the update of parameter 1 "
                                                   r"\('b'\) of shape \(1, 2\) would make its "
                                                   r"weights and state 'momentum' NaN or "
                                                   r"infinite: the gradient is finite but the "
                                                   r"update overflowed") as info:
        opt.step()
    assert (info.value.index, info.value.name) == (1, "b")
    assert info.value.parameter == "parameter 1 ('b') of shape (1, 2)"
    assert_same(opt, snap)  # parameter 0, updated before 1 failed, is restored too


def test_state_turning_inf_with_finite_weights_is_caught():
    w = nn.Parameter(np.array([1.0, -1.0], np.float32), name="w")
    opt = tidu.optim.Adam([w], lr=0.1)
    w.grad = tidu.tensor(np.array([1e30, 1.0], np.float32))  # g**2 overflows the velocity
    snap = snapshot(opt)
    with pytest.raises(NonFiniteUpdateError, match=r"would make its state 'velocity' NaN or "
                                                   "infinite"):
        opt.step()
    assert_same(opt, snap)
    opt.check_finite = False  # the unchecked path: the state really does overflow
    with pytest.warns(RuntimeWarning, match="overflow"):
        opt.step()
    assert np.isinf(opt.state_dict()["state"][0]["velocity"]).any()


def test_a_checked_step_is_undone_even_when_numpy_raises_on_overflow():
    a, b = two_params()
    opt = tidu.optim.SGD([a, b], lr=1e38)
    a.grad = tidu.tensor(np.ones(2, np.float32))
    b.grad = tidu.tensor(np.full((1, 2), 1e3, np.float32))
    snap = snapshot(opt)
    with np.errstate(all="raise"), pytest.raises(NonFiniteUpdateError, match="parameter 1"):
        opt.step()
    assert_same(opt, snap)


def test_nan_gradient_and_already_nan_weights_are_told_apart():
    a, b = two_params()
    opt = tidu.optim.RMSprop([a, b])
    a.grad = tidu.tensor(np.ones(2, np.float32))
    b.grad = tidu.tensor(np.array([[np.nan, 1.0]], np.float32))
    snap = snapshot(opt)
    with pytest.raises(NonFiniteUpdateError, match=r"parameter 1 \('b'\).*its gradient holds "
                                                   "NaN/inf"):
        opt.step()
    assert_same(opt, snap)
    b.grad = tidu.tensor(np.ones((1, 2), np.float32))
    a.data[0] = np.inf
    with pytest.raises(NonFiniteUpdateError, match=r"parameter 0 \('a'\).*already held NaN/inf "
                                                   "before this step"):
        opt.step()


def test_unnamed_parameters_are_named_by_position_and_shape():
    w = tidu.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    opt = tidu.optim.SGD([w], lr=1e38)
    w.grad = tidu.tensor(np.full((2, 3), 1e3, np.float32))
    with pytest.raises(NonFiniteUpdateError, match=r"the update of parameter 0 of shape \(2, 3\)"):
        opt.step()
    assert np.array_equal(w.data, np.ones((2, 3), np.float32))


def test_a_refused_step_keeps_recorded_graphs_usable():
    w = nn.Parameter(np.array([1.0, 2.0], np.float32), name="w")
    opt = tidu.optim.SGD([w], lr=1e38)
    loss = (w * w * 1e3).sum()
    loss.backward(retain_graph=True)
    with pytest.raises(NonFiniteUpdateError):
        opt.step()
    w.grad = None
    loss.backward()  # no in-place change was recorded: the graph still backpropagates
    np.testing.assert_allclose(w.grad.numpy(), [2e3, 4e3])


def blow_up_at(opt_holder, batch, record):
    """A callback raising the learning rate to overflow at ``batch`` of epoch 1; it records
    the weights just before that batch."""
    def begin(b, logs=None):
        if b == batch:
            record.update(weights(opt_holder[0]))
            opt_holder[0].optimizer.learning_rate = 1e38
    return LambdaCallback(on_batch_begin=begin)


@pytest.mark.parametrize("jit", [False, True])
def test_fit_refuses_a_non_finite_update_after_a_finite_loss(jit):
    x, y = blobs()
    model = mlp(jit_compile=jit)
    before = {}
    with pytest.raises(NonFiniteUpdateError, match=r"^fit: at epoch 1, batch 2: SGD\.step: the "
                                                   r"update of parameter \d+ \('dense.*'\) of "
                                                   r"shape .* overflowed.*TerminateOnNaN\(\)"):
        model.fit(x * 1e3, y, batch_size=10, shuffle=False, verbose=0,
                  callbacks=[blow_up_at([model], 1, before)])
    assert_unchanged(model, before, iterations=1)


def test_terminate_on_nan_stops_on_a_refused_update(capsys):
    x, y = blobs()
    model = mlp()
    before = {}
    hist = model.fit(x * 1e3, y, batch_size=10, shuffle=False, verbose=0, epochs=3,
                     callbacks=[blow_up_at([model], 1, before), TerminateOnNaN()])
    assert_unchanged(model, before, iterations=1)
    assert len(hist.history["loss"]) == 1 and math.isfinite(hist.history["loss"][0])
    assert "nonfinite_update" not in hist.history
    out = capsys.readouterr().out
    assert "epoch 1, batch 2: invalid update of parameter" in out and "terminating" in out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("kind", ["loss", "update"])
def test_terminate_on_nan_and_the_error_name_the_same_batch(kind, capsys):
    """NaN/overflow injected at the 3rd batch of the 2nd epoch: both say 'epoch 2, batch 3'."""
    x, y = blobs()

    def inject(model, data):
        def begin(b, logs=None):
            if model._epoch_seen == 1 and b == 2:
                if kind == "loss":
                    data[20:30] = np.nan
                else:
                    model.optimizer.learning_rate = 1e38
        return begin

    def run(extra):
        model = mlp()
        model._epoch_seen = 0
        data = x.copy() * (1e3 if kind == "update" else 1.0)
        cbs = [LambdaCallback(on_epoch_begin=lambda e, logs=None: setattr(
            model, "_epoch_seen", e), on_batch_begin=inject(model, data)), *extra]
        return model.fit(data, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                         callbacks=cbs)

    with pytest.raises(NonFiniteLossError if kind == "loss" else NonFiniteUpdateError) as info:
        run([])
    assert "at epoch 2, batch 3" in str(info.value)
    run([TerminateOnNaN()])
    assert "epoch 2, batch 3: invalid" in capsys.readouterr().out


# ----------------------------------------------------------------------- ModelCheckpoint
@pytest.mark.parametrize("filepath, validation, pattern", [
    ("w-{val_los:.2f}.tidu", True, r"unknown placeholder \{val_los\}; known: epoch, loss, "
                                  "accuracy, val_loss, val_accuracy, learning_rate$"),
    ("w-{val_loss:.2f}.tidu", False, r"unknown placeholder \{val_loss\}; known: epoch, loss, "
                                    "accuracy, learning_rate; the val_ names need "
                                    "validation_data or validation_split"),
    ("w-{acc}.tidu", True, r"unknown placeholder \{acc\}"),
    ("w-{epoch.nope}.tidu", True, r"the placeholder \{epoch.nope\} cannot format a value "
                                  "such as 1 "),
    ("w-{loss:d}.tidu", True, r"the placeholder \{loss:d\} cannot format a value such as 0.5 "
                             r"\(Unknown format code 'd'"),
])
def test_model_checkpoint_checks_placeholders_before_training(tmp_path, filepath, validation,
                                                             pattern):
    x, y = blobs()
    model = mlp(metrics=["accuracy"])
    before = weights(model)
    cb = ModelCheckpoint(str(tmp_path / filepath))
    with pytest.raises(ValueError, match=r"^ModelCheckpoint: filepath '.*'(:| uses the) "
                                         + pattern):
        model.fit(x, y, verbose=0, epochs=2, callbacks=[cb],
                  validation_split=0.25 if validation else 0.0)
    assert_unchanged(model, before)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("filepath, pattern", [
    ("w-{epoch", r"is not a valid format string \(.*\); write literal braces as '\{\{'"),
    ("w-{}.npz", r"has a positional field '\{\}'; name the value instead"),
    ("w-{0}.npz", r"has a positional field"),
])
def test_model_checkpoint_refuses_malformed_filepaths_at_once(filepath, pattern):
    with pytest.raises(ValueError, match=r"^ModelCheckpoint: filepath '.*' " + pattern):
        ModelCheckpoint(filepath)


def test_model_checkpoint_formats_epoch_metrics_and_learning_rate(tmp_path):
    x, y = blobs()
    model = mlp(metrics=["accuracy"], optimizer=tidu.optim.SGD(learning_rate=0.05))
    cb = ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{learning_rate:.2f}-{val_loss:.3f}"
                                        "-{accuracy:.2f}.tidu"))
    hist = model.fit(x, y, verbose=0, epochs=2, callbacks=[cb], validation_split=0.25)
    h = hist.history
    expected = sorted(f"w-{e + 1:02d}-0.05-{h['val_loss'][e]:.3f}-{h['accuracy'][e]:.2f}.tidu"
                      for e in range(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
