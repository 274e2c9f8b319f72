"""This repository's site (its committed _posts) built by `jekyll build`, checked in Chromium."""

import pytest

from sitecheck import REPO, check_post

POSTS = sorted(p.stem for p in (REPO / "_posts").glob("*.md"))
NOT_PUBLISHED = ["notebooks", "tests", "nbjekyll", "docs", "_build", "build.py", "requirements.txt",
                 "Makefile", "README.md", ".github", ".ci", ".gitignore", ".nbjekyll-kit.json"]

@pytest.mark.parametrize("stem", POSTS or [pytest.param(None, marks=pytest.mark.skip(
    reason="_posts/ has no posts yet: run `python build.py` (or `make build`) to make them"))])
def test_post_in_the_browser(real_site, new_tab, stem):
    post = next(p for p in real_site.posts if p.md.stem == stem)
    tab = new_tab(real_site)
    check_post(tab, post)

def test_home_lists_every_post(real_site, new_tab):
    tab = new_tab(real_site)
    page = tab.open(real_site.baseurl + "/")
    hrefs = page.locator(".post-list a.post-link").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert sorted(hrefs) == sorted(p.path for p in real_site.posts)
    assert page.locator(".site-nav a.page-link").all_inner_texts() == ["About"]
    page = tab.open(real_site.baseurl + "/about/")
    assert page.inner_text("h1.post-title") == "About"
    tab.assert_clean()

def test_only_the_site_is_published(real_site):
    leaked = [name for name in NOT_PUBLISHED if (real_site.dest / name).exists()]
    assert not leaked, f"published but should not be: {leaked}"
    assert not list(real_site.dest.rglob("*.ipynb"))
    assert (real_site.dest / "favicon.ico").is_file()
    assert (real_site.dest / "assets/nbjekyll/mathjax/tex-chtml.js").is_file()
    assert (real_site.dest / "assets/main.css").is_file()
    assert (real_site.dest / "assets/nbjekyll/tabs.js").is_file()
