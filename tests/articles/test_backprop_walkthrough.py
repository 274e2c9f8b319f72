"""The claims of the post "Back-Propagation in Deep Learning Frameworks" (the NumPy walkthrough).

Each test asserts a threshold the prose states; the numbers come from the notebook's
``CLAIMS {json}`` line, computed during its execution.
"""
import math

import pytest

NOTEBOOK = "2018-04-22-back-propagation-in-deep-learning-frameworks.ipynb"
EXACT = ("exact squared error", "cross-entropy")


@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NOTEBOOK)


def test_original_split(claims):
    assert claims["train_items"] == 120
    assert claims["test_items"] == 30


def test_initial_errors_are_two_thirds_and_ln3(claims):
    assert claims["initial_squared_error"] == pytest.approx(2 / 3, abs=1e-3)
    assert claims["initial_cross_entropy"] == pytest.approx(math.log(3), abs=1e-3)


def test_loops_equal_vectorised(claims):
    assert claims["loop_vs_vectorised_item"] < 1e-6
    assert claims["loop_vs_vectorised_batch"] < 1e-4


def test_original_training_reaches_original_accuracy(claims):
    run = claims["original_run"]
    assert run["trainAccuracy"] > 0.9
    assert run["testAccuracy"] > 0.9
    assert run["squaredError"] < 0.25 * claims["initial_squared_error"]


def test_network_has_43_parameters(claims):
    # "all 43 parameters", "a network with only 43 parameters": 4*5 + 5 + 5*3 + 3
    assert claims["num_parameters"] == 43


def test_softmax_jacobian_and_closed_form_signals(claims):
    assert claims["jacobian_error"] < 1e-8
    # "Its diagonal entries are o_k (1 - o_k), exactly the original's 'derivative'"
    assert claims["jacobian_diagonal_is_loop_derivative"] is True
    assert claims["signal_vs_jacobian"] < 1e-12


def test_true_output_signals_sum_to_zero_and_diagonal_does_not(claims):
    sums = claims["signal_sums"]
    for name in EXACT:
        assert sums[name] < 1e-12
    assert sums["diagonal only"] > 1e-3


def test_diagonal_gradient_is_rescaled_exact_gradient(claims):
    # at initialisation: same direction, two thirds of the length
    assert claims["cosine_initial_min"] > 0.9999
    low, high = claims["norm_ratio_initial"]
    assert abs(low - 2 / 3) < 5e-3 and abs(high - 2 / 3) < 5e-3
    # after training: cosine above 0.98 for every item, ratio between about a half and two thirds
    assert claims["cosine_trained_min"] > 0.98
    low, high = claims["norm_ratio_trained"]
    assert 0.45 < low and high < 2 / 3
    assert claims["norm_ratio_trained_median"] == pytest.approx(0.5, abs=0.02)


def test_sign_flip_case(claims):
    diagonal = claims["sign_flip"]["diagonal only"]
    exact = claims["sign_flip"]["exact squared error"]
    ce = claims["sign_flip"]["cross-entropy"]
    assert diagonal[0] > 0 > exact[0]
    assert abs(ce[1]) > 10 * abs(exact[1])


def test_gradient_check(claims):
    assert claims["gradcheck_exact_max"] < 1e-7
    assert claims["gradcheck_diagonal_min"] > 1e-2
    for state in ("initial", "trained"):
        for name in EXACT:
            assert max(claims["gradcheck"][f"{state}/{name}"]) < 1e-7
    # the diagonal-only errors are (1 - r) / (1 + r) for length ratios r = 2/3 and 1/2
    for err in claims["gradcheck"]["initial/diagonal only"]:
        assert err == pytest.approx(1 / 5, abs=0.01)
    for err in claims["gradcheck"]["trained/diagonal only"]:
        assert err == pytest.approx(1 / 3, abs=0.02)


def test_step_size_sweep(claims):
    f64 = {float(h): e for h, e in claims["h_sweep"]["float64"].items()}
    f32 = claims["h_sweep"]["float32"].values()
    near = lambda h: f64[min(f64, key=lambda k: abs(math.log10(k) - math.log10(h)))]
    assert near(1e-5) < 1e-8
    assert 50 < near(1e-2) / near(1e-3) < 200  # the h^2 law
    assert min(f32) > 1e-5


def test_three_gradients_train(claims):
    final = claims["final"]
    for name in ("diagonal only", *EXACT):
        assert final[name]["testAccuracy"] > 0.95
        assert claims["own_error_increases"][name] == 0
    first = claims["first_step_test_90"]
    assert None not in first.values()
    assert first["cross-entropy"] < first["exact squared error"] < first["diagonal only"]


def test_vectorised_is_more_than_ten_times_faster(claims):
    assert claims["speed_up"] > 10
    # "the gap grows with the size of the layers": ten times as many hidden nodes
    assert claims["wide_speed_up"] > 2 * claims["speed_up"]
