"""Claims of the post 2018-04-29-frameworks-side-by-side, and the shape of its tab group."""
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

NOTEBOOK = "2018-04-29-frameworks-side-by-side.ipynb"
TABS = ["tab:NumPy", "tab:PyTorch", "tab:TensorFlow", "tab:Keras", "tab:JAX"]


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
    assert sorted(claims["frameworks"]) == ["JAX", "Keras", "PyTorch", "TensorFlow"]
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
