"""PyTorch's ``torch.nn.utils`` helpers, re-exported from where tidu keeps them.

``clip_grad_norm_`` and ``clip_grad_value_`` come from :mod:`tidu.optim.clip`;
``parameters_to_vector`` and ``vector_to_parameters`` from :mod:`tidu.optimize` (there the
vector is a float64 NumPy array, not a Tensor).
"""

from __future__ import annotations

from ..optim.clip import clip_grad_norm_, clip_grad_value_
from ..optimize.vector import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]
