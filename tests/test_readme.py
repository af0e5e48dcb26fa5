"""The README's Text D and scipy.optimize code blocks run as printed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def block(heading: str, n: int = 0) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[n]


def test_readme_text_d_program_trains_to_100_percent(capsys):
    np.random.seed(0)
    env: dict = {}
    exec(compile(block("Text D: symbolic graphs, compiled once"), "README", "exec"), env)
    D, predict, err = env["D"], env["predict"], env["err"]
    assert np.all(np.isfinite(err))
    assert np.mean(predict(D[0]) == D[1]) == 1.0
    assert env["train"].stats["log_one_minus_sigmoid"] == 1


def test_readme_scipy_block():
    pytest.importorskip("scipy")
    code = block("scipy.optimize").split("tidu.optimize.minimize_model")[0]
    env: dict = {}
    exec(compile(code, "README", "exec"), env)
    res = env["res"]
    assert abs(float(res.x) - 2.0) < 1e-5 and abs(float(res.fun) - 4.0) < 1e-10
