"""``tidu.nn.functional``: PyTorch's functional namespace (``import tidu.nn.functional as F``).

The losses follow ``torch.nn.functional`` (``(input, target)``, classes on axis 1,
``reduction='mean'|'sum'|'none'``); they are written in :mod:`tidu.losses.torch_style`
beside the Keras-style losses of :mod:`tidu.losses`, and only this module exports them (the
Keras ``tidu.losses.cosine_similarity`` is a different function). The activations are
tidu's own ops, re-exported. Axes are named ``axis``, as everywhere in tidu (PyTorch: ``dim``).

>>> import tidu
>>> import tidu.nn.functional as F
>>> round(float(F.cross_entropy(tidu.tensor([[0.0, 0.0]]), [1], label_smoothing=0.2)), 4)
0.6931
"""

from ..losses.torch_style import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    cross_entropy,
    hinge_embedding_loss,
    nll_loss,
)
from ..ops import leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_similarity",
    "cross_entropy", "hinge_embedding_loss", "leaky_relu", "log_softmax", "nll_loss", "relu",
    "sigmoid", "softmax", "softplus", "tanh",
]
