"""Compare how a Markdown cell looks in Jupyter (CommonMark, as Jupyter's renderers follow it) and
in the post (the converter's Markdown through the site's own Jekyll/kramdown converter).

Both HTML outputs are reduced to a *structure*: the sequence of blocks (paragraphs, headings,
lists with their start and item count, quotations, code blocks, tables with their shape, rules,
display math) and, inside them, the inline elements that carry meaning (emphasis, links, code
spans, inline math, line breaks, footnote references), with their text. Typography kramdown adds
(curly quotes, dashes) and whitespace are normalised away; everything else must match.
"""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

RUBY = r'''
require "json"
require "jekyll"
site = Jekyll::Site.new(Jekyll.configuration("source" => ARGV[0], "destination" => ARGV[1], "quiet" => true))
markdown = site.find_converter_instance(Jekyll::Converters::Markdown)
puts JSON.generate(JSON.parse(STDIN.read).map { |text| markdown.convert(text) })
'''

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "table", "tr", "hr",
          "div", "details", "dl", "figure"}
INLINE = {"em": "em", "strong": "strong", "a": "link", "code": "code", "br": "br", "img": "image", "sup": "sup",
          "del": "del", "s": "del"}
TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "--", "—": "---", "…": "...",
                            "«": "<<", "»": ">>", "\u00a0": " "})


def jupyter_html(markdown: str) -> str:
    """What Jupyter shows: CommonMark with GFM tables and strikethrough, and $…$ / $$…$$ math.

    Like Jupyter, math is set aside before the Markdown is parsed, bare ``\\begin{env}…\\end{env}``
    included, so that its backslashes and underscores reach MathJax untouched.
    """
    def protect(match: re.Match) -> str:
        inside_dollars = markdown[:match.start()].count("$$") % 2 == 1
        return match.group(0) if inside_dollars else f"$${match.group(1)}$$"

    markdown = re.sub(r"(?m)^(\\begin\{(\w+\*?)\}.*?^\\end\{\2\})", protect, markdown, flags=re.DOTALL)
    # JupyterLab hides the dollars of code spans from its math scanner first (removeMath in latex.ts)
    markdown = re.sub(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", lambda m: m.group(0).replace("$", "\ue002")
                      .replace("\\", "\ue003"), markdown, flags=re.MULTILINE)
    # and takes \(…\) and \[…\] as math, as it does $…$ and $$…$$
    markdown = re.sub(r"\\\((.+?)\\\)", r"$\1$", markdown, flags=re.DOTALL)
    markdown = re.sub(r"\\\[(.+?)\\\]", r"$$\1$$", markdown, flags=re.DOTALL)
    markdown = markdown.replace("\ue003", "\\")
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Pandoc's rule for $: "$5 and $10" is prose (the converter keeps it so; see the closing note of #15)
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    md.use(footnote_plugin)
    html_text = md.render(markdown).replace("\ue002", "$")
    return re.sub(r'<sup class="footnote-ref"><a href="#fn\d+" id="fnref\d+(?::\d+)?">\[(\d+)\]</a></sup>',
                  r"<sup>\1</sup>", html_text)


def jekyll_html(texts: list[str], site: Path, scratch: Path) -> list[str]:
    """The site's own Markdown converter (kramdown with the site's settings) over many texts at once."""
    env = {**os.environ, "JEKYLL_NO_BUNDLER_REQUIRE": "true"}
    done = subprocess.run(["ruby", "-e", RUBY, str(site), str(scratch)], input=json.dumps(texts),
                          capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout)


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []
        self.stack: list[dict] = []
        self.skip = 0  # inside math elements: their text is the formula, taken whole

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "math" in classes:
            # markdown-it writes $$…$$ inside a sentence as <div class="math inline">: MathJax shows it
            # as display math all the same (a div, or "block", is display)
            display = "block" in classes or tag == "div"
            self.stack.append({"tag": tag, "math": "display" if display else "inline", "text": ""})
            self.skip += 1
            return
        if tag == "div" and {"highlighter-rouge", "highlight"} & set(classes):
            self.stack.append({"tag": "rouge"})  # kramdown's wrappers around a highlighted <pre>
            return
        if tag in ("ol",):
            self.tokens.append(("ol", int(attrs.get("start") or 1)))
        elif tag in BLOCKS:
            self.tokens.append((tag,))
        elif tag in INLINE:
            self.tokens.append((INLINE[tag], "start"))
        self.stack.append({"tag": tag})

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "img", "hr"):
            self.tokens.append((INLINE.get(tag, tag),) if tag != "img" else ("image", dict(attrs).get("alt", "")))

    def handle_endtag(self, tag):
        while self.stack:
            top = self.stack.pop()
            if "math" in top:
                self.skip -= 1
                self.tokens.append(("math", top["math"], _squash(top["text"])))
            elif top["tag"] in INLINE:
                self.tokens.append((INLINE[top["tag"]], "end"))
            elif top["tag"] in BLOCKS:
                self.tokens.append(("/" + top["tag"],))
            if top["tag"] == tag:
                break

    def handle_data(self, data):
        if self.skip:
            self.stack[-1]["text"] += data
            return
        self.tokens.append(("text", data))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def structure(fragment: str, kramdown: bool) -> list[tuple]:
    """The meaningful shape of an HTML fragment, comparable across the two renderers."""
    if kramdown:  # MathJax delimiters as kramdown writes them, made elements like markdown-it's
        fragment = re.sub(r"\\\[(.*?)\\\]", lambda m: f'<div class="math block">{html.escape(html.unescape(m.group(1)))}</div>',
                          fragment, flags=re.DOTALL)
        fragment = re.sub(r"\\\((.*?)\\\)", lambda m: f'<span class="math inline">{html.escape(html.unescape(m.group(1)))}</span>',
                          fragment, flags=re.DOTALL)
        fragment = re.sub(r'<sup id="fnref:[^"]*"[^>]*><a href="#fn:[^"]*"[^>]*>(\d+)</a></sup>', r"<sup>\1</sup>",
                          fragment)
    # Tight and loose lists differ in spacing only (kramdown decides per item, CommonMark per list).
    fragment = re.sub(r"<li>\s*<p>(.*?)</p>", r"<li>\1", fragment, flags=re.DOTALL)
    parser = _Structure()
    parser.feed(fragment)
    tokens, text = [], ""
    for token in parser.tokens:
        if token[0] == "text":
            text += token[1]
            continue
        if _squash(text):
            tokens.append(("text", _squash(text).translate(TYPOGRAPHY)))
        text = ""
        tokens.append(token)
    if _squash(text):
        tokens.append(("text", _squash(text).translate(TYPOGRAPHY)))
    # Display math is a block of its own wherever it was written: inside a paragraph it splits it.
    split, in_paragraph = [], False
    for token in tokens:
        if token[:2] == ("math", "display") and in_paragraph:
            split += [("/p",), token, ("p",)]
            continue
        in_paragraph = token == ("p",) or (in_paragraph and token != ("/p",))
        split.append(token)
    out = []
    for token in split:
        if token == ("/p",) and out and out[-1] == ("p",):
            out.pop()  # a paragraph left empty by the split
            continue
        out.append(token)
    return out


def first_difference(jupyter: list[tuple], post: list[tuple]) -> str | None:
    for index, (a, b) in enumerate(zip(jupyter, post)):
        if a != b:
            return f"at token {index}: Jupyter {a!r}, post {b!r}"
    if len(jupyter) != len(post):
        longer, name = (jupyter, "Jupyter") if len(jupyter) > len(post) else (post, "post")
        return f"{name} goes on with {longer[min(len(jupyter), len(post))]!r}"
    return None
