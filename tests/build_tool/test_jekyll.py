"""The generated posts through the real Debian `jekyll build`: what readers get is what was meant."""
import html
import os
import re
import subprocess

import pytest

from buildsite import require_jekyll


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Build one site with several behaviour notebooks, then `jekyll build` it under baseurl /blog."""
    require_jekyll()
    import shutil
    from buildsite import NOTEBOOKS, CONFIG
    from nbjekyll.cli import main
    root = tmp_path_factory.mktemp("jekyll") / "site"
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG)
    for name, as_name in [("liquid_literal.ipynb", "2021-01-01-liquid.ipynb"),
                          ("math.ipynb", "2021-01-02-math.ipynb"),
                          ("cell_tags.ipynb", "2021-01-03-tags.ipynb"),
                          ("outputs.ipynb", "2021-01-04-outputs.ipynb"),
                          ("title_from_heading.ipynb", "2020-01-01-title-from-heading.ipynb"),
                          ("images_and_links.ipynb", "2021-01-05-images.ipynb"),
                          ("front_matter.ipynb", "2021-01-06-front-matter.ipynb"),
                          ("figure_sizes.ipynb", "2021-01-07-figures.ipynb"),
                          ("fastpages.ipynb", "2020-03-01-fastpages.ipynb")]:
        shutil.copy(NOTEBOOKS / name, root / "notebooks" / as_name)
    shutil.copytree(NOTEBOOKS / "figures", root / "notebooks" / "figures")
    assert main(["--site", str(root)]) == 0
    env = {**os.environ, "JEKYLL_NO_BUNDLER_REQUIRE": "true"}
    result = subprocess.run(["jekyll", "build", "--source", str(root), "--destination", str(root / "_site")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    pages = {}
    for path in (root / "_site").rglob("*.html"):
        pages[path.relative_to(root / "_site").as_posix()] = path.read_text(encoding="utf-8")
    return root, pages


def page(rendered, slug):
    root, pages = rendered
    name = next(p for p in pages if p.endswith(f"/{slug}.html"))
    text = pages[name]
    return text[text.index('<div class="post-content'):text.index("</article>")]


def visible_text(fragment):
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_liquid_text_appears_literally(rendered):
    text = visible_text(page(rendered, "liquid"))
    for literal in ("{{ prose_var }}", "{% include prose.html %}", "{% raw %} and {% endraw %}", "{%- endraw -%}",
                    "{{ code_var }} {% if x %}{% endif %}", "output: {{ out_var }} {% endraw %} {%endraw%}"):
        assert literal in text


def test_title_with_liquid_and_emoji_is_literal(rendered):
    root, pages = rendered
    name = next(p for p in pages if p.endswith("/front-matter.html"))
    assert 'Colons: a &quot;quoted&quot; {{ title }} — café 🎉</h1>' in pages[name]


def test_math_reaches_mathjax_without_emphasis(rendered):
    fragment = page(rendered, "math")
    assert r"\(a_i * b_j = c_{ij}\)" in fragment
    assert r"\[\sum_{i=1}^{n} w_i x_i\]" in fragment
    assert r"\[E = \frac{1}{2} \|o - t\|^2\]" in fragment
    assert r"\(\alpha_1\)" in fragment
    assert "<em>" not in fragment
    assert "prices $5 and $10 stay prose" in fragment
    assert "an escaped $ stays" in fragment
    assert "<code>$not_math$</code>" in fragment or "$not_math$</code>" in fragment


def test_images_resolve_under_the_baseurl(rendered):
    root, pages = rendered
    sources = []
    for name in pages:
        sources += re.findall(r'<img src="([^"]+)"', pages[name])
    assert sources, "no images rendered"
    for src in sources:
        assert src.startswith("/blog/img/"), src
        assert (root / "_site" / src[len("/blog/"):]).is_file(), src


def test_figures_have_their_size_and_caption(rendered):
    fragment = page(rendered, "figures")
    figure = re.search(r'<figure class="output image">\s*<p><img src="/blog/img/figures/[0-9a-f]{16}\.png" '
                       r'alt="a parabola" width="(\d+)" height="(\d+)" /></p>\s*'
                       r'<figcaption>(.*?)</figcaption>\s*</figure>', fragment)
    assert figure, fragment
    assert figure.group(3) == r"A parabola, \(y = x^2\), drawn at <strong>double</strong> density"
    assert re.findall(r'<img src="[^"]+" alt="Figure produced by cell \d" width="\d+" height="\d+" />', fragment)


def test_fastpages_callouts_footnotes_contents_and_open_details(rendered):
    fragment = page(rendered, "fastpages")
    assert re.search(r'<div class="callout note">\s*<p><strong>Note:</strong> a note for the reader</p>\s*</div>', fragment)
    assert '<ul id="markdown-toc">\n  <li><a href="#first-section" id="markdown-toc-first-section">First section</a></li>' \
        in fragment
    assert re.search(r'Some prose<sup id="fnref:1"[^>]*><a href="#fn:1" class="footnote"[^>]*>1</a></sup> before', fragment)
    assert re.search(r'<div class="footnotes" role="doc-endnotes">\s*<ol>\s*<li id="fn:1"[^>]*>\s*'
                     r'<p>The first footnote, as fastpages wrote it', fragment)
    assert '<details class="hide-input" open="">' in fragment or '<details class="hide-input" open>' in fragment
    assert "<blockquote>\n  <p>An ordinary quotation stays a quotation.</p>\n</blockquote>" in fragment


def test_links_between_posts_resolve(rendered):
    fragment = page(rendered, "images")
    assert '<a href="/blog/2020/01/01/title-from-heading.html#section">the title post</a>' in fragment


def test_details_content_is_rendered_markdown(rendered):
    fragment = page(rendered, "tags")
    details = re.search(r'<details class="hide-input">(.*?)</details>', fragment, re.DOTALL).group(1)
    assert "<summary>Show code</summary>" in details
    assert 'class="language-python highlighter-rouge"' in details
    assert "```" not in details


def test_code_is_highlighted_and_outputs_are_classed(rendered):
    fragment = page(rendered, "outputs")
    assert '<div class="language-python highlighter-rouge">' in fragment
    assert 'class="language-text output stdout highlighter-rouge"' in fragment
    assert 'class="language-text output stderr highlighter-rouge"' in fragment
    assert '<div class="output html">\n<table><tr><th>k</th><td>1</td></tr></table>\n</div>' in fragment
    assert "<strong>bold</strong> markdown with \\(m_1\\)" in fragment


def test_markdown_output_tables_render_as_tables(rendered):
    fragment = page(rendered, "outputs")
    blocks = re.findall(r'<div class="output markdown">(.*?)</div>', fragment, re.DOTALL)
    assert len(blocks) == 2
    assert "<table>" in blocks[1] and "<td>a</td>" in blocks[1]


def test_skipped_code_is_marked_not_executed(rendered):
    fragment = page(rendered, "tags")
    assert 'class="language-python not-executed highlighter-rouge"' in fragment
