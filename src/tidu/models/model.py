"""Model: a tidu.nn.Module with Keras's training API.

Here: ``compile``, the checks of the data, the ``*_on_batch`` methods and saving. The loops
(``fit``, ``evaluate``, ``predict``) are in :mod:`tidu.models.trainer`, one batch (the eager
and the compiled training step) in :mod:`tidu.models.steps`.
"""

from __future__ import annotations

import os

import numpy as np

from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .. import nn, optim
from ..autograd import no_grad
from ..tensor import Tensor
from . import data as D
from . import training as T
from .keras_style import KerasStyle, functional_subclass
from .steps import Steps
from .trainer import NonFiniteLossError, Trainer

__all__ = ["Model", "NonFiniteLossError"]


class Model(KerasStyle, Trainer, Steps, nn.Module):
    """A Module that can be compiled and trained: ``compile``, ``fit``, ``evaluate``,
    ``predict``, ``summary``, ``save_weights`` / ``load_weights``.

    Subclass it and write ``forward`` or Keras's ``call(inputs, training=None)``, optionally
    with Keras's ``train_step(self, data)`` returning a dict of metric results (rules in
    :mod:`tidu.models.keras_style`), or use ``Sequential``.
    """

    optimizer = None
    loss = None
    compiled_metrics: list = []
    stop_training = False
    fit_state = None  # during fit: where it is (tidu.models.fit_state.FitState)

    def __new__(cls, *args, **kwargs):
        """``Model(inputs, outputs)`` makes a functional model (:mod:`.functional`)."""
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            cls = Functional
        elif args or "inputs" in kwargs or "outputs" in kwargs:
            cls = functional_subclass(cls)  # Keras: a subclass without __init__, functionally
        return super().__new__(cls, *args, **kwargs)

    # ----- configuration -----
    jit_compile = False

    def compile(self, optimizer="rmsprop", loss=None, metrics=None,
                jit_compile: bool = False) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Args:
            optimizer: name ('sgd', 'rmsprop', 'adam', ... with Keras's defaults) or instance.
            loss: name ('categorical_crossentropy', 'mse', ...), Loss instance or callable.
            metrics: list of names ('accuracy' is resolved from the loss as Keras does) or
                Metric instances.
            jit_compile: trace the training step once per batch shape into a compiled plan
                (:mod:`tidu.compile`) and run that instead of the eager step; the results
                equal eager training to float rounding.
        """
        if loss is None:
            raise ValueError("compile: loss is required, e.g. loss='categorical_crossentropy'")
        self.optimizer = optim.get(optimizer)
        self.loss = losses_mod.get(loss)
        if isinstance(metrics, (str, metrics_mod.Metric)):
            metrics = [metrics]
        self.compiled_metrics = [metrics_mod.get(m, loss=self.loss) for m in (metrics or [])]
        self.jit_compile = bool(jit_compile)
        self._jit_step = None
        if self.built:
            self.optimizer.build(self.parameters())

    def _check_compiled(self, what: str) -> None:
        if self.loss is None:
            raise RuntimeError(f"{what}: the model is not compiled; call "
                               "model.compile(optimizer=..., loss=...) first")

    def _ensure_built(self, x) -> None:
        """Build the weights by calling the model on the first sample of ``x``, moved to the
        model's device (a model moved with ``to`` before it was built creates them there)."""
        if not self.built:
            with no_grad():
                self(Tensor(D.to_model_device(x[:1], self.device)))

    def _check_data(self, x, y, owner: str, names: tuple = ("x", "y")):
        """x and y as arrays, checked (see :mod:`tidu.models.data`); y may be None."""
        x = D.to_array(x, names[0], owner)
        if y is not None or owner != "predict":
            y = D.to_array(y, names[1], owner, labels=True)
        D.check_input_shape(x, self, owner, names[0])
        D.check_pair(x, y, f"{names[0]} and {names[1]}", owner, names)
        return x, y

    # ----- one batch (Keras): see tidu.models.training -----
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None,
                       return_dict: bool = False):
        """One update on (x, y); this batch's loss (and metrics, as in ``evaluate``)."""
        return T.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict: bool = False):
        """Loss (and metrics) of (x, y) in evaluation mode, without updating."""
        return T.test_on_batch(self, x, y, sample_weight, return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The outputs for the batch ``x`` in one forward pass, evaluation mode."""
        return T.predict_on_batch(self, x)

    # ----- whole model on disk -----
    def save(self, path, include_optimizer: bool = True) -> None:
        """Write the whole model (architecture, weights, compile arguments and optimizer
        state) to one safetensors file ending in '.tidu'; read it with
        ``tidu.models.load_model``. See :mod:`tidu.models.saving`."""
        from .saving import save_model

        save_model(self, path, include_optimizer=include_optimizer)

    # ----- weights on disk -----
    def save_weights(self, path) -> None:
        """Write the weights atomically (``tidu.io.atomic_write``), never as a pickle.

        A path ending in ``.safetensors`` gets the safetensors format when the ``safetensors``
        library is installed (``pip install tidu[safetensors]``); any other path gets NumPy's
        ``.npz``. An interrupted save leaves ``path`` as it was.
        """
        from .. import io

        path = os.fspath(path)
        state = self.state_dict()
        if path.endswith(".safetensors"):
            try:
                import safetensors  # noqa: F401
            except ImportError:
                import warnings

                warnings.warn(f"save_weights: {path}: the safetensors library is not installed "
                              "(pip install tidu[safetensors]), so the file is written in the "
                              ".npz format (load_weights reads either)", stacklevel=2)
            else:
                io.save_tensors(state, path)
                return
        io.atomic_write(path, lambda f: np.savez(f, **state))

    def load_weights(self, path) -> None:
        """Load weights written by ``save_weights`` (safetensors or ``.npz``), all or nothing.

        The whole file is validated against the model (every name, shape, and a dtype that
        casts to the parameter's) before any parameter changes; nothing is ever unpickled.

        Raises:
            tidu.io.FileFormatError: the file is malformed or does not fit the model.
        """
        from .. import io

        self._try_build()
        if not self.built:
            raise ValueError(
                f"load_weights: '{self.name}' is not built, so its weights do not exist yet: "
                "build the model first (call it on a batch or give input_shape)")
        expected = {n: (p.data.shape, p.data.dtype) for n, p in self.named_parameters()}
        arrays, _ = io.load_tensors(path, expected)
        self.load_state_dict(arrays)

    def summary(self, print_fn=print) -> str:
        """Print (and return) a table of layers, output shapes and parameter counts."""
        from .summary import summary_text

        text = summary_text(self)
        if print_fn is not None:
            print_fn(text)
        return text
