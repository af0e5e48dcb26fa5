"""Saving and resuming an optimizer: ``get_config`` / ``from_config`` (hyperparameters) and
``state_dict`` / ``load_state_dict`` (the step count and the per-parameter state arrays)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend
from . import schedules
from .arguments import check_number, check_rate

if TYPE_CHECKING:
    from .optimizer import Optimizer

xp = backend.xp

BASE_KEYS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
"""The options every optimizer has (``get_config`` keys besides each class's ``hyper``)."""


class StateDictMixin:
    """Configuration and state of :class:`~tidu.optim.Optimizer` as plain data."""

    def get_config(self) -> dict:
        """Hyperparameters as plain data (a schedule as ``{'class_name', 'config'}``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        config = {"learning_rate": lr}
        config.update({k: getattr(self, k) for k in (*self.hyper, *BASE_KEYS)})
        return config

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def state_dict(self) -> dict:
        """Everything needed to resume: plain data, copies of the state arrays.

        Returns:
            ``{'class_name', 'iterations', 'learning_rate' (float, or None for a schedule,
            which depends only on iterations), 'hyperparameters', 'param_groups' ({str(index):
            {lr, weight_decay, num_params}}), 'state': {index:
            {slot: array}}}``.
        """
        lr = self._learning_rate
        hyper = {k: getattr(self, k) for k in (*self.hyper, *BASE_KEYS)}
        return {
            "class_name": type(self).__name__,
            "iterations": self._iterations,
            "learning_rate": None if callable(lr) else lr,
            "hyperparameters": hyper,
            "param_groups": {str(k): {"lr": None if callable(g["lr"]) else g["lr"],
                                      "weight_decay": g["weight_decay"],
                                      "num_params": len(g["params"])}
                             for k, g in enumerate(self.param_groups)},
            "state": {i: {k: a.copy() for k, a in s.items()} for i, s in enumerate(self._state)},
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; the next steps are then bit-identical.

        Before the optimizer is built the dict is checked when ``build`` attaches the
        parameters. A saved float learning rate replaces the current one (a saved schedule
        keeps the current learning rate); saved hyperparameters replace the current ones.

        Raises:
            ValueError: another optimizer class, another number of parameters, or state
                arrays of other names or shapes.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"class_name", "iterations", "state"} \
                <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected the dict returned by "
                             "state_dict() (keys class_name, iterations, state, ...), got "
                             f"{type(state_dict).__name__}")
        if state_dict["class_name"] != name:
            raise ValueError(f"{name}.load_state_dict: the state was saved from "
                             f"{state_dict['class_name']}, this optimizer is {name}")
        it = state_dict["iterations"]
        if isinstance(it, bool) or not isinstance(it, (int, xp.integer)) or it < 0:
            raise ValueError(f"{name}.load_state_dict: iterations must be an int >= 0, "
                             f"got {it!r}")
        hyper = dict(state_dict.get("hyperparameters", {}))
        fresh = type(self)(**hyper)  # validates the hyperparameters
        if self._params is None:
            self._pending = state_dict
            return
        saved = state_dict["state"]
        groups = state_dict.get("param_groups")
        if groups is not None and len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        if len(saved) != len(self._state):
            raise ValueError(f"{name}.load_state_dict: the state is for {len(saved)} "
                             f"parameters, this optimizer has {len(self._state)}")
        new_state = []
        for i, own in enumerate(self._state):
            slots = saved.get(i, saved.get(str(i)))  # str keys: the dict went through JSON
            if slots is None:
                raise ValueError(f"{name}.load_state_dict: no state for parameter {i}; "
                                 f"keys are {sorted(saved, key=str)}")
            if set(slots) != set(own):
                raise ValueError(f"{name}.load_state_dict: parameter {i} has state "
                                 f"{sorted(slots)}, expected {sorted(own)}")
            entry = {}
            for k, a in own.items():
                arr = xp.asarray(slots[k])
                if arr.shape != a.shape:
                    raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {i} "
                                     f"has shape {arr.shape}, expected {a.shape}")
                entry[k] = arr.astype(a.dtype, copy=True)
            new_state.append(entry)
        self._state = new_state
        self._forget_arrays()
        self._iterations = int(it)
        for k in (*self.hyper, *BASE_KEYS):
            setattr(self, k, getattr(fresh, k))
        lr = state_dict.get("learning_rate")
        if lr is not None:
            self._learning_rate = check_rate(name, lr)
        for k, g in enumerate(self.param_groups if groups is not None else ()):
            s = groups.get(str(k), groups.get(k))
            if s is None or s.get("num_params", len(g["params"])) != len(g["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {k} does not match "
                                 f"(saved {s!r:.80}, this group has {len(g['params'])} "
                                 "parameters)")
            if s.get("lr") is not None:
                g["lr"] = check_rate(name, s["lr"])
            g["weight_decay"] = check_number(name, "weight_decay", s["weight_decay"])
