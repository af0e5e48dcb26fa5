"""The worked examples of Texts A and B run and reproduce what the texts report."""

import sys

import pytest

from _examples import DATA, EXAMPLES, example, needs

# The course's published run (2000 iterations, learning rate 0.005) prints these costs.
COURSE_COSTS = {0: 0.693147, 100: 0.584508, 200: 0.466949, 1000: 0.214820, 1900: 0.140872}


@needs("catvnoncat")
def test_text_a_functions_reproduce_the_course_run(capsys):
    res = example("text_a_logistic_regression").main(["--data", str(DATA)])
    for it, cost in COURSE_COSTS.items():
        assert res["costs"][it // 100] == pytest.approx(cost, abs=1e-6)
    assert res["train_accuracy"] == pytest.approx(99.04306220095694)
    assert res["test_accuracy"] == pytest.approx(70.0)
    out = capsys.readouterr().out
    assert "Cost after iteration 1900: 0.140872" in out


@needs("catvnoncat")
def test_text_a_keras_style_matches_the_functions(capsys):
    res = example("text_a_keras_style").main(["--data", str(DATA)])
    assert len(res["costs"]) == 20
    for it, cost in COURSE_COSTS.items():
        assert res["costs"][it // 100] == pytest.approx(cost, abs=2e-4)  # float32
    assert res["train_accuracy"] == pytest.approx(99.04306220095694)
    assert res["test_accuracy"] == pytest.approx(70.0)


@needs("mnist")
def test_text_b_mnist_program_learns_quickly_on_a_subset():
    res = example("text_b_mnist").main(["--data", str(DATA), "--limit", "6000", "--epochs",
                                        "3", "--verbose", "0"])
    assert res["test_acc"] > 0.92


@needs("fashion-mnist")
def test_fashion_mnist_example_runs_on_a_subset():
    res = example("fashion_mnist").main(["--data", str(DATA), "--limit", "6000", "--epochs",
                                         "5", "--verbose", "0"])
    assert res["epochs"] <= 5 and res["test_acc"] > 0.75


def test_text_b_network_on_the_embedded_digits():
    res = example("text_b_digits").main(["--epochs", "20"])
    assert res["test_acc"] > 0.93


def test_computation_graph_example_prints_the_texts_numbers():
    import subprocess

    out = subprocess.run([sys.executable, str(EXAMPLES / "computation_graph.py")],
                         capture_output=True, text=True, check=True).stdout
    assert "u = 8, v = 15, J = 45" in out
    assert "dJ/da = 3, dJ/db = 6, dJ/dc = 12" in out
