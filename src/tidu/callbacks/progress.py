"""ProgbarLogger: a tqdm progress bar per epoch, or one line per epoch.

``verbose=1`` draws a bar (steps, time, running loss and metrics) when tqdm is installed and
the output is a terminal; in a log file or without tqdm it falls back to one line per epoch,
so logs are never flooded with carriage-return frames. ``verbose=2`` always prints one line
per epoch; ``verbose=0`` prints nothing (then ``fit`` does not add this callback at all).
"""

from __future__ import annotations

import sys
import time

from .callback import Callback


def _fmt(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, (int, float)))


class ProgbarLogger(Callback):
    """Progress output for ``fit``; ``fit`` adds it when ``verbose`` is 1 or 2."""

    def __init__(self, verbose: int = 1, stream=None, refresh_every: int = 10):
        self.verbose, self.stream, self.refresh_every = verbose, stream, refresh_every
        self._bar = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _use_bar(self) -> bool:
        if self.verbose != 1:
            return False
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        out = self._out()
        return bool(getattr(out, "isatty", lambda: False)())

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._epoch = epoch
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        if self._use_bar():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="step",
                             file=self._out(), leave=True, dynamic_ncols=True, mininterval=0.2)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if batch % self.refresh_every == 0 and logs:
                self._bar.set_postfix_str(_fmt(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        steps = self.params.get("steps")
        if self._bar is not None:
            self._bar.set_postfix_str(_fmt(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
            return
        line = (f"Epoch {epoch + 1}/{self.params.get('epochs')} - {steps}/{steps} - "
                f"{seconds:.1f}s - {_fmt(logs or {})}")
        print(line, file=self._out(), flush=True)
