"""CSVLogger: one row of logs per epoch in a CSV file."""

from __future__ import annotations

import csv

from .callback import Callback


class CSVLogger(Callback):
    """Append each epoch's logs to ``filename`` (a header row first), flushing every row.

    Its state (:meth:`get_state`) holds what this training wrote so far; a resumed fit puts
    exactly that back after the file's earlier content and appends from there, so rows
    written after the checkpoint by a killed run are not repeated.
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        self.filename, self.separator, self.append = str(filename), separator, append
        self._file = None
        self._writer = None

    def on_train_begin(self, logs=None):
        import os

        has_header = self.append and os.path.exists(self.filename) and os.path.getsize(
            self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._start = self._file.tell()
        self._writer = None
        self._has_header = has_header

    def get_state(self) -> dict:
        with open(self.filename, newline="") as f:
            f.seek(self._start)
            text = f.read()
        return {"start": self._start, "text": text,
                "keys": None if self._writer is None else list(self._keys)}

    def set_state(self, state: dict) -> None:
        self._file.close()
        with open(self.filename, "r+", newline="") as f:
            f.truncate(int(state["start"]))
            f.seek(int(state["start"]))
            f.write(state["text"])
        self._file = open(self.filename, "a", newline="")
        self._start = int(state["start"])
        self._writer = None
        if state["keys"] is not None:
            self._keys = list(state["keys"])
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys],
                                          delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys],
                                          delimiter=self.separator)
            if not self._has_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "") for k in self._keys}})
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
