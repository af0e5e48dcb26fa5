"""Module (alias Layer): the base class of every layer and model.

A Module tracks the Parameters and sub-Modules assigned to its attributes, in order; builds
its weights lazily from the shape of its first input (``build``); switches between training
and evaluation (``train`` / ``eval``); saves and loads its weights as NumPy arrays
(``state_dict`` / ``load_state_dict``); and sums its regularization penalties
(``regularization_loss``). Its constructor arguments are recorded automatically, so
``get_config()`` works for user-written layers too.

Saving and restoring (the weight lists, ``get_weights`` / ``set_weights``, ``state_dict`` /
``load_state_dict``, ``get_config`` / ``from_config``) come from
:class:`~tidu.nn.module_state.StateMixin`, in :mod:`tidu.nn.module_state`; ``IncompatibleKeys``
is re-exported here.
"""

from __future__ import annotations

import functools
import inspect

from .. import backend
from ..autograd import _GradMode
from ..errors import ShapeError
from ..tensor import Tensor
from . import initializers as initializers_mod
from . import regularizers as regularizers_mod
from ._device import DeviceMixin
from ._utils import _classes, normalize_shape, snake_case, unique_name
from .module_state import IncompatibleKeys, StateMixin  # noqa: F401 (re-exported)
from .parameter import Parameter

xp = backend.xp


def _wrap_build(build):
    """Make a subclass's ``build`` mark the module built and remember the input shape."""

    @functools.wraps(build)
    def wrapped(self, input_shape):
        shape = normalize_shape(input_shape)
        build(self, shape)
        self._built = True
        self._build_input_shape = shape

    wrapped._tidu_wrapped = True
    return wrapped


def _variable_type():
    from ..compile.variable import Variable

    return Variable


def _symbolic(x) -> bool:
    from ..models.functional import is_symbolic

    return is_symbolic(x)


def _debug_checks(module) -> None:
    """tidu.debug's detectors for a call in training mode: dropout left on inside
    ``no_grad`` (a hand-written evaluation), or, on the first call with gradients, weights
    initialized to one constant (Text C's symmetry)."""
    from ..debug import detectors

    if not _GradMode.enabled:
        detectors.dropout_in_no_grad(module)
    elif module._init_unchecked:
        object.__setattr__(module, "_init_unchecked", False)
        detectors.check_symmetry(module)


def _symbolic_call(layer, x, args, kwargs):
    from ..models.functional import symbolic_call

    return symbolic_call(layer, x, args, kwargs)


class Module(DeviceMixin, StateMixin):
    """Base class of layers and models (``tidu.nn.Layer`` is the same class).

    Subclasses create weights in ``__init__`` (PyTorch style) or, when they depend on the
    input, in ``build(input_shape)``, which runs on the first call (Keras style); they
    compute in ``forward``. Parameters and Modules assigned to attributes are registered in
    assignment order (a list of Modules becomes a :class:`ModuleList`).

    Args:
        name: the module's name; by default the snake_case class name made unique in this
            process ('dense', 'dense_1', ...).

    >>> import tidu
    >>> class Affine(tidu.nn.Module):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight("w", (input_shape[-1], 2), "ones")
    ...     def forward(self, x):
    ...         return x @ self.w
    >>> layer = Affine()
    >>> layer([[1.0, 2.0, 3.0]]).tolist(), [n for n, _ in layer.named_parameters()]
    ([[6.0, 6.0]], ['w'])
    """

    _init_unchecked = True  # the first training call checks the weights (tidu.debug)

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        config = None
        sig = inspect.signature(cls.__init__)
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError:
            pass  # __init__ reports the bad call itself
        else:
            bound.apply_defaults()
            config = {}
            params = sig.parameters
            for key, value in list(bound.arguments.items())[1:]:
                kind = params[key].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    config.update(value)
                elif kind is not inspect.Parameter.VAR_POSITIONAL:
                    config[key] = value
        object.__setattr__(self, "_init_config", config)
        return self

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _classes[cls.__name__] = cls
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_tidu_wrapped", False):
            cls.build = _wrap_build(build)

    def __init__(self, name: str | None = None):
        object.__setattr__(self, "_param_names", {})
        object.__setattr__(self, "_child_names", {})
        object.__setattr__(self, "_regularizers", {})
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.training = True
        self._trainable = True
        # a module with nothing to build is built from the start
        self._built = type(self).build is Module.build
        self._build_input_shape = None

    # ----- registration -----
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if "_param_names" not in d:  # a subclass that did not call super().__init__()
            Module.__init__(self)
        params, children = d["_param_names"], d["_child_names"]
        if isinstance(value, Parameter):
            children.pop(name, None)
            params[name] = None
            if not d.get("_trainable", True):  # a weight made after trainable = False
                value.requires_grad = False
        elif isinstance(value, Module):
            params.pop(name, None)
            children[name] = None
        elif (isinstance(value, (list, tuple)) and value
              and all(isinstance(v, Module) for v in value)):
            value = ModuleList(value)
            params.pop(name, None)
            children[name] = None
        else:
            params.pop(name, None)
            children.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_param_names"].pop(name, None)
        self.__dict__["_child_names"].pop(name, None)
        self.__dict__["_regularizers"].pop(name, None)
        object.__delattr__(self, name)

    def add_weight(self, name: str, shape, initializer="glorot_uniform", regularizer=None,
                   trainable: bool = True, dtype=None) -> Parameter:
        """Create a Parameter, assign it to ``self.<name>`` and return it (Keras's add_weight).

        Args:
            name: attribute (and state_dict) name, e.g. 'kernel'.
            shape: the weight's shape.
            initializer: name, Initializer or callable ``(shape, dtype) -> array``.
            regularizer: name, Regularizer or callable ``(Parameter) -> scalar Tensor``;
                its penalty is included in ``regularization_loss()``.
            trainable: False creates a frozen parameter (``requires_grad=False``).
            dtype: defaults to float32.
        """
        init = initializers_mod.get(initializer)
        shape = tuple(int(d) for d in shape)
        data = xp.asarray(init(shape, dtype=dtype or backend.default_float))
        if "_device" in self.__dict__:  # moved with .to(device) before it was built
            data = backend.to_device(data, self.__dict__["_device"])
        if data.shape != shape:
            raise ShapeError(f"{self.name}: initializer for '{name}' returned shape "
                             f"{data.shape}, expected {shape}")
        p = Parameter(data, name=f"{self.name}/{name}",
                      requires_grad=bool(trainable) and self._trainable)
        setattr(self, name, p)
        if not trainable:  # stays frozen when the layer's trainable is set back to True
            self.__dict__.setdefault("_fixed_weights", set()).add(name)
        if regularizer is not None:
            self._regularizers[name] = regularizers_mod.get(regularizer)
        return p

    # ----- building and calling -----
    def build(self, input_shape) -> None:
        """Create the weights that depend on the input shape (batch axis included, as None).

        Runs once, on the first call. Subclasses override it; calling it marks the module
        built and records ``input_shape``.
        """
        self._built = True
        self._build_input_shape = normalize_shape(input_shape)

    @property
    def built(self) -> bool:
        """Whether this module and all its sub-modules have their weights."""
        return self._built and all(m.built for m in self.children())

    @built.setter
    def built(self, value: bool) -> None:
        self._built = bool(value)

    @property
    def input_shape(self) -> tuple | None:
        """The input shape the module was built for, batch axis first (None until known)."""
        return self._build_input_shape

    def __call__(self, x, *args, **kwargs):
        """Convert array inputs to Tensors (no copy), build on the first call, run forward.

        On symbolic inputs (``tidu.Input`` and what layers make of it, also in a list) the
        call is also recorded for functional models (:mod:`tidu.models.functional`)."""
        if x.__class__ is Tensor and self._built:  # the common case: one test, then forward
            out = self.forward(x, *args, **kwargs)
            if self.training and (self._init_unchecked or not _GradMode.enabled):
                _debug_checks(self)
            return out
        if not isinstance(x, Tensor) and x is not None:
            if isinstance(x, (list, tuple, dict)):
                if _symbolic(x):
                    return _symbolic_call(self, x, args, kwargs)
                items = x.values() if isinstance(x, dict) else x
                if x and all(isinstance(v, Tensor) for v in items):  # a merge layer's list
                    return self.forward(x, *args, **kwargs)
            x = Tensor(x)
        elif x.__class__ is not Tensor and isinstance(x, _variable_type()):
            return _symbolic_call(self, x, args, kwargs)
        if not self._built and isinstance(x, Tensor):
            self.build((None, *x.shape[1:]) if x.ndim else ())
        out = self.forward(x, *args, **kwargs)
        if self.training and (self._init_unchecked or not _GradMode.enabled):
            _debug_checks(self)
        return out

    def forward(self, x, *args, **kwargs):
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def compute_output_shape(self, input_shape) -> tuple:
        """The output shape for ``input_shape`` (batch axis included, as None)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define compute_output_shape(); its output shape "
            "is known only after calling it"
        )

    # ----- traversal -----
    def children(self) -> list:
        """The direct sub-modules, in registration order."""
        out, seen = [], set()
        d = self.__dict__
        for n in d["_child_names"]:
            m = d[n]
            if id(m) not in seen:
                seen.add(id(m))
                out.append(m)
        return out

    def named_children(self) -> list:
        """(attribute name, sub-module) pairs, in registration order."""
        d = self.__dict__
        return [(n, d[n]) for n in d["_child_names"]]

    def named_modules(self) -> list:
        """(dotted name, module) for this module ('') and every descendant, depth first."""
        out, seen = [], set()
        stack = [("", self)]
        while stack:
            prefix, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((prefix, m))
            kids = [(f"{prefix}.{n}" if prefix else n, c) for n, c in m.named_children()]
            stack.extend(reversed(kids))
        return out

    def modules(self) -> list:
        """This module and all its descendants, each once, depth first."""
        return [m for _, m in self.named_modules()]

    def named_parameters(self) -> list:
        """(dotted name, Parameter) pairs: own parameters first, then each child's in order.

        A parameter shared by two modules is listed once, under its first name.
        """
        out, seen = [], set()
        for prefix, m in self.named_modules():
            d = m.__dict__
            for n in d["_param_names"]:
                p = d[n]
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{prefix}.{n}" if prefix else n, p))
        return out

    def parameters(self) -> list:
        """All Parameters of the tree, in registration order, each once."""
        return [p for _, p in self.named_parameters()]

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and all below."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout becomes the identity. Same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the accumulated gradients of all parameters."""
        for p in self.parameters():
            p.grad = None

    @property
    def trainable(self) -> bool:
        """Whether the module's weights are updated; False freezes all of them.

        Setting it sets ``requires_grad`` of every parameter below (weights made with
        ``add_weight(trainable=False)`` stay frozen). It takes effect at the next step:
        unlike Keras, no new ``compile`` is needed (optimizers skip frozen parameters).
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for m in self.modules():
            m._trainable = bool(value)
            d = m.__dict__
            fixed = d.get("_fixed_weights", ())
            for n in d["_param_names"]:
                d[n].requires_grad = bool(value) and n not in fixed

    def regularization_loss(self):
        """Sum of the regularizers' penalties on the current weights (scalar Tensor).

        Returns:
            A scalar Tensor (differentiable), or None when no weight has a regularizer.
        """
        total = None
        for m in self.modules():
            d = m.__dict__
            for n, reg in d["_regularizers"].items():
                p = d.get(n)
                if p is None:
                    continue
                term = reg(p)
                total = term if total is None else total + term
        return total

    # ----- display -----
    def extra_repr(self) -> str:
        """Arguments shown in ``repr`` (subclasses may override)."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()})"
        kids = self.named_children()
        if not kids:
            return head
        lines = [head[:-1]]
        for n, c in kids:
            body = repr(c).replace("\n", "\n  ")
            lines.append(f"  ({n}): {body}")
        return "\n".join(lines) + "\n)"


Layer = Module


class ModuleList(Module):
    """A list of Modules whose parameters are registered (children named '0', '1', ...).

    Assigning a plain list of Modules to a Module attribute makes one automatically.

    >>> import tidu
    >>> blocks = tidu.nn.ModuleList([tidu.nn.Linear(2, 2), tidu.nn.Linear(2, 1)])
    >>> len(blocks), [n for n, _ in blocks.named_parameters()]
    (2, ['0.weight', '0.bias', '1.weight', '1.bias'])
    """

    def __init__(self, modules=None, name: str | None = None):
        super().__init__(name=name)
        self._items: list = []
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        if not isinstance(module, Module):
            raise TypeError(f"{self.name}: can only hold Modules, got {type(module).__name__}")
        setattr(self, str(len(self._items)), module)
        self._items.append(module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index):
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def forward(self, x, *args, **kwargs):
        raise NotImplementedError("a ModuleList has no forward(); iterate over it instead")
