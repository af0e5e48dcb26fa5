"""Training diagnostics: per layer and per epoch, what the activations, gradients and weights do.

``Diagnostics`` is a callback for ``fit``. For every leaf layer of the model it records, each
epoch:

* ``act_mean``, ``act_std``: mean and standard deviation of the layer's outputs over the
  epoch's training batches;
* ``saturated``: for a sigmoid or tanh layer (an activation layer, or a ``Dense`` with that
  activation), the fraction of outputs within ``saturation`` of an asymptote (sigmoid: below
  ``saturation`` or above ``1 - saturation``; tanh: ``|a| > 1 - saturation``). There the
  derivative is nearly 0 (sigmoid' < ``saturation``), so little gradient flows back;
* ``dead``: for a ReLU layer, the fraction of units (output positions of one sample) that were
  0 for *every* training sample of the epoch: such a unit passes no gradient and cannot
  recover by gradient descent;
* ``grad_norm``: the L2 norm of the layer's parameter gradients (all of them together), as
  backward left them (before clipping), averaged over the epoch's batches;
* ``weight_norm``: the L2 norm of the layer's parameters at the end of the epoch;
* ``update_ratio``: ``||w_after - w_before|| / ||w_before||`` for one optimizer step, averaged
  over the epoch's batches. A rule of thumb (Karpathy): around 1e-3; far below, the layer
  barely learns; far above (1e-1 and more), the step is too large;
* ``vanishing``: the gradient norm is below ``min_grad`` (absolute) or below
  ``vanishing_ratio`` times the largest layer gradient norm of that epoch (the gradient
  shrinks on the way back to this layer);
* ``exploding``: the gradient norm is above ``max_grad``, or not finite.

The layers' outputs are caught by wrapping each leaf layer's ``forward`` for the duration of
training (on the instance; put back at ``on_train_end``), only during training batches, not
validation. :func:`diagnose` runs the same on one batch outside ``fit`` (``tidu diagnose``).
Under ``compile(jit_compile=True)`` the compiled step does not call the layers' ``forward``,
so the activation columns stay empty; the gradient, weight and update columns are filled.

>>> import numpy as np, tidu
>>> from tidu.nn import Dense
>>> _ = tidu.manual_seed(0)
>>> model = tidu.Sequential([Dense(4, activation="relu", input_shape=(2,), name="hidden"),
...                          Dense(1, name="out")])
>>> model.compile(optimizer="sgd", loss="mse")
>>> diag = tidu.callbacks.Diagnostics()
>>> _ = model.fit(np.ones((8, 2), "float32"), np.ones((8, 1), "float32"), epochs=2,
...               verbose=0, callbacks=[diag])
>>> [r["layer"] for r in diag.records if r["epoch"] == 1]
['hidden', 'out']
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from .callback import Callback

SATURATING = {"sigmoid": "sigmoid", "hard_sigmoid": "sigmoid", "hardsigmoid": "sigmoid",
              "tanh": "tanh", "hard_tanh": "tanh", "hardtanh": "tanh"}
"""Activation names (function or layer class, lower case) whose saturation is measured."""

RECTIFIED = ("relu", "relu6")
"""Activation names whose dead units are counted (outputs exactly 0 below the kink)."""

COLUMNS = ("layer", "kind", "act_mean", "act_std", "saturated", "dead", "grad_norm",
           "weight_norm", "update_ratio", "flag")


def activation_kind(layer) -> str:
    """The activation a layer applies last, by name: 'relu', 'sigmoid', 'tanh', ..., or the
    layer's class name (lower case) when it has none (e.g. 'dense' for a linear Dense)."""
    cls = type(layer).__name__.lower()
    act = getattr(layer, "activation", None)
    if isinstance(act, str):
        return act.lower()
    if callable(act):
        name = getattr(act, "__name__", "").lower()
        if name and name != "linear":
            return name
    return cls


def leaf_layers(model) -> list:
    """The model's modules without sub-modules, in order (the model itself if it has none)."""
    leaves = [m for _, m in model.named_modules() if not m.children()]
    return leaves or [model]


@contextlib.contextmanager
def capture_outputs(model):
    """Context manager: a dict ``{layer name: output array}`` filled with the output of each
    leaf layer of ``model`` by the forward passes run inside it (the last one wins). Each
    layer's ``forward`` is wrapped on the instance and put back on exit."""
    outputs: dict = {}
    saved = []
    for layer in leaf_layers(model):
        saved.append((layer, layer.__dict__.get("forward")))

        def forward(*args, _original=layer.forward, _name=layer.name, **kwargs):
            out = _original(*args, **kwargs)
            if isinstance(getattr(out, "data", None), np.ndarray):
                outputs[_name] = out.data
            return out

        object.__setattr__(layer, "forward", forward)
    try:
        yield outputs
    finally:
        for layer, own in saved:
            if own is None:
                layer.__dict__.pop("forward", None)
            else:
                object.__setattr__(layer, "forward", own)


def _norm(arrays) -> float:
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


class _LayerStats:
    """Running sums of one layer over one epoch."""

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.saturated = 0
        self.alive = None  # per unit: was it ever non-zero this epoch
        self.grad_norms: list[float] = []
        self.ratios: list[float] = []


class Diagnostics(Callback):
    """Per-layer, per-epoch statistics of activations, gradients and weights (see the module
    notes for each quantity and the thresholds).

    Args:
        saturation: distance to an asymptote under which a sigmoid/tanh output is saturated.
        vanishing_ratio: flag a layer whose gradient norm is below this fraction of the
            largest layer gradient norm of the epoch.
        min_grad: flag a gradient norm below this as vanishing whatever the other layers do.
        max_grad: flag a gradient norm above this (or NaN/inf) as exploding.
        verbose: 1 prints the table after every epoch.

    After (or during) training: ``records`` (one dict per layer per epoch, keys in
    :data:`COLUMNS` plus ``epoch``, ``vanishing``, ``exploding``), :meth:`table`,
    :meth:`series` and :meth:`plot`.
    """

    def __init__(self, saturation: float = 0.01, vanishing_ratio: float = 1e-3,
                 min_grad: float = 1e-8, max_grad: float = 1e3, verbose: int = 0):
        for name, v in (("saturation", saturation), ("vanishing_ratio", vanishing_ratio),
                        ("min_grad", min_grad), ("max_grad", max_grad)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
                raise ValueError(f"Diagnostics: {name} must be a positive number, got {v!r}")
        if saturation >= 0.5:
            raise ValueError(f"Diagnostics: saturation must be below 0.5, got {saturation}")
        self.saturation = float(saturation)
        self.vanishing_ratio = float(vanishing_ratio)
        self.min_grad = float(min_grad)
        self.max_grad = float(max_grad)
        self.verbose = int(verbose)
        self.records: list[dict] = []
        self._layers: list = []
        self._wrapped: list = []
        self._stats: dict[int, _LayerStats] = {}
        self._before: dict[int, list] = {}
        self._recording = False

    # ----- wiring -----
    def on_train_begin(self, logs=None):
        self.records = []
        self._attach()

    def on_train_end(self, logs=None):
        self._detach()

    def _attach(self) -> None:
        self._detach()
        self._layers = leaf_layers(self.model)
        for layer in self._layers:
            own = layer.__dict__.get("forward")
            original = layer.forward

            def forward(*args, _original=original, _layer=layer, **kwargs):
                out = _original(*args, **kwargs)
                if self._recording:
                    self._record(_layer, out)
                return out

            object.__setattr__(layer, "forward", forward)
            self._wrapped.append((layer, own))

    def _detach(self) -> None:
        for layer, own in self._wrapped:
            if own is None:
                layer.__dict__.pop("forward", None)
            else:
                object.__setattr__(layer, "forward", own)
        self._wrapped = []

    def _params(self, layer) -> list:
        return [p for p in layer.parameters() if p.requires_grad]

    # ----- per batch -----
    def on_epoch_begin(self, epoch, logs=None):
        self._stats = {id(layer): _LayerStats() for layer in self._layers}

    def on_train_batch_begin(self, batch, logs=None):
        self._before = {id(layer): [p.data.copy() for p in self._params(layer)]
                        for layer in self._layers}
        self._recording = True

    def _record(self, layer, out) -> None:
        data = getattr(out, "data", None)
        if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.floating):
            return  # a symbolic trace (jit_compile) or a non-array output
        s = self._stats[id(layer)]
        a = data.astype(np.float64, copy=False)
        s.count += a.size
        s.total += float(a.sum())
        s.total_sq += float(np.square(a).sum())
        kind = SATURATING.get(activation_kind(layer))
        if kind == "sigmoid":
            s.saturated += int(np.count_nonzero((a < self.saturation)
                                                | (a > 1.0 - self.saturation)))
        elif kind == "tanh":
            s.saturated += int(np.count_nonzero(np.abs(a) > 1.0 - self.saturation))
        if activation_kind(layer) in RECTIFIED and a.ndim >= 1 and len(a):
            alive = np.any(a.reshape(len(a), -1) != 0, axis=0)
            s.alive = alive if s.alive is None or s.alive.shape != alive.shape \
                else s.alive | alive

    def on_train_batch_end(self, batch, logs=None):
        self._recording = False
        for layer in self._layers:
            params = self._params(layer)
            if not params:
                continue
            s = self._stats[id(layer)]
            grads = [p.grad.data for p in params if p.grad is not None]
            if grads:
                s.grad_norms.append(_norm(grads))
            before = self._before.get(id(layer), [])
            if len(before) == len(params):
                w0 = _norm(before)
                dw = _norm([p.data.astype(np.float64) - b for p, b in zip(params, before)])
                s.ratios.append(dw / w0 if w0 > 0 else math.inf if dw > 0 else 0.0)
        self._before = {}

    # ----- per epoch -----
    def on_epoch_end(self, epoch, logs=None):
        rows = [self._row(epoch, layer) for layer in self._layers]
        norms = [r["grad_norm"] for r in rows if r["grad_norm"] is not None
                 and math.isfinite(r["grad_norm"])]
        top = max(norms) if norms else 0.0
        for r in rows:
            g = r["grad_norm"]
            r["exploding"] = g is not None and (not math.isfinite(g) or g > self.max_grad)
            r["vanishing"] = (g is not None and math.isfinite(g)
                              and (g < self.min_grad or g < self.vanishing_ratio * top))
            r["flag"] = ("exploding" if r["exploding"] else
                         "vanishing" if r["vanishing"] else "")
        self.records.extend(rows)
        if self.verbose:
            print(self.table(epoch))

    def _row(self, epoch: int, layer) -> dict:
        s = self._stats.get(id(layer), _LayerStats())
        kind = activation_kind(layer)
        mean = s.total / s.count if s.count else None
        std = math.sqrt(max(s.total_sq / s.count - mean * mean, 0.0)) if s.count else None
        params = self._params(layer)
        return {
            "epoch": epoch, "layer": layer.name, "kind": kind,
            "act_mean": mean, "act_std": std,
            "saturated": (s.saturated / s.count if s.count and kind in SATURATING else None),
            "dead": (1.0 - float(s.alive.mean()) if s.alive is not None else None),
            "grad_norm": float(np.mean(s.grad_norms)) if s.grad_norms else None,
            "weight_norm": _norm([p.data for p in params]) if params else None,
            "update_ratio": float(np.mean(s.ratios)) if s.ratios else None,
        }

    # ----- reading the results -----
    def epochs(self) -> list[int]:
        """The epochs recorded, in order."""
        return sorted({r["epoch"] for r in self.records})

    def layer_names(self) -> list[str]:
        """The layers recorded, in the model's order."""
        return list(dict.fromkeys(r["layer"] for r in self.records))

    def series(self, layer: str, key: str) -> list:
        """One quantity (a :data:`COLUMNS` key) of one layer, epoch by epoch (None where it
        does not apply)."""
        names = self.layer_names()
        if layer not in names:
            raise KeyError(f"Diagnostics.series: no layer {layer!r}; recorded: {names}")
        if key not in COLUMNS and key not in ("vanishing", "exploding", "epoch"):
            raise KeyError(f"Diagnostics.series: unknown quantity {key!r}; one of {COLUMNS}")
        return [r[key] for r in self.records if r["layer"] == layer]

    def table(self, epoch: int | None = None) -> str:
        """The records of one epoch (default: the last) as a text table."""
        if not self.records:
            return "Diagnostics: nothing recorded yet"
        epoch = self.epochs()[-1] if epoch is None else epoch
        rows = [r for r in self.records if r["epoch"] == epoch]
        return format_table(rows, title=f"epoch {epoch + 1}")

    def plot(self, out_dir, prefix: str = "diagnostics") -> list:
        """Write the PNG plots of the records into ``out_dir`` (needs ``tidu[plot]``)."""
        from ..plot.diagnostics import plot_diagnostics

        return plot_diagnostics(self, out_dir, prefix=prefix)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.2e}"


def format_table(rows: list, title: str = "") -> str:
    """Per-layer rows (dicts with :data:`COLUMNS`) as aligned text."""
    head = ["layer", "kind", "act mean", "act std", "saturated", "dead", "|grad|", "|w|",
            "update/w", "flag"]
    body = [[_cell(r.get(k)) for k in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = [title] if title else []
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() for b in body]
    return "\n".join(lines)


def diagnose(model, x, y, sample_weight=None, **options) -> Diagnostics:
    """One training step of ``model`` on the batch ``(x, y)`` under :class:`Diagnostics`.

    The model must be compiled (it takes one optimizer step: the update ratio is that step's;
    the weights change). ``options`` go to :class:`Diagnostics`. Returns the callback, whose
    ``records`` hold one row per layer (epoch 0).
    """
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        raise ValueError("diagnose: the model has no optimizer or loss; call "
                         "model.compile(optimizer=..., loss=...) first")
    diag = Diagnostics(**options)
    diag.set_model(model)
    diag.on_train_begin()
    try:
        model.train()
        diag.on_epoch_begin(0)
        diag.on_train_batch_begin(0)
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        model.train_step(x, y, **kw)
        diag.on_train_batch_end(0, {})
        diag.on_epoch_end(0, {})
    finally:
        diag.on_train_end()
    return diag
