"""Every notebook in notebooks/ runs headless through the real Kiln kernel without errors.

Cells tagged `raises-exception` demonstrate errors on purpose; any other error output fails.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_clean(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="kiln", timeout=300, allow_errors=False).execute()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"cell {i} of {path.name}: {out.get('ename')}: {out.get('evalue')}"
