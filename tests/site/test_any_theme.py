"""One post (a figure, maths, a `tab:` pair, a `#collapse` cell, a callout) in two blogs that are not
this one: (a) a new blog made by `nbjekyll init`, which has the site kit; (b) a blog with no layouts,
no theme and none of the kit. Real build tool, real `jekyll build`, Chromium."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitecheck import (BARE_BLOG_CONFIG, HERE, REPO, SCREENSHOTS, SHOT_FOLDERS, Site, check_tab_groups,
                       feed_entry, json_ld, math_in_html, served, start_bare_blog)

NOTEBOOK = HERE / "any_theme" / "2021-04-01-any-theme.ipynb"
POST_PATH = "/2021/04/01/any-theme.html"
BARE_CONFIG = BARE_BLOG_CONFIG + """\
exclude: [notebooks/]
nbjekyll:
  front_matter: {}   # no layout: this blog has none
"""

JS_VISIBLE_TEXT = """() => document.body.innerText"""


def build_posts(site: Path) -> None:
    (site / "notebooks").mkdir(exist_ok=True)
    shutil.copy(NOTEBOOK, site / "notebooks" / NOTEBOOK.name)
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--site", str(site)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"build.py failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def kit_blog(request, jekyll, nbjekyll_wheel, tmp_path_factory) -> Site:
    """As a new user: a fresh virtual environment with the wheel (and matplotlib, for the figure), then
    `nbjekyll init blog` and `nbjekyll build --site blog` in an empty folder, nothing of this checkout on the path."""
    from wheelenv import clean_env, make_venv
    home = tmp_path_factory.mktemp("new-user")
    venv = make_venv(home / "v", str(nbjekyll_wheel), "matplotlib")

    def nbjekyll(*args: str) -> None:
        done = subprocess.run([str(venv / "bin" / "nbjekyll"), *args], cwd=home, capture_output=True, text=True,
                              env=clean_env(), timeout=600)
        assert done.returncode == 0, f"nbjekyll {' '.join(args)}:\n{done.stdout}\n{done.stderr}"

    nbjekyll("init", "blog")
    shutil.copy(NOTEBOOK, home / "blog" / "notebooks" / NOTEBOOK.name)
    nbjekyll("build", "--site", "blog")
    return served(request, "init-blog", home / "blog")


@pytest.fixture(scope="module")
def bare_blog(request, jekyll, tmp_path_factory) -> Site:
    source = tmp_path_factory.mktemp("bare-blog")
    start_bare_blog(source, BARE_CONFIG)
    build_posts(source)
    assert not (source / "_layouts").exists() and not (source / "_includes").exists()
    # no search index: Pagefind indexes whole pages, and without layouts there are none (<html>, <body>)
    return served(request, "bare-blog", source, search=False)


def images_loaded(page) -> list:
    images = page.eval_on_selector_all("img", "els => els.map(i => [i.currentSrc, i.complete, i.naturalWidth])")
    assert images, "the post has a figure"
    return [src for src, complete, width in images if not (complete and width > 0)]


def screenshot(tab) -> None:
    """A full-page picture under tests/screenshots/<site name>/ (listed at the end of the run)."""
    out = SCREENSHOTS / tab.site.name / "2021-04-01-any-theme.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(out), full_page=True)
    SHOT_FOLDERS.add(out.parent)


def check_details(page) -> None:
    details = page.locator("details.hide-input")
    assert details.count() == 1
    body = details.locator(":scope > :not(summary)").first
    assert details.get_attribute("open") is None and not body.is_visible()
    details.locator(":scope > summary").click()
    assert body.is_visible() and "FOLDED" in body.inner_text()


def test_in_a_blog_made_by_init_the_post_reads_as_in_this_one(kit_blog, new_tab):
    tab = new_tab(kit_blog)
    page = tab.open(kit_blog.baseurl + POST_PATH)
    html = (kit_blog.dest / POST_PATH.lstrip("/")).read_text(encoding="utf-8")
    assert page.get_attribute("#MathJax-script", "src") == "/assets/nbjekyll/mathjax/tex-chtml.js"
    assert page.locator("mjx-container").count() == math_in_html(html) == 2
    assert page.locator("mjx-merror").count() == 0
    assert page.locator("pre code span[class]").count() > 10            # rouge highlighted the code
    assert images_loaded(page) == []
    screenshot(tab)
    check_tab_groups(page)                                             # a tab bar; choosing a tab works
    assert page.locator(".tab-bar [role=tab]").all_inner_texts() == ["PyTorch", "JAX"]
    assert page.locator(".copy-button").count() == 4                  # the kit's page.js ran
    # the kit's CSS is applied: the callout has its rule, the stamp its panel
    assert page.eval_on_selector(".callout", "e => getComputedStyle(e).borderLeftWidth") == "4px"
    assert "How this post was made" in page.locator("aside.provenance").inner_text()
    check_details(page)
    tab.assert_clean()


def test_in_a_blog_made_by_init_feed_and_seo_say_when_the_post_was_updated(kit_blog):
    """minima's own feed and SEO tags report the time the notebook ran (the kit's plugin reads the stamp)."""
    import yaml
    executed = yaml.safe_load((kit_blog.source / "_data" / "provenance" / "any-theme.yml").read_text())["executed"]
    xmlschema = executed.replace("Z", "+00:00")
    entry = feed_entry((kit_blog.dest / "feed.xml").read_text(encoding="utf-8"), POST_PATH)
    assert f"<updated>{xmlschema}</updated>" in entry
    assert "<published>2021-04-01T00:00:00+00:00</published>" in entry
    html = (kit_blog.dest / POST_PATH.lstrip("/")).read_text(encoding="utf-8")
    assert json_ld(html)["dateModified"] == xmlschema


def test_in_a_blog_with_no_layouts_the_post_still_reads(bare_blog, new_tab):
    tab = new_tab(bare_blog)
    page = tab.open(bare_blog.baseurl + POST_PATH)
    text = page.evaluate(JS_VISIBLE_TEXT)
    screenshot(tab)
    # maths as TeX, code highlighted, the figure, each tab under its label, the callout, the stamp
    assert "\\(e^{i\\pi} + 1 = 0\\)" in text and "\\[\\frac{\\partial L}{\\partial w}" in text
    assert page.locator("pre code span[class]").count() > 10
    assert images_loaded(page) == []
    assert page.locator(".tab-title").all_inner_texts() == ["PyTorch", "JAX"]
    assert page.get_by_text("tab one: PyTorch", exact=True).first.is_visible()
    assert page.get_by_text("tab two: JAX", exact=True).first.is_visible()
    assert "Note: a callout, written as fastpages wrote them." in text
    stamp = " ".join(page.locator("aside.provenance").inner_text().split())
    assert stamp.startswith("How this post was made Every output above came from executing 2021-04-01-any-theme.ipynb on ")
    check_details(page)
    # no raw Liquid, no kramdown or template syntax left in the page
    for stray in ("{%", "{{", "{:", "markdown=", "</", "nbj_"):
        assert stray not in text, f"{stray!r} shows in the page"
    assert page.locator("script").count() == 0
    tab.assert_clean()
