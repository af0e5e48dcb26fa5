"""tidu.distributed: data-parallel training over MPI.

The main tests launch real 2-rank jobs with ``mpirun`` (Open MPI, installed by .ci/run) and
compare them with one process trained on the same global batches with the same seed; the
others check the bucket arithmetic and the one-process group in this process.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tidu
import tidu.distributed as dist
from tidu.distributed.buckets import make_buckets, reduce_buckets
from tidu.nn import Dense

SCRIPTS = Path(__file__).parent / "distributed_scripts"
TIMEOUT = 120  # seconds: a hung job fails the test instead of blocking CI


def _mpi_missing() -> str | None:
    if shutil.which("mpirun") is None:
        return "mpirun (Open MPI) is not installed: apt-get install openmpi-bin libopenmpi-dev"
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed: pip install tidu[mpi]"
    return None


MISSING = _mpi_missing()
if MISSING and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the MPI tests, but {MISSING}")
needs_mpi = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def mpirun(*args, n: int = 2, cwd=None) -> subprocess.CompletedProcess:
    """``mpirun -n N python ARGS`` with the settings a root CI container needs."""
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
           "OMPI_MCA_mpi_yield_when_idle": "1",  # waiting ranks yield the 2 shared cores
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = ["mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none", sys.executable,
           *map(str, args)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                              cwd=cwd)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(cmd)} hung for {TIMEOUT} s:\n{e.stdout}\n{e.stderr}")


def _group(z, key: str) -> list:
    return [z[f"{key}/{i}"] for i in range(len(z.files)) if f"{key}/{i}" in z.files]


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """One 2-rank run of distributed_scripts/equivalence.py: each rank's results."""
    out = tmp_path_factory.mktemp("mpi")
    proc = mpirun(SCRIPTS / "equivalence.py", out)
    assert proc.returncode == 0, f"the 2-rank job failed:\n{proc.stdout}\n{proc.stderr}"
    ranks = [np.load(out / f"rank{r}.npz") for r in range(2)]
    return {"out": out, "stdout": proc.stdout, "ranks": ranks}


def _assert_same(got: list, want: list, rtol=1e-5, atol=1e-6):
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


@needs_mpi
def test_fit_on_two_ranks_equals_one_process(job):
    r0, r1 = job["ranks"]
    # the ranks started from other weights (seeds 100, 101): rank 0's were broadcast
    assert not np.allclose(_group(r0, "init_before_broadcast")[0],
                           _group(r1, "init_before_broadcast")[0])
    _assert_same(_group(r0, "fit_weights"), _group(r0, "ref_fit_weights"))
    for a, b in zip(_group(r0, "fit_weights"), _group(r1, "fit_weights")):
        np.testing.assert_array_equal(a, b)  # the same averaged update on both ranks
    got, want = json.loads(str(r0["fit_history"])), json.loads(str(r0["ref_fit_history"]))
    assert set(got) == {"loss", "accuracy", "val_loss", "val_accuracy"} == set(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5)
    assert json.loads(str(r1["fit_history"])) == got  # every rank logs the whole batch
    np.testing.assert_allclose(float(r0["evaluate"]), float(r0["ref_evaluate"]), rtol=1e-5)
    assert float(r1["evaluate"]) == float(r0["evaluate"])


@needs_mpi
def test_hand_written_loop_with_distributed_optimizer(job):
    r0, r1 = job["ranks"]
    for a, b in zip(_group(r0, "loop_after_broadcast"), _group(r1, "loop_after_broadcast")):
        np.testing.assert_array_equal(a, b)
    assert int(r0["loop_buckets"]) > 1  # 64-byte buckets: several Allreduce calls per step
    _assert_same(_group(r0, "loop_weights"), _group(r0, "ref_loop_weights"))
    for a, b in zip(_group(r0, "loop_weights"), _group(r1, "loop_weights")):
        np.testing.assert_array_equal(a, b)
    # overlap=True: the buckets started during backward (steps 2-4: the hooks are added at
    # the first step), with the same result
    assert int(r0["overlap_started"]) == 3 * int(r0["loop_buckets"])
    _assert_same(_group(r0, "overlap_weights"), _group(r0, "ref_loop_weights"))
    for a, b in zip(_group(r0, "overlap_weights"), _group(r1, "overlap_weights")):
        np.testing.assert_array_equal(a, b)


@needs_mpi
def test_metrics_averaged_over_ranks(job):
    for r in job["ranks"]:
        np.testing.assert_allclose(r["averaged"], [1.5, 0.25])  # (1 + 2) / 2, (0 + 0.5) / 2


@needs_mpi
def test_only_rank_zero_prints_and_writes(job):
    lines = [ln for ln in job["stdout"].splitlines() if ln.startswith("Epoch ")]
    assert [ln.split(" - ")[0] for ln in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    out = job["out"]
    assert (out / "rank0" / "ckpt.npz").is_file() and (out / "rank0" / "log.csv").is_file()
    assert len((out / "rank0" / "log.csv").read_text().splitlines()) == 4  # header + 3
    assert not (out / "rank1" / "ckpt.npz").exists() and not (out / "rank1" / "log.csv").exists()


@needs_mpi
def test_resume_from_rank_zero_backup(job):
    r0, r1 = job["ranks"]
    assert bool(r0["backup_on_this_rank"]) and not bool(r1["backup_on_this_rank"])
    _assert_same(_group(r0, "resumed_weights"), _group(r0, "ref_resumed_weights"))
    for a, b in zip(_group(r0, "resumed_weights"), _group(r1, "resumed_weights")):
        np.testing.assert_array_equal(a, b)
    assert not (job["out"] / "rank0" / "backup").exists()  # deleted at the end, by rank 0


@needs_mpi
def test_a_rank_that_raises_stops_the_job():
    proc = mpirun(SCRIPTS / "fail.py", "raise")
    assert proc.returncode != 0
    assert "tidu.distributed: rank 1 of 2 failed with ValueError: a deliberate failure" \
        in proc.stderr
    assert "finished without noticing" not in proc.stdout
    assert "aborting the job (MPI_Abort)" in proc.stderr
    assert "tidu.distributed: rank 0 of 2 was stopped by the launcher" in proc.stderr


@needs_mpi
def test_a_killed_rank_stops_the_job():
    proc = mpirun(SCRIPTS / "fail.py", "kill")
    assert proc.returncode != 0
    assert "rank 1" in proc.stderr and "signal 9" in proc.stderr
    assert "finished without noticing" not in proc.stdout
    # the survivor says so, with its stack: where it was waiting
    assert "tidu.distributed: rank 0 of 2 was stopped by the launcher" in proc.stderr
    assert "reduce_buckets" in proc.stderr


@needs_mpi
def test_cli_train_distributed(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    np.savez(tmp_path / "data.npz", x=x[:60], y=y[:60], x_test=x[60:], y_test=y[60:])
    proc = mpirun("-m", "tidu", "train", "--distributed", "--data", tmp_path / "data.npz",
                  "--recipe", "mlp", "--epochs", "3", "--batch-size", "16", "--quiet",
                  "--output", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("saved ") == 1  # rank 0 only
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["ranks"] == 2 and record["batch_size"] == 16
    assert set(record["results"]) >= {"loss", "test_loss", "test_accuracy"}


# ----- in this process: the bucket arithmetic and the one-process group -----
class TwoRanks:
    """A fake communicator: the sum adds the other rank's buffers, given in advance."""

    def __init__(self, others):
        self.others = list(others)

    def Iallreduce(self, send, recv, op=None):  # noqa: N802
        recv += self.others.pop(0)
        return type("Done", (), {"Wait": lambda self: None})()


def _params(*grads):
    ps = []
    for g in grads:
        p = tidu.tensor(np.zeros(np.shape(g), np.float32), requires_grad=True)
        p.grad = None if g is None else tidu.tensor(np.asarray(g, np.float32))
        ps.append(p)
    return ps


def test_buckets_weight_unequal_shards_and_fill_missing_gradients():
    mine = _params([1.0, 2.0], [[3.0]], None)
    theirs = _params([5.0, 6.0], [[7.0]], None)
    # the other rank had 3 samples, this one 1; parameter 2 has no gradient anywhere
    other = make_buckets(theirs, bucket_bytes=8)
    for b in other:
        b.pack(3.0, False)
    buckets = make_buckets(mine, bucket_bytes=8)
    # reverse order (backward's), cut at 8 bytes: [param 2, param 1], [param 0]
    assert [[id(p) for p in b.params] for b in buckets] == [[id(mine[2]), id(mine[1])],
                                                             [id(mine[0])]]
    assert reduce_buckets(buckets, weight=1.0, comm=TwoRanks([b.buffer for b in other]))
    np.testing.assert_allclose(mine[0].grad.data, [(1 + 15) / 4, (2 + 18) / 4])
    np.testing.assert_allclose(mine[1].grad.data, [[(3 + 21) / 4]])
    assert mine[2].grad is None


def test_buckets_a_skipping_rank_skips_everyone():
    mine, theirs = _params([1.0]), _params([2.0])
    other = make_buckets(theirs)
    other[0].pack(1.0, skip=True)
    assert not reduce_buckets(make_buckets(mine), comm=TwoRanks([other[0].buffer]))
    np.testing.assert_array_equal(mine[0].grad.data, [1.0])  # left as it was


def test_one_process_group_trains_like_the_plain_optimizer():
    dist.init()  # no launcher: the one-process group
    assert dist.size() == 1 and dist.rank() == 0 and dist.backend() == "local"
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    models = []
    for wrap in (False, True):
        tidu.manual_seed(0)
        m = tidu.Sequential([Dense(1, input_shape=(3,))])
        m.compile(optimizer=dist.DistributedOptimizer("adam") if wrap else "adam", loss="mse")
        (dist.fit if wrap else type(m).fit)(m, x, y, batch_size=8, epochs=2, verbose=0, seed=1)
        models.append(m)
    assert type(models[1].optimizer).__name__ == "Adam"  # state_dicts stay loadable
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6)
    assert "train_step" not in models[1].__dict__  # fit put the model back as it was


def test_overlap_refuses_two_backward_passes_per_step():
    dist.init()
    w = tidu.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = dist.DistributedOptimizer(tidu.optim.SGD([w], lr=0.1), overlap=True)
    (w * w).sum().backward()
    opt.step()  # the first step adds the hooks
    opt.zero_grad()
    (w * w).sum().backward()
    (w * 2.0).sum().backward()  # gradient accumulation: a second gradient in one step
    with pytest.raises(dist.DistributedError, match="exactly once per step"):
        opt.step()


def test_shard_and_errors():
    assert [dist.shard_bounds(5, r, 2) for r in (0, 1)] == [(0, 2), (2, 5)]
    assert [dist.shard_bounds(1, r, 2) for r in (0, 1)] == [(0, 0), (0, 1)]
    with pytest.raises(ValueError, match="same length; array 0 has 3 rows, array 1 has 2"):
        dist.shard(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="backend must be 'mpi', 'local' or None"):
        dist._comm._World.comm = None
        dist.init(backend="tcp")
    with pytest.raises(ValueError, match="bucket_bytes must be a positive int"):
        dist.DistributedOptimizer("sgd", bucket_bytes=0)


@needs_mpi
def test_example_distributed_text_b():
    example = Path(__file__).parent.parent / "examples" / "distributed_text_b.py"
    proc = mpirun(example, "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "2 rank(s), global batch 128 (64 rows each)" in proc.stdout
    assert proc.stdout.count("test_acc: ") == 1  # rank 0 only
    assert float(proc.stdout.split("test_acc: ")[1].split()[0]) > 0.5
