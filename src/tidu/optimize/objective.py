"""A scalar tidu loss seen as scipy sees a function: ``fun``, ``jac``, ``hessp``, ``hess``.

:class:`Objective` owns no values of its own: each call writes the float64 vector ``x`` into
the parameters (cast to their dtypes), evaluates the loss closure, and returns float64
results. It counts evaluations, remembers every loss value in order (``history``) and the
best point seen (``best_x``, ``best_f``), and refuses NaN/inf unless told otherwise.

Hessian-vector products come from double backward, ``tidu.grad(..., create_graph=True)``:
the first-order gradient is built as a graph once per point and differentiated again for
each direction (Newton-CG asks for many directions at the same point).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from .. import autograd
from ..errors import TiduError
from ..tensor import Tensor
from .vector import parameters_to_vector, vector_to_parameters

NONFINITE = ("raise", "inf")


class NonFiniteObjectiveError(TiduError, FloatingPointError):
    """The loss or its gradient was NaN or infinite at a point the minimizer asked for."""


def _double_backward_available() -> bool:
    return "create_graph" in inspect.signature(autograd.grad).parameters


class Objective:
    """``fun`` / ``jac`` / ``hessp`` / ``hess`` over a flat float64 vector of parameters.

    Args:
        params: the Tensors (leaves with ``requires_grad=True``) the loss depends on.
        closure: a function of no arguments computing the loss (a scalar Tensor) from the
            current values of ``params``. It must be deterministic (dropout off).
        nonfinite: 'raise' (default): a NaN/inf loss or gradient raises
            :class:`NonFiniteObjectiveError`; 'inf': scipy is told the loss is +inf (and
            non-finite gradient entries are 0), so that derivative-free methods and
            backtracking line searches reject the point.

    >>> import tidu, numpy as np
    >>> x = tidu.tensor(np.array([1.3]), requires_grad=True)
    >>> obj = Objective([x], lambda: (x ** 2 - 4 * x + 8).sum())
    >>> f, g = obj.fun_and_jac(np.array([3.0]))
    >>> float(f), g.tolist(), obj.nfev
    (5.0, [2.0], 1)
    """

    def __init__(self, params: Sequence[Tensor], closure: Callable[[], Tensor],
                 nonfinite: str = "raise"):
        self.params = list(params)
        if not self.params:
            raise ValueError("Objective: no parameters to optimize (is the model built? "
                             "call it on a batch first)")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"Objective: parameters[{i}] must be a Tensor with "
                                 "requires_grad=True")
        if nonfinite not in NONFINITE:
            raise ValueError(f"nonfinite must be one of {NONFINITE}, got {nonfinite!r}")
        self.closure = closure
        self.nonfinite = nonfinite
        self.size = sum(p.data.size for p in self.params)
        self.nfev = self.ngev = self.nhev = 0
        self.history: list[float] = []
        self.best_f = math.inf
        self.best_x: np.ndarray | None = None
        self._written: np.ndarray | None = None
        self._cache: tuple | None = None  # (x, f, g) of the last gradient evaluation
        self._graph: tuple | None = None  # (x, first-order gradient graph) for hessp

    # ----- moving between the vector and the parameters -----
    def vector(self) -> np.ndarray:
        """The parameters' current values as a new float64 vector."""
        return parameters_to_vector(self.params)

    def write(self, x) -> None:
        """Put ``x`` into the parameters (skipped when they already hold it)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        if self._written is not None and np.array_equal(x, self._written):
            return
        vector_to_parameters(x, self.params)
        self._written = x.copy()

    def restore_best(self) -> None:
        """Leave the parameters holding the best point evaluated so far (if any)."""
        if self.best_x is not None:
            self.write(self.best_x)

    # ----- evaluations -----
    def _loss(self) -> Tensor:
        loss = self.closure()
        if not isinstance(loss, Tensor):
            raise TypeError(f"the loss function must return a tidu Tensor, got "
                            f"{type(loss).__name__}")
        if loss.data.size != 1:
            raise ValueError(f"the loss must be a scalar, got shape {loss.shape}; reduce it "
                             "(e.g. .sum() or .mean())")
        return loss

    def _record(self, x, f: float) -> float:
        self.nfev += 1
        if not math.isfinite(f):
            if self.nonfinite == "raise":
                raise NonFiniteObjectiveError(
                    f"the loss is {f} at evaluation {self.nfev} (best so far {self.best_f:.6g}); "
                    "the parameters were left at the best point. Check the loss for log(0) "
                    "or overflow (use a stable form such as from_logits / softplus), or pass "
                    "nonfinite='inf' to let scipy reject such points")
            f = math.inf
        self.history.append(f)
        if f < self.best_f:
            self.best_f, self.best_x = f, np.array(x, dtype=np.float64).ravel()
        return f

    def fun(self, x) -> float:
        """The loss at ``x`` (no graph recorded)."""
        self.write(x)
        with autograd.no_grad():
            f = float(self._loss().item())
        return self._record(x, f)

    def fun_and_jac(self, x) -> tuple[float, np.ndarray]:
        """The loss at ``x`` and its gradient, a float64 vector (one forward, one backward)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        c = self._cache
        if c is not None and np.array_equal(c[0], x):
            return c[1], c[2].copy()
        self.write(x)
        with autograd.enable_grad():
            loss = self._loss()
            if not loss.requires_grad:
                raise ValueError("the loss does not depend on the parameters (no graph): "
                                 "compute it from them with tidu operations")
            grads = autograd.grad(loss, self.params)
        f = float(loss.item())
        g = np.concatenate([np.asarray(gi.data, dtype=np.float64).ravel() for gi in grads])
        self.ngev += 1
        if not np.all(np.isfinite(g)):
            if self.nonfinite == "raise" and math.isfinite(f):
                bad = int(np.flatnonzero(~np.isfinite(g))[0])
                self.nfev += 1
                raise NonFiniteObjectiveError(
                    f"the gradient is not finite (entry {bad} is {g[bad]}) at evaluation "
                    f"{self.nfev}, where the loss is {f:.6g}")
            g = np.where(np.isfinite(g), g, 0.0)
        f = self._record(x, f)
        self._cache = (x.copy(), f, g)
        return f, g.copy()

    def jac(self, x) -> np.ndarray:
        """The gradient at ``x`` (float64; reuses ``fun_and_jac``'s result at the same x)."""
        return self.fun_and_jac(x)[1]

    def hessp(self, x, p) -> np.ndarray:
        """The Hessian at ``x`` times the vector ``p``, by double backward."""
        if not _double_backward_available():
            raise NotImplementedError(
                "Hessian-vector products need double backward (tidu.grad(..., "
                "create_graph=True)), which this version of tidu lacks; pass hessp=False")
        x = np.asarray(x, dtype=np.float64).ravel()
        g = self._graph
        # the graph saved the parameters' arrays, which ``write`` changes in place: it is
        # valid only while the parameters still hold x
        if g is None or not np.array_equal(g[0], x) or not np.array_equal(self._written, x):
            self.write(x)
            with autograd.enable_grad():
                grads = autograd.grad(self._loss(), self.params, create_graph=True)
            g = self._graph = (x.copy(), grads)
        grads = g[1]
        p = np.asarray(p, dtype=np.float64).ravel()
        dot, start = None, 0
        for gi, param in zip(grads, self.params):
            n = param.data.size
            if gi.requires_grad:
                v = p[start:start + n].reshape(param.data.shape).astype(param.data.dtype)
                term = (gi * v).sum()
                dot = term if dot is None else dot + term
            start += n
        self.nhev += 1
        if dot is None:  # the loss is linear in the parameters
            return np.zeros(self.size)
        with autograd.enable_grad():
            hv = autograd.grad(dot, self.params, retain_graph=True)
        return np.concatenate([np.asarray(h.data, dtype=np.float64).ravel() for h in hv])

    def hess(self, x) -> np.ndarray:
        """The dense Hessian at ``x`` (``size`` Hessian-vector products: small problems only)."""
        eye = np.eye(self.size)
        h = np.stack([self.hessp(x, e) for e in eye], axis=1)
        return (h + h.T) / 2

    # ----- construction from a function of one array -----
    @classmethod
    def from_function(cls, fun: Callable[..., Tensor], x0, args: tuple = (),
                      nonfinite: str = "raise") -> Objective:
        """Wrap ``fun(x, *args)``, a function of a float64 Tensor shaped like ``x0``.

        The returned objective's ``x0`` attribute is the flat float64 starting vector.
        """
        x0 = np.array(x0, dtype=np.float64)
        x = Tensor(x0.copy(), requires_grad=True)
        obj = cls([x], lambda: fun(x, *args), nonfinite=nonfinite)
        obj.x0 = x0.ravel()
        obj.shape = x0.shape
        return obj
