"""The notebooks (one per source text): stored without outputs, in step with their sources,
and each one runs from top to bottom on small data (nbclient, one kernel per notebook)."""

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(p.name for p in FOLDER.glob("text_*.ipynb"))
DATASETS = ROOT.parent / "shared" / "datasets"

NEEDS = {"text_a.ipynb": "catvnoncat", "text_b.ipynb": "mnist"}  # shared data set they show
FIGURES = {"text_a.ipynb": 4, "text_b.ipynb": 6, "text_c.ipynb": 6, "text_d.ipynb": 3}
EXPECTED = {  # text each notebook must print
    "text_a.ipynb": ["J = 45.0 | dJ/da, dJ/db, dJ/dc = 3.0 6.0 12.0",
                     "a = 5.0: d(a^2)/da = 10", "same value: True"],
    "text_b.ipynb": ["Total params: 407,050", "test_acc:", "update/w"],
    "text_c.ipynb": ["perceptron on AND: 100%", "perceptron on OR: 100%",
                     "zeros: distinct hidden units 1 of 8",
                     "N(0, 0.01): distinct hidden units 8 of 8", "dead"],
    "text_d.ipynb": ["w1: np.allclose(hand-written, autodiff) = True",
                     "b2: np.allclose(hand-written, autodiff) = True",
                     "training accuracy: 1.0"],
}


def test_there_is_one_notebook_per_text():
    assert NOTEBOOKS == ["text_a.ipynb", "text_b.ipynb", "text_c.ipynb", "text_d.ipynb"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_without_outputs(name):
    nb = nbformat.read(FOLDER / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
            assert "execution" not in cell.metadata


def test_notebooks_are_built_from_their_sources(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_build", FOLDER / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    written = build.build(tmp_path)
    assert sorted(p.name for p in written) == NOTEBOOKS
    for p in written:
        assert json.loads(p.read_text()) == json.loads((FOLDER / p.name).read_text()), (
            f"{p.name} is out of date: run python notebooks/_build.py")


def _outputs(nb):
    text, images = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text.append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                images += "image/png" in out.data
                text.append(out.data.get("text/plain", ""))
    return "".join(text), images


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
    # the kernel inherits this environment: the shared data sets when present (else each
    # notebook falls back to the embedded digits or skips), small data, one BLAS thread
    # (the matrices are small; several threads on a busy 2-core machine only contend)
    if name in NEEDS and not (DATASETS / NEEDS[name]).is_dir():
        pytest.skip(f"data set folder {DATASETS / NEEDS[name]} not found "
                    f"(../shared/datasets/{NEEDS[name]} from the project root)")
    if DATASETS.is_dir():
        monkeypatch.setenv("TIDU_DATASETS", str(DATASETS))
    monkeypatch.delenv("TIDU_NOTEBOOK_FULL", raising=False)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(FOLDER / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(FOLDER)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    text, images = _outputs(nb)
    for expected in EXPECTED[name]:
        assert expected in text, f"{name} did not print {expected!r}"
    assert images >= FIGURES[name], f"{name} showed {images} figures"
    assert "Traceback" not in text
