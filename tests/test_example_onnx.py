"""examples/export_onnx.py: the trained digits network, exported, runs in onnxruntime with
predict's probabilities and accuracy."""

import pytest

from _examples import example

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")


def test_export_onnx_example_matches_predict(tmp_path, capsys):
    out = tmp_path / "digits.onnx"
    res = example("export_onnx").main(["--epochs", "3", "--out", str(out)])
    assert out.is_file() and res["path"] == str(out)
    assert res["max_diff"] < 1e-5
    assert res["tidu_acc"] > 0.9
    assert res["onnx_acc"] == res["tidu_acc"]
    printed = capsys.readouterr().out
    assert "largest |onnxruntime - predict|" in printed and "['batch', 64]" in printed
