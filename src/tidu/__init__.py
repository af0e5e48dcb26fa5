"""tidu (梯度): a deep-learning framework built from first principles on NumPy.

Tensors with reverse-mode automatic differentiation, gradient checking, and (in ``tidu.nn``,
``tidu.optim``, ``tidu.models``) the layers and training loop built on them.
"""

from . import linalg  # noqa: I001
from . import callbacks, datasets, func, losses, metrics, models, nn, ops, optim, optimize, viz
from . import io  # noqa: I001
from . import onnx  # noqa: I001  (tidu.onnx imports the onnx package only on export)
from . import keras  # noqa: I001  (Keras 3's names for tidu's objects)
from . import utils  # noqa: I001  (tidu.utils.data: PyTorch's Dataset and DataLoader)
from . import debug  # noqa: I001  (verified mode and the mistake detectors)
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .compile import THEANO_TYPES as _THEANO_TYPES
from .compile import (
    SharedVariable,
    Variable,
    constant,
    debugprint,
    function,
    matrix,
    placeholder,
    scalar,
    shared,
    tensor3,
    tensor4,
    vector,
)
from .creation import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .errors import GradientError, ShapeError, TiduError
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .models import Input, Model, Sequential, load_model
from .nn import initializers, regularizers
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
from .backend import get_default_dtype, set_default_dtype
from .random import get_generator, manual_seed
from .registry import register_serializable
from .safety import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .serialization import load, save
from .tensor import Tensor, tensor
from .tensor_methods import from_numpy

globals().update(_THEANO_TYPES)  # dmatrix, dvector, fscalar, ...: Theano's typed inputs
cat = concatenate
float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"
