"""``keras.activations``: tidu's activation functions (Keras's names)."""

from ..nn.activations import (
    celu,
    elu,
    exponential,
    gelu,
    get,
    glu,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mish,
    relu,
    relu6,
    selu,
    serialize,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)

hard_swish = hard_silu  # Keras's alias
swish = silu  # Keras's alias

__all__ = ["celu", "elu", "exponential", "gelu", "get", "glu", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax",
           "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "softmax",
           "softplus", "softsign", "swish", "tanh"]
