"""The notebooks run top to bottom on tiny runs, so they never rot (each ~20-40 s: kernel and imports)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.tiny_runs import tiny_run

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

pytestmark = pytest.mark.slow


def execute(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode, kind: str) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.outputs if output.output_type == kind]


def test_colorspaces_notebook_runs():
    notebook = execute("colorspaces.ipynb")
    text = "".join(output.text for output in outputs(notebook, "stream"))
    for space in ("lab", "yuv", "ycbcr", "luv", "hsv", "rgb"):
        assert f"\n{space} " in text
    figures = [o for o in outputs(notebook, "display_data") if "image/png" in o.data]
    assert len(figures) >= 3


def test_results_notebook_runs_on_two_runs(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.getbasetemp() / "tiny-runs"
    runs = [tiny_run(root, "lab"), tiny_run(root, "yuv")]
    monkeypatch.setenv("COLORGAN_RUN_DIRS", ":".join(str(run) for run in runs))
    notebook = execute("results.ipynb")
    text = "".join(output.text for output in outputs(notebook, "stream"))
    assert "colorspace=lab" in text and "colorspace=yuv" in text  # both runs colorized the photo and scored
    assert "deltae00" in text
    tables = [o for o in outputs(notebook, "display_data") if "text/markdown" in o.data]
    assert tables and "best val" in tables[0].data["text/markdown"]
