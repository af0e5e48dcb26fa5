"""``tidu.keras``: tidu under Keras 3's names, so that ``from tidu import keras`` replaces
``import keras`` in programs that use the layers and features tidu has.

A thin namespace: every name is a tidu object, or a small adapter where Keras's signature
differs (``utils.set_random_seed``, ``utils.plot_model``, ``saving.register_keras_serializable``,
``layers.Layer``'s ``add_weight(shape=...)``). ``Input`` and ``InputLayer`` are tidu's when
the functional API is present (``tidu.Input``). What is not there yet is listed in
docs/porting.md.

>>> from tidu import keras
>>> model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
>>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
>>> [tuple(w.shape) for w in model.weights]
[(3, 2), (2,)]
"""

from ..models import Model, Sequential
from . import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from ._functional import functional_name as _functional_name

__all__ = ["Model", "Sequential", "activations", "callbacks", "datasets", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "regularizers", "saving",
           "utils"]


def __getattr__(name: str):
    return _functional_name(name, "tidu.keras")
