"""tidu.utils.data: datasets, the loader, collate and random_split, against torch.utils.data."""

import collections

import numpy as np
import pytest
import torch

import tidu
from tidu.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def test_tensor_dataset_and_sequential_batches_match_torch():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    y = np.arange(7)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (a, b), (ta, tb) in zip(ours, theirs):
        assert isinstance(a, tidu.Tensor)
        np.testing.assert_array_equal(a.numpy(), ta.numpy())
        np.testing.assert_array_equal(b.numpy(), tb.numpy())
    ds = TensorDataset(x, tidu.tensor(y))
    assert len(ds) == 7 and ds[2][0].tolist() == [4.0, 5.0]


def test_drop_last_and_len():
    ds = TensorDataset(np.zeros((10, 1)))
    assert len(DataLoader(ds, batch_size=4)) == 3
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [b[0].shape[0] for b in loader] == [4, 4]


def test_shuffle_is_a_permutation_seeded_by_tidu_or_the_generator():
    ds = TensorDataset(np.arange(20))
    tidu.manual_seed(3)
    a = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=6, shuffle=True)])
    tidu.manual_seed(3)
    b = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=6, shuffle=True)])
    assert sorted(a.tolist()) == list(range(20)) and a.tolist() == b.tolist()
    assert a.tolist() != list(range(20))
    loader = DataLoader(ds, batch_size=20, shuffle=True, generator=np.random.default_rng(1))
    first, second = next(iter(loader))[0].tolist(), next(iter(loader))[0].tolist()
    assert first != second  # a new order every epoch
    expected = np.random.default_rng(1).permutation(20).tolist()
    assert first == expected


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(3, float(i)), "y": i, "name": f"s{i}"}


def test_custom_dataset_with_dict_samples_and_default_collate():
    batch = next(iter(DataLoader(Pairs(), batch_size=2)))
    assert set(batch) == {"x", "y", "name"}
    assert batch["x"].shape == (2, 3) and batch["y"].tolist() == [0, 1]
    assert batch["name"] == ["s0", "s1"]
    theirs = torch.utils.data.default_collate([Pairs()[0], Pairs()[1]])
    np.testing.assert_array_equal(batch["x"].numpy(), theirs["x"].numpy())


def test_default_collate_tuples_namedtuples_tensors():
    out = default_collate([(tidu.tensor([1.0, 2.0]), 1), (tidu.tensor([3.0, 4.0]), 0)])
    assert isinstance(out, tuple) and out[0].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert out[1].tolist() == [1, 0]
    P = collections.namedtuple("P", "a b")
    nt = default_collate([P(np.ones(2), 1.5), P(np.zeros(2), 2.5)])
    assert isinstance(nt, P) and nt.b.tolist() == [1.5, 2.5]
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object(), object()])


def test_collate_fn_is_used():
    ds = TensorDataset(np.arange(6))
    loader = DataLoader(ds, batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 2]


def test_random_split_ints_and_fractions():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    got = sorted([int(a[i][0]) for i in range(7)] + [int(b[i][0]) for i in range(3)])
    assert got == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    torch_parts = torch.utils.data.random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [len(p) for p in torch_parts] == [5, 3, 2]
    odd = random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in odd] == [len(p) for p in torch.utils.data.random_split(
        range(11), [0.5, 0.5])]
    with pytest.raises(ValueError, match="summing to the dataset's length 10"):
        random_split(ds, [4, 4])


def test_bad_arguments():
    with pytest.raises(ValueError, match="same first dimension, got sizes \\[3, 2\\]"):
        TensorDataset(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        DataLoader(TensorDataset(np.zeros(3)), generator=3)
