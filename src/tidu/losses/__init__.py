"""Losses: differentiable, numerically stable, Keras-style.

Functional forms return one loss per sample (``mean_squared_error(y_true, y_pred)`` ...);
``Loss`` classes reduce them to a scalar (batch mean, optional ``sample_weight``):
``MeanSquaredError()(y_true, y_pred)``. ``get`` resolves names ('mse',
'categorical_crossentropy', ...), instances and functions, as ``Model.compile`` does.

Cross-entropies never return inf or NaN: ``from_logits=True`` computes from logits, and a
``softmax``/``sigmoid`` output in a recorded graph is traced back to its logits and fused.

>>> import tidu, tidu.losses
>>> logits = tidu.tensor([[1e4, 0.0]], requires_grad=True)
>>> loss = tidu.losses.CategoricalCrossentropy()([[0.0, 1.0]], tidu.softmax(logits))
>>> float(loss)  # confident and wrong: large, but finite
10000.0
"""

from .functional import (
    EPSILON,
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    kl_divergence,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from .loss import (
    ALIASES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    KLDivergence,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    get,
    serialize,
)

__all__ = [
    "ALIASES", "EPSILON", "BinaryCrossentropy", "CategoricalCrossentropy", "Huber",
    "KLDivergence", "Loss", "LossFunctionWrapper", "MeanAbsoluteError", "MeanSquaredError",
    "SparseCategoricalCrossentropy", "binary_crossentropy", "categorical_crossentropy", "get",
    "huber", "kl_divergence", "mean_absolute_error", "mean_squared_error", "serialize",
    "sparse_categorical_crossentropy",
]
