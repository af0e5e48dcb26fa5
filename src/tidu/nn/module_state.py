"""What a Module saves and restores: its weights as arrays, and its configuration.

:class:`StateMixin` holds Keras's weight lists (``weights``, ``trainable_weights``,
``non_trainable_weights``), ``count_params``, ``get_weights`` / ``set_weights``, PyTorch's
``state_dict`` / ``load_state_dict`` (which reports :class:`IncompatibleKeys`), and
``get_config`` / ``from_config``. :class:`tidu.nn.Module` inherits it, so these are Module's
methods as before (found through its bases, no extra call), and :mod:`tidu.nn.module`
re-exports ``IncompatibleKeys``. Its own module to keep module.py short.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

from .. import backend
from ..errors import ShapeError
from ..safety import bump_version
from ..tensor import Tensor
from ._utils import serialize

if TYPE_CHECKING:
    from .module import Module

xp = backend.xp


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list


class StateMixin:
    """Weights as arrays, state dicts and configs for :class:`tidu.nn.Module`."""

    # ----- weights as arrays -----
    @property
    def weights(self) -> list:
        """Keras's name for ``parameters()``."""
        return self.parameters()

    @property
    def trainable_weights(self) -> list:
        """The parameters that training updates (``requires_grad``), in order (Keras)."""
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list:
        """The frozen parameters (``requires_grad`` False), in order (Keras)."""
        return [p for p in self.parameters() if not p.requires_grad]

    def count_params(self) -> int:
        """The number of scalars in all the weights (Keras); the module must be built."""
        self._try_build()
        if not self.built:
            raise ValueError(f"count_params: '{self.name}' is not built, so its weights do "
                             "not exist yet: call it on a batch or give input_shape first")
        return int(sum(p.size for p in self.parameters()))

    def get_weights(self) -> list:
        """Copies of the parameters' arrays as NumPy arrays, in ``parameters()`` order (Keras)."""
        return [backend.to_host(p.data).copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        """Copy a list of arrays (as from ``get_weights()``) into the parameters, in order."""
        self._try_build()
        names = [n for n, _ in self.named_parameters()]
        weights = list(weights)
        if len(weights) != len(names):
            raise ValueError(f"set_weights: '{self.name}' has {len(names)} weights {names}, "
                             f"got {len(weights)} arrays")
        self.load_state_dict(dict(zip(names, weights)))

    def state_dict(self) -> OrderedDict:
        """Parameter name -> a copy of its array, in ``named_parameters()`` order."""
        return OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())

    def _try_build(self) -> None:
        shape = self.input_shape
        if not self.built and shape is not None:
            self.build(shape)

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the existing parameters (in place), checking names and shapes.

        Nothing is copied unless every check passes.

        Args:
            state: mapping name -> array (or Tensor), as returned by ``state_dict()``.
            strict: require exactly the module's parameter names; with False, missing and
                unexpected names are skipped and reported.

        Returns:
            IncompatibleKeys(missing_keys, unexpected_keys).

        Raises:
            ValueError: the module is not built and cannot build, or (strict) a name is
                missing or unexpected.
            ShapeError: an array's shape differs from its parameter's.
        """
        self._try_build()
        if not self.built:
            raise ValueError(
                f"load_state_dict: '{self.name}' is not built, so its weights do not exist "
                "yet: build the model first (call it on a batch or give input_shape)"
            )
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unexpected:
                parts.append(f"unexpected {unexpected}")
            raise ValueError(
                f"load_state_dict: the weights do not match '{self.name}': {'; '.join(parts)} "
                f"(the model has {list(own)}); pass strict=False to load the common names"
            )
        arrays = {}
        for k, p in own.items():
            if k not in state:
                continue
            v = state[k]
            v = backend.asarray_like(v.data if isinstance(v, Tensor) else v, p.data)
            if v.shape != p.data.shape:
                raise ShapeError(
                    f"load_state_dict: parameter '{k}' of '{self.name}' has shape "
                    f"{p.data.shape} but the state gives shape {v.shape}"
                )
            if not xp.can_cast(v.dtype, p.data.dtype, "same_kind"):
                raise TypeError(
                    f"load_state_dict: parameter '{k}' of '{self.name}' is {p.data.dtype} but "
                    f"the state gives {v.dtype}, which does not cast to it (same_kind)"
                )
            arrays[k] = v
        for k, v in arrays.items():
            xp.copyto(own[k].data, v, casting="same_kind")
            bump_version(own[k])
        return IncompatibleKeys(missing, unexpected)

    # ----- configuration -----
    def get_config(self) -> dict:
        """The constructor arguments as a dict (objects in ``{'class_name', 'config'}`` form).

        ``type(m).from_config(m.get_config())`` makes a fresh module of the same
        architecture (new weights).
        """
        config = {k: serialize(v) for k, v in (self._init_config or {}).items()}
        config["name"] = self.name
        if not self.trainable:  # Keras's key; written only when False
            config["trainable"] = False
        return config

    @classmethod
    def from_config(cls, config: dict) -> Module:
        """A new module made from ``get_config()``'s output."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        module = cls(**config)
        if not trainable:
            module.trainable = False
        return module
