"""Keras's training features: sample and class weights, generators, steps_per_epoch,
validation_freq, the *_on_batch methods, weight lists and counts, trainable = False,
evaluate's printed line, ModelCheckpoint's placeholders with save_weights_only."""

import math
import re
import warnings

import numpy as np
import pytest
import torch

import tidu
from tidu import nn
from tidu.callbacks import Callback, ModelCheckpoint
from tidu.nn import Dense

RNG = np.random.default_rng(0)
N = 20
X = RNG.normal(size=(N, 3)).astype(np.float32)
LABELS = RNG.integers(0, 3, size=N)
ONEHOT = np.eye(3, dtype=np.float32)[LABELS]
YR = RNG.normal(size=(N, 2)).astype(np.float32)
W = RNG.uniform(0.0, 2.0, size=N).astype(np.float32)


def classifier(optimizer="sgd", loss="categorical_crossentropy"):
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(4, activation="tanh", input_shape=(3,)),
                             Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def regressor(lr=0.1):
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer=tidu.optim.SGD(learning_rate=lr), loss="mse")
    return model


def weights(model):
    return [p.data.copy() for p in model.parameters()]


def assert_same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ----- sample_weight -----
def test_sample_weight_is_keras_weighted_mean_and_matches_torch():
    model = regressor()
    k, b = [w.astype(np.float64) for w in weights(model)]
    per_sample = ((X @ k + b - YR) ** 2).mean(axis=1)
    expected = (W * per_sample).sum() / N  # Keras: sum(w * loss_i) / batch_size
    h = model.fit(X, YR, batch_size=N, epochs=1, shuffle=False, verbose=0, sample_weight=W)
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    # the update equals torch's SGD on the same weighted loss
    tk = torch.tensor(k, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    per = ((torch.tensor(X, dtype=torch.float64) @ tk + tb
            - torch.tensor(YR, dtype=torch.float64)) ** 2).mean(dim=1)
    ((torch.tensor(W, dtype=torch.float64) * per).sum() / N).backward()
    with torch.no_grad():
        tk -= 0.1 * tk.grad
        tb -= 0.1 * tb.grad
    layer = model.layers[0]
    np.testing.assert_allclose(layer.kernel.data, tk.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.bias.data, tb.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sample_weight_in_evaluate_and_validation_split():
    model = regressor()
    k, b = [w.astype(np.float64) for w in weights(model)]
    per_sample = ((X @ k + b - YR) ** 2).mean(axis=1)
    got = model.evaluate(X, YR, batch_size=N, sample_weight=W)
    assert got == pytest.approx((W * per_sample).sum() / N, rel=1e-5)
    h = model.fit(X, YR, batch_size=N, epochs=1, verbose=0, sample_weight=W,
                  validation_split=0.25, shuffle=False)
    cut = int(N * 0.75)
    assert h.history["val_loss"][0] == pytest.approx(
        model.evaluate(X[cut:], YR[cut:], sample_weight=W[cut:]), rel=1e-6)


def test_validation_data_with_sample_weights():
    model = regressor()
    h = model.fit(X, YR, epochs=1, verbose=0, validation_data=(X[:8], YR[:8], W[:8]))
    assert h.history["val_loss"][0] == pytest.approx(
        model.evaluate(X[:8], YR[:8], sample_weight=W[:8]), rel=1e-6)
    assert h.history["val_loss"][0] != pytest.approx(model.evaluate(X[:8], YR[:8]), rel=1e-3)


def test_sample_weight_errors():
    model = regressor()
    with pytest.raises(ValueError, match="one weight per sample: got 3 weights for 20"):
        model.fit(X, YR, sample_weight=W[:3], verbose=0)
    with pytest.raises(ValueError, match="sample_weight or class_weight, not both"):
        model.fit(X, YR, sample_weight=W, class_weight={0: 1.0}, verbose=0)
    with pytest.raises(TypeError, match="class_weight must be a dict"):
        model.fit(X, YR, class_weight=[1.0, 2.0], verbose=0)


# ----- class_weight -----
@pytest.mark.parametrize("sparse", [False, True])
def test_class_weight_equals_the_sample_weight_it_stands_for(sparse):
    cw = {0: 0.5, 1: 2.0}  # class 2 missing: weight 1, as in Keras
    sw = np.array([cw.get(int(c), 1.0) for c in LABELS], np.float32)
    y = LABELS if sparse else ONEHOT
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    a, b = classifier(loss=loss), classifier(loss=loss)
    ha = a.fit(X, y, batch_size=6, epochs=2, seed=3, verbose=0, class_weight=cw)
    hb = b.fit(X, y, batch_size=6, epochs=2, seed=3, verbose=0, sample_weight=sw)
    assert ha.history == hb.history
    assert_same_weights(a, b)
    c = classifier(loss=loss)
    hc = c.fit(X, y, batch_size=6, epochs=2, seed=3, verbose=0)
    assert hc.history["loss"] != ha.history["loss"]


# ----- generators and iterables -----
def _batches(n_batches=4, size=5):
    return [(X[i * size:(i + 1) * size], ONEHOT[i * size:(i + 1) * size])
            for i in range(n_batches)]


def _endless(batches, counter=None):
    while True:
        for batch in batches:
            if counter is not None:
                counter.append(1)
            yield batch


class Reiterable:
    """Not an iterator: each iter() starts again (as a Keras PyDataset)."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def test_generator_and_reiterable_equal_arrays():
    ref = classifier()
    href = ref.fit(X, ONEHOT, batch_size=5, epochs=3, shuffle=False, verbose=0)
    gen = classifier()
    hgen = gen.fit(_endless(_batches()), steps_per_epoch=4, epochs=3, verbose=0)
    lst = classifier()
    hlst = lst.fit(Reiterable(_batches()), epochs=3, verbose=0)  # a pass per epoch
    assert hgen.history == href.history == hlst.history
    assert_same_weights(ref, gen)
    assert_same_weights(ref, lst)


def test_generator_with_sample_weights_equals_arrays():
    ref = regressor()
    ref.fit(X, YR, batch_size=10, epochs=2, shuffle=False, verbose=0, sample_weight=W)
    gen = regressor()
    batches = [(X[i:i + 10], YR[i:i + 10], W[i:i + 10]) for i in (0, 10)]
    gen.fit(_endless(batches), steps_per_epoch=2, epochs=2, verbose=0)
    assert_same_weights(ref, gen)


class CountBatches(Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.counts = getattr(self, "counts", []) + [0]

    def on_train_batch_end(self, batch, logs=None):
        self.counts[-1] += 1


def test_steps_per_epoch_counts_batches_and_continues_the_generator():
    drawn, count = [], CountBatches()
    model = classifier()
    model.fit(_endless(_batches(), drawn), steps_per_epoch=3, epochs=2, verbose=0,
              callbacks=[count])
    assert count.counts == [3, 3]
    assert len(drawn) == 6 and model.optimizer.iterations == 6
    # arrays: the first steps_per_epoch batches of each epoch
    count = CountBatches()
    model = classifier()
    model.fit(X, ONEHOT, batch_size=4, steps_per_epoch=2, epochs=3, verbose=0,
              callbacks=[count])
    assert count.counts == [2, 2, 2] and model.optimizer.iterations == 6
    with pytest.raises(ValueError, match=r"steps_per_epoch=6 is more than the 5 batches"):
        model.fit(X, ONEHOT, batch_size=4, steps_per_epoch=6, verbose=0)


def test_generator_errors_and_running_out():
    model = classifier()
    with pytest.raises(ValueError, match="steps_per_epoch is required"):
        model.fit(_endless(_batches()), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="so y must be None"):
        model.fit(_endless(_batches()), ONEHOT, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"yield \(x, y\) or \(x, y, sample_weight\)"):
        model.fit(iter([X, X]), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        model.fit(_endless(_batches()), steps_per_epoch=0, verbose=0)
    count = CountBatches()
    with pytest.warns(UserWarning, match="ran out of data after 4 of 3 steps|ran out"):
        model.fit(iter(_batches()), steps_per_epoch=3, epochs=5, verbose=0,
                  callbacks=[count])
    assert count.counts == [3, 1]  # stopped when the generator ran dry


def test_validation_generator_with_validation_steps():
    model = classifier()
    val = _batches(2)
    h = model.fit(X, ONEHOT, epochs=1, verbose=0, validation_data=_endless(val),
                  validation_steps=2)
    assert h.history["val_loss"][0] == pytest.approx(
        model.evaluate(X[:10], ONEHOT[:10], batch_size=5)[0], rel=1e-6)
    assert model.evaluate(iter(val), steps=2)[0] == pytest.approx(h.history["val_loss"][0])
    with pytest.raises(ValueError, match="validation_steps is required"):
        model.fit(X, ONEHOT, verbose=0, validation_data=_endless(val))


# ----- validation_freq -----
class ValEpochs(Callback):
    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        if "val_loss" in logs:
            self.epochs.append(epoch)


@pytest.mark.parametrize("freq, validated", [(1, [0, 1, 2, 3, 4]), (2, [1, 3]),
                                             ([1, 4], [0, 3]), (6, [])])
def test_validation_freq_chooses_the_epochs(freq, validated):
    model, seen = classifier(), ValEpochs()
    h = model.fit(X, ONEHOT, epochs=5, verbose=0, validation_data=(X, ONEHOT),
                  validation_freq=freq, callbacks=[seen])
    assert seen.epochs == validated
    assert len(h.history.get("val_loss", [])) == len(validated)
    assert len(h.history["loss"]) == 5
    if validated and validated[-1] == 4:
        assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(X, ONEHOT)[0], rel=1e-6)


def test_validation_freq_errors():
    with pytest.raises(ValueError, match="validation_freq must be >= 1"):
        classifier().fit(X, ONEHOT, verbose=0, validation_freq=0)
    with pytest.raises(TypeError, match="validation_freq must be an int or a list"):
        classifier().fit(X, ONEHOT, verbose=0, validation_freq="2")


# ----- trainable = False -----
@pytest.mark.parametrize("jit", [False, True])
def test_frozen_layer_keeps_its_weights_bit_for_bit(jit):
    model = classifier(optimizer="adam")
    model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
    model.layers[0].trainable = False
    frozen, other = weights(model.layers[0]), weights(model.layers[1])
    model.fit(X, ONEHOT, batch_size=5, epochs=3, verbose=0)
    for before, p in zip(frozen, model.layers[0].parameters()):
        np.testing.assert_array_equal(p.data, before)
    assert all(not np.array_equal(b, p.data) for b, p in zip(other, model.layers[1].parameters()))
    opt = model.optimizer
    for i, p in enumerate(opt.params):  # no slot of a frozen parameter moved
        if not p.requires_grad:
            assert all(not np.any(s) for s in opt._state[i].values())
    # unfreezing takes effect at the next step, without compiling again
    model.layers[0].trainable = True
    model.fit(X, ONEHOT, batch_size=5, epochs=1, verbose=0)
    assert not np.array_equal(model.layers[0].kernel.data, frozen[0])


def test_frozen_first_layer_trains_the_rest_as_torch_does():
    model = classifier(optimizer=tidu.optim.SGD(learning_rate=0.5))
    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.5), loss="categorical_crossentropy")
    model.layers[0].trainable = False
    k0, b0, k1, b1 = [torch.tensor(w.astype(np.float64)) for w in weights(model)]
    k1.requires_grad_()
    b1.requires_grad_()
    model.fit(X, ONEHOT, batch_size=N, epochs=2, shuffle=False, verbose=0)
    xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(LABELS)
    opt = torch.optim.SGD([k1, b1], lr=0.5)
    for _ in range(2):
        opt.zero_grad()
        logits = torch.log_softmax(torch.tanh(xt @ k0 + b0) @ k1 + b1, dim=1)
        torch.nn.functional.nll_loss(logits, yt).backward()
        opt.step()
    np.testing.assert_allclose(model.layers[1].kernel.data, k1.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(model.layers[1].bias.data, b1.detach().numpy(), atol=1e-5)


def test_everything_frozen_trains_nothing():
    model = classifier()
    model.trainable = False
    before = weights(model)
    model.fit(X, ONEHOT, epochs=1, verbose=0)
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(p.data, b)


class WithFixed(nn.Module):
    def build(self, input_shape):
        self.add_weight("w", (input_shape[-1],), initializer="ones")
        self.add_weight("stat", (input_shape[-1],), initializer="zeros", trainable=False)

    def forward(self, x):
        return x * self.w + self.stat


def test_weights_made_non_trainable_stay_frozen_and_build_respects_trainable():
    layer = WithFixed()
    layer(np.ones((1, 3), np.float32))
    layer.trainable = False
    layer.trainable = True
    assert [p.requires_grad for p in layer.parameters()] == [True, False]
    late = Dense(2)
    late.trainable = False
    late(np.ones((1, 3), np.float32))  # weights made after trainable = False are frozen
    assert late.trainable_weights == [] and len(late.non_trainable_weights) == 2


def test_trainable_survives_config_and_saving(tmp_path):
    pytest.importorskip("safetensors")
    model = classifier()
    model.layers[0].trainable = False
    assert model.layers[0].get_config()["trainable"] is False
    assert "trainable" not in model.layers[1].get_config()
    back = Dense.from_config(model.layers[0].get_config())
    assert back.trainable is False
    model.save(tmp_path / "m.tidu")
    loaded = tidu.models.load_model(tmp_path / "m.tidu")
    assert [p.requires_grad for p in loaded.parameters()] == [False, False, True, True]
    assert loaded.layers[0].trainable is False and loaded.layers[1].trainable


# ----- weights and counts -----
def test_count_params_and_weight_lists():
    model = classifier()
    n0, n1 = 3 * 4 + 4, 4 * 3 + 3
    assert model.count_params() == n0 + n1
    assert model.layers[0].count_params() == n0
    assert model.weights == model.parameters() and len(model.trainable_weights) == 4
    model.layers[1].trainable = False
    assert model.trainable_weights == list(model.layers[0].parameters())
    assert model.non_trainable_weights == list(model.layers[1].parameters())
    text = model.summary(print_fn=None)
    assert f"Total params: {n0 + n1}" in text
    assert f"Trainable params: {n0}" in text and f"Non-trainable params: {n1}" in text
    with pytest.raises(ValueError, match="count_params: .* is not built"):
        Dense(3).count_params()


# ----- evaluate(verbose=1) -----
def test_evaluate_prints_one_keras_line(capsys):
    model = classifier()
    loss, acc = model.evaluate(X, ONEHOT, batch_size=6, verbose=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    m = re.fullmatch(r"(\d+)/(\d+) - (\d+)s - loss: ([\d.]+) - accuracy: ([\d.]+)", out[0])
    assert m, out[0]
    assert int(m[1]) == int(m[2]) == math.ceil(N / 6)
    assert float(m[4]) == pytest.approx(loss, abs=5e-5)
    assert float(m[5]) == pytest.approx(acc, abs=5e-5)
    model.evaluate(X, ONEHOT, verbose=0)
    assert capsys.readouterr().out == ""


# ----- the *_on_batch methods -----
def test_train_on_batch_equals_fit_on_one_batch():
    a, b = classifier(), classifier()
    got = a.train_on_batch(X, ONEHOT)
    h = b.fit(X, ONEHOT, batch_size=N, epochs=1, shuffle=False, verbose=0)
    assert got == pytest.approx([h.history["loss"][0], h.history["accuracy"][0]], rel=1e-7)
    assert_same_weights(a, b)
    a, b = regressor(), regressor()
    assert a.train_on_batch(X, YR, sample_weight=W, return_dict=True) == {
        "loss": pytest.approx(b.fit(X, YR, batch_size=N, shuffle=False, verbose=0,
                                    sample_weight=W).history["loss"][0], rel=1e-7)}
    assert_same_weights(a, b)
    a, b = classifier(), classifier()
    cw = {0: 3.0, 2: 0.25}
    a.train_on_batch(X, ONEHOT, class_weight=cw)
    b.fit(X, ONEHOT, batch_size=N, shuffle=False, verbose=0, class_weight=cw)
    assert_same_weights(a, b)


def test_test_and_predict_on_batch_equal_evaluate_and_predict():
    model = classifier()
    before = weights(model)
    assert model.test_on_batch(X, ONEHOT) == model.evaluate(X, ONEHOT, batch_size=N)
    assert model.test_on_batch(X, ONEHOT, return_dict=True) == model.evaluate(
        X, ONEHOT, batch_size=N, return_dict=True)
    np.testing.assert_array_equal(model.predict_on_batch(X), model.predict(X, batch_size=N))
    for b, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(p.data, b)
    with pytest.raises(RuntimeError, match="not compiled"):
        tidu.Sequential([Dense(2, input_shape=(3,))]).train_on_batch(X, YR)


# ----- ModelCheckpoint(save_weights_only=True) with placeholders -----
def test_model_checkpoint_weights_only_with_placeholders(tmp_path):
    model = classifier()
    path = str(tmp_path / "w-{epoch:02d}-{loss:.3f}.weights.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = model.fit(X, ONEHOT, epochs=2, verbose=0,
                      callbacks=[ModelCheckpoint(path, monitor="loss",
                                                 save_weights_only=True)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"w-{e + 1:02d}-{h.history['loss'][e]:.3f}.weights.npz" for e in (0, 1)]
    fresh = classifier()
    fresh.load_weights(tmp_path / names[-1])
    assert_same_weights(fresh, model)
