"""The functional API: Input, layer calls on symbolic tensors, Model(inputs, outputs)."""

import numpy as np
import pytest
import torch

import tidu
from tidu import ops
from tidu.errors import ShapeError
from tidu.models.functional import Functional
from tidu.nn import Dense, Module


@tidu.register_serializable()
class JoinLast(Module):
    """Concatenate a list of tensors on the last axis (a merge layer for these tests)."""

    def forward(self, xs):
        return ops.concatenate(list(xs), axis=-1)


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    xa = rng.normal(size=(n, 3)).astype(np.float32)
    xb = rng.normal(size=(n, 2)).astype(np.float32)
    y1 = rng.normal(size=(n, 1)).astype(np.float32)
    y2 = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    return xa, xb, y1, y2


def _two_heads(seed=0):
    tidu.manual_seed(seed)
    a, b = tidu.Input((3,), name="a"), tidu.Input((2,), name="b")
    h = Dense(4, activation="tanh", name="hidden")(JoinLast(name="join")([a, b]))
    out1 = Dense(1, name="value")(h)
    out2 = Dense(3, activation="softmax", name="label")(h)
    return tidu.Model(inputs=[a, b], outputs=[out1, out2], name="two_heads")


class TwoHeads(tidu.Model):
    """The same network written by hand (Keras's subclassing API)."""

    def __init__(self):
        super().__init__()
        self.hidden = Dense(4, activation="tanh", input_shape=(5,))
        self.value = Dense(1, input_shape=(4,))
        self.label = Dense(3, activation="softmax", input_shape=(4,))

    def forward(self, xa, xb):
        h = self.hidden(ops.concatenate([xa, xb], axis=-1))
        return self.value(h), self.label(h)


def test_model_dispatches_to_functional_and_runs_the_graph():
    model = _two_heads()
    assert type(model) is Functional and isinstance(model, tidu.Model)
    assert model.input_names == ["a", "b"] and model.output_names == ["value", "label"]
    assert [m.name for m in model.layers] == ["join", "hidden", "value", "label"]
    names = [n for n, _ in model.named_parameters()]
    assert names == ["hidden.kernel", "hidden.bias", "value.kernel", "value.bias",
                     "label.kernel", "label.bias"]
    xa, xb, _, _ = _data()
    v, lab = model([xa, xb])
    hid = model.get_layer("hidden")
    h = np.tanh(np.concatenate([xa, xb], 1) @ hid.kernel.data + hid.bias.data)
    val = model.get_layer("value")
    np.testing.assert_allclose(v.data, h @ val.kernel.data + val.bias.data, rtol=1e-5)
    assert lab.shape == (12, 3)
    same = model({"a": xa, "b": xb})
    np.testing.assert_array_equal(same[0].data, v.data)


def test_two_inputs_two_outputs_fit_equals_the_subclassed_model():
    model = _two_heads()
    twin = TwoHeads()
    twin.set_weights(model.get_weights())
    xa, xb, y1, y2 = _data()
    model.compile(optimizer=tidu.optim.SGD(0.1),
                  loss={"value": "mse", "label": "categorical_crossentropy"},
                  loss_weights=[1.0, 0.5], metrics={"label": ["accuracy"]})
    hist = model.fit([xa, xb], [y1, y2], epochs=3, batch_size=12, shuffle=False,
                     verbose=0).history
    assert list(hist) == ["loss", "value_loss", "label_loss", "label_accuracy"]

    mse = tidu.losses.get("mse")
    cce = tidu.losses.get("categorical_crossentropy")
    opt = tidu.optim.SGD(0.1)
    opt.build(twin.parameters())
    losses, firsts, seconds, accs = [], [], [], []
    for _ in range(3):
        o1, o2 = twin(xa, xb)
        l1, l2 = mse(y1, o1), cce(y2, o2)
        loss = l1 + l2 * 0.5
        losses.append(float(loss.data))
        firsts.append(float(l1.data))
        seconds.append(float(l2.data))
        accs.append(float(np.mean(o2.data.argmax(1) == y2.argmax(1))))
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-6)
    np.testing.assert_allclose(hist["value_loss"], firsts, rtol=1e-6)
    np.testing.assert_allclose(hist["label_loss"], seconds, rtol=1e-6)
    np.testing.assert_allclose(hist["label_accuracy"], accs)
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7)

    preds = model.predict({"a": xa, "b": xb}, batch_size=5)
    assert isinstance(preds, list) and [p.shape for p in preds] == [(12, 1), (12, 3)]
    o1, o2 = twin(xa, xb)
    np.testing.assert_allclose(preds[0], o1.data, rtol=1e-5)
    result = model.evaluate([xa, xb], {"value": y1, "label": y2}, return_dict=True)
    expected = float(mse(y1, o1).data) + 0.5 * float(cce(y2, o2).data)
    assert result["loss"] == pytest.approx(expected, rel=1e-5)


def test_a_shared_layer_accumulates_its_gradients_as_torch_does():
    tidu.manual_seed(1)
    a, b = tidu.Input((3,), name="left"), tidu.Input((3,), name="right")
    shared = Dense(2, activation="tanh", name="shared")
    out = Dense(1, name="head")(JoinLast()([shared(a), shared(b)]))
    model = tidu.Model([a, b], out)
    assert len(model.layers) == 3 and len(shared._inbound_nodes) == 2
    xa, xb, _, _ = _data(6)
    xb = np.concatenate([xb, xa[:, :1]], 1)
    y = model([xa, xb])
    (y * y).sum().backward()

    w = torch.tensor(shared.kernel.data, requires_grad=True)
    c = torch.tensor(shared.bias.data, requires_grad=True)
    head = model.get_layer("head")
    hw, hc = torch.tensor(head.kernel.data), torch.tensor(head.bias.data)
    ta, tb = torch.tensor(xa), torch.tensor(xb)
    t = torch.cat([torch.tanh(ta @ w + c), torch.tanh(tb @ w + c)], 1) @ hw + hc
    (t * t).sum().backward()
    np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(shared.kernel.grad.data, w.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(shared.bias.grad.data, c.grad.numpy(), rtol=1e-5, atol=1e-6)

    text = model.summary(print_fn=None)
    assert "left[0][0], right[0][0]" in text  # both calls of 'shared'
    assert "shared[0][0], shared[1][0]" in text


def test_get_layer_and_summary():
    model = _two_heads()
    assert model.get_layer("label") is model.layers[3]
    assert model.get_layer(index=-1).name == "label"
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="name or index"):
        model.get_layer()
    text = model.summary(print_fn=None)
    lines = text.splitlines()
    assert "Connected to" in lines[2]
    row = next(line for line in lines if line.startswith("join (JoinLast)"))
    assert "(None, 5)" in row and "a[0][0], b[0][0]" in row
    row = next(line for line in lines if line.startswith("label (Dense)"))
    assert "(None, 3)" in row and "15" in row and "hidden[0][0]" in row
    assert "Total params: 44" in text


def test_save_and_load_round_trip(tmp_path):
    model = _two_heads()
    xa, xb, y1, y2 = _data()
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["value", 0, 0], ["label", 0, 0]]
    join = next(e for e in config["layers"] if e["name"] == "join")
    assert join["inbound_nodes"][0]["inputs"] == [["a", 0, 0], ["b", 0, 0]]

    clone = Functional.from_config(config)
    assert [m.name for m in clone.layers] == [m.name for m in model.layers]
    assert clone.get_config() == config

    path = tmp_path / "two_heads.tidu"
    model.save(path)
    loaded = tidu.load_model(path)
    assert type(loaded) is Functional
    for p, q in zip(model.predict([xa, xb]), loaded.predict([xa, xb])):
        np.testing.assert_array_equal(p, q)

    model.compile("adam", loss=["mse", "categorical_crossentropy"], loss_weights=[1.0, 0.5],
                  metrics={"label": ["accuracy"]})
    model.fit([xa, xb], [y1, y2], epochs=1, verbose=0)
    model.save(path)
    loaded = tidu.load_model(path)
    runs = [m.fit([xa, xb], [y1, y2], epochs=2, shuffle=False, verbose=0).history
            for m in (model, loaded)]
    assert runs[0] == runs[1]  # optimizer state, per-output losses and metrics restored
    assert list(runs[1]) == ["loss", "value_loss", "label_loss", "label_accuracy"]

    one = tidu.Input((3,), name="x")
    single = tidu.Model(one, Dense(2, name="out")(Dense(4, "relu", name="h")(one)))
    single.compile("adam", loss="mse", metrics=["mae"])
    single.fit(xa, y2[:, :2], epochs=1, verbose=0)
    single.save(tmp_path / "single.tidu")
    again = tidu.load_model(tmp_path / "single.tidu")
    np.testing.assert_array_equal(again.predict(xa), single.predict(xa))
    assert again.evaluate(xa, y2[:, :2]) == pytest.approx(single.evaluate(xa, y2[:, :2]))


def test_errors_name_the_layer_and_the_inputs():
    a, b = tidu.Input((3,), name="p"), tidu.Input((2,), name="q")
    with pytest.raises(ShapeError, match="fixed"):
        Dense(2, input_shape=(4,), name="fixed")(a)

    class Bad(Module):
        def forward(self, x):
            return ops.matmul(x, tidu.ones(7, 2))

    with pytest.raises(ValueError, match="layer 'bad_one'"):
        Bad(name="bad_one")(a)
    with pytest.raises(ValueError, match="Input 'q', which is not in inputs"):
        tidu.Model(a, Dense(1)(JoinLast()([a, b])))
    with pytest.raises(ValueError, match=r"do not depend on the inputs \['q'\]"):
        tidu.Model([a, b], Dense(1)(a))
    with pytest.raises(TypeError, match="outputs must be symbolic"):
        tidu.Model(a, np.zeros((1, 2)))
    model = tidu.Model([a, b], Dense(1)(JoinLast()([a, b])))
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="must hold 2 arrays"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ShapeError, match="Input 'q'"):
        model.fit([np.zeros((4, 3)), np.zeros((4, 5))], np.zeros((4, 1)), verbose=0)


def test_subclassed_models_still_construct_as_before():
    twin = TwoHeads()
    assert type(twin) is TwoHeads
    assert type(tidu.Model(name="plain")) is tidu.Model


def test_operations_outside_layers_are_replayed():
    a, b = tidu.Input((3,), name="u"), tidu.Input((2,), name="v")
    joined = tidu.concatenate([a, b], axis=-1)  # an operation, not a layer
    h = Dense(4, name="h4")(joined)
    model = tidu.Model([a, b], Dense(1, name="o1")(h * 2.0 + 1))
    assert [m.name for m in model.layers] == ["h4", "o1"]
    xa, xb, _, _ = _data(5)
    hw, ow = model.get_layer("h4"), model.get_layer("o1")
    expected = ((np.concatenate([xa, xb], 1) @ hw.kernel.data + hw.bias.data) * 2 + 1) \
        @ ow.kernel.data + ow.bias.data
    out = model([xa, xb])
    np.testing.assert_allclose(out.data, expected, rtol=1e-5)
    assert "concatenate (Concatenate op)" in model.summary(print_fn=None)
    with pytest.raises(ValueError, match="wrap them in a layer"):
        model.get_config()


def test_single_output_functional_trains_like_sequential_also_compiled():
    xa, _, _, y2 = _data(16)
    losses = {}
    for jit in (False, True):
        tidu.manual_seed(3)
        x = tidu.Input((3,))
        model = tidu.Model(x, Dense(3, "softmax")(Dense(5, "relu")(x)))
        model.compile("sgd", loss="categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit)
        losses[jit] = model.fit(xa, y2, epochs=2, batch_size=8, verbose=0,
                                seed=0).history["loss"]
    tidu.manual_seed(3)
    seq = tidu.Sequential([Dense(5, "relu", input_shape=(3,)), Dense(3, "softmax")])
    seq.compile("sgd", loss="categorical_crossentropy")
    ref = seq.fit(xa, y2, epochs=2, batch_size=8, verbose=0, seed=0).history["loss"]
    np.testing.assert_allclose(losses[False], ref, rtol=1e-6)
    np.testing.assert_allclose(losses[True], ref, rtol=1e-5)


def test_keras_merge_layers_are_graph_layers():
    a, b = tidu.Input((3,), name="k1"), tidu.Input((3,), name="k2")
    join = tidu.keras.layers.Concatenate(name="merge")([a, b])
    total = tidu.keras.layers.Add(name="plus")([a, b])
    model = tidu.Model([a, b], [Dense(2, name="d2")(join), total])
    assert [m.name for m in model.layers] == ["merge", "d2", "plus"]
    xa, _, _, _ = _data(4)
    out = model.predict([xa, 2 * xa])
    np.testing.assert_allclose(out[1], 3 * xa, rtol=1e-6)
    clone = Functional.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    for p, q in zip(out, clone.predict([xa, 2 * xa])):
        np.testing.assert_array_equal(p, q)


def test_sample_weight_weighs_every_output_loss():
    model = _two_heads()
    xa, xb, y1, y2 = _data()
    model.compile("sgd", loss=["mse", "categorical_crossentropy"], loss_weights=[1.0, 2.0])
    sw = np.arange(12, dtype=np.float32)
    got = model.evaluate([xa, xb], [y1, y2], sample_weight=sw, batch_size=12,
                         return_dict=True)
    o1, o2 = model.predict([xa, xb])
    mse = ((o1 - y1) ** 2).mean(1)
    cce = -(y2 * np.log(np.clip(o2, 1e-7, 1.0))).sum(1)
    assert got["value_loss"] == pytest.approx((mse * sw).sum() / 12, rel=1e-5)
    assert got["label_loss"] == pytest.approx((cce * sw).sum() / 12, rel=1e-5)
    assert got["loss"] == pytest.approx(got["value_loss"] + 2 * got["label_loss"], rel=1e-5)
