"""The loops over data of a Keras-style model: ``fit``, ``evaluate`` and ``predict``, with
callbacks, validation, sample and class weights, resuming and the non-finite checks; one
batch is :mod:`tidu.models.steps`'s."""

from __future__ import annotations

import math
import time

import numpy as np

from .. import backend
from .. import metrics as metrics_mod
from ..autograd import no_grad
from ..callbacks import Callback, CallbackList, History, ProgbarLogger
from ..callbacks.terminate_on_nan import batch_position
from ..errors import TiduError
from ..optim.optimizer import NonFiniteUpdateError
from ..random import get_state, manual_seed, seed_epoch, set_state
from ..tensor import Tensor
from . import data as D
from . import training as T
from .fit_state import FitState, set_metric_state
from .steps import Steps


class NonFiniteLossError(TiduError, FloatingPointError):
    """The loss became NaN or infinite; the offending update was not applied."""


class Trainer:
    """Mixin of :class:`tidu.models.Model` (Keras's trainer): ``fit``, ``evaluate`` and
    ``predict`` over arrays or generators of batches, in mini-batches on the model's
    device."""

    def fit(self, x, y=None, batch_size: int = 32, epochs: int = 1, verbose: int = 1,
            callbacks: list[Callback] | None = None, validation_split: float = 0.0,
            validation_data=None, shuffle: bool = True, initial_epoch: int = 0,
            seed: int | None = None, *, sample_weight=None, class_weight=None,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_freq=1, verify: float | bool | None = None) -> History:
        """Train for ``epochs`` passes over (x, y) in mini-batches.

        Args:
            x, y: NumPy arrays (or Tensors) with samples on the first axis; or ``x`` a Python
                generator or iterable of batches ``(x, y)`` / ``(x, y, sample_weight)`` and
                ``y`` None (rules in :mod:`tidu.models.training`).
            batch_size: samples per update (the last batch may be smaller).
            epochs: passes over the data.
            verbose: 0 silent, 1 progress bar (a line per epoch when not on a terminal),
                2 one line per epoch.
            callbacks: tidu.callbacks.Callback instances.
            validation_split: fraction of the data held out for validation: as in Keras, the
                LAST samples of x and y, taken before shuffling (shuffle your data first if
                it is ordered).
            validation_data: (x_val, y_val), evaluated after each epoch; overrides the split.
            shuffle: reshuffle the training samples before each epoch.
            initial_epoch: epoch to start counting from (for resuming).
            sample_weight: one weight per sample of ``x``, given to the loss (Keras: the
                batch loss is ``sum(w * loss_i) / batch_size``) and to the metrics.
            class_weight: ``{class index: weight}``; each sample weighs its class's
                weight (1 when missing), for one-hot or integer labels. Not with
                ``sample_weight``.
            steps_per_epoch: batches per epoch: required for a generator (which then
                continues across epochs); for arrays, the first batches of each epoch.
            validation_steps: batches of a validation generator per evaluation.
            validation_freq: validate after every ``n``-th epoch (an int), or after the
                epochs (1-based) in a list.
            verify: verified mode (:func:`tidu.debug.verified`) during training: each
                operation's backward is checked against float64 finite differences on this
                fraction of its calls (True: 0.1); a wrong one raises VerificationError.
            seed: reseed tidu's generator first (``tidu.manual_seed(seed)``, for any lazy
                weight creation), then at the start of each epoch ``e`` from ``[seed, e]``
                (``tidu.random.seed_epoch``): epoch ``e``'s shuffle order and dropout masks
                are the same in ``fit(seed=s)`` and ``fit(seed=s, initial_epoch=e)``.

        Resuming inside one call: a callback (``BackupAndRestore``) may replace
        ``model.fit_state`` in ``on_train_begin`` by a saved position
        (:class:`tidu.models.fit_state.FitState`); fit then skips the finished epochs and
        batches and continues the generator and the running averages from there. Callbacks
        with ``runs_last = True`` are called after the History.

        Returns:
            A History whose ``history`` maps 'loss', metric names and their 'val_' versions
            to per-epoch lists.

        Raises:
            NonFiniteLossError: the loss became NaN/inf (unless a TerminateOnNaN callback
                stopped training); the update of that batch is not applied.
            NonFiniteUpdateError: an update would have made a parameter or its optimizer state
                NaN/inf (unless TerminateOnNaN stopped training); it is not applied, and the
                error names the parameter and the batch.
            TypeError, ValueError, ShapeError: bad data or batch size (see
                :mod:`tidu.models.data`), before anything is trained.
        """
        self._check_compiled("fit")
        if seed is not None:
            manual_seed(seed)
        batch_size = D.check_batch_size(batch_size, "fit")
        source, (xv, yv, swv) = self._fit_sources(
            x, y, sample_weight, class_weight, batch_size, validation_split, validation_data,
            T.check_steps(steps_per_epoch, "steps_per_epoch", "fit"))
        validation_steps = T.check_steps(validation_steps, "validation_steps", "fit")
        if xv is not None and yv is None:  # a generator: refused now, not after an epoch
            T.BatchSource(xv, validation_steps, "fit", "validation_data", "validation_steps")
        validation_freq = T.check_validation_freq(validation_freq)
        self._ensure_built(source.x if not source.generator and hasattr(source, "x")
                           else D.to_array(source.peek()[0], "x", "fit"))
        params = self.parameters()
        self.optimizer.build(params)

        from ..random import get_generator

        n = source.n
        steps = source.steps
        history = History()
        user = list(callbacks or [])
        if verify:
            from ..debug import Verify

            user.append(Verify(rate=0.1 if verify is True else float(verify)))
        cbs = [*(c for c in user if not getattr(c, "runs_last", False)), history,
               *(c for c in user if getattr(c, "runs_last", False))]
        if verbose:
            cbs.insert(0, ProgbarLogger(verbose))
        cb = CallbackList(cbs, model=self,
                          params={"epochs": epochs, "steps": steps, "verbose": verbose,
                                  "metrics": ["loss", *(m.name for m in self.compiled_metrics)],
                                  "do_validation": xv is not None})
        loss_tracker = metrics_mod.Mean(name="loss")
        self.stop_training = False
        self.train()
        trackers = [loss_tracker, *self.compiled_metrics]
        tracked = [c for c in cbs if not isinstance(c, ProgbarLogger)]
        self.fit_state = FitState(initial_epoch, trackers=trackers, callbacks=tracked)
        cb.on_train_begin()
        keras_step = self.keras_train_step  # inspects the signature: once, not per batch
        # the built-in step on batches checked once for all (a subclass's own train_step, or
        # one a callback installs on the instance, gets every batch as before and checks it)
        own_step = type(self).train_step is Steps.train_step
        inst = self.__dict__
        dev = self.device  # once per call: batches go to the model's device (a no-op on CPU)
        prev_dev = inst.get("_batch_device")
        object.__setattr__(self, "_batch_device", dev)
        start = self.fit_state  # a restored position, or where this call starts
        try:
            for epoch in range(start.epoch, epochs):
                resume = start if epoch == start.epoch and start.step else None
                position = self.fit_state = FitState(epoch, trackers=trackers,
                                                     callbacks=tracked)
                for m in trackers:
                    m.reset_state()
                if resume is not None and resume.tracker_states is not None:
                    for m, saved in zip(trackers, resume.tracker_states):
                        set_metric_state(m, saved)
                cb.on_epoch_begin(epoch)
                if seed is not None:
                    seed_epoch(seed, epoch)
                if resume is not None and resume.epoch_rng is not None:
                    set_state(resume.epoch_rng)
                position.epoch_rng = get_state()
                order = get_generator().permutation(n) if shuffle else None
                if resume is not None and resume.rng is not None:
                    set_state(resume.rng)
                logs = {m.name: m.result() for m in trackers}
                for step, (xb, yb, swb) in enumerate(source.epoch(order)):
                    if resume is not None and step < resume.step:
                        continue
                    cb.on_train_batch_begin(step)
                    keras_logs = None
                    fast = own_step and "train_step" not in inst
                    move = keras_step or fast
                    if move:
                        xb, yb = D.to_model_device(xb, dev), D.to_model_device(yb, dev)
                        swb = D.to_model_device(swb, dev)
                    try:
                        if keras_step:  # Keras's train_step(data) -> dict
                            keras_logs = self._keras_logs(self.train_step((xb, yb)))
                            value, pred = keras_logs["loss"], None
                        elif fast:
                            value, pred = self._train_batch(xb, yb, swb, params)
                        else:
                            value, pred = self.train_step(xb, yb, **T.weight_kw(swb))
                        refused = None
                    except NonFiniteUpdateError as e:
                        if not hasattr(e, "loss"):
                            raise
                        value, pred, refused = e.loss, e.predictions, e
                    if keras_logs is None:
                        loss_tracker.update_state(value, sample_weight=len(xb))
                        if not move:  # a subclass's step may return predictions on the device
                            yb, swb = D.beside(yb, pred), D.beside(swb, pred)
                        for m in self.compiled_metrics:
                            m.update_state(yb, pred, **T.weight_kw(swb))
                    logs = {"loss": loss_tracker.result()}
                    if not math.isfinite(value):
                        logs["loss"] = value
                    for m in self.compiled_metrics:
                        logs[m.name] = m.result()
                    if keras_logs is not None:
                        logs = keras_logs
                    if refused is not None:
                        logs["nonfinite_update"] = refused.parameter
                    position.step = step + 1
                    cb.on_train_batch_end(step, logs)
                    logs.pop("nonfinite_update", None)
                    if refused is not None:
                        if self.stop_training:
                            break
                        raise NonFiniteUpdateError(
                            f"fit: at {batch_position(epoch, step)}: {refused} Add "
                            "tidu.callbacks.TerminateOnNaN() to stop cleanly instead",
                            refused.index, refused.name, refused.parameter) from refused
                    if not math.isfinite(value):
                        if self.stop_training:
                            break
                        raise NonFiniteLossError(
                            f"fit: the loss became {value} at {batch_position(epoch, step)}; "
                            "that update was not applied. Lower the learning rate, check the "
                            "inputs for NaN/inf and their scale, or add "
                            "tidu.callbacks.TerminateOnNaN() to stop cleanly instead"
                        )
                    if self.stop_training:
                        break
                if source.exhausted:
                    self.stop_training = True
                if xv is not None and T.should_validate(epoch, validation_freq):
                    val = self.evaluate(xv, yv, batch_size=batch_size, verbose=0,
                                        return_dict=True, sample_weight=swv,
                                        steps=validation_steps)
                    self.train()
                    logs.update({f"val_{k}": v for k, v in val.items()})
                cb.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            self.train()
            if prev_dev is None:
                inst.pop("_batch_device", None)
            else:
                object.__setattr__(self, "_batch_device", prev_dev)
        cb.on_train_end()
        self.eval()
        return history

    def _fit_sources(self, x, y, sample_weight, class_weight, batch_size, split, val, steps):
        """The training batches (``tidu.models.training``) and ``(xv, yv, swv)``."""
        if T.is_batch_source(x):
            for what, v in (("y", y), ("sample_weight", sample_weight),
                            ("class_weight", class_weight)):
                if v is not None:
                    raise ValueError(f"fit: x is a {type(x).__name__} of batches, so {what} "
                                     "must be None: yield (x, y) or (x, y, sample_weight)")
            if split:
                raise ValueError("fit: validation_split needs arrays, not a "
                                 f"{type(x).__name__}; pass validation_data instead")
            source = T.BatchSource(x, steps, "fit", "x")
        else:
            x, y = self._check_data(x, y, "fit")
            sw = T.batch_weights(y, sample_weight, class_weight, "fit")
            if split and val is None:
                (x, y), (xv, yv) = D.split_validation(x, y, split)
                if sw is not None:
                    sw, swv = sw[:len(x)], sw[len(x):]
                    return (T.ArraySource(x, y, sw, batch_size, steps, "fit"),
                            (xv, yv, swv))
                return T.ArraySource(x, y, sw, batch_size, steps, "fit"), (xv, yv, None)
            source = T.ArraySource(x, y, sw, batch_size, steps, "fit")
        if val is None:
            return source, (None, None, None)
        if T.is_batch_source(val):
            return source, (val, None, None)
        if not isinstance(val, (tuple, list)) or len(val) not in (2, 3):
            raise ValueError("fit: validation_data must be a pair (x_val, y_val), a triple "
                             "(x_val, y_val, sample_weight_val) or a generator of batches, "
                             f"got {type(val).__name__}")
        xv, yv = self._check_data(val[0], val[1], "fit",
                                  ("validation_data[0]", "validation_data[1]"))
        return source, (xv, yv, val[2] if len(val) == 3 else None)

    def evaluate(self, x, y=None, batch_size: int = 32, verbose: int = 0,
                 return_dict: bool = False, *, sample_weight=None, steps: int | None = None):
        """Loss and metrics on (x, y), in evaluation mode, averaged over all samples.

        ``x`` may be a generator or iterable of batches (``steps`` of them; required for a
        generator), and ``sample_weight`` weighs the samples as in ``fit``. ``verbose=1``
        prints one line as Keras does: ``10/10 - 0s - loss: 0.3100 - accuracy: 0.9100``.

        Returns:
            The loss alone when no metrics were compiled, else ``[loss, *metrics]``, or a
            dict ``{'loss': ..., 'accuracy': ...}`` with ``return_dict=True``.
        """
        self._check_compiled("evaluate")
        batch_size = D.check_batch_size(batch_size, "evaluate")
        steps = T.check_steps(steps, "steps", "evaluate")
        if T.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError(f"evaluate: x is a {type(x).__name__} of batches, so y and "
                                 "sample_weight must be None")
            source = T.BatchSource(x, steps, "evaluate", "x", "steps")
        else:
            x, y = self._check_data(x, y, "evaluate")
            sw = T.batch_weights(y, sample_weight, None, "evaluate")
            source = T.ArraySource(x, y, sw, batch_size, steps, "evaluate")
        start, done = time.perf_counter(), 0
        was_training = self.training
        self.eval()
        tracker = metrics_mod.Mean(name="loss")
        for m in self.compiled_metrics:
            m.reset_state()
        try:
            with no_grad(), self._batches_on_device() as dev:
                for xb, yb, swb in source.epoch():
                    if isinstance(source, T.BatchSource):  # unchecked batches
                        xb, yb = self._check_data(xb, yb, "evaluate")
                        if swb is not None:
                            swb = T.check_sample_weight(swb, len(xb), "evaluate")
                    xb, yb = D.to_model_device(xb, dev), D.to_model_device(yb, dev)
                    swb = D.to_model_device(swb, dev)
                    value, pred = self._eval_batch(xb, yb, **T.weight_kw(swb))
                    tracker.update_state(value, sample_weight=len(xb))
                    for m in self.compiled_metrics:
                        m.update_state(yb, pred, **T.weight_kw(swb))
                    done += 1
        finally:
            self.train(was_training)
        result = {"loss": tracker.result(), **{m.name: m.result() for m in self.compiled_metrics}}
        if verbose:
            print(f"{done}/{source.steps or done} - {time.perf_counter() - start:.0f}s - "
                  + " - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
        if return_dict:
            return result
        return result["loss"] if len(result) == 1 else list(result.values())

    def predict(self, x, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """The model's outputs for ``x`` as a NumPy array, computed in batches, eval mode.

        Integer and boolean inputs are computed in the default float (float32), as in fit.
        """
        batch_size = D.check_batch_size(batch_size, "predict")
        x, _ = self._check_data(x, None, "predict")
        result = None
        n = len(x)

        def run(b, start):
            nonlocal result
            out = backend.to_host(self(Tensor(b)).data)
            if result is None:  # one output array, filled batch by batch (no concatenate)
                result = np.empty((n, *out.shape[1:]), out.dtype)
            result[start:start + len(out)] = out

        self._in_batches(x, batch_size, run, with_start=True)
        return result if result is not None else np.empty((0,))

    def _in_batches(self, x, batch_size: int, run, with_start: bool = False) -> list:
        """``run(batch)`` (``run(batch, start)`` with ``with_start``) for each batch of ``x``
        on the model's device, in evaluation mode and without a graph (the training mode is
        put back afterwards)."""
        was_training = self.training
        self.eval()
        try:
            with no_grad(), self._batches_on_device() as dev:
                if with_start:
                    return [run(D.to_model_device(x[idx], dev), idx.start)
                            for idx in D.batches(len(x), batch_size)]
                return [run(D.to_model_device(x[idx], dev))
                        for idx in D.batches(len(x), batch_size)]
        finally:
            self.train(was_training)
