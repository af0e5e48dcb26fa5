"""Pictures for learning how networks train (matplotlib, the optional extra ``tidu[plot]``).

matplotlib is imported only when a function draws, and figures are made on an Agg canvas
without pyplot. Every function returns the matplotlib Figure (notebooks show it) and, given
``path=``, also writes it as a PNG.

* :func:`plot_history`: loss and metrics per epoch, train and validation (``History.plot()``);
* :func:`plot_misclassified`: a grid of the test images the model got wrong;
* :func:`plot_histograms`, :func:`plot_layer_histograms`: weights, activations, gradients;
* :func:`plot_decision_boundary`: the regions a 2-D classifier assigns (XOR, perceptron);
* :func:`plot_graph`: a computation graph with its values and gradients (from ``tidu.viz``);
* :func:`explain_optimizers`, :func:`explain_weight_decay`: what SGD, momentum, RMSprop and
  Adam do with one parameter; coupled L2 against decoupled weight decay;
* :func:`plot_diagnostics`: the plots of ``tidu.callbacks.Diagnostics``;
* :func:`figure`: a blank Figure on the same Agg canvas, for pictures of your own.
"""

from ._mpl import figure
from .boundary import decision_grid, plot_decision_boundary
from .diagnostics import plot_diagnostics, plot_quantity
from .graph import plot_graph
from .histograms import (
    activation_arrays,
    gradient_arrays,
    plot_histograms,
    plot_layer_histograms,
    weight_arrays,
)
from .history import plot_history
from .images import labels_of, misclassified, plot_misclassified
from .optimizers import (
    default_optimizers,
    explain_optimizers,
    explain_weight_decay,
    noisy_quadratic,
    trace_optimizer,
)

__all__ = [
    "activation_arrays", "decision_grid", "default_optimizers", "explain_optimizers", "figure",
    "explain_weight_decay", "gradient_arrays", "labels_of", "misclassified", "noisy_quadratic",
    "plot_decision_boundary", "plot_diagnostics", "plot_graph", "plot_histograms",
    "plot_history", "plot_layer_histograms", "plot_misclassified", "plot_quantity",
    "trace_optimizer", "weight_arrays",
]
