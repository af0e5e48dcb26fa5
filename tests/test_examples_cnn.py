"""The convolutional examples (issue 16), each trained on a small subset of its data set.

The examples themselves run the full data (their docstrings give the commands); these tests
check that the programs run as written, that their models are the ones the texts describe
(parameter counts equal Keras's), and that they learn.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _examples import DATA, example
from _examples import needs as _needs


def test_simple_mnist_convnet_has_keras_parameter_counts():
    model = example("mnist_convnet").build_model()
    # Keras's example prints: Total params: 34,826; conv 320 and 18,496; dense 16,010
    assert model.count_params() == 34826
    assert [layer.count_params() for layer in model.layers] == [320, 0, 18496, 0, 0, 0, 16010]


@_needs("mnist")
def test_simple_mnist_convnet_learns_on_a_subset(monkeypatch):
    monkeypatch.setenv("TIDU_DATASETS", str(DATA))  # the example sets it; restored after
    res = example("mnist_convnet").main(["--data", str(DATA), "--limit", "4000", "--epochs",
                                         "2", "--verbose", "0"])
    assert res["test_acc"] > 0.85
    assert res["history"]["val_accuracy"][-1] > 0.8
    assert res["history"]["loss"][1] < res["history"]["loss"][0]


@_needs("fashion-mnist")
def test_fashion_mnist_cnn_with_batch_norm_learns_on_a_subset():
    mod = example("fashion_mnist_cnn")
    res = mod.main(["--data", str(DATA), "--limit", "4000", "--epochs", "2",
                    "--verbose", "0", "--bn-momentum", "0.9"])
    # 58 steps: with Keras's momentum 0.99 the moving statistics would have covered only
    # 1 - 0.99**58 = 44% of the way from their initial values; with 0.9, all of it
    assert res["history"]["accuracy"][-1] > 0.65
    assert res["test_acc"] > 0.7
    bn = [m for m in res["model"].layers if type(m).__name__ == "BatchNormalization"]
    assert len(bn) == 3
    # the moving statistics moved away from their initial values (0 and 1) while training
    assert not np.allclose(bn[0].moving_mean.numpy(), 0.0)
    assert not np.allclose(bn[0].moving_variance.numpy(), 1.0)


@_needs("catvnoncat")
def test_catvnoncat_cnn_learns():
    res = example("catvnoncat_cnn").main(["--data", str(DATA), "--epochs", "20",
                                          "--verbose", "0"])
    assert res["train_acc"] > 0.75
    assert res["test_acc"] >= 0.6


@_needs("mnist")
def test_cnn_pictures_draws_filters_and_true_feature_maps(tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_DATASETS", str(DATA))
    pytest.importorskip("matplotlib", reason="matplotlib (tidu[plot]) is not installed")
    res = example("cnn_pictures").main(["--data", str(DATA), "--limit", "1000",
                                        "--verbose", "0", "--out", str(tmp_path)])
    for f in res["files"]:
        data = f.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert res["maps1"].shape == (1, 26, 26, 32) and res["maps2"].shape == (1, 11, 11, 64)
    # the first layer's maps are relu(conv(image)) with the layer's own kernel, as torch says
    conv1 = res["model"].layers[0]
    (x_test, _) = example("mnist_convnet").keras.datasets.mnist.load_data()[1]
    image = torch.from_numpy(x_test[:1, None].astype("float32") / 255)
    kernel = torch.from_numpy(conv1.kernel.numpy().transpose(3, 2, 0, 1).copy())
    want = torch.relu(torch.nn.functional.conv2d(image, kernel,
                                                 torch.from_numpy(conv1.bias.numpy())))
    np.testing.assert_allclose(res["maps1"][0], want[0].permute(1, 2, 0).numpy(), rtol=1e-4,
                               atol=1e-5)
