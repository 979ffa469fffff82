"""The notebooks in notebooks/ run top to bottom on the samples, each within two minutes,
importing only the library (plus pandas and matplotlib to show things), stored without outputs.

Each is executed by a real kernel (nbclient, ipykernel) of the interpreter running the tests,
from the notebooks directory, as a reader would run it.
"""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
#: The issue's budget for one notebook, seconds (kernel start included).
BUDGET_S = 120
ALLOWED_IMPORTS = {"outage_signals", "pandas", "matplotlib"}


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _execute(notebook, **kwargs) -> float:
    """Run every cell in a fresh kernel of this Python; seconds taken."""
    client = nbclient.NotebookClient(
        notebook, timeout=BUDGET_S, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}, **kwargs)
    began = time.perf_counter()
    client.execute()
    return time.perf_counter() - began


def test_the_four_researcher_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == ["01-outage-tour.ipynb", "02-classifier-evaluation.ipynb",
                                           "03-detector-evaluation.ipynb", "04-geographic-spread.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean_and_imports_only_the_library(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "store notebooks cleared"
    imported = set()
    for source in _code(notebook):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert "outage_signals" in imported


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_within_budget(path):
    notebook = nbformat.read(path, as_version=4)
    seconds = _execute(notebook)
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert seconds < BUDGET_S, f"{path.name} took {seconds:.0f} s"
    shown = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in shown), "no figure was drawn"


def test_detector_notebook_skips_nab_cleanly_without_the_shared_data(tmp_path, monkeypatch):
    """With no shared data folder, the NAB part prints one line and raises nothing."""
    monkeypatch.setenv("OUTAGE_SIGNALS_SHARED_DATA", str(tmp_path / "absent"))
    notebook = nbformat.read(NOTEBOOKS_DIR / "03-detector-evaluation.ipynb", as_version=4)
    headings = [i for i, cell in enumerate(notebook.cells)
                if cell.cell_type == "markdown" and cell.source.startswith("## 3. NAB")]
    assert len(headings) == 1
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    # The set-up cell, then everything from the NAB heading on.
    notebook.cells = [notebook.cells[first_code], *notebook.cells[headings[0]:]]
    _execute(notebook)
    text = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", [])
                   if o.output_type == "stream")
    assert "skipped: NAB realTweets not found" in text
    assert not [o for cell in notebook.cells for o in cell.get("outputs", []) if o.output_type == "error"]


def test_the_kernel_is_this_interpreter():
    """The kernel that runs the notebooks must see the package under test, not another Python."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in (sys.executable, "python", "python3") or Path(spec.argv[0]).resolve() == Path(
        sys.executable).resolve()
