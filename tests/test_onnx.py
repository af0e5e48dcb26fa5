"""tidu.onnx.export: every exportable layer kind and activation name, run in onnxruntime,
matches ``predict`` to 1e-5; the files pass the full ONNX checker; the batch axis is dynamic;
layers without a converter are named in the error; custom converters; lazy import of onnx."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import tidu  # noqa: E402
import tidu.onnx  # noqa: E402
from tidu import nn  # noqa: E402
from tidu.onnx.converters import ACTIVATIONS  # noqa: E402

TOL = 1e-5


def run_onnx(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = sess.run([tidu.onnx.OUTPUT_NAME], {tidu.onnx.INPUT_NAME: x})
    return out


def check_export(model, x, tmp_path, **kwargs):
    """Export, check the file in full, run it, compare with predict; returns the proto."""
    path = tmp_path / "model.onnx"
    proto = tidu.onnx.export(model, path, **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    want = model.predict(x)
    got = run_onnx(path, x)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
    return proto


def data(shape, scale=2.0, seed=0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def sequential(*layers):
    tidu.manual_seed(0)
    return tidu.Sequential([nn.Linear(6, 8), *layers])


# each activation layer after a Linear(6, 8), so the input goes through real weights
LAYERS = {
    "ReLU": lambda: nn.ReLU(), "Sigmoid": lambda: nn.Sigmoid(), "Tanh": lambda: nn.Tanh(),
    "Softmax": lambda: nn.Softmax(), "LeakyReLU": lambda: nn.LeakyReLU(0.1),
    "ELU": lambda: nn.ELU(0.5), "SELU": lambda: nn.SELU(), "CELU": lambda: nn.CELU(0.7),
    "GELU": lambda: nn.GELU(), "GELU-tanh": lambda: nn.GELU("tanh"),
    "SiLU": lambda: nn.SiLU(), "Softplus": lambda: nn.Softplus(),
    "Softplus-beta-threshold": lambda: nn.Softplus(beta=2.0, threshold=3.0),
    "Softsign": lambda: nn.Softsign(), "Hardtanh": lambda: nn.Hardtanh(-0.5, 2.0),
    "ReLU6": lambda: nn.ReLU6(), "Hardsigmoid": lambda: nn.Hardsigmoid(),
    "Hardswish": lambda: nn.Hardswish(), "Mish": lambda: nn.Mish(),
    "LogSigmoid": lambda: nn.LogSigmoid(), "Softmin": lambda: nn.Softmin(),
    "GLU": lambda: nn.GLU(), "PReLU": lambda: nn.PReLU(),
    "PReLU-channels": lambda: nn.PReLU(8, init=0.1), "Sign": lambda: nn.Sign(),
    "Step": lambda: nn.Step(), "Dropout": lambda: nn.Dropout(0.5),
    "Activation": lambda: nn.Activation("elu"),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_each_layer_kind_matches_predict(kind, tmp_path):
    model = sequential(LAYERS[kind]())
    if kind.startswith("PReLU"):  # distinct learned slopes
        model[1].weight.data[...] = np.linspace(-0.5, 0.5, model[1].weight.size)
    check_export(model, data((9, 6), scale=4.0), tmp_path)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_name_of_dense_matches_predict(name, tmp_path):
    tidu.manual_seed(1)
    model = tidu.Sequential([nn.Dense(8, activation=name, input_shape=(5,))])
    check_export(model, data((7, 5)), tmp_path)


@pytest.mark.parametrize("opset", [13, 17, 18, 20, 21])
@pytest.mark.parametrize("kind", ["GELU", "GELU-tanh", "Mish", "Hardswish", "Softmax"])
def test_opsets_with_and_without_the_native_operator(kind, opset, tmp_path):
    proto = check_export(sequential(LAYERS[kind]()), data((4, 6)), tmp_path, opset=opset)
    assert proto.opset_import[0].version == opset
    ops = {n.op_type for n in proto.graph.node}
    if kind.startswith("GELU"):
        assert ("Gelu" in ops) == (opset >= 20)
    if kind == "Mish":
        assert ("Mish" in ops) == (opset >= 18)
    if kind == "Hardswish":
        assert ("HardSwish" in ops) == (opset >= 14)


def test_softmax_and_glu_on_a_middle_axis_of_3d_samples(tmp_path):
    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Linear(6, 12), nn.Reshape((4, 3)), nn.Softmax(axis=1),
                             nn.GLU(axis=1), nn.Softmin(axis=-2), nn.Flatten()])
    check_export(model, data((5, 6)), tmp_path)


def test_flatten_and_reshape(tmp_path):
    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Flatten(), nn.Dense(12, activation="tanh"),
                             nn.Reshape((-1, 3)), nn.Dense(2), nn.Flatten()])
    x = data((6, 2, 4, 3))
    model.predict(x[:1])  # build the lazy Dense layers
    proto = check_export(model, x, tmp_path)
    assert model.predict(x).shape == (6, 8)
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]] == [2, 4, 3]


def test_flatten_of_a_one_axis_input_gives_one_column(tmp_path):
    model = tidu.Sequential([nn.Flatten(), nn.Sigmoid()])
    path = tmp_path / "m.onnx"
    tidu.onnx.export(model, path, input_shape=())
    x = data((5,))
    want = model(x).numpy()
    assert want.shape == (5, 1)
    np.testing.assert_allclose(run_onnx(path, x), want, rtol=TOL, atol=TOL)


def test_text_b_network_after_training(tmp_path):
    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Dense(512, activation="relu", input_shape=(64,)),
                             nn.Dropout(0.2), nn.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((256, 64)).astype(np.float32)
    y = tidu.datasets.to_categorical(np.random.default_rng(1).integers(0, 10, 256), 10)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    proto = check_export(model, x, tmp_path)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"]  # no dropout
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    for layer in (model[0], model[2]):
        for what in ("kernel", "bias"):
            name = f"{model.name}/{layer.name}/{what}"
            np.testing.assert_array_equal(weights[name], getattr(layer, what).data)


def test_names_and_dynamic_batch_axis(tmp_path):
    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(2)])
    path = tmp_path / "m.onnx"
    proto = tidu.onnx.export(model, path)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert out.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input"]
    assert [o.name for o in sess.get_outputs()] == ["output"]
    for n in (1, 7, 300):
        x = data((n, 3), seed=n)
        np.testing.assert_allclose(sess.run(None, {"input": x})[0], model.predict(x),
                                   rtol=TOL, atol=TOL)


def test_nested_sequential_and_a_bare_layer(tmp_path):
    tidu.manual_seed(0)
    inner = nn.Sequential([nn.Linear(4, 5), nn.ELU()])
    model = tidu.Sequential([inner, nn.Sequential([nn.Linear(5, 3)]), nn.Softmax()])
    check_export(model, data((6, 4)), tmp_path)
    linear = nn.Linear(4, 2, bias=False)
    path = tmp_path / "linear.onnx"
    tidu.onnx.export(linear, path)
    x = data((3, 4))
    np.testing.assert_allclose(run_onnx(path, x), linear(x).numpy(), rtol=TOL, atol=TOL)


def test_float64_weights_give_a_float64_graph(tmp_path):
    tidu.manual_seed(0)
    model = tidu.Sequential([nn.Linear(4, 3), nn.Tanh()])
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x = np.random.default_rng(0).standard_normal((5, 4))
    path = tmp_path / "m.onnx"
    proto = tidu.onnx.export(model, path)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    want = model(x).numpy()
    np.testing.assert_allclose(run_onnx(path, x), want, rtol=1e-12, atol=1e-12)


# ----- errors -----

class Doubler(nn.Module):
    def forward(self, x):
        return x * 2.0

    def compute_output_shape(self, input_shape):
        return input_shape


def test_a_layer_without_converter_is_named_with_its_class(tmp_path):
    model = tidu.Sequential([nn.Linear(3, 4), Doubler(name="twice")])
    with pytest.raises(tidu.onnx.ExportError, match=r"'twice' of class .*Doubler"):
        tidu.onnx.export(model, tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_a_subclass_that_changes_forward_needs_its_own_converter(tmp_path):
    class KeepsForward(nn.ReLU):
        pass

    class ChangesForward(nn.ReLU):
        def forward(self, x):
            return super().forward(x) * 3.0

    check_export(tidu.Sequential([nn.Linear(3, 4), KeepsForward()]), data((2, 3)), tmp_path)
    model = tidu.Sequential([nn.Linear(3, 4), ChangesForward(name="triple")])
    with pytest.raises(tidu.onnx.ExportError, match="'triple' of class .*ChangesForward"):
        tidu.onnx.export(model, tmp_path / "m.onnx")


def test_a_subclassed_model_is_refused_by_name(tmp_path):
    class Net(tidu.Model):
        def __init__(self):
            super().__init__(name="net")
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    with pytest.raises(tidu.onnx.ExportError, match="'net' of class .*Net"):
        tidu.onnx.export(Net(), tmp_path / "m.onnx", input_shape=(3,))


def test_an_unnamed_activation_callable_is_named(tmp_path):
    def cube(x):
        return x * x * x

    model = tidu.Sequential([nn.Dense(3, activation=cube, input_shape=(2,), name="d")])
    with pytest.raises(tidu.onnx.ExportError, match="'d' of class Dense .*'.*cube'"):
        tidu.onnx.export(model, tmp_path / "m.onnx")


def test_a_registered_converter_exports_a_custom_layer(tmp_path):
    class Affine(nn.Module):
        def __init__(self, scale: float, shift: float, name=None):
            super().__init__(name=name)
            self.scale, self.shift = scale, shift

        def forward(self, x):
            return x * self.scale + self.shift

    @tidu.onnx.register_converter(Affine)
    def _affine(g, layer, x, shape):
        return g.node("Add", [g.node("Mul", [x, g.const(layer.scale)]), g.const(layer.shift)])

    # Affine has no compute_output_shape: the exporter finds the shape by running it
    model = tidu.Sequential([nn.Linear(3, 4), Affine(2.0, -1.0), nn.GLU()])
    check_export(model, data((5, 3)), tmp_path)


def test_unbuilt_models_unknown_shapes_and_bad_arguments(tmp_path):
    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match="no weights yet"):
        tidu.onnx.export(tidu.Sequential([nn.Dense(3)]), path)
    with pytest.raises(ValueError, match="pass input_shape"):
        tidu.onnx.export(tidu.Sequential([nn.ReLU()]), path)
    model = tidu.Sequential([nn.Linear(3, 2)])
    with pytest.raises(ValueError, match=r"input_shape \(4,\) does not match .* \(3,\)"):
        tidu.onnx.export(model, path, input_shape=(4,))
    with pytest.raises(TypeError, match="input_shape must be one sample's shape"):
        tidu.onnx.export(model, path, input_shape="3")
    for opset in (12, 10**3, 17.0):
        with pytest.raises(ValueError, match="opset must be an integer from 13"):
            tidu.onnx.export(model, path, opset=opset)
    glu = tidu.Sequential([nn.GLU()])
    with pytest.raises(tidu.onnx.ExportError, match="known, even length"):
        tidu.onnx.export(glu, path, input_shape=(None,))
    assert not os.listdir(tmp_path)


def test_an_overwritten_file_keeps_its_mode_and_no_temporary_is_left(tmp_path):
    model = tidu.Sequential([nn.Linear(3, 2)])
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    tidu.onnx.export(model, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["m.onnx"]
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


# ----- the optional dependency -----

def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_importing_tidu_onnx_does_not_import_onnx():
    res = _python("import sys, tidu.onnx\n"
                  "print('onnx' in sys.modules, 'onnxruntime' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["False", "False"]


def test_without_onnx_export_names_the_extra():
    res = _python("import sys; sys.modules['onnx'] = None\n"
                  "import tidu, tidu.onnx\n"
                  "m = tidu.Sequential([tidu.nn.Linear(2, 2)])\n"
                  "try:\n"
                  "    tidu.onnx.export(m, 'never.onnx')\n"
                  "except ImportError as e:\n"
                  "    print(e)\n")
    assert res.returncode == 0, res.stderr
    assert "pip install tidu[onnx]" in res.stdout
