"""The site in a real browser: real `jekyll build`, served from a thread, driven by Chromium.

Two sites are checked:

* the *test site*: a throwaway copy (in a temporary folder) of this repository's site files
  (`_config.yml` with a non-empty, two-level baseurl, `_layouts`, `_includes`, `assets`,
  `favicon.ico`, `index.md`, `about.md`) plus the notebooks in `tests/site/notebooks/`,
  turned into posts by the real build tool (`python build.py --site TMP`), then `jekyll build`;
* the *real site*: this repository with its committed `_posts`, built by `jekyll build`.

Locally a missing `jekyll` or Chromium/Playwright skips these tests with the reason; with the
environment variable CI=true it fails them. Full-page screenshots of every post go to
`tests/screenshots/` (printed at the end of the run).
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sitecheck import (CHROMIUM, CHROMIUM_ARGS, HERE, REPO, SCREENSHOTS, SHOT_FOLDERS, SITE_FILES, TEST_BASEURL,
                       Site, SiteServer, Tab, collect_posts, jekyll_build, require)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def jekyll():
    require(shutil.which("jekyll") is not None, "jekyll is not installed (apt-get install jekyll …, see Makefile 'setup')")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install -r requirements.txt)")
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _serve(request, site: Site) -> Site:
    shutil.rmtree(SCREENSHOTS / site.name, ignore_errors=True)  # no stale pictures of old posts
    server = SiteServer(site.dest, site.baseurl)
    request.addfinalizer(server.close)
    site.origin = server.origin
    return site


@pytest.fixture(scope="session")
def test_site(request, jekyll, tmp_path_factory) -> Site:
    src = tmp_path_factory.mktemp("test-site")
    for name in SITE_FILES:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, src / name)
    config_text = (src / "_config.yml").read_text(encoding="utf-8")
    config_text, n = re.subn(r"(?m)^baseurl:.*$", f'baseurl: "{TEST_BASEURL}"', config_text)
    assert n == 1, "_config.yml must have one top-level 'baseurl:' line"
    (src / "_config.yml").write_text(config_text, encoding="utf-8")
    shutil.copytree(HERE / "notebooks", src / "notebooks")
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--site", str(src)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"build.py failed:\n{proc.stdout}\n{proc.stderr}"
    dest = src / "_site"
    jekyll_build(src, dest)
    config = yaml.safe_load(config_text)
    site = Site("test-site", src, dest, config, collect_posts(src, dest, TEST_BASEURL))
    assert [p.slug for p in site.posts] == ["maths", "tabs", "figure", "interactive"]
    return _serve(request, site)


@pytest.fixture(scope="session")
def real_site(request, jekyll, tmp_path_factory) -> Site:
    dest = tmp_path_factory.mktemp("real-site") / "_site"
    jekyll_build(REPO, dest)
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    site = Site("real-site", REPO, dest, config, collect_posts(REPO, dest, config.get("baseurl") or ""))
    return _serve(request, site)


@pytest.fixture
def new_tab(browser):
    """new_tab(site, javascript=True, width=1000, scheme="light", permissions=()) -> Tab in a fresh
    browser context (empty localStorage), `width` px wide, in that colour scheme."""
    contexts = []

    def make(site: Site, javascript: bool = True, context=None, width: int = 1000, scheme: str = "light",
             permissions: tuple = ()) -> Tab:
        if context is None:
            context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 800},
                                          color_scheme=scheme, permissions=list(permissions))
            contexts.append(context)
        return Tab(context, site)

    yield make
    for c in contexts:
        c.close()


def pytest_terminal_summary(terminalreporter):
    for folder in sorted(SHOT_FOLDERS):
        terminalreporter.write_line(f"site screenshots: {folder}")


