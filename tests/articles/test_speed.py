"""The speed post (part 3): its benchmark runs, its results are whole, and its prose is its numbers.

Nothing here asserts a speed: step times depend on the machine and on whatever else runs on it,
and the post's text is written from the numbers of its own run. What must hold on any machine is
asserted instead: the structure of the results, every contender at every batch size, the same
losses from every contender, the FLOP counts, the fit, and that every sentence the post made from
its numbers is the sentence its rule makes from the numbers it printed (with the tie rule checked
by an implementation of its own here), and appears in the post.

Sources: ``toy`` runs the runner on two tiny step files (repeats, shuffled order, a missing
kernel) in seconds; ``quick`` runs the post's own step files, from the notebook's ``%%writefile``
cells, in quick mode (one repeat, a few steps, batch sizes 1 and 32); ``claims`` reads the
``CLAIMS`` line of the executed notebook (the build's cached execution when there is one, a full
run otherwise).
"""
import ast
import base64
import json
import os
import re
import struct
import sys
from pathlib import Path
from unittest import mock

import nbformat
import numpy as np
import pytest
import yaml

SITE = Path(__file__).resolve().parents[2]
NOTEBOOKS = SITE / "notebooks"
NAME = "2018-04-30-back-propagation-speed.ipynb"
CONTENDERS = ["numpy_layers", "numpy_fast", "torch_eager", "torch_compile_model", "torch_compile_step",
              "tf_eager", "tf_function", "keras_train_on_batch", "jax_jit", "cntk_train_minibatch"]
STEP_FILES = {"steps_numpy": "NumPy", "steps_torch": "PyTorch", "steps_tf": "TensorFlow", "steps_keras": "Keras",
              "steps_jax": "JAX", "steps_cntk": "CNTK"}          # step file -> its tab, named as in the other posts
CNTK_KERNEL = "cntk-py36"
BATCH_SIZES = [1, 32, 256, 1024]
QUICK_BATCH_SIZES = [1, 32]
FLOPS_PER_EXAMPLE = 26112          # the post's count; checked against the notebook's claims below
IMAGE_GRADIENT_FLOPS = 2 * 8 * 8 * 8 * 9
UPDATE_FLOPS = 2 * 1370
WRITEFILE = re.compile(r"%%writefile speed_steps/(\w+)\.py\n")

sys.path.insert(0, str(NOTEBOOKS))
import backprop_speed  # noqa: E402
import speed_analysis  # noqa: E402


def notebook():
    return nbformat.read(NOTEBOOKS / NAME, as_version=4)


def step_files_of_the_post():
    files = {}
    for cell in notebook().cells:
        match = WRITEFILE.match(cell.source) if cell.cell_type == "code" else None
        if match:
            files[match.group(1)] = (cell.source[match.end():], cell.metadata.get("tags", []))
    return files


def kernel_environment():
    """The environment with JUPYTER_PATH as the build gives it to kernels: the site's own kernelspecs first."""
    env = dict(os.environ)
    try:
        from nbjekyll.config import load_config
        from nbjekyll.kernels import kernels_share
        share = str(kernels_share(load_config(SITE)))
    except Exception:          # an older build tool: the default kernelspec search only
        return env
    env["JUPYTER_PATH"] = os.pathsep.join([share] + [p for p in [env.get("JUPYTER_PATH")] if p])
    return env


def cntk_kernel_installed():
    with mock.patch.dict(os.environ, kernel_environment(), clear=True):
        return backprop_speed.kernel_interpreter(CNTK_KERNEL) is not None


def write_step_files(folder):
    paths = []
    for name, (source, _) in step_files_of_the_post().items():
        (folder / f"{name}.py").write_text(source)
        paths.append(folder / f"{name}.py")
    return paths


# ---------------------------------------------------------------- the tie rule, written again here

def overlap(a, b):
    return not (a["high"] < b["low"] or b["high"] < a["low"])


def verdict(a, b):
    if overlap(a, b):
        return "tie"
    return "lower" if a["median"] < b["median"] else "higher"


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


# ---------------------------------------------------------------- the notebook and its step files

def test_the_step_files_of_the_post_are_the_contenders(tmp_path):
    files = step_files_of_the_post()
    assert list(files) == list(STEP_FILES)
    for name, (_, tags) in files.items():       # one tab per framework, named as in the other posts
        assert [t for t in tags if t.startswith("tab:")] == [f"tab:{STEP_FILES[name]}"], name
    contenders = [c for path in write_step_files(tmp_path) for c in backprop_speed.contenders_of(path)]
    assert [name for name, _ in contenders] == CONTENDERS
    assert {name: kernel for name, kernel in contenders if kernel} == {"cntk_train_minibatch": CNTK_KERNEL}
    for cell in notebook().cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None  # committed clean


def test_the_tab_names_are_the_series_tab_names():
    """A reader's choice of tab carries over between posts only if the names are the same."""
    tabs = {}
    for path in NOTEBOOKS.glob("2018-*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for tag in cell.metadata.get("tags", []):
                if tag.startswith("tab:"):
                    tabs.setdefault(tag[4:], set()).add(path.name)
    ours = {name for name, posts in tabs.items() if NAME in posts}
    assert ours == set(STEP_FILES.values())
    others = {name for name, posts in tabs.items() if posts - {NAME}}
    assert ours - others <= {"CNTK"}, ours - others     # every other name is one another post uses too


def test_what_runs_under_python_3_6_is_python_3_6():
    """The CNTK worker runs backprop_speed.py and its step file under Python 3.6."""
    sources = {"backprop_speed.py": (NOTEBOOKS / "backprop_speed.py").read_text(),
               "steps_cntk.py": step_files_of_the_post()["steps_cntk"][0]}
    for name, source in sources.items():
        tree = ast.parse(source, feature_version=(3, 6))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.NamedExpr), name
            if isinstance(node, ast.ImportFrom):
                assert node.module not in ("__future__", "dataclasses"), name
                assert not (node.module == "importlib" and node.col_offset == 0), name   # no module-level metadata
        assert not re.search(r"\{[^{}]*=\}", source), name        # no f"{x=}" (Python 3.8)


def test_the_notebook_depends_on_the_cntk_environment():
    front = yaml.safe_load(notebook().cells[0].source.strip().strip("-"))
    assert "../requirements-cntk.txt" in front["depends"]
    assert (NOTEBOOKS / "../requirements-cntk.txt").exists()
    assert front["exclusive"] is True


# ---------------------------------------------------------------- the runner, on toy step files

TOY = '''
import time


def alpha(x, y, params, learning_rate, threads):
    def step():
        time.sleep(0.0002 + 0.00001 * len(x))
        return 1.0
    return step


def helper(x):                       # not a contender: other parameters
    return x


def beta(x, y, params, learning_rate, threads):
    def step():
        return 2.0
    return step
'''

FAR = '''# kernel: no-such-kernel-for-the-tests
def gamma(x, y, params, learning_rate, threads):
    raise AssertionError("never started")
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    (folder / "steps_toy.py").write_text(TOY)
    (folder / "steps_far.py").write_text(FAR)
    results = backprop_speed.run([folder / "steps_toy.py", folder / "steps_far.py"], quick=True, repeats=3,
                                 batch_sizes=[1, 4, 16], log=lambda message: None)
    return results


def test_the_runner_repeats_in_shuffled_order(toy):
    assert toy["contenders"] == ["alpha", "beta"]
    assert toy["not_measured"] == {"gamma": "kernel no-such-kernel-for-the-tests not installed"}
    assert len(toy["repeats"]) == toy["settings"]["repeats"] == 3
    orders = [r["order"] for r in toy["repeats"]]
    assert all(sorted(o) == ["alpha", "beta", "limits"] for o in orders)
    assert len({tuple(o) for o in orders}) > 1                  # the order changes between repeats
    assert [r["compiler_cache"] for r in toy["repeats"]] == ["empty", "warm", "warm"]
    for r in toy["repeats"]:
        assert r["limits"]["gflops_best"] > 0 and r["limits"]["stream"]["copy_gbs"] > 0
        for name in ("alpha", "beta"):
            batches = r["frameworks"][name]["batches"]
            assert list(batches) == ["1", "4", "16"]
            assert all(len(b["times"]) == toy["settings"]["steps"] for b in batches.values())


def test_the_summary_is_the_repeats(toy):
    labels = {"alpha": "Alpha", "beta": "Beta", "gamma": "Gamma"}
    s = speed_analysis.summarise(toy, labels, lambda name, b: 100 * b)
    assert s["contenders"] == ["alpha", "beta"] and s["not_measured"] == toy["not_measured"]
    for name in s["contenders"]:
        for b in toy["batch_sizes"]:
            medians = [float(np.median(r["frameworks"][name]["batches"][str(b)]["times"])) for r in toy["repeats"]]
            iv = s["time"][name][str(b)]
            assert iv["per_repeat"] == medians
            assert (iv["low"], iv["median"], iv["high"]) == (min(medians), float(np.median(medians)), max(medians))
    json.dumps(s)                                               # the summary goes into CLAIMS as it is


# ---------------------------------------------------------------- the post's own step files, quickly

# Each contender runs in a worker process of its own; the longest is torch.compile compiling from an
# empty cache on a busy two-core machine. A worker that takes longer than this is stopped and the test
# fails naming it (the runner's error says which worker), instead of one limit for the whole run.
QUICK_WORKER_SECONDS = 300


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speed_steps")
    paths = write_step_files(folder)
    # torch.compile's cache lives across test sessions (in the tests' git-ignored cache folder):
    # only the first session compiles from scratch
    cache = SITE / "tests" / ".cache" / "backprop-speed-inductor"
    cache.mkdir(parents=True, exist_ok=True)
    took = []
    with mock.patch.dict(os.environ, kernel_environment(), clear=True):
        results = backprop_speed.run(paths, quick=True, batch_sizes=QUICK_BATCH_SIZES, timeout=QUICK_WORKER_SECONDS,
                                     compiler_cache=cache, log=took.append)
    assert len(took) == len(results["contenders"]) + 1          # every worker and the limits, each reported
    return json.loads(json.dumps(results))                     # as the command line writes it


def test_the_quick_benchmark_reports_every_contender_whose_kernel_is_installed(quick):
    assert quick["quick"] is True and quick["batch_sizes"] == QUICK_BATCH_SIZES
    if os.environ.get("CI") == "true":     # make setup installs the CNTK kernel: CI measures all ten
        assert cntk_kernel_installed(), f"CI without the {CNTK_KERNEL} kernel: make setup makes it"
    if cntk_kernel_installed():
        assert quick["contenders"] == CONTENDERS and quick["not_measured"] == {}
        assert quick["kernels"] == {"cntk_train_minibatch": CNTK_KERNEL}
    else:                                  # a machine without Python 3.6: reported, not failed
        assert quick["contenders"] == CONTENDERS[:-1]
        assert quick["not_measured"] == {"cntk_train_minibatch": f"kernel {CNTK_KERNEL} not installed"}
    (repeat,) = quick["repeats"]
    assert sorted(repeat["order"]) == sorted(quick["contenders"] + ["limits"])
    reference = repeat["frameworks"]["numpy_layers"]["batches"]
    for name in quick["contenders"]:
        batches = repeat["frameworks"][name]["batches"]
        assert sorted(map(int, batches)) == QUICK_BATCH_SIZES, name
        for b, timing in batches.items():
            times = np.array(timing["times"])
            assert len(times) == quick["settings"]["steps"] and (times > 0).all() and timing["first_step"] > 0
            # the same network trained the same way: the same losses as NumPy's, first and last
            assert abs(timing["first_loss"] - reference[b]["first_loss"]) < 1e-5, (name, b)
            assert abs(timing["last_loss"] - reference[b]["last_loss"]) < 1e-5, (name, b)
    if "cntk_train_minibatch" in quick["contenders"]:
        process = repeat["frameworks"]["cntk_train_minibatch"]["process"]
        assert process["python"].startswith("3.6.") and process["versions"]["cntk"].startswith("2.7")
    assert quick["machine"]["threads_used"] >= 1


# ---------------------------------------------------------------- the post's claims

@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NAME)


@pytest.fixture(scope="module")
def executed(claims):
    from nbjekyll.api import executed_notebook
    return executed_notebook(SITE, NOTEBOOKS / NAME)      # cached by the claims fixture's execution


def test_every_contender_and_batch_size_is_in_the_post(claims):
    expected = CONTENDERS if cntk_kernel_installed() else CONTENDERS[:-1]
    assert claims["contenders"] == claims["summary"]["contenders"] == expected
    assert claims["batch_sizes"] == BATCH_SIZES
    s = claims["summary"]
    assert s["repeats"] == claims["settings"]["repeats"] >= 3
    assert s["steps"] == claims["settings"]["steps"] >= (5 if claims["quick"] else 30)
    for order in s["orders"]:
        assert sorted(order) == sorted(expected + ["limits"])
    for name in expected:
        for b in BATCH_SIZES:
            iv = s["time"][name][str(b)]
            assert len(iv["per_repeat"]) == s["repeats"]
            assert iv["low"] == min(iv["per_repeat"]) and iv["high"] == max(iv["per_repeat"])
            assert iv["median"] == float(np.median(iv["per_repeat"])) and iv["low"] > 0


def test_the_flop_counts(claims):
    assert claims["flops_per_example"] == FLOPS_PER_EXAMPLE and claims["update_flops"] == UPDATE_FLOPS
    assert claims["image_gradient_flops"] == IMAGE_GRADIENT_FLOPS
    # "Less than a million FLOPs per step at batch 32, a few tens of millions at batch 1024"
    assert 32 * FLOPS_PER_EXAMPLE + UPDATE_FLOPS < 1e6
    assert 1e7 < 1024 * FLOPS_PER_EXAMPLE + UPDATE_FLOPS < 1e8
    for name, per_batch in claims["flops_per_step"].items():   # only the NumPy reference computes dx
        extra = IMAGE_GRADIENT_FLOPS if name == "numpy_layers" else 0
        assert per_batch == {str(b): b * (FLOPS_PER_EXAMPLE + extra) + UPDATE_FLOPS for b in BATCH_SIZES}, name
    assert claims["summary"]["flops"] == claims["flops_per_step"]


def test_the_machine_is_described(claims):
    m = claims["machine"]
    assert m["cpu"] and m["os"] and m["python"] and m["memory_gib"] > 0
    assert m["threads_used"] == claims["threads"] == m["cpus_available"] >= 1
    cpu, flags = cpu_reports()                 # what the CPU says of itself, read here from /proc/cpuinfo
    assert m["cpu"] == cpu and m["virtual_machine"] == ("hypervisor" in flags)
    assert m["isa"] == {flag: flag in flags for flag in backprop_speed.ISA_FLAGS}
    assert {"avx2", "fma", "avx512f"} <= set(backprop_speed.ISA_FLAGS)     # the ones the post names
    assert m["blas"] and m["thread_settings"]["OPENBLAS_NUM_THREADS"] == str(claims["threads"])
    for package in ("numpy", "torch", "tensorflow", "keras", "jax"):
        assert m["versions"][package], package
    assert claims["keras"]["backend"] == "tensorflow"      # "on its default back end, TensorFlow"
    assert claims["summary"]["machine"] == m
    limits = claims["summary"]["limits"]
    assert limits["peak_gflops"] > 0 and limits["copy_gbs"] > 0 and limits["add_gbs"] > 0


def test_every_contender_trains_the_same_network(claims):
    # "every contender's losses agree with NumPy's to within 1e-5, at the first step and at the last"
    assert claims["first_loss_gap"] < 1e-5 and claims["last_loss_gap"] < 1e-5
    loss = claims["summary"]["loss"]
    for name in claims["contenders"]:
        for b in BATCH_SIZES:
            for which in ("first", "last"):
                values = np.array(loss[name][str(b)][which])
                assert np.abs(values - loss["numpy_layers"][str(b)][which][0]).max() < 1e-5, (name, b, which)


def test_the_fit_is_weighted_least_squares_on_all_batch_sizes(claims):
    s = claims["summary"]
    for name in claims["contenders"]:
        t = np.array([s["time"][name][str(b)]["median"] for b in BATCH_SIZES])
        n = np.array(BATCH_SIZES, float)
        b_, a = np.polyfit(n, t, 1, w=1 / t)       # polyfit minimises sum((w (t - fit))^2): relative error
        f = s["fit"][name]
        assert np.isclose(f["a"]["median"], a, rtol=1e-6, atol=1e-12)
        assert np.isclose(f["b"]["median"], b_, rtol=1e-6, atol=1e-12)
        for k, size in enumerate(BATCH_SIZES):
            assert np.isclose(f["residual"][str(size)], (a + b_ * size) / t[k] - 1, atol=1e-9)
        per_repeat = [np.polyfit(n, tr, 1, w=1 / tr) for tr in
                      np.array([s["time"][name][str(b)]["per_repeat"] for b in BATCH_SIZES]).T]
        assert np.allclose(f["a"]["per_repeat"], [p[1] for p in per_repeat], rtol=1e-6, atol=1e-12)
        assert np.allclose(f["b"]["per_repeat"], [p[0] for p in per_repeat], rtol=1e-6, atol=1e-12)
        for k in ("a", "b"):        # the range: the fits to each repeat, and the fit to the medians
            assert f[k]["low"] == min(f[k]["per_repeat"] + [f[k]["median"]])
            assert f[k]["high"] == max(f[k]["per_repeat"] + [f[k]["median"]])
        two = f["two_point"]
        assert two["a"] == t[0] and np.isclose(two["b"], (t[-1] - t[0]) / 1023)


def test_every_sentence_the_rule_makes_was_said(claims):
    assert set(claims["spoken"]) == set(speed_analysis.SENTENCES)


# ---------------------------------------------------------------- the sentences' numbers, recomputed here

# Each number a sentence states is computed again below from the per-repeat medians of the step times
# (and the machine's measured limits), without speed_analysis, and read back from the sentence's text:
# a number printed to d significant digits must lie within half a unit of its last digit of the value.

NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
DURATION = NUMBER + r" (µs|ms|s)\b"
UNIT = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}
IRIS = (4, 5, 3)                   # part 1's network: inputs, hidden nodes, outputs


def printed(text, value, digits):
    """Whether `text` (a number as the post prints it) is `value` to `digits` significant digits."""
    shown = float(text.replace(",", ""))
    if value == 0:
        return shown == 0
    last_digit = 10 ** (np.floor(np.log10(abs(value))) - digits + 1)
    return abs(shown - value) <= 0.5 * last_digit * (1 + 1e-9) + 1e-15 * abs(value)


def seconds(number, unit):
    return float(number.replace(",", "")) * UNIT[unit]


def printed_duration(number, unit, value):
    return printed(str(seconds(number, unit) / UNIT[unit]), value / UNIT[unit], 3)


def names_in(text, labels):
    """The contenders a list in the text names ("A, B and C"), in the order given."""
    parts = [p.strip() for p in re.split(r", | and ", text)] if text else []
    by_label = {label: name for name, label in labels.items()}
    assert all(p in by_label for p in parts), parts
    return [by_label[p] for p in parts]


class Recomputed:
    """The quantities of the post, from the per-repeat medians of its step times."""

    def __init__(self, claims):
        s = claims["summary"]
        self.s, self.names, self.labels = s, s["contenders"], s["labels"]
        self.per_repeat = {n: {b: np.array(s["time"][n][str(b)]["per_repeat"]) for b in BATCH_SIZES} for n in self.names}
        self.median = {n: {b: float(np.median(v)) for b, v in t.items()} for n, t in self.per_repeat.items()}
        self.interval = {n: {b: {"median": float(np.median(v)), "low": v.min(), "high": v.max()} for b, v in t.items()}
                         for n, t in self.per_repeat.items()}
        sizes = np.array(BATCH_SIZES, float)
        self.fit, self.fixed = {}, {}
        for n in self.names:
            t = np.array([self.median[n][b] for b in BATCH_SIZES])
            slope, intercept = np.polyfit(sizes, t, 1, w=1 / t)
            self.fit[n] = (intercept, slope, (intercept + slope * sizes) / t - 1)
            fits = [np.polyfit(sizes, r, 1, w=1 / r) for r in np.array([self.per_repeat[n][b] for b in BATCH_SIZES]).T]
            a = [f[1] for f in fits] + [intercept]
            self.fixed[n] = {"median": intercept, "low": min(a), "high": max(a)}
        self.flops = {n: {b: b * (FLOPS_PER_EXAMPLE + (IMAGE_GRADIENT_FLOPS if n == "numpy_layers" else 0))
                          + UPDATE_FLOPS for b in BATCH_SIZES} for n in self.names}
        self.rate = {(n, b): self.flops[n][b] / self.median[n][b] / 1e9 for n in self.names for b in BATCH_SIZES}
        self.peak = s["limits"]["peak_gflops"]

    def leaders(self, b):
        fastest = min(self.names, key=lambda n: self.median[n][b])
        return [fastest] + [n for n in self.names if n != fastest
                            and overlap(self.interval[n][b], self.interval[fastest][b])]


@pytest.fixture(scope="module")
def recomputed(claims):
    return Recomputed(claims)


def said(claims, key, pattern):
    text = claims["spoken"][key]["text"]
    match = re.search(pattern, text)
    assert match, (key, text)
    return match


def test_the_limit_sentence(claims, recomputed):
    r = recomputed
    best = max(r.rate, key=r.rate.get)
    m = said(claims, "limit", rf"reaches is {NUMBER} GFLOP/s \((.+) at batch (\d+)\), {NUMBER} % of the matrix-multiply")
    assert printed(m[1], r.rate[best], 3) and (m[2], int(m[3])) == (r.labels[best[0]], best[1])
    assert printed(m[4], 100 * r.rate[best] / r.peak, 2)


def test_the_fit_sentence(claims, recomputed):
    r = recomputed
    residuals = np.array([r.fit[n][2] for n in r.names])
    two_point = []
    for n in r.names:
        a, b = r.median[n][1], (r.median[n][1024] - r.median[n][1]) / 1023
        two_point.append(abs((a + b * 32) / r.median[n][32] - 1))
    m = said(claims, "fit", rf"by at most {NUMBER} % at any batch size, and by at most {NUMBER} % at batch 32; "
                            rf"the two-point estimate from batches 1 and 1024 alone would miss batch 32 by "
                            rf"{NUMBER} to {NUMBER} %\.")
    assert printed(m[1], 100 * np.abs(residuals).max(), 2)
    assert printed(m[2], 100 * np.abs(residuals[:, BATCH_SIZES.index(32)]).max(), 2)
    assert printed(m[3], 100 * min(two_point), 2) and printed(m[4], 100 * max(two_point), 2)
    close = [n for n in r.names if np.abs(r.fit[n][2]).max() <= 0.1]
    text = claims["spoken"]["fit"]["text"]
    if len(close) == len(r.names):
        assert "within 10 % of every median of every contender" in text
    elif close:
        assert names_in(re.search(r"within 10 % of every median for (.+?); for the others", text)[1], r.labels) == close
    else:
        assert "For no contender is the line within 10 %" in text


def test_the_overhead_sentence(claims, recomputed):
    r = recomputed
    a = {n: r.fit[n][0] for n in r.names}
    low, high = min(a, key=a.get), max(a, key=a.get)
    share = {n: r.fit[n][0] / (r.fit[n][0] + r.fit[n][1] * 32) for n in r.names}
    least, most = min(share, key=share.get), max(share, key=share.get)
    m = said(claims, "overhead", rf"ranges from {DURATION} per step \((.+?)\) to {DURATION} \((.+?)\), a factor of "
                                 rf"{NUMBER}\. At batch 32 it is {NUMBER} % \((.+?)\) to {NUMBER} % \((.+?)\) of the "
                                 rf"fitted step time(?:, and more than half of it for (.+))?\.$")
    assert printed_duration(m[1], m[2], a[low]) and m[3] == r.labels[low]
    assert printed_duration(m[4], m[5], a[high]) and m[6] == r.labels[high]
    assert printed(m[7], a[high] / a[low], 2)
    assert printed(m[8], 100 * share[least], 2) and m[9] == r.labels[least]
    assert printed(m[10], 100 * share[most], 2) and m[11] == r.labels[most]
    assert names_in(m[12], r.labels) == [n for n in r.names if share[n] > 0.5]


def test_the_bounds_sentence(claims, recomputed):
    r = recomputed
    best = min(r.names, key=lambda n: r.fit[n][1])
    per_example = r.fit[best][1]
    arithmetic = (r.flops[best][1024] - r.flops[best][1]) / 1023 / (r.peak * 1e9)
    # an unfused step writes and reads every activation and its gradient once and reads the image
    # twice: conv output and ReLU output 8x8x8 each, pooled 8x4x4, 10 logits; float32
    traffic_bytes = 4 * (2 * 2 * (2 * 8 * 8 * 8 + 8 * 4 * 4 + 10) + 2 * 8 * 8)
    traffic = traffic_bytes / (r.s["limits"]["copy_gbs"] * 1e9)
    m = said(claims, "bounds", rf"The lowest cost per example, {DURATION} \((.+?)\), is {NUMBER} times what an "
                               rf"example's arithmetic takes at the measured matrix-multiply rate \({DURATION}\) and "
                               rf"{NUMBER} times what its unfused memory traffic, {NUMBER} kB, takes at the measured "
                               rf"copy bandwidth \({DURATION}\)\.")
    assert printed_duration(m[1], m[2], per_example) and m[3] == r.labels[best]
    assert printed(m[4], per_example / arithmetic, 2) and printed_duration(m[5], m[6], arithmetic)
    assert printed(m[7], per_example / traffic, 2) and printed(m[8], traffic_bytes / 1e3, 3)
    assert printed_duration(m[9], m[10], traffic)
    text = claims["spoken"]["bounds"]["text"]
    assert ("Memory traffic is within a factor of two" in text) == (per_example / traffic <= 2)


def test_the_scale_sentence(claims, recomputed):
    r, sc = recomputed, claims["summary"]["scale"]
    ni, nh, no = IRIS
    # part 1's network per example: the forward products, then steps 4, 2 and 5 of the backward pass
    assert sc["iris_flops"] == 2 * (ni * nh + nh * no) + 2 * nh * no + 2 * nh * no + 2 * ni * nh
    assert sc["iris_parameters"] == ni * nh + nh + nh * no + no == 43
    assert sc["cnn_parameters"] == 8 * 9 + 8 + 8 * 4 * 4 * 10 + 10 and sc["cnn_flops"] == FLOPS_PER_EXAMPLE
    per_example_1024 = {n: r.median[n][1024] / 1024 for n in r.names}
    best = min(per_example_1024, key=per_example_1024.get)
    loop_over_vector = sc["loop"] / sc["vectorised"]
    after = max(r.rate[n, 1024] for n in r.names) / (sc["iris_flops"] / sc["vectorised"] / 1e9)
    m = said(claims, "scale", rf"take {NUMBER} of the time of the loops per example \({NUMBER} times faster\)\. "
                              rf"The loops spend {NUMBER} times as long on one example of a network with (\d+) parameters "
                              rf"as (.+?) spends on one example of the CNN at batch 1024, which has {NUMBER} times the "
                              rf"parameters and {NUMBER} times the arithmetic\.")
    assert printed(m[1], 1 / loop_over_vector, 2) and printed(m[2], loop_over_vector, 2)
    assert printed(m[3], sc["loop"] / per_example_1024[best], 2)
    assert int(m[4]) == 43 and m[5] == r.labels[best]
    assert printed(m[6], sc["cnn_parameters"] / 43, 2) and printed(m[7], FLOPS_PER_EXAMPLE / sc["iris_flops"], 2)
    m = said(claims, "scale", rf"is {NUMBER} times vectorised Iris's")
    assert printed(m[1], after, 2)
    assert ("Vectorising is the largest step of all" in claims["spoken"]["scale"]["text"]) == (loop_over_vector > after)


def cpu_reports():
    """What the CPU of this machine says of itself (the machine the benchmark ran on, the cache being local)."""
    fields = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields["model name"], set(fields["flags"].split())


def test_the_tldr_sentence(claims, recomputed):
    r = recomputed
    cpu, flags = cpu_reports()
    frameworks = ["NumPy", "PyTorch", "TensorFlow", "Keras", "JAX"] + (["CNTK"] if "cntk_train_minibatch" in r.names
                                                                       else [])
    m = said(claims, "tldr", r"network in (.+?), (\d+) contenders in all, each in its own process, timed at batch sizes "
                             r"(.+?) and repeated (\d+) times in shuffled order, on (a virtual machine|a machine) whose "
                             r"CPU reports itself as “(.+?)”, with (\d+) cores? for this build(.*?)\. ")
    assert [f.strip() for f in re.split(r", | and ", m[1])] == frameworks
    assert int(m[2]) == len(r.names) and m[3] == "1, 32, 256 and 1024"
    assert int(m[4]) == len(next(iter(r.per_repeat.values()))[1]) >= 3
    assert m[5] == ("a virtual machine" if "hypervisor" in flags else "a machine") and m[6] == cpu
    assert int(m[7]) == len(os.sched_getaffinity(0))
    have = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512")) if flag in flags]
    lack = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512")) if flag not in flags]
    listed = re.fullmatch(r"(?:, (.+?))?(?: and no (.+))?", m[8])
    assert listed, m[8]
    assert [x for x in re.split(r", | and ", listed[1] or "") if x] == have
    assert [x for x in re.split(r", | and ", listed[2] or "") if x] == lack
    for b in (32, 1024):
        # the list ends at ';' or at a sentence's full stop (a label such as "tf.function" has a '.' of its own)
        who = said(claims, "tldr", rf"at batch {b}: (.+?)(?:;|\.(?=\s|$))")[1]
        leaders = r.leaders(b)
        expected = r.labels[leaders[0]] if len(leaders) == 1 else \
            ", ".join(r.labels[n] for n in leaders[:-1]) + " and " + r.labels[leaders[-1]] + ", tied"
        assert who.replace(", tied", "") == expected.replace(", tied", "") and (", tied" in who) == (len(leaders) > 1)
    share = max(r.rate.values()) / r.peak
    fraction = "a tenth" if share < 0.1 else "half" if share < 0.5 else "all"
    assert f"No contender reaches {fraction} of the matrix-multiply rate" in claims["spoken"]["tldr"]["text"]
    a = [r.fit[n][0] for n in r.names]
    m = said(claims, "tldr", rf"from {DURATION} to {DURATION} depending on the contender.+more than half of the step for "
                             rf"(\d+) of the (\d+) contenders")
    assert printed_duration(m[1], m[2], min(a)) and printed_duration(m[3], m[4], max(a))
    half = [n for n in r.names if r.fit[n][0] / (r.fit[n][0] + r.fit[n][1] * 32) > 0.5]
    assert (int(m[5]), int(m[6])) == (len(half), len(r.names))
    lowered = [c for c, e in (("tf_function", "tf_eager"), ("torch_compile_step", "torch_eager"))
               if r.fixed[c]["high"] < r.fixed[e]["low"]]
    text = claims["spoken"]["tldr"]["text"]
    if lowered:
        assert names_in(re.search(r"compiling the whole step lowers it for (.+)\.$", text)[1], r.labels) == lowered
    else:
        assert text.endswith("compiling the whole step does not lower it beyond the spread of the repeats.")


def test_the_tie_words_follow_the_rule(claims):
    """The rankings and comparisons the text states, checked with this file's own tie rule."""
    s, spoken = claims["summary"], claims["spoken"]
    names = s["contenders"]

    def time(n, b):
        return s["time"][n][str(b)]

    for b in BATCH_SIZES:
        d = spoken[f"ranking_{b}"]["decision"]
        fastest = min(names, key=lambda n: time(n, b)["median"])
        slowest = max(names, key=lambda n: time(n, b)["median"])
        assert d["fastest"] == fastest and d["slowest"] == slowest
        assert d["tied_with_fastest"] == [n for n in names if n != fastest and overlap(time(n, b), time(fastest, b))]
        assert d["tied_with_slowest"] == [n for n in names if n != slowest and overlap(time(n, b), time(slowest, b))]
        tied = ", tied with" in spoken[f"ranking_{b}"]["text"].split("; the slowest")[0]
        assert tied == bool(d["tied_with_fastest"])
    for compiled, eager in speed_analysis.SPEEDUPS.items():
        d = spoken[f"versus_{compiled}"]["decision"]
        assert d == {str(b): verdict(time(compiled, b), time(eager, b)) for b in BATCH_SIZES}
        for word, v in (("faster than", "lower"), ("tied with", "tie"), ("slower than", "higher")):
            assert (word in spoken[f"versus_{compiled}"]["text"]) == (v in d.values()), (compiled, word)

    def per_example(n, b):
        return {k: time(n, b)[k] / b for k in ("median", "low", "high")}

    assert spoken["per_example"]["decision"] == {n: verdict(per_example(n, 1024), per_example(n, 32)) for n in names}
    fixed = {n: s["fit"][n]["a"] for n in names}
    assert spoken["torch_fixed"]["decision"] == {n: verdict(fixed["torch_compile_step"], fixed[n])
                                                 for n in ("torch_eager", "torch_compile_model")}
    assert spoken["compiling"]["decision"] == {"tf_function": verdict(fixed["tf_function"], fixed["tf_eager"]),
                                               "torch_compile_step": verdict(fixed["torch_compile_step"],
                                                                             fixed["torch_eager"])}
    if "cntk_train_minibatch" in names:
        others = [n for n in names if n != "cntk_train_minibatch"]
        d = spoken["cntk"]["decision"]
        assert d["lower"] == [n for n in others if verdict(fixed[n], fixed["cntk_train_minibatch"]) == "lower"]
        assert d["tied"] == [n for n in others if overlap(fixed[n], fixed["cntk_train_minibatch"])]


def _markdown_outputs(nb):
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text is not None:
                yield index, "".join(text)


def test_the_sentences_are_in_the_post(claims, executed):
    outputs = list(_markdown_outputs(executed))
    top = next(i for i, c in enumerate(executed.cells) if c.cell_type == "code" and "display_id=True" in c.source)
    assert all(c.cell_type != "markdown" for c in executed.cells[:top])    # nothing of the post before it
    tldr = [text for i, text in outputs if i == top]
    assert tldr == [claims["spoken"]["tldr"]["text"]]           # the summary at the top, filled in at the end
    assert tldr[0].startswith("**tl;dr**") and claims["summary"]["machine"]["cpu"] in tldr[0]
    for key, said in claims["spoken"].items():
        assert any(said["text"] in text for _, text in outputs), key


def _png_width(data):
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", png[16:20])[0]


def test_the_figures_fit_the_column(executed):
    """Figures are drawn 800 px wide with 11 pt text, so the page's column shows their text at 10 pt or more."""
    widths = [_png_width(o["data"]["image/png"]) for c in executed.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(widths) == 3
    assert all(600 <= w <= 820 for w in widths), widths
