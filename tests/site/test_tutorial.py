"""A tutorial (tests/build_tool/notebooks/tutorial: an index notebook and four chapters, two .ipynb, a
percent .py and a MyST .md, linking each other with a book's navigation line) read in Chromium: in a blog
made by `nbjekyll init` (the kit's chapter layout) and in a blog with no layouts (plain links). Real build
tool, real `jekyll build`; the reader follows "next" from the contents through every chapter and back."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from sitecheck import BARE_BLOG_CONFIG, REPO, SITE_FILES, Site, served, start_bare_blog

TUTORIAL = REPO / "tests" / "build_tool" / "notebooks" / "tutorial"
POST = REPO / "tests" / "build_tool" / "notebooks" / "tutorial_post.ipynb"
TITLES = ["First steps", "Reading data", "A chapter kept as percent text", "A chapter kept as MyST Markdown"]
PAGES = ["01-first-steps.html", "02-reading-data.html", "03-percent.html", "04-myst.html"]
TUTORIAL_SETTING = "  tutorials:\n    tutorials:\n      source: tutorials\n      title: A small tour\n"
COLLECTION = "collections:\n  tutorials:\n    output: true\n"
BARE_CONFIG = BARE_BLOG_CONFIG + """\
exclude: [notebooks/, tutorials/, _build/]
nbjekyll:
  front_matter: {}   # no layout: this blog has none
  tutorials:
    tutorials:
      source: tutorials
      title: A small tour
      layout: null
""" + COLLECTION


def add_tutorial_settings(site) -> None:
    """The three lines a blog's _config.yml gains for the tutorial: the setting, the exclusion, the collection."""
    path = site / "_config.yml"
    config = path.read_text(encoding="utf-8")
    assert "\nnbjekyll:\n" in config and "  - notebooks/\n" in config
    config = config.replace("\nnbjekyll:\n", "\nnbjekyll:\n" + TUTORIAL_SETTING, 1)
    config = config.replace("  - notebooks/\n", "  - notebooks/\n  - tutorials/\n", 1) + COLLECTION
    path.write_text(config, encoding="utf-8")


def build_tutorial(site) -> None:
    shutil.copytree(TUTORIAL, site / "tutorials")
    (site / "notebooks").mkdir(exist_ok=True)
    shutil.copy(POST, site / "notebooks" / "2021-01-01-welcome.ipynb")
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--site", str(site)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"build.py failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def kit_tutorial(request, jekyll, tmp_path_factory) -> Site:
    from nbjekyll.kit import init_site
    source = tmp_path_factory.mktemp("init-tutorial") / "blog"
    init_site(source)
    add_tutorial_settings(source)
    build_tutorial(source)
    return served(request, "init-tutorial", source, search=True)


@pytest.fixture(scope="module")
def this_site_tutorial(request, jekyll, tmp_path_factory) -> Site:
    """The tutorial in a copy of this repository's site (its layouts, styles and dark scheme, and the kit)."""
    source = tmp_path_factory.mktemp("site-tutorial")
    for name in SITE_FILES:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, source / name)
    add_tutorial_settings(source)
    build_tutorial(source)
    return served(request, "site-tutorial", source, search=True)


@pytest.fixture(scope="module")
def bare_tutorial(request, jekyll, tmp_path_factory) -> Site:
    source = tmp_path_factory.mktemp("bare-tutorial")
    start_bare_blog(source, BARE_CONFIG)
    build_tutorial(source)
    return served(request, "bare-tutorial", source, search=False)


def read_through(tab, site: Site, next_link: str, contents_link: str) -> list[str]:
    """From the contents page, "next" until there is none, then "Contents": the pages read on the way."""
    page = tab.open(site.baseurl + "/tutorials/")
    contents_url = page.url
    page.locator(".tutorial-contents a").first.click()
    tab.ready()
    read = []
    while True:
        read.append(page.url.rsplit("/", 1)[1])
        assert len(read) <= len(PAGES), read
        following = page.locator(next_link)
        if following.count() == 0:
            break
        following.first.click()
        tab.ready()
    page.locator(contents_link).first.click()
    tab.ready()
    assert page.url == contents_url
    return read


def test_with_the_kit_a_reader_follows_next_and_previous_through_every_chapter_and_back(kit_tutorial, new_tab):
    tab = new_tab(kit_tutorial)
    titles = []
    tab.page.on("load", lambda p: titles.append(p.title()))
    assert read_through(tab, kit_tutorial, ".chapter-pager a[rel=next]", ".chapter-pager-contents") == PAGES
    assert [t.split(" | ")[0] for t in titles[1:-1]] == TITLES
    # and back: "previous" from the last chapter through every one to the first
    page = tab.open(kit_tutorial.baseurl + "/tutorials/" + PAGES[-1])
    back = [PAGES[-1]]
    while page.locator(".chapter-pager a[rel=prev]").count():
        assert len(back) <= len(PAGES), back
        page.locator(".chapter-pager a[rel=prev]").first.click()
        tab.ready()
        back.append(page.url.rsplit("/", 1)[1])
    assert back == PAGES[::-1]
    page = tab.open(kit_tutorial.baseurl + "/tutorials/04-myst.html")
    # the layout draws the navigation; the page's own plain links stay out
    assert page.locator(".chapter-nav").count() == 0
    assert page.locator(".chapter-kicker").inner_text() == "Chapter 4 of 4 · A small tour"
    # the book's own navigation line leads back too, under the baseurl
    page.get_by_role("link", name="< Percent").click()
    tab.ready()
    assert page.locator("h1").first.inner_text() == "A chapter kept as percent text"
    tab.assert_clean()


def test_the_chapter_list_shows_on_wide_screens_and_phones_read_without_scrolling_sideways(this_site_tutorial,
                                                                                          new_tab):
    kit_tutorial = this_site_tutorial
    wide = new_tab(kit_tutorial, width=1400)
    page = wide.open(kit_tutorial.baseurl + "/tutorials/02-reading-data.html")
    assert page.locator(".chapter-list").is_visible()
    assert page.locator(".chapter-list li").all_inner_texts() == TITLES
    assert page.locator(".chapter-list a[aria-current=page]").inner_text() == "Reading data"
    for scheme in ("light", "dark"):
        phone = new_tab(kit_tutorial, width=390, scheme=scheme)
        page = phone.open(kit_tutorial.baseurl + "/tutorials/02-reading-data.html")
        assert not page.locator(".chapter-list").is_visible()
        assert page.locator(".chapter-pager a[rel=next]").first.is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        phone.assert_clean()
    wide.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chapter_pages_pass_axe(this_site_tutorial, new_tab, scheme):
    kit_tutorial = this_site_tutorial
    from axe_playwright_python.sync_playwright import Axe
    axe = Axe()
    for width in (390, 1400):
        tab = new_tab(kit_tutorial, width=width, scheme=scheme)
        for path in ("/tutorials/", "/tutorials/01-first-steps.html", "/tutorials/04-myst.html"):
            page = tab.open(kit_tutorial.baseurl + path)
            results = axe.run(page)
            serious = [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})" for v in results.response["violations"]
                       if v.get("impact") in ("serious", "critical")]
            assert not serious, f"{path} at {width} px, {scheme}: {serious}"


def test_without_layouts_the_navigation_is_plain_links(bare_tutorial, new_tab):
    tab = new_tab(bare_tutorial)
    assert read_through(tab, bare_tutorial, ".chapter-nav a[rel=next]", ".chapter-nav a:text('Contents')") == PAGES
    page = tab.open(bare_tutorial.baseurl + "/2021/01/01/welcome.html")
    page.get_by_role("link", name="second chapter").click()
    tab.ready()
    text = page.evaluate("() => document.body.innerText")
    assert "← First steps · Contents: A small tour · A chapter kept as percent text →" in text, text
    for stray in ("{%", "{{", "nbj_"):
        assert stray not in text
    tab.assert_clean()
