"""The claims of the post "Back-Propagation in Deep Learning Frameworks" (the NumPy walkthrough).

Each test asserts a threshold the prose states; the numbers come from the notebook's
``CLAIMS {json}`` line, computed during its execution.
"""
import ast
import base64
import io
import json
import math
import re
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2]
NOTEBOOKS = SITE / "notebooks"

NOTEBOOK = "2018-04-22-back-propagation-in-deep-learning-frameworks.ipynb"
EXACT = ("exact squared error", "cross-entropy")
# The series' figure convention: at most 5.4 in wide, text of 10 pt or more, drawn at twice the
# inline backend's 100 dpi; then a phone (a 360 px column) shows 10-pt text at 9 px or more.
FIGURE_MAX_WIDTH_IN = 5.4
FIGURE_MIN_FONT_PT = 10
CNTK_WHEELS = Path(__file__).resolve().parent / "fixtures" / "cntk-wheels.json"
FLOAT32_UNIT = 2.0 ** -24     # float32's unit round-off


@pytest.fixture(scope="module")
def claims(notebook_claims):
    return notebook_claims(NOTEBOOK)


def raw_notebook():
    return json.loads((NOTEBOOKS / NOTEBOOK).read_text(encoding="utf-8"))


def markdown(nb):
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


@pytest.fixture(scope="module", name="markdown")
def markdown_cells():
    return markdown(raw_notebook())


def test_original_split(claims):
    assert claims["train_items"] == 120
    assert claims["test_items"] == 30


def test_initial_errors_are_one_third_and_ln3(claims):
    # E = 1/2 sum (o - t)^2 throughout: 1/2 ((2/3)^2 + 2 (1/3)^2) = 1/3 with every output at 1/3
    assert claims["initial_squared_error"] == pytest.approx(1 / 3, abs=1e-3)
    assert claims["initial_cross_entropy"] == pytest.approx(math.log(3), abs=1e-3)


def parity_bar():
    import sys
    sys.path.insert(0, str(NOTEBOOKS))
    from digits_cnn import PARITY_BAR
    return PARITY_BAR


def generated_markdown(executed) -> str:
    """The Markdown the notebook's cells displayed (its generated prose and tables)."""
    return "\n".join(o["data"]["text/markdown"] for c in executed.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if "text/markdown" in o.get("data", {}))


def tex(value: float) -> str:
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"10^{{{int(exponent)}}}" if mantissa == "1.0" else rf"{mantissa} \times 10^{{{int(exponent)}}}"


def test_loops_equal_vectorised(claims, executed_notebook):
    bar = parity_bar()["float32"]
    # "Item by item the two agree to ..., inside the float32 bar"
    assert claims["loop_vs_vectorised_item"] < bar
    # "Summed over the 120 items the relative error is ...": above the bar, and explained: against
    # the largest term the difference is within 120 rounding units, and the items cancel
    batch = claims["loop_vs_vectorised_batch"]
    assert batch > bar
    assert claims["loop_vs_vectorised_against_terms"] < claims["train_items"] * FLOAT32_UNIT
    assert claims["loop_vs_vectorised_cancelled"] < 0.2
    prose = " ".join(generated_markdown(executed_notebook(NOTEBOOK)).split())
    assert f"agree to ${tex(claims['loop_vs_vectorised_item'])}$, inside the `float32` bar" in prose
    assert f"the relative error is ${tex(batch)}$" in prose
    assert f"{claims['loop_vs_vectorised_cancelled']:.2f} of the largest term's" in prose


def test_the_parity_bar_is_stated_per_precision_from_digits_cnn(claims, executed_notebook, markdown):
    """The bar the series holds the frameworks to is digits_cnn.PARITY_BAR, stated in the post from
    the constant (no Markdown cell types it), with what correct code reaches below it by a margin
    and a real slip (a float32 learning rate in a float64 step) above it."""
    bar = parity_bar()
    assert claims["parity_bar"] == bar == {"float64": 1e-12, "float32": 1e-5}
    reached = claims["parity"]
    assert reached["float64, examples reordered"] < bar["float64"] / 100
    assert reached["float32 against float64"] < bar["float32"] / 10
    slip = reached["float32 learning rate, one step"]
    assert bar["float64"] < slip < 1e-6       # caught by the bar; a 1e-6 bar would miss it
    prose = " ".join(generated_markdown(executed_notebook(NOTEBOOK)).split())
    assert (f"is a relative error below ${tex(bar['float64'])}$ in `float64` and below "
            f"${tex(bar['float32'])}$ in `float32`") in prose
    for value in reached.values():
        assert f"${tex(value)}$" in prose
    typed = "\n".join(markdown)
    assert "PARITY_BAR" not in typed and "the relative error must be below" not in typed
    assert "series' $10^{-6}$ bar" not in typed and "the `float32` bar." not in typed


def test_series_relative_error_is_digits_cnn_max_errors():
    # the post defines the series' measure by importing it; the later posts use the same function
    import sys

    import numpy as np
    sys.path.insert(0, str(NOTEBOOKS))
    from digits_cnn import max_errors
    abs_err, rel_err = max_errors(np.array([1.0, -4.0, 2.5]), np.array([1.0, -4.0, 2.0]))
    assert abs_err == pytest.approx(0.5) and rel_err == pytest.approx(0.5 / 4.0)


def test_original_training_reaches_original_accuracy(claims):
    run = claims["original_run"]
    assert run["trainAccuracy"] > 0.9
    assert run["testAccuracy"] > 0.9
    # "at least as high as the original reported for its own run [3]: 112 of the 120 training items
    # (0.9333) and 29 of the 30 test items (0.9667)": the prose's counts, the code's constant and the split
    prose = " ".join(" ".join(cell.split()) for cell in markdown(raw_notebook()))
    stated = {}
    for which, items in (("train", claims["train_items"]), ("test", claims["test_items"])):
        name = "training" if which == "train" else "test"
        found = re.search(rf"(\d+) of the (\d+) {name} items \((0\.\d{{4}})\)", prose)
        assert found, which
        right, total, shown = int(found[1]), int(found[2]), found[3]
        assert total == items and f"{right / total:.4f}" == shown
        stated[which] = right / total
    assert claims["reported_accuracy"] == pytest.approx(stated)
    assert run["trainAccuracy"] >= claims["reported_accuracy"]["train"]
    assert run["testAccuracy"] >= claims["reported_accuracy"]["test"]
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


def test_diagonal_signal_is_not_a_gradient(claims):
    # a gradient field has a symmetric Jacobian (a Hessian) and no circulation
    asym, circ = claims["signal_asymmetry"], claims["signal_circulation"]
    points = ("confidently wrong", "trained, training item 45")
    for point in points:
        for name in EXACT:
            assert asym[f"{name}/{point}"] < 1e-8
            assert abs(circ[f"{name}/{point}"]) < 1e-12
        assert asym[f"diagonal only/{point}"] > 1e-2
        assert abs(circ[f"diagonal only/{point}"]) > 1e-3
    # "entries mirrored across the diagonal even differ in sign"
    assert claims["diagonal_jacobian_mirrored_sign_change"] is True


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
    # the diagonal-only errors are 1 - r for length ratios r = 2/3 and 1/2
    for err in claims["gradcheck"]["initial/diagonal only"]:
        assert err == pytest.approx(1 / 3, abs=0.01)
    for err in claims["gradcheck"]["trained/diagonal only"]:
        assert err == pytest.approx(1 / 2, abs=0.03)


def test_step_size_sweep(claims):
    f64 = {float(h): e for h, e in claims["h_sweep"]["float64"].items()}
    f32 = claims["h_sweep"]["float32"].values()
    near = lambda h: f64[min(f64, key=lambda k: abs(math.log10(k) - math.log10(h)))]
    assert near(1e-5) < 1e-8
    assert 50 < near(1e-2) / near(1e-3) < 200  # the h^2 law
    assert min(f32) > 1e-5


def test_matrix_form_for_a_mini_batch(claims):
    assert claims["matrix_form_shapes_match"] is True
    assert set(claims["matrix_form_errors"]) == {"X", "W1", "b1", "W2", "b2"}
    for name, err in claims["matrix_form_errors"].items():
        assert err < 1e-7, name


def test_convolution_backward(claims):
    c = claims["convolution_checks"]
    # "The identities hold to rounding, below 1e-12"
    for name in ("forward against correlate2d", "input gradient against the full convolution",
                 "input gradient against correlation with the rotated kernel",
                 "kernel gradient against correlation of input and gradient",
                 "<im2col(x), C> against <x, col2im(C)>"):
        assert c[name] < 1e-12, name
    assert c["input gradient against central differences"] < 1e-7
    # deep learning's convolution is not scipy's convolve2d
    assert c["forward against convolve2d"] > 0.1


def test_three_gradients_train(claims):
    final = claims["final"]
    for name in ("diagonal only", *EXACT):
        assert final[name]["testAccuracy"] > 0.95
        assert claims["own_error_increases"][name] == 0
    first = claims["first_step_test_90"]
    assert None not in first.values()
    assert first["cross-entropy"] < first["exact squared error"] < first["diagonal only"]


@pytest.fixture(scope="module")
def executed_text(claims, executed_notebook):
    """Everything the executed notebook printed."""
    nb = executed_notebook(NOTEBOOK)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")


class Counted:
    """A number that counts the multiplications it takes part in (other arithmetic is not counted)."""
    products = 0

    def __init__(self, value):
        self.value = float(value.value if isinstance(value, Counted) else value)

    def _other(self, other):
        return other.value if isinstance(other, Counted) else float(other)

    def __mul__(self, other):
        Counted.products += 1
        return Counted(self.value * self._other(other))

    __rmul__ = __mul__

    def __add__(self, other):
        return Counted(self.value + self._other(other))

    __radd__ = __add__

    def __sub__(self, other):
        return Counted(self.value - self._other(other))

    def __rsub__(self, other):
        return Counted(self._other(other) - self.value)


class CountingNumPy:
    """What the loop functions use of NumPy, making arrays of Counted numbers."""
    float32 = object

    @staticmethod
    def zeros(shape, dtype=None):
        import numpy as np
        array = np.empty(shape, dtype=object)
        for index in np.ndindex(array.shape):
            array[index] = Counted(0)
        return array


class CountingNetwork:
    """A network of the given size whose node values are Counted; computeOutputs only loads the input."""

    def __init__(self, ni, nh, no):
        import numpy as np
        self.ni, self.nh, self.no = ni, nh, no
        self.hNodes = np.array([Counted(0.1 * (j + 1)) for j in range(nh)], dtype=object)
        self.oNodes = np.array([Counted(1 / no) for _ in range(no)], dtype=object)
        self.hoWeights = np.array([[Counted(0.01) for _ in range(no)] for _ in range(nh)], dtype=object)

    def computeOutputs(self, x_values):
        import numpy as np
        self.iNodes = np.array([Counted(v) for v in x_values], dtype=object)


def loop_functions():
    """The notebook's loop version (steps 1 to 6), its functions as the notebook defines them."""
    namespace = {"np": CountingNumPy}
    wanted = {"outputSignals", "hoGradients", "obGradients", "hiddenSignals", "ihGradients", "hbGradients",
              "loopGradients"}
    for cell in raw_notebook()["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:                    # IPython magics: none of the loop functions
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in wanted:
                exec(compile(ast.Module([node], []), NOTEBOOK, "exec"), namespace)
    assert wanted <= set(namespace), wanted - set(namespace)
    return namespace["loopGradients"]


def products_per_item(ni, nh, no):
    loop_gradients = loop_functions()
    Counted.products = 0
    loop_gradients(CountingNetwork(ni, nh, no), [1.0] * ni, [1.0] + [0.0] * (no - 1))
    return Counted.products


def test_the_loops_do_one_interpreted_multiplication_per_weight_and_a_few_per_node(claims, executed_text):
    """What the speed-up stands for, counted rather than timed (the timing is bench/walkthrough_speedup.py):
    the loop version's interpreted multiplications per item, which the vectorised version replaces by
    six NumPy expressions for the whole training set whatever the layer sizes."""
    counted = products_per_item(4, 5, 3)
    weights, nodes = 4 * 5 + 5 * 3, 5 + 3
    assert weights <= counted <= 2 * weights + 4 * nodes     # one or two per weight, plus a few per node
    said = re.search(r"loop version: (\d+) scalar multiplications per item, (\d+) interpreted ones for the "
                     r"(\d+) training items", executed_text)
    assert said and int(said[1]) == counted and int(said[2]) == counted * int(said[3]) == counted * 120
    assert "vectorised version: 6 NumPy expressions for the whole training set" in executed_text
    # "the gap grows with the size of the layers": ten times the hidden nodes, about ten times the work
    # in the interpreter (all but the output nodes' few), still six expressions
    assert products_per_item(4, 50, 3) > 8 * counted


def _figure_cells(executed):
    """(cell source, PNG bytes) for every code cell with an image output."""
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                yield cell.source, base64.b64decode(data["image/png"])


@pytest.fixture(scope="module")
def figures():
    from nbjekyll.api import executed_notebook
    from PIL import Image
    executed = executed_notebook(SITE, NOTEBOOKS / NOTEBOOK)
    calls = {"graph": "drawGraph()", "sweep": "sweepFigure,", "training": "trainingFigure,",
             "network": "drawNetwork(ceNet", "convolution": "drawConvolution()"}
    found = {}
    for source, png in _figure_cells(executed):
        for name, call in calls.items():
            if call in source:
                found[name] = Image.open(io.BytesIO(png)).size
    assert set(found) == set(calls)
    return found


def test_figures_fit_a_phone_at_twice_the_resolution_with_text_of_at_least_10_pt(claims, figures):
    for name, (width_px, _) in figures.items():
        fig = claims["figures"][name]
        assert fig["width_in"] <= FIGURE_MAX_WIDTH_IN, name
        assert fig["min_fontsize"] >= FIGURE_MIN_FONT_PT, name
        dpi = width_px / fig["width_in"]
        assert dpi == pytest.approx(2 * fig["dpi"], rel=0.02), name
        # shown at half its pixels, scaled into a 360 px column: 10 pt is 9 CSS px or more
        shown = min(width_px / 2, 360)
        assert FIGURE_MIN_FONT_PT * dpi / 72 * shown / width_px >= 9, name


def test_every_symbol_of_the_figures_is_defined(markdown):
    """The star of the convolution figure, the hidden signal as δ^h in the graph and the text alike,
    the dotted line of the step-size figure."""
    nb = raw_notebook()
    sources = {name: "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
               for name, call in (("graph", "def drawGraph"), ("sweep", "sweepFigure,"),
                                  ("convolution", "def drawConvolution")) if call in "".join(c["source"])}
    text = "\n".join(markdown)
    assert "\\delta_h" not in sources["graph"] and "\\delta^h" in sources["graph"]
    assert "\\delta^h = \\partial E / \\partial a" in text and "\\delta_h" not in text
    assert "⋆ is cross-correlation" in sources["convolution"]             # the caption
    assert "cross-correlation: slide the" in sources["convolution"]       # and the figure itself
    assert 'label="$10^{-7}$: a correct gradient"' in sources["sweep"]
    assert "The dotted line marks $10^{-7}$" in text


def test_every_reference_is_cited(markdown):
    text = "\n".join(markdown)
    body, references = text.split("## References", 1)
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", references, flags=re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
    cited = set()
    for group in re.findall(r"\[([\d, ]+)(?:, section [\d.]+)?\](?!\()", body):
        cited |= {int(n) for n in group.split(",") if n.strip()}
    assert cited >= set(numbers), set(numbers) - cited


def test_no_continuation_line_reads_as_a_list_marker(markdown):
    # kramdown reads "2017." at the start of an indented line inside a list item as a nested list
    for cell in markdown:
        for line in cell.splitlines():
            assert not re.match(r"^\s+\d+\.\s", line), line


def test_which_pythons_cntk_has_wheels_for(markdown):
    """ "Its last release, 2.7, has wheels on the Python package index for Python 2.7, 3.5 and 3.6
    only": the Pythons the committed record of the index (tests/articles/package_index.py) has."""
    facts = json.loads(CNTK_WHEELS.read_text(encoding="utf-8"))
    with_wheels = [v for v, has in facts["wheel_for_python"].items() if has]
    intro = " ".join(markdown[0].split())
    said = re.search(r"Its last release, 2\.7, has wheels on the Python package index for Python "
                     r"([\d., ]+) and ([\d.]+) only", intro)
    assert said, intro
    assert [v.strip() for v in said[1].split(",")] + [said[2]] == with_wheels
    assert "up to 3.7" not in intro


def test_code_cells_fit_80_columns():
    """Every line of code a reader sees, but the fig-alt/fig-cap directives (the build removes them)."""
    long_lines = [line for c in raw_notebook()["cells"] if c["cell_type"] == "code"
                  and not {"remove-cell", "remove-input"} & set(c["metadata"].get("tags", []))
                  for line in "".join(c["source"]).splitlines()
                  if len(line) > 80 and not line.startswith("#|")]
    assert long_lines == []


def test_cntk_post_is_linked_as_executed(markdown):
    intro = markdown[0]
    assert "(2018-04-28-cnn-in-cntk.ipynb)" in intro
    assert "archived" not in "\n".join(markdown).lower()
