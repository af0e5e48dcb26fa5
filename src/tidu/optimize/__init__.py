"""The scipy.optimize bridge: minimize tidu functions and models with any scipy method.

tidu hands ``scipy.optimize.minimize`` a float64 parameter vector, the gradient by
autodiff (``jac``) and, for Newton-CG and the trust-region methods, Hessian-vector products
by double backward (``hessp``). scipy is an optional dependency (``pip install tidu[scipy]``),
imported only when a minimizer runs.

- :func:`minimize`: a function of one array, like ``scipy.optimize.minimize`` itself.
- :func:`minimize_model`: a Module's (or a list of Tensors') parameters, full batch, the
  model left holding the best parameters (cf. ``torch.optim.LBFGS``).
- :class:`Objective`: ``fun`` / ``jac`` / ``hessp`` / ``hess`` for any other scipy routine
  (``check_grad``, ``basinhopping``, ...).
- :func:`parameters_to_vector` / :func:`vector_to_parameters`: as in ``torch.nn.utils``.
"""

from .bridge import minimize, minimize_model, run
from .objective import NonFiniteObjectiveError, Objective
from .vector import parameters_to_vector, vector_to_parameters

__all__ = ["minimize", "minimize_model", "run", "Objective", "NonFiniteObjectiveError",
           "parameters_to_vector", "vector_to_parameters"]
