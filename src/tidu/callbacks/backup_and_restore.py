"""BackupAndRestore: a ``fit`` killed at any moment and started again continues exactly.

One file in ``backup_dir`` holds everything the rest of the run depends on: the weights, the
optimizer's slots, step count and learning rate, tidu's global generator and the generators
of seeded layers (Dropout), the position in the loop (epoch, batch, the generator's state
when the epoch began, the running loss and metrics) and every callback's ``get_state()``.
Arrays go into the file as tensors, everything else as JSON in its metadata. The file is
written atomically (a temporary file, fsync, rename), so a kill leaves the previous backup.

The same ``fit`` call started again finds the file in ``on_train_begin``, puts it all back
and sets ``model.fit_state``; ``fit`` then skips the finished epochs and batches. The final
weights are bit-identical to those of a run that was never interrupted.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .. import random as tidu_random
from .callback import Callback

FORMAT = "tidu-backup"
VERSION = 1


class BackupAndRestore(Callback):
    """Back up the whole training state regularly; restore it when ``fit`` starts again.

    Args:
        backup_dir: folder of the backup file (created when needed). Use one folder per run.
        save_freq: ``"epoch"`` to back up at the end of each epoch, or an int ``n`` to back
            up after every ``n`` batches (counted over the whole run).
        delete_checkpoint: remove the backup when ``fit`` completes.

    Raises:
        ValueError: in ``fit``, when the backup was written by a different ``fit`` (other
            callbacks or number of batches per epoch), or is not a backup.

    >>> import tidu, numpy as np, tempfile
    >>> from tidu.callbacks import BackupAndRestore
    >>> model = tidu.Sequential([tidu.nn.Dense(1, input_shape=(2,))])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x = np.ones((8, 2), np.float32); y = np.ones((8, 1), np.float32)
    >>> h = model.fit(x, y, epochs=2, verbose=0, seed=0,
    ...               callbacks=[BackupAndRestore(tempfile.mkdtemp())])
    >>> h.epoch
    [0, 1]
    """

    runs_last = True  # after the History, so that every callback's epoch is in the backup

    def __init__(self, backup_dir, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True):
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, (int, np.integer)) or save_freq < 1):
            raise ValueError("BackupAndRestore: save_freq must be 'epoch' or a positive "
                             f"number of batches, got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.delete_checkpoint = bool(delete_checkpoint)

    # ----- the file -----
    @property
    def path(self) -> str:
        """The backup file: ``backup.safetensors``, or ``backup.npz`` without safetensors."""
        name = "backup.safetensors" if _safetensors() else "backup.npz"
        return os.path.join(self.backup_dir, name)

    def _others(self) -> list:
        return [c for c in self.model.fit_state.callbacks if c is not self]

    def _write(self, position: dict) -> None:
        model = self.model
        rngs = {}
        for name, m in model.named_modules():
            get = getattr(m, "get_rng_state", None)
            if get is not None and get() is not None:
                rngs[name] = get()
        state = {
            "format": FORMAT, "version": VERSION, "steps": self.params.get("steps"),
            "weights": dict(model.state_dict()),
            "optimizer": model.optimizer.state_dict(),
            "rng": tidu_random.get_state(), "module_rngs": rngs, "position": position,
            "callbacks": [{"class": type(c).__name__, "state": c.get_state()}
                          for c in self._others()],
        }
        tensors: dict[str, np.ndarray] = {}
        meta = json.dumps(_split(state, "", tensors))
        _save(tensors, self.path, {"tidu_backup": meta})

    def _restore(self) -> None:
        path = self.path
        tensors, meta = _load(path)
        try:
            state = _join(json.loads(meta["tidu_backup"]), tensors)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"BackupAndRestore: {path} is not a tidu backup ({e!r}); remove "
                             "it to start the training from the beginning") from None
        if state.get("format") != FORMAT or state.get("version") != VERSION:
            raise ValueError(f"BackupAndRestore: {path} is not a {FORMAT} file of version "
                             f"{VERSION} (format {state.get('format')!r}, version "
                             f"{state.get('version')!r})")
        saved = [c["class"] for c in state["callbacks"]]
        others = self._others()
        now = [type(c).__name__ for c in others]
        if saved != now or state["steps"] != self.params.get("steps"):
            raise ValueError(
                f"BackupAndRestore: {path} was written by another fit (callbacks {saved}, "
                f"{state['steps']} batches per epoch); this fit has callbacks {now} and "
                f"{self.params.get('steps')} batches per epoch. Start it with the same "
                "arguments, or remove the backup folder to start over")
        model = self.model
        model.load_state_dict(state["weights"])
        model.optimizer.load_state_dict(state["optimizer"])
        tidu_random.set_state(state["rng"])
        modules = dict(model.named_modules())
        for name, rng in state["module_rngs"].items():
            if name not in modules:
                raise ValueError(f"BackupAndRestore: {path} holds the generator of layer "
                                 f"{name!r}, which this model does not have")
            modules[name].set_rng_state(rng)
        for c, saved_cb in zip(others, state["callbacks"]):
            if saved_cb["state"] is not None:
                c.set_state(saved_cb["state"])
        from ..models.fit_state import FitState

        restored = FitState.from_position(state["position"])
        restored.trackers, restored.callbacks = model.fit_state.trackers, model.fit_state.callbacks
        model.fit_state = restored

    # ----- the hooks -----
    def on_train_begin(self, logs=None):
        if os.path.exists(self.path):
            self._restore()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch" or self.model.stop_training:
            return  # a stopped run is replayed from the previous backup, exactly
        pos = self.model.fit_state
        done = pos.epoch * int(self.params.get("steps") or 0) + pos.step
        if done % self.save_freq == 0:
            self._write(pos.position(tidu_random.get_state()))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch" and not self.model.stop_training:
            from ..models.fit_state import FitState

            self._write(FitState(epoch + 1).position(tidu_random.get_state()))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            from .. import io

            os.remove(self.path)
            io.remove_stale(self.backup_dir)  # temporaries of killed writes, once provably dead
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass  # not empty: the user's files, or a temporary too young to be proven dead


def _split(obj, key: str, tensors: dict):
    """``obj`` with every NumPy array replaced by ``{"__tensor__": name}`` (into tensors)."""
    if isinstance(obj, np.ndarray):
        tensors[key] = np.ascontiguousarray(obj)
        return {"__tensor__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): _split(v, f"{key}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{key}/{i}", tensors) for i, v in enumerate(obj)]
    return obj


def _join(obj, tensors: dict):
    """The inverse of :func:`_split`."""
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            return tensors[obj["__tensor__"]]
        return {k: _join(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, tensors) for v in obj]
    return obj


def _safetensors() -> bool:
    """Whether the optional ``safetensors`` library (``pip install tidu[safetensors]``) is
    installed: backups are then safetensors files, else pickle-free NumPy ``.npz``."""
    import importlib.util

    return importlib.util.find_spec("safetensors") is not None


_META = "__tidu_backup__"  # the JSON of an .npz backup, as a uint8 array


def _save(tensors: dict, path: str, metadata: dict) -> None:
    from .. import io

    if path.endswith(".safetensors"):
        io.save_tensors(tensors, path, metadata)
        return
    arrays = {**tensors, _META: np.frombuffer(metadata["tidu_backup"].encode(), np.uint8)}
    io.atomic_write(path, lambda f: np.savez(f, **arrays))


def _load(path: str) -> tuple[dict, dict]:
    from .. import io

    arrays, metadata = io.load_tensors(path)
    if _META in arrays:
        metadata = {"tidu_backup": arrays.pop(_META).tobytes().decode()}
    return arrays, metadata
