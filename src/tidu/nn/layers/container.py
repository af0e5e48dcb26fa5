"""Sequential: layers applied one after the other."""

from __future__ import annotations

from ...tensor import Tensor
from .._utils import normalize_shape, serialize
from ..module import Module


class Sequential(Module):
    """A stack of layers; ``forward`` feeds each layer's output to the next.

    If the first layer knows its input shape (``Dense(..., input_shape=(784,))``, or a
    ``Linear``), every layer is built as it is added, so ``parameters()`` is complete at
    once; otherwise the layers are built on the first call. Layers are registered under
    their index, so weight names are '0.kernel', '0.bias', '1.kernel', ...

    Args:
        layers: the layers (Modules), in order.
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

    def __init__(self, layers=None, name: str | None = None):
        super().__init__(name=name)
        self._layers: list = []
        self._built = True  # it owns no weights: it is built when all its layers are
        if isinstance(layers, Module):
            raise TypeError(f"{self.name}: layers must be a list of layers, got a single "
                            f"{type(layers).__name__}; write Sequential([layer])")
        for layer in layers or ():
            self.add(layer)

    def add(self, layer: Module) -> None:
        """Append ``layer`` (and build it now if the input shape is known).

        Raises:
            TypeError: ``layer`` is not a Module.
            ShapeError: the layer does not accept the previous layer's output shape.
        """
        if not isinstance(layer, Module):
            raise TypeError(f"{self.name}: add() takes a layer (a tidu.nn.Module), got "
                            f"{type(layer).__name__}")
        index = len(self._layers)
        if index == 0 and self._build_input_shape is None and layer.input_shape is not None:
            self._build_input_shape = (None, *layer.input_shape[1:])
        setattr(self, str(index), layer)
        self._layers.append(layer)
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
        delattr(self, str(len(self._layers)))
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
        return {"name": self.name, "layers": [serialize(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        from ... import registry  # one lookup of names to classes (registered ones only)

        layers = [registry.resolve("layer", c) for c in config.get("layers", [])]
        return cls(layers, name=config.get("name"))
