"""Detectors of the classic mistakes, each reported in the user's terms with the fix.

They are cheap (a few reductions over a batch of predictions, or a test made once per
module) and on by default as warnings (:mod:`tidu.debug._mode`): ``tidu.debug.strict()``
makes them errors, ``tidu.debug.set_mode('off')`` silences them.
"""

from __future__ import annotations

import math
import os
import sys
import weakref

import numpy as np

from ._mode import (
    BroadcastWarning,
    DivergingLossWarning,
    DropoutInEvalWarning,
    FromLogitsWarning,
    SymmetryWarning,
    _Mode,
    report,
)

_MIN_BINARY = 32  # so many values, all in [0, 1], before logits are taken for probabilities
_MIN_VALUES = 8  # the value checks judge batches, not a toy call on a few numbers


def _data(t):
    """The array behind a Tensor (None for a symbolic one), or the array itself."""
    return getattr(t, "data", t)


# ----------------------------------------------------------------------------- broadcasting
def _shape(v) -> tuple:
    return tuple(getattr(v, "shape", ()))


def _wants_grad(v) -> bool:
    return bool(getattr(v, "requires_grad", False))


def square_broadcast(op: str, a, b, out_shape: tuple) -> None:
    """Report ``a <op> b`` when broadcasting made an (n, n) matrix out of a vector (n,) and a
    column (n, 1), or out of a column and a row (1, n), with one side a constant (the labels)
    and the other differentiated (the predictions): Text A's cost with labels ``Y`` and
    predictions ``A`` of different shapes, e.g. ``Y`` of shape (m, 1) against ``A`` of shape
    (1, m). (A vector (n,) against a row (1, n) gives (1, n), which is right.)

    Pairwise expressions where both sides come from the same tensor (``x[:, None] - x``)
    differentiate both sides or neither, and are left alone.
    """
    if len(out_shape) != 2 or out_shape[0] != out_shape[1] or not isinstance(
            out_shape[0], int) or out_shape[0] < 2:
        return
    grad_a = _wants_grad(a)
    if _Mode.value == "off" or grad_a == _wants_grad(b):
        return
    n = out_shape[0]
    sa, sb = _shape(a), _shape(b)
    if {sa, sb} not in ({(n,), (n, 1)}, {(n, 1), (1, n)}):
        return
    labels, preds = (sb, sa) if grad_a else (sa, sb)
    fix = f"Y.reshape{preds}" if len(labels) == 2 else f"Y.reshape{preds} or A.reshape(-1)"
    report(BroadcastWarning,
           f"{op}: labels of shape {labels} met predictions of shape {preds} and "
           f"broadcasting made a ({n}, {n}) matrix: each of the {n} labels was paired with "
           f"each of the {n} predictions, so a cost built from it averages {n * n} terms, "
           f"{n * n - n} of them wrong, and still raises nothing (Text A's cost needs Y and A "
           f"of one shape, (1, m)). Give both the same shape: {fix} (Y the labels, "
           "A the predictions)")


# ----------------------------------------------------------------------------- logits
def _probability_rows(p, axis: int) -> bool:
    if p.size == 0 or p.shape[axis] < 2:
        return False
    if not (p.min() >= 0 and p.max() <= 1):  # logits have a negative value: one reduction
        return False
    return bool(np.allclose(p.sum(axis=axis), 1.0, atol=1e-3))


def check_from_logits(y_pred, from_logits: bool, name: str, *, binary: bool = False,
                      axis: int = -1) -> None:
    """Report probabilities given to a loss told ``from_logits=True`` (all values in [0, 1],
    rows summing to 1; for a binary loss, at least 32 values all in [0, 1]), and logits given
    to one told ``from_logits=False`` (values below 0, or above 1 for a binary loss).
    Predictions of fewer than 8 values are not judged."""
    if _Mode.value == "off":
        return
    p = _data(y_pred)
    if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or p.size < _MIN_VALUES:
        return
    if from_logits:
        if binary:
            bad = p.size >= _MIN_BINARY and p.min() >= 0 and p.max() <= 1
        else:
            bad = _probability_rows(p, axis)
        if bad:
            what = ("every value is in [0, 1]" if binary else
                    f"every value is in [0, 1] and each row sums to 1 over axis {axis}")
            report(FromLogitsWarning,
                   f"{name}: from_logits=True, but y_pred looks like probabilities ({what}); "
                   "the loss applies " + ("sigmoid" if binary else "softmax") + " again and "
                   "learns from squashed values. Pass from_logits=False, or remove the final "
                   + ("sigmoid" if binary else "softmax") + " activation so the model outputs "
                   "logits")
        return
    lo, hi = float(p.min()), float(p.max())
    if lo < 0 or (binary and hi > 1):
        report(FromLogitsWarning,
               f"{name}: from_logits=False, but y_pred holds values from {lo:.4g} to {hi:.4g}, "
               "outside [0, 1]: these look like logits. Probabilities are clipped to [0, 1] "
               "before the logarithm, so such values give a wrong loss and a zero gradient. "
               "Pass from_logits=True, or end the model with "
               + ("a sigmoid" if binary else "a softmax") + " activation")


# ----------------------------------------------------------------------------- symmetry
_warned_params = weakref.WeakSet()  # weights already reported (a model and its sub-model)


def _constant(arr) -> bool:
    flat = arr.reshape(-1)
    return flat.size > 1 and bool((flat == flat[0]).all())


def check_symmetry(module) -> None:
    """Report two consecutive weight matrices (in registration order) that each hold one
    value everywhere, the first with more than one unit: that layer's units compute the same
    value and receive the same gradient, so they stay identical (Text C's all-zero
    initialization). One constant layer next to random ones is fine (the symmetry breaks)."""
    if _Mode.value == "off":
        return
    weights = [(n, p) for n, p in module.named_parameters()
               if getattr(p.data, "ndim", 0) >= 2 and p not in _warned_params]
    for (n1, p1), (n2, p2) in zip(weights, weights[1:]):
        a = p1.data
        if a.size == a.shape[0] or not (_constant(a) and _constant(p2.data)):
            continue
        _warned_params.add(p1)
        _warned_params.add(p2)
        units = a.shape[-1]
        value = a.reshape(-1)[0].item()
        owner = f"{type(module).__name__} '{getattr(module, 'name', '')}'"
        report(SymmetryWarning,
               f"{owner}: every entry of '{n1}' (shape {tuple(a.shape)}) is {value!r}, and so is "
               f"every entry of '{n2}' (shape {tuple(p2.shape)}): the {units} units of that "
               "layer compute the same value and receive the same gradient, so they stay "
               "identical for ever and the layer works as one unit (the symmetry of Text C). "
               "Initialize the weights at random, e.g. kernel_initializer='glorot_uniform' "
               "(or 'he_normal' before relu); zeros are fine only for biases")
        return


# ----------------------------------------------------------------------------- dropout
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = ("_ensure_built", "build", "summary", "compute_output_shape")


def _called_by_tidu() -> bool:
    """Whether tidu's own machinery made this call (fit's build pass on one sample, a
    summary, a shape inference), not a user's evaluation."""
    f = sys._getframe(2)
    while f is not None:
        code = f.f_code
        if code.co_name in _INTERNAL and os.path.abspath(code.co_filename).startswith(_PKG):
            return True
        f = f.f_back
    return False


def dropout_in_no_grad(module) -> None:
    """Called for a module running in training mode inside ``tidu.no_grad()``: report a
    Dropout with a rate above 0 (a hand-written evaluation loop that forgot ``eval()``)."""
    from ..nn.layers.dropout import Dropout

    if not isinstance(module, Dropout) or module.rate <= 0 or _Mode.value == "off":
        return
    if module.__dict__.get("_warned_no_grad") or _called_by_tidu():
        return
    object.__setattr__(module, "_warned_no_grad", True)
    report(DropoutInEvalWarning,
           f"Dropout '{module.name}' (rate {module.rate:g}) ran in training mode inside "
           "tidu.no_grad(): it still zeroes units at random, so this evaluation or prediction "
           "is noisy and too pessimistic (Text C: no dropout at test time). Call model.eval() "
           "before evaluating or predicting (and model.train() before training again)")


# ----------------------------------------------------------------------------- the loss
class LossWatcher:
    """Watch successive loss values and report one that keeps growing: ``patience``
    increases in a row that together add more than ``growth`` (a fraction) to the value
    before them: the sign of a learning rate too large (each step overshoots the minimum).

    Use it in a hand-written loop (``watcher.update(float(loss))``), or through the
    ``tidu.debug.WatchLoss`` callback in ``fit``.
    """

    def __init__(self, patience: int = 5, growth: float = 0.25, lr=None):
        if int(patience) < 1 or growth < 0:
            raise ValueError(f"LossWatcher: patience must be >= 1 and growth >= 0, got "
                             f"patience={patience!r}, growth={growth!r}")
        self.patience, self.growth, self.lr = int(patience), float(growth), lr
        self.reset()

    def reset(self) -> None:
        """Forget the values seen (e.g. at the start of an epoch of running means)."""
        self._prev = None
        self._start = None
        self._rises = 0
        self.warned = False

    def update(self, value: float, lr=None, where: str = "step") -> bool:
        """Record one loss value; True when it completed a growing run (and was reported)."""
        value = float(value)
        if not math.isfinite(value):
            return False
        if self._prev is not None and value > self._prev:
            if self._rises == 0:
                self._start = self._prev
            self._rises += 1
        else:
            self._rises = 0
        self._prev = value
        start = self._start
        if (self._rises < self.patience or self.warned or start is None
                or value - start <= self.growth * abs(start)):
            return False
        self.warned = True
        lr = self.lr if lr is None else lr
        rate = f"the learning rate ({lr:g})" if isinstance(lr, (int, float)) else \
            "the learning rate"
        report(DivergingLossWarning,
               f"the loss grew for {self._rises} {where}s in a row, from {start:.4g} to "
               f"{value:.4g}: {rate} is probably too large, so each update overshoots the "
               "minimum. Lower it (by 3 to 10 times) and train again")
        return True
