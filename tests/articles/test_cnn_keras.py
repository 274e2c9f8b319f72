"""Claims of the post 2018-04-26-cnn-in-keras."""
import sys

import pytest

from parity_tables import SITE, parity_tables, post_text

sys.path.insert(0, str(SITE / "notebooks"))
from digits_cnn import PARITY_BAR  # noqa: E402

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
    # With the optimizer made in float64, every row is inside the series' float64 bar.
    assert claims["parity_bar"] == PARITY_BAR
    for name, err in claims["parity"]["float64"].items():
        assert err["rel"] < PARITY_BAR["float64"], name


def test_the_bar_catches_the_float32_learning_rate(claims):
    """With Keras's default optimizer (a float32 rate) the float64 loss and gradients are inside the
    bar and the parameters after the step are not: the slip the bar is there to catch."""
    rows = claims["float64_with_float32_rate"]
    assert sorted(rows) == sorted(ROWS)
    for name, err in rows.items():
        outside = err["rel"] > PARITY_BAR["float64"]
        assert outside == name.endswith("after step"), name


def test_float32_parity(claims):
    for name, err in claims["parity"]["float32"].items():
        assert err["rel"] < PARITY_BAR["float32"], name


def test_parity_tables_state_the_bar_of_their_precision():
    text = post_text(NOTEBOOK)
    first64, fixed64 = parity_tables(text, "float64")
    (_, rows32), = parity_tables(text, "float32")
    for _, rows in (first64, fixed64, (None, rows32)):
        assert [r[0] for r in rows] == ROWS
    assert text.count("OUTSIDE the series' float64 bar of 1e-12.") == 1
    assert text.count("inside the series' float64 bar of 1e-12.") == 1
    assert text.count("inside the series' float32 bar of 1e-05.") == 1
    assert text.index("OUTSIDE the series' float64") < text.index("inside the series' float64")
    assert "1e-6" not in text and "1e-4" not in text


def test_learning_rate_is_single_precision(claims):
    assert claims["lr_variable_dtype"] == "float32"
    assert 1e-9 < claims["lr_relative_gap"] < 1e-7     # "about one part in a hundred million"


def test_training(claims):
    assert claims["fit_test_accuracy"] >= 0.95
    assert claims["tape_test_accuracy"] >= 0.95
    assert claims["fit_last_epoch_loss"] < claims["fit_first_epoch_loss"]
    # "the custom step ends with the same parameters as fit, bit for bit (printed above)"
    assert claims["fit_vs_tape_max_abs"] == 0.0
    text = post_text(NOTEBOOK)
    assert "parameters trained by fit and by the custom step: identical" in text
    assert "to float32 rounding" not in text
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
