"""Optimizer: the thin stateful class every algorithm shares.

An algorithm is a pure update rule (``sgd_update``, ``adam_update``, ...) that changes one
parameter array and its state arrays in place; the class around it keeps the parameters, one
state dict per parameter POSITION (never keyed by object identity, so the state can be saved
and loaded into a fresh model), the step count and the hyperparameters.

Both styles work::

    opt = tidu.optim.SGD(model.parameters(), lr=0.1)      # PyTorch style
    loss.backward(); opt.step(); opt.zero_grad()

    model.compile(optimizer=tidu.optim.SGD(learning_rate=0.01), loss="mse")   # Keras style
    # (fit calls opt.build(model.parameters()))

One ``step()``: gather the gradients (parameters whose ``.grad`` is None are skipped), clip
them (``clipnorm`` / ``global_clipnorm`` / ``clipvalue``), take the learning rate (a float, or
a schedule evaluated at ``iterations``), apply weight decay, apply the update rule, count the
step. Gradients are never modified. A step whose result is not finite (a NaN/inf gradient,
or an update that overflows) is undone and raises :class:`NonFiniteUpdateError`: see
:meth:`Optimizer.step`.
"""

from __future__ import annotations

import math

from .. import backend
from ..autograd import enable_grad
from ..errors import TiduError
from ..tensor import Tensor
from . import clip as clip_mod
from . import schedules

xp = backend.xp

_BASE_KEYS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")


class NonFiniteUpdateError(TiduError, FloatingPointError):
    """An optimizer step would have made a parameter or its state NaN or infinite; the step
    was undone (weights, state and step count are as before it). ``index`` is the
    parameter's position in the optimizer, ``name`` its name (or None), ``parameter`` a
    description of it (position, name and shape)."""

    def __init__(self, message: str, index: int | None = None, name: str | None = None,
                 parameter: str | None = None):
        super().__init__(message)
        self.index, self.name, self.parameter = index, name, parameter


def check_number(owner: str, name: str, value, low: float = 0.0, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float after checking it is a real number in the given interval."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and \
            (value < high if high_open else value <= high)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{owner}: {name} must be a number in {lo}{low}, {high}{hi}, "
                         f"got {value!r}")
    return float(value)


class Optimizer:
    """Base class: parameters, per-position state, step count, clipping, weight decay.

    Subclasses set ``defaults`` (the Keras default learning rate) and ``hyper`` (names of
    their own hyperparameters, also ``get_config`` keys), and write ``_slot_names()`` (the
    state arrays they keep per parameter; ``_slot_init`` gives their start, zeros by
    default) and ``_update(w, g, state, lr, t)`` (``t`` counts steps from 1).

    Args:
        params: the parameters to train (Tensors), now or later through :meth:`build`.
            A number or a schedule in this position is taken as the learning rate
            (``SGD(0.1)``, as in Keras). Or, as in PyTorch, a list of parameter groups:
            dicts ``{'params': [...], 'lr': ..., 'weight_decay': ...}`` whose missing
            ``lr`` / ``weight_decay`` take the optimizer's (see :attr:`param_groups`).
        lr: learning rate: a float or a schedule ``step -> float``
            (see :mod:`tidu.optim.schedules`). ``learning_rate`` is an alias.
        weight_decay: L2 penalty coefficient. Coupled (added to the gradient,
            ``g += weight_decay * w``, as PyTorch's ``weight_decay``) in SGD, RMSprop, Adam
            and Adagrad; decoupled (``w -= lr * weight_decay * w`` before the update) in
            AdamW. (Keras 3 decouples it in every optimizer; tidu follows PyTorch here.)
        clipnorm: clip each parameter's gradient to this L2 norm (Keras).
        clipvalue: clip each gradient element into ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this joint L2 norm (Keras; as
            ``torch.nn.utils.clip_grad_norm_`` without its 1e-6). At most one of the three
            clipping options may be set.
    """

    defaults: dict = {"learning_rate": 0.01}
    hyper: tuple = ()
    decoupled_weight_decay = False

    def __init__(self, params=None, lr=None, *, learning_rate=None, weight_decay: float = 0.0,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None):
        name = type(self).__name__
        if _is_rate(params):
            if lr is not None or learning_rate is not None:
                raise TypeError(f"{name}: the first argument is the parameters or the learning "
                                f"rate; got a rate ({params!r}) and also lr/learning_rate")
            params, lr = None, params
        if lr is not None and learning_rate is not None:
            raise TypeError(f"{name}: give lr or its alias learning_rate, not both "
                            f"(got lr={lr!r}, learning_rate={learning_rate!r})")
        if lr is None:
            lr = learning_rate if learning_rate is not None else self.defaults["learning_rate"]
        lr = _check_rate(name, lr)
        weight_decay = check_number(name, "weight_decay", weight_decay)
        self.param_groups: list[dict] = [{"params": [], "lr": lr, "weight_decay": weight_decay}]
        """The parameter groups, as in PyTorch: dicts with ``params`` (a list of Tensors),
        ``lr`` (a float or a schedule) and ``weight_decay``. Setting a group's ``lr`` or
        ``weight_decay`` takes effect at the next step (schedulers do this)."""
        self._group_of: list[int] = []
        self._group_defaults = (lr, weight_decay)
        given = [k for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(given) > 1:
            raise ValueError(f"{name}: set at most one of clipnorm, clipvalue and "
                             f"global_clipnorm, got {given}")
        self.clipnorm = _opt_positive(name, "clipnorm", clipnorm)
        self.clipvalue = _opt_positive(name, "clipvalue", clipvalue)
        self.global_clipnorm = _opt_positive(name, "global_clipnorm", global_clipnorm)
        self._params: list[Tensor] | None = None
        self._state: list[dict] = []
        self._iterations = 0
        self._pending: dict | None = None
        if params is not None:
            params = list(params)
            if params and all(isinstance(g, dict) for g in params):
                params = self._set_groups(params, lr, weight_decay)
            if not params:
                raise ValueError(
                    f"{name}: got an empty parameter list. If the model's layers are built "
                    "lazily, call the model once first, or create the optimizer without "
                    "parameters and let fit (or opt.build(params)) attach them")
            self.build(params)

    # ----- parameter groups -----
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
                         "lr": _check_rate(f"{name} (group {j})", g.get("lr", lr)),
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
            lr = _check_rate(f"{name} (param_groups[{j}])", lr)
            lr = float(lr(self._iterations)) if callable(lr) else lr
            out.append((lr, check_number(f"{name} (param_groups[{j}])", "weight_decay", wd)))
        return out

    # ----- parameters and state -----
    def _slot_names(self) -> tuple:
        """Names of the state arrays kept per parameter (all start at zero by default)."""
        return ()

    def _slot_init(self, slot: str, w):
        return xp.zeros_like(w)

    @property
    def built(self) -> bool:
        return self._params is not None

    @property
    def params(self) -> list:
        """The parameters this optimizer updates (empty until built)."""
        return list(self._params or [])

    def build(self, params) -> None:
        """Attach the parameters and create their state (zeros, or the algorithm's start).

        Calling it again with parameters of the same number and shapes (the same model, or
        a fresh copy of it) keeps the state: state belongs to positions, not objects.

        Raises:
            TypeError: an element is not a Tensor.
            ValueError: already built for a different number or shapes of parameters.
        """
        name = type(self).__name__
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}.build: parameters must be tidu Tensors (e.g. "
                                f"model.parameters()), got {type(p).__name__} at position {i}")
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            j = seen.setdefault(id(p), i)
            if j != i:
                raise ValueError(f"{name}.build: the same parameter appears at positions {j} "
                                 f"and {i}; it would be updated twice per step")
        if self._params:
            old = [tuple(p.shape) for p in self._params]
            new = [tuple(p.shape) for p in params]
            if old != new:
                raise ValueError(
                    f"{name}.build: this optimizer was built for {len(old)} parameters of "
                    f"shapes {old}, got {len(new)} of shapes {new}; create a new optimizer "
                    "for a different model")
            self._params = params
            self._regroup(params)
            return
        self._params = params
        self._regroup(params)
        self._state = [{s: self._slot_init(s, p.data) for s in self._slot_names()}
                       for p in params]
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load_state_dict(pending)

    def _regroup(self, params: list) -> None:
        if len(self._group_of) != len(params):  # plain parameters: one group
            self._group_of = [0] * len(params)
        for g in self.param_groups:
            g["params"] = []
        for j, p in zip(self._group_of, params):
            self.param_groups[j]["params"].append(p)

    def _require_built(self) -> list:
        if self._params is None:
            raise RuntimeError(f"{type(self).__name__}: no parameters yet; pass them when "
                               "creating the optimizer or call opt.build(model.parameters())")
        return self._params

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the parameters (``.grad = None``; or fresh zeros)."""
        if _trace_effect("zero_grad", self):
            return
        for p in self._params or ():
            if p.grad is not None:
                p.grad = None if set_to_none else Tensor(xp.zeros_like(p.data))

    # ----- learning rate and counters -----
    @property
    def iterations(self) -> int:
        """Number of updates applied so far."""
        return self._iterations

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a schedule is evaluated at ``iterations``).

        Settable to a number (e.g. by ``ReduceLROnPlateau``) unless a schedule is in use;
        settable to a schedule at any time.
        """
        lr = self._learning_rate
        return float(lr(self._iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        name = type(self).__name__
        if callable(self._learning_rate) and not callable(value):
            raise TypeError(
                f"{name}: the learning rate follows the schedule {self._learning_rate!r} and "
                f"cannot be set to the number {value!r}; assign a new schedule, or create "
                "the optimizer with a float learning rate to change it during training")
        self._learning_rate = _check_rate(name, value)

    lr = learning_rate

    # ----- the update -----
    def _update(self, w, g, state: dict, lr: float, t: int) -> None:
        raise NotImplementedError

    def step(self, closure=None):
        """Apply one update to every parameter that has a gradient.

        Args:
            closure: optional function that recomputes the loss (with ``backward``) and
                returns it, as in PyTorch; it is called first and its value returned.

        The result is checked: if any updated parameter or state array holds NaN or inf
        afterwards, every array is put back as it was (bit for bit), the step count is not
        advanced, and :class:`NonFiniteUpdateError` names the parameter. The cost, paid on
        every step while ``check_finite`` is True (the default; set it to False on an
        instance to skip): one copy of the updated weights and state taken before the
        update (memory for one more copy of them during the step), and one ``isfinite``
        pass over each of them afterwards: about as much time again as a plain RMSprop
        step, which is around 2% of a training step of Text B's 784-512-10 network.

        Raises:
            RuntimeError: the optimizer has no parameters yet.
            ValueError: none of the parameters has a gradient.
            NonFiniteUpdateError: the update was not finite, and was not applied.
        """
        if closure is None and _trace_effect("step", self):
            return None  # inside tidu.compile.jit: replayed after each run of the plan
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        params = self._require_built()
        # frozen parameters (requires_grad False, e.g. layer.trainable = False) are skipped:
        # neither they nor their slots change, even if they hold a stale gradient
        idx = [i for i, p in enumerate(params) if p.grad is not None and p._requires_grad]
        if not idx:
            raise ValueError(f"{type(self).__name__}.step: none of the {len(params)} "
                             "parameters has a gradient (frozen ones are skipped); call "
                             "loss.backward() before step()")
        grads = [params[i].grad.data for i in idx]
        if self.clipnorm is not None:
            grads = [clip_mod.clip_by_norm(g, self.clipnorm) for g in grads]
        elif self.global_clipnorm is not None:
            grads = clip_mod.clip_by_global_norm(grads, self.global_clipnorm)
        elif self.clipvalue is not None:
            grads = clip_mod.clip_by_value(grads, self.clipvalue)
        rates = self._group_rates()
        t = self._iterations + 1
        state, group_of, update = self._state, self._group_of, self._update
        decoupled = self.decoupled_weight_decay
        if self.check_finite:
            # checked: NumPy's overflow warnings (or errors, under np.seterr) would only
            # repeat what the check reports, or interrupt an update halfway
            saved, used = [], []
            with xp.errstate(over="ignore", invalid="ignore"):
                for i, g in zip(idx, grads):
                    lr, wd = rates[group_of[i]]
                    w = params[i].data
                    slots = state[i]
                    saved.append((i, w.copy(),
                                  {k: a.copy() for k, a in slots.items()} if slots else {}))
                    if wd:
                        if decoupled:
                            w *= 1.0 - lr * wd
                        else:
                            g = g + wd * w
                    used.append(g)
                    update(w, g, slots, lr, t)
                # one dot product per array and one test per step: a finite sum of squares
                # means finite elements (NaN and inf propagate); an overflowing sum only
                # sends us to the exact per-parameter check
                finite = _sum_finite([params[i].data for i in idx], state, idx)
            if not finite:
                for (i, _, _), g, entry in zip(saved, used, saved):
                    if not _all_finite(params[i].data, *state[i].values()):
                        err = self._non_finite_error(i, g, entry)
                        self._undo(saved)
                        raise err
        else:
            for i, g in zip(idx, grads):
                lr, wd = rates[group_of[i]]
                w = params[i].data
                if wd:
                    if decoupled:
                        w *= 1.0 - lr * wd
                    else:
                        g = g + wd * w
                update(w, g, state[i], lr, t)
        # graphs recorded before this step can no longer backward (one version stamp for
        # all the parameters this step changed: what safety.bump_version does for each)
        _State.epoch += 1
        stamp = _State.epoch
        for i in idx:
            p = params[i]
            p._version += 1
            p._stamp = stamp
        self._iterations = t
        return loss

    check_finite = True
    """Undo and refuse a step whose result holds NaN or inf (see :meth:`step`)."""

    def _undo(self, saved: list) -> None:
        for i, w, slots in saved:
            xp.copyto(self._params[i].data, w)
            for k, a in slots.items():
                xp.copyto(self._state[i][k], a)

    def _non_finite_error(self, i: int, g, saved) -> NonFiniteUpdateError:
        p = self._params[i]
        _, w_old, slots_old = saved
        label = f"parameter {i}" + (f" ({p.name!r})" if p.name else "") + \
            f" of shape {tuple(p.shape)}"
        if not _all_finite(w_old, *slots_old.values()):
            why = ("it already held NaN/inf before this step (set outside the optimizer, or "
                   "loaded from a file)")
        elif not _all_finite(g):
            why = "its gradient holds NaN/inf"
        else:
            why = ("the gradient is finite but the update overflowed; lower the learning "
                   "rate, or clip the gradients (clipnorm=...)")
        bad = (["weights"] if not _all_finite(p.data) else []) + \
            [f"state {k!r}" for k, a in self._state[i].items() if not _all_finite(a)]
        return NonFiniteUpdateError(
            f"{type(self).__name__}.step: the update of {label} would make its "
            f"{' and '.join(bad)} NaN or infinite: {why}. The step was not applied (all "
            "parameters and the optimizer state are unchanged).", index=i, name=p.name,
            parameter=label)

    # ----- saving and configuration -----
    def get_config(self) -> dict:
        """Hyperparameters as plain data (a schedule as ``{'class_name', 'config'}``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        config = {"learning_rate": lr}
        config.update({k: getattr(self, k) for k in (*self.hyper, *_BASE_KEYS)})
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
        hyper = {k: getattr(self, k) for k in (*self.hyper, *_BASE_KEYS)}
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
        self._iterations = int(it)
        for k in (*self.hyper, *_BASE_KEYS):
            setattr(self, k, getattr(fresh, k))
        lr = state_dict.get("learning_rate")
        if lr is not None:
            self._learning_rate = _check_rate(name, lr)
        for k, g in enumerate(self.param_groups if groups is not None else ()):
            s = groups.get(str(k), groups.get(k))
            if s is None or s.get("num_params", len(g["params"])) != len(g["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {k} does not match "
                                 f"(saved {s!r:.80}, this group has {len(g['params'])} "
                                 "parameters)")
            if s.get("lr") is not None:
                g["lr"] = _check_rate(name, s["lr"])
            g["weight_decay"] = check_number(name, "weight_decay", s["weight_decay"])

    def __repr__(self) -> str:
        lr = self._learning_rate
        parts = [f"learning_rate={lr!r}"]
        parts += [f"{k}={getattr(self, k)!r}" for k in self.hyper]
        parts += [f"{k}={getattr(self, k)!r}" for k in _BASE_KEYS
                  if getattr(self, k) not in (None, 0.0) or k == "weight_decay"
                  and self.decoupled_weight_decay]
        return f"{type(self).__name__}({', '.join(parts)})"


_INF = math.inf
_vdot = xp.vdot  # flattens: one BLAS dot over all the elements


def _sum_finite(weights: list, state: list, idx: list) -> bool:
    """False when some floating array among the weights and their state may hold NaN or inf.

    True only if each array's sum of squares (one BLAS dot product over its elements,
    cheaper than ``isfinite``) is finite: NaN and inf propagate through it, so a finite
    total means finite elements. A False may come from a sum that merely overflowed; the
    caller then checks each array exactly.
    """
    total = 0.0
    for w in weights:
        total += _square_sum(w)
    for i in idx:
        for a in state[i].values():
            total += _square_sum(a)
    return math.isfinite(total)


def _square_sum(a):
    """Sum of the squares of a floating array's elements (0 for other dtypes)."""
    return _vdot(a, a) if a.dtype.kind == "f" else 0.0


def _all_finite(*arrays) -> bool:
    """Whether every floating array is free of NaN and inf (one vectorized read of each)."""
    return all(a.dtype.kind != "f" or bool(xp.isfinite(a).all()) for a in arrays)


def _is_rate(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or \
        isinstance(value, schedules.LearningRateSchedule)


def _check_rate(owner: str, value):
    if callable(value):
        return value
    if isinstance(value, xp.ndarray) and value.ndim == 0 or isinstance(value, xp.floating):
        value = float(value)
    return check_number(owner, "learning_rate", value)


def _opt_positive(owner: str, name: str, value):
    if value is None:
        return None
    return check_number(owner, name, value, low_open=True)


from ..safety import _State  # noqa: E402

_trace = None  # tidu.compile.trace, imported on the first step (it imports the optimizers)


def _trace_effect(kind: str, opt) -> bool:
    """Hand ``kind`` to an active ``tidu.compile.jit`` trace; False when none is active."""
    global _trace
    if _trace is None:
        from ..compile import trace

        _trace = trace
    return bool(_trace._ACTIVE) and _trace.trace_effect(kind, opt)
