"""Claims of the post 2018-04-29-frameworks-side-by-side, and the shape of its tab group.

CNTK's tab shows the step the CNTK post ran in its own Python 3.6 kernel and saved to
notebooks/results/cntk-one-step.json; this post reads the numbers from there.
"""
import json
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

NOTEBOOK = "2018-04-29-frameworks-side-by-side.ipynb"
TABS = ["tab:NumPy", "tab:PyTorch", "tab:TensorFlow", "tab:Keras", "tab:JAX", "tab:CNTK"]
CNTK_RESULTS = "results/cntk-one-step.json"


def test_one_tab_group_with_every_framework():
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    tagged = [(i, t) for i, c in enumerate(nb.cells)
              for t in c.metadata.get("tags", []) if t.startswith("tab:")]
    assert [t for _, t in tagged] == TABS
    indices = [i for i, _ in tagged]
    assert indices == list(range(indices[0], indices[0] + len(TABS))), "tab cells must be consecutive"
    assert all(nb.cells[i].cell_type == "code" for i in indices)


def test_every_framework_matches_the_reference(notebook_claims):
    claims = notebook_claims(NOTEBOOK)
    summary = claims["summary"]
    assert sorted(claims["frameworks"]) == ["CNTK", "JAX", "Keras", "PyTorch", "TensorFlow"]
    for name, row in summary.items():
        assert row["shapes_ok"], name
        # "better than one part in a million"
        assert row["loss"] < 1e-6 and row["grads"] < 1e-6 and row["after_step"] < 1e-6, name
        # gradients to within float64 rounding
        assert row["grads"] < 1e-12 and row["loss"] < 1e-12, name
    # "most of them to within float64 rounding"; Keras's after-step row is the least close
    assert sum(row["after_step"] < 1e-12 for row in summary.values()) >= 3
    assert max(summary, key=lambda n: summary[n]["after_step"]) == "Keras"
    # "... because its SGD optimizer keeps the learning rate in float32"
    assert claims["keras_lr_dtype"] == "float32"


def test_cntk_row_comes_from_the_cntk_post(notebook_claims):
    claims = notebook_claims(NOTEBOOK)
    # "its step runs in the CNTK post's own Python 3.6 kernel"
    assert claims["cntk_ran_in"]["python"].startswith("3.6.") and claims["cntk_ran_in"]["cntk"] == "2.7"
    row = claims["summary"]["CNTK"]
    assert row["loss"] < 1e-6 and row["grads"] < 1e-6 and row["after_step"] < 1e-6


def test_cntk_tab_reads_the_results_file_and_depends_on_it():
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if "tab:CNTK" in c.metadata.get("tags", []))
    # The reader sees the saved source (remove-input), not this cell's code.
    assert "remove-input" in cell.metadata.get("tags", [])
    assert CNTK_RESULTS in cell.source and "source_cells" in cell.source
    assert "2018-04-28-cnn-in-cntk.ipynb" in cell.source
    front_matter = nb.cells[0].source
    assert f"depends: [{CNTK_RESULTS}]" in front_matter
    saved = json.loads((NOTEBOOKS / CNTK_RESULTS).read_text())
    assert saved["python"].startswith("3.6.")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "archived" not in markdown and "archived" not in front_matter
