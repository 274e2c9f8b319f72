"""`nbjekyll init`: the site kit, the theme hook, _config.yml, the workflow (nbjekyll/kit.py,
nbjekyll/commands/init.py), on blogs made by the tests and built by the real Debian `jekyll build`."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from buildsite import require_jekyll
from nbjekyll.commands import init as init_command
from nbjekyll.kit import (HOOK_LINE, KIT_SITE, MANIFEST, WORKFLOW, Action, InitError, init_site,
                          theme_head)

REPO = Path(__file__).resolve().parents[2]
KIT_FILES = sorted(p.relative_to(KIT_SITE).as_posix() for p in KIT_SITE.rglob("*") if p.is_file())

MINIMA_CONFIG = """\
# My blog
title: Plain minima   # shown in the header
theme: minima
exclude:
  - Gemfile
  - vendor/   # bundler's gems

# the end
"""

POST = """\
---
layout: post
title: Hello
---
Hello from a minima blog.
"""


def tree(root: Path) -> dict[str, bytes]:
    """Every file and folder under root, with its bytes ('' for a folder)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"")
            for p in sorted(root.rglob("*"))}


def actions(report) -> dict[str, Action]:
    return {f.path: f.action for f in report.files}


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="nbjekyll init")
    init_command.add_arguments(parser)
    return init_command.run(parser.parse_args(list(argv)))


def jekyll_build(site: Path) -> str:
    require_jekyll()
    env = dict(os.environ, JEKYLL_NO_BUNDLER_REQUIRE="true")
    proc = subprocess.run(["jekyll", "build", "--source", str(site), "--destination", str(site / "_site")],
                          cwd=site, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert not re.search(r"\b(warning|error)\b", out, re.I), out
    return out


def minima_blog(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(MINIMA_CONFIG)
    (root / "_posts" / "2021-01-01-hello.md").write_text(POST)
    return root


def test_an_empty_folder_becomes_a_blog_that_jekyll_builds(tmp_path, capsys):
    blog = tmp_path / "blog"
    assert cli(str(blog)) == 0
    out = capsys.readouterr().out
    minima_has_no_hook = "minima's head.html and the kit's line: minima has no custom-head.html hook"
    assert out.splitlines()[:17] == [
        f"nbjekyll init {blog}: a new blog",
        "  created      _config.yml (a new blog, theme minima)",
        "  created      index.md",
        "  created      .gitignore",
        "  created      favicon.ico",
        "  created      _includes/nbjekyll/head.html",
        "  created      _layouts/chapter.html",
        "  created      _plugins/nbjekyll/last_modified.rb",
        "  created      assets/nbjekyll/mathjax/ (60 files)",
        "  created      assets/nbjekyll/nbjekyll.css",
        "  created      assets/nbjekyll/page.js",
        "  created      assets/nbjekyll/tabs.js",
        f"  created      _includes/head.html ({minima_has_no_hook})",
        "  created      .github/workflows/nbjekyll.yml",
        "  created      notebooks/ (put your notebooks here)",
        "  created      .nbjekyll-kit.json (what init installed, for --upgrade)",
        "Next:",
    ]
    assert (blog / "notebooks").is_dir()
    assert (blog / WORKFLOW).read_bytes() == (REPO / "nbjekyll/kit/workflow.yml").read_bytes()
    jekyll_build(blog)
    home = (blog / "_site/index.html").read_text()
    assert '<link rel="stylesheet" href="/assets/nbjekyll/nbjekyll.css">' in home
    assert '<script defer src="/assets/nbjekyll/tabs.js"></script>' in home
    assert (blog / "_site/assets/nbjekyll/mathjax/tex-chtml.js").is_file()
    assert not (blog / "_site/notebooks").exists()


def test_minima_blog_gets_the_hook_and_keeps_its_keys_and_comments(tmp_path):
    blog = minima_blog(tmp_path / "blog")
    report = init_site(blog)
    assert actions(report)["_config.yml"] is Action.UPDATED
    assert (blog / "_config.yml").read_text() == MINIMA_CONFIG.replace(
        "  - vendor/   # bundler's gems\n", "  - vendor/   # bundler's gems\n  - notebooks/\n") + (
        "\n# Settings of nbjekyll, which executes the notebooks in notebooks_dir and writes them as posts\n"
        "# (`nbjekyll build`); every setting is described in its docs.\n"
        "nbjekyll:\n"
        "  notebooks_dir: notebooks\n")
    # minima 2.5 (Debian's, GitHub Pages') has no custom-head.html hook: its head.html, plus one line
    head = (blog / "_includes/head.html").read_text()
    minima = theme_head("minima")
    assert "custom-head.html" not in minima
    assert head == minima.replace("</head>", f"  {HOOK_LINE}\n</head>")
    assert not (blog / "_includes/custom-head.html").exists()
    jekyll_build(blog)
    page = (blog / "_site/2021/01/01/hello.html").read_text()
    assert '<link rel="stylesheet" href="/assets/nbjekyll/nbjekyll.css">' in page
    assert "Hello from a minima blog." in page


def test_a_theme_with_a_custom_head_hook_gets_one_line_there(tmp_path):
    # the site's own head.html includes custom-head.html, as minima 3's does
    blog = minima_blog(tmp_path / "blog")
    (blog / "_includes").mkdir()
    head = (theme_head("minima") or "").replace("</head>", "  {%- include custom-head.html -%}\n</head>")
    (blog / "_includes/head.html").write_text(head)
    (blog / "_includes/custom-head.html").write_text("<!-- mine -->\n<meta name=\"mine\" content=\"1\">")
    report = init_site(blog)
    assert [(f.path, f.action, f.note) for f in report.files if "head" in f.path and "nbjekyll" not in f.path] == \
        [("_includes/custom-head.html", Action.UPDATED, "added the kit's line")]
    assert (blog / "_includes/custom-head.html").read_text() == \
        f"<!-- mine -->\n<meta name=\"mine\" content=\"1\">\n{HOOK_LINE}\n"
    assert (blog / "_includes/head.html").read_text() == head
    jekyll_build(blog)
    page = (blog / "_site/2021/01/01/hello.html").read_text()
    assert re.search(r'<meta name="mine" content="1">\s*<link rel="stylesheet" href="/assets/nbjekyll/nbjekyll.css">',
                     page)


def test_fastpages_blog_keeps_its_layouts_and_notebooks_folder_and_is_told_the_line_to_add(tmp_path, capsys):
    blog = tmp_path / "fastpages"
    for folder in ("_layouts", "_includes", "_notebooks", "_posts"):
        (blog / folder).mkdir(parents=True)
    (blog / "_config.yml").write_text("title: fastpages\n# no theme: the layouts are the blog's own\n")
    layout = "<html>{%- include head.html -%}<body>{{ content }}</body></html>\n"
    own_head = "<head><title>{{ page.title }}</title></head>\n"
    (blog / "_layouts/default.html").write_text(layout)
    (blog / "_includes/head.html").write_text(own_head)
    assert cli(str(blog)) == 0
    out = capsys.readouterr().out
    assert f"  add this line to _includes/head.html (add this line before </head>):\n      {HOOK_LINE}\n" in out
    assert f"  put your notebooks in {blog}/_notebooks/" in out
    assert (blog / "_layouts/default.html").read_text() == layout
    assert (blog / "_includes/head.html").read_text() == own_head
    # _notebooks and _build start with '_': Jekyll leaves them out already, so no exclude: entries
    assert (blog / "_config.yml").read_text().endswith("nbjekyll:\n  notebooks_dir: _notebooks\n")
    assert "exclude" not in (blog / "_config.yml").read_text()
    # once the user adds the line, init finds it
    (blog / "_includes/head.html").write_text(own_head.replace("</head>", HOOK_LINE + "</head>"))
    assert actions(init_site(blog))["_includes/head.html"] is Action.UNCHANGED
    jekyll_build(blog)


def test_a_layout_with_its_own_head_is_named_in_the_line_to_add(tmp_path):
    blog = tmp_path / "blog"
    (blog / "_layouts").mkdir(parents=True)
    (blog / "_config.yml").write_text("title: own layouts\n")
    (blog / "_layouts/default.html").write_text("<html><head><title>x</title></head><body>{{ content }}</body></html>\n")
    report = init_site(blog)
    assert [(f.path, f.action, f.line) for f in report.to_do] == [("_layouts/default.html", Action.ADD_LINE, HOOK_LINE)]


def test_a_blog_with_no_theme_and_no_layouts_is_told_where_the_line_goes(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("title: bare\n")
    report = init_site(blog)
    assert [(f.path, f.action, f.note, f.line) for f in report.to_do] == [
        ("_includes/head.html", Action.ADD_LINE, "no theme and no layout with a <head>: add this line inside the "
                                                 "<head> of the layout your pages use", HOOK_LINE)]
    assert not (blog / "_includes/head.html").exists()


def test_a_theme_that_is_not_installed_is_named(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("theme: jekyll-theme-not-installed-here\n")
    report = init_site(blog)
    assert [(f.path, f.note) for f in report.to_do] == [
        ("_includes/head.html", "the theme jekyll-theme-not-installed-here's head.html was not found (is the theme "
                                "installed?): copy it here and add this line before </head>")]


def test_second_run_changes_nothing(tmp_path, capsys):
    blog = minima_blog(tmp_path / "blog")
    init_site(blog)
    before = tree(blog)
    times = {p: os.stat(blog / p).st_mtime_ns for p in before}
    report = init_site(blog)
    assert set(actions(report).values()) == {Action.UNCHANGED}
    assert report.changes == [] and report.to_do == []
    assert tree(blog) == before
    assert {p: os.stat(blog / p).st_mtime_ns for p in before} == times
    assert cli(str(blog)) == 0
    assert "Nothing to change: the blog is set up." in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["empty", "minima"])
def test_dry_run_writes_nothing_and_says_what_it_would_write(tmp_path, capsys, kind):
    blog = tmp_path / "blog"
    blog.mkdir()
    if kind == "minima":
        minima_blog(blog)
    before = tree(tmp_path)
    assert cli(str(blog), "--dry-run") == 0
    out = capsys.readouterr().out
    assert tree(tmp_path) == before
    assert out.startswith(f"Dry run (nothing written): nbjekyll init {blog}: ")
    assert "  would create assets/nbjekyll/nbjekyll.css\n" in out
    assert ("  would update _config.yml" if kind == "minima" else "  would create _config.yml") in out
    # and the dry run's report is the real run's
    dry = init_site(blog, dry_run=True)
    assert [(f.path, f.action) for f in init_site(blog).files] == [(f.path, f.action) for f in dry.files]


def test_a_kit_file_the_user_changed_is_kept_without_force_and_replaced_with_it(tmp_path, capsys):
    blog = minima_blog(tmp_path / "blog")
    init_site(blog)
    css = blog / "assets/nbjekyll/nbjekyll.css"
    css.write_text("/* mine */\n")
    assert cli(str(blog)) == 0
    assert "  kept         assets/nbjekyll/nbjekyll.css (changed by you; --force replaces it)\n" in \
        capsys.readouterr().out
    assert css.read_text() == "/* mine */\n"
    report = init_site(blog, upgrade=True)                   # an upgrade does not take it either
    assert actions(report)["assets/nbjekyll/nbjekyll.css"] is Action.KEPT
    assert css.read_text() == "/* mine */\n"
    report = init_site(blog, force=True)
    assert actions(report)["assets/nbjekyll/nbjekyll.css"] is Action.UPDATED
    assert css.read_bytes() == (KIT_SITE / "assets/nbjekyll/nbjekyll.css").read_bytes()
    assert set(actions(init_site(blog)).values()) == {Action.UNCHANGED}


def test_a_file_in_the_kits_place_that_init_did_not_write_is_kept(tmp_path):
    blog = minima_blog(tmp_path / "blog")
    (blog / "assets/nbjekyll").mkdir(parents=True)
    (blog / "assets/nbjekyll/tabs.js").write_text("// my own tabs\n")
    report = init_site(blog)
    assert [(f.path, f.action) for f in report.to_do] == [("assets/nbjekyll/tabs.js", Action.KEPT)]
    assert (blog / "assets/nbjekyll/tabs.js").read_text() == "// my own tabs\n"


def test_upgrade_refreshes_what_an_older_version_installed(tmp_path, capsys):
    blog = minima_blog(tmp_path / "blog")
    init_site(blog)
    # what an older nbjekyll would have left: an older tabs.js, recorded as installed by it
    old = b"// tabs.js of an older nbjekyll\n"
    (blog / "assets/nbjekyll/tabs.js").write_bytes(old)
    manifest = json.loads((blog / MANIFEST).read_text())
    manifest["files"]["assets/nbjekyll/tabs.js"] = hashlib.sha256(old).hexdigest()[:16]
    (blog / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    assert cli(str(blog)) == 0
    assert "  outdated     assets/nbjekyll/tabs.js (from an older nbjekyll; --upgrade refreshes it)\n" in \
        capsys.readouterr().out
    assert (blog / "assets/nbjekyll/tabs.js").read_bytes() == old
    assert cli(str(blog), "--upgrade") == 0
    out = capsys.readouterr().out
    assert "  updated      assets/nbjekyll/tabs.js\n" in out
    assert "  updated      .nbjekyll-kit.json (what init installed, for --upgrade)\n" in out
    assert (blog / "assets/nbjekyll/tabs.js").read_bytes() == (KIT_SITE / "assets/nbjekyll/tabs.js").read_bytes()
    assert set(actions(init_site(blog)).values()) == {Action.UNCHANGED}


def test_exclude_as_a_flow_list_gets_the_entries_inside_its_brackets(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("theme: minima\nexclude: [Gemfile, vendor/]  # not published\n")
    init_site(blog, workflow=False)
    assert (blog / "_config.yml").read_text().startswith(
        "theme: minima\nexclude: [Gemfile, vendor/, notebooks/]  # not published\n")
    assert not (blog / WORKFLOW).exists()


def test_a_folder_with_files_but_no_config_is_refused(tmp_path):
    folder = tmp_path / "stuff"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    with pytest.raises(InitError) as caught:
        init_site(folder)
    assert str(caught.value) == (
        f"{folder}: has files (notes.txt) but no _config.yml, so it is not a Jekyll blog; run nbjekyll init in "
        "your blog's folder (where _config.yml is), or in an empty folder for a new blog")
    assert caught.value.exit_code == 2
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_invalid_config_is_refused_with_its_line(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("title: x\nexclude: [a\n")
    with pytest.raises(InitError) as caught:
        init_site(blog)
    assert str(caught.value).startswith("_config.yml: line 3: invalid YAML (")
    assert str(caught.value).endswith("); fix it and run nbjekyll init again")
    assert sorted(p.name for p in blog.iterdir()) == ["_config.yml"]


def test_a_notebooks_folder_outside_the_blog_is_refused(tmp_path):
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("nbjekyll:\n  notebooks_dir: ../elsewhere\n")
    with pytest.raises(InitError) as caught:
        init_site(blog)
    assert str(caught.value) == ("_config.yml: nbjekyll.notebooks_dir must be a folder inside the blog, got "
                                 "'../elsewhere'; fix it and run nbjekyll init again")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blog"]


def test_this_repository_has_the_current_kit_installed():
    """The site's copy of the kit (committed like _posts/) is what `nbjekyll init --upgrade` installs."""
    report = init_site(REPO, dry_run=True, workflow=False)
    assert report.changes == [] and report.to_do == [], [(f.path, f.action) for f in report.changes + report.to_do]
    assert {f.path for f in report.files} >= set(KIT_FILES)
