"""The benchmark suite's bookkeeping (``bench/run.py``): ratios, the paired check of W1's
matmul share, the in-round products reference, and one small end-to-end run. No timing is
asserted: the times here are made up, or only checked to exist."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # puts bench/ on sys.path for its workloads package
    return mod


def _w1(run, times: dict):
    from workloads.common import Target, Workload

    return run.summarize(Workload(
        key="W1", title="t", unit="s/epoch", scale=1.0, runs={}, products="matmul only",
        flops=1e9, targets=[Target("tidu", "torch", 0.8, "W1 tidu <= 0.8x torch")]),
        times, rate=10.0)


def _results(res: dict) -> dict:
    machine = {"cpu": "c", "cores": 2, "python": "3", "numpy": "2", "date_utc": "d",
               "matmul_gflops_w1_shapes": 10.0, "matmul_gflops_1024": 12.0}
    return {"machine": machine, "threads": "2", "rounds": 4, "clock": "wall time",
            "quick": False, "workloads": {"W1": res}}


def test_paired_is_the_median_of_per_round_ratios(run):
    assert run.paired([1.0, 2.0, 9.0], [2.0, 2.0, 3.0]) == 1.0  # ratios 0.5, 1, 3
    assert run.paired([3.0], [4.0]) == 0.75


def test_products_share_and_target_ratios(run):
    times = {"tidu": [1.0, 2.0, 1.0, 2.0], "torch": [2.0, 2.0, 2.0, 4.0],
             "matmul only": [0.7, 1.0, 0.7, 1.0]}
    res = _w1(run, times)
    row = res["rows"]["tidu"]
    assert row["of_products"] == pytest.approx(0.85 / 1.5)  # ratio of medians
    assert row["of_products_paired"] == pytest.approx(0.6)  # rounds: 0.7, 0.5, 0.7, 0.5
    assert res["rows"]["matmul only"]["of_products_paired"] == 1.0
    check = res["targets"][0]
    assert check["ratio"] == pytest.approx(1.5 / 2.0)
    assert check["paired"] == pytest.approx(0.5)  # rounds: 0.5, 1, 0.5, 0.5
    assert check["met"] is True


def test_matmul_share_is_checked_on_the_paired_ratio(run):
    # the reference's fast rounds meet the epoch's slow ones: apart, the medians say 0.9;
    # round by round the epoch never reaches 75% of the bare products' rate
    times = {"tidu": [1.0, 1.0, 1.0, 2.0, 2.0], "torch": [2.0] * 5,
             "matmul only": [0.7, 0.7, 1.2, 1.2, 1.2]}
    results = _results(_w1(run, times))
    text = run.table(results)
    share = [c for c in results["checks"] if "products" in c["target"]]
    assert len(share) == 1
    assert share[0]["ratio"] == pytest.approx(1.2)  # medians 1.2 / 1.0
    assert share[0]["paired"] == pytest.approx(0.7)
    assert share[0]["met"] is False
    row = [ln for ln in text.splitlines() if ln.startswith("| W1 tidu's whole epoch")]
    assert len(row) == 1 and row[0].endswith("| **no** |")
    times["matmul only"] = [0.8] * 3 + [1.6] * 2  # paired 0.8: met
    results = _results(_w1(run, times))
    run.table(results)
    assert [c["met"] for c in results["checks"] if "products" in c["target"]] == [True]


def test_products_contender_runs_a_partial_last_batch():
    from workloads import w1_textb as w1

    x = np.random.default_rng(0).random((300, 784), dtype=np.float32)  # 128 + 128 + 44
    epoch = w1.build_products(x)
    assert epoch() is None
    assert w1.step_flops(300) == pytest.approx(2.0 * 300 * (784 * 512 + 512 * 10)
                                               + 2.0 * 300 * (2 * 512 * 10 + 784 * 512))


def test_one_small_run_writes_its_tables(run, tmp_path):
    torch = pytest.importorskip("torch")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = {i["prefix"]: i["num_threads"] for i in threadpoolctl.threadpool_info()}
    torch_threads = torch.get_num_threads()
    out = str(tmp_path / "w3")
    try:  # the suite sets the threads of the whole process: put them back
        res = run.main(["--only", "W3", "--rounds", "1", "--quick", "--no-memory",
                        "--no-import", "--out", out])
    finally:
        threadpoolctl.threadpool_limits(limits=blas)
        torch.set_num_threads(torch_threads)
    assert {i["prefix"]: i["num_threads"] for i in threadpoolctl.threadpool_info()} == blas
    rows = res["workloads"]["W3"]["rows"]
    assert {"tidu", "numpy", "torch"} <= set(rows)
    assert all(r["median"] > 0 for r in rows.values())
    with open(out + ".json") as fh:
        saved = json.load(fh)
    assert saved["workloads"]["W3"]["rows"].keys() == rows.keys()
    with open(out + ".md") as fh:
        md = fh.read()
    assert "W3 tidu eager <= 0.4x torch eager" in md
