"""Where ``Model.fit`` is in its loop: what a checkpointing callback saves and a restoring
callback sets (``tidu.callbacks.BackupAndRestore``).

During ``fit``, ``model.fit_state`` is a :class:`FitState`: the epoch, the batches of it
already trained, the global generator's state when the epoch began (before its shuffle), the
running loss and metrics of the epoch and the callbacks. A callback may replace it in
``on_train_begin`` with a restored position; ``fit`` then skips the finished epochs and
batches, draws the epoch's shuffle order from ``epoch_rng``, puts the global generator in
``rng`` and continues the running averages from ``tracker_states``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import metrics as metrics_mod

_PLAIN = (bool, int, float, str, type(None))


@dataclass
class FitState:
    """A position in ``fit``'s loop (see the module docstring).

    Attributes:
        epoch: the epoch being trained, or the next one when ``step`` is 0.
        step: batches of ``epoch`` already trained (and their callbacks called).
        epoch_rng: the global generator's state at the start of ``epoch``, before shuffling.
        rng: on resume, the global generator's state after ``step`` batches.
        tracker_states: on resume, the running loss and metrics after ``step`` batches.
        trackers: during fit, the live loss tracker and compiled metrics.
        callbacks: during fit, the user's callbacks and the History (not the progress bar).
    """

    epoch: int
    step: int = 0
    epoch_rng: dict | None = None
    rng: dict | None = None
    tracker_states: list | None = None
    trackers: list = field(default_factory=list, repr=False)
    callbacks: list = field(default_factory=list, repr=False)

    def position(self, rng: dict | None) -> dict:
        """The position as plain data, with ``rng`` the generator's state now."""
        return {"epoch": self.epoch, "step": self.step, "epoch_rng": self.epoch_rng,
                "rng": rng, "trackers": [metric_state(m) for m in self.trackers]}

    @classmethod
    def from_position(cls, data: dict) -> FitState:
        """A restored position from :meth:`position`'s value."""
        return cls(epoch=int(data["epoch"]), step=int(data["step"]),
                   epoch_rng=data.get("epoch_rng"), rng=data.get("rng"),
                   tracker_states=data.get("trackers"))


def metric_state(metric) -> dict:
    """A metric's running state as plain data: its scalar attributes and inner metrics."""
    out = {}
    for k, v in vars(metric).items():
        if isinstance(v, metrics_mod.Metric):
            out[k] = {"metric": type(v).__name__, "name": v.name, "state": metric_state(v)}
        elif isinstance(v, np.generic):
            out[k] = v.item()
        elif isinstance(v, _PLAIN):
            out[k] = v
    return out


def set_metric_state(metric, state: dict) -> None:
    """Put back what :func:`metric_state` returned (inner metrics are created as needed)."""
    for k, v in state.items():
        if isinstance(v, dict) and "metric" in v:
            inner = getattr(metric, k, None)
            if type(inner).__name__ != v["metric"]:
                cls = getattr(metrics_mod, v["metric"], None)
                if not (isinstance(cls, type) and issubclass(cls, metrics_mod.Metric)):
                    raise ValueError(f"{metric.name}: unknown inner metric {v['metric']!r} "
                                     "in the saved state")
                inner = cls(name=v["name"])
                setattr(metric, k, inner)
            set_metric_state(inner, v["state"])
        else:
            setattr(metric, k, v)
