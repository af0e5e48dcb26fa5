"""ModelCheckpoint: save the weights after epochs, atomically."""

from __future__ import annotations

import string

from .callback import Callback, get_monitored, monitor_mode


class ModelCheckpoint(Callback):
    """Save the model's weights after each epoch (or only when ``monitor`` improves).

    ``filepath`` may hold format fields from the epoch and the logs, e.g.
    ``"ckpt/w-{epoch:02d}-{val_loss:.3f}.npz"`` (epochs count from 1, as Keras prints them;
    also ``learning_rate``). The fields are checked when training starts: an unknown name
    (a metric that was not compiled, ``val_...`` without validation data) or a format that
    cannot print a number fails then, not after the first epoch's work.
    By default the whole model is saved (``model.save``: architecture, weights, optimizer);
    with ``save_weights_only=True`` only the weights (``model.save_weights``). Both write a
    temporary file and rename it, so a crash never leaves a half-written checkpoint. (A model
    without ``save`` falls back to its weights.)
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, mode: str = "auto",
                 save_weights_only: bool = False):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        _placeholders(self.filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = bool(save_weights_only)
        self._better = monitor_mode(monitor, mode)
        self.best = None

    def get_state(self) -> dict:
        return {"best": self.best}

    def set_state(self, state: dict) -> None:
        self.best = state["best"]

    def on_train_begin(self, logs=None):
        names = self.params.get("metrics")
        if names is None:  # not called by fit: take the names from the compiled model
            names = ["loss", *(m.name for m in getattr(self.model, "compiled_metrics", []))]
        known = ["epoch", *names]
        if self.params.get("do_validation", True):
            known += [f"val_{n}" for n in names]
        known.append("learning_rate")
        check_filepath(self.filepath, known, "ModelCheckpoint",
                       hint="" if self.params.get("do_validation", True) else
                       "; the val_ names need validation_data or validation_split")

    def _fields(self, epoch: int, logs: dict) -> dict:
        fields = {"epoch": epoch + 1}
        opt = getattr(self.model, "optimizer", None)
        if opt is not None:
            fields["learning_rate"] = float(opt.learning_rate)
        fields.update(logs)
        return fields

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(**self._fields(epoch, logs))
        if self.save_best_only:
            value = get_monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or value != value:
                return
            if self.best is not None and not self._better(value, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved to {value:.5f}, "
                      f"saving to {path}")
            self.best = value
        save = getattr(self.model, "save", None)
        if self.save_weights_only or save is None:
            self.model.save_weights(path)
        else:
            save(path)


def _placeholders(filepath: str) -> list:
    """The ``(name, format spec)`` of each ``{...}`` field of ``filepath``."""
    try:
        fields = [(f, spec) for _, f, spec, _ in string.Formatter().parse(filepath)
                  if f is not None]
    except ValueError as e:
        raise ValueError(f"ModelCheckpoint: filepath {filepath!r} is not a valid format "
                         f"string ({e}); write literal braces as '{{{{' and '}}}}'") from None
    for f, _ in fields:
        if not f or f.isdigit():
            raise ValueError(f"ModelCheckpoint: filepath {filepath!r} has a positional field "
                             "'{}'; name the value instead, e.g. {epoch:02d} or {val_loss:.3f}")
    return fields


def check_filepath(filepath: str, known: list, owner: str, hint: str = "") -> None:
    """Every field of ``filepath`` is one of ``known`` and formats a number (1 for the
    epoch, 0.5 for the others); else a ValueError naming the field and the known names."""
    fields = _placeholders(filepath)
    for field, _ in fields:
        key = field.split(".")[0].split("[")[0]
        if key not in known:
            raise ValueError(f"{owner}: filepath {filepath!r} uses the unknown placeholder "
                             f"{{{field}}}; known: {', '.join(known)}{hint}")
    sample = {k: 1 if k == "epoch" else 0.5 for k in known}
    for field, spec in fields:
        text = "{" + field + (":" + spec if spec else "") + "}"
        try:
            text.format(**sample)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as e:
            raise ValueError(f"{owner}: filepath {filepath!r}: the placeholder {text} cannot "
                             f"format a value such as {sample[field.split('.')[0].split('[')[0]]}"
                             f" ({e})") from None
