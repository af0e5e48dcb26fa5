"""tidu.registry: one lookup for every kind, registration, custom_objects, error messages."""

import numpy as np
import pytest

import tidu
from tidu import losses, metrics, nn, optim, registry
from tidu.nn import activations, initializers, regularizers
from tidu.optim import schedules


@pytest.mark.parametrize("kind, get, name, cls", [
    ("loss", losses.get, "mse", losses.MeanSquaredError),
    ("metric", metrics.get, "mae", metrics.MeanAbsoluteError),
    ("optimizer", optim.get, "adam", optim.Adam),
    ("initializer", initializers.get, "he_normal", initializers.HeNormal),
    ("regularizer", regularizers.get, "l2", regularizers.L2),
])
def test_module_gets_and_registry_agree(kind, get, name, cls):
    assert type(get(name)) is cls and type(registry.resolve(kind, name)) is cls
    obj = get(name)
    back = registry.resolve(kind, registry.serialize(obj, kind))
    assert type(back) is cls and back.get_config() == obj.get_config()


def test_every_kind_is_declared():
    for kind in registry.KINDS:
        assert registry.unknown_message(kind, "nope").count("'nope'") >= 1
    with pytest.raises(ValueError, match="unknown kind 'layers'.*'layer'"):
        registry.resolve("layers", "Dense")


def test_unknown_names_say_kind_and_how_to_register():
    for kind, get in [("loss", losses.get), ("metric", metrics.get),
                      ("optimizer", optim.get), ("initializer", initializers.get),
                      ("regularizer", regularizers.get), ("activation", activations.get)]:
        with pytest.raises(ValueError) as info:
            get("no_such_thing")
        msg = str(info.value)
        assert "'no_such_thing'" in msg and kind in msg
        assert f"register_serializable(kind='{kind}')" in msg and "custom_objects" in msg
    with pytest.raises(ValueError, match=r"unknown schedule 'Warp'.*'CosineDecay'"):
        schedules.deserialize({"class_name": "Warp", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown layer 'Conv9D'.*'Dense'.*register_serial"):
        registry.resolve("layer", {"class_name": "Conv9D", "config": {}})


def test_user_layers_need_registration():
    class Unregistered(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="Unknown layer 'Unregistered'"):
        registry.resolve("layer", {"class_name": "Unregistered", "config": {}})
    with registry.custom_object_scope({"Unregistered": Unregistered}):
        layer = registry.resolve("layer", {"class_name": "Unregistered", "config": {}})
    assert type(layer) is Unregistered

    @tidu.register_serializable(name="pkg>Scale")
    class Scale(nn.Module):
        def __init__(self, factor=2.0, name=None):
            super().__init__(name=name)
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    config = registry.serialize(Scale(3.0), "layer")
    assert config["class_name"] == "pkg>Scale" and config["config"]["factor"] == 3.0
    back = registry.resolve("layer", config)
    assert type(back) is Scale and back.factor == 3.0


def test_registration_errors():
    with pytest.raises(TypeError, match="tidu.nn.Module subclass"):
        tidu.register_serializable()(lambda x: x)
    with pytest.raises(ValueError, match="built-in layer 'Dense'"):
        tidu.register_serializable(name="Dense")(type("Other", (nn.Module,), {}))
    with pytest.raises(ValueError, match="unknown kind 'lossfn'"):
        tidu.register_serializable(kind="lossfn")


def test_registered_functions_resolve_and_serialize():
    @tidu.register_serializable(kind="activation")
    def doubled_relu(x):
        return 2 * tidu.relu(x)

    assert activations.get("doubled_relu") is doubled_relu
    layer = nn.Dense(2, activation=doubled_relu, input_shape=(3,))
    assert layer.get_config()["activation"] == "doubled_relu"

    @tidu.register_serializable(kind="loss")
    def cube_error(y_true, y_pred):
        return ((y_pred - y_true) ** 2).mean(axis=-1)

    loss = losses.get("cube_error")
    assert isinstance(loss, losses.LossFunctionWrapper) and loss.fn is cube_error
    x = np.ones((2, 1), np.float32)
    assert float(loss(x, tidu.tensor(3 * x))) == 4.0


def test_config_dict_errors():
    with pytest.raises(ValueError, match="losses.get: a dict needs 'class_name'"):
        losses.get({"config": {}})
    with pytest.raises(ValueError, match="'class_name' must be a string"):
        optim.get({"class_name": 3})
    with pytest.raises(ValueError, match="config of optimizer 'SGD' must be a dict"):
        optim.get({"class_name": "SGD", "config": [1]})
