"""Containers: Sequential (layers applied one after the other), ModuleDict, ParameterList."""

from __future__ import annotations

from ...autograd import _Graph
from ...tensor import Tensor
from .._utils import normalize_shape, serialize
from ..module import Module
from ..parameter import Parameter


class Sequential(Module):
    """A stack of layers; ``forward`` feeds each layer's output to the next.

    If the first layer knows its input shape (``Dense(..., input_shape=(784,))``, or a
    ``Linear``), every layer is built as it is added, so ``parameters()`` is complete at
    once; otherwise the layers are built on the first call. Layers are registered under
    their index, so weight names are '0.kernel', '0.bias', '1.kernel', ...

    Args:
        layers: the layers (Modules), in order: one list (Keras, ``Sequential([a, b])``),
            one argument each (PyTorch, ``Sequential(a, b)``) or one dict of names to layers
            (PyTorch, ``Sequential(OrderedDict(...))``: weights named 'fc1.weight', ...).
        name: model name (default 'sequential', 'sequential_1', ...).

    Shape:
        - Input: what the first layer takes, e.g. (batch, 784).
        - Output: what the last layer gives, e.g. (batch, 10).

    >>> import tidu
    >>> from tidu.nn import Dense
    >>> net = tidu.nn.Sequential([Dense(512, activation="relu", input_shape=(784,)),
    ...                           Dense(10, activation="softmax")])
    >>> net.input_shape, net.compute_output_shape(net.input_shape)
    ((None, 784), (None, 10))
    >>> [(n, p.shape) for n, p in net.named_parameters()][2:]
    [('1.kernel', (512, 10)), ('1.bias', (10,))]
    """

    def __init__(self, *layers, name: str | None = None):
        super().__init__(name=name)
        self._layers: list = []
        self._built = True  # it owns no weights: it is built when all its layers are
        self._names: list = []
        if len(layers) == 1 and isinstance(layers[0], dict):  # Sequential(OrderedDict(...))
            for key, layer in layers[0].items():
                self.add(layer, name=key)
            return
        if len(layers) == 1 and (layers[0] is None or isinstance(layers[0], (list, tuple))):
            layers = layers[0] or ()  # Keras: Sequential([a, b]); PyTorch: Sequential(a, b)
        for layer in layers:
            self.add(layer)

    def add(self, layer: Module, name: str | None = None) -> None:
        """Append ``layer`` (and build it now if the input shape is known), registered under
        ``name`` (default: its index).

        A symbolic input (``tidu.Input(shape)`` / ``keras.Input``) as the first entry sets the
        input shape, as in Keras, and every layer is then built as it is added.

        Raises:
            TypeError: ``layer`` is not a Module (or an Input past the first position).
            ShapeError: the layer does not accept the previous layer's output shape.
        """
        vt = _Graph.variable_type
        if vt is not None and isinstance(layer, vt):  # Keras: Sequential([keras.Input(...), ...])
            if self._layers:
                raise TypeError(f"{self.name}: an Input (tidu.Input / keras.Input) can only be "
                                f"the first entry of a Sequential, got one at position "
                                f"{len(self._layers)}")
            self._build_input_shape = tuple(layer.static_shape)
            return
        if not isinstance(layer, Module):
            raise TypeError(f"{self.name}: add() takes a layer (a tidu.nn.Module), got "
                            f"{type(layer).__name__}")
        index = len(self._layers)
        key = str(index) if name is None else name
        if not isinstance(key, str) or not key or "." in key or key in self.__dict__:
            raise ValueError(f"{self.name}: layer name {key!r} must be a new non-empty string "
                             "without '.'")
        if index == 0 and self._build_input_shape is None and layer.input_shape is not None:
            self._build_input_shape = (None, *layer.input_shape[1:])
        setattr(self, key, layer)
        self._layers.append(layer)
        self._names.append(key)
        if self._build_input_shape is not None:
            try:
                self._build_layers(self._build_input_shape)
            except Exception:
                self.pop()
                raise

    def pop(self) -> Module:
        """Remove and return the last layer."""
        if not self._layers:
            raise IndexError(f"{self.name}: pop() on a Sequential with no layers")
        layer = self._layers.pop()
        delattr(self, self._names.pop())
        return layer

    def _build_layers(self, shape: tuple) -> None:
        """Build every unbuilt layer by propagating ``shape`` (stops at a layer that cannot
        tell its output shape; those after it build on the first call)."""
        for layer in self._layers:
            if not layer.built:
                layer.build(shape)
            try:
                shape = layer.compute_output_shape(shape)
            except NotImplementedError:
                return

    def build(self, input_shape) -> None:
        """Build all layers for inputs of ``input_shape`` (batch axis first, e.g. (None, 784))."""
        self._build_layers(normalize_shape(input_shape))

    @property
    def layers(self) -> list:
        """The layers, in order (a new list)."""
        return list(self._layers)

    def __getitem__(self, index):
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)

    def forward(self, x):
        if self._build_input_shape is None and isinstance(x, Tensor) and x.ndim:
            self._build_input_shape = (None, *x.shape[1:])
        for layer in self._layers:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape) -> tuple:
        shape = normalize_shape(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict:
        config = {"name": self.name, "layers": [serialize(layer) for layer in self._layers]}
        if self._names != [str(i) for i in range(len(self._names))]:
            config["layer_names"] = list(self._names)  # Sequential(OrderedDict(...))
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        from ... import registry  # one lookup of names to classes (registered ones only)

        layers = [registry.resolve("layer", c) for c in config.get("layers", [])]
        names = config.get("layer_names")
        model = cls(dict(zip(names, layers)) if names is not None else layers,
                    name=config.get("name"))
        shape = config.get("build_input_shape")
        if shape is not None and model._build_input_shape is None:
            model._build_input_shape = normalize_shape(shape)
            model._build_layers(model._build_input_shape)
        return model


def _check_key(owner: Module, key, kind: str) -> str:
    if not isinstance(key, str) or not key or "." in key:
        raise KeyError(f"{owner.name}: {kind} keys must be non-empty strings without '.', "
                       f"got {key!r}")
    d = owner.__dict__
    if key in d and key not in d["_child_names"] and key not in d["_param_names"] or (
            key not in d and hasattr(type(owner), key)):
        raise KeyError(f"{owner.name}: key {key!r} would hide the attribute of that name; "
                       "choose another key")
    return key


class ModuleDict(Module):
    """A dict of Modules whose parameters are registered under their keys (PyTorch's
    ``nn.ModuleDict``); insertion order is kept.

    >>> import tidu
    >>> heads = tidu.nn.ModuleDict({"a": tidu.nn.Linear(2, 1), "b": tidu.nn.Linear(2, 3)})
    >>> list(heads), [n for n, _ in heads.named_parameters()][:2]
    (['a', 'b'], ['a.weight', 'a.bias'])
    """

    def __init__(self, modules=None, name: str | None = None):
        super().__init__(name=name)
        self._keys: list = []
        self.update(modules or {})

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{self.name}: can only hold Modules, got {type(module).__name__} "
                            f"for key {key!r}")
        _check_key(self, key, "ModuleDict")
        setattr(self, key, module)
        if key not in self._keys:
            self._keys.append(key)

    def __getitem__(self, key: str) -> Module:
        if key not in self._keys:
            raise KeyError(f"{self.name}: no module under key {key!r}; keys: {self._keys}")
        return getattr(self, key)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the KeyError names the keys
        delattr(self, key)
        self._keys.remove(key)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(list(self._keys))

    def keys(self) -> list:
        return list(self._keys)

    def values(self) -> list:
        return [self[k] for k in self._keys]

    def items(self) -> list:
        return [(k, self[k]) for k in self._keys]

    def update(self, modules) -> None:
        """Add (or replace) the modules of a dict or of (key, module) pairs."""
        for key, module in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = module

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def forward(self, x, *args, **kwargs):
        raise NotImplementedError("a ModuleDict has no forward(); index it by key instead")


class ParameterList(Module):
    """A list of Parameters registered as '0', '1', ... (PyTorch's ``nn.ParameterList``);
    arrays and Tensors appended become Parameters.

    >>> import tidu
    >>> ps = tidu.nn.ParameterList([tidu.zeros((2,)), tidu.ones((3,))])
    >>> [(n, p.shape) for n, p in ps.named_parameters()]
    [('0', (2,)), ('1', (3,))]
    """

    def __init__(self, parameters=None, name: str | None = None):
        super().__init__(name=name)
        self._items: list = []
        for p in parameters or ():
            self.append(p)

    @staticmethod
    def _as_parameter(value) -> Parameter:
        return value if isinstance(value, Parameter) else Parameter(value)

    def append(self, value) -> ParameterList:
        """Add ``value`` (a Parameter, or data made into one) at the end."""
        p = self._as_parameter(value)
        setattr(self, str(len(self._items)), p)
        self._items.append(p)
        return self

    def extend(self, values) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, index):
        return self._items[index]

    def __setitem__(self, index: int, value) -> None:
        i = range(len(self._items))[index]  # IndexError for a bad index
        p = self._as_parameter(value)
        setattr(self, str(i), p)
        self._items[i] = p

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def forward(self, x, *args, **kwargs):
        raise NotImplementedError("a ParameterList has no forward(); iterate over it instead")
