"""Keras-style models: ``compile``, ``fit``, ``evaluate``, ``predict`` and ``summary``.

``Model`` adds the training loop to any ``tidu.nn.Module`` (subclass it and write ``forward``);
``Sequential`` is ``tidu.nn.Sequential`` with that loop.
"""

from ..optim import NonFiniteUpdateError
from .functional import Functional, Input
from .model import Model, NonFiniteLossError
from .saving import load_model
from .sequential import Sequential

__all__ = ["Functional", "Input", "Model", "NonFiniteLossError", "NonFiniteUpdateError",
           "Sequential", "load_model"]
