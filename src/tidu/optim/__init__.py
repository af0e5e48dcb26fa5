"""Optimizers: pure update rules behind thin stateful classes, with Keras's defaults.

``SGD``, ``RMSprop``, ``Adam``, ``AdamW`` and ``Adagrad`` follow Keras 3's formulas (each
class's update function writes its rule out and says how it relates to PyTorch's); learning
rate schedules live in :mod:`tidu.optim.schedules`; ``clip_grad_norm_`` and
``clip_grad_value_`` clip gradients by hand, as in PyTorch. ``get`` resolves the names
``Model.compile`` accepts.

>>> import tidu, tidu.optim
>>> w = tidu.tensor([3.0], requires_grad=True)
>>> opt = tidu.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     ((w - 1.0) ** 2).sum().backward()   # minimum at w = 1
...     opt.step()
>>> w.numpy().tolist()   # the distance to 1 halves at every step
[1.25]
"""

from __future__ import annotations

from .. import registry
from . import lr_scheduler, schedules
from .adagrad import Adagrad, adagrad_update
from .adam import Adam, AdamW, adam_update
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import NonFiniteUpdateError, Optimizer
from .rmsprop import RMSprop, rmsprop_update
from .schedules import CosineDecay, ExponentialDecay, LearningRateSchedule, StepDecay
from .sgd import SGD, sgd_update

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def get(identifier) -> Optimizer:
    """Resolve an optimizer given by name, instance, class or config dict.

    Args:
        identifier: a name, case-insensitive ('sgd', 'rmsprop', 'adam', 'adamw', 'adagrad':
            a new optimizer with Keras's default hyperparameters, parameters attached later by
            ``build``); an :class:`Optimizer` (returned as is) or subclass (instantiated with
            its defaults); or a dict ``{'class_name': ..., 'config': {...}}`` as returned by
            :func:`serialize`.

    Raises:
        ValueError: an unknown name (the message lists the known names) or a malformed dict.
        TypeError: anything else.

    >>> import tidu, tidu.optim
    >>> tidu.optim.get("RMSprop")
    RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)
    """
    return registry.resolve("optimizer", identifier)


registry.define_kind(
    "optimizer", where="optim.get", base=Optimizer,
    classes={c.__name__: c for c in (SGD, RMSprop, Adam, AdamW, Adagrad)}, aliases=_BY_NAME,
    none="optim.get: no optimizer given (None); pass a name such as 'rmsprop'",
    expected="an optimizer name such as 'rmsprop', an Optimizer or a config dict",
    hint=" (case-insensitive)")


def serialize(optimizer: Optimizer) -> dict:
    """``{'class_name': ..., 'config': ...}``: plain data that :func:`get` turns back into an
    optimizer with the same hyperparameters (and no state: see ``state_dict``)."""
    return registry.serialize(optimizer, "optimizer")


__all__ = [
    "Adagrad", "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "LearningRateSchedule",
    "NonFiniteUpdateError", "Optimizer", "RMSprop", "SGD", "StepDecay", "adagrad_update",
    "adam_update",
    "clip_grad_norm_", "clip_grad_value_", "get", "rmsprop_update", "schedules", "serialize",
    "sgd_update",
]
