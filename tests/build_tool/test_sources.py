"""Reading a notebook without nbformat gives exactly what nbformat gives (the cache keys depend on it)."""
import json

import nbformat
import pytest

from buildsite import NOTEBOOKS, ROOT
from nbjekyll.notebook_file import as_read_by_nbformat

ALL_NOTEBOOKS = sorted(set(NOTEBOOKS.glob("*.ipynb")) | set((ROOT / "notebooks").glob("*.ipynb")) |
                       set((ROOT / "tests").glob("**/notebooks/*.ipynb")))


def plain(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_light_reader_agrees_with_nbformat(path):
    try:
        data = json.loads(path.read_bytes())
    except ValueError:  # not JSON: the light reader has nothing to read; nbformat and the tool refuse it alike
        from nbjekyll.errors import NotebookError
        from nbjekyll.notebook_file import read_with_nbformat
        with pytest.raises(nbformat.reader.NotJSONError):
            nbformat.read(path, as_version=4)
        with pytest.raises(NotebookError, match=r"^x\.ipynb: not a valid notebook: the file is not JSON \("):
            read_with_nbformat(path, "x.ipynb")
        return
    light = as_read_by_nbformat(data)
    try:
        with open(path, encoding="utf-8") as handle:
            expected = nbformat.read(handle, as_version=4)
    except nbformat.ValidationError:
        assert light is None  # left to nbformat, which says what is missing
        return
    if light is None:
        pytest.skip("not a version-4 notebook: nbformat reads it")
    assert plain(light) == plain(expected)


def test_a_notebook_the_schema_rejects_is_reported_before_any_work(tmp_path):
    from nbjekyll.config import load_config
    from nbjekyll.errors import NotebookError
    from nbjekyll.sources import read_notebook
    (tmp_path / "_config.yml").write_text("title: t\n")
    path = tmp_path / "2021-01-01-no-outputs-key.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    del nb.cells[0]["outputs"]
    path.write_text(json.dumps(nb))
    source = read_notebook(path, load_config(tmp_path))  # cheap: enough to decide a post is current
    with pytest.raises(NotebookError) as error:
        source.validate()
    assert str(error.value) == ("2021-01-01-no-outputs-key.ipynb: not a valid notebook: "
                                "cell 1: 'outputs' is a required property")


@pytest.mark.parametrize("damage, message", [
    (lambda nb: nb.cells[1].__setitem__("execution_count", "x"),
     "cell 2, execution_count: 'x' is not of type 'integer', 'null'"),
    (lambda nb: nb.metadata.__setitem__("kernelspec", {"name": "python3"}),
     "metadata/kernelspec: 'display_name' is a required property"),
])
def test_schema_errors_say_where(tmp_path, damage, message):
    from nbjekyll.config import load_config
    from nbjekyll.errors import NotebookError
    from nbjekyll.sources import read_notebook
    (tmp_path / "_config.yml").write_text("title: t\n")
    path = tmp_path / "2021-01-01-damaged.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("1")])
    damage(nb)
    path.write_text(json.dumps(nb))
    with pytest.raises(NotebookError) as error:
        read_notebook(path, load_config(tmp_path)).validate()
    assert str(error.value) == f"2021-01-01-damaged.ipynb: not a valid notebook: {message}"


def test_saved_outputs_and_attachments_are_joined_as_nbformat_joins_them():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("a = 1\nb = 2\n")
    cell.outputs = [nbformat.v4.new_output("stream", text="x\ny\n"),
                    nbformat.v4.new_output("display_data", data={"text/plain": "1\n2", "image/png": "iVBOR\nw0K",
                                                                 "application/json": {"a": [1, 2]}})]
    cell.metadata["trusted"] = True
    markdown = nbformat.v4.new_markdown_cell("![x](attachment:x.png)\n")
    markdown["attachments"] = {"x.png": {"image/png": "iVBOR\nw0K"}}
    nb.cells = [cell, markdown]
    nb.metadata["orig_nbformat"] = 3
    text = nbformat.writes(nb)  # written as nbformat writes: multi-line strings split into lists
    assert '"a = 1\\n",' in text
    assert plain(as_read_by_nbformat(json.loads(text))) == plain(nbformat.reads(text, as_version=4))
