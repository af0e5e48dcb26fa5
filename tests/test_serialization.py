"""tidu.save / tidu.load: state dicts through safetensors, never pickle."""

import json

import numpy as np
import pytest
import torch

import tidu
import tidu.nn as nn
import tidu.optim
from tidu.io import load_tensors


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(tidu.relu(self.fc1(x)))


def _train_step(model, opt, seed=0):
    x = tidu.tensor(np.random.default_rng(seed).normal(size=(5, 4)).astype(np.float32))
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()


def test_model_state_dict_round_trip(tmp_path):
    tidu.manual_seed(0)
    model = Net()
    p = tmp_path / "model.safetensors"
    tidu.save(model.state_dict(), p)
    tidu.manual_seed(1)
    other = Net()
    assert not np.array_equal(other.state_dict()["fc1.weight"], model.state_dict()["fc1.weight"])
    loaded = tidu.load(p)
    assert list(loaded) == list(model.state_dict())
    assert all(type(v) is type(model.state_dict()[k]) for k, v in loaded.items())
    other.load_state_dict(loaded)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(other.state_dict()[k]), np.asarray(v))
    # the file is a plain safetensors file that torch's loader reads too
    from safetensors.torch import load_file
    assert set(load_file(str(p))) == set(model.state_dict())
    # and the arrays carry the tree's names, metadata holds JSON
    arrays, meta = load_tensors(p)
    assert set(arrays) == set(model.state_dict()) and json.loads(meta["tidu.tree"])


def test_optimizer_state_dict_round_trip_gives_identical_steps(tmp_path):
    tidu.manual_seed(0)
    model = Net()
    opt = tidu.optim.Adam(model.parameters(), lr=0.01)
    _train_step(model, opt)
    p = tmp_path / "ckpt.safetensors"
    tidu.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, p)
    ckpt = tidu.load(p)
    assert ckpt["epoch"] == 1 and ckpt["optimizer"]["iterations"] == 1
    assert sorted(ckpt["optimizer"]["state"]) == list(range(4))  # int keys stay ints
    model2 = Net()
    model2.load_state_dict(ckpt["model"])
    opt2 = tidu.optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.learning_rate == 0.01
    _train_step(model, opt, seed=1)
    _train_step(model2, opt2, seed=1)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(model2.state_dict()[k]), np.asarray(v))


def test_nested_leaves_keep_their_types(tmp_path):
    obj = {"a": {"b": np.arange(3), "c": [1, 2.5, "x", None, True]}, "t": (1, 2),
           "inf": float("inf"), 3: np.float32(1.5), "w": tidu.ones(2, 2)}
    p = tmp_path / "tree.safetensors"
    tidu.save(obj, p)
    back = tidu.load(p)
    assert isinstance(back["a"]["b"], np.ndarray) and back["a"]["b"].tolist() == [0, 1, 2]
    assert back["a"]["c"] == [1, 2.5, "x", None, True] and back["t"] == (1, 2)
    assert back["inf"] == float("inf") and back[3] == 1.5
    assert isinstance(back["w"], tidu.Tensor) and back["w"].tolist() == [[1.0, 1.0]] * 2


def test_a_plain_safetensors_file_loads_as_tensors(tmp_path):
    from safetensors.torch import save_file
    p = tmp_path / "torch.safetensors"
    save_file({"w": torch.arange(4.0)}, str(p))
    back = tidu.load(p)
    assert isinstance(back["w"], tidu.Tensor) and back["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_refuses_arbitrary_objects(tmp_path):
    p = tmp_path / "bad.safetensors"
    with pytest.raises(TypeError, match="cannot save Net at the object.*never pickles.*"
                       "state_dict"):
        tidu.save(Net(), p)
    with pytest.raises(TypeError, match="cannot save function at model/hook"):
        tidu.save({"model": {"hook": lambda x: x}}, p)
    with pytest.raises(TypeError, match="dict keys must be str or int, got tuple"):
        tidu.save({(1, 2): 3}, p)
    assert not p.exists()
