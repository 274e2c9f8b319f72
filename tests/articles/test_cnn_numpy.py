"""Claims of the post "A CNN from scratch in NumPy" (notebooks/2018-04-23-cnn-from-scratch-in-numpy.ipynb).

Also checks that the layer code the post shows is exactly the code of notebooks/numpy_cnn.py,
the module the framework posts import, so the two can never drift apart.
"""
import ast
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

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
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.startswith(("#|", "%")))
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
    # "close to float32's own precision": within ten rounding units of float32
    assert c["float32_vs_float64_max_rel_err"] < 10 * np.finfo(np.float32).eps
    # "close to ln 10"
    assert abs(c["initial_loss"] - math.log(10)) < 0.25


def test_training(notebook_claims):
    c = notebook_claims(NAME)
    assert c["test_accuracy"] >= 0.95
    # "the mean loss of the last epoch is less than a tenth of the first's"
    assert c["last_epoch_mean_loss"] < c["first_epoch_mean_loss"] / 10
    # "fewer than 1500 parameters", and the count the post gives: 8*9 + 8 + 10*128 + 10
    assert c["num_parameters"] < 1500
    assert c["num_parameters"] == 8 * 9 + 8 + 10 * 128 + 10

def _generated_markdown(executed) -> str:
    return " ".join("\n".join(o["data"]["text/markdown"] for cell in executed.cells if cell.cell_type == "code"
                              for o in cell.get("outputs", []) if "text/markdown" in o.get("data", {})).split())


def _markdown_cells() -> str:
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    return " ".join("\n".join(c.source for c in nb.cells if c.cell_type == "markdown").split())


def test_the_number_of_passes_over_the_data_is_the_epochs(notebook_claims, executed_notebook):
    """ "has seen each training image only 20 times, once per epoch", from digits_cnn.EPOCHS."""
    import sys
    sys.path.insert(0, str(NOTEBOOKS))
    from digits_cnn import EPOCHS
    assert notebook_claims(NAME)["epochs"] == EPOCHS
    assert f"has seen each training image only {EPOCHS} times, once per epoch" in \
        _generated_markdown(executed_notebook(NAME))
    assert "dozen" not in _markdown_cells()


def test_the_parity_bar_is_the_series_bar_per_precision(notebook_claims, executed_notebook):
    import sys
    sys.path.insert(0, str(NOTEBOOKS))
    from digits_cnn import PARITY_BAR
    assert notebook_claims(NAME)["parity_bar"] == PARITY_BAR == {"float64": 1e-12, "float32": 1e-5}
    prose = _generated_markdown(executed_notebook(NAME))
    assert "to a relative error below $10^{-12}$ in float64, where the framework allows it, and below " \
           "$10^{-5}$ in float32" in prose
    typed = _markdown_cells()
    assert "10^{-6}" not in typed and "10^{-4}" not in typed


def test_every_framework_post_is_named():
    intro = _markdown_cells()
    assert "the PyTorch, TensorFlow, Keras, JAX and CNTK posts train the same network" in intro
    posts = sorted(p.name for p in NOTEBOOKS.glob("2018-04-2[4-8]-cnn-in-*.ipynb"))
    assert [p.split("-cnn-in-")[1].removesuffix(".ipynb") for p in posts] == \
        ["pytorch", "tensorflow", "keras", "jax", "cntk"]


def test_figures_fit_a_phone_at_twice_the_resolution(notebook_claims, executed_notebook):
    import base64
    import io

    from PIL import Image
    figures = notebook_claims(NAME)["figures"]
    pngs = [base64.b64decode(o["data"]["image/png"]) for cell in executed_notebook(NAME).cells
            if cell.cell_type == "code" for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == len(figures) == 2
    for (name, fig), png in zip(figures.items(), pngs):
        width_px = Image.open(io.BytesIO(png)).size[0]
        assert fig["width_in"] <= 5.4 and fig["min_fontsize"] >= 10, name
        assert width_px / fig["width_in"] == pytest.approx(2 * fig["dpi"], rel=0.02), name


def test_code_cells_fit_80_columns_but_the_modules_docstrings():
    """The layer code is numpy_cnn.py's, docstrings included (test_post_shows_the_module_code), so
    its long docstrings stay; every other line a reader sees fits 80 columns."""
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    long_lines = [line for c in nb.cells if c.cell_type == "code"
                  and not {"remove-cell", "remove-input"} & set(c.metadata.get("tags", []))
                  for line in c.source.splitlines()
                  if len(line) > 80 and not line.startswith("#|") and not line.strip().startswith('"""')]
    assert long_lines == []


# ---------------------------------------------------------------- "like the frameworks"

def _tie_inputs():
    """One 2 x 2 pooling window per case, with the maximum tied at several positions, and
    ReLU inputs on both sides of the kink and exactly at it."""
    windows = np.array([[[[1.0, 1.0], [0.5, 1.0]]], [[[0.5, 2.0], [2.0, 0.25]]]], np.float32)
    relu_inputs = np.array([-1.0, 0.0, 2.0], np.float32)
    return windows, relu_inputs


def _reference_tie_gradients():
    import sys
    sys.path.insert(0, str(NOTEBOOKS))
    from numpy_cnn import maxpool_backward, maxpool_forward, relu_backward

    windows, relu_inputs = _tie_inputs()
    out, cache = maxpool_forward(windows)
    pool = maxpool_backward(np.ones_like(out), cache)
    relu = relu_backward(np.ones_like(relu_inputs), relu_inputs)
    return pool, relu


def _torch_tie_gradients():
    torch = pytest.importorskip("torch")
    windows, relu_inputs = _tie_inputs()
    w = torch.tensor(windows, requires_grad=True)
    torch.nn.functional.max_pool2d(w, 2).sum().backward()
    r = torch.tensor(relu_inputs, requires_grad=True)
    torch.relu(r).sum().backward()
    return w.grad.numpy(), r.grad.numpy()


def _tensorflow_tie_gradients():
    tf = pytest.importorskip("tensorflow")
    windows, relu_inputs = _tie_inputs()
    w = tf.Variable(windows.transpose(0, 2, 3, 1))             # NHWC
    with tf.GradientTape() as tape:
        pooled = tf.reduce_sum(tf.nn.max_pool2d(w, 2, 2, "VALID"))
    pool = tape.gradient(pooled, w).numpy().transpose(0, 3, 1, 2)
    r = tf.Variable(relu_inputs)
    with tf.GradientTape() as tape:
        activated = tf.reduce_sum(tf.nn.relu(r))
    return pool, tape.gradient(activated, r).numpy()


def _jax_tie_gradients():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax import lax

    windows, relu_inputs = _tie_inputs()
    pool = jax.grad(lambda h: lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                                "VALID").sum())(jnp.asarray(windows))
    relu = jax.grad(lambda v: jax.nn.relu(v).sum())(jnp.asarray(relu_inputs))
    return np.asarray(pool), np.asarray(relu)


@pytest.mark.parametrize("framework", [_torch_tie_gradients, _tensorflow_tie_gradients, _jax_tie_gradients],
                         ids=["pytorch", "tensorflow", "jax"])
def test_ties_and_kinks_are_resolved_like_the_frameworks(framework):
    # "When two values tie, the first one wins, which is what the frameworks do" and
    # "At a = 0 exactly ... like the frameworks, the code uses 0 there"
    pool, relu = _reference_tie_gradients()
    np.testing.assert_array_equal(pool.reshape(2, 4), [[1, 0, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(relu, [0, 0, 1])
    framework_pool, framework_relu = framework()
    np.testing.assert_array_equal(framework_pool, pool)
    np.testing.assert_array_equal(framework_relu, relu)
