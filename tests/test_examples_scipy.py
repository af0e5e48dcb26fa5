"""examples/scipy_optimize.py: Text D's parabola and cat vs non-cat with L-BFGS-B."""


import pytest

from _examples import DATA, example

pytest.importorskip("scipy")




def test_every_family_of_methods_finds_the_parabolas_minimum(capsys):
    res = example("scipy_optimize").minimize_parabola()
    for method, (x, f, _) in res.items():
        assert x == pytest.approx(2.0, abs=1e-4) and f == pytest.approx(4.0, abs=1e-8), method
    assert res["BFGS"][2] < res["Nelder-Mead"][2]  # a gradient saves evaluations
    assert "trust-ncg" in capsys.readouterr().out


def test_lbfgsb_reaches_the_cost_of_2000_gradient_descent_steps_in_few_evaluations(capsys):
    if not (DATA / "catvnoncat").is_dir():
        pytest.skip(f"needs the cat vs non-cat data in {DATA / 'catvnoncat'} (not present)")
    pytest.importorskip("h5py")
    res = example("scipy_optimize").main(["--data", str(DATA)])
    gd, lb = res["gradient_descent"], res["lbfgsb"]
    assert gd["cost"] == pytest.approx(0.135608, abs=1e-6)  # Text A's run, 2000 steps
    assert gd["train"] == pytest.approx(99.04306220095694) and gd["test"] == pytest.approx(70.0)
    assert lb["evaluations_to_gd_cost"] <= 25
    assert lb["at_gd_cost"]["cost"] <= gd["cost"]
    assert lb["cost"] < 1e-3 and lb["train"] == 100.0 and lb["nfev"] < 100
    assert lb["check_grad"] < 1e-5
    out = capsys.readouterr().out
    assert "function evaluations" in out and "x**2 - 4x + 8" in out
