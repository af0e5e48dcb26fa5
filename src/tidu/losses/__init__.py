"""Losses: differentiable, numerically stable, Keras-style.

Functional forms return one loss per sample (``mean_squared_error(y_true, y_pred)`` ...);
``Loss`` classes reduce them to a scalar (batch mean, optional ``sample_weight``):
``MeanSquaredError()(y_true, y_pred)``. ``get`` resolves names ('mse',
'categorical_crossentropy', ...), instances and functions, as ``Model.compile`` does.

Also: ``label_smoothing`` on the categorical and binary cross-entropies, ``ignore_class`` on
the sparse one (Keras 3's names), CosineSimilarity (negative, axis -1), Hinge and
SquaredHinge (0/1 labels become -1/1), LogCosh and Poisson. The PyTorch-style functions
(``nll_loss``, ``cross_entropy`` with ``ignore_index``, ``binary_cross_entropy_with_logits``
with ``pos_weight``, PyTorch's positive ``cosine_similarity``, ...) live in
:mod:`tidu.losses.torch_style` and are public as :mod:`tidu.nn.functional`; they are not
exported here, where ``cosine_similarity`` means Keras's loss.

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
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_squared_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .loss import (
    ALIASES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanSquaredError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    get,
    serialize,
)

__all__ = [
    "ALIASES", "EPSILON", "BinaryCrossentropy", "CategoricalCrossentropy", "CosineSimilarity",
    "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper",
    "MeanAbsoluteError", "MeanSquaredError", "Poisson", "SparseCategoricalCrossentropy",
    "SquaredHinge", "binary_crossentropy", "categorical_crossentropy", "cosine_similarity",
    "get", "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
    "mean_squared_error", "poisson", "serialize", "sparse_categorical_crossentropy",
    "squared_hinge",
]
