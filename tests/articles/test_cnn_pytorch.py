"""Claims of the post "Back-propagation in PyTorch" (notebooks/2018-04-24-cnn-in-pytorch.ipynb)."""
import sys

import pytest

from parity_tables import SITE, assert_every_table_inside_its_bar, post_text

sys.path.insert(0, str(SITE / "notebooks"))
from digits_cnn import PARITY_BAR  # noqa: E402

NAME = "2018-04-24-cnn-in-pytorch.ipynb"


def test_float64_parity(notebook_claims):
    c = notebook_claims(NAME)
    # Inside the series' float64 bar; the post says "below 1e-13".
    assert c["float64_grad_max_rel_err"] < PARITY_BAR["float64"]
    assert c["float64_step_max_rel_err"] < PARITY_BAR["float64"]
    assert c["float64_grad_max_rel_err"] < 1e-13
    assert c["float64_step_max_rel_err"] < 1e-13


def test_float32_parity(notebook_claims):
    assert notebook_claims(NAME)["float32_grad_max_rel_err"] < PARITY_BAR["float32"]


def test_parity_tables_state_the_bar_of_their_precision():
    assert_every_table_inside_its_bar(post_text(NAME), float64=2, float32=1)


def test_backward_mechanics(notebook_claims):
    c = notebook_claims(NAME)
    # A second backward() without zero_grad doubles .grad (same batch, same weights).
    assert c["accumulated_ratio"] == pytest.approx(2.0, rel=1e-5)
    # reduction="sum" makes gradients batch-size times larger.
    assert c["sum_over_mean_ratio"] == pytest.approx(c["batch_size"], rel=1e-4)
    # The nodes the post names when it reads the recorded graph.
    for node in ["NllLossBackward0", "LogSoftmaxBackward0", "AddmmBackward0", "TBackward0",
                 "ViewBackward0", "MaxPool2DWithIndicesBackward0", "ReluBackward0",
                 "ConvolutionBackward0", "AccumulateGrad"]:
        assert node in c["graph_nodes"]


def test_training(notebook_claims):
    c = notebook_claims(NAME)
    assert c["test_accuracy"] >= 0.95
    assert c["reference_test_accuracy"] >= 0.95
    # "During the first epoch the batch losses differ by less than 1e-5"
    assert c["first_epoch_max_loss_gap"] < 1e-5
    # "the mean losses agree to better than 0.1 %"
    assert c["epoch_mean_loss_max_rel_gap"] < 1e-3
    # The JAX post: "PyTorch's run, whose gap stays small in every epoch, met no such crossing"
    assert c["epoch_mean_loss_max_rel_gap"] < 1e-6


def test_grad_lifecycle(notebook_claims):
    c = notebook_claims(NAME)
    # "Before backward() the parameters have no gradient at all."
    assert c["grad_before_backward_is_none"]
    # "Since PyTorch 2.0 that [zero_grad] sets .grad back to None rather than filling it with zeros"
    assert c["grad_after_zero_grad_is_none"]


def test_pitfalls(notebook_claims):
    c = notebook_claims(NAME)
    # Default initialisation: uniform weights and biases, bounded by 1/sqrt(fan_in).
    assert c["default_init_within_fan_in_bounds"]
    assert c["default_biases_nonzero"]
    # padding="same" (stride 1) is the same convolution as padding=1.
    assert c["same_vs_padding_1_max_abs"] < 1e-6
    # A float64 input into a float32 model is an error, not a silent conversion.
    assert c["float64_input_raises"]
    # A softmax before F.cross_entropy: no error, but a different loss and different gradients.
    assert c["double_softmax_loss_gap"] > 1e-2
    assert c["double_softmax_grad_rel_diff"] > 0.1
