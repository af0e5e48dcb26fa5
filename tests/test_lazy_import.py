"""``import tidu`` is lazy (PEP 562): the subpackages load on first use, and nothing a user
can reach changed (names, ``dir``, ``__all__``, ``from tidu import``, the registry by name)."""

from __future__ import annotations

import json
import pydoc
import subprocess
import sys
import types

import pytest

import tidu


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter and return its stdout (the test fails on error)."""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_import_tidu_loads_no_heavy_package():
    out = _run("import sys, json, tidu; print(json.dumps(sorted(sys.modules)))")
    loaded = set(json.loads(out))
    heavy = ["tidu.keras", "tidu.plot", "tidu.datasets", "tidu.models", "tidu.nn",
             "tidu.compile", "tidu.callbacks", "tidu.onnx", "tidu.io", "tidu.linalg",
             "tidu.debug", "tidu.distributed", "tidu.cli", "tidu.optim", "tidu.losses",
             "matplotlib", "scipy", "h5py", "torch", "onnx"]
    assert [m for m in heavy if m in loaded] == []
    assert "tidu.tensor" in loaded and "tidu.ops" in loaded and "tidu.autograd" in loaded


def test_registry_finds_builtins_by_name_right_after_import():
    code = """
import tidu
r = tidu.registry
print(r.lookup("layer", "Dense")[0].__name__)
print(r.lookup("layer", "Concatenate")[0].__module__)
print(type(r.resolve("optimizer", "adam")).__name__)
print(type(r.resolve("loss", "categorical_crossentropy")).__name__)
print(r.resolve("activation", "relu").__name__)
print(type(r.resolve("metric", "mae")).__name__)
print(type(r.resolve("initializer", "glorot_uniform")).__name__)
print(type(r.resolve("regularizer", "l2")).__name__)
print(type(r.resolve("schedule", {"class_name": "ExponentialDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}})).__name__)
layer = r.resolve("layer", {"class_name": "Dense", "config": {"units": 3}})
print(type(layer).__name__, layer.units)
"""
    assert _run(code).split() == [
        "Dense", "tidu.keras.layers", "Adam", "CategoricalCrossentropy", "relu",
        "MeanAbsoluteError", "GlorotUniform", "L2", "ExponentialDecay", "Dense", "3"]


def test_registry_unknown_name_still_raises_after_loading_everything():
    code = """
import tidu
try:
    tidu.registry.lookup("layer", "NoSuchLayer")
except ValueError as e:
    print("Known names" in str(e), "Dense" in str(e))
"""
    assert _run(code).split() == ["True", "True"]


def test_register_serializable_refuses_builtin_name_right_after_import():
    code = """
import tidu
try:
    @tidu.register_serializable(kind="loss")
    def mse(y_true, y_pred):
        return y_pred
except ValueError as e:
    print("built-in" in str(e))
"""
    assert _run(code).split() == ["True"]


@pytest.mark.parametrize("name", ["keras", "nn", "models", "compile", "callbacks", "debug",
                                  "datasets", "io", "onnx", "linalg", "losses", "metrics",
                                  "optim", "optimize", "utils", "viz", "func", "registry",
                                  "serialization"])
def test_each_subpackage_imports_first_in_a_fresh_process(name):
    out = _run(f"import tidu.{name} as m, tidu; print(m.__name__, tidu.{name} is m)")
    assert out.split() == [f"tidu.{name}", "True"]


def test_lazy_attribute_then_public_names():
    code = """
import sys, tidu
assert "tidu.keras" not in sys.modules
k = tidu.keras
assert "tidu.keras" in sys.modules and k is sys.modules["tidu.keras"]
from tidu import Sequential, function, dmatrix, save, initializers
print(Sequential.__module__, function.__module__, dmatrix.__name__, save.__module__,
      initializers.__name__)
"""
    assert _run(code).split() == ["tidu.models.sequential", "tidu.compile.function", "dmatrix",
                                  "tidu.serialization", "tidu.nn.initializers"]


def test_dir_and_all_list_every_name_and_each_resolves():
    names = dir(tidu)
    assert set(tidu.__all__) <= set(names)
    for n in ("nn", "keras", "Sequential", "Model", "Input", "function", "shared", "dmatrix",
              "save", "load", "initializers", "regularizers", "register_serializable",
              "Tensor", "tensor", "gradcheck", "cat", "float32", "__version__"):
        assert n in names
    for n in tidu.__all__:
        assert getattr(tidu, n) is not None
    assert isinstance(tidu.nn, types.ModuleType) and tidu.nn.__name__ == "tidu.nn"
    assert tidu.initializers is sys.modules["tidu.nn.initializers"]
    assert callable(tidu.gradcheck) and callable(tidu.tensor)
    assert tidu.Sequential is tidu.models.Sequential
    assert sorted(tidu.compile.THEANO_TYPES) == sorted(tidu._THEANO_NAMES)
    assert tidu._THEANO_TYPES is tidu.compile.THEANO_TYPES


def test_star_import_gives_all():
    ns: dict = {}
    exec("from tidu import *", ns)
    assert set(tidu.__all__) <= set(ns)
    assert ns["Sequential"] is tidu.Sequential and ns["keras"] is tidu.keras


def test_debug_callbacks_load_on_first_access():
    code = """
import sys, tidu.debug as d
assert "tidu.debug.callbacks" not in sys.modules and "tidu.optim" not in sys.modules
print(d.Verify.__module__, d.callbacks.__name__, d.WatchLoss.__name__)
"""
    assert _run(code).split() == ["tidu.debug.callbacks", "tidu.debug.callbacks", "WatchLoss"]
    code = "import tidu.debug as d; print(d.callbacks.Verify is d.Verify)"
    assert _run(code).split() == ["True"]


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        tidu.no_such_name  # noqa: B018
    assert not hasattr(tidu, "no_such_name")


def test_extra_subpackages_reachable_but_not_in_all():
    assert "plot" not in tidu.__all__ and "distributed" not in tidu.__all__
    assert tidu.distributed.__name__ == "tidu.distributed"


def test_help_renders():
    text = pydoc.render_doc(tidu, renderer=pydoc.plaintext)
    assert "tidu" in text and "Sequential" in text
