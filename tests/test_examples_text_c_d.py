"""The worked examples of Texts C and D run (small settings) and show what the texts claim."""


import numpy as np
import pytest
import torch

import tidu
from _examples import DATA, example

needs_mnist = pytest.mark.skipif(not (DATA / "mnist").is_dir(), reason=f"{DATA} not present")



# ----- Text C: perceptron and XOR -----


def test_perceptron_solves_and_or_but_not_xor_and_the_mlp_solves_xor(capsys):
    mod = example("text_c_perceptron_xor")
    res = mod.main(["--epochs", "300"])
    p, m = res["perceptron"], res["mlp"]
    for task in ("AND", "OR"):
        assert p[task]["accuracy"] == 1.0 and p[task]["epochs_to_converge"] is not None
    assert p["XOR"]["epochs_to_converge"] is None
    assert p["XOR"]["best_accuracy"] <= 0.75 and p["XOR"]["accuracy"] <= 0.75
    assert res["linear_best_xor"] == 0.75  # Minsky: 3 of 4 points at most, and 3 are possible
    for task in ("AND", "OR", "XOR"):
        assert m[task]["accuracy"] == 1.0
    assert m["XOR"]["probabilities"].round().tolist() == [0, 1, 1, 0]
    assert "XOR" in capsys.readouterr().out


def test_perceptron_rule_gives_a_separating_line_and_sign_has_no_gradient():
    mod = example("text_c_perceptron_xor")
    unit = mod.perceptron(3)
    y = np.array([-1, -1, -1, 1.0])
    mod.train_perceptron(unit, mod.X, y, epochs=50)
    w, b = unit.kernel.numpy()[:, 0], unit.bias.numpy()[0]
    np.testing.assert_array_equal(np.sign(mod.X @ w + b), y)  # NumPy, independently
    assert mod.sign_gradient_is_zero(0) == 0.0


# ----- Text C: activations and the collapse of linear layers -----


def test_activations_sigmoid_learns_slowest_tanh_and_relu_reach_the_target():
    res = example("text_c_activations").main(["--epochs", "40"])["activations"]
    sig, tanh, relu = res["sigmoid"], res["tanh"], res["relu"]
    for r in (tanh, relu):
        assert r["accuracy"] >= 0.97 and r["epochs_to_target"] is not None
        assert r["loss"] < sig["loss"] / 10
        assert r["grad_norm_init"] > 4 * sig["grad_norm_init"]
    assert sig["epochs_to_target"] is None or sig["epochs_to_target"] > max(
        tanh["epochs_to_target"], relu["epochs_to_target"])
    assert 0.2 < sig["mean_slope_init"] <= 0.25  # sigmoid' never exceeds 1/4


def test_two_linear_layers_equal_one_linear_layer():
    mod = example("text_c_activations")
    linear, with_tanh = mod.collapse(0), mod.collapse(0, hidden_activation="tanh")
    assert linear["combined_kernel_shape"] == (4, 3)
    assert linear["max_diff"] < 1e-5 and linear["lstsq_residual"] < 1e-5
    assert with_tanh["lstsq_residual"] > 0.05
    # independently: H = X W_h + b_h, O = H W_o + b_o against X (W_h W_o) + (b_h W_o + b_o)
    tidu.manual_seed(1)
    model = tidu.Sequential([tidu.nn.Dense(5, input_shape=(4,), bias_initializer="ones"),
                             tidu.nn.Dense(3, bias_initializer="ones")])
    x = np.random.default_rng(1).standard_normal((20, 4))
    (wh, bh), (wo, bo) = [(layer.kernel.numpy().astype(np.float64),
                           layer.bias.numpy().astype(np.float64)) for layer in model.layers]
    np.testing.assert_allclose(model.predict(x.astype(np.float32)), x @ (wh @ wo) + (bh @ wo + bo),
                               rtol=1e-5, atol=1e-5)


# ----- Text C: overfitting, regularization, zero initialization -----


@needs_mnist
def test_l2_and_dropout_shrink_the_train_test_gap_and_zero_init_stays_symmetric():
    res = example("text_c_overfitting").main([
        "--data", str(DATA), "--train-size", "400", "--test-size", "2000", "--epochs", "40",
        "--width", "256", "--symmetry-epochs", "4"])
    reg = res["regularization"]
    plain, l2, drop, both = (reg[k] for k in ("plain", "L2(0.005)", "dropout(0.5)",
                                              "L2 + dropout"))
    assert plain["train_acc"] > 0.97 and plain["memorized"] > 0.9  # it fits the noise
    for r in (l2, drop, both):
        assert r["gap"] < plain["gap"] - 0.02
        assert r["test_acc"] >= plain["test_acc"]
        assert r["memorized"] < plain["memorized"]
    assert both["gap"] < min(l2["gap"], drop["gap"])
    zeros, rand = res["symmetry"]["zeros"], res["symmetry"]["random"]
    assert zeros["distinct_units"] == 1 and zeros["relative_spread"] < 1e-4
    assert zeros["kernel_abs_max"] > 1e-3  # it did learn, as one unit copied 32 times
    assert rand["distinct_units"] == 32 and rand["relative_spread"] > 0.1


def test_label_corruption_is_seeded_and_of_the_requested_size():
    mod = example("text_c_overfitting")
    y = np.arange(10000) % 10
    a, picked = mod.corrupt(y, 0.2, 0)
    b, _ = mod.corrupt(y, 0.2, 0)
    np.testing.assert_array_equal(a, b)
    assert abs(picked.mean() - 0.2) < 0.02 and np.array_equal(a[~picked], y[~picked])


# ----- Text D: backpropagation by hand -----


def test_handwritten_backprop_equals_tidu_autodiff_and_torch_autograd():
    mod = example("text_d_handwritten_backprop")
    args = ["--samples", "300"] + (["--data", str(DATA)] if (DATA / "mnist").is_dir() else [])
    res = mod.main(args)
    assert res["allclose"]
    assert res["loss"]["hand"] == pytest.approx(res["loss"]["ops"], rel=1e-12)
    assert res["loss"]["hand"] == pytest.approx(res["loss"]["layers"], rel=1e-12)
    for diffs in res["max_diff"].values():
        assert max(diffs.values()) < 1e-10
    # PyTorch autograd as the text's oracle, on the same weights (float64)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((40, 12)), rng.standard_normal(40)
    weights = [rng.standard_normal((12, 7)), rng.standard_normal(7),
               rng.standard_normal((7, 1)), rng.standard_normal(1)]
    inp, w1, b1, w2, b2 = (mod.arr(a) for a in (x, *weights))
    loss = mod.forward_and_backward(inp, y, w1, b1, w2, b2)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, *weights)]
    out = torch.relu(ts[0] @ ts[1] + ts[2]) @ ts[3] + ts[4]
    ref = ((out[:, 0] - torch.tensor(y)) ** 2).mean()
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for mine, t in zip((inp, w1, b1, w2, b2), ts):
        np.testing.assert_allclose(mine.g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_finite_difference_image_gradient_along_an_axis():
    res = example("text_d_handwritten_backprop").main(["--samples", "50"])
    img, dx = res["image"], res["dx"]
    assert res["dx_shape"] == (28, 27) and res["dy_shape"] == (27, 28)
    assert res["finite_difference_matches"]
    i, j = 14, 10
    assert dx[i, j] == img[i, j + 1] - img[i, j]


# ----- Text D: the Theano logistic regression -----


def test_theano_style_logreg_fits_the_random_labels_and_the_cost_falls():
    res = example("text_d_theano_style_logreg").main(["--steps", "800"])
    costs = res["costs"]
    assert res["initial_accuracy"] < 0.6
    assert res["train_accuracy"] >= 0.98
    assert costs[-1] < costs[0] / 20
    assert all(b <= a + 1e-9 for a, b in zip(costs[50:], costs[51:]))  # monotone once settled
    assert res["new_predictions"].shape == (30,) and res["new_predictions"].dtype == bool


def test_theano_style_update_matches_the_closed_form_gradient():
    mod = example("text_d_theano_style_logreg")
    (x, y), w, b, train, predict = mod.make_model(7)
    w0, b0 = w.numpy().copy(), float(b.item())
    p = 1 / (1 + np.exp(-(x @ w0 + b0)))
    gw = x.T @ (p - y) / len(y) + 0.02 * w0  # d cost / d w, by hand
    gb = np.mean(p - y)
    prediction, xent, cost = train(x, y)
    np.testing.assert_array_equal(prediction, p > 0.5)
    np.testing.assert_allclose(w.numpy(), w0 - 0.1 * gw, rtol=1e-10, atol=1e-12)
    assert float(b.item()) == pytest.approx(b0 - 0.1 * gb, rel=1e-10, abs=1e-12)
    np.testing.assert_array_equal(predict(x), 1 / (1 + np.exp(-(x @ w.numpy() + b.item()))) > 0.5)
    # the stable xent is the literal formula (and torch's BCE on logits)
    z = x @ w0 + b0
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(z), torch.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(xent, ref, rtol=1e-10, atol=1e-12)
    assert cost == pytest.approx(ref.mean() + 0.01 * np.sum(w0 ** 2), rel=1e-12)
    zs = np.linspace(-30, 30, 61)
    literal = np.log(1 / (1 + np.exp(-zs)))
    np.testing.assert_allclose(mod.log_sigmoid(tidu.tensor(zs)).numpy(), literal, rtol=1e-9,
                               atol=1e-15)
    far = np.array([-800.0, -40.0, 40.0, 800.0])  # where log(1 - p_1) would be log(0)
    np.testing.assert_allclose(mod.log_sigmoid(tidu.tensor(far)).numpy(),
                               -np.logaddexp(0, -far), rtol=1e-12, atol=1e-15)
