"""Write the notebooks text_a.ipynb ... text_d.ipynb from sources/*.py, without outputs.

Each source is a Python file in the percent format (jupytext's): ``# %% [markdown]`` starts a
markdown cell (its ``# `` comment prefixes are removed), ``# %%`` a code cell. Sources stay
lintable (``ruff check notebooks``) and reviewable; the notebooks are generated from them,
with stable cell ids, so rebuilding an unchanged source changes nothing. Edit a source, run
``python notebooks/_build.py``, commit both.

Every notebook reads its data sets from ``$TIDU_DATASETS``, else ``../../shared/datasets``
(relative to this folder), and uses small samples unless ``$TIDU_NOTEBOOK_FULL`` is set, so
that the test suite runs each in seconds; where a data set is absent the cells that need it
say so and use tidu's embedded digits instead, or skip.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"


def cells(source: str) -> list:
    """Split percent-format text into notebook cells."""
    out, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in text.splitlines())
            out.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text.strip():
            out.append(nbformat.v4.new_code_cell(text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:  # the lines before the first cell are the source's own notes
            lines.append(line)
    flush()
    return out


def notebook(source: Path):
    """The notebook of one source file (no outputs, stable cell ids)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells(source.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem}-{i}"
    return nb


def build(folder: Path = HERE) -> list:
    """Write every notebook into ``folder``; returns the paths."""
    paths = []
    for source in sorted(SOURCES.glob("text_*.py")):
        path = folder / f"{source.stem}.ipynb"
        nbformat.write(notebook(source), path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print("wrote", p)
