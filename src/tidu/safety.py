"""Autodiff that never goes silently wrong: version counters, hooks and anomaly mode.

* **Versions.** Every in-place change (``tidu.inplace``, optimizer steps) bumps the tensor's
  ``version`` and stamps it with a global change counter. A recorded node keeps the counter's
  value at its creation; backward through a node whose input was changed afterwards raises
  a :class:`~tidu.GradientError` naming the operation and the tensor. When nothing was
  changed in place since a node was made, the check is one integer comparison.
* **Hooks.** ``Tensor.register_hook(fn)`` sees (and may replace) a tensor's gradient.
* **Anomaly mode.** Inside ``tidu.detect_anomaly()`` every node remembers where in the
  user's code it was created, and backward checks each gradient it produces: the first
  operation whose backward gives NaN or inf is named, with that place.
"""

from __future__ import annotations

import contextlib
import os
import traceback

import numpy as np

from .errors import GradientError


class _State:
    epoch = 0  # bumped by every in-place change
    anomaly = False


def bump_version(t) -> None:
    """Record that ``t`` was changed in place."""
    _State.epoch += 1
    t._version += 1
    t._stamp = _State.epoch


def check_versions(node) -> None:
    """Raise if an input of ``node`` was changed in place after the node was recorded."""
    made = getattr(node, "_epoch", None)
    if made is None or made == _State.epoch:
        return
    for a in getattr(node, "args", ()):
        if getattr(a, "_stamp", 0) > made:
            who = f"'{a.name}' " if getattr(a, "name", None) else ""
            raise GradientError(
                f"backward: {node.name} used a tensor that was then changed in place: tensor "
                f"{who}of shape {a.shape} is at version {a._version}, newer than when "
                f"{node.name} recorded it. Its gradient would mix old and new values. Compute "
                "the loss again after the change (e.g. after optimizer.step()), or change a "
                "copy instead of the tensor itself"
                + _where(node))


def run_hooks(t, g):
    """Apply ``t``'s gradient hooks to the array ``g``; returns the (maybe new) array."""
    from .tensor import Tensor

    for hook in list(t._hooks):
        out = hook(Tensor._make(g, False, None))
        if out is not None:
            g = out.data if isinstance(out, Tensor) else np.asarray(out, dtype=g.dtype)
    return g


# ----------------------------------------------------------------------------- anomaly mode
_HERE = os.path.dirname(os.path.abspath(__file__))


def creation_site() -> list:
    """The user's frames (outside tidu) of the current stack, innermost last."""
    frames = traceback.extract_stack()[:-2]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_HERE)]


def _where(node) -> str:
    stack = getattr(node, "_stack", None)
    if not stack:
        return ""
    f = stack[-1]
    return f"\n  {node.name} was created at {f.filename}:{f.lineno}: {f.line}"


def check_gradients(node, grads) -> None:
    """In anomaly mode: raise if ``node``'s backward produced a NaN or inf."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        arr = getattr(g, "data", g)
        arr = np.asarray(arr)
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            bad = "NaN" if np.isnan(arr).any() else "inf"
            raise GradientError(
                f"anomaly: the backward of {node.name} produced {bad} in the gradient of its "
                f"input {i} (shape {arr.shape})" + (_where(node) or
                " (its creation site is unknown: it was recorded before detect_anomaly)"))


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True):
    """Context manager: record where each operation is created and stop at the first
    backward that produces NaN or inf, naming the operation and that line (slow: for
    debugging, as ``torch.autograd.detect_anomaly``).

    >>> import tidu
    >>> x = tidu.tensor([0.0, 1.0], requires_grad=True)
    >>> with tidu.detect_anomaly():
    ...     y = tidu.sqrt(x).sum()
    ...     try:
    ...         y.backward()
    ...     except tidu.GradientError as e:
    ...         print(str(e).splitlines()[0])
    anomaly: the backward of Sqrt produced inf in the gradient of its input 0 (shape (2,))
    """
    prev = _State.anomaly
    _State.anomaly = bool(enabled)
    try:
        yield
    finally:
        _State.anomaly = prev


def set_detect_anomaly(enabled: bool) -> None:
    """Turn anomaly mode on or off globally."""
    _State.anomaly = bool(enabled)


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return _State.anomaly
