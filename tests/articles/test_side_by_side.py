"""Claims of the post 2018-04-29-frameworks-side-by-side, and the shape of its tab group and table.

Every framework post saves its float64 step, with the source of the cells that took it, to
notebooks/results/<framework>-one-step.json (the CNTK post in its own Python 3.6 kernel); this post
shows those cells and reads the numbers from there. The tests compare the generated posts: every
number the side-by-side table repeats is the one its framework's post printed.
"""
import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest

from parity_tables import SITE, float64_summary, markdown_tables, post_text

sys.path.insert(0, str(SITE / "notebooks"))
from digits_cnn import PARITY_BAR  # noqa: E402

NOTEBOOKS = SITE / "notebooks"
NOTEBOOK = "2018-04-29-frameworks-side-by-side.ipynb"
TABS = ["tab:NumPy", "tab:PyTorch", "tab:TensorFlow", "tab:Keras", "tab:JAX", "tab:CNTK"]
POSTS = {"PyTorch": "2018-04-24-cnn-in-pytorch.ipynb", "TensorFlow": "2018-04-25-cnn-in-tensorflow.ipynb",
         "Keras": "2018-04-26-cnn-in-keras.ipynb", "JAX": "2018-04-27-cnn-in-jax.ipynb",
         "CNTK": "2018-04-28-cnn-in-cntk.ipynb"}
RESULTS = {name: f"results/{name.lower()}-one-step.json" for name in POSTS}
HEADER = ["framework", "gradients", "updated"]
NUMBER = r"\d\.\de[+-]\d\d"


def saved(framework):
    return json.loads((NOTEBOOKS / RESULTS[framework]).read_text())


def parity_table():
    """{framework: [loss's absolute error, gradients' and updated parameters' relative errors]}:
    the table's two columns and the sentence under it that gives the loss's error."""
    text = post_text(NOTEBOOK)
    tables = [rows for header, rows in markdown_tables(text) if header == HEADER]
    assert len(tables) == 1, "the post shows exactly one parity table"
    losses = re.search(r"Absolute error of the loss: (.*)\.$", text, re.M).group(1).split(", ")
    losses = dict(item.split(" ") for item in losses)
    assert list(losses) == [row[0] for row in tables[0]]
    return {row[0]: [losses[row[0]]] + row[1:] for row in tables[0]}


def tab_panel(framework):
    text = post_text(NOTEBOOK)
    start = text.index(f'<div class="tab-panel" data-tab="{framework}"')
    end = text.find('<div class="tab-panel"', start + 1)
    return text[start:end if end > 0 else text.index("## Do they agree?")]


def test_one_tab_group_with_every_framework():
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    tagged = [(i, t) for i, c in enumerate(nb.cells)
              for t in c.metadata.get("tags", []) if t.startswith("tab:")]
    assert [t for _, t in tagged] == TABS
    indices = [i for i, _ in tagged]
    assert indices == list(range(indices[0], indices[0] + len(TABS))), "tab cells must be consecutive"
    assert all(nb.cells[i].cell_type == "code" for i in indices)


def test_parity_results_are_a_markdown_table():
    table = parity_table()
    assert list(table) == list(POSTS)
    for name, cells in table.items():
        assert all(re.fullmatch(NUMBER, cell) for cell in cells), (name, cells)
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    assert not any("print(f\"{name:<11}" in c.source or "{'framework':<11}" in c.source for c in nb.cells)
    assert "inside the series' float64 bar of 1e-12 (`digits_cnn.PARITY_BAR`)." in post_text(NOTEBOOK)


def test_every_framework_matches_the_reference(notebook_claims):
    claims = notebook_claims(NOTEBOOK)
    assert claims["bar"] == PARITY_BAR["float64"]
    assert sorted(claims["frameworks"]) == sorted(POSTS)
    for name, row in claims["summary"].items():
        assert row["shapes_ok"], name
        # "to within a few units of float64 rounding", inside the float64 bar
        assert row["grads"] < PARITY_BAR["float64"] and row["after_step"] < PARITY_BAR["float64"], name
        assert row["loss"] < 1e-14 and row["grads"] < 1e-14 and row["after_step"] < 1e-14, name


@pytest.mark.parametrize("framework", ["PyTorch", "TensorFlow", "Keras", "JAX"])
def test_repeated_numbers_are_the_framework_posts(framework):
    """The table's row is what the framework's own post printed, digit for digit."""
    theirs = float64_summary(post_text(POSTS[framework]))
    assert parity_table()[framework] == [theirs["loss"], theirs["grads"], theirs["after_step"]]


def test_the_numbers_are_read_from_the_framework_posts_runs():
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    front_matter = nb.cells[0].source
    depends = re.search(r"^depends: \[(.*)\]$", front_matter, re.M).group(1).split(", ")
    assert depends == list(RESULTS.values())
    fetch = next(c for c in nb.cells if "fetch-helpers" in c.metadata.get("tags", []))
    assert all(f"'{path}'" in fetch.source for path in RESULTS.values())
    # Only NumPy runs here: no framework is imported.
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for module in ("torch", "tensorflow", "keras", "jax", "cntk"):
        assert not re.search(rf"^\s*(import|from) {module}\b", code, re.M), module


@pytest.mark.parametrize("framework", list(POSTS))
def test_each_tab_shows_cells_its_framework_post_ran(framework, notebook_claims):
    record = saved(framework)
    post = nbformat.read(NOTEBOOKS / POSTS[framework], as_version=4)
    code_cells = [c.source for c in post.cells if c.cell_type == "code"]
    # Every saved cell is a cell of that notebook, verbatim, and in the notebook's order.
    positions = [code_cells.index(source) for source in record["source_cells"]]
    assert positions == sorted(positions)
    # The tab shows them, and no output of its own (what they printed is in that post).
    panel = tab_panel(framework)
    for source in record["source_cells"]:
        for line in source.splitlines():
            assert line in panel, line
    assert ".output .stdout" not in panel
    # The names they use without defining them are named in the tab and defined in that post's
    # earlier cells (imported or assigned).
    names = notebook_claims(NOTEBOOK)["free_names"][framework]
    assert names and all(f"`{n}`" in panel for n in names)
    defined = set()
    for source in [s for s in code_cells[:positions[-1]] if s not in record["source_cells"]]:
        for node in ast.walk(ast.parse("\n".join(line for line in source.splitlines()
                                                 if not line.startswith("%")))):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.alias):
                defined.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
    assert set(names) <= defined, set(names) - defined


def test_cntk_ran_in_its_own_kernel(notebook_claims):
    claims = notebook_claims(NOTEBOOK)
    # "its post runs in a Python 3.6 kernel of its own"
    assert claims["cntk_ran_in"]["python"].startswith("3.6.") and claims["cntk_ran_in"]["cntk"] == "2.7"
    assert all(ran["python"] == claims["ran_in"]["PyTorch"]["python"]
               for name, ran in claims["ran_in"].items() if name != "CNTK")
    assert {ran["numpy"] for name, ran in claims["ran_in"].items() if name != "CNTK"} == {claims["numpy"]}


def test_why_the_cntk_row_can_differ_from_the_cntk_post():
    """The post says the CNTK post's reference, computed by NumPy 1.19 in its kernel, and this post's,
    computed by NumPy 2, are a unit in the last place or so apart. Computed in both kernels: they
    differ, and by no more than a few units of float64 rounding."""
    text = post_text(NOTEBOOK)
    assert f"by NumPy {saved('CNTK')['numpy']}" in text
    python36 = SITE / ".kernels/envs/cntk-py36/venv/bin/python"
    if not python36.exists():
        pytest.skip("the cntk-py36 kernel is not set up (python build.py --setup-kernels)")
    script = ("import json, numpy as np, digits_cnn as D, numpy_cnn as N\n"
              "x, y, _, _ = D.load_digits_split(); b = D.batches(len(x), 0)[0]\n"
              "loss, g = N.reference_loss_and_grads(D.initial_weights(np.float64), "
              "x[b].astype(np.float64), y[b])\n"
              "print(json.dumps({'numpy': np.__version__, 'loss': loss, "
              "'grads': {k: v.tolist() for k, v in g.items()}}))")
    runs = [json.loads(subprocess.run([python, "-c", script], cwd=NOTEBOOKS, capture_output=True,
                                      text=True, check=True).stdout)
            for python in (str(python36), sys.executable)]
    assert runs[0]["numpy"] == saved("CNTK")["numpy"] and runs[0]["numpy"] != runs[1]["numpy"]
    import numpy as np
    from digits_cnn import max_errors
    gaps = [abs(runs[0]["loss"] - runs[1]["loss"]) / abs(runs[1]["loss"])]
    gaps += [max_errors(runs[0]["grads"][k], runs[1]["grads"][k])[1] for k in runs[1]["grads"]]
    assert 0 < max(gaps) < 4 * np.finfo(np.float64).eps


@pytest.mark.parametrize("framework", ["PyTorch", "TensorFlow", "Keras", "JAX"])
def test_framework_posts_say_what_they_saved(framework):
    """Each framework post names its results file; where it counts the cells, the count is right."""
    text = post_text(POSTS[framework])
    assert f"`{RESULTS[framework]}`" in text
    counted = re.search(r"the source of the (\w+) cells that made it", text)
    if counted:
        assert counted.group(1) == {3: "three"}[len(saved(framework)["source_cells"])]
