"""Claims of the post "A CNN from scratch in NumPy" (notebooks/2018-04-23-cnn-from-scratch-in-numpy.ipynb).

Also checks that the layer code the post shows is exactly the code of notebooks/numpy_cnn.py,
the module the framework posts import, so the two can never drift apart.
"""
import ast
import math
from pathlib import Path

import nbformat

NAME = "2018-04-23-cnn-from-scratch-in-numpy.ipynb"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _functions(tree):
    return {n.name: ast.dump(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_post_shows_the_module_code():
    module = _functions(ast.parse((NOTEBOOKS / "numpy_cnn.py").read_text()))
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    shown = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("#|"))
            shown.update(_functions(ast.parse(source)))
    missing = [name for name in module if name not in shown]
    assert not missing, f"the post does not show {missing}"
    differing = [name for name in module if shown[name] != module[name]]
    assert not differing, f"the post's code differs from numpy_cnn.py for {differing}"


def test_gradient_check(notebook_claims):
    c = notebook_claims(NAME)
    # "agrees with its finite difference to better than 1e-8 of the tensor's largest gradient"
    assert c["gradcheck_max_rel_err_init"] < 1e-8
    assert c["gradcheck_max_rel_err_trained"] < 1e-8
    # "no kink was within reach": ReLU inputs further than h from 0, pool winners 2h ahead.
    assert c["relu_margin_over_h"] > 1
    assert c["pool_margin_over_h"] > 2


def test_float32_and_initial_loss(notebook_claims):
    c = notebook_claims(NAME)
    assert c["float32_vs_float64_max_rel_err"] < 1e-5
    # "close to ln 10"
    assert abs(c["initial_loss"] - math.log(10)) < 0.25


def test_training(notebook_claims):
    c = notebook_claims(NAME)
    assert c["test_accuracy"] >= 0.95
    # "the mean loss of the last epoch is less than a tenth of the first's"
    assert c["last_epoch_mean_loss"] < c["first_epoch_mean_loss"] / 10
    # "fewer than 1500 parameters"
    assert c["num_parameters"] < 1500
    # "has seen each training image only a few dozen times at most"
    assert c["epochs"] <= 50
