"""Unit tests of the modules the CNN posts share (notebooks/digits_cnn.py, notebooks/numpy_cnn.py).

Every framework post trusts these: the layout conversions must be exact permutations, the
data split and the weights must be the same on every run, and the NumPy reference must
compute the true gradient.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "notebooks"))

import digits_cnn as D  # noqa: E402
import numpy_cnn as N  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return D.load_digits_split()


def test_split_shapes_dtypes_and_range(split):
    x_train, y_train, x_test, y_test = split
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.shape == (D.TRAIN_SIZE, 1, 8, 8)
    assert x_train.shape[0] + x_test.shape[0] == 1797
    assert x_train.shape[0] % D.BATCH_SIZE == 0
    assert 0 <= x_train.min() and x_train.max() <= 1 and x_train.max() == 1
    # the NumPy post: "1797 greyscale images of 8 x 8 pixels with 17 grey levels"
    assert len(np.unique(np.concatenate([x_train, x_test]))) == 17
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_split_is_fixed_and_disjoint(split):
    x_train, y_train, x_test, y_test = split
    again = D.load_digits_split()
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)
    # The 1797 images of the data set are all distinct, so comparing pixels compares examples.
    train = {im.tobytes() for im in x_train}
    test = {im.tobytes() for im in x_test}
    assert len(train) == len(x_train) and len(test) == len(x_test)
    assert not train & test


def test_split_uses_every_image_once(split):
    x_train, _, x_test, _ = split
    from sklearn.datasets import load_digits
    images = np.sort((load_digits().images / 16.0).astype(np.float32).reshape(1797, -1), axis=0)
    ours = np.sort(np.concatenate([x_train, x_test]).reshape(1797, -1), axis=0)
    np.testing.assert_array_equal(images, ours)


def test_initial_weights_are_deterministic_and_shaped():
    a, b = D.initial_weights(), D.initial_weights()
    shapes = {"conv_w": (8, 1, 3, 3), "conv_b": (8,), "dense_w": (10, 128), "dense_b": (10,)}
    assert set(a) == set(D.PARAM_NAMES) == set(shapes)
    for name, shape in shapes.items():
        assert a[name].shape == shape and a[name].dtype == np.float32
        np.testing.assert_array_equal(a[name], b[name])
        assert np.abs(a[name]).max() > 0
    w64 = D.initial_weights(np.float64)
    for name in shapes:
        assert w64[name].dtype == np.float64
        np.testing.assert_array_equal(w64[name].astype(np.float32), a[name])


def test_batch_order_is_a_fixed_permutation_per_epoch():
    n = D.TRAIN_SIZE
    o0 = D.batch_order(n, 0)
    np.testing.assert_array_equal(np.sort(o0), np.arange(n))
    np.testing.assert_array_equal(o0, D.batch_order(n, 0))
    assert not np.array_equal(o0, D.batch_order(n, 1))
    b = D.batches(n, 3)
    assert len(b) == n // D.BATCH_SIZE and all(len(i) == D.BATCH_SIZE for i in b)
    np.testing.assert_array_equal(np.concatenate(b), D.batch_order(n, 3))


def test_layout_conversions_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 7))
    assert D.nchw_to_nhwc(x).shape == (2, 5, 7, 3)
    np.testing.assert_array_equal(D.nhwc_to_nchw(D.nchw_to_nhwc(x)), x)
    assert D.nchw_to_nhwc(x)[1, 4, 6, 2] == x[1, 2, 4, 6]
    w = rng.normal(size=(8, 3, 3, 2))          # O, I, kH, kW
    hwio = D.oihw_to_hwio(w)
    assert hwio.shape == (3, 2, 3, 8) and hwio[2, 1, 0, 7] == w[7, 0, 2, 1]
    np.testing.assert_array_equal(D.hwio_to_oihw(hwio), w)
    dense = rng.normal(size=(10, 128))
    kernel = D.dense_to_channels_last(dense)
    assert kernel.shape == (128, 10)
    np.testing.assert_array_equal(D.dense_from_channels_last(kernel), dense)


def test_channels_last_dense_computes_the_same_layer():
    """x_NHWC.flatten() @ kernel == x_NCHW.flatten() @ W^T, checked by direct summation."""
    rng = np.random.default_rng(1)
    c, h, w = D.CHANNELS, D.HEIGHT, D.WIDTH
    feature_map = rng.normal(size=(3, c, h, w))
    dense = rng.normal(size=(10, c * h * w))
    # Direct computation: out[n, o] = sum over (c, h, w) of W[o, (c, h, w)] * x[n, c, h, w].
    direct = np.zeros((3, 10))
    for n in range(3):
        for o in range(10):
            for ci in range(c):
                for hi in range(h):
                    for wi in range(w):
                        direct[n, o] += dense[o, (ci * h + hi) * w + wi] * feature_map[n, ci, hi, wi]
    nchw = feature_map.reshape(3, -1) @ dense.T
    nhwc = D.nchw_to_nhwc(feature_map).reshape(3, -1) @ D.dense_to_channels_last(dense)
    np.testing.assert_allclose(nchw, direct, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nhwc, direct, rtol=1e-12, atol=1e-12)
    # Forgetting the permutation (a plain transpose) gives a different layer.
    wrong = D.nchw_to_nhwc(feature_map).reshape(3, -1) @ dense.T
    assert np.max(np.abs(wrong - direct)) > 1e-1


def test_max_errors():
    ref = np.array([1.0, -2.0, 1e-9])
    assert D.max_errors(ref, ref) == (0.0, 0.0)
    abs_err, rel_err = D.max_errors(ref + np.array([0, 0, 1e-6]), ref)
    assert abs_err == pytest.approx(1e-6) and rel_err == pytest.approx(5e-7)


def test_reference_gradients_match_central_differences(split):
    x_train, y_train, _, _ = split
    params = D.initial_weights(np.float64)
    x, y = x_train[:4].astype(np.float64), y_train[:4]
    _, grads = N.reference_loss_and_grads(params, x, y)
    rng = np.random.default_rng(0)
    h = 1e-5
    for name in D.PARAM_NAMES:
        for flat in rng.choice(params[name].size, size=min(6, params[name].size), replace=False):
            i = np.unravel_index(flat, params[name].shape)
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][i] += h
            minus[name][i] -= h
            numeric = (N.reference_loss_and_grads(plus, x, y)[0]
                       - N.reference_loss_and_grads(minus, x, y)[0]) / (2 * h)
            assert abs(numeric - grads[name][i]) <= 1e-6 * max(1.0, abs(numeric)), (name, i)


def test_conv_matches_direct_loops():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 5, 4))
    w = rng.normal(size=(3, 2, 3, 3))
    b = rng.normal(size=3)
    out, _ = N.conv_forward(x, w, b)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = np.zeros((2, 3, 5, 4))
    for n in range(2):
        for o in range(3):
            for i in range(5):
                for j in range(4):
                    direct[n, o, i, j] = np.sum(xp[n, :, i:i + 3, j:j + 3] * w[o]) + b[o]
    np.testing.assert_allclose(out, direct, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the CNTK post's Python 3.6 kernel

def test_shared_modules_are_python_3_6_code():
    """The CNTK post imports both modules on Python 3.6 (no walrus, no dataclasses, no postponed annotations)."""
    import ast
    for name in ("digits_cnn.py", "numpy_cnn.py"):
        source = (Path(N.__file__).parent / name).read_text()
        tree = ast.parse(source, feature_version=(3, 6))
        assert not any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree)), name
        assert "from __future__ import annotations" not in source and "dataclass" not in source, name


def test_sliding_window_fallback_matches_numpy(monkeypatch, split):
    """Without numpy.lib.stride_tricks.sliding_window_view (NumPy < 1.20) numpy_cnn uses its own, with
    identical windows, so the reference computes bit-identical results on both NumPys."""
    import importlib.util
    import numpy.lib.stride_tricks as stride_tricks
    real = stride_tricks.sliding_window_view
    monkeypatch.delattr(stride_tricks, "sliding_window_view")
    spec = importlib.util.spec_from_file_location("numpy_cnn_old_numpy", N.__file__)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    assert old.sliding_window_view is not real
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 10, 10), (1, 4, 5, 7)]:
        x = rng.normal(size=shape)
        for k in (1, 2, 3):
            windows = old.sliding_window_view(x, (k, k), axis=(2, 3))
            assert windows.shape == real(x, (k, k), axis=(2, 3)).shape and not windows.flags.writeable
            np.testing.assert_array_equal(windows, real(x, (k, k), axis=(2, 3)))
    x_train, y_train, _, _ = split
    params = D.initial_weights(np.float64)
    x, y = x_train[:16].astype(np.float64), y_train[:16]
    loss_new, grads_new = N.reference_loss_and_grads(params, x, y)
    loss_old, grads_old = old.reference_loss_and_grads(params, x, y)
    assert loss_new == loss_old
    for name in D.PARAM_NAMES:
        np.testing.assert_array_equal(grads_old[name], grads_new[name])


# ---------------------------------------------------------------- the parity bar and the saved steps

def test_parity_bar_per_precision():
    assert D.PARITY_BAR == {"float64": 1e-12, "float32": 1e-5}


def test_parity_markdown_is_a_table_that_states_the_bar():
    errors = D.parity_errors([("loss", 2.0, 2.0), ("grad w", [1.0, 2.0 + 4e-12], [1.0, 2.0])])
    assert errors[0] == ("loss", 0.0, 0.0)
    assert errors[1][2] == pytest.approx(2e-12, rel=1e-3)
    text = D.parity_markdown(errors, "float64")
    assert text.splitlines()[:4] == ["| float64 | max abs error | relative error |",
                                     "|:--|--:|--:|", "| loss | 0.0e+00 | 0.0e+00 |",
                                     "| grad w | 4.0e-12 | 2.0e-12 |"]
    assert text.endswith("Largest relative error 2.0e-12: OUTSIDE the series' float64 bar of 1e-12.")
    assert D.parity_markdown(errors, "float32").endswith(
        "Largest relative error 2.0e-12: inside the series' float32 bar of 1e-05.")


def _a_step():
    weights = D.initial_weights(np.float64)
    x_train, y_train, _, _ = D.load_digits_split()
    batch = D.batches(len(x_train), 0)[0]
    loss, grads = N.reference_loss_and_grads(weights, x_train[batch].astype(np.float64),
                                             y_train[batch])
    return weights, batch, loss, grads, N.sgd_step(weights, grads, D.LEARNING_RATE)


def test_saved_step_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    weights, batch, loss, grads, after = _a_step()
    path = D.save_one_step("NumPy", {"mylib": "1.0"}, "x.ipynb", batch, weights, loss,
                           grads, after, ["print(1)"])
    assert path == "results/numpy-one-step.json" and (tmp_path / path).is_file()
    record, loss2, grads2, after2 = D.load_one_step("NumPy", batch, weights)
    assert loss2 == loss and record["source_cells"] == ["print(1)"]
    for k in D.PARAM_NAMES:
        np.testing.assert_array_equal(grads2[k], grads[k])
        np.testing.assert_array_equal(after2[k], after[k])
    # the schema of the CNTK post's file: the same keys in the same order, its version "cntk" ours
    import json
    cntk = json.loads((Path(N.__file__).parent / "results/cntk-one-step.json").read_text())
    # (the CNTK post's file adds its float32 step and the errors its post measured, after those keys)
    assert list(record) == ["about", "mylib"] + list(cntk)[2:len(record)]
    assert list(cntk)[len(record):] == ["float32", "relative_errors", "parity_bar"]
    assert not list(tmp_path.glob("results/*.tmp"))


def test_saved_step_of_another_batch_or_weights_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    weights, batch, loss, grads, after = _a_step()
    D.save_one_step("NumPy", {}, "x.ipynb", batch, weights, loss, grads, after, [])
    with pytest.raises(ValueError, match=r"^results/numpy-one-step.json: saved for another batch "
                                         r"or learning rate; run that framework's post again$"):
        D.load_one_step("NumPy", batch[::-1], weights)
    other = {k: w * 2 for k, w in weights.items()}
    with pytest.raises(ValueError, match=r"^results/numpy-one-step.json: saved from other initial "
                                         r"weights; run that framework's post again$"):
        D.load_one_step("NumPy", batch, other)


def test_executed_source_needs_a_kernel():
    with pytest.raises(RuntimeError, match="run it in the notebook"):
        D.executed_source("def ")


def test_the_cntk_kernel_imports_the_shared_module():
    """The CNTK post's Python 3.6 / NumPy 1.19 kernel imports digits_cnn and uses its new helpers."""
    import subprocess
    python = Path(N.__file__).parents[1] / ".kernels/envs/cntk-py36/venv/bin/python"
    if not python.exists():
        pytest.skip("the cntk-py36 kernel is not set up (python build.py --setup-kernels)")
    code = ("import digits_cnn as D, numpy as np; "
            "print(D.parity_markdown(D.parity_errors([('loss', 1.0, 1.0)]), 'float32')"
            ".splitlines()[-1]); print(len(D.weights_sha256(D.initial_weights(np.float64))))")
    out = subprocess.run([str(python), "-c", code], cwd=Path(N.__file__).parent,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["Largest relative error 0.0e+00: inside the series' float32 bar of 1e-05.", "64"]
