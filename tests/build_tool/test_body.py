"""The Markdown body: math, Liquid, images, links, outputs, tags and tabs."""
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def body(text: str) -> str:
    return text.split("---\n", 2)[2].lstrip("\n")


def check_golden(name: str, text: str):
    """Compare with tests/build_tool/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead."""
    import os
    # The record of inputs changes with every edit of the tool; the cache tests cover it.
    text = re.sub(r"built_from:\n(  .*\n)+", "", text)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_math_golden(site):
    site.add("math.ipynb", "2021-01-01-math.ipynb")
    assert site.build().code == 0
    check_golden("math.md", site.post("2021-01-01-math"))


def test_math_becomes_kramdown_math_and_code_is_untouched(site):
    site.add("math.ipynb", "2021-01-01-math.ipynb")
    site.build()
    text = site.post("2021-01-01-math")
    assert "math: true" in text
    assert "$$a_i * b_j = c_{ij}$$" in text
    assert "prices $5 and $10 stay prose" in text
    assert "an escaped \\$ stays" in text
    assert "`$not_math$`" in text
    assert "price = '$5 and $10'  # $x_1$ in a fence" in text
    assert "\n\n$$\n\\sum_{i=1}^{n} w_i x_i\n$$\n\n" in text
    assert "Display inside a sentence\n\n$$\nE = \\frac{1}{2} \\|o - t\\|^2\n$$\n\ncontinues." in text
    assert "Parentheses $$\\alpha_1$$ and brackets\n\n$$\n\\beta_2\n$$" in text
    assert "$$\n\\begin{align}\na_1 &= b_1 \\\\\nc_2 &= d_2\n\\end{align}\n$$" in text
    # text/latex output becomes display math
    assert "$$\n\\frac{\\partial L}{\\partial z} = o - t\n$$" in text


def test_post_without_math_has_no_math_flag(site):
    site.add("title_from_heading.ipynb", "2021-01-01-plain.ipynb")
    site.build()
    assert "math:" not in site.post("2021-01-01-plain")


ESCAPED_TAG_START = "{% endraw %}{{ '{%' }}{% raw %}"


def liquid_view(text: str) -> str:
    """What Liquid prints for a body: raw blocks verbatim, escaped '{%' as '{%'."""
    inner = text[len("{% raw %}"):text.rstrip().rindex("{% endraw %}")]
    inner = re.sub(r"\{% endraw %\}\{\{ '[^']*' \| relative_url \}\}\{% raw %\}", "URL", inner)
    inner = re.sub(r"\{% endraw %\}\{% post_url [^%]* %\}\{% raw %\}", "URL", inner)
    assert "{%" not in inner.replace(ESCAPED_TAG_START, ""), "a Liquid tag would run inside the post"
    return inner.replace(ESCAPED_TAG_START, "{%")


def test_liquid_is_never_interpreted(site):
    site.add("liquid_literal.ipynb", "2021-01-01-liquid.ipynb")
    assert site.build().code == 0
    text = body(site.post("2021-01-01-liquid"))
    # the post ends with the tool's own Liquid, the provenance stamp; everything from the notebook is raw
    from nbjekyll.convert import STAMP
    stamp = STAMP.read_text(encoding="utf-8").strip("\n")
    assert text.rstrip().endswith("\n\n" + stamp)
    text = text.rstrip()[: -len(stamp)]
    assert text.startswith("{% raw %}") and text.rstrip().endswith("{% endraw %}")
    shown = liquid_view(text)
    for literal in ("{{ prose_var }}", "{% include prose.html %}", "{% raw %} and {% endraw %}", "{%- endraw -%}",
                    "{{ code_var }} {% if x %}{% endif %}", "output: {{ out_var }} {% endraw %} {%endraw%}"):
        assert literal in shown


def test_outputs_of_every_kind(site):
    site.add("outputs.ipynb", "2021-01-01-outputs.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-outputs")
    assert "```text\nto stdout\n" in text
    assert "```text\nto stderr\n```\n{: .output .stderr}" in text
    assert "red text and plain" in text and "\x1b[" not in text
    assert "red text and plain\nprogress 100%\n```" in text
    assert '<div class="output html" markdown="0">\n<table><tr><th>k</th><td>1</td></tr></table>\n</div>' in text
    assert '<div class="output markdown" markdown="1">\n\n**bold** markdown with $$m_1$$\n\n</div>' in text
    assert "```text\n{'a': 1}\n```\n{: .output .result}" in text
    images = sorted(p.name for p in (site.root / "img" / "outputs").iterdir())
    assert sorted(Path(n).suffix for n in images) == [".jpg", ".png", ".svg"]
    for name in images:
        assert re.fullmatch(r"[0-9a-f]{16}\.(png|svg|jpg)", name)
        assert "{{ '/img/outputs/%s' | relative_url }}" % name in text


def test_widgets_say_they_need_a_kernel_and_javascript_is_dropped_with_a_warning(site):
    site.add("outputs.ipynb", "2021-01-01-outputs.ipynb")
    run = site.build()
    assert ("notebooks/2021-01-01-outputs.ipynb: warning: cell 5: an interactive widget "
            "(application/vnd.jupyter.widget-view+json) needs a live kernel; the post says so in its place") in run.err
    assert ("warning: cell 5: dropped an output of type application/javascript (it runs JavaScript in the "
            "notebook and shows nothing of its own)") in run.err
    text = site.post("2021-01-01-outputs")
    assert ('<p class="output placeholder">An interactive widget (IntSlider(value=3)): it needs a live kernel, '
            "so it is not shown here.</p>") in text
    assert "Javascript object" not in text


def test_output_priority_follows_jupyter_and_unknown_types_fall_back_to_text(site):
    site.add("output_priority.ipynb", "2021-01-01-priority.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-priority")
    assert "$$\n\\displaystyle x^{2} + 1\n$$" in text  # LaTeX beats the PNG beside it (SymPy)
    assert '<div class="output html" markdown="0">\n<table><tr><td>HTML_BEATS_PNG</td></tr></table>\n</div>' in text
    assert not (site.root / "img" / "priority").exists()  # neither PNG was chosen
    assert "```text\nRAW_TEXT_FALLBACK\n```\n{: .output .result}" in text
    assert ("notebooks/2021-01-01-priority.ipynb: warning: cell 3: an output of type application/vnd.raw.v1+json "
            "cannot be shown on a static page; shown as its text/plain form") in run.err
    # math in an HTML output (a pandas table's labels) is typeset as in Jupyter; prices stay prices
    assert "<table><tr><th>\\(\\delta\\)</th><td>$5 and $10</td></tr></table>" in text


def test_long_output_is_cut_visibly(site):
    site.add("long_output.ipynb", "2021-01-01-long.ipynb")
    site.build()
    text = site.post("2021-01-01-long")
    assert "line 200\n… 50 more lines not shown (output cut at 200 lines) …\n```" in text
    assert "line 201" not in text


def test_output_limit_is_configurable(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() + "  output_max_lines: 10\n")
    site.add("long_output.ipynb", "2021-01-01-long.ipynb")
    site.build()
    assert "line 10\n… 240 more lines not shown (output cut at 10 lines) …" in site.post("2021-01-01-long")


def test_cell_tags_and_quarto_options_golden(site):
    site.add("cell_tags.ipynb", "2021-01-01-tags.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    check_golden("cell_tags.md", site.post("2021-01-01-tags"))


def test_cell_tags_and_quarto_options(site):
    site.add("cell_tags.ipynb", "2021-01-01-tags.ipynb")
    site.build()
    text = site.post("2021-01-01-tags")
    assert "removed cell ran" not in text
    assert (site.root / "notebooks" / "removed_cell_ran.txt").read_text() == "yes"  # executed all the same
    assert "only the output of REMOVE_INPUT shows" in text and "print('only the output" not in text
    assert "print('REMOVE_OUTPUT output hidden')" in text and "\nREMOVE_OUTPUT output hidden" not in text
    assert "stdout kept" in text and "STDERR_REMOVED', file" in text and "\nSTDERR_REMOVED\n" not in text
    assert '<details class="hide-input" markdown="1">\n<summary>Show code</summary>\n\n```python\nprint(\'HIDE_INPUT output\')' in text
    assert '<details class="hide-output" markdown="1">\n<summary>Show output</summary>\n\n```text\nHIDE_OUTPUT output' in text
    assert "ValueError: EXPECTED_ERROR shown in the post" in text
    assert "```python\nraise SystemExit('SKIPPED must never run')\n```\n{: .not-executed}" in text
    assert "QUARTO_ECHO_FALSE output" in text and "print('QUARTO_ECHO_FALSE" not in text
    assert "print('QUARTO_OUTPUT_FALSE hidden')" in text and "\nQUARTO_OUTPUT_FALSE hidden" not in text
    assert "QUARTO_INCLUDE_FALSE" not in text
    assert "raise SystemExit('QUARTO_EVAL_FALSE must never run')" in text
    assert "ZeroDivisionError" in text
    assert "```python\n#|" not in text and "#| fig-alt" not in text


def test_consecutive_tab_cells_form_one_group(site):
    site.add("tabs.ipynb", "2021-01-01-tabs.ipynb")
    assert site.build().code == 0
    text = site.post("2021-01-01-tabs")
    assert text.count('<div class="tab-group" markdown="1">') == 2
    assert text.count('<div class="tab-panel" data-tab="First" markdown="1">\n<p class="tab-title"><strong>First</strong></p>') == 2
    first_group = text.split('<div class="tab-group"')[1]
    assert "first framework" in first_group and "second framework" in first_group
    check_golden("tabs.md", text)


def test_attachments_and_relative_images_are_copied_and_links_to_notebooks_become_post_urls(site):
    site.add("title_from_heading.ipynb", "2020-01-01-title-from-heading.ipynb")
    site.add("images_and_links.ipynb", "2021-01-01-images.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-images")
    names = sorted(p.name for p in (site.root / "img" / "images").iterdir())
    assert len(names) == 2
    for name in names:
        assert "{{ '/img/images/%s' | relative_url }}" % name in text
    assert "{% post_url 2020-01-01-title-from-heading %}{% raw %}#section)" in text
    assert "[the web](https://example.org)" in text
    assert "```markdown\n![dot](figures/dot.png)\n```" in text
    # The attachment was named ../../escape.png: nothing may land outside img/.
    assert not (site.root.parent / "escape.png").exists()
    assert not list(site.root.parent.rglob("escape.png"))


def test_missing_linked_image_is_an_error_naming_the_cell(site):
    site.add("title_from_heading.ipynb", "2020-01-01-title-from-heading.ipynb")
    site.add("images_and_links.ipynb", "2021-01-01-images.ipynb")
    (site.root / "notebooks" / "figures" / "dot.png").unlink()
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-images.ipynb: cell 1: the image 'figures/dot.png' does not exist "
            "(looked for notebooks/figures/dot.png)") in run.err


def test_link_to_a_missing_notebook_is_an_error(site):
    site.add("images_and_links.ipynb", "2021-01-01-images.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-images.ipynb: cell 1: the link '2020-01-01-title-from-heading.ipynb#section' "
            "points to a notebook that does not exist (notebooks/2020-01-01-title-from-heading.ipynb)") in run.err
    # failed before running: no cell was executed (its kernel may have been started ahead, and is stopped)
    assert "executing" not in run.out and not (site.root / "_build" / "cache" / "2021-01-01-images").exists()


def test_unused_images_are_removed_when_a_post_changes(site):
    import nbformat
    path = site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    site.build()
    first = sorted((site.root / "img" / "plot").iterdir())
    assert len(first) == 1
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("slope = 1", "slope = -1")
    nbformat.write(nb, path)
    site.build()
    second = sorted((site.root / "img" / "plot").iterdir())
    assert len(second) == 1 and second != first
    assert "image: /img/plot/%s" % second[0].name in site.post("2021-01-01-plot")


def _shown_images(text: str) -> list[tuple[str, int, int]]:
    """(file name, width, height) of each output image, in the order of the post."""
    return [(name, int(w), int(h)) for name, w, h in
            re.findall(r"\{\{ '/img/figures/([0-9a-f]+\.\w+)' \| relative_url \}\}(?:\{% raw %\})?\)"
                       r"\{: width=\"(\d+)\" height=\"(\d+)\"\}",
                       text)]


def test_images_carry_the_size_jupyter_shows_them_at(site):
    from PIL import Image
    site.add("figure_sizes.ipynb", "2021-01-01-figures.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-figures")
    shown = _shown_images(text)
    assert len(shown) == 3 and text.count("![") == 3
    pixels = [Image.open(site.root / "img" / "figures" / name).size for name, _, _ in shown]
    retina, scaled, plain = zip(shown, pixels)
    # The retina backend draws at twice the density and tells Jupyter to show half the pixels.
    assert all(abs(2 * shown - drawn) <= 1 for shown, drawn in zip(retina[0][1:], retina[1]))
    # Image(width=120) keeps the file's aspect ratio.
    assert scaled[0][1:] == (120, round(120 * scaled[1][1] / scaled[1][0]))
    # No size given: the file's own pixels.
    assert plain[0][1:] == plain[1] == (150, 100)


def test_a_figure_caption_becomes_a_figcaption_and_alt_text_stays(site):
    site.add("figure_sizes.ipynb", "2021-01-01-figures.ipynb")
    assert site.build().code == 0
    text = site.post("2021-01-01-figures")
    name, width, height = _shown_images(text)[0]
    assert ('<figure class="output image" markdown="1">\n'
            "![a parabola]({%% endraw %%}{{ '/img/figures/%s' | relative_url }}{%% raw %%}){: width=\"%d\" "
            'height="%d"}\n'
            '<figcaption markdown="span">A parabola, $$y = x^2$$, drawn at **double** density</figcaption>\n'
            "</figure>" % (name, width, height)) in text
    assert text.count("<figure") == 1 and text.count('<div class="output image" markdown="1">') == 2
    assert "math: true" in text
