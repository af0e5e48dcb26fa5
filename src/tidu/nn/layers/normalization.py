"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization;
PyTorch's BatchNorm1d/2d/3d, LayerNorm and GroupNorm (and the SpatialDropout layers).

Every layer computes through the fused operations of :mod:`tidu.ops.normalization`.
Running statistics are weights made with ``add_weight(trainable=False)``: they are saved,
loaded and counted like the other weights, and no optimizer, weight decay or regularizer
touches them (``requires_grad`` is False); only the normalization's own rule changes them,
in training mode (``model.train()``, which ``fit`` sets). That rule is part of the
operation, so ``compile(jit_compile=True)`` trains exactly like eager.

Parameter counts: Keras's layers count as Keras does (``count_params()`` and ``summary``
include the moving statistics: BatchNormalization on C channels has 4*C weights, 2*C of
them non-trainable). PyTorch's layers keep torch's state_dict keys (weight, bias,
running_mean, running_var, num_batches_tracked), so a torch state dict loads as it is:
their trainable count (``sum(p.size for p in m.trainable_weights)``) equals torch's
``sum(p.numel() for p in m.parameters())``, while ``count_params()`` also counts the
buffers (4*C + 1 for BatchNorm2d). num_batches_tracked is stored as a float (loading
torch's int64 counter casts it).
"""

from __future__ import annotations

from ...errors import ShapeError
from ...ops import normalization as N
from .. import initializers, regularizers
from .._utils import normalize_shape
from ..module import Module
from .spatial_dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "BatchNormalization", "GroupNorm",
           "GroupNormalization", "LayerNorm", "LayerNormalization", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D"]


def _positive_int(value, what: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return value


def _eps(value, what: str, layer: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{layer}: {what} must be a number, got {value!r}") from None
    if not value >= 0:
        raise ValueError(f"{layer}: {what} must be >= 0, got {value}")
    return value


def _keras_affine(layer, epsilon, center, scale, beta_initializer, gamma_initializer,
                  beta_regularizer, gamma_regularizer) -> None:
    """Set the options Keras's normalization layers share: epsilon, the learned offset
    (beta, ``center``) and scale (gamma, ``scale``) with their initializers and regularizers."""
    layer.epsilon = _eps(epsilon, "epsilon", layer.name)
    layer.center, layer.scale = bool(center), bool(scale)
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)


def _axis(axis, ndim: int, layer: str, shape) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{layer}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{layer}: axis={axis} is outside an input of shape {shape}")
    a = axis % ndim
    if a == 0:
        raise ShapeError(f"{layer}: axis={axis} is the batch axis; give the channel axis "
                         f"(-1 for channels last, 1 for channels first), input shape {shape}")
    return a


def _check_input(layer, shape, ndims: tuple, axis: int, channels: int, what: str) -> None:
    """A clear error unless ``shape`` has one of ``ndims`` axes and ``channels`` on ``axis``."""
    shape = tuple(shape)
    if len(shape) not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise ShapeError(f"{layer.name}: expected a {want} input{what}, got an input of "
                         f"shape {shape}")
    got = shape[axis]
    if got is not None and got != channels:
        raise ShapeError(f"{layer.name}: expected {channels} channels on axis {axis}, got an "
                         f"input of shape {shape} with {got}; channels mismatch")


# ----------------------------------------------------------------------------- Keras
class BatchNormalization(Module):
    """Batch normalization (Keras): normalise each channel (``axis``, -1: channels last)
    with the batch's mean and variance in training, and with the moving statistics in
    inference; then ``gamma * x + beta``.

    In training (and only while the layer is trainable, as in Keras) the moving statistics
    follow Keras's rule ``moving = moving * momentum + batch * (1 - momentum)`` with the
    population variance of the batch.

    Weights: gamma, beta (trainable), moving_mean, moving_variance (non-trainable), one
    value per channel each.

    >>> import tidu
    >>> bn = tidu.nn.BatchNormalization(input_shape=(32,))
    >>> bn.count_params(), sum(p.size for p in bn.non_trainable_weights)
    (128, 64)
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, input_shape=None, name: str | None = None):
        super().__init__(name=name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{self.name}: axis must be an int, got {axis!r}")
        self.axis = axis
        self.momentum = _eps(momentum, "momentum", self.name)
        if self.momentum > 1:
            raise ValueError(f"{self.name}: momentum must be in [0, 1], got {momentum}")
        _keras_affine(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                      beta_regularizer, gamma_regularizer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._channel_axis = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        a = _axis(self.axis, len(input_shape), self.name, input_shape)
        c = input_shape[a]
        if c is None:
            raise ShapeError(f"{self.name}: the channel axis {self.axis} of the input must be "
                             f"known to create the weights, got input shape {input_shape}")
        self._channel_axis, self._ndim = a, len(input_shape)
        if self.scale:
            self.add_weight("gamma", (c,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", (c,), self.beta_initializer, self.beta_regularizer)
        self.add_weight("moving_mean", (c,), self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", (c,), self.moving_variance_initializer,
                        trainable=False)

    def _channels(self) -> int:
        return self.moving_mean.shape[0]

    def forward(self, x, training: bool | None = None):
        _check_input(self, x.shape, (self._ndim,), self._channel_axis, self._channels(),
                     f" (built for {self.input_shape})")
        training = self.training if training is None else bool(training)
        if training and self.trainable:
            return N._train(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                            None, self._channel_axis, 1.0 - self.momentum, self.epsilon,
                            unbiased=False)
        return N._eval(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                       self._channel_axis, self.epsilon)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if self.moving_mean is not None:
            _check_input(self, shape, (self._ndim,), self._channel_axis, self._channels(),
                         f" (built for {self.input_shape})")
        return shape

    def extra_repr(self) -> str:
        return f"axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}"


class LayerNormalization(Module):
    """Layer normalization (Keras): normalise each sample over ``axis`` (an int or a list,
    default the last axis), then ``gamma * x + beta`` with weights of the sizes of those
    axes.

    >>> import tidu
    >>> ln = tidu.nn.LayerNormalization(input_shape=(3, 8))
    >>> ln.gamma.shape, ln.count_params()
    ((8,), 16)
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, input_shape=None,
                 name: str | None = None):
        super().__init__(name=name)
        axes = [axis] if isinstance(axis, int) else list(axis)
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise TypeError(f"{self.name}: axis must be an int or a list of ints, got {axis!r}")
        self.axis = axis
        _keras_affine(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                      beta_regularizer, gamma_regularizer)
        self.gamma = self.beta = None
        self._axes = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        nd = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        axes = sorted({_axis(a, nd, self.name, input_shape) for a in axes})
        sizes = tuple(input_shape[a] for a in axes)
        if None in sizes:
            raise ShapeError(f"{self.name}: axes {self.axis} of the input must be known to "
                             f"create the weights, got input shape {input_shape}")
        self._axes, self._ndim, self._sizes = tuple(axes), nd, sizes
        if self.scale:
            self.add_weight("gamma", sizes, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", sizes, self.beta_initializer, self.beta_regularizer)

    def _check(self, shape) -> None:
        shape = tuple(shape)
        if len(shape) != self._ndim or any(
                shape[a] not in (None, n) for a, n in zip(self._axes, self._sizes)):
            raise ShapeError(f"{self.name}: expected an input like {self.input_shape} (sizes "
                             f"{self._sizes} on axes {self._axes}), got an input of shape "
                             f"{shape}")

    def forward(self, x):
        self._check(x.shape)
        return N._over(x, self._axes, self.gamma, self.beta, self.epsilon, self.name)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if self._axes is not None:
            self._check(shape)
        return shape

    def extra_repr(self) -> str:
        return f"axis={self.axis}, epsilon={self.epsilon}"


class GroupNormalization(Module):
    """Group normalization (Keras): the channels (``axis``, -1: channels last) are split
    into ``groups`` groups; each sample's group is normalised over its channels and all
    spatial positions, then ``gamma * x + beta`` per channel.

    >>> import tidu
    >>> gn = tidu.nn.GroupNormalization(groups=4, input_shape=(5, 5, 8))
    >>> gn.count_params()
    16
    """

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 input_shape=None, name: str | None = None):
        super().__init__(name=name)
        self.groups = _positive_int(groups, "groups", self.name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{self.name}: axis must be an int, got {axis!r}")
        self.axis = axis
        _keras_affine(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                      beta_regularizer, gamma_regularizer)
        self.gamma = self.beta = None
        self._channel_axis = None
        if input_shape is not None:
            self.build((None, *normalize_shape(input_shape)))

    def build(self, input_shape) -> None:
        a = _axis(self.axis, len(input_shape), self.name, input_shape)
        c = input_shape[a]
        if c is None:
            raise ShapeError(f"{self.name}: the channel axis {self.axis} of the input must be "
                             f"known to create the weights, got input shape {input_shape}")
        if c < self.groups:
            raise ValueError(f"{self.name}: groups={self.groups} cannot be more than the "
                             f"number of channels, {c} (axis {self.axis} of input shape "
                             f"{input_shape})")
        if c % self.groups:
            raise ValueError(f"{self.name}: the number of channels, {c} (axis {self.axis} of "
                             f"input shape {input_shape}), must be a multiple of "
                             f"groups={self.groups}")
        self._channel_axis, self._ndim, self._c = a, len(input_shape), c
        if self.scale:
            self.add_weight("gamma", (c,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", (c,), self.beta_initializer, self.beta_regularizer)

    def forward(self, x):
        _check_input(self, x.shape, (self._ndim,), self._channel_axis, self._c,
                     f" (built for {self.input_shape})")
        return N.group_norm(x, self.groups, self.gamma, self.beta, self.epsilon,
                            axis=self._channel_axis)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        if self._channel_axis is not None:
            _check_input(self, shape, (self._ndim,), self._channel_axis, self._c,
                         f" (built for {self.input_shape})")
        return shape

    def extra_repr(self) -> str:
        return f"groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"


# ----------------------------------------------------------------------------- PyTorch
class _BatchNorm(Module):
    """PyTorch's batch norm on (N, C, ...) inputs: weight, bias, running_mean, running_var
    and num_batches_tracked, named and updated as in torch."""

    NDIMS: tuple = (2, 3)
    LAYOUT = "(N, C) or (N, C, L)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 name: str | None = None):
        super().__init__(name=name)
        self.num_features = _positive_int(num_features, "num_features", self.name)
        self.eps = _eps(eps, "eps", self.name)
        if momentum is not None:
            momentum = _eps(momentum, "momentum", self.name)
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.weight = self.bias = self.running_mean = self.running_var = None
        self.num_batches_tracked = None
        if self.affine:
            self.add_weight("weight", (c,), "ones")
            self.add_weight("bias", (c,), "zeros")
        if self.track_running_stats:
            self.add_weight("running_mean", (c,), "zeros", trainable=False)
            self.add_weight("running_var", (c,), "ones", trainable=False)
            self.add_weight("num_batches_tracked", (), "zeros", trainable=False)

    def forward(self, x):
        _check_input(self, x.shape, self.NDIMS, 1, self.num_features, f" {self.LAYOUT}")
        if self.training or not self.track_running_stats:
            if self.momentum is None and not self.track_running_stats:
                momentum = 0.0
            else:
                momentum = self.momentum
            return N._train(x, self.weight, self.bias, self.running_mean, self.running_var,
                            self.num_batches_tracked, 1, momentum, self.eps)
        return N._eval(x, self.weight, self.bias, self.running_mean, self.running_var, 1,
                       self.eps)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        _check_input(self, shape, self.NDIMS, 1, self.num_features, f" {self.LAYOUT}")
        return shape

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs (torch.nn.BatchNorm1d).

    Training mode normalises with the batch statistics and updates the running ones
    (``running = (1 - momentum) * running + momentum * batch``, unbiased variance;
    ``momentum=None``: the cumulative average); evaluation mode uses the running ones.

    >>> import tidu
    >>> bn = tidu.nn.BatchNorm1d(4)
    >>> [n for n, _ in bn.named_parameters()]
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs (torch.nn.BatchNorm2d); see
    :class:`BatchNorm1d`. A torch state dict (``{k: v.numpy() ...}``) loads as it is."""

    NDIMS = (4,)
    LAYOUT = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) inputs (torch.nn.BatchNorm3d)."""

    NDIMS = (5,)
    LAYOUT = "(N, C, D, H, W)"


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` axes (torch.nn.LayerNorm),
    with ``weight`` (ones) and ``bias`` (zeros) of that shape when ``elementwise_affine``.

    >>> import tidu
    >>> tidu.nn.LayerNorm((3, 4)).weight.shape
    (3, 4)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, name: str | None = None):
        super().__init__(name=name)
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        try:
            ns = tuple(_positive_int(n, "normalized_shape", self.name) for n in ns)
        except TypeError:
            raise TypeError(f"{self.name}: normalized_shape must be an int or a tuple of "
                            f"ints, got {normalized_shape!r}") from None
        if not ns:
            raise ValueError(f"{self.name}: normalized_shape must not be empty")
        self.normalized_shape = ns
        self.eps = _eps(eps, "eps", self.name)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.add_weight("weight", ns, "ones")
            if bias:
                self.add_weight("bias", ns, "zeros")

    def _check(self, shape) -> None:
        shape, k = tuple(shape), len(self.normalized_shape)
        if len(shape) < k or any(s not in (None, n) for s, n in
                                 zip(shape[len(shape) - k:], self.normalized_shape)):
            raise ShapeError(f"{self.name}: expected an input whose last dimensions are "
                             f"{self.normalized_shape} (normalized_shape), got an input of "
                             f"shape {shape}")

    def forward(self, x):
        self._check(x.shape)
        return N.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check(shape)
        return shape

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalization of (N, C, ...) inputs in ``num_groups`` groups of channels
    (torch.nn.GroupNorm), with per-channel ``weight`` and ``bias`` when ``affine``.

    >>> import tidu
    >>> tidu.nn.GroupNorm(2, 6)(tidu.ones(1, 6, 3)).shape
    (1, 6, 3)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, name: str | None = None):
        super().__init__(name=name)
        self.num_groups = _positive_int(num_groups, "num_groups", self.name)
        self.num_channels = _positive_int(num_channels, "num_channels", self.name)
        if num_channels % num_groups:
            raise ValueError(f"{self.name}: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.eps = _eps(eps, "eps", self.name)
        self.affine = bool(affine)
        self.weight = self.bias = None
        if self.affine:
            self.add_weight("weight", (num_channels,), "ones")
            self.add_weight("bias", (num_channels,), "zeros")

    def _check(self, shape) -> None:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ShapeError(f"{self.name}: expected an input (N, C, ...) with at least 2 "
                             f"dimensions, got an input of shape {shape}")
        _check_input(self, shape, (len(shape),), 1, self.num_channels, "")

    def forward(self, x):
        self._check(x.shape)
        return N.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        self._check(shape)
        return shape

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


def _register() -> None:
    from ...compile import shapes

    # it updates the running statistics: never run at graph-building time, never merged
    shapes.register(N.BatchNormTrain, shapes._first, impure=True)
    shapes.register(N.Normalize, shapes._first)
    shapes.register(N.BatchNormEval, shapes._first)


_register()
