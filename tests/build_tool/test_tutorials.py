"""Tutorials (nbjekyll.tutorials): a folder of undated chapter notebooks becomes a Jekyll collection.

The tutorial in notebooks/tutorial/ has an index notebook and four chapters that link to each other
with a book's navigation line: two .ipynb (one reading data/ beside it), one Jupytext percent .py,
one MyST .md; a post (notebooks/tutorial_post.ipynb) links to two of them and a chapter links back."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from buildsite import CONFIG, NOTEBOOKS, ROOT, require_jekyll

TUTORIAL_CONFIG = CONFIG.replace("exclude: [notebooks/, _build/]", "exclude: [notebooks/, _build/, tutorials/]") + """\
  tutorials:
    tutorials:
      source: tutorials
      title: A small tour
collections:
  tutorials:
    output: true
"""
CHAPTERS = ["index", "01-first-steps", "02-reading-data", "03-percent", "04-myst"]


@pytest.fixture
def tutorial(site):
    shutil.copytree(NOTEBOOKS / "tutorial", site.root / "tutorials")
    site.add("tutorial_post.ipynb", "2021-01-01-welcome.ipynb")
    (site.root / "_config.yml").write_text(TUTORIAL_CONFIG)
    return site


def page(site, name: str) -> tuple[dict, str]:
    text = (site.root / "_tutorials" / f"{name}.md").read_text(encoding="utf-8")
    head, body = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S).groups()
    return yaml.safe_load(head), body


def test_chapters_become_collection_documents_in_file_name_order(tutorial):
    run = tutorial.build()
    assert run.code == 0, run.err
    assert sorted(p.stem for p in (tutorial.root / "_tutorials").glob("*.md")) == sorted(CHAPTERS)
    pages = {name: page(tutorial, name)[0] for name in CHAPTERS}
    assert [pages[n]["chapter"] for n in CHAPTERS] == [0, 1, 2, 3, 4]
    assert [pages[n]["title"] for n in CHAPTERS] == [
        "A small tour", "First steps", "Reading data", "A chapter kept as percent text",
        "A chapter kept as MyST Markdown"]
    assert pages["index"]["permalink"] == "/tutorials/"
    assert pages["01-first-steps"]["sections"] == [{"title": "Adding numbers", "id": "adding-numbers"},
                                                   {"title": "Multiplying numbers", "id": "multiplying-numbers"}]
    assert {p["tutorial"] for p in pages.values()} == {"tutorials"}
    assert pages["03-percent"]["slug"] == "tutorials-03-percent"  # its stamp: _data/provenance/<slug>.yml
    assert (tutorial.root / "_data" / "provenance" / "tutorials-03-percent.yml").is_file()
    assert "date" not in pages["01-first-steps"]


def test_links_between_chapters_and_posts_name_their_pages(tutorial):
    assert tutorial.build().code == 0
    _, chapter = page(tutorial, "02-reading-data")
    assert "[< First steps]({% endraw %}{% link _tutorials/01-first-steps.md %}{% raw %}) \\| " \
           "[Contents]({% endraw %}{% link _tutorials/index.md %}{% raw %}) \\| " \
           "[Percent >]({% endraw %}{% link _tutorials/03-percent.md %}{% raw %})" in chapter
    _, myst = page(tutorial, "04-myst")
    assert "{% link _tutorials/01-first-steps.md %}{% raw %}#adding-numbers)" in myst
    _, first = page(tutorial, "01-first-steps")
    assert "[the post]({% endraw %}{% post_url 2021-01-01-welcome %}{% raw %})" in first
    post = tutorial.post("2021-01-01-welcome")
    assert "[its contents]({% endraw %}{% link _tutorials/index.md %}{% raw %})" in post
    assert "[second chapter]({% endraw %}{% link _tutorials/02-reading-data.md %}{% raw %})" in post


def test_a_chapter_runs_in_its_folder_and_depends_on_the_data_it_read(tutorial):
    assert tutorial.build().code == 0
    front, body = page(tutorial, "02-reading-data")
    assert "```text\n6\n```" in body
    assert list(front["built_from"]["files"]) == ["tutorials/data/numbers.csv"]
    (tutorial.root / "tutorials" / "data" / "numbers.csv").write_text("10\n20\n")
    run = tutorial.build("tutorials/02-Reading-Data.ipynb")
    assert "tutorials/02-Reading-Data.ipynb: executing 1 code cell (tutorials/data/numbers.csv changed)" in run.out
    assert "```text\n30\n```" in page(tutorial, "02-reading-data")[1]


def test_a_text_notebook_re_renders_for_prose_and_executes_for_code(tutorial):
    assert tutorial.build().code == 0
    myst = tutorial.root / "tutorials" / "04-MyST.md"
    myst.write_text(myst.read_text().replace("## Joining words", "## Joining words together"))
    run = tutorial.build("tutorials/04-MyST.md")
    assert "tutorials/04-MyST.md: re-rendering (Markdown cell 1 changed)" in run.out
    assert page(tutorial, "04-myst")[0]["sections"] == [{"title": "Joining words together",
                                                         "id": "joining-words-together"}]
    percent = tutorial.root / "tutorials" / "03-Percent.py"
    percent.write_text(percent.read_text().replace('len("percent")', 'len("percent!")'))
    run = tutorial.build("tutorials/03-Percent.py")
    assert "tutorials/03-Percent.py: executing 1 code cell (code cell 2 changed)" in run.out
    assert "```text\n8\n```" in page(tutorial, "03-percent")[1]


def test_a_second_build_does_nothing_and_check_finds_every_chapter_current(tutorial):
    assert tutorial.build().code == 0
    run = tutorial.build()
    assert run.code == 0 and "6 notebooks: 6 ok, 0 failed" in run.out
    assert [line.split(": ", 1)[1] for line in run.out.splitlines()[:6]] == ["up to date"] * 6
    assert tutorial.build("--check").code == 0


def test_py_and_md_files_without_a_jupytext_header_are_left_alone(tutorial):
    (tutorial.root / "tutorials" / "helpers.py").write_text("# %%\nprint('not a chapter')\n")
    (tutorial.root / "tutorials" / "NOTES.md").write_text("---\ntitle: notes\n---\n\n# Notes\n")
    assert tutorial.build().code == 0
    assert sorted(p.stem for p in (tutorial.root / "_tutorials").glob("*.md")) == sorted(CHAPTERS)


def test_the_order_setting_puts_named_chapters_first(tutorial):
    (tutorial.root / "_config.yml").write_text(TUTORIAL_CONFIG.replace(
        "      title: A small tour\n", "      title: A small tour\n      order: [04-MyST.md, 03-Percent.py]\n"))
    assert tutorial.build().code == 0
    assert [page(tutorial, n)[0]["chapter"] for n in ["04-myst", "03-percent", "01-first-steps", "02-reading-data"]] \
        == [1, 2, 3, 4]


def test_a_link_to_a_missing_chapter_fails_naming_the_cell(tutorial):
    chapter = tutorial.root / "tutorials" / "01-First-Steps.ipynb"
    nb = json.loads(chapter.read_text())
    nb["cells"][0]["source"] = "[Contents](Index.ipynb) | [Reading data >](02-Reading.ipynb)"
    chapter.write_text(json.dumps(nb))
    run = tutorial.build("tutorials/01-First-Steps.ipynb")
    assert run.code == 1
    assert "tutorials/01-First-Steps.ipynb: cell 1: the link '02-Reading.ipynb' points to a notebook that does " \
           "not exist (tutorials/02-Reading.ipynb)" in run.err


def test_a_tutorial_jekyll_does_not_publish_is_refused_with_the_lines_to_add(tutorial):
    (tutorial.root / "_config.yml").write_text(TUTORIAL_CONFIG.split("collections:")[0].replace(
        ", tutorials/]", "]"))
    run = tutorial.build()
    assert run.code == 2
    assert "Config value 'nbjekyll.tutorials.tutorials.source': Jekyll would publish the notebooks in tutorials/ " \
           "as they are; add 'tutorials/' to 'exclude:' in _config.yml" in run.err
    assert "Config value 'nbjekyll.tutorials.tutorials': Jekyll publishes a collection only when _config.yml " \
           "declares it; add 'collections: {tutorials: {output: true}}'" in run.err


def test_jekyll_builds_the_tutorial_with_its_navigation_under_the_baseurl(tutorial):
    require_jekyll()
    assert tutorial.build().code == 0
    env = dict(os.environ, JEKYLL_NO_BUNDLER_REQUIRE="true")
    proc = subprocess.run(["jekyll", "build", "--strict_front_matter"], cwd=tutorial.root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tutorial.root / "_site" / "tutorials" / "02-reading-data.html").read_text()
    assert '<a rel="prev" href="/blog/tutorials/01-first-steps.html">&larr; First steps</a>' in html
    assert '<a href="/blog/tutorials/">Contents: A small tour</a>' in html
    assert '<a rel="next" href="/blog/tutorials/03-percent.html">A chapter kept as percent text &rarr;</a>' in html
    contents = (tutorial.root / "_site" / "tutorials" / "index.html").read_text()
    assert '<a href="/blog/tutorials/04-myst.html#joining-words">Joining words</a>' in contents
    assert 'id="joining-words"' in (tutorial.root / "_site" / "tutorials" / "04-myst.html").read_text()


def test_chapters_run_in_shards_and_merge_like_posts(tutorial, tmp_path):
    for k in (1, 2):
        run = tutorial.build("--shard", f"{k}/2", "--bundle", str(tmp_path / f"{k}.json"))
        assert run.code == 0, run.err
    run = tutorial.build("--merge", str(tmp_path / "1.json"), str(tmp_path / "2.json"))
    assert run.code == 0, run.err
    assert "executing" not in run.out and "6 notebooks: 6 ok, 0 failed" in run.out
    assert "```text\n6\n```" in page(tutorial, "02-reading-data")[1]


def test_a_text_notebook_without_jupytext_says_what_to_install(tutorial, monkeypatch):
    monkeypatch.setitem(sys.modules, "jupytext", None)  # `import jupytext` raises ImportError, as when not installed
    run = tutorial.build("tutorials/03-Percent.py")
    assert run.code == 1
    assert "tutorials/03-Percent.py: a text notebook needs the jupytext library: pip install 'nbjekyll[text]' " \
           "(or pip install jupytext)" in run.err


def test_without_an_index_notebook_the_build_writes_the_contents_page(tutorial):
    folder = tutorial.root / "tutorials"
    for name in ("Index.ipynb", "01-First-Steps.ipynb", "02-Reading-Data.ipynb", "04-MyST.md"):
        (folder / name).unlink()
    (tutorial.root / "notebooks" / "2021-01-01-welcome.ipynb").unlink()
    percent = folder / "03-Percent.py"
    percent.write_text(re.sub(r"# \[< Reading data\].*\n#\n", "", percent.read_text()))
    run = tutorial.build()
    assert run.code == 0, run.err
    front, body = page(tutorial, "index")
    assert front == {"title": "A small tour", "layout": "page", "tutorial": "tutorials", "tutorial_title": "A small tour",
                     "chapter": 0, "slug": "tutorials-index", "permalink": "/tutorials/", "nbjekyll_contents": True}
    assert '<nav class="tutorial-contents"' in body
    run = tutorial.build()
    assert run.out.splitlines()[0] == "tutorials/03-Percent.py: up to date"
    assert tutorial.build("--check").code == 0
    (folder / "index.md").write_text("---\njupytext: {formats: md:myst}\nkernelspec: {name: python3, display_name: P}\n"
                                     "---\n\n# Welcome\n")
    assert tutorial.build().code == 0
    assert page(tutorial, "index")[0]["notebook"] == "tutorials/index.md"


def test_watch_sees_chapters_and_the_files_beside_them(tutorial):
    from nbjekyll.config import load_config
    from nbjekyll.watch import watched_files
    files = {p.relative_to(tutorial.root).as_posix() for p in watched_files(load_config(tutorial.root), [],
                                                                             tutorial.root)}
    assert {"tutorials/Index.ipynb", "tutorials/03-Percent.py", "tutorials/04-MyST.md",
            "tutorials/data/numbers.csv"} <= files


def test_a_build_with_nothing_to_do_never_imports_jupytext_or_the_execution_stack(tutorial):
    from test_cli import HEAVY
    assert tutorial.build().code == 0
    code = ("import sys; from nbjekyll.cli import main; code = main(sys.argv[1:]); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY + ('jupytext',)!r}))); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "--site", str(tutorial.root)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
