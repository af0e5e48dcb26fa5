"""The finite check of an optimizer step: a step whose result holds NaN or inf never lands.

A checked step has three phases. Propose: each parameter's update rule writes its new state
into spare arrays (the state from two steps ago, kept for this) and its increment into a
scratch array, reading but never writing the weights and the current state. Check: one
sum of squares per array (a BLAS dot product; NaN and inf propagate through it, and a finite
total also bounds every element by the square root of the largest float, so that ``w - inc``
cannot overflow). Commit: swap the spare state in and subtract the increment from the
weights. Nothing is copied and nothing has to be undone; the cost over an unchecked step is
the dot products (about 3 memory reads per parameter for RMSprop). Only when the total is not
finite are the arrays checked exactly, to name the parameter or to clear a false alarm
(an overflowing sum of finite values).

Update rules that do not offer the propose form (an ``Optimizer`` subclass that only writes
``_update``) get the older check: a copy of the weights and state before the update, put
back if the result is not finite.
"""

from __future__ import annotations

import contextlib
import math
import types
import warnings

from .. import accel, backend
from ..errors import TiduError

xp = backend.xp
_NDARRAY = backend.xp.ndarray
_KERNEL_DTYPES = (xp.dtype(xp.float32), xp.dtype(xp.float64))
_QUIET = contextlib.nullcontext()
_NO_SLOTS = types.MappingProxyType({})  # a stateless rule's spares: read-only, none to write
_vdot = xp.vdot  # flattens: one BLAS dot over all the elements


class NonFiniteUpdateError(TiduError, FloatingPointError):
    """An optimizer step would have made a parameter or its state NaN or infinite; the step
    was not applied (weights, state and step count are as before it). ``index`` is the
    parameter's position in the optimizer, ``name`` its name (or None), ``parameter`` a
    description of it (position, name and shape)."""

    def __init__(self, message: str, index: int | None = None, name: str | None = None,
                 parameter: str | None = None):
        super().__init__(message)
        self.index, self.name, self.parameter = index, name, parameter


class StepBuffers:
    """One parameter's scratch (``tmp``, its shape and dtype), its decayed weights (AdamW),
    and a spare for each state array. A spare is used only while the state array it was
    made beside is still in place, so state replaced from outside (loading, moving) gets a
    fresh spare of its shape, dtype and device."""

    __slots__ = ("tmp", "decayed", "pairs", "kernel_ready")

    def __init__(self, w):
        self.tmp = xp.empty_like(w)
        self.decayed = None
        self.pairs: dict = {}
        # the weights suit a compiled kernel (fixed for this array: buffers are made anew
        # when a parameter gets another array)
        self.kernel_ready = (type(w) is _NDARRAY and w.dtype in _KERNEL_DTYPES
                             and w.flags.c_contiguous)

    def spares(self, slots: dict) -> dict:
        """Arrays to write the new state into, one per slot, none of them a current slot."""
        pairs, out = self.pairs, {}
        for k, a in slots.items():
            pair = pairs.get(k)
            out[k] = pair[1] if pair is not None and pair[0] is a else xp.empty_like(a)
        return out

    def swap_in(self, slots: dict, new: dict) -> None:
        """Make ``new`` the state; the arrays it replaces become the next spares."""
        pairs = self.pairs
        for k, a in new.items():
            pairs[k] = (a, slots[k])
            slots[k] = a


def buffers(opt, i: int, w) -> StepBuffers:
    b = opt._buffers[i]
    if b is None:
        b = opt._buffers[i] = StepBuffers(w)
    return b


def checked_step(opt, params: list, idx: list, grads: list, rates: list, t: int) -> bool:
    """Propose, check and commit one step (see the module docstring); raise
    :class:`NonFiniteUpdateError` with nothing changed when the result would not be finite.

    A rule with a compiled kernel (:mod:`tidu.accel`) proposes in one pass and counts the
    non-finite values as it writes them; the others run their NumPy ``_increment``.
    Returns whether every parameter took the compiled proposal (see :class:`CompiledPlan`)."""
    state, group_of, increment = opt._state, opt._group_of, opt._increment
    decoupled, bufs = opt.decoupled_weight_decay, opt._buffers
    kernels = accel.kernels("optim") if opt._fused is not None else None
    compiled, rest, plans, bad = [], [], [], 0
    for i, g in zip(idx, grads):
        lr, wd = rates[group_of[i]]
        w = params[i].data
        b = bufs[i] or buffers(opt, i, w)
        slots = state[i]
        new = b.spares(slots) if slots else _NO_SLOTS
        dec = 1.0
        if wd:
            g, dec = _decay(g, w, lr, wd, decoupled)
        if kernels is not None and b.kernel_ready:
            n = _run_kernel(opt, kernels, g, w, slots, new, b.tmp, lr, t, dec)
            if n is not None:  # b.tmp holds the new weights
                compiled.append((i, g, w, b, slots, new))
                bad += n
                continue
        rest.append((i, g, w, b, slots, new, lr, dec))
    total, exact = (math.inf if bad else 0.0), False
    # NumPy's overflow warnings (or errors, under np.seterr) would only repeat what the
    # check reports, or interrupt a proposal halfway
    with xp.errstate(over="ignore", invalid="ignore") if rest else _QUIET:
        for i, g, w, b, slots, new, lr, dec in rest:
            base = w
            if dec != 1.0:
                if b.decayed is None:
                    b.decayed = xp.empty_like(w)
                base = xp.multiply(w, dec, out=b.decayed)
            sign, inc = increment(g, slots, new, b.tmp, lr, t)
            plans.append((i, g, base, new, sign, inc))
            total += _square_sum(base)
            for a in new.values():
                total += _square_sum(a)
            if not any(inc is a for a in new.values()):  # else counted as state
                total += _square_sum(inc)
            # the bound |base| + |inc| < largest float holds in one dtype only
            exact = exact or inc.dtype != w.dtype
        if not math.isfinite(total) or exact:
            for i, g, _, b, _, new in compiled:
                _verify(opt, params, state, (i, g, None, new, 0, b.tmp))
            for plan in plans:
                _verify(opt, params, state, plan)
        for _, _, w, b, slots, new in compiled:  # the kernel's output: w's dtype and shape
            if new:
                b.swap_in(slots, new)
            w[...] = b.tmp  # (cheaper than np.copyto's argument parsing on small arrays)
        for i, _, base, new, sign, inc in plans:
            if new:
                bufs[i].swap_in(state[i], new)
            w = params[i].data
            if sign > 0:
                xp.add(base, inc, out=w)
            elif sign < 0:
                xp.subtract(base, inc, out=w)
            else:
                xp.copyto(w, inc)
    return not rest


class CompiledPlan:
    """The checked step of a model whose every parameter takes a compiled proposal, set up
    once: after such a step, the next ones check that each parameter still has its array,
    buffers and state and a gradient the kernel takes, run the kernels and commit, without
    the general path's bookkeeping (measured: about 20 of the 35 us a plain SGD step over
    four small parameters took in a training loop). Anything else (a missing gradient, a
    moved array, weight decay, a non-finite value) returns False with nothing changed, and
    the general path runs the step and reports."""

    __slots__ = ("params", "entries")

    def __init__(self, opt, params: list):
        self.params = params
        self.entries = [(i, p, p.data, opt._buffers[i], opt._state[i], opt._group_of[i])
                        for i, p in enumerate(params)]

    def step(self, opt, rates: list, t: int) -> bool:
        """One step, or False where the plan no longer applies (nothing changed then)."""
        kernels = accel.kernels("optim")
        if kernels is None:
            return False
        bufs, state = opt._buffers, opt._state
        done, bad = [], 0
        for i, p, w, b, slots, group in self.entries:
            gt = p.grad
            if (gt is None or p.data is not w or bufs[i] is not b or state[i] is not slots
                    or not p._requires_grad):
                return False
            lr, wd = rates[group]
            if wd:
                return False
            new = b.spares(slots) if slots else _NO_SLOTS
            n = _run_kernel(opt, kernels, gt.data, w, slots, new, b.tmp, lr, t, 1.0)
            if n is None:
                return False
            bad += n
            done.append((w, b, slots, new))
        if bad:  # the general path finds the parameter and raises
            return False
        for w, b, slots, new in done:
            if new:
                b.swap_in(slots, new)
            w[...] = b.tmp
        return True


def _decay(g, w, lr: float, wd: float, decoupled: bool):
    """Weight decay ``wd``: the gradient and the factor the weights are scaled by first
    (``1 - lr * wd`` when decoupled, AdamW; otherwise ``wd * w`` joins the gradient)."""
    return (g, 1.0 - lr * wd) if decoupled else (g + wd * w, 1.0)


def _run_kernel(opt, kernels, g, w, slots: dict, new: dict, out, lr, t, dec):
    """Run the rule's compiled kernel (:mod:`tidu.accel`): the count of non-finite values it
    wrote, or None where there is no kernel for these arrays (the NumPy rule runs then).
    Kernels take C-contiguous NumPy arrays of one float dtype and one shape; ``w`` is one
    (``StepBuffers.kernel_ready``), and so is ``out``, the scratch made beside it."""
    dt = w.dtype
    gt = g.dtype
    if (type(g) is not _NDARRAY or (gt is not dt and gt != dt) or g.shape != w.shape
            or not g.flags.c_contiguous):
        return None
    for k, a in slots.items():  # loaded or moved state may be anything
        b = new[k]
        if (type(a) is not _NDARRAY or a.dtype != dt or not a.flags.c_contiguous
                or a.shape != w.shape or (b is not a and not b.flags.c_contiguous)):
            return None
    return opt._fused(kernels, g, w, slots, new, out, lr, t, dec)


def _verify(opt, params, state, plan) -> None:
    """Check one proposal element by element; raise if the step would not be finite."""
    i, g, base, new, sign, inc = plan
    w_new = inc if sign == 0 else xp.add(base, inc) if sign > 0 else xp.subtract(base, inc)
    w_new = w_new.astype(params[i].data.dtype, copy=False)
    bad = (["weights"] if not all_finite(w_new) else []) + \
        [f"state {k!r}" for k, a in new.items() if not all_finite(a)]
    if bad:
        raise non_finite_error(opt, i, g, params[i].data, state[i], bad)


def unchecked_step(opt, params: list, idx: list, grads: list, rates: list, t: int) -> None:
    """One step in place, without a check (``check_finite = False``)."""
    state, group_of, increment = opt._state, opt._group_of, opt._increment
    decoupled = opt.decoupled_weight_decay
    kernels = accel.kernels("optim") if opt._fused is not None else None
    for i, g in zip(idx, grads):
        lr, wd = rates[group_of[i]]
        w = params[i].data
        slots = state[i]
        g, dec = _decay(g, w, lr, wd, decoupled) if wd else (g, 1.0)
        b = (opt._buffers[i] or buffers(opt, i, w)) if kernels is not None else None
        if b is not None and b.kernel_ready:
            # proposed into the spares and scratch, then swapped in: a kernel writing over
            # its own inputs would run element by element (the compiler must assume overlap)
            new = b.spares(slots) if slots else {}
            bad = _run_kernel(opt, kernels, g, w, slots, new, b.tmp, lr, t, dec)
            if bad is not None:
                if new:
                    b.swap_in(slots, new)
                w[...] = b.tmp  # the kernel's output, w's dtype and shape
                if bad:  # what NumPy's own overflow warning would have said
                    warnings.warn(
                        f"{type(opt).__name__}.step (check_finite=False): the update of "
                        f"parameter {i} wrote {bad} NaN or infinite value(s) into its weights "
                        "or state (an overflow, or a non-finite gradient)", RuntimeWarning,
                        stacklevel=4)
                continue
        if dec != 1.0:
            w *= dec
        if increment is None:
            opt._update(w, g, slots, lr, t)
            continue
        sign, inc = increment(g, slots, slots, buffers(opt, i, w).tmp, lr, t)
        if sign > 0:
            w += inc
        else:
            w -= inc


def copying_checked_step(opt, params: list, idx: list, grads: list, rates: list,
                         t: int) -> None:
    """The check for rules with only the in-place ``_update``: copy, update, put back."""
    state, group_of, update = opt._state, opt._group_of, opt._update
    decoupled = opt.decoupled_weight_decay
    saved, used = [], []
    with xp.errstate(over="ignore", invalid="ignore"):
        for i, g in zip(idx, grads):
            lr, wd = rates[group_of[i]]
            w = params[i].data
            slots = state[i]
            saved.append((i, w.copy(), {k: a.copy() for k, a in slots.items()}))
            if wd:
                if decoupled:
                    w *= 1.0 - lr * wd
                else:
                    g = g + wd * w
            used.append(g)
            update(w, g, slots, lr, t)
        total = 0.0
        for i in idx:
            total += _square_sum(params[i].data)
            for a in state[i].values():
                total += _square_sum(a)
    if math.isfinite(total):
        return
    for (i, w_old, slots_old), g in zip(saved, used):
        p = params[i]
        bad = (["weights"] if not all_finite(p.data) else []) + \
            [f"state {k!r}" for k, a in state[i].items() if not all_finite(a)]
        if bad:
            err = non_finite_error(opt, i, g, w_old, slots_old, bad)
            for j, w, slots in saved:
                xp.copyto(params[j].data, w)
                for k, a in slots.items():
                    xp.copyto(state[j][k], a)
            raise err


def non_finite_error(opt, i: int, g, w_old, slots_old: dict, bad: list) -> NonFiniteUpdateError:
    """The error naming parameter ``i``, what would have turned non-finite (``bad``) and
    why (weights or state already non-finite, a non-finite gradient, or an overflow)."""
    p = opt._params[i]
    label = f"parameter {i}" + (f" ({p.name!r})" if p.name else "") + \
        f" of shape {tuple(p.shape)}"
    if not all_finite(w_old, *slots_old.values()):
        why = ("it already held NaN/inf before this step (set outside the optimizer, or "
               "loaded from a file)")
    elif not all_finite(g):
        why = "its gradient holds NaN/inf"
    else:
        why = ("the gradient is finite but the update overflowed; lower the learning "
               "rate, or clip the gradients (clipnorm=...)")
    return NonFiniteUpdateError(
        f"{type(opt).__name__}.step: the update of {label} would make its "
        f"{' and '.join(bad)} NaN or infinite: {why}. The step was not applied (all "
        "parameters and the optimizer state are unchanged).", index=i, name=p.name,
        parameter=label)


def sum_finite(arrays) -> bool:
    """False when some floating array may hold NaN or inf: True only if the sum of every
    array's sum of squares is finite (NaN and inf propagate through it). A False may come
    from a sum that merely overflowed; check each array exactly then."""
    total = 0.0
    for a in arrays:
        total += _square_sum(a)
    return math.isfinite(total)


def _square_sum(a):
    """Sum of the squares of a floating array's elements (0 for other dtypes)."""
    return _vdot(a, a) if a.dtype.kind == "f" else 0.0


def all_finite(*arrays) -> bool:
    """Whether every floating array is free of NaN and inf (one vectorized read of each)."""
    return all(a.dtype.kind != "f" or bool(xp.isfinite(a).all()) for a in arrays)
