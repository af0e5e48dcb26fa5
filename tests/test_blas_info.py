"""tidu.backend.blas and ``tidu info``: which BLAS kernels NumPy's products run on, and the
hint when OpenBLAS uses narrower vectors than the CPU has."""

from __future__ import annotations

import pytest

from tidu import cli
from tidu.backend import blas

AVX512_CPU = frozenset(blas.AVX512) | {"avx2", "fma"}
AVX2_CPU = frozenset({"avx2", "fma", "avx512f"})  # not every flag SkylakeX's kernels need


def lib(core, api="openblas"):
    return {"api": api, "version": "0.3.31", "core": core, "threads": 2, "path": "x"}


@pytest.mark.parametrize("core", ["Haswell", "Zen", "haswell"])
def test_hint_when_openblas_runs_avx2_kernels_on_an_avx512_cpu(core):
    hint = blas.blas_hint([lib(core)], AVX512_CPU, {})
    assert hint is not None
    assert "OPENBLAS_CORETYPE=SkylakeX" in hint and core in hint


def test_hint_names_a_forcing_environment_variable():
    hint = blas.blas_hint([lib("Haswell")], AVX512_CPU, {"OPENBLAS_CORETYPE": "Haswell"})
    assert "without OPENBLAS_CORETYPE=Haswell" in hint


@pytest.mark.parametrize("info, flags, env", [
    ([lib("SkylakeX")], AVX512_CPU, {}),  # already the AVX-512 kernels
    ([lib("Haswell")], AVX2_CPU, {}),  # the CPU lacks part of AVX-512
    ([lib("Haswell")], frozenset(), {}),  # flags unknown (not Linux)
    ([lib(None, api="mkl")], AVX512_CPU, {}),  # not OpenBLAS
    ([], AVX512_CPU, {}),  # threadpoolctl not installed
])
def test_no_hint_otherwise(info, flags, env):
    assert blas.blas_hint(info, flags, env) is None


def test_cpu_flags_reads_the_flags_line(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\nbugs\t: none\n")
    assert blas.cpu_flags(str(f)) == {"fpu", "avx2", "avx512f"}
    assert blas.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_blas_info_names_numpys_library():
    pytest.importorskip("threadpoolctl")
    libs = blas.blas_info()
    assert libs, "NumPy links a BLAS; threadpoolctl should find it"
    assert all(set(d) == {"api", "version", "core", "threads", "path"} for d in libs)
    assert any(d["threads"] >= 1 for d in libs)


def test_tidu_info_prints_versions_blas_and_the_hint(capsys, monkeypatch):
    import numpy

    monkeypatch.setattr(blas, "blas_info", lambda: [lib("Haswell")])
    monkeypatch.setattr(blas, "cpu_flags", lambda path="/proc/cpuinfo": AVX512_CPU)
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"NumPy {numpy.__version__}" in out
    assert "BLAS: openblas 0.3.31, kernels Haswell, 2 thread(s)" in out
    assert "AVX-512: yes" in out
    assert "hint: " in out and "OPENBLAS_CORETYPE=SkylakeX" in out
    monkeypatch.setattr(blas, "blas_info", lambda: [lib("SkylakeX")])
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "OPENBLAS_CORETYPE=SkylakeX" in out and "hint: " not in out
