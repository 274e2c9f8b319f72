"""The speed post (part 3): its benchmark runs, its output is sane, and its prose claims hold.

Two sources: ``quick`` runs the post's benchmark itself, in quick mode (fewer timed steps, a
smaller peak measurement), on the step files the notebook's ``%%writefile`` cells contain, and
checks the structure and sanity of its output; ``claims`` reads the ``CLAIMS`` line of the
executed notebook (the build's cached execution when there is one, a full run otherwise) and
checks every threshold the post states in words.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAME = "2018-04-30-back-propagation-speed.ipynb"
CONTENDERS = ["numpy_layers", "numpy_fast", "torch_eager", "torch_compile_model", "torch_compile_step",
              "tf_eager", "tf_function", "keras_train_on_batch", "jax_jit"]
BATCH_SIZES = [1, 32, 256, 1024]
FLOPS_PER_EXAMPLE = 26112          # the post's count; checked against the notebook's claims below
UPDATE_FLOPS = 2 * 1370
WRITEFILE = re.compile(r"%%writefile speed_steps/(\w+)\.py\n")

sys.path.insert(0, str(NOTEBOOKS))


def step_files_of_the_post():
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    files = {}
    for cell in nb.cells:
        match = WRITEFILE.match(cell.source) if cell.cell_type == "code" else None
        if match:
            files[match.group(1)] = cell.source[match.end():]
    return files


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed_steps")
    paths = []
    for name, source in step_files_of_the_post().items():
        (folder / f"{name}.py").write_text(source)
        paths.append(str(folder / f"{name}.py"))
    out = folder / "results.json"
    subprocess.run([sys.executable, str(NOTEBOOKS / "backprop_speed.py"), "--quick", "--out", str(out), *paths],
                   check=True, timeout=300, cwd=folder)
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NAME)


# ---------------------------------------------------------------- FastCNN is the reference

@pytest.mark.parametrize("batch_size", [5, 16, 256])
def test_fast_cnn_matches_the_reference(batch_size):
    from digits_cnn import LEARNING_RATE, batch_order, initial_weights, load_digits_split
    from numpy_cnn import FastCNN, reference_loss_and_grads, sgd_step

    x_train, y_train, _, _ = load_digits_split()
    chosen = batch_order(len(x_train), 0)[:batch_size]
    x, y = x_train[chosen], y_train[chosen]
    params = initial_weights()
    net = FastCNN(params, x.shape, LEARNING_RATE)
    for step in range(5):
        loss, grads = reference_loss_and_grads(params, x, y)
        params = sgd_step(params, grads, LEARNING_RATE)
        fast_loss = net.step(x, y)
        assert abs(fast_loss - loss) < 1e-5
        for name in params:
            scale = np.abs(params[name]).max()
            assert net.params[name].dtype == np.float32
            assert np.abs(net.params[name] - params[name]).max() <= 1e-5 * scale, (step, name)
            if step == 0:
                assert np.abs(net.grads[name] - grads[name]).max() <= 1e-5 * np.abs(grads[name]).max(), name


def test_fast_cnn_routes_pooling_ties_to_the_first_maximum():
    """Blank image regions make equal values in a pooling window; the reference (like the
    frameworks) sends the gradient to the first one only."""
    from digits_cnn import initial_weights
    from numpy_cnn import FastCNN, reference_loss_and_grads

    params = initial_weights()
    params["conv_b"] = np.abs(params["conv_b"])           # positive bias: ties survive the ReLU
    x = np.zeros((4, 1, 8, 8), np.float32)
    x[:, :, 2:5, 3:6] = 1.0
    y = np.array([0, 1, 2, 3])
    _, grads = reference_loss_and_grads(params, x, y)
    net = FastCNN(params, x.shape, 0.1)
    net.step(x, y)
    for name in grads:
        assert np.allclose(net.grads[name], grads[name], rtol=1e-5, atol=1e-7), name


# ---------------------------------------------------------------- the benchmark's output

def test_the_step_files_of_the_post_are_the_contenders():
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    assert list(step_files_of_the_post()) == CONTENDERS
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None  # committed clean


def test_the_quick_benchmark_reports_every_contender_sanely(quick):
    assert quick["quick"] is True and quick["batch_sizes"] == BATCH_SIZES
    assert list(quick["frameworks"]) == CONTENDERS
    peak = quick["peak"]["gflops_best"]
    assert peak > 1
    reference = quick["frameworks"]["numpy_layers"]["batches"]
    for name in CONTENDERS:
        batches = quick["frameworks"][name]["batches"]
        assert sorted(map(int, batches)) == BATCH_SIZES, name
        for b, timing in batches.items():
            times = np.array(timing["times"])
            assert len(times) == quick["settings"]["steps"] >= 10
            assert (times > 0).all() and np.median(times) < 10 and timing["first_step"] > 0, (name, b)
            gflops = (int(b) * FLOPS_PER_EXAMPLE + UPDATE_FLOPS) / np.median(times) / 1e9
            assert gflops < peak, (name, b)
            # the same network trained the same way: the same losses as NumPy's, first and last
            assert abs(timing["first_loss"] - reference[b]["first_loss"]) < 1e-5, (name, b)
            assert abs(timing["last_loss"] - reference[b]["last_loss"]) < 1e-5, (name, b)
    assert quick["machine"]["threads_used"] >= 1


def test_every_contender_and_batch_size_is_in_the_post(claims):
    assert claims["contenders"] == CONTENDERS
    assert claims["batch_sizes"] == BATCH_SIZES[1:]
    assert claims["flops_per_example"] == FLOPS_PER_EXAMPLE and claims["update_flops"] == UPDATE_FLOPS
    # "Less than a million FLOPs per step at batch 32, a few tens of millions at batch 1024"
    assert 32 * FLOPS_PER_EXAMPLE + UPDATE_FLOPS < 1e6
    assert 1e7 < 1024 * FLOPS_PER_EXAMPLE + UPDATE_FLOPS < 1e8
    minimum_steps = 10 if claims["quick"] else 30      # the post itself: at least 30 timed steps
    assert claims["timed_steps"] >= minimum_steps and claims["warmup_steps"] >= 1
    for name in CONTENDERS:
        for b in BATCH_SIZES:
            s = claims["stats"][f"{name}/{b}"]
            assert s["steps"] == claims["timed_steps"]
            assert 0 < s["q1"] <= s["median"] <= s["q3"] < 10, (name, b)
            assert s["first"] > 0 and s["throughput"] > 0
            assert 0 < s["gflops"] < claims["peak_gflops"], (name, b)


def test_the_machine_is_described(claims):
    m = claims["machine"]
    assert m["cpu"] and m["os"] and m["python"] and m["memory_gib"] > 0
    assert m["threads_used"] == claims["threads"] == m["cpus_available"] >= 1
    for package in ("numpy", "torch", "tensorflow", "keras", "jax"):
        assert m["versions"][package], package
    assert claims["keras"]["backend"] == "tensorflow"      # "on its default back end, TensorFlow"


def test_every_contender_trains_the_same_network(claims):
    # "every contender's losses agree with NumPy's to within 1e-5, at the first step and at the last"
    assert claims["first_loss_gap"] < 1e-5
    assert claims["last_loss_gap"] < 1e-5


def test_the_limit_is_far_away(claims):
    # "none reaches a tenth of the machine's limit, at any batch size"
    assert claims["peak_gflops"] > 52            # so an example (26,112 FLOPs) is "well under a microsecond"
    assert claims["max_fraction_of_peak"] < 0.1
    # "Every framework, and FastCNN, processes more examples per second at batch 1024 than at
    # batch 32; the layer-by-layer NumPy reference gains little or nothing from larger batches."
    ratios = claims["throughput_1024_over_32"]
    assert all(ratios[n] > 1 for n in CONTENDERS if n != "numpy_layers")
    assert ratios["numpy_layers"] < 1.25


def test_overhead_claims(claims):
    assert claims["fixed_cost_spread"] > 10                      # "more than a factor of ten"
    # "at batch 32 it is at least a fifth of every contender's step, and more than half of
    # TensorFlow's and Keras's"
    assert min(claims["fixed_share_32"].values()) > 0.2
    assert all(claims["fixed_share_32"][n] > 0.5 for n in ("tf_eager", "tf_function", "keras_train_on_batch"))
    # "its fixed cost is the lowest of the three PyTorch contenders"
    fixed = claims["fixed_cost"]
    assert fixed["torch_compile_step"] < min(fixed["torch_eager"], fixed["torch_compile_model"])
    assert claims["per_example_over_arithmetic_min"] > 5         # "more than five times that"
    assert claims["slowest_at_32"] == "tf_eager"
    assert claims["torch_eager_over_tf_eager_32"] < 1
    # the conclusion: "compiling the step removes much of it [the fixed cost]"
    assert fixed["tf_function"] < fixed["tf_eager"] and fixed["torch_compile_step"] < fixed["torch_eager"]


def test_compilation_claims(claims):
    assert claims["torch_compile_first_step_min"] > 0.5          # "more than half a second"
    assert claims["compiled_first_step_min"] > 0.01              # "more than ten milliseconds"
    stats, sizes = claims["stats"], claims["batch_sizes"]
    compiled = ["torch_compile_model", "torch_compile_step", "tf_function", "keras_train_on_batch", "jax_jit"]
    # "the first step of a compiled contender ... is much slower than the steps that follow"
    assert min(stats[f"{n}/{b}"]["first"] / stats[f"{n}/{b}"]["median"] for n in compiled for b in sizes) > 5
    # "XLA (JAX) and the tracing of a tf.function or of Keras's training step cost less" than torch.compile
    assert (max(stats[f"{n}/{b}"]["first"] for n in ("jax_jit", "tf_function", "keras_train_on_batch") for b in sizes)
            < claims["torch_compile_first_step_min"])
    assert claims["tf_function_speedup"]["32"] > 2               # "more than twice as fast at batch 32"
    assert all(v > 1 for v in claims["tf_function_speedup"].values())
    assert claims["torch_compile_step_speedup_32"] > 1           # "at batch 32 it is faster than eager"


def test_numpy_claims(claims):
    # the target: FastCNN within a factor of two of PyTorch eager at batch 256
    assert claims["numpy_fast_over_torch_eager_256"] < 2
    # "the layer-by-layer reference is at least twice as slow as FastCNN at every batch size"
    assert min(claims["numpy_layers_over_fast"].values()) > 2


def test_loops_for_scale(claims):
    assert claims["loop_over_vectorised_per_example"] > 10       # "more than ten times faster"
    assert claims["loop_example_over_fast_cnn_example_1024"] > 3  # "several times longer"
    assert 25 < claims["cnn_over_iris_parameters"] < 40          # "about thirty times the parameters"
    assert claims["cnn_over_iris_flops"] > 100                   # "more than a hundred times the arithmetic"
    # "counted the same way as above": two FLOPs per multiply-add of the forward products and of the
    # backward ones (weight gradients of both layers, input gradient of the second), per example
    ni, nh, no = 4, 5, 3
    assert claims["iris_flops"] == 2 * (ni * nh + nh * no) + 2 * (ni * nh + nh * no) + 2 * nh * no
    # "Vectorising over the batch is the first and largest step": a larger gain than all the steps
    # after it together, from vectorised Iris to the best arithmetic rate on the CNN at batch 1024
    best_1024 = max(claims["stats"][f"{n}/1024"]["gflops"] for n in CONTENDERS)
    assert claims["loop_over_vectorised_per_example"] > best_1024 / claims["iris_vectorised_gflops"]
