"""Launched by tests/test_distributed.py with ``mpirun -n 2``: rank 1 fails at its third
step, while rank 0 goes on into the next gradient reduction, where it would wait forever.

Usage: python fail.py raise|kill. ``raise``: rank 1 raises ValueError (tidu.distributed's
excepthook aborts the job); ``kill``: rank 1 is killed by SIGKILL (the launcher ends it).
"""

import os
import signal
import sys

import numpy as np

import tidu
import tidu.distributed as dist
from tidu.callbacks import Callback
from tidu.nn import Dense

MODE = sys.argv[1]
dist.init()


class FailOnRankOne(Callback):
    def on_train_batch_end(self, batch, logs=None):
        if dist.rank() == 1 and batch == 2:
            if MODE == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError("a deliberate failure in the third batch")


x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
y = x.sum(axis=1, keepdims=True)
model = tidu.Sequential([Dense(4, activation="relu", input_shape=(4,)), Dense(1)])
model.compile(optimizer="sgd", loss="mse")
dist.fit(model, x, y, batch_size=8, epochs=50, verbose=0, seed=0,
         callbacks=[FailOnRankOne()])
print(f"rank {dist.rank()}: finished without noticing the failure", flush=True)
