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

from .. import backend
from ..autograd import enable_grad
from ..tensor import Tensor
from . import clip as clip_mod
from . import finite
from .arguments import check_number, check_rate, is_rate, opt_positive
from .finite import NonFiniteUpdateError
from .groups import ParamGroupsMixin
from .state_io import BASE_KEYS, StateDictMixin

xp = backend.xp

class Optimizer(ParamGroupsMixin, StateDictMixin):
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
        if is_rate(params):
            if lr is not None or learning_rate is not None:
                raise TypeError(f"{name}: the first argument is the parameters or the learning "
                                f"rate; got a rate ({params!r}) and also lr/learning_rate")
            params, lr = None, params
        if lr is not None and learning_rate is not None:
            raise TypeError(f"{name}: give lr or its alias learning_rate, not both "
                            f"(got lr={lr!r}, learning_rate={learning_rate!r})")
        if lr is None:
            lr = learning_rate if learning_rate is not None else self.defaults["learning_rate"]
        lr = check_rate(name, lr)
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
        self.clipnorm = opt_positive(name, "clipnorm", clipnorm)
        self.clipvalue = opt_positive(name, "clipvalue", clipvalue)
        self.global_clipnorm = opt_positive(name, "global_clipnorm", global_clipnorm)
        self._params: list[Tensor] | None = None
        self._state: list[dict] = []
        self._seen: list = []  # each parameter's array at the last step (moves are noticed)
        self._buffers: list = []  # per parameter: finite.StepBuffers, or None
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
            self._forget_arrays()
            return
        self._params = params
        self._regroup(params)
        self._state = [{s: self._slot_init(s, p.data) for s in self._slot_names()}
                       for p in params]
        self._forget_arrays()
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load_state_dict(pending)

    def _forget_arrays(self) -> None:
        """Drop the scratch arrays and the record of each parameter's array: the next step
        checks every parameter's device again (after build, loading, new groups)."""
        n = len(self._params or ())
        self._seen, self._buffers = [None] * n, [None] * n

    def _follow(self, i: int) -> None:
        """Parameter ``i`` has a new array (moved, cast or replaced): move its state to the
        array's device and let its scratch arrays be made anew beside it."""
        data = self._params[i].data
        dev = backend.device_of(data)
        slots = self._state[i]
        for k, a in slots.items():
            if backend.is_array(a) and backend.device_of(a) != dev:
                slots[k] = backend.to_device(a, dev)
        self._seen[i], self._buffers[i] = data, None

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
        self._learning_rate = check_rate(name, value)

    lr = learning_rate

    # ----- the update -----
    def _update(self, w, g, state: dict, lr: float, t: int) -> None:
        """The rule in place: change ``w`` and the arrays of ``state`` (``t`` counts from 1)."""
        raise NotImplementedError

    _increment = None
    """Optionally, the rule in propose form, ``(g, state, new, tmp, lr, t) -> (sign,
    increment)``: write the new state into the arrays of ``new`` (``state`` itself, or
    spares), use ``tmp`` (the parameter's shape and dtype) as scratch, read neither ``w``
    nor write ``state``; the step then does ``w += sign * increment``. A rule that offers
    it gets the copy-free finite check (:mod:`tidu.optim.finite`)."""

    _fused = None
    """Optionally, the rule as one compiled loop (:mod:`tidu.accel`), ``(kernels, g, w,
    state, new, out, lr, t, dec) -> count of non-finite values written, or None`` (None:
    this configuration has no kernel, the NumPy rule runs). Arrays are flat and contiguous,
    of one dtype; ``out`` receives ``w * dec - increment``. It must give the bits of
    ``_increment``."""

    def step(self, closure=None):
        """Apply one update to every parameter that has a gradient.

        Args:
            closure: optional function that recomputes the loss (with ``backward``) and
                returns it, as in PyTorch; it is called first and its value returned.

        The result is checked: if any updated parameter or state array would hold NaN or
        inf, nothing changes (weights, state and step count stay as they were) and
        :class:`NonFiniteUpdateError` names the parameter. The built-in rules write the new
        state into spare arrays and the increment into scratch, check them with one dot
        product per array, then swap the state in (see :mod:`tidu.optim.finite`): no
        copies, memory for one more copy of the weights and state kept between steps.
        Set ``check_finite`` to False on an instance to skip the check.

        A parameter whose array was replaced since the last step (``model.to(device)``)
        gets its state moved to the array's device first.

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
        plan = self._plan
        plain = (self.check_finite and self.clipnorm is None and self.global_clipnorm is None
                 and self.clipvalue is None)
        if plan is not None and plan.params is params and plain:
            t = self._iterations + 1
            if plan.step(self, self._group_rates(), t):
                self._stamp(range(len(params)))
                self._iterations = t
                return loss
        # frozen parameters (requires_grad False, e.g. layer.trainable = False) are skipped:
        # neither they nor their slots change, even if they hold a stale gradient
        seen, idx, grads = self._seen, [], []
        for i, p in enumerate(params):
            gt = p.grad
            if gt is None or not p._requires_grad:
                continue
            if seen[i] is not p.data:  # moved, cast or replaced since the last step
                self._follow(i)
            idx.append(i)
            grads.append(gt.data)
        if not idx:
            raise ValueError(f"{type(self).__name__}.step: none of the {len(params)} "
                             "parameters has a gradient (frozen ones are skipped); call "
                             "loss.backward() before step()")
        if self.clipnorm is not None:
            grads = [clip_mod.clip_by_norm(g, self.clipnorm) for g in grads]
        elif self.global_clipnorm is not None:
            grads = clip_mod.clip_by_global_norm(grads, self.global_clipnorm)
        elif self.clipvalue is not None:
            grads = clip_mod.clip_by_value(grads, self.clipvalue)
        rates = self._group_rates()
        t = self._iterations + 1
        self._plan = None
        if not self.check_finite:
            finite.unchecked_step(self, params, idx, grads, rates, t)
        elif self._increment is None:
            finite.copying_checked_step(self, params, idx, grads, rates, t)
        elif finite.checked_step(self, params, idx, grads, rates, t) and plain \
                and len(idx) == len(params) and not any(wd for _, wd in rates):
            self._plan = finite.CompiledPlan(self, params)  # the next steps take it
        self._stamp(idx)
        self._iterations = t
        return loss

    _plan = None  # a finite.CompiledPlan, set by a step that can hand over to one

    def _stamp(self, idx) -> None:
        """Graphs recorded before this step can no longer backward: one version stamp for
        all the parameters the step changed (what safety.bump_version does for each)."""
        _State.epoch += 1
        stamp = _State.epoch
        params = self._params
        for i in idx:
            p = params[i]
            p._version += 1
            p._stamp = stamp

    check_finite = True
    """Undo and refuse a step whose result holds NaN or inf (see :meth:`step`)."""

    def __repr__(self) -> str:
        lr = self._learning_rate
        parts = [f"learning_rate={lr!r}"]
        parts += [f"{k}={getattr(self, k)!r}" for k in self.hyper]
        parts += [f"{k}={getattr(self, k)!r}" for k in BASE_KEYS
                  if getattr(self, k) not in (None, 0.0) or k == "weight_decay"
                  and self.decoupled_weight_decay]
        return f"{type(self).__name__}({', '.join(parts)})"


from ..safety import _State  # noqa: E402

_trace = None  # tidu.compile.trace, imported on the first step (it imports the optimizers)


def _trace_effect(kind: str, opt) -> bool:
    """Hand ``kind`` to an active ``tidu.compile.jit`` trace; False when none is active."""
    global _trace
    if _trace is None:
        from ..compile import trace

        _trace = trace
    return bool(_trace._ACTIVE) and _trace.trace_effect(kind, opt)


# names this module had before it was split (kept importable from here)
_BASE_KEYS = BASE_KEYS
_check_rate, _is_rate, _opt_positive = check_rate, is_rate, opt_positive
_all_finite = finite.all_finite

__all__ = ["NonFiniteUpdateError", "Optimizer", "check_number"]
