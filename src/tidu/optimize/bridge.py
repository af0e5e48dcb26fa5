"""``scipy.optimize.minimize`` over tidu functions and models, with tidu's derivatives.

scipy gets a float64 vector, the loss and its gradient from one forward and one backward
pass (``jac=True``), and, for the methods that use second derivatives, Hessian-vector
products (``hessp``: Newton-CG, trust-ncg, trust-krylov, trust-constr) or the dense Hessian
(``hess``: dogleg, trust-exact) by double backward. Derivative-free methods (Nelder-Mead,
Powell, COBYLA, COBYQA) get the loss alone, computed without recording a graph.

scipy is imported when a minimizer runs, never when tidu is imported.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from .. import losses as losses_mod
from ..autograd import no_grad
from ..nn import Module
from ..tensor import Tensor
from .objective import Objective, _double_backward_available

GRADIENT_FREE = frozenset({"nelder-mead", "powell", "cobyla", "cobyqa"})
HESSP_METHODS = frozenset({"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"})
HESS_METHODS = frozenset({"dogleg", "trust-exact"})
SECOND_ORDER_REQUIRED = frozenset({"trust-ncg", "trust-krylov"}) | HESS_METHODS


def _scipy_optimize():
    try:
        import scipy.optimize
    except ImportError as e:
        raise ImportError("tidu.optimize needs scipy: pip install tidu[scipy] "
                          "(or pip install scipy)") from e
    return scipy.optimize


def _default_method(kwargs) -> str:
    """scipy's own choice when no method is named."""
    if kwargs.get("constraints"):
        return "SLSQP"
    return "L-BFGS-B" if kwargs.get("bounds") is not None else "BFGS"


def _wrap_callback(callback: Callable, obj: Objective) -> Callable:
    """Write the iterate into the parameters before the user's callback sees it.

    Keeps the callback's calling convention: scipy passes an OptimizeResult to a function
    whose only parameter is named ``intermediate_result``, and ``xk`` (plus, for
    trust-constr, ``state``) otherwise.
    """
    names = list(inspect.signature(callback).parameters)
    if names == ["intermediate_result"]:
        def wrapped(intermediate_result):
            obj.write(intermediate_result.x)
            return callback(intermediate_result)
    else:
        def wrapped(xk, *rest):
            obj.write(xk)
            return callback(xk, *rest)
    return wrapped


def run(obj: Objective, x0, method=None, *, jac: bool | None = None,
        hessp: bool | None = None, hess: bool | None = None,
        callback: Callable | None = None, **kwargs):
    """Minimize an :class:`Objective` with ``scipy.optimize.minimize`` from ``x0``.

    The shared engine of :func:`minimize` and :func:`minimize_model`; see them for the
    arguments. On return (or on any exception, Ctrl-C included) the parameters hold the best
    point evaluated; if that is not scipy's ``x`` (a trial point that scipy did not keep but
    whose loss is lower), ``x`` and ``fun`` are replaced by it.
    """
    so = _scipy_optimize()
    if method is None:
        method = _default_method(kwargs)
    name = method.lower() if isinstance(method, str) else None
    use_jac = (name not in GRADIENT_FREE) if jac is None else bool(jac)
    have_dd = _double_backward_available()
    use_hess = (name in HESS_METHODS and have_dd) if hess is None else bool(hess)
    use_hessp = (not use_hess and name in HESSP_METHODS and have_dd) if hessp is None \
        else bool(hessp)
    if name in SECOND_ORDER_REQUIRED and not (use_hess or use_hessp):
        raise ValueError(f"method {method!r} needs second derivatives: pass hessp=True "
                         "(or hess=True); they need tidu.grad(..., create_graph=True)")
    kw = dict(kwargs)
    if use_jac:
        kw["jac"] = True
    if use_hess:
        kw["hess"] = obj.hess
    elif use_hessp:
        kw["hessp"] = obj.hessp
    if callback is not None:
        kw["callback"] = _wrap_callback(callback, obj)
    fun = obj.fun_and_jac if use_jac else obj.fun
    try:
        res = so.minimize(fun, np.asarray(x0, dtype=np.float64).ravel(), method=method, **kw)
    except BaseException:
        obj.restore_best()
        raise
    finally:
        obj._graph = obj._cache = None  # free the graphs and arrays kept for scipy
    if obj.best_x is not None and (not math.isfinite(res.fun) or obj.best_f < res.fun):
        res.x, res.fun = obj.best_x.copy(), obj.best_f
    obj.write(res.x)
    res.history = list(obj.history)
    return res


def minimize(fun: Callable[..., Tensor], x0, method: str | Callable | None = None, *,
             args: tuple = (), jac: bool | None = None, hessp: bool | None = None,
             hess: bool | None = None, callback: Callable | None = None,
             nonfinite: str = "raise", **kwargs):
    """Minimize ``fun(x, *args)``, a tidu function of one array, with any scipy method.

    Args:
        fun: takes a float64 Tensor shaped like ``x0`` and returns a scalar Tensor.
        x0: the starting point (any shape; converted to float64).
        method: any ``scipy.optimize.minimize`` method name or callable; None lets scipy
            choose (BFGS, or L-BFGS-B with bounds, SLSQP with constraints).
        args: extra arguments passed to ``fun``.
        jac: hand scipy tidu's gradient (default: for every method that uses one); False
            lets scipy take finite differences.
        hessp: hand scipy Hessian-vector products by double backward (default: for
            Newton-CG, trust-ncg, trust-krylov and trust-constr).
        hess: hand scipy the dense Hessian, built from ``x0.size`` Hessian-vector products
            (default: for dogleg and trust-exact, which need it).
        callback: scipy's callback, ``callback(intermediate_result)`` or ``callback(xk)``.
        nonfinite: 'raise' (default) stops with ``NonFiniteObjectiveError`` on a NaN/inf loss
            or gradient; 'inf' reports such points to scipy as +inf.
        **kwargs: passed to ``scipy.optimize.minimize`` (bounds, constraints, tol, options).

    Returns:
        scipy's ``OptimizeResult``, its ``x`` shaped like ``x0``, plus ``history``: the loss
        at every evaluation, in order.

    Raises:
        ImportError: scipy is not installed (``pip install tidu[scipy]``).
        NonFiniteObjectiveError: the loss or gradient was NaN/inf (``nonfinite='raise'``).

    >>> import tidu.optimize
    >>> res = tidu.optimize.minimize(lambda x: x ** 2 - 4 * x + 8, 1.3, method="BFGS")
    >>> round(float(res.x), 6), round(float(res.fun), 6)
    (2.0, 4.0)
    """
    obj = Objective.from_function(fun, x0, args, nonfinite=nonfinite)
    res = run(obj, obj.x0, method, jac=jac, hessp=hessp, hess=hess, callback=callback,
              **kwargs)
    res.x = res.x.reshape(obj.shape)
    return res


def _trainable(model_or_params) -> list:
    if isinstance(model_or_params, Module):
        params = model_or_params.parameters()
    elif isinstance(model_or_params, Tensor):
        params = [model_or_params]
    else:
        params = list(model_or_params)
    return [p for p in params if p.requires_grad]


def minimize_model(model: Module | Sequence[Tensor], loss_fn: Callable[[], Tensor] | None = None,
                   method: str | Callable = "L-BFGS-B", *, x=None, y=None, loss=None,
                   jac: bool | None = None, hessp: bool | None = None, hess: bool | None = None,
                   callback: Callable | None = None, nonfinite: str = "raise", **kwargs):
    """Fit a model's parameters (or a list of Tensors) with a scipy minimizer, full batch.

    The starting point is the parameters' current values; scipy's iterates are written back
    into them (cast to each one's dtype) at every evaluation, and at the end they hold the
    best point found. Frozen parameters (``requires_grad=False``) are left alone.

    Args:
        model: a :class:`tidu.nn.Module` or a list of Tensors with ``requires_grad=True``.
        loss_fn: a function of no arguments returning the scalar loss Tensor computed from the
            current parameters (PyTorch's ``closure``). Or leave it out and give ``x``, ``y``:
        x, y: the whole training set; the loss is then ``loss(y, model(x))`` plus the
            model's regularization penalties. The model is built on ``x`` if needed.
        loss: a loss name, instance or callable (default: the compiled ``model.loss``).
        method, jac, hessp, hess, callback, nonfinite, **kwargs: as in :func:`minimize`.

    Returns:
        scipy's ``OptimizeResult`` (``x`` the flat float64 parameter vector, in
        ``parameters()`` order) plus ``history``, the loss at every evaluation.
    """
    if loss_fn is None:
        if x is None or y is None or not isinstance(model, Module):
            raise ValueError("minimize_model: pass loss_fn (a closure computing the loss), "
                             "or a Module with x=..., y=... (and loss=... unless compiled)")
        loss_fn = _data_loss(model, x, y, loss)
    elif x is not None or y is not None:
        raise ValueError("minimize_model: give either loss_fn or x and y, not both")
    obj = Objective(_trainable(model), loss_fn, nonfinite=nonfinite)
    return run(obj, obj.vector(), method, jac=jac, hessp=hessp, hess=hess, callback=callback,
               **kwargs)


def _data_loss(model: Module, x, y, loss) -> Callable[[], Tensor]:
    loss = losses_mod.get(loss if loss is not None else getattr(model, "loss", None)
                          or _missing_loss())
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if not model.built:
        with no_grad():
            model(x[:1])

    def closure() -> Tensor:
        value = loss(y, model(x))
        reg = model.regularization_loss()
        return value if reg is None else value + reg

    return closure


def _missing_loss():
    raise ValueError("minimize_model: the model is not compiled; pass loss=... (e.g. 'mse')")
