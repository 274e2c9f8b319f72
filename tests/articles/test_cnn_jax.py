"""Claims of the post "Back-propagation in JAX" (notebooks/2018-04-27-cnn-in-jax.ipynb)."""
import pytest

NAME = "2018-04-27-cnn-in-jax.ipynb"


def test_float64_parity(notebook_claims):
    c = notebook_claims(NAME)
    # The comparison really ran in float64 (jax_enable_x64 took effect).
    assert c["float64_grad_dtype"] == "float64"
    # The series' bar is 1e-6 relative in float64; the post says "below 1e-13".
    assert c["float64_grad_max_rel_err"] < 1e-13
    assert c["float64_step_max_rel_err"] < 1e-13


def test_float32_parity(notebook_claims):
    assert notebook_claims(NAME)["float32_grad_max_rel_err"] < 1e-4


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
