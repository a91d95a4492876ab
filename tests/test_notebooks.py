"""Every notebook in notebooks/ runs top to bottom (at a 1 % sample)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("REFORMSIM_SCALE", "0.01")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    # execute() raises on the first failing cell; beyond that, every code cell ran and the
    # notebook showed what it computed (printed figures, tables or charts)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") is not None for c in code)
    shown = [o for c in code for o in c.get("outputs", []) if o.get("output_type") in
             ("stream", "execute_result", "display_data")]
    assert len(shown) >= 2, f"{path.name} showed almost nothing"
