"""Claims of the post 2018-04-26-cnn-in-keras."""
import pytest

NOTEBOOK = "2018-04-26-cnn-in-keras.ipynb"
ROWS = ["loss"] + [f"grad {k}" for k in ("conv_w", "conv_b", "dense_w", "dense_b")] \
    + [f"{k} after step" for k in ("conv_w", "conv_b", "dense_w", "dense_b")]


@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NOTEBOOK)


def test_backend(claims):
    assert claims["backend"] == "tensorflow"


def test_parity_table_is_complete(claims):
    for dtype in ("float64", "float32"):
        assert sorted(claims["parity"][dtype]) == sorted(ROWS)


def test_float64_parity(claims):
    rows = claims["parity"]["float64"]
    for name, err in rows.items():
        assert err["rel"] < 1e-6, name
    # "the rows after the step are less close than the gradient rows"
    worst_grad = max(e["rel"] for n, e in rows.items() if n.startswith("grad") or n == "loss")
    best_step = min(e["rel"] for n, e in rows.items() if n.endswith("after step"))
    assert worst_grad < 1e-12
    assert best_step > worst_grad


def test_float32_parity(claims):
    for name, err in claims["parity"]["float32"].items():
        assert err["rel"] < 1e-4, name


def test_learning_rate_is_single_precision(claims):
    assert claims["lr_variable_dtype"] == "float32"
    assert 1e-9 < claims["lr_relative_gap"] < 1e-7     # "about one part in a hundred million"


def test_training(claims):
    assert claims["fit_test_accuracy"] >= 0.95
    assert claims["tape_test_accuracy"] >= 0.95
    assert claims["fit_last_epoch_loss"] < claims["fit_first_epoch_loss"]
    # "the custom step ends with the same parameters as fit to float32 rounding"
    assert claims["fit_vs_tape_max_abs"] < 1e-5
    # "The loss in fit's history is the running mean of the batch losses over the epoch."
    assert claims["history_vs_batch_mean_max_rel"] < 1e-5


def test_default_initialisers(claims):
    assert claims["default_bias_max_abs"] == 0.0
    assert claims["default_kernel_max_abs"] <= claims["glorot_limit"]
    assert claims["shared_bias_max_abs"] > 0


def test_from_logits_pitfall(claims):
    assert claims["loss_from_logits_vs_reference"] < 1e-5
    assert claims["loss_default_vs_reference"] > 0.1
    # "... a different number and a different gradient"
    assert claims["grad_default_vs_from_logits_rel"] > 0.1


def test_sum_reduction(claims):
    # "reduction="sum" would multiply every gradient by the batch size"
    assert claims["sum_over_mean_ratio"] == pytest.approx(claims["batch_size"], rel=1e-5)


def test_loss_dtype_pitfall(claims):
    assert claims["loss64_default_dtype_err"] > 1e-12
    assert claims["loss64_float64_dtype_err"] < 1e-12
