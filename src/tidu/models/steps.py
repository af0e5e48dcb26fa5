"""One batch of a Keras-style model: the eager training step, the compiled one
(``compile(jit_compile=True)``: traced once per batch shape by :mod:`tidu.compile`) and the
evaluation step, each on batches placed on the model's device."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ..optim.optimizer import NonFiniteUpdateError
from ..tensor import Tensor
from . import data as D
from . import training as T


class Steps:
    """Mixin of :class:`tidu.models.Model`: what ``fit``, ``evaluate`` and the ``*_on_batch``
    methods run for one batch. Reads the model's ``loss``, ``optimizer`` and ``jit_compile``
    (set by ``compile``)."""

    def train_step(self, x, y, sample_weight=None) -> tuple[float, np.ndarray]:
        """Forward, loss (plus regularization), backward and update on one batch.

        ``sample_weight`` (one weight per sample) goes to the loss, as in Keras: the loss
        is ``sum(w * per_sample_loss) / batch_size``.

        The batch is moved to the model's device first. Returns the loss value and the
        predictions (an array on the model's device: NumPy's on the CPU). A non-finite loss
        is returned without applying the update; a non-finite update raises
        ``NonFiniteUpdateError`` and is not applied either.
        """
        x, y = self._check_data(x, y, "train_step")
        if sample_weight is not None:
            sample_weight = T.check_sample_weight(sample_weight, len(x), "train_step")
        dev = self._batch_device or self.device
        x, y = D.to_model_device(x, dev), D.to_model_device(y, dev)
        sample_weight = D.to_model_device(sample_weight, dev)
        return self._train_batch(x, y, sample_weight, self.parameters())

    def _train_batch(self, x, y, sample_weight, params) -> tuple[float, np.ndarray]:
        """``train_step`` on a batch already checked (and on the model's device): what ``fit``
        runs for each batch, without checking again what it checked once for all of them."""
        if self.jit_compile and sample_weight is None:
            return self._compiled_train_step(x, y)
        out = self(Tensor(x))
        loss = self.loss(y, out, **T.weight_kw(sample_weight))
        reg = self.regularization_loss()
        if reg is not None:
            loss = loss + reg
        value = float(loss.data)
        if not math.isfinite(value):
            return value, out.data
        opt = self.optimizer
        opt.zero_grad()
        for p in params:
            if p._requires_grad:
                break
        else:
            return value, out.data  # everything frozen: nothing to update
        loss.backward()
        self._apply_update(value, out.data)
        return value, out.data

    _batch_device = None  # while fit/evaluate/predict run: the model's device, looked up once

    @contextlib.contextmanager
    def _batches_on_device(self):
        """Look ``self.device`` up once for a whole fit/evaluate/predict call (it walks the
        parameters); ``train_step`` and the loops read it from ``_batch_device``."""
        prev = self.__dict__.get("_batch_device")
        dev = self.device
        object.__setattr__(self, "_batch_device", dev)
        try:
            yield dev
        finally:
            if prev is None:
                self.__dict__.pop("_batch_device", None)
            else:
                object.__setattr__(self, "_batch_device", prev)

    def _apply_update(self, value: float, pred) -> None:
        """``optimizer.step()``; a refused (non-finite) update carries the batch's loss and
        predictions on the error, for ``fit``'s logs."""
        try:
            self.optimizer.step()
        except NonFiniteUpdateError as e:
            e.loss, e.predictions = value, pred
            raise

    def _traced_loss(self, x, y):
        """Forward, loss and gradients on symbolic inputs: what ``jit_compile`` compiles."""
        from ..autograd import grad

        out = self(x)
        loss = self.loss(y, out)
        reg = self.regularization_loss()
        if reg is not None:
            loss = loss + reg
        params = [p for p in self.parameters() if p.requires_grad]
        return loss, out, list(grad(loss, params))

    def _compiled_train_step(self, x, y):
        """The training step of ``jit_compile``: ``_traced_loss`` compiled once per batch
        shape (and per set of trainable parameters), run on the batch on the model's device;
        the optimizer then applies the gradients as in the eager step."""
        from ..compile import jit

        frozen = tuple(p.requires_grad for p in self.parameters())
        if self._jit_step is None or getattr(self, "_jit_frozen", None) != frozen:
            self._jit_step = jit(self._traced_loss)  # traced for this set of trainable ones
            self._jit_frozen = frozen
        dev = self._batch_device or self.device  # a no-op for batches fit already moved
        loss, out, grads = self._jit_step(D.to_model_device(x, dev), D.to_model_device(y, dev))
        value = float(loss.data)
        if not math.isfinite(value):
            return value, out.data
        opt = self.optimizer
        opt.zero_grad()
        params = [p for p in self.parameters() if p.requires_grad]
        for p, g in zip(params, grads):
            p.grad = g
        self._apply_update(value, out.data)
        return value, out.data

    def _eval_batch(self, x, y, sample_weight=None):
        """The loss (plus regularization) and the predictions of one batch already on the
        model's device, without updating."""
        out = self(Tensor(x))
        loss = self.loss(y, out, **T.weight_kw(sample_weight))
        reg = self.regularization_loss()
        if reg is not None:
            loss = loss + reg
        return float(loss.data), out.data
