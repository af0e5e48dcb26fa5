"""``keras.saving``: ``load_model`` and ``register_keras_serializable``."""

from __future__ import annotations

from collections.abc import Callable

from ..models import load_model
from ..registry import custom_object_scope, register_serializable

_KINDS = (  # (module, class name, tidu's registry kind), checked in this order
    ("tidu.nn.module", "Module", "layer"),
    ("tidu.losses.loss", "Loss", "loss"),
    ("tidu.metrics", "Metric", "metric"),
    ("tidu.optim.optimizer", "Optimizer", "optimizer"),
    ("tidu.optim.schedules", "LearningRateSchedule", "schedule"),
    ("tidu.nn.initializers", "Initializer", "initializer"),
    ("tidu.nn.regularizers", "Regularizer", "regularizer"),
)


def _kind_of(obj) -> str:
    import importlib

    if isinstance(obj, type):
        for module, cls, kind in _KINDS:
            if issubclass(obj, getattr(importlib.import_module(module), cls)):
                return kind
    raise TypeError(f"register_keras_serializable: cannot tell what {obj!r} is (a layer, "
                    "loss, metric, optimizer, schedule, initializer or regularizer class); "
                    "for a function use tidu.register_serializable(kind='loss' or "
                    "'activation')")


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Keras's decorator, mapped to :func:`tidu.register_serializable`: the kind (layer,
    loss, metric, ...) is taken from the class's base. ``package`` is accepted and unused:
    tidu files name a custom object by ``name`` alone (default: the class's name)."""

    def decorator(obj):
        return register_serializable(name=name, kind=_kind_of(obj))(obj)

    return decorator


__all__ = ["custom_object_scope", "load_model", "register_keras_serializable"]
