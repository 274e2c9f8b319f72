"""A reader who opens a notebook alone (the Colab badge, a download) gets the files beside it that it uses.

Every notebook that uses files from notebooks/ (its post's ``built_from.files``, found by the build)
starts with a hidden cell tagged ``fetch-helpers`` that downloads exactly those files from the
repository named in _config.yml when they are not there, and does nothing inside the repository.
"""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def fetch_cell(nb):
    cells = [c for c in nb.cells if "fetch-helpers" in c.metadata.get("tags", [])]
    return cells[0] if cells else None


def used_files(notebook: Path) -> list[str]:
    post = ROOT / "_posts" / f"{notebook.stem}.md"
    front_matter = yaml.safe_load(post.read_text(encoding="utf-8").split("---\n")[1])
    files = (front_matter.get("built_from") or {}).get("files") or {}
    return sorted(f[len("notebooks/"):] for f in files if f.startswith("notebooks/"))


def repository_source() -> str:
    links = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["notebook_links"]
    directory = (links.get("directory") or "").strip("/")
    return (f"https://raw.githubusercontent.com/{links['repository']}/{links.get('branch', 'main')}/"
            + (f"{directory}/" if directory else "") + "notebooks/")


def call_arguments(cell) -> tuple[list[str], str]:
    tree = ast.parse(cell.source)
    definition = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    call = next(n.value for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call))
    return ast.literal_eval(call.args[0]), ast.literal_eval(definition.args.defaults[0])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_fetch_cell_names_exactly_the_files_used_and_the_configured_repository(notebook):
    nb = nbformat.read(notebook, as_version=4)
    files = used_files(notebook)
    cell = fetch_cell(nb)
    if not files:
        assert cell is None
        return
    assert cell is not None, f"{notebook.name} uses {files} but has no fetch-helpers cell"
    assert "remove-cell" in cell.metadata.tags
    assert nb.cells.index(cell) <= 1 and all(c.cell_type != "code" for c in nb.cells[:nb.cells.index(cell)])
    fetched, source = call_arguments(cell)
    assert fetched == files
    assert source == repository_source(), "update the cell from _config.yml's notebook_links"


@pytest.mark.parametrize("notebook", [n for n in NOTEBOOKS if fetch_cell(nbformat.read(n, as_version=4))],
                         ids=lambda p: p.stem)
def test_fetch_cell_downloads_the_files_into_an_empty_folder(notebook, tmp_path):
    cell = fetch_cell(nbformat.read(notebook, as_version=4))
    files, source = call_arguments(cell)
    local = (ROOT / "notebooks").as_uri() + "/"          # the repository's files, served by urllib
    code = cell.source.replace(repr(source)[1:-1], local)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in files:
        assert (tmp_path / name).read_bytes() == (ROOT / "notebooks" / name).read_bytes()
    # Inside the repository it touches nothing (and so never reaches the network in the build).
    shutil.rmtree(tmp_path)
    done = subprocess.run([sys.executable, "-c", cell.source.replace(repr(source)[1:-1], "file:///nonexistent/")],
                          cwd=ROOT / "notebooks", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_post_that_states_claims_names_the_test_that_checks_them(notebook):
    """The provenance stamp links each post to its test; the test must exist and read that notebook."""
    nb = nbformat.read(notebook, as_version=4)
    states_claims = any(c.cell_type == "code" and "CLAIMS " in c.source for c in nb.cells)
    front_matter = yaml.safe_load(nb.cells[0].source.strip().strip("-")) if nb.cells[0].cell_type == "raw" else {}
    tested_by = front_matter.get("tested_by")
    assert bool(tested_by) == states_claims
    if tested_by:
        assert notebook.name in (ROOT / tested_by).read_text(encoding="utf-8")
