"""This repository's site (its committed _posts) built by `jekyll build`, checked in Chromium."""

import pytest
import yaml

from sitecheck import REPO, check_post, feed_entry, json_ld

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


def test_posts_say_when_they_were_updated(real_site):
    """The time each post's notebook last ran (its stamp): under the date, in the feed, the SEO data
    and the sitemap, put there by the kit's _plugins/nbjekyll/last_modified.rb."""
    import datetime
    import re
    feed = (real_site.dest / "feed.xml").read_text("utf-8")
    sitemap = (real_site.dest / "sitemap.xml").read_text("utf-8")
    for post in real_site.posts:
        stamp = yaml.safe_load((REPO / "_data" / "provenance" / f"{post.slug}.yml").read_text("utf-8"))
        assert "last_modified_at" not in post.fm          # the post's file carries no time: the kit's plugin adds it
        updated = datetime.datetime.strptime(stamp["executed"], "%Y-%m-%dT%H:%M:%SZ")
        assert updated.date() > datetime.date.fromisoformat(post.md.name[:10])
        xmlschema = updated.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        html = post.html.read_text("utf-8")
        shown = re.search(r'<span class="post-updated">Updated <time class="dt-updated" datetime="([^"]+)"'
                          r' itemprop="dateModified">([^<]+)</time>', html)
        assert shown and shown.groups() == (xmlschema, updated.strftime("%b %-d, %Y")), post.slug
        ld = json_ld(html)
        assert ld["dateModified"] == xmlschema and ld["datePublished"].startswith(post.md.name[:10])
        assert f"<updated>{xmlschema}</updated>" in feed_entry(feed, f"/{post.slug}.html"), post.slug
        url = re.search(r"<url>\s*<loc>[^<]*/" + re.escape(post.slug) + r"\.html</loc>\s*<lastmod>([^<]+)</lastmod>",
                        sitemap)
        assert url and url.group(1) == xmlschema, post.slug
