"""Claims of the post "Back-propagation in JAX" (notebooks/2018-04-27-cnn-in-jax.ipynb)."""
import sys

import pytest

from parity_tables import SITE, assert_every_table_inside_its_bar, post_text

sys.path.insert(0, str(SITE / "notebooks"))
from digits_cnn import PARITY_BAR  # noqa: E402

NAME = "2018-04-27-cnn-in-jax.ipynb"


def test_float64_parity(notebook_claims):
    c = notebook_claims(NAME)
    # The comparison really ran in float64 (jax_enable_x64 took effect).
    assert c["float64_grad_dtype"] == "float64"
    # Inside the series' float64 bar; the post says "below 1e-13".
    assert c["float64_grad_max_rel_err"] < PARITY_BAR["float64"]
    assert c["float64_step_max_rel_err"] < PARITY_BAR["float64"]
    assert c["float64_grad_max_rel_err"] < 1e-13
    assert c["float64_step_max_rel_err"] < 1e-13
    assert c["parity_bar"] == PARITY_BAR


def test_float32_parity(notebook_claims):
    assert notebook_claims(NAME)["float32_grad_max_rel_err"] < PARITY_BAR["float32"]


def test_parity_tables_state_the_bar_of_their_precision():
    assert_every_table_inside_its_bar(post_text(NAME), float64=2, float32=1)


def test_the_epoch_loss_gap_is_one_relu_that_crossed_zero(notebook_claims):
    """The post explains JAX's epoch-loss gap (80 times PyTorch's) by one step where a ReLU input
    crossed zero: the step is in the epoch of the largest gap, the gap before it is rounding-sized,
    and the crossing changes the convolution's gradients but not the dense layer's."""
    c = notebook_claims(NAME)
    split = c["split"]
    assert split["epoch"] == c["epoch_of_max_loss_gap"]
    assert c["gaps_before_split_max"] < 1e-6 < c["epoch_mean_loss_max_rel_gap"]
    assert split["grad_gap"] > 0.01
    # "One number decides it": one ReLU input, negative in the reference, positive in JAX.
    assert len(split["flipped"]) == 1
    assert split["numpy"][0] < 0 < split["jax"][0]
    # "... the largest value of its pooling window (the other three are zero)"
    assert split["window_others_max"][0] <= 0
    # "The convolution's gradients of this one step differ ...; the dense layer's do not."
    gaps = split["tensor_gaps"]
    assert gaps["conv_w"] > 0.01 and gaps["conv_b"] > 0.01
    assert gaps["dense_w"] < 1e-4 and gaps["dense_b"] < 1e-4
    # "the two sets of weights differ by the small relative amount printed above"
    assert split["weight_gap"] < 1e-4


def test_how_jax_differentiates(notebook_claims):
    c = notebook_claims(NAME)
    # jax.grad is the pullback of jax.vjp applied to 1.
    assert c["vjp_vs_grad_max_abs_diff"] < 1e-7
    # The primitives the post names in the trace of the loss.
    for name in ["conv_general_dilated", "max", "reduce_window_max", "dot_general", "gather"]:
        assert name in c["forward_primitives"]
    # .sum() instead of .mean() makes gradients batch-size times larger.
    assert c["sum_over_mean_ratio"] == pytest.approx(c["batch_size"], rel=1e-4)


def test_training(notebook_claims):
    c = notebook_claims(NAME)
    assert c["trained_dtype"] == "float32"
    assert c["test_accuracy"] >= 0.95
    assert c["reference_test_accuracy"] >= 0.95
    # "during the first epoch the batch losses differ by less than 1e-5"
    assert c["first_epoch_max_loss_gap"] < 1e-5
    # "the mean losses agree to better than 0.1 %"
    assert c["epoch_mean_loss_max_rel_gap"] < 1e-3


def test_pitfalls(notebook_claims):
    c = notebook_claims(NAME)
    # "Without jax_enable_x64, jnp.asarray of a float64 array gives float32, silently."
    assert c["dtype_without_x64"] == "float32"
    assert c["warnings_without_x64"] == 0
    # "SAME" for a 3 x 3 kernel with stride 1 is the explicit ((1, 1), (1, 1)).
    assert c["same_vs_explicit_padding_max_abs"] < 1e-6
    # "Every batch here has the same shape, so it compiles once per dtype" (float64 and float32).
    assert c["train_step_compilations"] == 2
