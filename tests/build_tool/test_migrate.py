"""``nbjekyll migrate`` (nbjekyll/migrate.py) on a fastpages blog whose notebooks cannot all run here, then
``build`` and the real ``jekyll build``: every post on the site, each honest about where its outputs came from."""
import hashlib
import html
import os
import re
import shutil
import subprocess

import pytest
import yaml

from buildsite import NOTEBOOKS, require_jekyll
from nbjekyll.cli import run
from nbjekyll.migrate import MigrateError, with_saved_outputs

BLOG = NOTEBOOKS / "fastpages_blog"
REASONS = {
    "2020-02-02-missing-package.ipynb": ("missing package", "needs the package nbjekyll-test-absent-package, which "
                                         "this build does not have", "pip install nbjekyll-test-absent-package"),
    "2020-02-03-network.ipynb": ("network", "reads from the network, which this build does not reach (URLError)",
                                 "save the data in the repository and read it from there (cell 2)"),
    "2020-02-04-missing-file.ipynb": ("missing file", "reads data/prices.csv, which is not in the repository",
                                      "add data/prices.csv beside the notebook"),
    "2020-02-05-input.ipynb": ("needs input", "asks the reader for input (cell 2)",
                               "give the value in cell 2's code, or tag it skip-execution"),
    "2020-02-06-lesson.ipynb": ("intentional error", "cell 2 raises NameError on purpose, as the author showed it",
                                "allow_errors: true in its front matter (or tag cell 2 raises-exception)"),
    "2020-02-07-python2.ipynb": ("Python 2", "written for Python 2", "port it to Python 3 (cell 2: print(...), …)"),
    "2020-02-10-library-change.ipynb": ("library change", "written for older versions of its libraries "
                                        "(AttributeError in cell 2)", "update cell 2 for today's libraries, or pin "
                                        "the old ones in a kernel (nbjekyll.kernels)"),
}
RUNS = ["2020-02-01-runs.ipynb", "2020-02-08-draft.ipynb", "2020-02-09-hidden.ipynb"]


@pytest.fixture
def blog(tmp_path):
    root = tmp_path / "blog"
    shutil.copytree(BLOG, root)
    return root


def nbjekyll(capsys, *args):
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def digests(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "_notebooks").glob("*.ipynb"))}


def table_row(out, notebook):
    return next(line for line in out.splitlines() if line.startswith(notebook + " "))


def test_migrate_build_and_jekyll_show_every_post_saying_where_its_outputs_came_from(blog, capsys, monkeypatch):
    require_jekyll()
    monkeypatch.delenv("CI", raising=False)
    before = digests(blog)
    code, out, err = nbjekyll(capsys, "migrate", "--site", str(blog), "--notebooks", "_notebooks")
    assert code == 0, out + err
    for notebook, (reason, shown, fix) in REASONS.items():
        assert re.fullmatch(rf"{re.escape(notebook)} +saved outputs +{re.escape(reason)} +{re.escape(shown)} +"
                            rf"{re.escape(fix)}", table_row(out, notebook))
    for notebook in RUNS:
        assert re.fullmatch(rf"{re.escape(notebook)} +runs", table_row(out, notebook))
    assert re.search(r"\n10 notebooks: 3 run here, 7 shown with saved outputs, 0 cannot be shown \(no saved outputs\) "
                     r"— in \d+\.\d s\nProposed: show 7 with their saved outputs\. Run nbjekyll migrate --write to "
                     r"record that in _config\.yml \(nbjekyll\.saved_outputs\); notebooks are never changed\.\n", out)
    assert (f"\n2 notebooks that run here still hold the outputs saved in them, which nbjekyll check --site {blog} "
            f"reports: nbjekyll strip --site {blog} _notebooks/2020-02-01-runs.ipynb _notebooks/2020-02-08-draft.ipynb "
            "removes them (the posts show this build's outputs).\n") in out
    assert "_notebooks/2020-02-03-network.ipynb: cell 2 (execution count 1) raised URLError" in err
    assert "Traceback" not in err  # one line per failure: the table says the rest
    config_before = (blog / "_config.yml").read_text()

    code, out, err = nbjekyll(capsys, "migrate", "--site", str(blog), "--notebooks", "_notebooks", "--write")
    assert code == 0 and "_config.yml: nbjekyll.saved_outputs: 7 recorded\n" in out
    config = (blog / "_config.yml").read_text()
    assert config.startswith(config_before)  # the user's keys and comments, as they were
    assert yaml.safe_load(config)["nbjekyll"] == {
        "notebooks_dir": "_notebooks", "saved_outputs": {n: shown for n, (_, shown, _) in REASONS.items()}}
    assert digests(blog) == before  # notebooks are never modified

    code, out, err = nbjekyll(capsys, "build", "--site", str(blog))
    assert code == 0, err
    assert out.endswith("10 notebooks: 3 ok, 7 shown with saved outputs (not executed), 0 failed\n")
    assert "executing" not in out  # the runs migrate made are in the cache
    code, out, err = nbjekyll(capsys, "check", "--site", str(blog))
    assert "saved" not in out and "stale" not in out and "missing" not in out

    env = {**os.environ, "JEKYLL_NO_BUNDLER_REQUIRE": "true"}
    result = subprocess.run(["jekyll", "build", "--source", str(blog), "--destination", str(blog / "_site")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (blog / "_site").rglob("*.html")}
    slugs = {n[len("2020-02-01-"):-len(".ipynb")] for n in [*REASONS, *RUNS]}
    assert slugs - {"draft"} <= set(pages) and "draft" not in pages  # published: false, as fastpages did
    for notebook, (_, shown, _) in REASONS.items():
        slug = notebook[len("2020-02-01-"):-len(".ipynb")]
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", pages[slug])))
        dated = {"missing-package": 2, "network": 3, "missing-file": 4, "input": 5, "library-change": 6}
        when = f" on Feb {dated[slug]}, 2020" if slug in dated else " (when is unknown: the notebook does not record it)"
        assert f"Outputs as saved by the author{when}; not executed by this build. Reason: {shown}" in text, slug
        assert f"Outputs as saved by the author in {notebook}{when}; not executed by this build. Reason: {shown}" \
            in text, slug
        assert "Every output above came from executing" not in text
    runs = pages["runs"]
    assert "Every output above came from executing" in re.sub(r"\s+", " ", runs)
    assert '<img src="/fpblog/images/site-image.png" alt="site" />' in runs
    assert re.search(r'<img src="/fpblog/img/runs/[0-9a-f]{16}\.png" alt="beside" />', runs)
    assert '<meta name="description" content="In this article we run everything." />' in runs
    assert "HIDDEN CELL" not in runs and "RUNS HERE 42" in runs


def test_rerunning_after_installing_the_package_moves_the_post_back_to_executed(blog, capsys):
    ours = [str(blog / "_notebooks" / n) for n in ("2020-02-02-missing-package.ipynb", "2020-02-01-runs.ipynb")]
    code, out, _ = nbjekyll(capsys, "migrate", "--site", str(blog), "--notebooks", "_notebooks", "--write", *ours)
    assert code == 0 and "_config.yml: nbjekyll.saved_outputs: 1 recorded\n" in out
    (blog / "_notebooks" / "nbjekyll_test_absent_package.py").write_text("")  # "installed" beside the notebook
    code, out, _ = nbjekyll(capsys, "migrate", "--site", str(blog), "--write", *ours)
    assert "_config.yml: nbjekyll.saved_outputs: 1 removed (it runs now)\n" in out
    assert re.fullmatch(r"2020-02-02-missing-package\.ipynb +runs", table_row(out, "2020-02-02-missing-package.ipynb"))
    assert yaml.safe_load((blog / "_config.yml").read_text())["nbjekyll"]["saved_outputs"] is None
    code, out, err = nbjekyll(capsys, "build", "--site", str(blog), ours[0])
    assert code == 0, err
    post = (blog / "_posts" / "2020-02-02-missing-package.md").read_text()
    assert "<strong>Outputs as saved" not in post and "MOLECULE DRAWN" in post
    assert "saved" not in yaml.safe_load((blog / "_data/provenance/missing-package.yml").read_text())


def test_a_notebook_without_saved_outputs_that_cannot_run_is_reported_and_fails(blog, capsys):
    import json
    path = blog / "_notebooks" / "2020-02-04-missing-file.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(nb))
    code, out, _ = nbjekyll(capsys, "migrate", "--site", str(blog), "--notebooks", "_notebooks", path.as_posix())
    assert code == 1
    assert re.fullmatch(r"2020-02-04-missing-file\.ipynb +fails +missing file +reads data/prices\.csv, which is not in "
                        r"the repository +add data/prices\.csv beside the notebook \(it has no saved outputs to show\)",
                        table_row(out, "2020-02-04-missing-file.ipynb"))


CONFIG_WITH_SECTION = """\
title: My blog   # the name in the header
nbjekyll:
  notebooks_dir: _notebooks  # fastpages' folder
  # my saved notebooks
  saved_outputs:
    old-*.ipynb: the author's own pattern   # kept
    2020-02-02-missing-package.ipynb: stale reason
  timeout: 120
exclude: [_build/]
"""


def test_the_config_edit_keeps_keys_comments_and_the_users_own_entries():
    edited = with_saved_outputs(CONFIG_WITH_SECTION, "_notebooks",
                                {"2020-02-02-missing-package.ipynb": "needs rdkit", "b.ipynb": "needs: a colon"},
                                {"gone.ipynb"})
    assert edited == CONFIG_WITH_SECTION.replace(
        "    2020-02-02-missing-package.ipynb: stale reason\n",
        "    2020-02-02-missing-package.ipynb: needs rdkit\n    b.ipynb: 'needs: a colon'\n")
    removed = with_saved_outputs(edited, "_notebooks", {}, {"2020-02-02-missing-package.ipynb", "b.ipynb"})
    assert removed == CONFIG_WITH_SECTION.replace("    2020-02-02-missing-package.ipynb: stale reason\n", "")


def test_a_config_without_the_section_or_a_final_newline_gets_both():
    assert with_saved_outputs("title: x", "_notebooks", {"a.ipynb": "needs rdkit"}, set()) == (
        "title: x\n\n"
        "# Settings of nbjekyll, which executes the notebooks in notebooks_dir and writes them as posts\n"
        "# (`nbjekyll build`); every setting is described in its docs.\n"
        "nbjekyll:\n  notebooks_dir: _notebooks\n"
        "  # Written by nbjekyll migrate: notebooks shown with the outputs saved in them (not executed\n"
        "  # here), and the reason readers are shown. Remove a line to have the notebook executed.\n"
        "  saved_outputs:\n    a.ipynb: needs rdkit\n")
    assert with_saved_outputs("nbjekyll:\n  timeout: 60", "n", {"a.ipynb": "r"}, set()).endswith(
        "  timeout: 60\n  # Written by nbjekyll migrate: notebooks shown with the outputs saved in them (not executed\n"
        "  # here), and the reason readers are shown. Remove a line to have the notebook executed.\n"
        "  saved_outputs:\n    a.ipynb: r\n")


def test_a_one_line_setting_is_not_rewritten():
    with pytest.raises(MigrateError) as error:
        with_saved_outputs("nbjekyll:\n  saved_outputs: {a.ipynb: x}\n", "notebooks", {"b.ipynb": "y"}, set())
    assert str(error.value) == ("_config.yml: 'nbjekyll.saved_outputs' is written on one line; write it one entry a "
                                "line (saved_outputs:\\n    NOTEBOOK: REASON) and run migrate again")


def test_a_notebook_its_author_keeps_unexecuted_is_reported_and_not_run(blog, capsys):
    shutil.copy(NOTEBOOKS / "saved_outputs_front_matter.ipynb", blog / "_notebooks" / "2020-03-01-chosen.ipynb")
    code, out, err = nbjekyll(capsys, "migrate", "--site", str(blog), "--notebooks", "_notebooks", "--write",
                              str(blog / "_notebooks" / "2020-03-01-chosen.ipynb"))
    assert code == 0 and "executing" not in err + out
    assert re.fullmatch(r"2020-03-01-chosen\.ipynb +saved outputs +author's choice +needs the package rdkit +its front "
                        r"matter says execute: false", table_row(out, "2020-03-01-chosen.ipynb"))
    assert "_config.yml: nbjekyll.saved_outputs already says this; nothing changed" in out
    assert (blog / "_config.yml").read_text() == (BLOG / "_config.yml").read_text()
