"""Helpers of the site tests (tests/site): build, serve, and check pages in Chromium.

See conftest.py for the fixtures that use them."""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCREENSHOTS = REPO / "tests" / "screenshots"
TEST_BASEURL = "/test-base/blog"
SITE_FILES = ["_config.yml", "_layouts", "_includes", "assets", "favicon.ico", "index.md", "about.md", "search.md"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(ok: bool, reason: str) -> None:
    """Skip with `reason` when `ok` is false; on CI (CI=true) fail instead."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


# A blog with no theme and no layouts: kramdown with MathJax maths, as a new blog's _config.yml has it.
# Each test adds its own `exclude:` and `nbjekyll:` lines.
BARE_BLOG_CONFIG = """\
title: No layouts
markdown: kramdown
kramdown:
  input: GFM
  math_engine: mathjax
  syntax_highlighter: rouge
"""


def start_bare_blog(source: Path, config: str) -> None:
    """Start a bare blog in `source`: its _config.yml, and favicon.ico, which Chromium asks every site for
    on its own (a page without layouts names no icon)."""
    (source / "_config.yml").write_text(config, encoding="utf-8")
    shutil.copy(REPO / "favicon.ico", source / "favicon.ico")


# ---------------------------------------------------------------- what Jekyll's plugins published

def feed_entry(feed: str, path: str) -> str:
    """The one jekyll-feed <entry> whose page ends with `path` (e.g. "/any-theme.html")."""
    entries = [e for e in feed.split("<entry>")[1:] if f'{path}" rel="alternate"' in e]
    assert len(entries) == 1, f"{len(entries)} feed entries link to {path}"
    return entries[0]


def json_ld(html: str) -> dict:
    """A page's jekyll-seo-tag JSON-LD."""
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


# ---------------------------------------------------------------- building

def front_matter(md_file: Path) -> dict:
    text = md_file.read_text(encoding="utf-8")
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert m, f"{md_file} has no front matter"
    return yaml.safe_load(m.group(1)) or {}


def jekyll_build(source: Path, dest: Path, *extra_configs: Path, search: bool = True) -> None:
    """`jekyll build` as make build runs it, with no warning allowed; then (``search``) Pagefind's index."""
    configs = ",".join(str(p) for p in [source / "_config.yml", *extra_configs])
    env = dict(os.environ, JEKYLL_NO_BUNDLER_REQUIRE="true", JEKYLL_ENV="production")
    proc = subprocess.run(
        ["jekyll", "build", "--source", str(source), "--destination", str(dest),
         "--config", configs, "--disable-disk-cache", "--strict_front_matter", "--trace"],
        cwd=source, env=env, capture_output=True, text=True, timeout=300)
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # no colour codes
    assert proc.returncode == 0, f"jekyll build of {source} failed:\n{out}"
    # Jekyll reports Liquid and kramdown problems as warnings and still exits 0.
    warnings = [l for l in out.splitlines() if re.search(r"\b(warning|error)\b", l, re.I)]
    assert not warnings, "jekyll build warned:\n" + "\n".join(warnings)
    # the search index, as make build and CI make it
    if not search:
        return
    proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(dest), "--silent"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"pagefind failed:\n{proc.stdout}{proc.stderr}"


@dataclass
class Post:
    md: Path                 # the _posts/… .md file
    slug: str                # 2021-03-01-maths -> maths
    fm: dict                 # its front matter
    html: Path               # the built page
    path: str                # its URL path, baseurl included

    @property
    def title(self) -> str:
        return self.fm["title"]


@dataclass
class Site:
    name: str                # "test-site" / "real-site" (screenshot folder)
    source: Path
    dest: Path
    config: dict
    posts: list[Post] = field(default_factory=list)
    origin: str = ""         # http://127.0.0.1:PORT once served

    @property
    def baseurl(self) -> str:
        return self.config.get("baseurl") or ""

    def url(self, path: str) -> str:
        return self.origin + path

    def post(self, slug: str) -> Post:
        return next(p for p in self.posts if p.slug == slug)


def collect_posts(source: Path, dest: Path, baseurl: str) -> list[Post]:
    posts = []
    for md in sorted((source / "_posts").glob("*.md")):
        slug = md.stem[11:]
        built = [h for h in dest.rglob(f"{slug}.html") if 'class="post h-entry"' in h.read_text("utf-8")]
        assert len(built) == 1, f"{md.name}: expected one built page, found {built}"
        path = baseurl + "/" + built[0].relative_to(dest).as_posix()
        posts.append(Post(md, slug, front_matter(md), built[0], path))
    return posts


# ---------------------------------------------------------------- serving

class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under its baseurl; anything outside the baseurl is a 404."""

    def translate_path(self, path):
        base = self.server.baseurl
        p = urllib.parse.urlsplit(path).path
        if base:
            if not (p == base or p.startswith(base + "/")):
                return str(Path(self.directory) / "__outside_the_baseurl__")
            path = path[len(base):] or "/"
        return super().translate_path(path)

    def log_message(self, *args):
        pass


class SiteServer:
    def __init__(self, root: Path, baseurl: str):
        handler = lambda *a, **kw: _Handler(*a, directory=str(root), **kw)  # noqa: E731
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.baseurl = baseurl
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()



def served(request, name: str, source: Path, search: bool = True) -> Site:
    """``jekyll build`` of the blog at ``source`` into its ``_site``, served on 127.0.0.1 until the fixture ends
    (``request`` is the fixture's: the server closes with it)."""
    dest = source / "_site"
    jekyll_build(source, dest, search=search)
    site = Site(name, source, dest, yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8")))
    server = SiteServer(dest, site.baseurl)
    request.addfinalizer(server.close)
    site.origin = server.origin
    return site


# ---------------------------------------------------------------- the browser side

class Tab:
    """A Playwright page that records everything that went wrong while it was open."""

    def __init__(self, context, site: Site):
        self.site = site
        self.page = context.new_page()
        # Only a guard against hangs: on a loaded two-core machine MathJax can take long over the main post.
        self.page.set_default_timeout(90_000)
        self.problems: list[str] = []
        self.requests: list[str] = []
        pg = self.page
        pg.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        pg.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        pg.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        pg.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        pg.on("request", lambda r: self.requests.append(r.url))
        self.in_flight: dict = {}
        pg.on("request", lambda r: self.in_flight.__setitem__(id(r), r.url))
        pg.on("requestfinished", lambda r: self.in_flight.pop(id(r), None))
        pg.on("requestfailed", lambda r: self.in_flight.pop(id(r), None))

    def open(self, path: str):
        self.page.goto(self.site.url(path), wait_until="load")
        return self.ready()

    def ready(self):
        """The loaded page once MathJax has typeset it and its requests (fonts) are done; leaving
        earlier would abort them, which counts as a failed request."""
        self.page.wait_for_load_state("load")
        if self.page.evaluate("() => !!document.getElementById('MathJax-script')"):
            self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            self.page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")
        self.settle()
        return self.page

    def settle(self, quiet: float = 0.5, limit: float = 30.0) -> None:
        """Wait until no request has been in flight for ``quiet`` seconds (what Playwright's
        "networkidle" means), but give up after ``limit`` with a warning naming what is still
        pending: twice in CI a page loaded, typeset and then never went idle (the test server or a
        lazy MathJax component), and the checks that follow need a loaded page, not an idle one."""
        import warnings
        deadline, idle_since = time.monotonic() + limit, None
        while time.monotonic() < deadline:
            if self.in_flight:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            self.page.wait_for_timeout(50)
        warnings.warn(f"{self.page.url}: still waiting {limit:.0f} s after load for {sorted(self.in_flight.values())}")

    def assert_clean(self):
        outside = [u for u in self.requests
                   if not u.startswith(self.site.origin + self.site.baseurl + "/") and not u.startswith("data:")]
        assert not outside, f"requests outside the site (CDN? missing baseurl?): {outside}"
        assert not self.problems, "\n".join(self.problems)


SHOT_FOLDERS: set[Path] = set()


def screenshot(tab: Tab, post: Post) -> Path:
    out = SCREENSHOTS / tab.site.name / f"{post.md.stem}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(out), full_page=True)
    SHOT_FOLDERS.add(out.parent)
    return out


# ---------------------------------------------------------------- checks for any post

TEXT_LANGS = {"text", "plaintext"}

JS_TEXT_OUTSIDE_CODE = """() => {
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    if (!n.parentElement.closest('pre, code, script, style, mjx-container')) out.push(n.nodeValue);
  }
  return out.join(' ');
}"""

JS_CODE_BLOCKS = """() => Array.from(document.querySelectorAll('.post-content div.highlighter-rouge')).map(d => ({
  lang: (Array.from(d.classList).find(c => c.startsWith('language-')) || '').slice(9),
  output: d.classList.contains('output'),
  spans: d.querySelectorAll('pre code span[class]').length,
}))"""


def math_in_html(html: str) -> int:
    """How many \\(…\\) / \\[…\\] kramdown wrote, outside code and scripts."""
    body = re.sub(r"<(pre|code|script)\b.*?</\1>", "", html, flags=re.S)
    return body.count("\\(") + body.count("\\[")


def fenced_code_blocks(md: str) -> int:
    """Fenced blocks with a language other than text in a post's Markdown."""
    return sum(1 for m in re.finditer(r"(?m)^(?:`{3,}|~{3,})([\w+#.-]+)[ \t]*$", md)
               if m.group(1) not in TEXT_LANGS)


def check_post(tab: Tab, post: Post) -> Path:
    """Everything every post must satisfy; returns the full-page screenshot taken on the way
    (after MathJax, before any clicking)."""
    site, page = tab.site, tab.open(post.path)
    html = post.html.read_text(encoding="utf-8")
    md = post.md.read_text(encoding="utf-8")

    assert page.inner_text("h1.post-title") == post.title

    # images: every one loaded
    images = page.eval_on_selector_all("img", "els => els.map(i => [i.currentSrc, i.complete, i.naturalWidth])")
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert not broken, f"images not loaded: {broken}"

    # maths: MathJax only where math: true; every expression typeset, no delimiters left
    has_mathjax = page.locator("#MathJax-script").count() == 1
    assert has_mathjax == bool(post.fm.get("math")), "MathJax must load exactly on posts with math: true"
    expected_math = math_in_html(html)
    assert page.locator("mjx-container").count() == expected_math
    assert page.locator("mjx-merror, mjx-container [data-mjx-error]").count() == 0, "MathJax reported TeX errors"
    if post.fm.get("math"):
        assert expected_math > 0
        src = page.get_attribute("#MathJax-script", "src")
        assert src == site.baseurl + "/assets/nbjekyll/mathjax/tex-chtml.js"
    text = page.evaluate(JS_TEXT_OUTSIDE_CODE)
    for raw in ("$$", "\\(", "\\["):
        assert raw not in text, f"untypeset maths {raw!r} in: …{text[max(0, text.find(raw) - 80):text.find(raw) + 80]}…"

    shot = screenshot(tab, post)

    # code: every non-text block highlighted by rouge, outputs are plain text blocks
    blocks = page.evaluate(JS_CODE_BLOCKS)
    code = [b for b in blocks if b["lang"] not in TEXT_LANGS]
    assert len(code) == fenced_code_blocks(md)
    assert all(b["spans"] > 0 for b in code), f"code blocks without rouge highlighting: {code}"
    assert all(b["lang"] in TEXT_LANGS for b in blocks if b["output"])

    # <details> (hide-input / hide-output) open and close
    for i in range(page.locator("details.hide-input, details.hide-output").count()):
        det = page.locator("details.hide-input, details.hide-output").nth(i)
        body = det.locator(":scope > :not(summary)").first
        assert det.get_attribute("open") is None and not body.is_visible()
        det.locator(":scope > summary").click()
        assert det.get_attribute("open") is not None and body.is_visible()
        det.locator(":scope > summary").click()
        assert det.get_attribute("open") is None and not body.is_visible()

    # tab groups: a tab per panel, first tab open, and choosing a tab syncs every group
    check_tab_groups(page)

    # links to the notebook
    check_notebook_links(page, post, site.config.get("notebook_links") or {})

    # series navigation
    check_series(page, site, post)

    tab.assert_clean()
    return shot


JS_GROUPS = """() => Array.from(document.querySelectorAll('.tab-group')).map(g => {
  const panels = Array.from(g.children).filter(e => e.classList.contains('tab-panel'));
  const bar = g.querySelector(':scope > .tab-bar[role=tablist]');
  const buttons = bar ? Array.from(bar.querySelectorAll('[role=tab]')) : [];
  return {
    panels: panels.map(p => p.dataset.tab),
    tabs: buttons.map(b => b.textContent),
    selected: buttons.filter(b => b.getAttribute('aria-selected') === 'true').map(b => b.textContent),
    shown: panels.filter(p => p.offsetParent !== null).map(p => p.dataset.tab),
    titlesShown: Array.from(g.querySelectorAll(':scope > .tab-panel > .tab-title')).filter(t => t.offsetParent !== null).length,
    controls: buttons.map(b => document.getElementById(b.getAttribute('aria-controls')) === panels[buttons.indexOf(b)]),
  };
})"""


def tab_state(page) -> list[dict]:
    return page.evaluate(JS_GROUPS)


def check_tab_groups(page) -> None:
    groups = tab_state(page)
    for g in groups:
        assert g["panels"] and g["tabs"] == g["panels"]
        assert all(g["controls"]), "each tab must control its own panel (aria-controls)"
        assert g["titlesShown"] == 0
        # fresh context: nothing remembered, so each group opens on its first tab
        assert g["selected"] == g["shown"] == [g["panels"][0]]
    for gi, g in enumerate(groups):
        for name in g["panels"]:
            page.locator(".tab-group").nth(gi).get_by_role("tab", name=name, exact=True).click()
            for other in tab_state(page):
                if name in other["panels"]:
                    assert other["selected"] == other["shown"] == [name]
                else:
                    assert len(other["selected"]) == len(other["shown"]) == 1


def notebook_link_hrefs(notebook: str, links: dict) -> dict:
    repo, branch = links["repository"], links.get("branch", "main")
    path = f"{links['directory'].strip('/')}/{notebook}" if links.get("directory") else notebook
    hrefs = {
        "colab": f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}",
        "binder": f"https://mybinder.org/v2/gh/{repo}/{branch}?labpath={urllib.parse.quote(path, safe='')}",
        "source": f"https://github.com/{repo}/blob/{branch}/{path}",
    }
    return {k: v for k, v in hrefs.items() if links.get(k, True) is not False}


LINK_TEXT = {"colab": "Open in Colab", "binder": "Launch Binder", "source": "View the notebook source"}


def check_notebook_links(page, post: Post, links: dict) -> None:
    found = page.eval_on_selector_all(
        ".post-header .notebook-links a", "els => els.map(a => [a.className, a.textContent, a.href])")
    if not post.fm.get("notebook") or not links.get("repository"):
        assert found == []
        return
    expected = notebook_link_hrefs(post.fm["notebook"], links)
    assert found == [[f"notebook-link {k}", LINK_TEXT[k], href] for k, href in expected.items()]


def series_posts(site: Site, series: str) -> list[Post]:
    return sorted((p for p in site.posts if p.fm.get("series") == series),
                  key=lambda p: str(p.fm.get("date") or p.md.stem[:10]))


def check_series(page, site: Site, post: Post) -> None:
    if not post.fm.get("series"):
        assert page.locator(".series-toc, .series-pager").count() == 0
        return
    members = series_posts(site, post.fm["series"])
    i = members.index(post)
    toc = page.locator(".post-header .series-toc")
    assert toc.locator(".series-title").inner_text() == \
        f"Part {i + 1} of {len(members)} in the series {post.fm['series']}"
    assert toc.locator("li").all_inner_texts() == [p.title for p in members]
    assert toc.locator("li a").evaluate_all("as => as.map(a => a.getAttribute('href'))") == \
        [p.path for p in members if p is not post]
    assert toc.locator("li.current").inner_text() == post.title
    pager = page.locator(".series-pager")
    prev_, next_ = pager.locator("a[rel=prev]"), pager.locator("a[rel=next]")
    if i > 0:
        assert prev_.get_attribute("href") == members[i - 1].path
        assert members[i - 1].title in prev_.inner_text()
    else:
        assert prev_.count() == 0
    if i + 1 < len(members):
        assert next_.get_attribute("href") == members[i + 1].path
        assert members[i + 1].title in next_.inner_text()
    else:
        assert next_.count() == 0
