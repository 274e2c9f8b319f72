"""The experiment every CNN post of the series shares: data, weights, shuffling, layouts.

Each framework post trains the *same* network from the *same* starting point on the *same*
batches, so that any difference in its losses or gradients is the framework's, not ours.
Everything here needs only NumPy and scikit-learn, so a reader with just one framework
installed can still run that framework's post.

The network: conv 3x3 (1 -> 8 channels, padding 1) -> ReLU -> max-pool 2x2 -> flatten
-> dense 128 -> 10 -> softmax cross-entropy averaged over the batch. Plain SGD.

The "reference layout" of the weights is PyTorch's: convolution kernels (out, in, kH, kW)
and dense weights (out, in) whose input axis follows the NCHW flatten order (C, H, W).
"""
import hashlib
import json
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 2018
LEARNING_RATE = 0.1
BATCH_SIZE = 16
EPOCHS = 20
TRAIN_SIZE = 1344   # 84 full batches of 16, no ragged last batch; 453 images left for testing

CHANNELS, HEIGHT, WIDTH = 8, 4, 4   # shape of the feature map after pooling: 8 x 4 x 4 = 128
PARAM_NAMES = ("conv_w", "conv_b", "dense_w", "dense_b")

# The series' parity bar, per precision: the largest relative error (the largest absolute
# difference over the largest magnitude in the reference tensor, as max_errors computes it) that a
# framework's loss, gradients or SGD step may show against the NumPy reference. Each bar sits about
# a thousand times (float64) and twenty times (float32) above what the frameworks reach: about
# 1e-15 in float64 and 2e-7 to 5e-7 in float32 (float32's unit round-off is 6e-8). A slip such as a
# float32 learning rate in a float64 step (Keras's default: the rate is off by 1.5e-8, the parameters
# after the step by 2.8e-9) fails the float64 bar; the Keras post shows it.
PARITY_BAR = {"float64": 1e-12, "float32": 1e-5}


def load_digits_split():
    """(x_train, y_train, x_test, y_test) from scikit-learn's bundled 8x8 digits.

    x is float32 NCHW (N, 1, 8, 8) scaled from the 0..16 grey levels to [0, 1]; y is int64.
    The split is stratified and seeded, so every post trains and tests on the same images;
    the training set is a whole number of batches, so every SGD step averages BATCH_SIZE
    examples (a tiny last batch makes a noisy step that can undo an epoch's progress).
    """
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, train_size=TRAIN_SIZE, random_state=SEED, stratify=y)
    return x_train, y_train, x_test, y_test


def initial_weights(dtype=np.float32):
    """The starting weights of every framework, in the reference (PyTorch) layout.

    Drawn once from SEED, uniform in +-1/sqrt(fan_in) like PyTorch's default, but drawn by
    NumPy: the frameworks' own initialisers all differ, so each post loads these instead.
    Generated in float64 and then cast, so the float32 and float64 copies agree.
    """
    rng = np.random.default_rng(SEED)
    conv_bound = 1 / np.sqrt(1 * 3 * 3)
    dense_bound = 1 / np.sqrt(CHANNELS * HEIGHT * WIDTH)
    weights = {
        "conv_w": rng.uniform(-conv_bound, conv_bound, size=(CHANNELS, 1, 3, 3)),
        "conv_b": rng.uniform(-conv_bound, conv_bound, size=(CHANNELS,)),
        "dense_w": rng.uniform(-dense_bound, dense_bound, size=(10, CHANNELS * HEIGHT * WIDTH)),
        "dense_b": rng.uniform(-dense_bound, dense_bound, size=(10,)),
    }
    return {name: w.astype(dtype) for name, w in weights.items()}


def batch_order(n_examples, epoch):
    """The order in which epoch `epoch` visits the training examples: a permutation that
    depends only on SEED and the epoch, so every framework sees identical batches."""
    return np.random.default_rng([SEED, epoch]).permutation(n_examples)


def batches(n_examples, epoch, batch_size=BATCH_SIZE):
    """Index arrays of the batches of one epoch, in order; the last one may be smaller."""
    order = batch_order(n_examples, epoch)
    return [order[i:i + batch_size] for i in range(0, n_examples, batch_size)]


# ---------------------------------------------------------------------- layout conversions

def nchw_to_nhwc(x):
    """Images (N, C, H, W) -> (N, H, W, C), the channels-last layout of TensorFlow/Keras."""
    return np.transpose(x, (0, 2, 3, 1))


def nhwc_to_nchw(x):
    return np.transpose(x, (0, 3, 1, 2))


def oihw_to_hwio(w):
    """Convolution kernel (out, in, kH, kW) -> (kH, kW, in, out), Keras' Conv2D kernel."""
    return np.transpose(w, (2, 3, 1, 0))


def hwio_to_oihw(w):
    return np.transpose(w, (3, 2, 0, 1))


def dense_to_channels_last(dense_w, channels=CHANNELS, height=HEIGHT, width=WIDTH):
    """Reference dense weight (out, in) -> Keras/TF Dense kernel (in, out).

    A plain transpose is not enough: flattening an NCHW feature map lists its values in
    (C, H, W) order, flattening NHWC lists them in (H, W, C) order, so the input axis must
    be permuted as well as moved.
    """
    out = dense_w.shape[0]
    return (dense_w.reshape(out, channels, height, width)
            .transpose(2, 3, 1, 0)
            .reshape(height * width * channels, out))


def dense_from_channels_last(kernel, channels=CHANNELS, height=HEIGHT, width=WIDTH):
    """The inverse of dense_to_channels_last, e.g. to map a Keras gradient back."""
    out = kernel.shape[1]
    return (kernel.reshape(height, width, channels, out)
            .transpose(3, 2, 0, 1)
            .reshape(out, channels * height * width))


# ---------------------------------------------------------------------- comparing results

def max_errors(value, reference):
    """(max absolute error, relative error) of `value` against `reference`.

    The relative error is max|value - reference| / max|reference|: scaled by the tensor's
    largest entry rather than entry by entry, so entries that are nearly zero (float32
    round-off on a gradient of 1e-9) do not blow it up.
    """
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    abs_err = float(np.max(np.abs(value - reference)))
    scale = float(np.max(np.abs(reference)))
    return abs_err, (abs_err / scale if scale > 0 else abs_err)


def accuracy(logits, y):
    return float(np.mean(np.argmax(np.asarray(logits), axis=1) == np.asarray(y)))


# ---------------------------------------------------------------------- parity with the reference

def parity_errors(rows):
    """[(name, value, expected), ...] -> [(name, max abs error, relative error), ...]."""
    return [(name,) + max_errors(value, expected) for name, value, expected in rows]


def parity_markdown(errors, dtype):
    """A Markdown table of parity_errors' rows, and a sentence comparing the worst relative error
    with the series' bar for `dtype` ("float64" or "float32"), taken from PARITY_BAR."""
    bar = PARITY_BAR[dtype]
    lines = ["| {} | max abs error | relative error |".format(dtype), "|:--|--:|--:|"]
    lines += ["| {} | {:.1e} | {:.1e} |".format(name, a, r) for name, a, r in errors]
    worst = max(r for _, _, r in errors)
    verdict = "inside" if worst < bar else "OUTSIDE"
    lines += ["", "Largest relative error {:.1e}: {} the series' {} bar of {:.0e}.".format(
        worst, verdict, dtype, bar)]
    return "\n".join(lines)


# ---------------------------------------------------------------------- one step, saved for the
# side-by-side post: every framework post writes results/<framework>-one-step.json with the loss,
# gradients and parameters after one float64 SGD step (reference layout) and the exact source of
# the cells that computed them; the side-by-side post reads them all.

def one_step_path(framework):
    return os.path.join("results", "{}-one-step.json".format(framework.lower()))


def weights_sha256(weights):
    """The fingerprint of a set of weights that a saved step records (the CNTK post's recipe)."""
    return hashlib.sha256(b"".join(weights[k].tobytes() for k in weights)).hexdigest()


def executed_source(first_line):
    """The source of the one cell run in this IPython kernel that starts with `first_line`."""
    from IPython import get_ipython
    shell = get_ipython()
    if shell is None:
        raise RuntimeError("executed_source reads the cells run in an IPython kernel; "
                           "run it in the notebook")
    found = [s for s in shell.history_manager.input_hist_raw if s.startswith(first_line)]
    if len(found) != 1:
        raise LookupError("{} cells of this kernel start with {!r}; expected exactly one".format(
            len(found), first_line))
    return found[0]


def save_one_step(framework, versions, notebook, batch, weights, loss, grads, after_step,
                  source_cells):
    """Write results/<framework>-one-step.json (the schema of cntk-one-step.json); return its path."""
    import platform

    def as_lists(arrays):
        return {name: np.asarray(arrays[name], dtype=np.float64).tolist() for name in PARAM_NAMES}

    record = {"about": "One SGD step of the series' CNN in {}, float64, from the shared weights on "
                       "the first shared batch; arrays in the reference layout. Written by {}."
                       .format(framework, notebook)}
    record.update(versions)
    record.update({
        "python": platform.python_version(), "numpy": np.__version__,
        "batch": [int(i) for i in batch], "learning_rate": LEARNING_RATE, "batch_size": BATCH_SIZE,
        "initial_weights_sha256": weights_sha256(weights),
        "loss": float(loss), "grads": as_lists(grads), "after_step": as_lists(after_step),
        "source_cells": list(source_cells),
    })
    path = one_step_path(framework)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps(record, indent=1) + "\n")
    os.replace(path + ".tmp", path)
    return path


def load_one_step(framework, batch, weights):
    """The step saved by a framework's post, checked against this batch and these weights:
    (record, loss, grads, after_step), arrays as float64 NumPy arrays."""
    path = one_step_path(framework)
    with open(path) as f:
        record = json.load(f)
    if record["batch"] != [int(i) for i in batch] or record["learning_rate"] != LEARNING_RATE:
        raise ValueError("{}: saved for another batch or learning rate; run that framework's post "
                         "again".format(path))
    if record["initial_weights_sha256"] != weights_sha256(weights):
        raise ValueError("{}: saved from other initial weights; run that framework's post again"
                         .format(path))
    grads = {k: np.array(v) for k, v in record["grads"].items()}
    after = {k: np.array(v) for k, v in record["after_step"].items()}
    return record, record["loss"], grads, after
