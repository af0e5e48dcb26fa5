"""Tensor: an array, an optional gradient, and the node that made it.

Dtype rules: Python floats and lists of floats become float32; NumPy arrays keep their dtype;
binary operations promote as NumPy 2 does (NEP 50): Python scalars adapt to the tensor's
dtype (``float32 * 2.0`` stays float32), float32 with float64 gives float64, integers with
floats give floats. Only floating-point tensors can require gradients.
"""

from __future__ import annotations

from . import autograd, backend, inplace, ops
from . import tensor_methods as _tensor_methods
from .errors import DeviceError, GradientError

xp = backend.xp


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Args:
        data: array, scalar or nested list.
        requires_grad: track operations for differentiation (floating dtypes only).
        dtype: optional dtype; by default float data becomes float32.
        name: optional label (shown in graph drawings).

    >>> import tidu
    >>> a = tidu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (a * a).sum().backward()
    >>> a.grad.numpy().tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = ("data", "grad", "_requires_grad", "_node", "_retain", "name", "_version",
                 "_stamp", "_hooks", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = backend.as_array(data, dtype)
        if requires_grad and not backend.is_floating(self.data.dtype):
            raise GradientError(
                f"only floating-point tensors can require gradients, got dtype "
                f"{self.data.dtype}: a gradient is a rate of change, which integer values "
                "cannot have; convert first, e.g. tidu.tensor(x, dtype='float32')"
            )
        self._requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._node = None
        self._retain = False
        self.name = name
        self._version = self._stamp = 0
        self._hooks = None

    @classmethod
    def _make(cls, data, requires_grad: bool, node) -> Tensor:
        """Fast constructor for the engine: no conversion, no checks."""
        t = object.__new__(cls)
        t.data, t._requires_grad, t._node = data, requires_grad, node
        t.grad, t._retain, t.name = None, False, None
        t._version = t._stamp = 0
        t._hooks = None
        return t

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for differentiation."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and not backend.is_floating(self.data.dtype if self.data is not None
                                            else self.dtype):
            raise GradientError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}: "
                "convert first, e.g. t.astype('float32')")
        self._requires_grad = bool(flag)

    @property
    def version(self) -> int:
        """How many times this tensor was changed in place (PyTorch's ``_version``)."""
        return self._version

    # ----- array facts -----
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded operation."""
        return self._node is None

    @property
    def grad_fn(self):
        """The Function node that produced this tensor (None for leaves)."""
        return self._node

    def numpy(self):
        """The underlying NumPy array (shared, not copied). A tensor on a GPU must be brought
        to the CPU first (``t.cpu().numpy()``), as in PyTorch."""
        if type(self.data) is not xp.ndarray and backend.device_of(self.data) != "cpu":
            raise DeviceError(
                f"numpy(): this tensor is on {backend.device_of(self.data)}; NumPy arrays live "
                "on the CPU: use t.cpu().numpy()")
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __array__(self, dtype=None, copy=None):
        data = self.numpy()
        return data if dtype is None else data.astype(dtype)

    def __repr__(self) -> str:
        host = backend.to_host(self.data)
        body = xp.array2string(host, separator=", ", prefix="tensor(")
        extra = ""
        if host is not self.data:
            extra += f", device='{backend.device_of(self.data)}'"
        if self.dtype != backend.default_float:
            extra += f", dtype={self.dtype}"
        if self._node is not None:
            extra += f", grad_fn={self._node.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----- autograd -----
    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Args:
            gradient: d(loss)/d(self), needed unless the tensor has one element.
            retain_graph: keep the graph's saved values for another backward (default:
                ``create_graph``).
            create_graph: build the gradients from the ops' ``vjp`` rules, with a graph, so
                that ``.grad`` can itself be differentiated (higher-order derivatives).

        Raises:
            GradientError: non-scalar output without ``gradient``, a freed graph, or a
                tensor that does not require grad.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        self._retain = True
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._make(self.data, False, None)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating-point tensors only)."""
        self.requires_grad = flag
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; a non-None return
        value replaces the gradient. Returns a handle whose ``remove()`` unregisters it.

        >>> import tidu
        >>> x = tidu.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * x).sum().backward()
        >>> x.grad.tolist()
        [20.0, 40.0]
        """
        if not self._requires_grad:
            raise GradientError("register_hook: this tensor does not require grad, so it has "
                                "no gradient to hook")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    # in-place operations (tidu.inplace): they bump the version that backward checks
    add_ = inplace.add_
    sub_ = inplace.sub_
    mul_ = inplace.mul_
    div_ = inplace.div_
    zero_ = inplace.zero_
    fill_ = inplace.fill_
    copy_ = inplace.copy_
    clamp_ = inplace.clamp_
    __setitem__ = inplace.setitem

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    # ----- operators -----
    def __add__(self, o):
        return ops.add(self, o)

    def __radd__(self, o):
        return ops.add(o, self)

    def __sub__(self, o):
        return ops.sub(self, o)

    def __rsub__(self, o):
        return ops.sub(o, self)

    def __mul__(self, o):
        return ops.mul(self, o)

    def __rmul__(self, o):
        return ops.mul(o, self)

    def __truediv__(self, o):
        return ops.div(self, o)

    def __rtruediv__(self, o):
        return ops.div(o, self)

    def __pow__(self, o):
        return ops.pow(self, o)

    def __rpow__(self, o):
        return ops.pow(o, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __matmul__(self, o):
        return ops.matmul(self, o)

    def __rmatmul__(self, o):
        return ops.matmul(o, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # comparisons give boolean tensors outside the graph (as in PyTorch)
    def _cmp(self, o, f):
        return Tensor._make(f(self.data, o.data if isinstance(o, Tensor) else o), False, None)

    def __lt__(self, o):
        return self._cmp(o, xp.less)

    def __le__(self, o):
        return self._cmp(o, xp.less_equal)

    def __gt__(self, o):
        return self._cmp(o, xp.greater)

    def __ge__(self, o):
        return self._cmp(o, xp.greater_equal)

    def __eq__(self, o):
        return self._cmp(o, xp.equal)

    def __ne__(self, o):
        return self._cmp(o, xp.not_equal)

    __hash__ = object.__hash__

    # ----- methods that mirror the functional API -----
    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def sign(self):
        return ops.sign(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def relu(self):
        return ops.relu(self)

    def clip(self, lo=None, hi=None):
        return ops.clip(self, lo, hi)

    def softmax(self, axis: int = -1):
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1):
        return ops.log_softmax(self, axis)

    def logsumexp(self, axis=None, keepdims: bool = False):
        return ops.logsumexp(self, axis, keepdims)

    def sum(self, axis=None, keepdims: bool = False):
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return ops.min(self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0):
        return ops.var(self, axis, keepdims, ddof)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def flatten(self, start_axis: int = 0):
        return ops.flatten(self, start_axis)

    def transpose(self, *axes):
        return ops.transpose(self, *axes)

    def permute(self, *axes):
        return ops.permute(self, *axes)

    @property
    def T(self):
        return ops.transpose(self)

    def squeeze(self, axis=None):
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: int):
        return ops.unsqueeze(self, axis)

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, shape)

    def matmul(self, o):
        return ops.matmul(self, o)

    def dot(self, o):
        return ops.dot(self, o)

    def astype(self, dtype):
        return ops.cast(self, dtype)

    def float(self):
        return ops.cast(self, backend.default_float)

    def double(self):
        return ops.cast(self, xp.float64)


autograd.Tensor = Tensor
inplace.Tensor = Tensor


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _bind_methods() -> None:
    """Attach the extended operator set's Tensor methods: each module of ``tidu.ops`` lists
    them in ``TENSOR_METHODS`` (names of its functions, or ``(method, function)`` pairs for
    operators such as ``("__floordiv__", floor_divide)``)."""
    for mod in ops.EXTENDED:
        for item in getattr(mod, "TENSOR_METHODS", ()):
            name, fn = (item, getattr(mod, item)) if isinstance(item, str) else item
            if name not in Tensor.__dict__:
                setattr(Tensor, name, fn)


_bind_methods()
_tensor_methods.bind(Tensor)  # PyTorch's spellings: view, size(), to, dim=, ...


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None,
           device=None) -> Tensor:
    """Make a Tensor (floats default to float32) on ``device`` (default: where ``data`` is;
    the CPU for lists and NumPy arrays), as ``torch.tensor``."""
    if device is not None:
        raw = data.data if isinstance(data, Tensor) else data
        data = backend.to_device(backend.as_array(raw, dtype), device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)
