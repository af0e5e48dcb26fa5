"""tidu.plot: the figures hold what they claim (lines, labels, regions, steps) and save PNGs."""

import subprocess
import sys

import numpy as np
import pytest

import tidu
from tidu.nn import Dense

pytest.importorskip("matplotlib")
import tidu.plot as P  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.float32)


def assert_png(path, min_bytes=3000):
    data = path.read_bytes()
    assert data[:8] == PNG
    assert len(data) > min_bytes


def test_import_tidu_does_not_import_matplotlib():
    code = ("import sys, tidu, tidu.plot, tidu.callbacks; "
            "assert 'matplotlib' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"tidu\[plot\]"):
        P.plot_history({"loss": [1.0, 0.5]})


@pytest.fixture(scope="module")
def xor_model():
    tidu.manual_seed(0)
    model = tidu.Sequential([Dense(8, activation="tanh", input_shape=(2,)),
                             Dense(1, activation="sigmoid")])
    model.compile(optimizer=tidu.optim.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(XOR_X, XOR_Y[:, None], batch_size=4, epochs=250, verbose=0, seed=0,
                        validation_data=(XOR_X, XOR_Y[:, None]))
    assert ((model.predict(XOR_X)[:, 0] > 0.5) == (XOR_Y > 0.5)).all()
    return model, history


def test_history_plot_has_train_and_validation_lines(xor_model, tmp_path):
    _, history = xor_model
    fig = history.plot(path=tmp_path / "history.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, key in zip(fig.axes, ("loss", "accuracy")):
        train, val = ax.get_lines()
        assert (train.get_label(), val.get_label()) == ("train", "validation")
        np.testing.assert_allclose(train.get_ydata(), history.history[key])
        np.testing.assert_allclose(val.get_ydata(), history.history[f"val_{key}"])
        np.testing.assert_array_equal(train.get_xdata(), np.arange(1, 251))
    assert_png(tmp_path / "history.png")
    only = P.plot_history({"loss": [3.0, 2.0, 1.0]}, metrics=["loss"])
    assert len(only.axes) == 1 and len(only.axes[0].get_lines()) == 1
    with pytest.raises(KeyError, match="recorded"):
        P.plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="nothing recorded"):
        P.plot_history({})


def test_decision_boundary_regions_are_right_at_the_xor_corners(xor_model, tmp_path):
    model, _ = xor_model
    xs, ys, classes = P.decision_grid(model, XOR_X, resolution=41, margin=0.5)
    for (x1, x2), truth in zip(XOR_X, XOR_Y):
        i, j = np.abs(ys - x2).argmin(), np.abs(xs - x1).argmin()
        assert classes[i, j] == truth
    fig = P.plot_decision_boundary(model, XOR_X, XOR_Y, resolution=41,
                                   path=tmp_path / "boundary.png")
    mesh = fig.axes[0].collections[0]
    drawn = np.asarray(mesh.get_array()).reshape(41, 41)
    np.testing.assert_array_equal(drawn, classes)
    assert drawn[0, 0] == 0 and drawn[0, -1] == 1 and drawn[-1, 0] == 1 and drawn[-1, -1] == 0
    assert_png(tmp_path / "boundary.png")


def test_decision_boundary_of_a_perceptron_is_its_line():
    unit = Dense(1, activation="sign", input_shape=(2,))
    unit.kernel.data[:, 0] = [1.0, 1.0]
    unit.bias.data[0] = -1.45  # AND: only (1, 1) is on the positive side
    xs, ys, classes = P.decision_grid(unit, XOR_X, resolution=21, threshold=0.0)
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_array_equal(classes, (gx + gy - 1.45 > 0).astype(int))
    with pytest.raises(tidu.ShapeError, match=r"\(n, 2\)"):
        P.decision_grid(unit, np.zeros((4, 3)))


def test_misclassified_grid_titles_say_predicted_and_true(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((10, 64))
    y_true = np.arange(10) % 3
    probs = np.eye(3)[[0, 1, 2, 0, 2, 2, 0, 0, 1, 0]]  # wrong at 4, 7, 8
    np.testing.assert_array_equal(P.misclassified(y_true, probs), [4, 7, 8])
    fig = P.plot_misclassified(x, y_true, probs, class_names=["a", "b", "c"],
                               path=tmp_path / "wrong.png")
    assert [ax.get_title() for ax in fig.axes] == ["pred c / true b", "pred a / true b",
                                                   "pred b / true c"]
    assert fig.axes[0].images[0].get_array().shape == (8, 8)
    assert_png(tmp_path / "wrong.png", 1000)
    assert len(P.plot_misclassified(x, y_true, probs, max_images=2).axes) == 2
    none = P.plot_misclassified(x, y_true, y_true)
    assert "no misclassified" in none.axes[0].texts[0].get_text()
    rgb = P.plot_misclassified(rng.random((3, 3, 5, 5)), [0, 1, 1], [1, 1, 0])
    assert rgb.axes[0].images[0].get_array().shape == (5, 5, 3)  # channels first -> last
    with pytest.raises(tidu.ShapeError, match="image_shape"):
        P.plot_misclassified(rng.random((2, 10)), [0, 1], [1, 0])


def test_histograms_hold_the_weights_activations_and_gradients(xor_model, tmp_path):
    model, _ = xor_model
    weights = P.weight_arrays(model)
    names = [f"{layer.name}/{p}" for layer in model.layers for p in ("kernel", "bias")]
    assert list(weights) == names
    fig = P.plot_layer_histograms(model, "weights", path=tmp_path / "w.png")
    assert len(fig.axes) == 4
    heights = [sum(patch.get_height() for patch in ax.patches) for ax in fig.axes]
    assert heights == [16, 8, 8, 1]  # every value counted once
    assert fig.axes[0].get_title().startswith(names[0])
    assert_png(tmp_path / "w.png")

    acts = P.activation_arrays(model, XOR_X)
    h = np.tanh(XOR_X @ model.layers[0].kernel.data + model.layers[0].bias.data)
    np.testing.assert_allclose(acts[model.layers[0].name], h, rtol=1e-5)
    assert all("forward" not in layer.__dict__ for layer in model.layers)

    grads = P.gradient_arrays(model, XOR_X, XOR_Y[:, None])
    x = tidu.tensor(XOR_X)
    loss = model.loss(XOR_Y[:, None], model(x))
    expected = tidu.grad(loss, model.parameters())
    for g, e in zip(grads.values(), expected):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-6, atol=1e-9)
    fig = P.plot_layer_histograms(model, "gradients", XOR_X, XOR_Y[:, None])
    assert fig.get_suptitle() == "gradients"
    with pytest.raises(ValueError, match="needs the inputs"):
        P.plot_layer_histograms(model, "activations")
    with pytest.raises(ValueError, match="kind must be"):
        P.plot_layer_histograms(model, "biases")


def test_graph_picture_shows_text_a_values_and_gradients(tmp_path):
    a, b, c = (tidu.tensor(v, requires_grad=True, name=n) for v, n in ((7.0, "a"), (4.0, "b"),
                                                                         (2.0, "c")))
    u = b * c
    v = a + u
    J = 3 * v
    for t, n in ((u, "u"), (v, "v"), (J, "J")):
        t.name = n
        t.retain_grad()
    J.backward(retain_graph=True)
    fig = P.plot_graph(J, path=tmp_path / "graph.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "a\nshape ()\nvalue 7\ngrad 3" in texts
    assert "c\nshape ()\nvalue 2\ngrad 12" in texts
    assert "J\nshape ()\nvalue 45\ngrad 1" in texts
    assert sorted(t for t in texts if t and "\n" not in t) == ["Add", "Mul", "Mul"]
    assert texts.count("") == 8  # one arrow per edge: a, b, c, u, v in; Mul, Add, Mul out
    nodes, edges = P.graph.parse_dot(tidu.viz.to_dot(J, show_constants=False))
    depth = P.graph.layers_of(nodes, edges)
    label = {n: lab.split("\n")[0] for n, (lab, _) in nodes.items()}
    by_name = {label[n]: d for n, d in depth.items()}
    assert by_name["a"] == by_name["b"] == by_name["c"] == 0 and by_name["J"] == 6
    assert_png(tmp_path / "graph.png")


def test_optimizer_explainer_steps_are_the_steps_tidu_optimizers_take():
    fig, traces = P.explain_optimizers(steps=25, lr=0.1)
    assert [ax.get_title() for ax in fig.axes[:4]] == ["SGD", "momentum", "RMSprop", "Adam"]
    gradient = P.noisy_quadratic(steps=25)
    makers = {"SGD": lambda p: tidu.optim.SGD(p, lr=0.1),
              "momentum": lambda p: tidu.optim.SGD(p, lr=0.1, momentum=0.9),
              "RMSprop": lambda p: tidu.optim.RMSprop(p, lr=0.1),
              "Adam": lambda p: tidu.optim.Adam(p, lr=0.1)}
    axes = np.array(fig.axes).reshape(4, 4)
    for j, (name, make) in enumerate(makers.items()):
        # the same optimizer driven the usual way: a loss whose gradient is gradient(t, w)
        w = tidu.nn.Parameter(np.zeros(1))
        opt = make([w])
        steps = []
        for t in range(25):
            before = float(w.data[0])
            noise = gradient(t, 0.0) - (0.0 - 2.0)
            loss = (0.5 * (w - 2.0) ** 2 + noise * w).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps.append(float(w.data[0]) - before)
        drawn = axes[3, j].get_lines()[0]
        assert drawn.get_label() == "effective step"
        np.testing.assert_allclose(drawn.get_ydata(), steps, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(traces[name]["step"], steps, rtol=1e-12, atol=1e-15)
    sgd = traces["SGD"]
    np.testing.assert_allclose(sgd["step"], -0.1 * np.asarray(sgd["grad"]), rtol=1e-12)
    assert traces["SGD"]["moments"] == {}
    assert set(traces["Adam"]["moments"]) == {"momentum", "velocity"}
    m = 0.0  # Adam's first moment: m += (1 - 0.9) (g - m)
    for g, drawn in zip(traces["Adam"]["grad"], traces["Adam"]["moments"]["momentum"]):
        m += 0.1 * (g - m)
        assert drawn == pytest.approx(m, rel=1e-12)
    adam_moments = axes[2, 3].get_lines()
    np.testing.assert_allclose(adam_moments[1].get_ydata(),
                               np.sqrt(traces["Adam"]["moments"]["velocity"]))


def test_weight_decay_explainer_coupled_against_decoupled():
    fig, traces = P.explain_weight_decay(lr=0.1, weight_decay=0.1, w0=3.0, steps=10)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == list(traces)
    np.testing.assert_allclose(traces["Adam"]["w"], 3.0)  # flat loss: plain Adam stays
    np.testing.assert_allclose(traces["AdamW (decoupled)"]["w"], 3.0 * 0.99 ** np.arange(11),
                               rtol=1e-12)
    coupled = traces["Adam + L2 (coupled)"]
    w, m, v = 3.0, 0.0, 0.0  # Adam (Keras's rule) on the L2 gradient g = wd * w alone
    for t, step in enumerate(coupled["step"], start=1):
        g = 0.1 * w
        m += 0.1 * (g - m)
        v += 0.001 * (g * g - v)
        expected = -0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
        assert step == pytest.approx(expected, rel=1e-9)
        w += expected
    assert coupled["step"][0] == pytest.approx(-0.1, rel=1e-4)  # normalised: about -lr


def test_diagnostics_plots(tmp_path):
    tidu.manual_seed(1)
    model = tidu.Sequential([Dense(4, activation="relu", input_shape=(3,), name="r"),
                             Dense(1, activation="sigmoid", name="s")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    diag = tidu.callbacks.Diagnostics()
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    model.fit(x, (x[:, :1] > 0).astype(np.float32), epochs=3, batch_size=8, verbose=0,
              callbacks=[diag])
    fig = P.plot_quantity(diag, "grad_norm")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["r", "s"]
    np.testing.assert_allclose(lines[0].get_ydata(), diag.series("r", "grad_norm"))
    assert fig.axes[0].get_yscale() == "log"
    sat = P.plot_quantity(diag, "saturated")
    assert [line.get_label() for line in sat.axes[0].get_lines()] == ["s"]
    paths = diag.plot(tmp_path)
    assert [p.name for p in paths][:2] == ["diagnostics_act_mean.png", "diagnostics_act_std.png"]
    assert len(paths) == 7
    for p in paths:
        assert_png(p, 2000)


def test_pictures_example_writes_the_readme_pictures(tmp_path, capsys):
    pytest.importorskip("sklearn")  # the embedded digits
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]
                           / "examples"))
    try:
        import pictures
    finally:
        sys.path.pop(0)
    result = pictures.main(["--out", str(tmp_path), "--epochs", "1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "decision_boundary.png", "graph.png", "history.png", "optimizers.png"]
    for p in result["paths"].values():
        assert_png(p, 10_000)
    assert len(result["history"].history["val_accuracy"]) == 1
    assert "validation accuracy" in capsys.readouterr().out
