"""The speed post (part 3): its benchmark runs, its results are whole, and its prose is its numbers.

Nothing here asserts a speed: step times depend on the machine and on whatever else runs on it,
and the post's text is written from the numbers of its own run. What must hold on any machine is
asserted instead: the structure of the results, every contender at every batch size, the same
losses from every contender, the FLOP counts, the fit, and that every sentence the post made from
its numbers is the sentence its rule makes from the numbers it printed (with the tie rule checked
by an implementation of its own here, so that a "fastest" or "lowest" names every contender tied
with it), and appears in the post. The committed post is read as a reader gets it: it leads with
its results, every time, ratio, share or rate its text states is one its tables show as rounded
there, and the fixed cost it reports as measured is the batch-1 step of its step-time table.

Sources: ``toy`` runs the runner on two tiny step files (repeats, shuffled order, a missing
kernel) in seconds; ``quick`` runs the post's own step files, from the notebook's ``%%writefile``
cells, in quick mode (one repeat, a few steps, batch sizes 1 and 32); ``claims`` reads the
``CLAIMS`` line of the executed notebook (the build's cached execution when there is one, a full
run otherwise); ``POST`` is the post that execution wrote (``test_the_post_is_this_run`` checks
that they belong together).
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
    assert s["repeats"] == claims["settings"]["repeats"]
    assert s["steps"] == claims["settings"]["steps"] >= (5 if claims["quick"] else 30)
    for order in s["orders"]:
        assert sorted(order) == sorted(expected + ["limits"])
    for name in expected:
        for b in BATCH_SIZES:
            iv = s["time"][name][str(b)]
            assert len(iv["per_repeat"]) == s["repeats"]
            assert iv["low"] == min(iv["per_repeat"]) and iv["high"] == max(iv["per_repeat"])
            assert iv["median"] == float(np.median(iv["per_repeat"])) and iv["low"] > 0


def test_the_benchmark_repeats_at_least_five_times(claims):
    """With three repeats one noisy repeat widens a range enough to make a tie; the post runs five or more."""
    assert backprop_speed.FULL["repeats"] >= 5
    if not claims["quick"]:
        assert claims["summary"]["repeats"] == claims["settings"]["repeats"] == backprop_speed.FULL["repeats"]
    cell = next(c.source for c in notebook().cells if "backprop_speed.run(" in c.source)
    assert "repeats=" not in cell        # the notebook takes the runner's own count, not one of its own


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
        self.fit, self.fixed, self.per_example = {}, {}, {}
        for n in self.names:
            t = np.array([self.median[n][b] for b in BATCH_SIZES])
            slope, intercept = np.polyfit(sizes, t, 1, w=1 / t)
            self.fit[n] = (intercept, slope, (intercept + slope * sizes) / t - 1)
            fits = [np.polyfit(sizes, r, 1, w=1 / r) for r in np.array([self.per_repeat[n][b] for b in BATCH_SIZES]).T]
            a = [f[1] for f in fits] + [intercept]
            b = [f[0] for f in fits] + [slope]
            self.fixed[n] = {"median": intercept, "low": min(a), "high": max(a)}
            self.per_example[n] = {"median": slope, "low": min(b), "high": max(b)}
        self.flops = {n: {b: b * (FLOPS_PER_EXAMPLE + (IMAGE_GRADIENT_FLOPS if n == "numpy_layers" else 0))
                          + UPDATE_FLOPS for b in BATCH_SIZES} for n in self.names}
        self.rate = {(n, b): self.flops[n][b] / self.median[n][b] / 1e9 for n in self.names for b in BATCH_SIZES}
        self.rate_interval = {(n, b): {"median": self.rate[n, b], "low": self.flops[n][b] / self.interval[n][b]["high"] / 1e9,
                                       "high": self.flops[n][b] / self.interval[n][b]["low"] / 1e9}
                              for n in self.names for b in BATCH_SIZES}
        self.peak = s["limits"]["peak_gflops"]

    def batch_1(self, n):
        """The fixed cost as the post reports it: the measured step at batch 1."""
        return self.interval[n][1]

    def leaders(self, b):
        return tied_best({n: self.interval[n][b] for n in self.names})


def tied_best(intervals, highest=False):
    """The key of the lowest (highest) median and every other key whose range overlaps its own."""
    pick = (max if highest else min)(intervals, key=lambda k: intervals[k]["median"])
    return [pick] + [k for k in intervals if k != pick and overlap(intervals[k], intervals[pick])]


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
    top = tied_best(r.rate_interval, highest=True)
    m = said(claims, "limit", rf"reaches is {NUMBER} GFLOP/s \((.+?) at batch (\d+)\), {NUMBER} % of the "
                              rf"matrix-multiply")
    assert printed(m[1], r.rate[top[0]], 3) and (m[2], int(m[3])) == (r.labels[top[0][0]], top[0][1])
    assert printed(m[4], 100 * r.rate[top[0]] / r.peak, 2)
    tied = re.search(r"overlaps those of (.+), so none of them", claims["spoken"]["limit"]["text"])
    named = [tuple(x) for x in re.findall(r"(?:^|, | and )(.+?) at batch (\d+)", tied[1])] if tied else []
    assert [(r.labels[n], str(b)) for n, b in top[1:]] == named


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
        assert "within a tenth of every median of every contender" in text
    elif close:
        assert names_in(re.search(r"within a tenth of every median for (.+?); for the others", text)[1], r.labels) == close
    else:
        assert "For no contender is the line within a tenth" in text


def test_the_fixed_cost_sentence_goes_by_the_measurement(claims, recomputed):
    """The fixed cost is the measured batch-1 step; its share at batch 32 is measured over measured; and the
    sentence says for which contenders the fitted a is larger than the whole measured batch-1 step."""
    r = recomputed
    t1 = {n: r.batch_1(n) for n in r.names}
    low, high = tied_best(t1), tied_best(t1, highest=True)
    share = {n: r.median[n][1] / r.median[n][32] for n in r.names}
    least, most = min(share, key=share.get), max(share, key=share.get)
    text = claims["spoken"]["overhead"]["text"]
    m = said(claims, "overhead", rf"is lowest for (.+?), {DURATION}(?:, tied with (.+?))?, and highest for (.+?), "
                                 rf"{DURATION}(?:, tied with (.+?))?\. At batch 32 the batch-1 step is {NUMBER} % "
                                 rf"\((.+?)\) to {NUMBER} % \((.+?)\) of the measured step")
    assert names_in(m[1], r.labels) + names_in(m[4], r.labels) == low
    assert printed_duration(m[2], m[3], t1[low[0]]["median"])
    assert names_in(m[5], r.labels) + names_in(m[8], r.labels) == high
    assert printed_duration(m[6], m[7], t1[high[0]]["median"])
    assert printed(m[9], 100 * share[least], 2) and m[10] == r.labels[least]
    assert printed(m[11], 100 * share[most], 2) and m[12] == r.labels[most]
    half = [n for n in r.names if share[n] > 0.5]
    if half:
        assert names_in(re.search(r"of the measured step, more than half for (.+?)\. ", text)[1], r.labels) == half
    above = [n for n in r.names if r.fit[n][0] > t1[n]["median"]]
    if above:
        m = re.search(r"larger than the whole measured step at batch 1 for (\d+) of the (\d+) contenders \((.+?)(;|\))",
                      text)
        assert (int(m[1]), int(m[2])) == (len(above), len(r.names)) and names_in(m[3], r.labels) == above
        beyond = [n for n in above if r.fixed[n]["low"] > t1[n]["high"]]
        if beyond:
            assert names_in(re.search(r"beyond the spread of the repeats for (.+?)\)", text)[1], r.labels) == beyond
        else:
            assert "within the spread of the repeats for all of them" in text
    else:
        assert "no larger than the measured step at batch 1" in text


def test_the_bounds_sentence(claims, recomputed):
    r = recomputed
    lowest = tied_best(r.per_example)
    per_example = r.fit[lowest[0]][1]
    arithmetic = (r.flops[lowest[0]][1024] - r.flops[lowest[0]][1]) / 1023 / (r.peak * 1e9)
    # an unfused step writes and reads every activation and its gradient once and reads the image
    # twice: conv output and ReLU output 8x8x8 each, pooled 8x4x4, 10 logits; float32
    traffic_bytes = 4 * (2 * 2 * (2 * 8 * 8 * 8 + 8 * 4 * 4 + 10) + 2 * 8 * 8)
    traffic = traffic_bytes / (r.s["limits"]["copy_gbs"] * 1e9)
    m = said(claims, "bounds", rf"The lowest fitted cost per example is {DURATION} \((.+?)(?:; tied with (.+?), whose "
                               rf"ranges? overlaps? its own)?\)\. It is {NUMBER}× what an example's arithmetic takes at the "
                               rf"measured matrix-multiply rate \({DURATION}\) and {NUMBER}× what its unfused memory "
                               rf"traffic takes at the measured copy bandwidth \({DURATION}\)\.")
    assert printed_duration(m[1], m[2], per_example)
    assert names_in(m[3], r.labels) + names_in(m[4], r.labels) == lowest
    assert printed(m[5], per_example / arithmetic, 2) and printed_duration(m[6], m[7], arithmetic)
    assert printed(m[8], per_example / traffic, 2) and printed_duration(m[9], m[10], traffic)
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
    quickest = min(per_example_1024, key=per_example_1024.get)
    loop_over_vector = sc["loop"] / sc["vectorised"]
    vectorised_rate = sc["iris_flops"] / sc["vectorised"] / 1e9
    best_1024 = max(r.rate[n, 1024] for n in r.names)
    m = said(claims, "scale", rf"are {NUMBER}× as fast as the loops, per example\. The loops spend {NUMBER}× as long "
                              rf"on one example of a network with (\d+) parameters as (.+?) spends on one example of the "
                              rf"CNN at batch 1024, which has 1,370 parameters and 26,112 FLOPs per example against "
                              rf"Iris's 170\. From vectorised Iris \({NUMBER} GFLOP/s\) to the highest median rate on the "
                              rf"CNN at batch 1024 \({NUMBER} GFLOP/s\)")
    assert printed(m[1], loop_over_vector, 2) and printed(m[2], sc["loop"] / per_example_1024[quickest], 2)
    assert int(m[3]) == 43 and m[4] == r.labels[quickest]
    assert printed(m[5], vectorised_rate, 3) and printed(m[6], best_1024, 3)
    largest = best_1024 / vectorised_rate < loop_over_vector
    assert ("it is the largest step of all" in claims["spoken"]["scale"]["text"]) == largest


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
    assert int(m[4]) == len(next(iter(r.per_repeat.values()))[1]) == claims["summary"]["repeats"]
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
        assert names_in(who.replace(", tied", ""), r.labels) == r.leaders(b)
        assert (", tied" in who) == (len(r.leaders(b)) > 1)
    share = max(r.rate.values()) / r.peak
    fraction = "a tenth" if share < 0.1 else "half" if share < 0.5 else "all"
    assert f"No contender reaches {fraction} of the matrix-multiply rate" in claims["spoken"]["tldr"]["text"]
    t1 = [r.median[n][1] for n in r.names]
    m = said(claims, "tldr", rf"takes {DURATION} to {DURATION} depending on the contender; at batch 32 it is still more "
                             rf"than half of the step for (\d+) of the (\d+) contenders")
    assert printed_duration(m[1], m[2], min(t1)) and printed_duration(m[3], m[4], max(t1))
    half = [n for n in r.names if r.median[n][1] / r.median[n][32] > 0.5]
    assert (int(m[5]), int(m[6])) == (len(half), len(r.names))
    lowered = [c for c, e in (("tf_function", "tf_eager"), ("torch_compile_step", "torch_eager"))
               if r.batch_1(c)["high"] < r.batch_1(e)["low"]]
    text = claims["spoken"]["tldr"]["text"]
    if lowered:
        assert names_in(re.search(r"compiling the whole step lowers it for (.+)\.$", text)[1], r.labels) == lowered
    else:
        assert text.endswith("compiling the whole step does not lower it beyond the spread of the repeats.")


def test_the_tie_words_follow_the_rule(claims, recomputed):
    """Every "fastest", "slowest", "faster", "lower" and "tied" the text states, checked with this file's own tie
    rule against the per-repeat results the post's run saved: a superlative names every contender tied with it."""
    s, spoken, r = claims["summary"], claims["spoken"], recomputed
    names, labels = s["contenders"], s["labels"]

    def time(n, b):
        return r.interval[n][b]

    for b in BATCH_SIZES:
        d = spoken[f"ranking_{b}"]["decision"]
        fastest = tied_best({n: time(n, b) for n in names})
        slowest = tied_best({n: time(n, b) for n in names}, highest=True)
        assert [d["fastest"]] + d["tied_with_fastest"] == fastest
        assert [d["slowest"]] + d["tied_with_slowest"] == slowest
        text = spoken[f"ranking_{b}"]["text"]
        m = re.fullmatch(rf"At batch {b} the fastest contender is (.+?) \({DURATION} per step\)(?:, tied with (.+?), "
                         rf"whose ranges? over the repeats overlaps? its own|, its whole range over the repeats below "
                         rf"every other contender's); the slowest is (.+?) \({DURATION}\)(?:, tied with (.+))?\.", text)
        assert m, text
        assert names_in(m[1], labels) + names_in(m[4], labels) == fastest
        assert names_in(m[5], labels) + names_in(m[8], labels) == slowest
    for compiled, eager in speed_analysis.SPEEDUPS.items():
        d = spoken[f"versus_{compiled}"]["decision"]
        assert d == {str(b): verdict(time(compiled, b), time(eager, b)) for b in BATCH_SIZES}
        for word, v in (("faster than", "lower"), ("tied with", "tie"), ("slower than", "higher")):
            assert (word in spoken[f"versus_{compiled}"]["text"]) == (v in d.values()), (compiled, word)

    def per_example(n, b):
        return {k: time(n, b)[k] / b for k in ("median", "low", "high")}

    assert spoken["per_example"]["decision"] == {n: verdict(per_example(n, 1024), per_example(n, 32)) for n in names}
    fixed = {n: r.batch_1(n) for n in names}            # the fixed cost as measured
    assert spoken["torch_fixed"]["decision"] == {n: verdict(fixed["torch_compile_step"], fixed[n])
                                                 for n in ("torch_eager", "torch_compile_model")}
    assert spoken["compiling"]["decision"] == {"tf_function": verdict(fixed["tf_function"], fixed["tf_eager"]),
                                               "torch_compile_step": verdict(fixed["torch_compile_step"],
                                                                             fixed["torch_eager"])}
    assert spoken["overhead"]["decision"]["lowest"] == tied_best(fixed)
    assert spoken["overhead"]["decision"]["highest"] == tied_best(fixed, highest=True)
    assert spoken["bounds"]["decision"]["lowest"] == tied_best(r.per_example)
    top = tied_best(r.rate_interval, highest=True)
    assert [tuple(spoken["limit"]["decision"]["best"])] + [tuple(t) for t in spoken["limit"]["decision"]["tied"]] \
        == [(n, b) for n, b in top]
    if "cntk_train_minibatch" in names:
        others = [n for n in names if n != "cntk_train_minibatch"]
        d = spoken["cntk"]["decision"]
        assert d["lower"] == [n for n in others if verdict(fixed[n], fixed["cntk_train_minibatch"]) == "lower"]
        assert d["tied"] == [n for n in others if overlap(fixed[n], fixed["cntk_train_minibatch"])]
        if not d["lower"]:
            assert "the lowest of all the contenders" in spoken["cntk"]["text"]


def test_the_tie_rule_is_stated_as_it_is_applied():
    """The method says what `compare` does: overlapping ranges are a tie; lower means the whole range below."""
    method = next(c.source for c in notebook().cells if c.cell_type == "markdown" and "**Ties.**" in c.source)
    words = " ".join(method.split())
    assert "Two quantities whose ranges over the repeats overlap are called **tied**" in words
    assert "only when its whole range lies below the other's: its highest value over the repeats is lower than " \
           "the other's lowest" in words
    assert "every repeat agrees" not in words
    a, b = {"median": 1, "low": 0.5, "high": 2}, {"median": 3, "low": 2.5, "high": 4}
    assert speed_analysis.compare(a, b) == "lower" and speed_analysis.compare(b, a) == "higher"
    assert speed_analysis.compare(a, dict(b, low=1.9)) == "tie"


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
    for key, said_ in claims["spoken"].items():
        assert any(said_["text"] in text for _, text in outputs), key


def test_inductor_is_described_from_the_code_it_generated(claims, executed):
    """What the post says Inductor did is read from the code it generated in this run, and said once."""
    inductor = claims["inductor"]
    assert inductor["generated"] and all(k.startswith("cpp_fused_") for k in inductor["generated"])
    sentence = speed_analysis.inductor_words(inductor["extern"], inductor["generated"])
    assert any(text == sentence for _, text in _markdown_outputs(executed))
    kept = sentence.split("calls PyTorch's own kernels for ")[1].split(", and generates")[0]
    assert ("the convolution" in kept) == ("convolution" in inductor["extern"])
    assert ("the convolution's gradients" in kept) == ("convolution_backward" in inductor["extern"])
    prose = " ".join(c.source for c in notebook().cells if c.cell_type == "markdown")
    assert "Inductor" in prose
    for claim in ("leaves the convolution", "loops for the pooling and convolution gradients"):
        assert claim not in " ".join(prose.split())   # statements about Inductor not read from the run


# ---------------------------------------------------------------- the post as a reader gets it

POST = SITE / "_posts" / "2018-04-30-back-propagation-speed.md"
# a quantity in the text: a number with a unit of time, a ratio (×, not the × of "3×3"), a share, a rate
QUANTITY = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?:\s(µs|ms|s|%|GFLOP/s|GB/s|kB)(?![\w/])|(×)(?!\s*\d))")
SCALE = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}
HEADER_UNIT = re.compile(r"\((ms|µs|%)\)|^(ms|µs|%|GFLOP/s)(?:\s|$)")


def _body():
    text = POST.read_text()
    return text.split("\n---\n", 1)[1]


def _canonical(value, unit):
    """(dimension, magnitude): times in seconds; other units as they are."""
    if unit in SCALE:
        return "s", abs(value) * SCALE[unit]
    return unit, abs(value)


def post_parts():
    """The post's tables (rows of cells) and its prose (paragraphs and list items, without code, outputs,
    math, HTML, headings, captions and the references)."""
    body = _body().split("\n## References", 1)[0]
    body = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", "", body, flags=re.S | re.M)        # code and output blocks
    tables, prose, table = [], [], None
    for line in body.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if table is None:
                table = [cells]
                tables.append(table)
            elif not re.fullmatch(r"[-:| ]+", line):
                table.append(cells)
            continue
        table = None
        if line.startswith(("#", "<", "{:", "![")) or not line.strip():
            continue
        prose.append(line)
    text = " ".join(prose)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)", " ", text)                 # math
    text = re.sub(r"`[^`]*`", " ", text)                                           # inline code
    return tables, text


def table_quantities(tables):
    found = set()
    for header, *rows in tables:
        units = []
        for cell in header:
            m = HEADER_UNIT.search(cell)
            units.append((m[1] or m[2]) if m else None)
        for row in rows:
            for i, cell in enumerate(row):
                cell = cell.replace("*", "").replace("−", "-")
                own = re.search(r"(µs|ms|s|×)$", cell)
                unit = own[1] if own else (units[i] if i < len(units) and units[i] else units[0])
                if unit is None:
                    continue
                for number in re.findall(r"\d[\d,]*(?:\.\d+)?", cell if i else ""):
                    found.add(_canonical(float(number.replace(",", "")), unit))
    return found


def test_every_number_in_the_text_is_in_a_table():
    """A time, ratio, share or rate the text states is one the post's tables show, as rounded there."""
    tables, text = post_parts()
    shown = table_quantities(tables)
    assert shown
    stated = [(m[0], _canonical(float(m[1].replace(",", "")), m[2] or m[3])) for m in QUANTITY.finditer(text)]
    assert len(stated) >= 20                     # the generated sentences are in the text
    missing = [said_ for said_, q in stated
               if not any(d == q[0] and abs(v - q[1]) <= 1e-9 * max(v, q[1]) for d, v in shown)]
    assert not missing, missing


def test_the_measured_fixed_cost_is_the_batch_1_step():
    """The fixed-cost table's measured column is the step table's batch-1 column, cell for cell."""
    tables, _ = post_parts()
    steps = next(t for t in tables if t[0][0] == "ms at batch")
    fixed = next(t for t in tables if "batch 1, measured (ms)" in t[0])
    column = fixed[0].index("batch 1, measured (ms)")
    batch_1 = {row[0]: row[steps[0].index("1")].strip("*") for row in steps[1:]}
    measured = {row[0]: row[column] for row in fixed[1:]}
    assert measured == batch_1 and len(measured) >= 9
    assert "fitted a (ms)" in fixed[0]


def test_the_post_is_this_run(claims):
    """The committed post was made by the run whose saved results these tests read."""
    assert claims["spoken"]["tldr"]["text"] in _body()


SUPERLATIVE = re.compile(r"\b(?:fastest|slowest|lowest|highest|cheapest|quickest|best|worst|"
                         r"(?:faster|slower|cheaper|quicker|lower|higher) than|differ most)\b")
FRAMEWORKS = ("NumPy", "FastCNN", "PyTorch", "torch", "TensorFlow", "tf.function", "Keras", "JAX", "CNTK", "Inductor")


def test_superlatives_only_where_the_rule_made_them(claims):
    """A "fastest", "lowest", "faster than" or the like about a contender or a framework appears only in the
    sentences the tie rule made; the text written by hand uses such words only of other things."""
    _, text = post_parts()
    for said_ in claims["spoken"].values():
        text = text.replace(re.sub(r"\$[^$]*\$|`[^`]*`", " ", said_["text"]), " ")
    text = re.sub(r'"[^"]*"|“[^”]*”', " ", text)                                   # words quoted, not claimed
    sentences = re.split(r"(?<=[.:;!?])\s+(?=[A-Z*(\[])", text)
    names = FRAMEWORKS + tuple(claims["summary"]["labels"].values())
    found = [s_ for s_ in sentences if SUPERLATIVE.search(s_) and any(n in s_ for n in names)]
    assert not found, found


def test_the_post_leads_with_its_results():
    body = _body()
    first_table = body.index("| ms at batch |")
    assert body.index("**tl;dr**") < first_table < body.index("```")
    assert first_table < body.index("| batch 1, measured (ms)") < body.index("## What is measured, and how")
    assert "<matplotlib." not in body and "<Figure size" not in body


def test_markdown_is_imported_where_it_is_shown(executed):
    """The code a reader can open imports what it uses."""
    seen_import = False
    for cell in executed.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "remove-cell" in tags or "remove-input" in tags:
            continue
        if re.search(r"^from IPython\.display import .*\bMarkdown\b", cell.source, re.M):
            seen_import = True
        if re.search(r"\bMarkdown\(", cell.source):
            assert seen_import, cell.source[:200]
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert not output.get("data", {}).get("text/plain", "").startswith("<matplotlib."), cell.source[:80]
    assert "the tests make them again" not in "".join(c.source for c in executed.cells)


def _png_size(data):
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_the_figures_fit_a_phone(executed):
    """Figures are drawn at most 5.4 in wide at 2x (retina): the PNG is at most 1080 px, shown at half."""
    shown = [(_png_size(o["data"]["image/png"]), o.get("metadata", {}).get("image/png", {}))
             for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(shown) == 3
    for (width, height), meta in shown:
        assert width <= 5.4 * 200 and meta.get("width") == width // 2, (width, meta)


def test_the_parity_claim_is_the_series_float64_bar():
    """The conclusion's "agreed with the reference" states the bar digits_cnn.PARITY_BAR sets, not an older one."""
    import digits_cnn
    text = POST.read_text(encoding="utf-8")
    stated = re.search(r"inside the series' float64 parity bar, a relative error of\s+\$+10\^\{(-\d+)\}\$+", text)
    assert stated and 10.0 ** int(stated.group(1)) == digits_cnn.PARITY_BAR["float64"]
    assert "one part in a million" not in text
