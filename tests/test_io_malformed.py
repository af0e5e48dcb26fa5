"""Malformed and hostile weight files: each is refused by ``load_weights`` with a message naming
the file and the problem, the model is unchanged, nothing is executed, and memory stays bounded.

The files are crafted by hand (struct, json, zipfile); the pickles are hand-assembled opcodes
(checked with ``pickletools.dis``, which parses without executing) whose REDUCE would call
``open(marker, "w")``, so a load that unpickled would create the marker file.
"""

from __future__ import annotations

import io as stdio
import json
import pickletools
import struct
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

import tidu
from tidu.io import FileFormatError, load_tensors
from tidu.nn import Dense

# ----- builders ---------------------------------------------------------------------------------


def make_model(seed: int = 0, widths=(3, 2)):
    tidu.manual_seed(seed)
    return tidu.Sequential([Dense(widths[0], input_shape=(4,)), Dense(widths[1])])


STATE = {k: v for k, v in make_model(1).state_dict().items()}  # 0.kernel (4,3) ... 1.bias (2,)
CODES = {np.dtype("f4"): "F32", np.dtype("f8"): "F64", np.dtype("c8"): "C64"}


def st_bytes(header, data: bytes, length: int | None = None) -> bytes:
    """A safetensors file: 8-byte length, the header (dict -> JSON, or raw bytes), data."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def st_state(arrays: dict) -> tuple[dict, bytes]:
    """A valid header and buffer for ``arrays`` (in order)."""
    header, chunks, pos = {}, [], 0
    for k, a in arrays.items():
        b = np.ascontiguousarray(a).tobytes()
        header[k] = {"dtype": CODES[a.dtype], "shape": list(a.shape),
                     "data_offsets": [pos, pos + len(b)]}
        chunks.append(b)
        pos += len(b)
    return header, b"".join(chunks)


def st_valid(**changes) -> bytes:
    arrays = dict(STATE, **changes)
    return st_bytes(*st_state(arrays))


def st_mutated(mutate) -> bytes:
    header, data = st_state(STATE)
    data = mutate(header, data) or data
    return st_bytes(header, data)


def npy_bytes(a=None, *, descr=None, shape=None, payload: bytes | None = None) -> bytes:
    buf = stdio.BytesIO()
    if a is not None:
        npy.write_array(buf, a, allow_pickle=False)
        return buf.getvalue()
    npy.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + (payload or b"")


def zip_bytes(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buf = stdio.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buf.getvalue()


def npz_state(**changes) -> bytes:
    arrays = dict(STATE, **changes)
    return zip_bytes([(k + ".npy", npy_bytes(v)) for k, v in arrays.items()])


def patch_zip_size(data: bytes, name: str, size: int) -> bytes:
    """Make both the local header and the central directory of ``name`` claim ``size``."""
    out = bytearray(data)
    # (signature, offset of the uncompressed size, of the name length, of the name)
    for sig, size_at, len_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                          (b"PK\x01\x02", 24, 28, 46)):
        pos = out.find(sig)
        while pos >= 0:
            n = struct.unpack_from("<H", out, pos + len_at)[0]
            if out[pos + name_at:pos + name_at + n] == name.encode():
                struct.pack_into("<I", out, pos + size_at, size)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def marker_pickle(marker) -> bytes:
    """Protocol-2 opcodes for ``open(marker, 'w')``: unpickling it would create ``marker``."""
    p = str(marker).encode()
    data = (b"\x80\x02cbuiltins\nopen\nX" + struct.pack("<I", len(p)) + p
            + b"X\x01\x00\x00\x00w\x86R.")
    pickletools.dis(data, out=stdio.StringIO())  # a well-formed pickle (parsed, not run)
    return data


RNG = np.random.default_rng(0)
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body></body></html>\n"
F32 = np.float32


def overlap(h, d):
    h["0.bias"]["data_offsets"] = [40, 52]  # inside 0.kernel's bytes 0..48


def past_end(h, d):
    h["1.bias"]["data_offsets"] = [h["1.bias"]["data_offsets"][0], 4096]


def shape_bytes(h, d):
    h["0.kernel"]["shape"] = [4, 4]


def set_(entry, field, value):
    def mutate(h, d):
        h[entry][field] = value
    return mutate


def gap(h, d):
    for k in ("0.bias", "1.kernel", "1.bias"):
        h[k]["data_offsets"] = [o + 4 for o in h[k]["data_offsets"]]
    return d[:48] + b"\0" * 4 + d[48:]


def trailing(h, d):
    return d + b"\0" * 8


def drop_field(h, d):
    del h["0.bias"]["shape"]


def bad_metadata(h, d):
    h["__metadata__"] = {"epoch": 3}


def duplicate_key_header() -> bytes:
    header, data = st_state(STATE)
    raw = json.dumps(header)
    extra = json.dumps({"1.bias": header["1.bias"]})[1:-1]
    return st_bytes((raw[:-1] + ", " + extra + "}").encode(), data)


def other_model_file() -> bytes:
    return st_bytes(*st_state(make_model(3, widths=(5, 2, )).state_dict()))


def other_model_file_layers() -> bytes:
    m = tidu.Sequential([Dense(3, input_shape=(4,)), Dense(3), Dense(2)])
    return st_bytes(*st_state(m.state_dict()))


def torch_like_zip(marker) -> bytes:
    return zip_bytes([("archive/data.pkl", marker_pickle(marker)), ("archive/version", b"3")])


def npz_2gb() -> bytes:
    members = [(k + ".npy", npy_bytes(v)) for k, v in STATE.items()]
    data = zip_bytes(members, zipfile.ZIP_DEFLATED)
    return patch_zip_size(data, "1.bias.npy", 2 << 30)


def npz_40gb_header() -> bytes:
    members = [(k + ".npy", npy_bytes(v)) for k, v in STATE.items()]
    members[0] = ("0.kernel.npy", npy_bytes(descr="<f4", shape=(100_000, 100_000),
                                            payload=STATE["0.kernel"].tobytes()))
    return zip_bytes(members)


def npz_object(marker) -> bytes:
    members = [(k + ".npy", npy_bytes(v)) for k, v in STATE.items()]
    members[-1] = ("1.bias.npy", npy_bytes(descr="|O", shape=(2,), payload=marker_pickle(marker)))
    return zip_bytes(members)


def npz_with(extra_members) -> bytes:
    return zip_bytes([(k + ".npy", npy_bytes(v)) for k, v in STATE.items()] + extra_members)


def npz_big_npy_header() -> bytes:
    buf = stdio.BytesIO()
    npy.write_array_header_2_0(buf, {"descr": "<f4", "fortran_order": False,
                                     "shape": (2,), "pad": "x" * 20_000})
    members = [(k + ".npy", npy_bytes(v)) for k, v in STATE.items()]
    members[-1] = ("1.bias.npy", buf.getvalue() + b"\0" * 8)
    return zip_bytes(members)


def truncated_npz() -> bytes:
    data = npz_state()
    return data[: len(data) // 2]


CASES = {
    # name: (file suffix, builder(marker) -> bytes, regex on the message)
    "zero bytes .safetensors": (".safetensors", lambda m: b"",
                                r"empty \(0 bytes\).*never unpickles"),
    "zero bytes .npz": (".npz", lambda m: b"", r"empty \(0 bytes\).*never unpickles"),
    "truncated in the header": (".safetensors", lambda m: st_valid()[:60],
                                r"truncated: the header length field says"),
    "truncated in the data": (".safetensors", lambda m: st_valid()[:-10],
                              r"claims bytes \d+\.\.\d+ but the file has \d+ bytes after its "
                              r"header \(truncated"),
    "truncated npz": (".npz", lambda m: truncated_npz(), r"truncated or corrupt \.npz"),
    "random bytes .safetensors": (".safetensors", lambda m: RNG.bytes(4096),
                                  r"neither a safetensors nor an \.npz.*never unpickles"),
    "random bytes .npz": (".npz", lambda m: RNG.bytes(100), r"neither a safetensors.*never unp"),
    "an HTML page": (".safetensors", lambda m: HTML, r"HTML.*web page.*never unpickles"),
    "pickle renamed .safetensors": (".safetensors", marker_pickle,
                                    r"Python pickle \(protocol 2\).*never unpickles"),
    "pickle renamed .npz": (".npz", marker_pickle, r"Python pickle.*never unpickles"),
    "a PyTorch-style zip holding a pickle": (".npz", torch_like_zip,
                                             r"holds a pickle.*data\.pkl.*never unpickles"),
    "npz with a 2 GB declared member": (".npz", lambda m: npz_2gb(),
                                        r"'1\.bias\.npy' declares 2,147,483,648 bytes"),
    "npy header claiming 40 GB": (".npz", lambda m: npz_40gb_header(),
                                  r"'0\.kernel'.*\(100000, 100000\) float32 array of "
                                  r"40,000,000,000 bytes"),
    "object dtype npy": (".npz", npz_object, r"'1\.bias' holds Python objects.*never unpickles"),
    "npy header over the bound": (".npz", lambda m: npz_big_npy_header(),
                                  r"'1\.bias' has an invalid \.npy header"),
    "npz member that is no npy": (".npz", lambda m: npz_with([("notes.txt", b"hi")]),
                                  r"'notes\.txt' is not an \.npy"),
    "npz member twice": (".npz", lambda m: npz_with([("1.bias.npy", npy_bytes(STATE["1.bias"]))]),
                         r"holds '1\.bias\.npy' twice"),
    "a single .npy renamed": (".safetensors", lambda m: npy_bytes(STATE["0.kernel"]),
                              r"single \.npy array"),
    "a gzip stream": (".npz", lambda m: b"\x1f\x8b\x08\x00" + RNG.bytes(40), r"gzip stream"),
    "overlapping offsets": (".safetensors", lambda m: st_mutated(overlap),
                            r"'0\.kernel' \(bytes 0\.\.48\) and '0\.bias' \(bytes 40\.\.52\) "
                            r"overlap"),
    "size past the end": (".safetensors", lambda m: st_mutated(past_end),
                          r"'1\.bias' claims bytes 84\.\.4096 but the file has 92 bytes after "
                          r"its header"),
    "a gap in the buffer": (".safetensors", lambda m: st_mutated(gap),
                            r"bytes 48\.\.52 of the buffer belong to no entry"),
    "trailing data": (".safetensors", lambda m: st_mutated(trailing), r"trailing data"),
    "unknown dtype": (".safetensors", lambda m: st_mutated(set_("0.bias", "dtype", "F128")),
                      r"'0\.bias' has unknown dtype 'F128'"),
    "dtype NumPy cannot hold": (".safetensors", lambda m: st_mutated(set_("0.bias", "dtype",
                                                                          "BF16")),
                                r"'0\.bias' has dtype BF16, which NumPy"),
    "huge header length": (".safetensors", lambda m: st_bytes({}, b"", length=1 << 62),
                           r"header length field says 4,611,686,018,427,387,904 bytes, over the "
                           r"limit"),
    "invalid JSON": (".safetensors", lambda m: st_bytes(b'{"0.kernel": {"dtype": F32', b""),
                     r"header is not valid JSON"),
    "header not UTF-8": (".safetensors", lambda m: st_bytes(b'{"\xff\xfe": 1}', b""),
                         r"header is not UTF-8"),
    "duplicate name in the header": (".safetensors", lambda m: duplicate_key_header(),
                                     r"header names '1\.bias' twice"),
    "shape not matching the byte range": (".safetensors", lambda m: st_mutated(shape_bytes),
                                          r"'0\.kernel' has shape \(4, 4\) of F32, which is 64 "
                                          r"bytes, but its byte range 0\.\.48 holds 48"),
    "negative shape": (".safetensors", lambda m: st_mutated(set_("0.bias", "shape", [-3])),
                       r"'0\.bias' has shape \[-3\], expected a list of non-negative integers"),
    "fractional shape": (".safetensors", lambda m: st_mutated(set_("0.bias", "shape", [1.5])),
                         r"'0\.bias' has shape \[1\.5\]"),
    "reversed offsets": (".safetensors", lambda m: st_mutated(set_("0.bias", "data_offsets",
                                                                   [60, 48])),
                         r"'0\.bias' has data_offsets \[60, 48\]"),
    "an entry without its shape": (".safetensors", lambda m: st_mutated(drop_field),
                                   r"'0\.bias' must have exactly the fields.*missing \['shape'\]"),
    "metadata that is not strings": (".safetensors", lambda m: st_mutated(bad_metadata),
                                     r"__metadata__ must map strings to strings"),
    "a missing key": (".safetensors", lambda m: st_bytes(*st_state(
        {k: v for k, v in STATE.items() if k != "1.bias"})), r"missing \['1\.bias'\]"),
    "an extra key": (".safetensors", lambda m: st_valid(extra=np.zeros(2, F32)),
                     r"unexpected \['extra'\]"),
    "a wrong shape": (".safetensors", lambda m: st_valid(**{"0.kernel": np.zeros((3, 4), F32)}),
                      r"'0\.kernel' has shape \(3, 4\), expected \(4, 3\)"),
    "complex (last entry)": (".safetensors", lambda m: st_valid(**{"1.bias": np.ones(2, "c8")}),
                             r"'1\.bias' has dtype complex64, which does not cast to the "
                             r"expected float32"),
    "complex in npz (last entry)": (".npz", lambda m: npz_state(**{"1.bias": np.ones(2, "c16")}),
                                    r"'1\.bias' has dtype complex128, which does not cast"),
    "strings in npz (last entry)": (".npz", lambda m: npz_state(**{"1.bias": np.array(["a", "b"])}),
                                    r"'1\.bias' has dtype <U1, which does not cast"),
    "datetimes in npz (last entry)": (".npz", lambda m: npz_state(**{"1.bias": np.array(
        ["2020-01-01", "2021-01-01"], "datetime64[D]")}), r"'1\.bias' has dtype datetime64\[D\]"),
    "wrong keys in npz": (".npz", lambda m: zip_bytes([("w.npy", npy_bytes(STATE["0.kernel"]))]),
                          r"missing \['0\.kernel'.*unexpected \['w'\]"),
    "a valid file for another model (widths)": (".safetensors", lambda m: other_model_file(),
                                                r"'0\.kernel' has shape \(4, 5\), expected "
                                                r"\(4, 3\)"),
    "a valid file for another model (layers)": (".safetensors",
                                                lambda m: other_model_file_layers(),
                                                r"unexpected \['2\.kernel', '2\.bias'\].*another "
                                                r"model"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_malformed_file_is_refused_and_model_unchanged(case, tmp_path):
    suffix, build, pattern = CASES[case]
    marker = tmp_path / "EXECUTED"
    path = tmp_path / f"weights{suffix}"
    path.write_bytes(build(marker))
    model = make_model(7)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(FileFormatError, match=pattern) as info:
        model.load_weights(path)
    message = str(info.value)
    assert message.startswith(f"weights{suffix}: ") and str(path) in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, tidu.TiduError)
    after = model.state_dict()
    assert list(after) == list(before)
    for k, v in before.items():
        assert after[k].dtype == v.dtype and np.array_equal(after[k], v), k
    assert not marker.exists()


def test_there_are_at_least_thirty_kinds():
    assert len(CASES) >= 30


def test_the_pickles_really_would_create_the_marker(tmp_path):
    """The hostile pickle calls open(marker, 'w'): its opcodes, listed without running them."""
    listing = stdio.StringIO()
    pickletools.dis(marker_pickle(tmp_path / "m"), out=listing)
    text = listing.getvalue()
    assert "GLOBAL     'builtins open'" in text and "REDUCE" in text and str(tmp_path) in text


def test_the_valid_file_loads(tmp_path):
    """The builders are right: unmodified, the same bytes load into the model."""
    path = tmp_path / "weights.safetensors"
    path.write_bytes(st_valid())
    model = make_model(7)
    model.load_weights(path)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, STATE[k])
    (tmp_path / "weights.npz").write_bytes(npz_state())
    make_model(8).load_weights(tmp_path / "weights.npz")


@pytest.mark.parametrize("build", [
    lambda: npz_2gb(),
    lambda: npz_40gb_header(),
    lambda: st_bytes({}, b"", length=(1 << 40)),
    lambda: st_bytes({"w": {"dtype": "F32", "shape": [100_000, 100_000],
                            "data_offsets": [0, 40_000_000_000]}}, b"\0" * 64),
    lambda: st_bytes({"w": {"dtype": "F32", "shape": [100_000, 100_000],
                            "data_offsets": [0, 64]}}, b"\0" * 64),
], ids=["npz 2 GB member", "npy 40 GB header", "header length 1 TB",
        "entry of 40 GB past the end", "entry shape of 40 GB in 64 bytes"])
def test_huge_declared_sizes_are_refused_without_allocating(build, tmp_path):
    path = tmp_path / "huge.bin"
    path.write_bytes(build())
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="huge.bin"):
            load_tensors(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"peak {peak:,} bytes"


def test_reading_allocates_no_more_than_the_file(tmp_path):
    """A valid 8 MB file: the peak while loading is the arrays themselves, about the file."""
    path = tmp_path / "big.safetensors"
    arrays = {"a": np.ones((1024, 1024), F32), "b": np.zeros((1024, 1024), F32)}
    path.write_bytes(st_bytes(*st_state(arrays)))
    tracemalloc.start()
    try:
        got, _ = load_tensors(path, keys=["a"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(got["a"], arrays["a"]) and list(got) == ["a"]
    assert 4 << 20 <= peak < (4 << 20) + (1 << 20), f"peak {peak:,} bytes (only 'a' is read)"
