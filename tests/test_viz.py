"""tidu.viz: the DOT text of Text A's graphs, the freed-graph error, and rendering to files."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tidu
from tidu import viz

ROOT = Path(__file__).resolve().parents[1]


def j_graph(retain_graph=True):
    """Text A: J = 3(a + b*c), a=7, b=4, c=2, with u, v, J named and their grads retained."""
    a = tidu.tensor(7.0, requires_grad=True, name="a")
    b = tidu.tensor(4.0, requires_grad=True, name="b")
    c = tidu.tensor(2.0, requires_grad=True, name="c")
    u = (b * c).retain_grad()
    v = (a + u).retain_grad()
    J = (3 * v).retain_grad()
    u.name, v.name, J.name = "u", "v", "J"
    J.backward(retain_graph=retain_graph)
    return J


def parse(dot: str):
    """{node id: (label lines, attribute text)} and [(src, dst)] from to_dot's output."""
    nodes = {}
    for nid, label, attrs in re.findall(r'^\s+(\w+) \[label="(.*?)"(.*)\];$', dot, re.M):
        nodes[nid] = (label.split("\\n"), attrs)
    edges = re.findall(r"^\s+(\w+) -> (\w+)", dot, re.M)
    return nodes, edges


def by_name(nodes) -> dict:
    return {lines[0]: nid for nid, (lines, _) in nodes.items() if nid.startswith("t")}


def test_j_graph_nodes_values_and_gradients():
    J = j_graph()
    dot = viz.to_dot(J)
    assert dot.startswith("digraph tidu {") and dot.rstrip().endswith("}")
    nodes, _ = parse(dot)
    ops = sorted(lines[0] for nid, (lines, attrs) in nodes.items() if "ellipse" in attrs)
    assert ops == ["Add", "Mul", "Mul"]
    tensors = {lines[0]: lines[1:] for nid, (lines, attrs) in nodes.items() if "box" in attrs}
    expected = {"a": (7, 3), "b": (4, 6), "c": (2, 12), "u": (8, 3), "v": (15, 3), "J": (45, 1)}
    assert set(tensors) == set(expected)
    for name, (value, grad) in expected.items():
        assert tensors[name] == ["shape ()", f"value {value}", f"grad {grad}"], name
    assert J.item() == 45


def test_j_graph_edges_connect_the_right_nodes():
    nodes, edges = parse(viz.to_dot(j_graph()))
    t = by_name(nodes)
    op_of = {}  # output tensor name -> op id
    for src, dst in edges:
        if src.startswith("f"):
            op_of[nodes[dst][0][0]] = src
    inputs = {name: sorted(nodes[s][0][0] for s, d in edges if d == fid)
              for name, fid in op_of.items()}
    assert {name: nodes[fid][0][0] for name, fid in op_of.items()} == {
        "u": "Mul", "v": "Add", "J": "Mul"}
    assert inputs == {"u": ["b", "c"], "v": ["a", "u"], "J": ["const", "v"]}
    assert len(edges) == 9  # 3 op->output, 6 inputs (one of them the constant 3)
    assert all(src in nodes and dst in nodes for src, dst in edges)
    assert not any(src == t["J"] for src, _ in edges)  # the root feeds nothing


def test_options_and_unnamed_tensors():
    x = tidu.tensor([[1.0, -2.5], [0.0, 4.0]], requires_grad=True)
    big = tidu.tensor(np.arange(6.0), requires_grad=True, name="big")
    y = (x * 2).sum() + big.sum()
    dot = viz.to_dot(y, show_constants=False, rankdir="TB")
    assert "rankdir=TB;" in dot and "const" not in dot
    nodes, edges = parse(dot)
    labels = {lines[0]: lines for lines, _ in nodes.values()}
    x_lines = next(lines for lines, _ in nodes.values() if "shape (2, 2)" in lines
                   and "value [[1, -2.5], [0, 4]]" in lines)
    assert re.fullmatch(r"t\d+", x_lines[0])  # unnamed: a short id
    assert labels["big"] == ["big", "shape (6,)"]  # over max_elements: no value printed
    assert "value [0, 1, 2, 3, 4, 5]" in viz.to_dot(y, max_elements=6)
    no_vals = viz.to_dot(y, show_values=False)
    assert "value" not in no_vals
    # the same graph gives the same text
    assert viz.to_dot(y) == viz.to_dot(y)


def test_shared_input_and_deep_graph_without_recursion():
    x = tidu.tensor(1.5, requires_grad=True, name="x")
    nodes, edges = parse(viz.to_dot(x * x))
    assert edges.count((by_name(nodes)["x"], "f0")) == 2  # both operands drawn
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit
        y = y + 1.0
    dot = viz.to_dot(y)
    assert dot.count("[label=\"Add\"") == 3000


def test_freed_graph_raises_a_clear_error():
    J = j_graph(retain_graph=False)
    with pytest.raises(tidu.GradientError, match=r"retain_graph=True.*retain_grad\(\)") as ei:
        viz.to_dot(J)
    assert "'J'" in str(ei.value) and "freed" in str(ei.value)


def test_bad_arguments():
    x = tidu.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="at least one"):
        viz.to_dot()
    with pytest.raises(TypeError, match="ndarray"):
        viz.to_dot(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(x, rankdir="XY")
    with pytest.raises(ValueError, match="format"):
        viz.render(x, path="graph.jpgx")


def test_render_dot_always_works(tmp_path):
    J = j_graph()
    out = viz.render(J, path=tmp_path / "j.dot")
    assert out == tmp_path / "j.dot"
    assert out.read_text() == viz.to_dot(J)
    assert [p.name for p in tmp_path.iterdir()] == ["j.dot"]  # no temporary file left
    viz.render(J, path=tmp_path / "noext", format="dot")
    assert (tmp_path / "noext").read_text() == viz.to_dot(J)


def test_render_image_without_graphviz_says_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz") as ei:
        viz.render(j_graph(), path=tmp_path / "j.svg")
    assert "to_dot" in str(ei.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_svg_and_png_with_graphviz(tmp_path):
    J = j_graph()
    svg = viz.render(J, path=tmp_path / "j.svg").read_text()
    assert "<svg" in svg
    for text in ("Mul", "Add", "value 45", "grad 12", "value 8"):
        assert f">{text}<" in svg, text
    png = viz.render(J, path=tmp_path / "j.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.png", "j.svg"]


def test_graph_view_example_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "graph_view.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True)
    out = proc.stdout
    assert "values: u=8, v=15, J=45" in out
    assert "grads:  dJ/dv=3, dJ/du=3, dJ/da=3, dJ/db=6, dJ/dc=12" in out
    assert 'label="J\\nshape ()\\nvalue 45\\ngrad 1"' in out
    # logistic regression: x1=2, x2=-1, w1=0.3, w2=0.5, b=0.1, y=1 -> z=0.2, a=sigmoid(0.2)
    dz = 1 / (1 + np.exp(-0.2)) - 1
    rows = dict(re.findall(r"^\s+(dz|dw1|dw2|db)\s+(\S+)\s+\S+$", out, re.M))
    tidu_rows = dict(re.findall(r"^\s+(dz|dw1|dw2|db)\s+\S+\s+(\S+)$", out, re.M))
    for k, want in {"dz": dz, "dw1": 2 * dz, "dw2": -dz, "db": dz}.items():
        assert float(rows[k]) == pytest.approx(want, abs=1e-8)
        assert float(tidu_rows[k]) == pytest.approx(want, abs=1e-8)
    assert "hand-derived and tidu gradients agree: True" in out
    assert "Sigmoid" in out and "Log" in out
    assert (tmp_path / "graph_J.dot").exists() and (tmp_path / "graph_logreg.dot").exists()
    if shutil.which("dot"):
        assert (tmp_path / "graph_J.svg").exists() and (tmp_path / "graph_logreg.svg").exists()
    else:
        assert "skipped graph_J.svg" in out
