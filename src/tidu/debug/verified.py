"""Verified mode: check each operation's backward against float64 finite differences, live.

Inside ``with tidu.debug.verified(rate=0.1):`` a sample of the operations recorded (the first
call of each operation type, then each call with probability ``rate``) have their backward
checked when the graph is differentiated: for every input that receives a gradient, the
directional derivative ``<backward(g), v>`` along a random direction ``v`` is compared with
``<g, (f(x + eps v) - f(x - eps v)) / (2 eps)>``, the forward recomputed in float64. A
mismatch that a second random direction confirms raises :class:`VerificationError`, naming
the operation (custom :class:`tidu.Function` subclasses included), the input, the worst error
and the line of the user's code that created the operation.

Checks that cannot be conclusive are skipped and counted, never raised: operations whose
forward is random or stateful (recomputing it does not give the recorded output), that do
not compute in float64, or whose input sits on a kink (a one-sided difference disagrees with
the other, as for ``relu`` at 0).

Outside the mode nothing is installed: ``Function.apply`` is wrapped only while a
:class:`Verifier` is active.
"""

from __future__ import annotations

import contextlib
import functools
import linecache
import os
import random as _pyrandom
import sys

import numpy as np

from .._shapes import sum_to
from ..autograd import Function
from ..errors import GradientError
from ..tensor import Tensor

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_F64 = np.dtype("float64")


class VerificationError(GradientError):
    """An operation's backward disagrees with float64 finite differences.

    Attributes: ``op`` (the operation's name), ``input_index``, ``error`` (the relative error
    of the directional derivative), ``worst`` (``(index, backward, finite_difference)`` of the
    worst element probed, or None) and ``site`` (``(filename, lineno)`` or None).
    """

    def __init__(self, message, op, input_index, error, worst, site):
        super().__init__(message)
        self.op, self.input_index, self.error, self.worst, self.site = (
            op, input_index, error, worst, site)


def _user_site():
    """(filename, lineno) of the innermost frame outside tidu, cheaply (no source read)."""
    f = sys._getframe(2)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG):
        f = f.f_back
    return None if f is None else (f.f_code.co_filename, f.f_lineno)


def _to64(a):
    """An argument for the float64 forward: floating arrays (and Tensors) become float64."""
    if isinstance(a, Tensor):
        a = a.data
    if isinstance(a, np.ndarray):
        return a.astype(_F64) if a.dtype.kind == "f" else a
    if isinstance(a, np.floating):
        return float(a)
    return a


class Verifier:
    """One verified-mode session: its options and what it checked.

    Use it through :func:`verified` (a context manager); it may be entered again (the
    ``Verify`` callback enters it once per batch) and keeps counting.

    Attributes:
        seen: operations recorded while active; ``sampled``: those chosen for a check;
        ``checked``: inputs compared with finite differences (each passed);
        ``skipped``: ``{reason: count}`` of checks that could not be conclusive.
    """

    def __init__(self, rate: float = 0.1, *, rtol: float = 1e-2, eps: float = 1e-6,
                 first: int = 1, seed: int = 0):
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"tidu.debug.verified: rate must be in [0, 1], got {rate!r}")
        if rtol <= 0 or eps <= 0:
            raise ValueError(f"tidu.debug.verified: rtol and eps must be positive, got "
                             f"rtol={rtol!r}, eps={eps!r}")
        self.rate, self.rtol, self.eps, self.first = float(rate), float(rtol), float(eps), first
        self._pick = _pyrandom.Random(seed)
        self._dirs = np.random.default_rng(seed)
        self._count: dict[type, int] = {}
        self.seen = self.sampled = self.checked = 0
        self.skipped: dict[str, int] = {}
        self._depth = 0
        self._prev = None

    # ----- activation -----
    def __enter__(self) -> Verifier:
        if self._depth == 0:
            self._prev = _Active.verifier
            if _Active.verifier is None and not _Active.watching:
                _install()
            _Active.verifier = self
        self._depth += 1
        return self

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth == 0:
            _Active.verifier = self._prev
            _uninstall()

    def summary(self) -> str:
        """One line: how many operations were seen, sampled, checked and skipped."""
        skipped = sum(self.skipped.values())
        why = ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items()))
        return (f"verified mode: {self.seen} operations recorded, {self.sampled} sampled, "
                f"{self.checked} gradients checked, {skipped} checks skipped"
                + (f" ({why})" if why else ""))

    # ----- recording -----
    def _sample(self, cls) -> bool:
        self.seen += 1
        n = self._count.get(cls, 0)
        self._count[cls] = n + 1
        return n < self.first or self._pick.random() < self.rate

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    # ----- checking -----
    def _forward(self, cls, args, kwargs):
        return np.asarray(cls().forward(*args, **kwargs))

    def check(self, node, g, grads, out) -> None:
        """Compare ``grads`` (node's backward of ``g``) with finite differences."""
        from ..random import get_generator, get_state, set_state

        cls = type(node)
        args = list(node.args)
        kwargs = node.kwargs
        needs = node.needs_grad
        todo = [i for i, (a, gi) in enumerate(zip(args, grads))
                if gi is not None and needs[i] and a.data.dtype.kind == "f"]
        if not todo:
            return
        state = get_state(get_generator())  # a random forward must not shift the user's draws
        try:
            base = [_to64(a) for a in args]
            try:
                y0 = self._forward(cls, base, kwargs)
            except Exception:  # noqa: BLE001 - an op that cannot run in float64
                self._skip("no float64 forward")
                return
            if y0.dtype != _F64 or y0.shape != out.shape:
                self._skip("no float64 forward")
                return
            scale = float(np.max(np.abs(out))) if out.size else 0.0
            if not np.allclose(y0, out, rtol=1e-3, atol=1e-4 * (1.0 + scale), equal_nan=True):
                self._skip("random or stateful forward")
                return
            g64 = np.asarray(g, dtype=_F64)
            for i in todo:
                self._check_input(node, cls, base, kwargs, i, grads[i], g64, y0)
        finally:
            set_state(state, get_generator())

    def _directional(self, cls, base, kwargs, i, v, eps, g64, y0):
        x = base[i]
        plus = base.copy()
        plus[i] = x + eps * v
        minus = base.copy()
        minus[i] = x - eps * v
        fp = self._forward(cls, plus, kwargs)
        fm = self._forward(cls, minus, kwargs)
        d_plus = float(np.sum(g64 * (fp - y0))) / eps
        d_minus = float(np.sum(g64 * (y0 - fm))) / eps
        noise = 1e3 * np.finfo(_F64).eps * float(np.sum(np.abs(g64) * (np.abs(y0) + 1))) / eps
        return 0.5 * (d_plus + d_minus), abs(d_plus - d_minus), noise

    def _check_input(self, node, cls, base, kwargs, i, gi, g64, y0) -> None:
        x = base[i]
        gi = np.asarray(gi)
        if gi.shape != x.shape:
            gi = sum_to(gi, x.shape, node.name)
        gi = gi.astype(_F64)
        if not (np.all(np.isfinite(gi)) and np.all(np.isfinite(y0))):
            self._skip("non-finite values")
            return
        eps = self.eps * (1.0 + float(np.sqrt(np.mean(x * x))) if x.size else 1.0)
        failures = []
        for attempt in range(2):  # a mismatch counts only if a second direction confirms it
            v = self._dirs.standard_normal(x.shape)
            an = float(np.sum(gi * v))
            fd, kink, noise = self._directional(cls, base, kwargs, i, v, eps, g64, y0)
            err = abs(an - fd)
            bound = self.rtol * (abs(an) + abs(fd)) + 1e-5 * float(np.sum(np.abs(gi * v))) + noise
            if err <= bound:
                self.checked += 1
                return
            if kink > 0.5 * err:  # one-sided differences disagree: a kink, not a wrong backward
                eps *= 0.01
                if attempt == 1:
                    self._skip("non-smooth point")
                    return
                continue
            failures.append((an, fd, err / max(abs(an), abs(fd), 1e-300)))
        if len(failures) < 2:
            self._skip("non-smooth point")
            return
        self._fail(node, cls, base, kwargs, i, gi, g64, y0, eps, failures)

    def _probe(self, cls, base, kwargs, i, gi, g64, y0, eps, limit=32):
        """The worst of up to ``limit`` single elements: (index, backward, finite diff)."""
        flat = np.abs(gi).ravel()
        n = flat.size
        idx = list(np.argsort(-flat)[: limit // 2])
        idx += list(self._dirs.choice(n, size=min(n, limit - len(idx)), replace=False))
        worst = None
        for k in dict.fromkeys(int(j) for j in idx):
            e = np.zeros(n)
            e[k] = 1.0
            fd, _, _ = self._directional(cls, base, kwargs, i, e.reshape(gi.shape), eps, g64, y0)
            bad = abs(flat[k] * np.sign(gi.ravel()[k]) - fd)
            if worst is None or bad > worst[0]:
                worst = (bad, np.unravel_index(k, gi.shape), float(gi.ravel()[k]), fd)
        return worst

    def _fail(self, node, cls, base, kwargs, i, gi, g64, y0, eps, failures) -> None:
        an, fd, rel = max(failures, key=lambda f: f[2])
        worst = self._probe(cls, base, kwargs, i, gi, g64, y0, eps)
        x = base[i]
        msg = (f"verified mode: the backward of {node.name} is wrong for its input {i} "
               f"(shape {tuple(x.shape)}, {node.args[i].dtype}): along a random direction its "
               f"gradient gives {an:.6g} where float64 finite differences give {fd:.6g} "
               f"(relative error {rel:.3g}, tolerance {self.rtol:g}; confirmed on a second "
               "direction)")
        where = None
        if worst is not None:
            _, k, b, f = worst
            pos = tuple(int(j) for j in k)
            msg += (f"; worst element probed: {list(pos)}: backward {b:.6g}, finite "
                    f"differences {f:.6g}")
            worst = (pos, b, f)
        site = getattr(node, "_verify_site", None)
        if site is not None:
            line = linecache.getline(site[0], site[1]).strip()
            msg += f"\n  {node.name} was created at {site[0]}:{site[1]}: {line}"
            where = site
        msg += (f"\n  check {node.name}.backward: it must return d(output)/d(input {i}) "
                "times the output gradient (tidu.gradcheck can test it on small inputs)")
        raise VerificationError(msg, node.name, i, rel, worst, where)


class _Active:
    verifier: Verifier | None = None
    watching = 0  # depth of tidu.debug.watch()


_ORIGINAL = Function.__dict__["apply"]


def _checked_backward(verifier, out, node, g):
    grads = type(node).backward(node, g)
    tup = grads if isinstance(grads, tuple) else (grads,)
    try:
        verifier.check(node, g, tup, out)
    except VerificationError:
        raise
    except Exception:  # noqa: BLE001 - a check that could not run must not stop training
        verifier._skip("check failed to run")
    return grads


def _verified_apply(cls, *args, **kwargs):
    out = _ORIGINAL.__func__(cls, *args, **kwargs)
    v = _Active.verifier
    node = getattr(out, "_node", None)
    if v is None or node is None or type(node) is not cls:
        return out
    if v._sample(cls):
        v.sampled += 1
        node._verify_site = _user_site()
        node.backward = functools.partial(_checked_backward, v, out.data, node)
    return out


def _install() -> None:
    Function.apply = classmethod(_verified_apply)


def _uninstall() -> None:
    if _Active.verifier is None and not _Active.watching:
        Function.apply = _ORIGINAL


@contextlib.contextmanager
def watch():
    """Context manager around a hand-written cost, kept for older code: the operation-level
    detector (a vector broadcast with a row or a column into a square matrix) now runs on
    every add/sub/mul/div by default (``tidu.ops.elementwise``)."""
    if _Active.verifier is None and not _Active.watching:
        _install()
    _Active.watching += 1
    try:
        yield
    finally:
        _Active.watching -= 1
        _uninstall()


def verified(rate: float = 0.1, *, rtol: float = 1e-2, eps: float = 1e-6, first: int = 1,
             seed: int = 0) -> Verifier:
    """Verified mode: a context manager that checks sampled operations' backward passes.

    Args:
        rate: probability that a call of an operation is checked (after the first ``first``
            calls of each operation type, which always are); 1.0 checks every call.
        rtol: relative tolerance of the directional derivatives.
        eps: relative finite-difference step (scaled by the input's root mean square).
        first: calls of each operation type always checked.
        seed: seed of the sampling and of the random directions.

    Returns:
        The :class:`Verifier` (its ``summary()`` says what was checked).

    >>> import tidu
    >>> x = tidu.tensor([0.5, 2.0], requires_grad=True)
    >>> with tidu.debug.verified(rate=1.0) as v:
    ...     (tidu.exp(x) * x).sum().backward()
    >>> v.checked  # exp, both inputs of the product, the sum
    4
    """
    return Verifier(rate, rtol=rtol, eps=eps, first=first, seed=seed)
