"""Launched by tests/test_distributed.py with ``mpirun -n 2``: trains data-parallel in
several ways and writes, from each rank, what the test compares with one process.

Usage: python equivalence.py OUT_DIR. Rank r writes OUT_DIR/rank{r}.npz; the files the
ranks' callbacks write go into OUT_DIR/rank{r}/ (each rank works there).
"""

import json
import os
import sys

import numpy as np

import tidu
import tidu.distributed as dist
from tidu.callbacks import BackupAndRestore, Callback, CSVLogger, ModelCheckpoint
from tidu.nn import Dense

dist.init()
R, N = dist.rank(), dist.size()
out = os.path.abspath(sys.argv[1])
work = os.path.join(out, f"rank{R}")
os.makedirs(work, exist_ok=True)
os.chdir(work)  # relative paths: each rank writes (if at all) into its own folder
result: dict = {}

rng = np.random.default_rng(7)
# 47 rows: validation_split=0.2 leaves 37 = 3 * 12 + 1 to train on, so the last global batch
# has one row: rank 0's slice of it is empty
x = rng.normal(size=(47, 6)).astype(np.float32)
labels = rng.integers(0, 3, size=47)
y = np.eye(3, dtype=np.float32)[labels]


def make_model(seed: int):
    tidu.manual_seed(seed)
    model = tidu.Sequential([Dense(8, activation="tanh", input_shape=(6,)),
                             Dense(3, activation="softmax")])
    model.compile(optimizer=tidu.optim.RMSprop(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def weights(model):
    return [p.data.copy() for p in model.parameters()]


# 1. the Keras-style path: different initial weights per rank, broadcast from rank 0
model = make_model(100 + R)
result["init_before_broadcast"] = weights(model)
hist = dist.fit(model, x, y, batch_size=12, epochs=3, seed=5, verbose=2,
                validation_split=0.2,
                callbacks=[ModelCheckpoint("ckpt.npz", monitor="loss", save_weights_only=True),
                           CSVLogger("log.csv")])
result["fit_weights"] = weights(model)
result["fit_history"] = json.dumps(hist.history)
result["evaluate"] = dist.evaluate(model, x, y, batch_size=10, return_dict=True)["loss"]
if R == 0:  # the reference: one process, the same global batches and seed
    ref = make_model(100)
    h = ref.fit(x, y, batch_size=12, epochs=3, seed=5, verbose=0, validation_split=0.2)
    result["ref_fit_weights"] = weights(ref)
    result["ref_fit_history"] = json.dumps(h.history)
    result["ref_evaluate"] = ref.evaluate(x, y, batch_size=10, return_dict=True)["loss"]

# 2. a hand-written loop: DistributedOptimizer, broadcast_parameters, shard, small buckets
tidu.manual_seed(200 + R)
net = tidu.Sequential([Dense(5, activation="relu", input_shape=(6,)), Dense(3)])
net(tidu.Tensor(x[:1]))
opt = dist.DistributedOptimizer(tidu.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                                bucket_bytes=64)  # several buckets for this small net
dist.broadcast_parameters(net)
result["loop_after_broadcast"] = weights(net)
result["loop_buckets"] = len(opt._buckets())
loss_fn = tidu.losses.get("mse")
for step in range(4):
    xb, yb = x[step * 8:(step + 1) * 8], y[step * 8:(step + 1) * 8]
    xs, ys = dist.shard(xb, yb)
    opt.zero_grad()
    loss_fn(ys, net(tidu.Tensor(xs))).backward()
    opt.step()
result["loop_weights"] = weights(net)

# 2b. the same loop with the reductions started from gradient hooks during backward
tidu.manual_seed(200 + R)
net = tidu.Sequential([Dense(5, activation="relu", input_shape=(6,)), Dense(3)])
net(tidu.Tensor(x[:1]))
opt = dist.DistributedOptimizer(tidu.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                                bucket_bytes=64, overlap=True)
dist.broadcast_parameters(net)
started = 0
for step in range(4):
    xb, yb = x[step * 8:(step + 1) * 8], y[step * 8:(step + 1) * 8]
    xs, ys = dist.shard(xb, yb)
    opt.zero_grad()
    loss_fn(ys, net(tidu.Tensor(xs))).backward()
    started += sum(b.request is not None for b in opt._buckets())  # in flight before step
    opt.step()
result["overlap_weights"] = weights(net)
result["overlap_started"] = started
if R == 0:
    tidu.manual_seed(200)
    ref = tidu.Sequential([Dense(5, activation="relu", input_shape=(6,)), Dense(3)])
    ref(tidu.Tensor(x[:1]))
    ropt = tidu.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for step in range(4):
        xb, yb = x[step * 8:(step + 1) * 8], y[step * 8:(step + 1) * 8]
        ropt.zero_grad()
        loss_fn(yb, ref(tidu.Tensor(xb))).backward()
        ropt.step()
    result["ref_loop_weights"] = weights(ref)

# 3. metrics averaged over the ranks
averaged = dist.average_logs({"loss": float(R + 1), "accuracy": 0.5 * R})
result["averaged"] = np.array([averaged["loss"], averaged["accuracy"]])


# 4. resume: a run stopped after its second epoch continues from rank 0's backup
class Stop(Callback):
    def __init__(self, active: bool):
        self.active = active

    def on_epoch_end(self, epoch, logs=None):
        if self.active and epoch == 1:
            raise KeyboardInterrupt


first = make_model(300 + R)
try:
    dist.fit(first, x, y, batch_size=12, epochs=4, seed=9, verbose=0,
             callbacks=[Stop(True), BackupAndRestore("backup")])
except KeyboardInterrupt:
    result["backup_on_this_rank"] = os.path.isdir("backup") and bool(os.listdir("backup"))
second = make_model(400 + R)  # other weights: the backup must replace them on every rank
dist.fit(second, x, y, batch_size=12, epochs=4, seed=9, verbose=0,
         callbacks=[Stop(False), BackupAndRestore("backup")])
result["resumed_weights"] = weights(second)
if R == 0:
    ref = make_model(300)
    ref.fit(x, y, batch_size=12, epochs=4, seed=9, verbose=0)
    result["ref_resumed_weights"] = weights(ref)

flat = {}
for k, v in result.items():
    if isinstance(v, list):
        for i, a in enumerate(v):
            flat[f"{k}/{i}"] = np.asarray(a)
    else:
        flat[k] = np.asarray(v)
np.savez(os.path.join(out, f"rank{R}.npz"), **flat)
print(f"rank {R} of {N}: done", flush=True)
