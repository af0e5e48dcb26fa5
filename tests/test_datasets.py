"""tidu.datasets: loaders checked against the facts in shared/datasets/README.md, checksum
verification of given and downloaded files, downloads from a local HTTP server, digits splits,
and to_categorical against torch.nn.functional.one_hot."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import socket
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

import tidu
from tidu.datasets import (
    ChecksumError,
    DownloadError,
    _download,
    catvnoncat,
    digits,
    fashion_mnist,
    mnist,
    read_idx,
    to_categorical,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} not present")
ENV = ("TIDU_DATASETS", "TIDU_CACHE", "TIDU_DATASETS_MIRROR")
PROXIES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No test sees the caller's data-set variables, proxies, or ~/.tidu."""
    for name in ENV + PROXIES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def mnist_data():
    return mnist.load_data(DATA / "mnist")


@pytest.fixture(scope="module")
def fashion_data():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIDU_DATASETS", str(DATA))
        return fashion_mnist.load_data()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the real data sets ------------------------------------------------------------------------

@needs_data
def test_mnist_from_path_matches_readme(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10),
                                  [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    np.testing.assert_array_equal(y_train[:12], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5])
    assert x_train.mean() == pytest.approx(33.318, abs=5e-4)
    assert (x_train / 255.0).mean() == pytest.approx(0.1307, abs=5e-5)
    assert x_test.mean() == pytest.approx(33.791, abs=5e-4)
    assert x_train.min() == 0 and x_train.max() == 255
    assert x_train.flags.writeable


@needs_data
def test_mnist_pixels_match_the_decompressed_idx_bytes(mnist_data):
    # Independent check of the parser: the README's sha256 of the decompressed test images
    # covers header + payload; rebuild the bytes from the array and compare.
    (_, _), (x_test, y_test) = mnist_data
    header = (0x803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (10000, 28, 28))
    assert hashlib.sha256(header + x_test.tobytes()).hexdigest() == (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7")
    header = (0x801).to_bytes(4, "big") + (10000).to_bytes(4, "big")
    assert hashlib.sha256(header + y_test.tobytes()).hexdigest() == (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")


@needs_data
def test_fashion_mnist_from_env_matches_readme(fashion_data):
    (x_train, y_train), (x_test, y_test) = fashion_data
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [1000] * 10)
    np.testing.assert_array_equal(y_train[:12], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9])
    assert x_train.mean() == pytest.approx(72.940, abs=5e-4)
    assert x_test.mean() == pytest.approx(73.147, abs=5e-4)
    assert len(fashion_mnist.CLASSES) == 10 and fashion_mnist.CLASSES[9] == "Ankle boot"


@needs_data
def test_env_root_resolves_one_folder_per_data_set(monkeypatch):
    monkeypatch.setenv("TIDU_DATASETS", str(DATA))
    found = _download.locate("mnist", mnist.FILES, None, [])
    assert found == {f.name: DATA / "mnist" / f.name for f in mnist.FILES}
    # An explicit path wins over the variable.
    monkeypatch.setenv("TIDU_DATASETS", str(DATA / "nowhere"))
    assert _download.locate("mnist", mnist.FILES, DATA / "mnist", []) == found


@needs_data
@pytest.mark.parametrize("via", ["path", "env"])
def test_catvnoncat_matches_readme(via, monkeypatch):
    if via == "env":
        monkeypatch.setenv("TIDU_DATASETS", str(DATA))
        result = catvnoncat.load_data()
    else:
        result = catvnoncat.load_data(DATA / "catvnoncat")
    (x_train, y_train), (x_test, y_test), classes = result
    assert x_train.shape == (209, 64, 64, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (50, 64, 64, 3) and x_test.dtype == np.uint8
    assert y_train.shape == (209,) and y_train.dtype == np.int64
    assert y_test.shape == (50,) and y_test.dtype == np.int64
    assert int(y_train.sum()) == 72 and int(y_test.sum()) == 33
    assert set(np.unique(y_train)) == {0, 1}
    np.testing.assert_array_equal(y_train[:12], [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1])
    assert classes == ["non-cat", "cat"] and all(type(c) is str for c in classes)


# --- verification of given files ---------------------------------------------------------------

def mnist_copy(tmp_path: Path, damage) -> Path:
    """A folder with links to the real MNIST files except t10k-labels, copied and damaged."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in mnist.FILES:
        (folder / f.name).symlink_to(DATA / "mnist" / f.name)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    data = bytearray((DATA / "mnist" / target.name).read_bytes())
    target.write_bytes(damage(data))
    return folder


def flip_byte(data: bytearray) -> bytes:
    data[len(data) // 2] ^= 0x01
    return bytes(data)


@needs_data
def test_corrupt_file_is_rejected_naming_file_and_checksums(tmp_path):
    folder = mnist_copy(tmp_path, flip_byte)
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(ChecksumError) as info:
        mnist.load_data(folder)
    msg = str(info.value)
    assert str(bad) in msg and mnist.FILES[3].sha256 in msg and sha256(bad) in msg
    assert "expected" in msg and "received" in msg
    assert isinstance(info.value, ValueError)


@needs_data
def test_truncated_file_is_rejected(tmp_path):
    folder = mnist_copy(tmp_path, lambda d: bytes(d[:1000]))
    with pytest.raises(ChecksumError, match=r"1000 bytes, expected 4542 bytes.*truncated"):
        mnist.load_data(folder)


@needs_data
def test_missing_file_in_given_folder_names_it(tmp_path):
    folder = mnist_copy(tmp_path, flip_byte)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz"):
        mnist.load_data(folder)
    assert not (tmp_path / "home").exists()  # nothing was downloaded anywhere


def test_verification_is_cached_per_path_size_and_mtime(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    spec = _download.FileSpec("f.bin", sha256(path), 3000)
    calls = []
    real = _download._sha256
    monkeypatch.setattr(_download, "_sha256", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        _download.verify_file(path, spec)
    assert len(calls) == 1
    path.write_bytes(b"abd" * 1000)  # same size, new content and mtime: hashed again
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        _download.verify_file(path, spec)
    assert len(calls) == 2


# --- the IDX parser on hand-made files ---------------------------------------------------------

def idx_bytes(magic: int, dims, payload: bytes) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def test_read_idx_plain_and_gzip_and_big_endian(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(0x803, a.shape, a.tobytes()))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(0x803, a.shape, a.tobytes())))
    for name in ("a.idx", "a.gz"):
        np.testing.assert_array_equal(read_idx(tmp_path / name, 0x803, (2, 3, 4)), a)
    b = np.array([[1, -2], [70000, -3]], dtype=">i4")
    (tmp_path / "b.idx").write_bytes(idx_bytes(0x0C02, b.shape, b.tobytes()))
    got = read_idx(tmp_path / "b.idx")
    assert got.dtype == np.dtype("int32") and got.dtype.isnative
    np.testing.assert_array_equal(got, [[1, -2], [70000, -3]])


@pytest.mark.parametrize("content, kwargs, match", [
    (idx_bytes(0x801, (3,), b"\1\2\3"), {"expected_magic": 0x803},
     r"0x00000801, expected 0x00000803"),
    (b"PK\3\4" + b"\0" * 20, {}, r"not an IDX header"),
    (idx_bytes(0x801, (5,), b"\1\2\3"), {}, r"payload truncated.*5 bytes, found 3"),
    (idx_bytes(0x801, (2,), b"\1\2\3"), {}, r"trailing data"),
    (idx_bytes(0x801, (3,), b"\1\2\3"), {"expected_shape": (4,)}, r"shape \(3,\), expected \(4,\)"),
    (idx_bytes(0x803, (), b"")[:4] + b"\0\0", {}, r"header truncated"),
    (b"\0\0", {}, r"too short"),
])
def test_read_idx_errors_name_the_file_and_the_problem(tmp_path, content, kwargs, match):
    for name, data in (("x.idx", content), ("x.gz", gzip.compress(content))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError, match=match) as info:
            read_idx(path, **kwargs)
        assert str(path) in str(info.value)


def test_read_idx_truncated_gzip_stream(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x801, (1000,), bytes(range(250)) * 4))[:-30])
    with pytest.raises(ValueError, match="corrupt or truncated gzip stream") as info:
        read_idx(path)
    assert str(path) in str(info.value)


# --- downloads from a local server -------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Serves good/<data set>/, bad/mnist/ (a corrupted label file), nothing at missing/."""
    root = tmp_path_factory.mktemp("served")
    if DATA.is_dir():
        for folder in ("mnist", "catvnoncat"):
            (root / "good" / folder).mkdir(parents=True)
        for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            shutil.copy(DATA / "mnist" / name, root / "good" / "mnist" / name)
        for f in catvnoncat.FILES:
            shutil.copy(DATA / "catvnoncat" / f.name, root / "good" / "catvnoncat" / f.name)
        (root / "bad" / "mnist").mkdir(parents=True)
        data = bytearray((DATA / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
        (root / "bad" / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(flip_byte(data))
    handler = partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


LABELS = mnist.FILES[3]  # t10k-labels-idx1-ubyte.gz, 4,542 bytes


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@needs_data
def test_download_lands_in_cache_after_404_on_first_mirror(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "cache"))
    mirrors = [f"{server}/missing/mnist/", f"{server}/good/mnist"]
    QuietHandler.requests.clear()
    found = _download.locate("mnist", [LABELS], None, mirrors)
    target = tmp_path / "cache" / "mnist" / LABELS.name
    assert found == {LABELS.name: target}
    assert sha256(target) == LABELS.sha256
    assert leftovers(target.parent) == [LABELS.name]  # no temporary files left
    assert QuietHandler.requests == [f"/missing/mnist/{LABELS.name}",
                                     f"/good/mnist/{LABELS.name}"]
    # A second call uses the cache and asks no server.
    assert _download.locate("mnist", [LABELS], None, mirrors) == found
    assert len(QuietHandler.requests) == 2


@needs_data
def test_corrupted_download_raises_and_leaves_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ChecksumError) as info:
        _download.locate("mnist", [LABELS], None, [f"{server}/bad/mnist/"])
    msg = str(info.value)
    bad = flip_byte(bytearray((DATA / "mnist" / LABELS.name).read_bytes()))
    received = hashlib.sha256(bad).hexdigest()
    assert LABELS.name in msg and f"expected {LABELS.sha256}, received {received}" in msg
    assert leftovers(tmp_path / "cache" / "mnist") == []
    # A good mirror after the bad one is used.
    found = _download.locate("mnist", [LABELS], None,
                             [f"{server}/bad/mnist/", f"{server}/good/mnist/"])
    assert sha256(found[LABELS.name]) == LABELS.sha256


@needs_data
def test_corrupt_cached_file_is_downloaded_again(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "mnist" / LABELS.name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the file")
    with pytest.warns(UserWarning, match="Downloading it again"):
        _download.locate("mnist", [LABELS], None, [f"{server}/good/mnist/"])
    assert sha256(target) == LABELS.sha256


def test_unreachable_mirrors_raise_download_error_listing_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "cache"))
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mirrors = [f"http://127.0.0.1:{port}/a/", f"http://127.0.0.1:{port}/b/"]
    with pytest.raises(DownloadError) as info:
        _download.locate("mnist", [LABELS], None, mirrors)
    assert all(m + LABELS.name in str(info.value) for m in mirrors)
    assert leftovers(tmp_path / "cache" / "mnist") == []


@needs_data
def test_catvnoncat_downloads_via_mirror_env(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TIDU_DATASETS_MIRROR", f"{server}/missing, {server}/good")
    monkeypatch.setattr(catvnoncat, "MIRRORS", ["http://127.0.0.1:9/never-used/"])
    (x_train, y_train), (x_test, y_test), classes = catvnoncat.load_data()
    assert x_train.shape == (209, 64, 64, 3) and int(y_train.sum()) == 72
    assert x_test.shape == (50, 64, 64, 3) and int(y_test.sum()) == 33
    assert classes == ["non-cat", "cat"]
    assert leftovers(tmp_path / "cache" / "catvnoncat") == sorted(f.name for f in catvnoncat.FILES)


def test_module_mirror_list_is_used_when_env_unset(monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", ["http://example.invalid/m/"])
    assert _download.mirror_urls("mnist", mnist.MIRRORS) == ["http://example.invalid/m/"]
    monkeypatch.setenv("TIDU_DATASETS_MIRROR", "http://a/ http://b")
    assert _download.mirror_urls("mnist", mnist.MIRRORS) == ["http://a/mnist/", "http://b/mnist/"]


def test_cache_root_default_and_env(tmp_path, monkeypatch):
    assert _download.cache_root() == tmp_path / "home" / ".tidu" / "datasets"
    monkeypatch.setenv("TIDU_CACHE", str(tmp_path / "c"))
    assert _download.cache_root() == tmp_path / "c"


# --- optional dependencies ---------------------------------------------------------------------

def test_missing_h5py_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install h5py.*tidu\[hdf5\]"):
        catvnoncat.load_data(DATA / "catvnoncat")


def test_missing_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install scikit-learn.*tidu\[digits\]"):
        digits.load_data()


def test_package_imports_without_optional_dependencies():
    code = ("import sys; sys.modules['h5py'] = None; sys.modules['sklearn'] = None\n"
            "import tidu.datasets as d\n"
            "assert callable(d.mnist.load_data) and callable(d.to_categorical)")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- digits ------------------------------------------------------------------------------------

def test_digits_split_is_a_stratified_partition_of_sklearn_digits():
    from sklearn.datasets import load_digits

    ref = load_digits()
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=0)
    assert x_train.dtype == np.float32 and x_train.shape[1:] == (8, 8)
    assert y_train.dtype == np.int64 and len(x_train) + len(x_test) == 1797
    assert x_train.min() == 0 and x_train.max() == 16
    counts = np.bincount(ref.target, minlength=10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.round(0.2 * counts))
    # Together the two sets are sklearn's (image, label) pairs, each used once.
    def rows(x, y):
        return np.column_stack([x.reshape(len(x), -1), y]).astype(np.float64)
    got = rows(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    want = rows(ref.images, ref.target)
    np.testing.assert_array_equal(got[np.lexsort(got.T[::-1])], want[np.lexsort(want.T[::-1])])


def test_digits_split_is_reproducible():
    a = digits.load_data(seed=3)
    b = digits.load_data(seed=3)
    c = digits.load_data(seed=4)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[1][1], c[1][1])
    tidu.manual_seed(7)
    d = digits.load_data(seed=None)
    tidu.manual_seed(7)
    e = digits.load_data(seed=None)
    np.testing.assert_array_equal(d[0][1], e[0][1])
    (_, _), (x_test, _) = digits.load_data(test_split=0.0)
    assert x_test.shape == (0, 8, 8)


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.2", True])
def test_digits_rejects_bad_test_split(bad):
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=bad)


# --- to_categorical ----------------------------------------------------------------------------

def test_to_categorical_matches_torch_one_hot():
    y = np.random.default_rng(0).integers(0, 7, size=(4, 5))
    want = torch.nn.functional.one_hot(torch.from_numpy(y), 7).numpy()
    got = to_categorical(y)
    assert got.shape == (4, 5, 7) and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(to_categorical(y, 9)[..., :7], want)
    assert to_categorical(y, 9)[..., 7:].sum() == 0


def test_to_categorical_shapes_dtypes_and_inputs():
    assert to_categorical(np.array([[1], [2]])).shape == (2, 3)  # trailing 1 dropped, as Keras
    assert to_categorical([3], 5, dtype="int64").dtype == np.int64
    np.testing.assert_array_equal(to_categorical(tidu.tensor(np.array([1, 0]))), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(to_categorical([2.0, 0.0]), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical([], 4).shape == (0, 4)


@pytest.mark.parametrize("y, n, match", [
    ([0, -1, 2], None, "labels must be >= 0, received -1"),
    ([0, 3], 3, "label 3 is out of range for num_classes=3"),
    ([0.5, 1], None, "non-integral"),
    (["a"], None, "must be integers"),
    ([0, 1], 0, "num_classes must be a positive int"),
    ([], None, "num_classes is needed"),
])
def test_to_categorical_rejects_bad_labels(y, n, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(y, n)
