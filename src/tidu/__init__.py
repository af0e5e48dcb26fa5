"""tidu (梯度): a deep-learning framework built from first principles on NumPy.

Tensors with reverse-mode automatic differentiation, gradient checking, and (in ``tidu.nn``,
``tidu.optim``, ``tidu.models``) the layers and training loop built on them.

``import tidu`` loads the tensor core (Tensor, autograd, the operations); the subpackages
(``tidu.nn``, ``tidu.keras``, ``tidu.models``, ``tidu.compile``, ...) and the names taken from
them (``tidu.Sequential``, ``tidu.function``, ``tidu.save``, ...) are imported on first use
(PEP 562), so they cost nothing until then. ``dir(tidu)`` and ``tidu.__all__`` list them all.
"""

from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .backend import get_default_dtype, set_default_dtype
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .errors import GradientError, ShapeError, TiduError
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .ops import (
    abs,
    add,
    broadcast_to,
    cast,
    clip,
    concatenate,
    div,
    dot,
    exp,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pad,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sign,
    softmax,
    softplus,
    split,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .ops.contract import *
from .ops.index import *
from .ops.layout import *
from .ops.logic import *
from .ops.math import *
from .ops.nonlinearity import *
from .ops.scan import *
from .ops.sort import *
from .random import get_generator, manual_seed
from .safety import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .tensor import Tensor, tensor
from .tensor_methods import from_numpy

cat = concatenate
float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"

# ----------------------------------------------------------------------------- lazy names
# Subpackages and modules imported on first attribute access. Those of _LAZY_PUBLIC were
# imported by ``import tidu`` before it became lazy (so they are in __all__ and dir());
# _LAZY_EXTRA ones never were (tidu.plot imports matplotlib, tidu.cli and tidu.distributed
# are entry points) and are only reachable as attributes.
_LAZY_PUBLIC = ("callbacks", "compile", "datasets", "debug", "func", "io", "keras", "linalg",
                "losses", "metrics", "models", "nn", "onnx", "optim", "optimize", "registry",
                "serialization", "utils", "viz")
_LAZY_EXTRA = ("cli", "distributed", "plot")

# Theano's typed inputs of tidu.compile (d/f/i/l + scalar...tensor4): tidu.dmatrix, ...
_THEANO_NAMES = tuple(p + n for p in "dfil"
                      for n in ("scalar", "vector", "matrix", "tensor3", "tensor4"))

# name -> (module, attribute of that module; None: the module itself)
_LAZY_ATTRS = {
    **{n: ("tidu.compile", n) for n in (
        "SharedVariable", "Variable", "constant", "debugprint", "function", "matrix",
        "placeholder", "scalar", "shared", "tensor3", "tensor4", "vector", *_THEANO_NAMES)},
    "_THEANO_TYPES": ("tidu.compile", "THEANO_TYPES"),
    "Input": ("tidu.models", "Input"),
    "Model": ("tidu.models", "Model"),
    "Sequential": ("tidu.models", "Sequential"),
    "load_model": ("tidu.models", "load_model"),
    "initializers": ("tidu.nn.initializers", None),
    "regularizers": ("tidu.nn.regularizers", None),
    "register_serializable": ("tidu.registry", "register_serializable"),
    "load": ("tidu.serialization", "load"),
    "save": ("tidu.serialization", "save"),
    **{n: ("tidu." + n, None) for n in _LAZY_PUBLIC + _LAZY_EXTRA},
}

__all__ = sorted({
    *(n for n in globals() if not n.startswith("_")),
    *(n for n in _LAZY_ATTRS if not n.startswith("_") and n not in _LAZY_EXTRA),
})


def __getattr__(name: str):
    """Import a lazy subpackage or name on first access (PEP 562) and keep it."""
    try:
        module, attr = _LAZY_ATTRS[name]
    except KeyError:
        raise AttributeError(f"module 'tidu' has no attribute {name!r}") from None
    import importlib

    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Every name of tidu, loaded or not (the lazy ones are imported on access)."""
    return sorted({*globals(), *__all__, "_THEANO_TYPES"})


def _load_all() -> None:
    """Import every lazy subpackage that ``import tidu`` used to load (the registry's fallback
    when a name is not found among the modules loaded so far)."""
    for name in _LAZY_PUBLIC:
        __getattr__(name)
