"""Notebooks written for fastpages build as fastpages built them, minus its bugs."""
import yaml


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_comes_from_the_first_markdown_cell(site):
    site.add("fastpages.ipynb", "2020-03-01-fastpages.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2020-03-01-fastpages")
    fm = front_matter(text)
    assert fm["title"] == "Fastpages: a title with a colon"  # fastpages broke on this colon
    assert fm["description"] == "A summary with [a link](https://example.org)"
    assert fm["categories"] == ["fastpages", "jupyter"]
    assert (fm["toc"], fm["badges"], fm["comments"], fm["author"], fm["sticky_rank"], fm["custom_key"]) == \
        (True, False, True, "Ada", 1, "kept")
    body = text.split("---\n", 2)[2]
    assert "- toc: true" not in body and "> A summary" not in body  # the cell is consumed
    assert body.lstrip().startswith("{% raw %}* Contents\n{:toc}") or "* Contents\n{:toc}" in body.split("##")[0]


def test_flags_choose_what_is_shown_and_their_lines_never_are(site):
    site.add("fastpages.ipynb", "2020-03-01-fastpages.ipynb")
    assert site.build().code == 0
    text = site.post("2020-03-01-fastpages")
    assert "HIDE_FLAG_CELL" not in text and "#hide" not in text
    assert "\nHIDE_INPUT_FLAG output\n" in text and "print('HIDE_INPUT_FLAG" not in text
    assert "```python\n# an ordinary comment stays\nprint('COMMENT_KEPT')\n```" in text
    assert ('<details class="hide-input" open markdown="1">\n<summary>Show code</summary>\n\n'
            "```python\nprint('COLLAPSE_SHOW output')\n```") in text
    assert ('<details class="hide-input" markdown="1">\n<summary>Show code</summary>\n\n'
            "```python\nprint('COLLAPSE_HIDE output')\n```") in text
    assert ("```python\nprint('COLLAPSE_OUTPUT output')\n```\n\n<details class=\"hide-output\" markdown=\"1\">\n"
            "<summary>Show output</summary>\n\n```text\nCOLLAPSE_OUTPUT output") in text
    assert "print('HIDE_OUTPUT_FLAG output')" in text and "\nHIDE_OUTPUT_FLAG output\n" not in text
    assert "\nEXPORTED\n" in text and "def exported" not in text
    assert "DEFAULT_EXP" not in text and "HIDDEN_MARKDOWN_CELL" not in text
    assert "CELL_METADATA_HIDE_INPUT output" in text and "print('CELL_METADATA_HIDE_INPUT" not in text
    for flag in ("#collapse", "#export", "#default_exp", "#hide_input", "#hide-output"):
        assert flag not in text


def test_quarto_code_fold_show_and_label(site):
    site.add("fastpages.ipynb", "2020-03-01-fastpages.ipynb")
    assert site.build().code == 0
    text = site.post("2020-03-01-fastpages")
    assert ('<div id="my-cell" class="cell-anchor"></div>\n\n<details class="hide-input" open markdown="1">\n'
            "<summary>Show code</summary>\n\n```python\nprint('QUARTO_CODE_FOLD_SHOW')\n```") in text


def test_callouts_embeds_and_footnotes(site):
    site.add("fastpages.ipynb", "2020-03-01-fastpages.ipynb")
    assert site.build().code == 0
    text = site.post("2020-03-01-fastpages")
    for kind in ("Note", "Warning", "Tip", "Important"):
        assert f'<div class="callout {kind.lower()}" markdown="1">\n\n**{kind}:** ' in text
    assert "> An ordinary quotation stays a quotation." in text
    assert ('<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" title="YouTube video dQw4w9WgXcQ" '
            'loading="lazy" allowfullscreen></iframe>') in text
    assert ('<p class="embed twitter"><a href="https://twitter.com/jupyter/status/1">'
            "https://twitter.com/jupyter/status/1</a></p>") in text
    assert "Some prose[^1] before the code." in text
    assert "[^1]: The first footnote, as fastpages wrote it" in text
    assert "fndetail" not in text and "{% fn" not in text


def test_a_title_without_a_space_is_read_with_a_warning(site):
    site.add("fastpages_title_no_space.ipynb", "2020-03-02-no-space.ipynb")
    run = site.build()
    assert run.code == 0
    assert ("notebooks/2020-03-02-no-space.ipynb: warning: cell 1: the title line '#Title Without A Space' has no "
            "space after '#' (fastpages needs '# Title'); read as the title all the same") in run.err
    fm = front_matter(site.post("2020-03-02-no-space"))
    assert fm["title"] == "Title Without A Space" and fm["categories"] == ["a"]


def test_an_ordinary_first_cell_is_not_front_matter(site):
    site.add("fastpages_plain_title.ipynb", "2020-03-03-plain.ipynb")
    assert site.build().code == 0
    text = site.post("2020-03-03-plain")
    assert front_matter(text)["title"] == "Plain title"
    assert "An ordinary first cell with prose: not front matter." in text


def test_notebook_metadata_hide_input_hides_every_input(site):
    site.add("fastpages_notebook_hide_input.ipynb", "2020-03-04-hidden.ipynb")
    assert site.build().code == 0
    text = site.post("2020-03-04-hidden")
    assert "NOTEBOOK_HIDE_INPUT output" in text and "print(" not in text


def test_a_fastpages_repository_builds_in_place_from_its_notebooks_folder(site):
    import shutil
    from buildsite import NOTEBOOKS
    (site.root / "_notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "fastpages.ipynb", site.root / "_notebooks" / "2020-03-01-fastpages.ipynb")
    run = site.build("--notebooks", "_notebooks")
    assert run.code == 0, run.err
    assert front_matter(site.post("2020-03-01-fastpages"))["notebook"] == "_notebooks/2020-03-01-fastpages.ipynb"
    assert site.build("--notebooks", "_notebooks", "--check").out.endswith("all posts current\n")
    missing = site.build("--notebooks", "nowhere")
    assert missing.code == 2 and missing.err == f"error: --notebooks nowhere: no such folder in the site {site.root}\n"
