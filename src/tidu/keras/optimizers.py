"""``keras.optimizers``: tidu's optimizers, which take Keras's ``learning_rate`` (first
positional argument or keyword) and defaults; ``schedules`` is :mod:`tidu.optim.schedules`."""

from ..optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get, schedules, serialize

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "schedules",
           "serialize"]
