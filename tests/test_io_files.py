"""tidu.io: atomic writes (kill -9 in the middle, leftovers, modes, umask), save_tensors and
load_tensors (round trips, the safetensors library reading tidu's files and back, subsets,
legacy npz), save_weights / load_weights, and downloads (deadline, killed downloads)."""

from __future__ import annotations

import hashlib
import http.server
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tidu
from tidu.datasets import DownloadError, _download
from tidu.io import FileFormatError, atomic, atomic_write, load_tensors, remove_stale, save_tensors
from tidu.nn import Dense

safetensors_numpy = pytest.importorskip("safetensors.numpy")
SRC = str(Path(tidu.__file__).resolve().parents[1])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tidu-tmp-" in p.name)


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def python(code: str, *args, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                            env=env, stdout=subprocess.PIPE, text=True, **kwargs)


# ----- atomic_write -----------------------------------------------------------------------------

def test_atomic_write_bytes_and_callable(tmp_path):
    path = tmp_path / "sub" / "a.bin"
    atomic_write(path, b"one")
    assert path.read_bytes() == b"one"
    atomic_write(path, lambda f: f.write(b"two"))
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.bin"]


def test_a_failing_writer_leaves_the_target_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")

    def writer(f):
        f.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(path, writer)
    assert path.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_new_files_respect_the_umask_and_overwrites_keep_the_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.bin", b"x")
        assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o640
        os.umask(0o022)
        atomic_write(tmp_path / "other.bin", b"x")
        assert (tmp_path / "other.bin").stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"old")
        os.chmod(kept, 0o604)
        os.umask(0o077)
        atomic_write(kept, b"new")
        assert kept.read_bytes() == b"new" and kept.stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


def test_stale_rule_dead_writers_and_old_files_only(tmp_path):
    now = time.time()
    names = {
        "dead_old": f".w.npz.tidu-tmp-{dead_pid()}-0123abcd",
        "dead_fresh": f".x.npz.tidu-tmp-{dead_pid()}-0123abcd",
        "alive": f".w.npz.tidu-tmp-{os.getpid()}-0123abcd",
        "alive_ancient": f".y.npz.tidu-tmp-{os.getpid()}-89abcdef",
        "legacy_old": "tmpab_cd123.tmp.npz",
        "legacy_fresh": "tmpzz_zz999.tmp.npz",
        "user_file": ".w.npz.tidu-tmp-notes",
    }
    ages = {"dead_old": 3, "dead_fresh": 0.5, "alive": 30, "alive_ancient": 4000,
            "legacy_old": 4000, "legacy_fresh": 30, "user_file": 10_000}
    for key, name in names.items():
        p = tmp_path / name
        p.write_bytes(b"leftover")
        os.utime(p, (now - ages[key], now - ages[key]))
    removed = remove_stale(tmp_path, now=now)
    assert sorted(removed) == sorted(names[k] for k in ("dead_old", "alive_ancient",
                                                        "legacy_old"))
    assert sorted(os.listdir(tmp_path)) == sorted(
        names[k] for k in ("dead_fresh", "alive", "legacy_fresh", "user_file"))


WRITER = """
import sys
from tidu.io import atomic_write
path, size = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
i = 0
while True:
    i += 1
    atomic_write(path, bytes([i % 251]) * size)
"""


def test_sigkill_during_writes_leaves_old_or_new_never_partial(tmp_path, monkeypatch):
    path, size = tmp_path / "big.bin", 4 << 20
    atomic_write(path, b"\xff" * size)
    rng = random.Random(0)
    for _ in range(4):
        proc = python(WRITER, path, size)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        data = path.read_bytes()
        assert len(data) == size and data.count(data[:1]) == size, "a partial file"
    monkeypatch.setattr(atomic, "STALE_MIN_AGE_S", 0.0)
    (tmp_path / f".big.bin.tidu-tmp-{dead_pid()}-deadbeef").write_bytes(b"partial")
    atomic_write(path, b"final")
    assert leftovers(tmp_path) == [] and path.read_bytes() == b"final"


# ----- save_tensors / load_tensors --------------------------------------------------------------

ARRAYS = {
    "f32": np.arange(12, dtype=np.float32).reshape(3, 4), "f64": np.linspace(0, 1, 5),
    "f16": np.array([1.5, -2.0], np.float16), "i8": np.array([-3, 4], np.int8),
    "u8": np.arange(3, dtype=np.uint8), "i64": np.array([[2**40]], np.int64),
    "bool": np.array([True, False, True]), "c64": np.array([1 + 2j], np.complex64),
    "scalar": np.array(3.0, np.float32), "empty": np.zeros((0, 3), np.float32),
}


def assert_same(got: dict, want: dict):
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and np.array_equal(got[k], v)


def test_save_load_roundtrip_every_dtype_and_metadata(tmp_path):
    path = tmp_path / "t.safetensors"
    save_tensors(ARRAYS, path, metadata={"format": "tidu", "epoch": "3"})
    arrays, meta = load_tensors(path)
    assert_same(arrays, ARRAYS)
    assert meta == {"format": "tidu", "epoch": "3"}
    assert_same(safetensors_numpy.load_file(str(path)), ARRAYS)  # the library reads ours


def test_files_of_the_safetensors_library_load(tmp_path):
    path = tmp_path / "lib.safetensors"
    safetensors_numpy.save_file(ARRAYS, str(path), metadata={"k": "v"})
    arrays, meta = load_tensors(path)
    assert_same(arrays, ARRAYS) and meta == {"k": "v"}


def test_big_endian_and_fortran_arrays_are_saved_as_their_values(tmp_path):
    a = np.arange(6, dtype=">f4").reshape(2, 3)
    save_tensors({"be": a, "f": np.asfortranarray(a)}, tmp_path / "t.safetensors")
    arrays, _ = load_tensors(tmp_path / "t.safetensors")
    assert np.array_equal(arrays["be"], a) and np.array_equal(arrays["f"], a)


def test_keys_read_a_subset_and_expected_checks_it(tmp_path):
    path = tmp_path / "t.safetensors"
    save_tensors(ARRAYS, path)
    arrays, _ = load_tensors(path, keys=["f32", "bool"])
    assert_same(arrays, {k: ARRAYS[k] for k in ("f32", "bool")})
    expected = {"f32": ((3, 4), np.float64), "i8": ((2,), np.float32)}  # both cast same_kind
    arrays, _ = load_tensors(path, expected, keys=["f32", "i8"])
    assert arrays["f32"].dtype == np.float32
    with pytest.raises(FileFormatError, match=r"t\.safetensors: .*unexpected \[.*'f64'"):
        load_tensors(path, expected)
    with pytest.raises(FileFormatError, match=r"missing \['nope'\]"):
        load_tensors(path, keys=["nope"])
    with pytest.raises(FileFormatError, match=r"'c64' has dtype complex64.*float32"):
        load_tensors(path, {"c64": ((1,), np.float32)}, keys=["c64"])


def test_legacy_npz_files_load(tmp_path):
    arrays = {k: v for k, v in ARRAYS.items() if k != "c64"} | {
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big": np.arange(4, dtype=">i4")}
    np.savez(tmp_path / "plain.npz", **arrays)
    np.savez_compressed(tmp_path / "small.npz", **arrays)
    for name in ("plain.npz", "small.npz"):
        got, meta = load_tensors(tmp_path / name)
        assert meta == {}
        assert sorted(got) == sorted(arrays)
        for k, v in arrays.items():
            assert np.array_equal(got[k], v) and got[k].dtype == v.dtype.newbyteorder("=")


def test_bool_bytes_other_than_0_and_1_are_refused(tmp_path):
    path = tmp_path / "b.safetensors"
    save_tensors({"m": np.array([True, False])}, path)
    data = bytearray(path.read_bytes())
    data[-1] = 7
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"b\.safetensors: entry 'm' is BOOL"):
        load_tensors(path)


def test_reading_needs_no_library_and_writing_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "t.safetensors"
    save_tensors(ARRAYS, path)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert_same(load_tensors(path)[0], ARRAYS)
    with pytest.raises(ImportError, match=r"pip install tidu\[safetensors\]"):
        save_tensors(ARRAYS, path)


def test_save_tensors_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match=r"'s' has dtype <U1"):
        save_tensors({"s": np.array(["a"])}, tmp_path / "t.safetensors")
    with pytest.raises(TypeError, match="metadata must map strings to strings"):
        save_tensors({"a": np.ones(1)}, tmp_path / "t.safetensors", metadata={"epoch": 3})
    assert not (tmp_path / "t.safetensors").exists()


# ----- save_weights / load_weights --------------------------------------------------------------

def model(seed):
    tidu.manual_seed(seed)
    return tidu.Sequential([Dense(3, input_shape=(4,)), Dense(2)])


@pytest.mark.parametrize("name", ["w.safetensors", "w.npz", "w.weights"])
def test_save_weights_formats_roundtrip(tmp_path, name):
    a, b = model(1), model(2)
    a.save_weights(tmp_path / name)
    head = (tmp_path / name).read_bytes()[:9]
    assert head[8:9] == b"{" if name.endswith(".safetensors") else head[:2] == b"PK"
    b.load_weights(tmp_path / name)
    assert_same(b.state_dict(), a.state_dict())
    assert sorted(os.listdir(tmp_path)) == [name]


def test_save_weights_without_the_library_writes_npz_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.warns(UserWarning, match=r"pip install tidu\[safetensors\].*\.npz"):
        model(1).save_weights(tmp_path / "w.safetensors")
    assert (tmp_path / "w.safetensors").read_bytes()[:2] == b"PK"
    b = model(2)
    b.load_weights(tmp_path / "w.safetensors")
    assert_same(b.state_dict(), model(1).state_dict())


def test_save_weights_removes_leftovers_of_killed_saves(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "STALE_MIN_AGE_S", 0.0)
    (tmp_path / f".w.npz.tidu-tmp-{dead_pid()}-0badf00d").write_bytes(b"partial")
    model(1).save_weights(tmp_path / "w.npz")
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]


def test_load_state_dict_checks_every_dtype_before_copying():
    m = model(1)
    before = m.state_dict()
    bad = dict(before, **{"1.bias": np.ones(2, np.complex128)})
    with pytest.raises(TypeError, match=r"'1\.bias'.*complex128, which does not cast"):
        m.load_state_dict(bad)
    assert_same(m.state_dict(), before)


# ----- downloads --------------------------------------------------------------------------------

PAYLOAD = np.random.default_rng(1).bytes(2000)
SPEC = _download.FileSpec("f.bin", hashlib.sha256(PAYLOAD).hexdigest(), len(PAYLOAD))


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        try:
            if self.path.startswith("/slow/"):  # one byte every 20 ms: 40 s in all
                for i in range(len(PAYLOAD)):
                    self.wfile.write(PAYLOAD[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.02)
            else:
                self.wfile.write(PAYLOAD)
        except OSError:
            pass


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_trickling_mirror_is_abandoned_at_the_deadline(server, tmp_path, monkeypatch):
    monkeypatch.setattr(_download, "DEADLINE_S", 0.5)
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"slow/f\.bin: TimeoutError: abandoned after the "
                                            r"0\.5 s deadline with \d+ of 2000 bytes"):
        _download.download(tmp_path, SPEC, [f"{server}/slow/"])
    assert time.monotonic() - start < 5
    assert os.listdir(tmp_path) == []
    # the next mirror is tried after the slow one
    got = _download.download(tmp_path, SPEC, [f"{server}/slow/", f"{server}/fast/"])
    assert got.read_bytes() == PAYLOAD and os.listdir(tmp_path) == ["f.bin"]


DOWNLOADER = """
import sys
from pathlib import Path
from tidu.datasets import _download
spec = _download.FileSpec("f.bin", sys.argv[3], 2000)
_download.download(Path(sys.argv[1]), spec, [sys.argv[2]])
"""


def test_leftovers_of_a_killed_download_are_removed_by_the_next(server, tmp_path, monkeypatch):
    proc = python(DOWNLOADER, tmp_path, f"{server}/slow/", SPEC.sha256, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert len(leftovers(tmp_path)) == 1 and not (tmp_path / "f.bin").exists()
    legacy_old, legacy_new = tmp_path / ".f.bin.ab12cd34.part", tmp_path / ".f.bin.zz99yy88.part"
    for p in (legacy_old, legacy_new):
        p.write_bytes(b"part")
    old = time.time() - _download.DEADLINE_S - _download.TIMEOUT_S - 10
    os.utime(legacy_old, (old, old))
    monkeypatch.setattr(atomic, "STALE_MIN_AGE_S", 0.0)
    _download.download(tmp_path, SPEC, [f"{server}/fast/"])
    assert sorted(os.listdir(tmp_path)) == [legacy_new.name, "f.bin"]
