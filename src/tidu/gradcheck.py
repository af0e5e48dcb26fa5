"""Prove gradients right: analytic gradients against central finite differences in float64.

The role of ``torch.autograd.gradcheck`` and ``scipy.optimize.check_grad``, and meant for
users' own operations too. The output is projected on a fixed random direction ``v`` so that
one backward pass gives the vector-Jacobian product ``v^T J`` for every input, which is then
compared, element by element, with ``(f(x + eps) - f(x - eps)) / (2 eps)`` of ``sum(v * f)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .autograd import no_grad
from .errors import TiduError
from .tensor import Tensor


class GradcheckError(TiduError, AssertionError):
    """Analytic and numerical gradients disagree."""


@dataclass
class GradcheckResult:
    """Worst absolute and relative error for each checked input."""

    ok: bool
    max_abs_error: list = field(default_factory=list)
    max_rel_error: list = field(default_factory=list)
    analytic: list = field(default_factory=list)
    numerical: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        rows = [f"input {i}: max abs error {a:.3e}, max rel error {r:.3e}"
                for i, (a, r) in enumerate(zip(self.max_abs_error, self.max_rel_error))]
        return ("gradcheck passed" if self.ok else "gradcheck FAILED") + "\n" + "\n".join(rows)


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Compare ``fn``'s autodiff gradients with central differences, in float64.

    Args:
        fn: maps the inputs (Tensors) to one output Tensor of any shape.
        inputs: arrays or Tensors; floating ones are checked (cast to float64 copies),
            others are passed through unchanged.
        eps: finite-difference step.
        atol, rtol: an element passes when |analytic - numerical| <= atol + rtol*|numerical|.
        seed: seed of the random projection direction.
        raise_exception: raise :class:`GradcheckError` on failure instead of returning.

    Returns:
        A :class:`GradcheckResult`, truthy when every input passed.

    >>> import tidu
    >>> tidu.gradcheck(lambda x: (x * x).sum(), [[1.0, 2.0]]).ok
    True
    """
    xs = []
    for x in inputs:
        arr = x.data if isinstance(x, Tensor) else np.asarray(x)
        if np.issubdtype(arr.dtype, np.floating):
            xs.append(Tensor(arr.astype(np.float64), requires_grad=True))
        else:
            xs.append(x)
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(out.shape)
    checked = [x for x in xs if isinstance(x, Tensor)]
    if out.requires_grad:
        out.backward(v)
    result = GradcheckResult(ok=True)
    for x in checked:
        analytic = x.grad.data if x.grad is not None else np.zeros_like(x.data)
        numerical = np.zeros_like(x.data)
        flat = x.data.reshape(-1)
        num_flat = numerical.reshape(-1)
        with no_grad():
            for i in range(flat.size):
                orig = flat[i]
                flat[i] = orig + eps
                plus = float((fn(*xs).data * v).sum())
                flat[i] = orig - eps
                minus = float((fn(*xs).data * v).sum())
                flat[i] = orig
                num_flat[i] = (plus - minus) / (2 * eps)
        diff = np.abs(analytic - numerical)
        abs_err = float(diff.max()) if diff.size else 0.0
        rel = diff / np.maximum(np.abs(numerical), 1e-12)
        rel_err = float(rel.max()) if rel.size else 0.0
        passed = bool(np.all(diff <= atol + rtol * np.abs(numerical)))
        result.ok &= passed
        result.max_abs_error.append(abs_err)
        result.max_rel_error.append(rel_err)
        result.analytic.append(analytic)
        result.numerical.append(numerical)
    if raise_exception and not result.ok:
        raise GradcheckError(str(result))
    return result
