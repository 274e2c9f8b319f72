"""Every Markdown cell of the repository's and the tests' notebooks looks the same in the post as in
Jupyter: same blocks, lists, emphasis, links, code spans and math (see markdown_fidelity.py)."""
import re
import shutil
from pathlib import Path

import pytest

from buildsite import ROOT, require_jekyll
from markdown_fidelity import first_difference, jekyll_html, jupyter_html, structure

CORPUS = sorted(set((ROOT / "notebooks").glob("*.ipynb")) | set((ROOT / "tests").glob("**/notebooks/*.ipynb")))
FOOTNOTES = re.compile(r'<hr class="footnotes-sep" />.*|<section class="footnotes">.*|'
                       r'<div class="footnotes" role="doc-endnotes">.*', re.DOTALL)


def dated_copy(path: Path, folder: Path) -> Path:
    """A test notebook under a post's name (most are named for their behaviour), beside its files."""
    target = folder / path.parent.relative_to(ROOT).as_posix().replace("/", "-")
    if not target.exists():
        shutil.copytree(path.parent, target)
    name = path.name if re.match(r"^\d{4}-\d\d-\d\d-", path.name) else f"2000-01-01-{path.name}"
    if name != path.name:
        shutil.copy(path, target / name)
    return target / name


def markdown_cells(path: Path, folder: Path):
    """(cell number, what Jupyter renders, what the converter hands to kramdown) for each shown Markdown cell."""
    from nbjekyll.config import load_config
    from nbjekyll.convert import _Converter
    from nbjekyll.errors import NotebookError
    from nbjekyll.fastpages import markdown_shortcuts
    from nbjekyll.sources import read_notebook
    if path.is_relative_to(ROOT / "notebooks"):
        config = load_config(ROOT)
    else:
        path = dated_copy(path, folder)
        config = load_config(folder).with_overrides(notebooks_dir=folder)
    try:
        source = read_notebook(path, config)
    except NotebookError:
        return []  # not a notebook (the failure tests' corpus): nothing to render
    converter = _Converter(source, source.nb, config)
    cells = []
    for index, (cell, options) in enumerate(zip(source.nb.cells, source.options)):
        if cell.cell_type != "markdown" or index == source.front_matter_cell or options.has("remove-cell"):
            continue
        text = cell.source
        if source.title_heading and source.title_heading[0] == index:
            lines = text.splitlines()
            del lines[source.title_heading[1]]
            text = "\n".join(lines)
        text = markdown_shortcuts(text)
        try:
            converted = converter.markdown(text, index + 1, cell)
        except NotebookError:
            continue  # a broken link the build reports (tests of that error)
        cells.append((index + 1, text, converted))
    return cells


@pytest.fixture(scope="module")
def renderings(tmp_path_factory):
    require_jekyll()
    folder = tmp_path_factory.mktemp("corpus")
    cells = [(path, number, jupyter, post) for path in CORPUS
             for number, jupyter, post in markdown_cells(path, folder)]
    kramdown = jekyll_html([post for *_, post in cells], ROOT, tmp_path_factory.mktemp("kramdown"))
    return [(path, number, jupyter_html(jupyter), html) for (path, number, jupyter, _), html in zip(cells, kramdown)]


def test_the_corpus_has_markdown_of_every_kind(renderings):
    assert len(renderings) > 100
    shown = "".join(h for *_, h in renderings)
    for element in ("<ol", "<ul", "<table", "<blockquote", "<em>", "<strong>", "<code>", "<a href", "<h2", "\\("):
        assert element in shown, element


def test_markdown_renders_the_same_in_jupyter_and_in_the_post(renderings):
    differences = []
    for path, number, jupyter, post in renderings:
        a = structure(FOOTNOTES.sub("", jupyter), kramdown=False)
        b = structure(FOOTNOTES.sub("", post), kramdown=True)
        difference = first_difference(a, b)
        if difference:
            differences.append(f"{path.relative_to(ROOT)} cell {number}: {difference}")
    assert differences == [], f"{len(differences)} cells differ:\n" + "\n".join(differences)
