"""docs/quickstart.ipynb runs top to bottom in a fresh kernel (nbclient), on tiny settings
(GENJAX_QUICKSTART_STEPS=3 on the 8x8 digits), and is committed without outputs."""

import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "quickstart.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    monkeypatch.setenv("GENJAX_QUICKSTART_STEPS", "3")
    monkeypatch.setenv("GENJAX_QUICKSTART_DATA", "digits")  # 8x8: a cheaper eval
    monkeypatch.setenv("GENJAX_QUICKSTART_DIR", str(tmp_path))
    # the kernel inherits this process's environment: the tests' data folder and CPU flags
    assert "GENJAX_DATA_DIR" in os.environ
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell if any cell raises
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "reconstruction error" in text and "log p(x) >=" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the sample grid and the latent walk
    results = next(o for o in reversed(outputs) if o.output_type == "execute_result")
    assert "test_nll_iwae_8" in results["data"]["text/plain"]
    assert (tmp_path / "vae" / "config.json").exists()
