"""Claims of the post 2018-04-25-cnn-in-tensorflow."""
import sys

import pytest

from parity_tables import SITE, parity_tables, post_text

sys.path.insert(0, str(SITE / "notebooks"))
from digits_cnn import PARITY_BAR  # noqa: E402

NOTEBOOK = "2018-04-25-cnn-in-tensorflow.ipynb"
ROWS = ["loss"] + [f"grad {k}" for k in ("conv_w", "conv_b", "dense_w", "dense_b")] \
    + [f"{k} after step" for k in ("conv_w", "conv_b", "dense_w", "dense_b")]


@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NOTEBOOK)


def test_parity_table_is_complete(claims):
    for dtype in ("float64", "float32"):
        assert sorted(claims["parity"][dtype]) == sorted(ROWS)


def test_float64_parity(claims):
    # Every row inside the series' float64 bar: "within a few units of rounding"
    assert claims["parity_bar"] == PARITY_BAR
    for name, err in claims["parity"]["float64"].items():
        assert err["rel"] < PARITY_BAR["float64"], name


def test_float32_parity(claims):
    for name, err in claims["parity"]["float32"].items():
        assert err["rel"] < PARITY_BAR["float32"], name


def test_parity_tables_state_the_bar_of_their_precision():
    text = post_text(NOTEBOOK)
    for dtype, bar in (("float64", "1e-12"), ("float32", "1e-05")):
        (header, rows), = parity_tables(text, dtype)
        assert header == [dtype, "max abs error", "relative error"]
        assert [r[0] for r in rows] == ROWS
        assert text.count(f"inside the series' {dtype} bar of {bar}.") == 1
    assert "OUTSIDE" not in text and "1e-6" not in text and "1e-4" not in text


def test_tf_function_matches_eager_and_traces_once(claims):
    assert claims["graph_vs_eager_max_abs"] < 1e-6
    assert claims["traces"] == 1
    assert claims["steps"] > 100


def test_training(claims):
    assert claims["test_accuracy"] >= 0.95
    assert claims["last_epoch_loss"] < claims["first_epoch_loss"] / 10


def test_dense_layout_pitfall(claims):
    assert claims["dense_right_max_abs"] < 1e-5        # permuted weight: the reference network
    assert claims["dense_wrong_max_abs"] > 0.1          # plain transpose: something else
    assert claims["dense_wrong_agreement"] < 0.9


def test_sum_versus_mean(claims):
    for name, ratio in claims["sum_over_mean_ratios"].items():
        assert ratio == pytest.approx(claims["batch_size"], rel=1e-5), name


def test_padding(claims):
    assert claims["pad_same_vs_explicit_stride1"] < 1e-6
    assert claims["pad_same_vs_explicit_stride2"] > 1e-2


def test_tape_mechanics(claims):
    # "a tape that is not persistent=True releases them after its first gradient call"
    assert claims["second_gradient_raises"]
    # "a tf.Variable has no .grad attribute to zero"
    assert not claims["variable_has_grad"]
    # "a batch of another size does not trigger a second trace"
    assert claims["traces_after_other_batch_size"] == 1
