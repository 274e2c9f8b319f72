"""Every post of the real site read on a phone (390 px) and on a desktop (1280 px), in Chromium:
table cells keep their words whole, figure text is big enough to read and not oversized, the Copy
button covers no code, and a display equation shows its start and stays inside the page.

Each post is opened once per width (MathJax over the whole series takes a while) and measured;
each test then checks one rule on those measurements and names every post and element that
breaks it.
"""
from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from sitecheck import Tab

WIDTHS = (390, 1280)

# A figure's 10-pt text, drawn at the PNG's dpi and shown at (shown width / pixel width) of its
# size, measures 10 * dpi / 72 * shown / pixels CSS px (the series' figure convention).
FIGURE_TEXT_PT = 10
MIN_TEXT_PX = 9       # the smallest a reader on a phone can read without zooming
MAX_TEXT_PX = 14.5    # about body text (16 px); larger is a figure drawn for a smaller screen

# Words of table cells (runs of characters between white space; typeset maths left out, it is
# never broken) whose characters fall on two lines: Range rectangles whose vertical middles lie
# more than half a line apart.
JS_BROKEN_WORDS = """() => {
  const twoLines = rects => {
    const rs = [...rects].filter(r => r.width > 0 && r.height > 0);
    return rs.some(a => rs.some(b =>
      Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2) > Math.min(a.height, b.height) / 2));
  };
  const broken = [];
  document.querySelectorAll('.post-content td, .post-content th').forEach(cell => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest('mjx-container') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    const chars = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode())
      for (let i = 0; i < n.nodeValue.length; i++) chars.push([n, i, n.nodeValue[i]]);
    let start = null;
    for (let k = 0; k <= chars.length; k++) {
      const space = k === chars.length || /\\s/.test(chars[k][2]);
      if (!space && start === null) start = k;
      if (space && start !== null) {
        const range = document.createRange();
        range.setStart(chars[start][0], chars[start][1]);
        range.setEnd(chars[k - 1][0], chars[k - 1][1] + 1);
        if (twoLines(range.getClientRects())) broken.push(chars.slice(start, k).map(c => c[2]).join(''));
        start = null;
      }
    }
  });
  return broken;
}"""

JS_FIGURES = """() => [...document.querySelectorAll('.post-content .output.image img')].map(img => ({
  src: img.getAttribute('src'), shown: img.getBoundingClientRect().width, pixels: img.naturalWidth}))"""

# The Copy button's box against the boxes of its cell's code text (every line, as laid out)
JS_COPY_OVER_CODE = """() => {
  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const blocks = [...document.querySelectorAll('.post-content div.highlighter-rouge')]
    .filter(b => b.querySelector('.copy-button'));
  return {
    buttons: blocks.length,
    covering: blocks.map((block, i) => {
      const button = block.querySelector('.copy-button').getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(block.querySelector('pre code'));
      const hit = [...range.getClientRects()].some(r => r.width > 0 && r.height > 0 && meets(button, r));
      return hit ? `code cell ${i + 1}: ${block.querySelector('pre code').textContent.split('\\n')[0]}` : null;
    }).filter(Boolean),
  };
}"""

# Each display equation at scrollLeft 0: where its typeset maths starts and ends against its box,
# and where its box ends against the page
JS_EQUATIONS = """() => [...document.querySelectorAll('mjx-container[display="true"]')].map((eq, i) => {
  eq.scrollLeft = 0;
  const box = eq.getBoundingClientRect(), maths = eq.firstElementChild.getBoundingClientRect();
  return {index: i + 1, boxLeft: box.left, boxRight: box.right, mathsLeft: maths.left,
          mathsRight: maths.right, scrollWidth: eq.scrollWidth, clientWidth: eq.clientWidth,
          overflowX: getComputedStyle(eq).overflowX, page: document.documentElement.clientWidth};
})"""


def png_dpi(path: Path) -> float:
    """The horizontal resolution a PNG declares (its pHYs chunk)."""
    with Image.open(path) as image:
        dpi = image.info.get("dpi")
    assert dpi and dpi[0] > 0, f"{path}: the PNG declares no resolution (pHYs), so its text size is unknown"
    return float(dpi[0])


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def measured(request, real_site, browser):
    """(width, {post slug: measurements}) with every post of the real site opened once at that width."""
    width = request.param
    context = browser.new_context(viewport={"width": width, "height": 800})
    request.addfinalizer(context.close)
    tab = Tab(context, real_site)
    found = {}
    for post in real_site.posts:
        page = tab.open(post.path)
        found[post.slug] = {
            "broken_words": page.evaluate(JS_BROKEN_WORDS),
            "figures": page.evaluate(JS_FIGURES),
            "copy": page.evaluate(JS_COPY_OVER_CODE),
            "equations": page.evaluate(JS_EQUATIONS),
        }
    tab.assert_clean()
    return width, found


def figure_text_px(site, figure: dict) -> float:
    path = urllib.parse.urlsplit(figure["src"]).path
    assert path.startswith(site.baseurl + "/"), figure["src"]
    dpi = png_dpi(site.dest / path[len(site.baseurl) + 1:])
    return FIGURE_TEXT_PT * dpi / 72 * figure["shown"] / figure["pixels"]


def test_no_table_cell_breaks_a_word(measured):
    width, posts = measured
    broken = {slug: m["broken_words"] for slug, m in posts.items() if m["broken_words"]}
    assert broken == {}, f"words of table cells broken across two lines at {width} px: {broken}"


def test_figure_text_is_readable_and_not_oversized(real_site, measured):
    width, posts = measured
    bad = {}
    for slug, m in posts.items():
        for figure in m["figures"]:
            px = figure_text_px(real_site, figure)
            if not MIN_TEXT_PX <= px <= MAX_TEXT_PX:
                bad.setdefault(slug, []).append(f"{figure['src'].rsplit('/', 1)[-1]}: {px:.1f} px")
    assert sum(len(m["figures"]) for m in posts.values()) > 0
    assert bad == {}, (f"figures whose {FIGURE_TEXT_PT}-pt text is not {MIN_TEXT_PX} to {MAX_TEXT_PX} CSS px "
                       f"at {width} px: {bad}")


def test_the_copy_button_covers_no_code(measured):
    width, posts = measured
    assert sum(m["copy"]["buttons"] for m in posts.values()) > 0
    covering = {slug: m["copy"]["covering"] for slug, m in posts.items() if m["copy"]["covering"]}
    assert covering == {}, f"Copy buttons over code at {width} px: {covering}"


def test_display_equations_show_their_start_and_stay_inside_the_page(measured):
    width, posts = measured
    bad = {}
    for slug, m in posts.items():
        for eq in m["equations"]:
            problems = []
            if eq["mathsLeft"] < eq["boxLeft"] - 0.5:
                problems.append(f"its start is hidden ({eq['boxLeft'] - eq['mathsLeft']:.0f} px left of its box)")
            if eq["boxRight"] > eq["page"] + 0.5:
                problems.append(f"its box ends {eq['boxRight'] - eq['page']:.0f} px past the page")
            if eq["scrollWidth"] > eq["clientWidth"] + 1 and eq["overflowX"] not in ("auto", "scroll"):
                problems.append("it is wider than its box, which does not scroll")
            if problems:
                bad.setdefault(slug, []).append(f"equation {eq['index']}: " + "; ".join(problems))
    assert bad == {}, f"display equations at {width} px: {bad}"


MAIN_POST = "back-propagation-in-deep-learning-frameworks"


def test_the_main_posts_display_equations_fit_a_phone(measured):
    """Its wide equations break across lines (aligned), so a phone reader scrolls none of them."""
    width, posts = measured
    equations = posts[MAIN_POST]["equations"]
    assert equations
    wider = [f"equation {eq['index']}: {eq['scrollWidth']} px in {eq['clientWidth']}"
             for eq in equations if eq["scrollWidth"] > eq["clientWidth"] + 1]
    assert wider == [], f"at {width} px: {wider}"
