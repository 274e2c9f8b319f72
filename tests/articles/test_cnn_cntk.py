"""Claims of the post "Back-propagation in CNTK" (notebooks/2018-04-28-cnn-in-cntk.ipynb).

The post runs in its own kernel (Python 3.6, NumPy 1.19, CNTK 2.7). Besides the claims it prints,
it writes ``notebooks/results/cntk-one-step.json``, which the side-by-side post reads; the tests
below check that the committed file is the one the execution wrote and that the source it
carries is the notebook's own code.
"""
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

NAME = "2018-04-28-cnn-in-cntk.ipynb"
SITE = Path(__file__).resolve().parents[2]
NOTEBOOKS = SITE / "notebooks"
RESULTS = NOTEBOOKS / "results" / "cntk-one-step.json"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cntk-wheels.json"
POST = SITE / "_posts" / "2018-04-28-cnn-in-cntk.md"
IMAGES = SITE / "img" / "cnn-in-cntk"
COLUMN_PX = {390: 360, 1280: 740}   # the post column: minima's padding is 15 px a side on a phone, 30 above

sys.path.insert(0, str(NOTEBOOKS))
import digits_cnn as shared  # noqa: E402


def _notebook():
    return nbformat.read(NOTEBOOKS / NAME, as_version=4)


def _post():
    return POST.read_text(encoding="utf-8")


def _prose():
    """The post's text outside code and output blocks."""
    return re.sub(r"```.*?```", "", _post(), flags=re.S)


def _sha256(*arrays):
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def test_an_executed_post_in_its_own_kernel():
    nb = _notebook()
    assert nb.metadata.kernelspec == {"name": "cntk-py36", "display_name": "Python 3.6 (CNTK 2.7)",
                                      "language": "python"}
    assert not any("skip-execution" in c.metadata.get("tags", []) for c in nb.cells)
    text = "\n".join(c.source for c in nb.cells).lower()
    assert "archived" not in text and "listing" not in text.split("---")[1]   # not in the front matter
    assert "remove-cell" in nb.cells[-1].metadata.get("tags", [])


def test_the_kernel_versions(notebook_claims):
    c = notebook_claims(NAME)
    # "Python 3.6, NumPy 1.19 and CNTK 2.7"
    assert c["cntk_version"] == "2.7"
    assert c["python_version"].startswith("3.6.")
    assert c["numpy_version"].startswith("1.19.")


def test_shared_modules_give_the_same_experiment_bit_for_bit(notebook_claims):
    """ "the same data, the same weights and the same batches as in the other posts, bit for bit" """
    fingerprints = notebook_claims(NAME)["fingerprints"]
    x_train, y_train, x_test, y_test = shared.load_digits_split()
    w32, w64 = shared.initial_weights(), shared.initial_weights(np.float64)
    order = np.concatenate([shared.batch_order(len(x_train), e) for e in range(shared.EPOCHS)]).astype(np.int64)
    assert fingerprints == {
        "x_train": _sha256(x_train), "y_train": _sha256(y_train),
        "x_test": _sha256(x_test), "y_test": _sha256(y_test),
        "weights_float32": _sha256(*(w32[k] for k in shared.PARAM_NAMES)),
        "weights_float64": _sha256(*(w64[k] for k in shared.PARAM_NAMES)),
        "batch_order": _sha256(order),
    }


def test_graph_and_parameters(notebook_claims):
    c = notebook_claims(NAME)
    # The shapes the post names: kernel as PyTorch's, bias (8, 1, 1), dense weight (8, 4, 4, 10).
    assert c["parameters"] == {"conv.W": [8, 1, 3, 3], "conv.b": [8, 1, 1],
                               "dense.W": [8, 4, 4, 10], "dense.b": [10]}
    # The blocks and the operations the prose reads off them.
    assert c["blocks"] == {"CrossEntropyWithSoftmax": ["TransposeTimes", "ReduceElements", "Minus"],
                           "Dense": ["Times", "Plus"], "MaxPooling": ["Pooling"],
                           "Convolution": ["Convolution", "Plus", "ReLU"]}
    assert c["graph_dtype"] == "float64"
    # The batch is a dynamic axis; the loss is one value of shape (1,) per example.
    assert c["dynamic_axes"] == ["defaultBatchAxis"]
    assert c["loss_shape_per_example"] == [1]
    assert c["example_losses_shape"] == [c["batch_size"], 1]


def test_dense_layout(notebook_claims):
    c = notebook_claims(NAME)
    # "CNTK's logits are the reference's to float64 rounding (below 1e-12)"
    assert c["logit_gap"] < 1e-12
    # "without it, they are simply other numbers"
    assert c["wrong_logit_gap"] > 1e-2


def test_gradients_are_of_the_sum(notebook_claims):
    c = notebook_claims(NAME)
    # "Every CNTK gradient is the batch size times longer, tensor by tensor"
    assert set(c["sum_over_mean"]) == set(shared.PARAM_NAMES)
    for ratio in c["sum_over_mean"].values():
        assert ratio == pytest.approx(c["batch_size"], rel=1e-12)


ROWS_STEP = [f"{name} after step" for name in shared.PARAM_NAMES]
ROWS_GRADS = ["loss"] + [f"d loss / d {name}" for name in shared.PARAM_NAMES]


def test_float64_parity_against_the_series_bar(notebook_claims):
    c = notebook_claims(NAME)
    bar = shared.PARITY_BAR["float64"]
    assert c["parity_bar"] == shared.PARITY_BAR      # the kernel's digits_cnn is this one
    assert list(c["float64_errors"]) == ROWS_GRADS + ROWS_STEP
    assert all(err < bar for err in c["float64_errors"].values()), c["float64_errors"]
    assert c["float64_grad_max_rel_err"] < bar and c["float64_step_max_rel_err"] < bar
    assert c["loss_abs_err"] < bar
    # "to within float64 rounding": a few units of float64's round-off, 2**-53
    assert max(c["float64_errors"].values()) < 8 * 2.0 ** -53


def test_float32_parity_against_the_series_bar(notebook_claims):
    """The float32 row the other framework posts have: loss, gradients and the SGD step."""
    c = notebook_claims(NAME)
    assert list(c["float32_errors"]) == ROWS_GRADS + ROWS_STEP
    assert all(err < shared.PARITY_BAR["float32"] for err in c["float32_errors"].values()), c["float32_errors"]
    # computed in float32 on both sides, not float64 results cast afterwards
    assert c["float32_dtypes"] == ["float32"]
    # "the differences are rounding": far above float64's errors, within a few float32 round-offs
    assert max(c["float32_errors"].values()) > 1e6 * max(c["float64_errors"].values())
    assert max(c["float32_errors"].values()) < 8 * 2.0 ** -24


BAR_LABEL = "the series' bar"


def _tex(value):
    """A number as the post's generated prose writes it: 3.6e-16 as $$3.6 \\times 10^{-16}$$."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"$${mantissa} \\times 10^{{{int(exponent)}}}$$"


def _tex_power(value):
    """A bar as the post writes it: 1e-12 as $$10^{-12}$$."""
    return f"$$10^{{{int(f'{value:.0e}'.split('e')[1])}}}$$"


def test_the_bar_is_stated_from_the_constant_and_the_verdicts_from_the_tables(notebook_claims):
    c = notebook_claims(NAME)
    text = _post()
    # every parity table ends with the bar of its precision, printed from PARITY_BAR
    for precision, tables in (("float64", 2), ("float32", 1)):
        line = f"{BAR_LABEL:18} {'':14} {shared.PARITY_BAR[precision]:15.0e}"
        assert text.count(line + "\n```") == tables, precision
    # the generated verdicts: the largest error of the tables, and the bar as a power of ten
    worst64, worst32 = max(c["float64_errors"].values()), max(c["float32_errors"].values())
    assert (f"the largest relative error is {_tex(worst64)}, {worst64 / 2.0 ** -53:.1f} times float64's "
            f"unit round-off") in text
    assert f"the series' bar for float64, {_tex_power(shared.PARITY_BAR['float64'])}." in text
    assert (f"In float32 the largest relative error is {_tex(worst32)}, {worst32 / 2.0 ** -24:.1f} times "
            "float32's unit round-off") in text
    assert f"the series' bar for float32, {_tex_power(shared.PARITY_BAR['float32'])}." in text
    # the old single bar is gone from the post
    assert "10^{-6}" not in text and "1e-06" not in text


def test_learner_scaling(notebook_claims):
    c = notebook_claims(NAME)
    n, half = c["batch_size"], c["batch_size"] // 2
    expected = {  # step size / reference step, for a batch of n and of n / 2
        f"minibatch_size={n}": {n: 1.0, half: 0.5},       # fixed rate per example: lr / n
        "minibatch_size=1": {n: n, half: half},           # the rate on the sum as it is
        "not given (IGNORE)": {n: 1.0, half: 1.0},        # the rate on the mean gradient
    }
    assert set(c["step_ratios"]) == set(expected)
    for label, by_size in expected.items():
        for size, ratio in by_size.items():
            low, high = c["step_ratios"][label][str(size)]   # over the four tensors
            assert low == pytest.approx(ratio, rel=1e-9) and high == pytest.approx(ratio, rel=1e-9), label


def test_gradients_are_not_stored_on_parameters(notebook_claims):
    c = notebook_claims(NAME)
    assert not c["parameter_has_grad"]
    # "calling it twice gives the same gradients rather than their sum"
    assert c["grad_twice_same"]


def test_training(notebook_claims):
    c = notebook_claims(NAME)
    assert c["test_accuracy"] >= 0.95
    assert c["reference_test_accuracy"] >= 0.95
    # test_minibatch's averaged classification error says the same
    assert 1 - c["test_minibatch_accuracy"] == pytest.approx(1 - c["test_accuracy"], abs=1e-6)
    by_epoch = c["batch_loss_max_gap_by_epoch"]
    assert len(by_epoch) == shared.EPOCHS and c["training_steps"] == shared.EPOCHS * len(shared.batches(
        shared.TRAIN_SIZE, 0))
    assert c["batch_loss_max_gap"] == max(by_epoch)
    # the figure's alt text: "a band of points within a millionth of zero"
    assert c["batch_loss_max_gap"] < 1e-6
    # "float32's rounding differences do not build up": no epoch is far worse than the first
    assert c["batch_loss_max_gap"] <= 4 * by_epoch[0]


def test_training_prose_is_generated_from_the_run(notebook_claims):
    c = notebook_claims(NAME)
    by_epoch = c["batch_loss_max_gap_by_epoch"]
    same = ("is the same after every epoch" if c["epoch_accuracy_max_gap"] == 0
            else f"differs by at most {c['epoch_accuracy_max_gap']:.1%} after an epoch")
    assert (f"over all {c['training_steps']:,} steps of the {shared.EPOCHS} epochs, the batch losses differ by "
            f"at most {_tex(c['batch_loss_max_gap'])} ({_tex(by_epoch[0])} in the first epoch, "
            f"{_tex(by_epoch[-1])} in the last)") in _post()
    assert f"The test accuracy {same}, and CNTK ends at {c['test_accuracy']:.1%}." in _post()


def test_pitfalls(notebook_claims):
    c = notebook_claims(NAME)
    # MaxPooling((2, 2)) slides by 1 unless strides=(2, 2) is given.
    assert c["pool_default_stride_shape"] == [8, 7, 7]
    assert c["pool_stride_2_shape"] == [8, 4, 4]
    # A float64 batch into the float32 network: converted without a word, float32 result.
    assert c["float64_into_float32_dtype"] == "float32"
    # Glorot-uniform kernels and zero biases by default.
    assert c["default_init_within_glorot_bounds"]
    assert c["default_biases_zero"]
    # One OpenMP thread: a Trainer made after an evaluation may die of a floating-point exception
    # (SIGFPE, return code -8) at its first step, on some runs only (the prose says so); made before
    # it, or with the thread count set, it trains.
    codes = c["one_openmp_thread_returncode"]
    assert codes["trainer after eval"] in (0, -8)
    assert {k: v for k, v in codes.items() if k != "trainer after eval"} == {
        "trainer before eval": 0, "trainer after eval, threads set": 0}


def committed(path):
    """The file as the last commit holds it (not as an execution may just have rewritten it)."""
    done = subprocess.run(["git", "show", f"HEAD:{path.relative_to(SITE).as_posix()}"], cwd=SITE, capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"not a git checkout with {path.name} committed: {done.stderr.decode().strip()}")
    return done.stdout.decode()


def test_committed_results_file_is_the_executed_one(notebook_claims):
    c = notebook_claims(NAME)
    text = committed(RESULTS)
    # the run records the SHA-256 of what it wrote: the committed file must be that, byte for byte
    assert hashlib.sha256(text.encode()).hexdigest() == c["results_file_sha256"]
    one_step = json.loads(text)
    assert one_step["cntk"] == c["cntk_version"] and one_step["python"] == c["python_version"]
    assert one_step["batch"] == shared.batches(shared.TRAIN_SIZE, 0)[0].tolist()
    assert one_step["learning_rate"] == shared.LEARNING_RATE
    shapes = {"conv_w": (8, 1, 3, 3), "conv_b": (8,), "dense_w": (10, 128), "dense_b": (10,)}
    for key in ("grads", "after_step"):
        assert {k: np.shape(v) for k, v in one_step[key].items()} == shapes, key
    # The source it carries is the notebook's own cells, character for character, and it is the
    # step: the network, the weight mapping, loss.grad and a Trainer's train_minibatch.
    code_cells = [cell.source for cell in _notebook().cells if cell.cell_type == "code"]
    assert len(one_step["source_cells"]) == 3
    assert all(source in code_cells for source in one_step["source_cells"])
    listing = "\n".join(one_step["source_cells"])
    for needed in ("def make_network(", "def load_shared_weights(", "loss.grad(", "train_minibatch("):
        assert needed in listing, needed


def test_which_pythons_cntk_has_wheels_for():
    """ "wheels on the Python package index only for Python 2.7, 3.5 and 3.6 (none for 3.7 or later)",
    as checked on the date the fixture records (tests/articles/package_index.py checks again)."""
    facts = json.loads(FIXTURE.read_text())
    checked = dt.date.fromisoformat(facts["checked"])
    assert dt.date(2024, 1, 1) <= checked <= dt.date.today()
    assert (facts["package"], facts["version"], facts["platform"]) == ("cntk", "2.7.post2", "manylinux1_x86_64")
    wheels = facts["wheel_for_python"]
    assert set(wheels) == {"2.7", "3.5", "3.6", "3.7", "3.8", "3.11"}
    assert [v for v, has in wheels.items() if has] == ["2.7", "3.5", "3.6"]
    # and the Python this repository runs on is one of those without
    assert f"{sys.version_info.major}.{sys.version_info.minor}" not in [v for v, has in wheels.items() if has]


def test_committed_results_file_adds_float32_and_the_errors(notebook_claims):
    """The keys added for the float32 row; the float64 keys above keep their schema."""
    c = notebook_claims(NAME)
    one_step = json.loads(committed(RESULTS))
    shapes = {"conv_w": (8, 1, 3, 3), "conv_b": (8,), "dense_w": (10, 128), "dense_b": (10,)}
    assert set(one_step["float32"]) == {"loss", "grads", "after_step"}
    for key in ("grads", "after_step"):
        assert {k: np.shape(v) for k, v in one_step["float32"][key].items()} == shapes, key
    assert one_step["relative_errors"] == {"float64": c["float64_errors"], "float32": c["float32_errors"]}
    assert one_step["parity_bar"] == shared.PARITY_BAR


def test_saved_steps_match_the_reference_run_here():
    """The saved CNTK step, against the NumPy reference run in this Python (not the CNTK kernel's
    NumPy 1.19), passes the series' bar in both precisions; and the slip the post names, a learning
    rate kept in float32 during a float64 step, would fail the float64 bar."""
    import numpy_cnn as reference
    one_step = json.loads(RESULTS.read_text())
    x_train, y_train, _, _ = shared.load_digits_split()
    batch = np.array(one_step["batch"])
    for precision, saved in (("float64", one_step), ("float32", one_step["float32"])):
        dtype = np.dtype(precision).type
        weights = shared.initial_weights(dtype)
        loss, grads = reference.reference_loss_and_grads(weights, x_train[batch].astype(dtype), y_train[batch])
        after = reference.sgd_step(weights, grads, shared.LEARNING_RATE)
        errors = [shared.max_errors(saved["loss"], loss)[1]]
        errors += [shared.max_errors(saved["grads"][k], grads[k])[1] for k in shared.PARAM_NAMES]
        errors += [shared.max_errors(saved["after_step"][k], after[k])[1] for k in shared.PARAM_NAMES]
        assert max(errors) < shared.PARITY_BAR[precision], (precision, errors)
        if precision == "float64":
            slipped = reference.sgd_step(weights, grads, float(np.float32(shared.LEARNING_RATE)))
            slip = max(shared.max_errors(slipped[k], after[k])[1] for k in shared.PARAM_NAMES)
            assert slip > shared.PARITY_BAR["float64"]


def _figure():
    """(declared CSS width, height, PNG bytes) of the post's one figure."""
    found = re.findall(r"\(\{% endraw %\}\{\{ '/img/cnn-in-cntk/([0-9a-f]{16}\.png)' \| relative_url \}\}"
                       r"\{% raw %\}\)\{: width=\"(\d+)\" height=\"(\d+)\"\}", _post())
    assert len(found) == 1, found
    name, width, height = found[0]
    return int(width), int(height), (IMAGES / name).read_bytes()


def test_figure_at_twice_the_resolution_sized_for_the_column(notebook_claims):
    from PIL import Image
    fig = notebook_claims(NAME)["figure"]
    shown_w, shown_h, png = _figure()
    image = Image.open(io.BytesIO(png))
    # 2x: the PNG has twice the pixels the post declares, drawn at twice the figure's 100 dpi
    assert fig["dpi"] == 100
    assert abs(image.size[0] - 2 * shown_w) <= 1 and abs(image.size[1] - 2 * shown_h) <= 1
    png_dpi = image.size[0] / fig["width_in"]
    assert png_dpi == pytest.approx(2 * fig["dpi"], rel=0.02)
    # at most 5.4 in wide, no text under 10 pt
    assert fig["width_in"] <= 5.4
    assert fig["min_fontsize"] >= 10
    # 10-pt text in CSS px: at least 9 on a 390-px phone, at most about 14 at 1280 px
    for viewport, low, high in ((390, 9, None), (1280, None, 14.2)):
        css_px = 10 * png_dpi / 72 * min(shown_w, COLUMN_PX[viewport]) / image.size[0]
        assert (low is None or css_px >= low) and (high is None or css_px <= high), (viewport, css_px)
    # every file in the post's image folder is one the post shows
    assert sorted(p.name for p in IMAGES.iterdir()) == [hashlib.sha256(png).hexdigest()[:16] + ".png"]


def test_figure_plots_the_difference_from_the_reference_and_labels_every_line(notebook_claims):
    top, bottom = notebook_claims(NAME)["figure"]["axes"]
    # the loss panel shows CNTK minus NumPy, one point per batch, not two curves on top of each other
    assert top["title"] == "Loss of each batch, CNTK − NumPy" and top["ylabel"] == "difference (millionths)"
    assert top["lines"] == ["one batch"]
    # a panel with several lines has a legend naming every one
    assert bottom["legend"] == bottom["lines"] == ["NumPy reference", "CNTK", "95 %"]
    caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", _post(), flags=re.S)[1]
    assert "in millionths" in caption and "dashed line marks 95 %" in caption


def test_code_cells_fit_in_80_columns():
    blocks = re.findall(r"```python\n(.*?)```", _post(), flags=re.S)
    assert len(blocks) > 10
    long_lines = [line for block in blocks for line in block.splitlines() if len(line) > 80]
    assert long_lines == []


def test_hidden_cells_show_no_output():
    """A cell whose code is folded away (the results export) prints nothing under it."""
    text = _post()
    folded = [m.end() for m in re.finditer(r"</details>\n", text)]
    assert folded
    for end in folded:
        following = text[end:].lstrip("\n")
        assert not following.startswith("```text"), following[:120]
    export = next(c for c in _notebook().cells if "hide-input" in c.metadata.get("tags", []))
    assert "print(" not in export.source and "results/cntk-one-step.json" in export.source


def test_threads_advice_is_for_readers():
    bullet = re.search(r"^- \*\*Threads\.\*\* (.*?)(?=^- \*\*)", _prose(), flags=re.S | re.M)[1]
    bullet = " ".join(bullet.split())
    # what to set, and why
    assert bullet.startswith("Give CNTK its number of CPU threads yourself, with "
                             "`C.cntk_py.set_max_num_cputhreads(n)`, before anything is evaluated")
    assert "`OMP_NUM_THREADS=1`" in bullet and "floating-point exception" in bullet
    assert "It happens on some runs and not on others" in bullet
    # the first cell does it and points there
    setup = next(c.source for c in _notebook().cells if c.cell_type == "code" and "import cntk" in c.source)
    assert 'C.cntk_py.set_max_num_cputhreads(os.cpu_count())   # see "Threads" at the end' in setup
    # no build diary: nothing about a machine image, this notebook's runs or the tests
    for diary in ("machine image", "this machine", "runs of this notebook", "the tests", "SIGFPE"):
        assert diary not in _prose(), diary


def test_the_wheel_facts_in_the_post():
    """The post says which Pythons CNTK 2.7 has wheels for, and nothing else about it."""
    wheels = json.loads(FIXTURE.read_text())["wheel_for_python"]
    have = [v for v, has in wheels.items() if has]
    said = re.search(r"has wheels on the Python package index only for Python ([\d., and]+?)\s*"
                     r"\(none for (\d\.\d) or later\)", " ".join(_prose().split()))
    assert said, "the sentence about CNTK's wheels"
    assert re.split(r", | and ", said[1]) == have
    assert said[2] == "3.7" and not wheels["3.7"]
    assert not re.search(r"up to (Python )?3\.7|3\.7 (and|or) (older|earlier)|3\.7 and below", _prose())
