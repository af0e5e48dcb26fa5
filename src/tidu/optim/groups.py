"""Parameter groups (PyTorch's ``param_groups``): per-group learning rate and weight decay."""

from __future__ import annotations

import math

from ..tensor import Tensor
from .arguments import check_number, check_rate

_INF = math.inf


class ParamGroupsMixin:
    """The ``param_groups`` side of :class:`~tidu.optim.Optimizer`: making groups from
    PyTorch-style dicts, ``add_param_group``, one rate for every group (Keras style) and the
    checked (lr, weight_decay) of each group for a step."""

    def _set_groups(self, groups: list, lr, weight_decay: float) -> list:
        """Make ``param_groups`` from PyTorch-style dicts; the flat list of their params."""
        name = type(self).__name__
        made, flat, owner = [], [], []
        for j, g in enumerate(groups):
            unknown = sorted(set(g) - {"params", "lr", "weight_decay"})
            if "params" not in g or unknown:
                raise ValueError(
                    f"{name}: parameter group {j} must have 'params' and may set 'lr' and "
                    f"'weight_decay'; got keys {sorted(g)}"
                    + (f" (per-group {unknown} is not supported)" if unknown else ""))
            ps = g["params"]
            ps = [ps] if isinstance(ps, Tensor) else list(ps)
            made.append({"params": ps,
                         "lr": check_rate(f"{name} (group {j})", g.get("lr", lr)),
                         "weight_decay": check_number(f"{name} (group {j})", "weight_decay",
                                                      g.get("weight_decay", weight_decay))})
            flat += ps
            owner += [j] * len(ps)
        self.param_groups, self._group_of = made, owner
        return flat

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group, as PyTorch's: ``{'params': [...], 'lr': ..., ...}``; its
        missing options take the optimizer's construction values, its parameters get fresh
        state.

        Raises:
            TypeError: not a dict, or a parameter that is not a Tensor.
            ValueError: a parameter already in the optimizer, an empty group, bad options.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict with 'params', got "
                            f"{type(param_group).__name__}")
        ps = param_group.get("params", [])
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        seen = {id(p) for p in self._params or ()}
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}.add_param_group: parameters must be tidu Tensors, "
                                f"got {type(p).__name__} at position {i}")
            if id(p) in seen:
                raise ValueError(f"{name}.add_param_group: parameter {i} of the new group is "
                                 "already in the optimizer")
            seen.add(id(p))
        if not ps:
            raise ValueError(f"{name}.add_param_group: the group has no parameters")
        old = list(self._params or [])
        if old:
            groups, defaults = self.param_groups, self._group_defaults
        else:  # the empty first group (no parameters yet) is replaced, keeping its options
            first = self.param_groups[0]
            groups, defaults = [], (first["lr"], first["weight_decay"])
        flat = self._set_groups([*groups, {**param_group, "params": ps}], *defaults)
        self._params = flat
        self._state += [{s: self._slot_init(s, p.data) for s in self._slot_names()}
                        for p in flat[len(old):]]
        self._forget_arrays()

    @property
    def _learning_rate(self):
        return self.param_groups[0]["lr"]

    @_learning_rate.setter
    def _learning_rate(self, value) -> None:
        for g in self.param_groups:  # one rate (Keras style) applies to every group
            g["lr"] = value

    @property
    def weight_decay(self) -> float:
        """The weight decay of the first parameter group; setting it sets every group's."""
        return self.param_groups[0]["weight_decay"]

    @weight_decay.setter
    def weight_decay(self, value: float) -> None:
        value = check_number(type(self).__name__, "weight_decay", value)
        for g in self.param_groups:
            g["weight_decay"] = value

    def _group_rates(self) -> list[tuple[float, float]]:
        """(lr, weight_decay) of each group for the next step, checked."""
        out = []
        for j, g in enumerate(self.param_groups):
            lr, wd = g["lr"], g["weight_decay"]
            # the common case, plain valid floats, without building the messages below
            if type(lr) is float and type(wd) is float and 0.0 <= lr < _INF and 0.0 <= wd < _INF:
                out.append((lr, wd))
                continue
            name = type(self).__name__
            lr = check_rate(f"{name} (param_groups[{j}])", lr)
            lr = float(lr(self._iterations)) if callable(lr) else lr
            out.append((lr, check_number(f"{name} (param_groups[{j}])", "weight_decay", wd)))
        return out

    def _regroup(self, params: list) -> None:
        if len(self._group_of) != len(params):  # plain parameters: one group
            self._group_of = [0] * len(params)
        for g in self.param_groups:
            g["params"] = []
        for j, p in zip(self._group_of, params):
            self.param_groups[j]["params"].append(p)
