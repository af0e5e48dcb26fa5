"""PyTorch's learning-rate schedulers, acting on an optimizer's ``param_groups``.

The PyTorch loop::

    scheduler = tidu.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(epochs):
        train(...)            # optimizer.step() for every batch
        scheduler.step()      # after optimizer.step(): the rate of the next epoch

A scheduler counts its own steps (``last_epoch``, 0 after construction) and writes each
group's ``'lr'``; :meth:`LRScheduler.get_last_lr` reads back what it wrote. The rates follow
PyTorch's closed forms (``torch.optim.lr_scheduler``). These are the PyTorch alternative to
the Keras-style schedules of :mod:`tidu.optim.schedules` (a function of the optimizer's step
count given as the learning rate); a scheduler needs groups whose ``lr`` is a number.

Note that tidu's SGD keeps Keras's velocity (``v = momentum * v - lr * g``), which scales the
gradient by the rate when it enters the velocity; PyTorch scales it when it leaves. With
momentum and a changing rate the two trajectories differ slightly; the rates themselves are
PyTorch's.
"""

from __future__ import annotations

import bisect
import math

from .optimizer import Optimizer, check_number

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "MultiStepLR", "OneCycleLR",
           "ReduceLROnPlateau", "StepLR"]


def _check_optimizer(owner: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected a tidu.optim optimizer, got "
                        f"{type(optimizer).__name__}")
    for j, g in enumerate(optimizer.param_groups):
        if callable(g["lr"]):
            raise TypeError(f"{owner}: param_groups[{j}] follows the schedule {g['lr']!r}; a "
                            "scheduler needs a number as the learning rate (create the "
                            "optimizer with lr=<float>)")


class _Scheduler:
    """What every scheduler shares: the last rates it wrote, and its state as plain data."""

    _last_lr: list

    def get_last_lr(self) -> list[float]:
        """The rates the last :meth:`step` wrote, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The scheduler's counters and settings (everything but the optimizer)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.__dict__.update(state_dict)


class LRScheduler(_Scheduler):
    """Base class: subclasses write ``_lr_at(base_lr, epoch, group_index)``.

    Args:
        optimizer: a tidu optimizer; its groups' current ``lr`` are the base rates.
        last_epoch: the index of the last epoch (-1 to start afresh), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self.step()

    def _lr_at(self, base_lr: float, epoch: int, j: int) -> float:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The rates of the current ``last_epoch`` (PyTorch's closed form)."""
        return [self._lr_at(b, self.last_epoch, j) for j, b in enumerate(self.base_lrs)]

    def step(self) -> None:
        """Advance one epoch (or one batch, for per-batch schedulers such as OneCycleLR) and
        write the new rates into the optimizer's groups. Call it after ``optimizer.step()``."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, lrs):
            g["lr"] = float(lr)
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]



class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1, got {step_size!r}")
        self.step_size = step_size
        self.gamma = check_number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch, j):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = check_number("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch, j):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = check_number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch, j):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2`` (periodic
    past ``T_max``, as PyTorch's)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be an int >= 1, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr, epoch, j):
        return self.eta_min + (base_lr - self.eta_min) * \
            (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2018), stepped after every batch.

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start``
    of ``total_steps`` and anneals to ``max_lr / div_factor / final_div_factor`` (cosine or
    linear; ``three_phase`` comes back down to the start first). With ``cycle_momentum`` the
    optimizer's ``momentum`` (SGD) or ``beta_1`` (Adam) moves the other way between
    ``max_momentum`` and ``base_momentum``; tidu keeps one momentum per optimizer, so it is
    driven by the first group's schedule.

    Raises:
        ValueError: neither ``total_steps`` nor ``epochs`` and ``steps_per_epoch``; a bad
            ``anneal_strategy``; a step past ``total_steps``; ``cycle_momentum`` with an
            optimizer without momentum.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        _check_optimizer("OneCycleLR", optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = int(epochs) * int(steps_per_epoch)
        if int(total_steps) < 1:
            raise ValueError(f"OneCycleLR: total_steps must be >= 1, got {total_steps!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        check_number("OneCycleLR", "pct_start", pct_start, 0.0, 1.0)
        n = len(optimizer.param_groups)
        maxes = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * n
        if len(maxes) != n:
            raise ValueError(f"OneCycleLR: max_lr has {len(maxes)} values, the optimizer has "
                             f"{n} parameter groups")
        self.total_steps, self.anneal_strategy = int(total_steps), anneal_strategy
        self.max_lrs = [check_number("OneCycleLR", "max_lr", float(m)) for m in maxes]
        self.initial_lrs = [m / div_factor for m in self.max_lrs]
        self.min_lrs = [i / final_div_factor for i in self.initial_lrs]
        t = self.total_steps
        ends = [float(pct_start * t) - 1, float(2 * pct_start * t) - 2, t - 1] if three_phase \
            else [float(pct_start * t) - 1, t - 1]
        self.phase_ends = ends
        self.cycle_momentum = bool(cycle_momentum)
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        self._momentum_attr = None
        if self.cycle_momentum:
            self._momentum_attr = next((a for a in ("momentum", "beta_1")
                                        if hasattr(optimizer, a)), None)
            if self._momentum_attr is None or (self._momentum_attr == "momentum"
                                               and not optimizer.momentum):
                raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with "
                                 f"momentum (SGD(momentum>0), Adam); got "
                                 f"{type(optimizer).__name__}; pass cycle_momentum=False")
        for g, lr in zip(optimizer.param_groups, self.initial_lrs):
            g["lr"] = lr
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase_values(self, values: tuple) -> list:
        """(start, end) of each phase, from (initial, peak, final)."""
        low, high, final = values
        if len(self.phase_ends) == 3:
            return [(low, high), (high, low), (low, final)]
        return [(low, high), (high, final)]

    def _at(self, values: tuple, step: int) -> float:
        start_step, phases = 0.0, self._phase_values(values)
        for i, (end_step, (a, b)) in enumerate(zip(self.phase_ends, phases)):
            if step <= end_step or i == len(phases) - 1:
                return self._anneal(a, b, (step - start_step) / (end_step - start_step))
            start_step = end_step
        raise AssertionError("unreachable")

    def _lr_at(self, base_lr, epoch, j):
        if epoch > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {epoch} times, more than "
                             f"total_steps={self.total_steps}")
        return self._at((self.initial_lrs[j], self.max_lrs[j], self.min_lrs[j]), epoch)

    def step(self) -> None:
        super().step()
        if self._momentum_attr is not None:
            m = self._at((self.max_momentum, self.base_momentum, self.max_momentum),
                         self.last_epoch)
            setattr(self.optimizer, self._momentum_attr, m)


class ReduceLROnPlateau(_Scheduler):
    """Multiply the rates by ``factor`` once a metric has not improved for ``patience``
    epochs, as PyTorch's (``scheduler.step(val_loss)`` once per epoch).

    Args:
        mode: 'min' (a loss) or 'max' (an accuracy).
        factor: multiplier in [0, 1).
        patience: epochs without improvement tolerated before a reduction.
        threshold, threshold_mode: an improvement beats the best by more than
            ``threshold`` (``'rel'``: times the best; ``'abs'``: absolute).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: floor, one number or one per group.
        eps: a reduction smaller than this is skipped.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError("ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.factor = check_number("ReduceLROnPlateau", "factor", factor, 0.0, 1.0,
                                   high_open=True)
        n = len(optimizer.param_groups)
        mins = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(mins) != n:
            raise ValueError(f"ReduceLROnPlateau: min_lr has {len(mins)} values, the optimizer "
                             f"has {n} parameter groups")
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.min_lrs = [float(m) for m in mins]
        self.patience, self.cooldown = int(patience), int(cooldown)
        self.threshold, self.eps = float(threshold), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    def _is_better(self, a: float) -> bool:
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < (best * (1 - th) if self.threshold_mode == "rel" else best - th)
        return a > (best * (1 + th) if self.threshold_mode == "rel" else best + th)

    def step(self, metrics) -> None:
        """Record this epoch's metric; reduce the rates if it has stalled."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(g["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

