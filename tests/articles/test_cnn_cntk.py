"""Claims of the post "Back-propagation in CNTK" (notebooks/2018-04-28-cnn-in-cntk.ipynb).

The post runs in its own kernel (Python 3.6, NumPy 1.19, CNTK 2.7). Besides the claims it prints,
it writes ``notebooks/results/cntk-one-step.json``, which the side-by-side post reads; the tests
below check that the committed file is the one the execution wrote and that the source it
carries is the notebook's own code.
"""
import datetime as dt
import hashlib
import json
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

sys.path.insert(0, str(NOTEBOOKS))
import digits_cnn as shared  # noqa: E402


def _notebook():
    return nbformat.read(NOTEBOOKS / NAME, as_version=4)


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


def test_float64_parity(notebook_claims):
    c = notebook_claims(NAME)
    # The series' bar is 1e-6 relative in float64; the post says "below 1e-13".
    assert c["float64_grad_max_rel_err"] < 1e-13
    assert c["float64_step_max_rel_err"] < 1e-13
    assert c["loss_abs_err"] < 1e-13


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
    # "During the first epoch the batch losses differ by less than 1e-5"
    assert c["first_epoch_max_loss_gap"] < 1e-5
    # "the mean losses agree to better than 0.1 %"
    assert c["epoch_mean_loss_max_rel_gap"] < 1e-3


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
    # One OpenMP thread: a Trainer made after an evaluation may die of SIGFPE (return code -8) at its
    # first step, on some runs only (the prose says so); made before it, or with the thread count
    # set, it trains on every run.
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
