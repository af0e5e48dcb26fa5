"""Keras 3's subclassing spellings on tidu's Model: ``call`` and ``train_step(data)``.

The rules (see docs/porting.md):

* A subclass that defines ``call(self, inputs, training=None)`` and no ``forward`` gets a
  ``forward`` that runs ``call``; ``training`` receives the module's mode (``model.training``)
  unless the caller passes it. A model whose ``forward`` (or ``call``) does not take
  ``training`` still accepts ``model(x, training=True)``: it runs in that mode for the call.
* A subclass whose ``train_step`` takes one argument besides ``self`` (Keras's
  ``train_step(self, data)``) is called by ``fit`` with ``data = (x, y)`` and must return a
  dict of metric results (``{m.name: m.result() for m in self.metrics}``), which become the
  batch's logs. The step updates ``self.metrics`` itself; ``fit`` resets them each epoch.
  tidu's own form ``train_step(self, x, y)`` returns ``(loss, predictions)`` as before.
* A subclass that keeps Model's ``__init__`` and is called as ``Subclass(inputs, outputs)``
  builds a functional model of a class deriving from both (Keras's rule).
"""

from __future__ import annotations

import functools
import inspect

from .. import metrics as metrics_mod


def _positional_count(fn) -> int:
    """Positional parameters of ``fn`` after ``self`` (a ``*args`` counts as many)."""
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return 2
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                          inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params)


def _takes_training(fn) -> bool:
    marked = getattr(fn, "_tidu_takes_training", None)
    if marked is not None:
        return marked
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "training" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD
                                       for p in params.values())


def install_call(cls: type) -> None:
    """Give ``cls`` a ``forward`` that runs its Keras-style ``call`` (when it has no forward
    of its own); ``training`` defaults to the module's mode."""
    call = cls.__dict__.get("call")
    if call is None or "forward" in cls.__dict__:
        return
    takes = _takes_training(call)

    @functools.wraps(call)
    def forward(self, *args, **kwargs):
        if takes and kwargs.get("training") is None:
            kwargs["training"] = self.training
        return call(self, *args, **kwargs)

    forward._tidu_takes_training = takes
    cls.forward = forward


def install_training(cls: type) -> None:
    """Let callers pass Keras's ``training=`` to a model whose ``forward`` does not take it:
    the model runs in that mode for the call (``train()`` / ``eval()``), then goes back."""
    fwd = cls.__dict__.get("forward")  # an inherited forward is left as it is (a converter
    if fwd is None or _takes_training(fwd):  # may know it): __call__ handles those
        return

    @functools.wraps(fwd)
    def forward(self, *args, training=None, **kwargs):
        if training is None or bool(training) == self.training:
            return fwd(self, *args, **kwargs)
        was = self.training
        self.train(bool(training))
        try:
            return fwd(self, *args, **kwargs)
        finally:
            self.train(was)

    forward._tidu_takes_training = True
    cls.forward = forward


_FUNCTIONAL_SUBCLASSES: dict = {}


def functional_subclass(cls: type) -> type:
    """The class to build for ``cls(inputs, outputs)``: for a Model subclass that keeps the
    inherited ``__init__`` (e.g. one that only overrides ``train_step``), a class deriving
    from both it and ``Functional``, as Keras does; any other class is returned as is."""
    from .functional import Functional
    from .model import Model

    if issubclass(cls, Functional) or cls.__init__ is not Model.__init__:
        return cls
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, Functional),
                    {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


class KerasStyle:
    """Mixin of :class:`tidu.models.Model`: ``call`` dispatch, ``metrics``, ``compute_loss``
    and the Keras form of ``train_step``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        install_call(cls)
        install_training(cls)

    def __call__(self, x, *args, training=None, **kwargs):
        """Module's call, also taking Keras's ``training=`` (see :func:`install_training`)."""
        if training is None:
            return super().__call__(x, *args, **kwargs)
        if _takes_training(type(self).forward):
            return super().__call__(x, *args, training=training, **kwargs)
        if bool(training) == self.training:
            return super().__call__(x, *args, **kwargs)
        was = self.training
        self.train(bool(training))
        try:
            return super().__call__(x, *args, **kwargs)
        finally:
            self.train(was)

    @property
    def keras_train_step(self) -> bool:
        """True when ``train_step`` has Keras's one-argument form ``train_step(data)``."""
        return _positional_count(type(self).train_step) == 1

    @property
    def metrics(self) -> list:
        """The loss tracker (named 'loss') followed by the compiled metrics, as in Keras;
        during ``fit`` these are the live objects that ``fit`` resets and reports."""
        state = getattr(self, "fit_state", None)
        if state is not None and state.trackers:
            return list(state.trackers)
        tracker = self.__dict__.get("_loss_tracker")
        if tracker is None:
            tracker = metrics_mod.Mean(name="loss")
            object.__setattr__(self, "_loss_tracker", tracker)
        return [tracker, *self.compiled_metrics]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        """The compiled loss of ``(y, y_pred)`` plus the regularization penalties (a scalar
        Tensor), as Keras's ``compute_loss``; ``y_pred`` defaults to ``self(x)``."""
        self._check_compiled("compute_loss")
        if y_pred is None:
            y_pred = self(x)
        if sample_weight is None:
            loss = self.loss(y, y_pred)
        else:
            loss = self.loss(y, y_pred, sample_weight=sample_weight)
        reg = self.regularization_loss()
        return loss if reg is None else loss + reg

    def _keras_logs(self, out) -> dict:
        """A Keras ``train_step``'s returned dict as plain floats (it must hold 'loss')."""
        if not isinstance(out, dict):
            raise TypeError(f"{type(self).__name__}.train_step(data) must return a dict of "
                            f"metric results such as {{'loss': ...}}, got "
                            f"{type(out).__name__}")
        logs = {k: float(getattr(v, "data", v)) for k, v in out.items()}
        if "loss" not in logs:
            raise ValueError(f"{type(self).__name__}.train_step(data) must return a 'loss' "
                             f"entry, got keys {sorted(logs)}")
        return logs
