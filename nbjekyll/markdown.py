"""Rewrite Jupyter Markdown so that Jekyll (Liquid, then kramdown, then MathJax) shows what Jupyter shows.

Three rewrites, all skipping code spans and fenced code blocks:

* math: Jupyter's ``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` and bare ``\\begin{env}…\\end{env}``
  become kramdown's ``$$…$$`` (inline) or a ``$$`` block (display), so kramdown hands them to
  MathJax untouched: underscores and asterisks inside never turn into emphasis;
* links and images: a callback decides each target (copy an image, point at another post);
* Liquid: :func:`protect_liquid` wraps the finished body in ``{% raw %}`` so Jekyll never
  interprets notebook text, leaving only the tool's own Liquid snippets live.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .commonmark import FENCE_OPEN, as_commonmark_reads_it, fence_closer

# Placeholders for the tool's own Liquid snippets; private-use characters never found in notebooks.
LIQUID_OPEN, LIQUID_CLOSE = "\ue000", "\ue001"
PLACEHOLDER = re.compile(LIQUID_OPEN + r"(\d+)" + LIQUID_CLOSE)


@dataclass
class Segment:
    text: str
    is_code: bool


def split_code(markdown: str) -> list[Segment]:
    """Cut Markdown into prose and code (fenced blocks and inline code spans), which is left alone."""
    segments: list[Segment] = []
    prose: list[str] = []
    lines = markdown.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if not match:
            prose.append(lines[i])
            i += 1
            continue
        fence = match.group("fence")
        closing = fence_closer(fence)
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        segments.extend(_split_code_spans("".join(prose)))
        prose = []
        segments.append(Segment("".join(lines[i:j + 1]), True))
        i = j + 1
    segments.extend(_split_code_spans("".join(prose)))
    return [s for s in segments if s.text]


def _split_code_spans(text: str) -> list[Segment]:
    segments: list[Segment] = []
    pos = 0
    for match in re.finditer(r"(?<!\\)(`+)", text):
        if match.start() < pos:
            continue
        ticks = match.group(1)
        close = re.compile(r"(?<!`)" + ticks + r"(?!`)")
        end = close.search(text, match.end())
        if not end:
            continue
        segments.append(Segment(text[pos:match.start()], False))
        segments.append(Segment(text[match.start():end.end()], True))
        pos = end.end()
    segments.append(Segment(text[pos:], False))
    return segments


# Inline `$…$` follows pandoc's rule: the opening `$` has a non-space on its right, the closing
# `$` a non-space on its left and no digit after it, so "costs $5 or $10" stays prose.
MATH = re.compile(
    r"(?P<display>(?<![\\$])\$\$(?P<d>.+?)(?<!\\)\$\$)"
    r"|(?P<bracket>\\\[(?P<b>.+?)\\\])"
    r"|(?P<env>\\begin\{(?P<envname>[A-Za-z]+\*?)\}(?P<e>.*?)\\end\{(?P=envname)\})"
    r"|(?P<paren>\\\((?P<p>.+?)\\\))"
    r"|(?P<inline>(?<![\\$])\$(?P<i>[^\s$](?:[^$\n]|\n(?![ \t]*\n)|\\\$)*?(?<![\s\\]))\$(?!\d))",
    re.DOTALL,
)


def _display_block(tex: str, before: str) -> str:
    """A kramdown display-math block: alone between blank lines, indented like its paragraph."""
    line_start = before[before.rfind("\n") + 1:]
    marker = re.match(r"^(\s*(?:[-*+]|\d+[.)])\s+|\s*)", line_start).group(1)
    indent = " " * len(marker) if line_start.strip() else line_start
    body = "\n".join(line for line in tex.strip().splitlines() if line.strip())
    lead = "\n\n" if line_start.strip() else "\n"
    return f"{lead}{indent}$$\n" + "\n".join(indent + line for line in body.splitlines()) + f"\n{indent}$$\n\n{indent}"


def rewrite_math(text: str) -> tuple[str, int]:
    """Rewrite the math of one prose segment; returns the text and how many expressions it held."""
    out: list[str] = []
    pos = 0
    count = 0
    for match in MATH.finditer(text):
        out.append(text[pos:match.start()])
        count += 1
        if match.group("inline") is not None:
            # kramdown's inline math must stay on one line of its paragraph.
            out.append("$$" + " ".join(match.group("i").split("\n")) + "$$")
        elif match.group("paren") is not None:
            out.append(f"$${match.group('p').strip()}$$")
        else:
            if match.group("display") is not None:
                tex = match.group("d")
            elif match.group("bracket") is not None:
                tex = match.group("b")
            else:
                tex = match.group("env")
            before = "".join(out)
            if before[before.rfind("\n") + 1:].strip():
                before = before.rstrip(" \t")
                out = [before]
            out.append(_display_block(tex, before))
            rest = text[match.end():]
            pos = match.end() + (len(rest) - len(rest.lstrip(" \t")))
            continue
        pos = match.end()
    out.append(text[pos:])
    result = "".join(out)
    result = re.sub(r"\n{3,}", "\n\n", result)
    return result, count


LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^>]*>|[^\s()]+)(?P<title>\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
HTML_IMG = re.compile(r"(?P<pre><img\b[^>]*?\bsrc=)(?P<q>[\"'])(?P<target>[^\"']+)(?P=q)", re.IGNORECASE)


def rewrite_links(text: str, resolve: Callable[[str, bool], str | None]) -> str:
    """Let ``resolve(target, is_image)`` replace link targets; None keeps the target as written."""

    def markdown_link(match: re.Match) -> str:
        target = match.group("target").strip("<>")
        new = resolve(target, bool(match.group("bang")))
        if new is None:
            return match.group(0)
        return f"{match.group('bang')}[{match.group('text')}]({new}{match.group('title') or ''})"

    def html_image(match: re.Match) -> str:
        new = resolve(match.group("target"), True)
        if new is None:
            return match.group(0)
        return f"{match.group('pre')}{match.group('q')}{new}{match.group('q')}"

    return HTML_IMG.sub(html_image, LINK.sub(markdown_link, text))


def rewrite_markdown(markdown: str, resolve: Callable[[str, bool], str | None]) -> tuple[str, int]:
    """Math and link rewriting over the prose of a Markdown text; code is untouched."""
    parts: list[str] = []
    math_count = 0
    markdown = as_commonmark_reads_it(markdown)
    for segment in split_code(markdown):
        if segment.is_code:
            parts.append(segment.text)
            continue
        # Math first, so that brackets inside formulas are never mistaken for links.
        text, count = rewrite_math(segment.text)
        math_count += count
        pieces = re.split(r"(\$\$.*?\$\$)", text, flags=re.DOTALL)
        parts.append("".join(p if i % 2 else rewrite_links(p, resolve) for i, p in enumerate(pieces)))
    return "".join(parts), math_count


class LiquidSnippets:
    """The tool's own Liquid (image URLs, links between posts), kept out of the raw-protected text."""

    def __init__(self) -> None:
        self.snippets: list[str] = []

    def add(self, liquid: str) -> str:
        self.snippets.append(liquid)
        return f"{LIQUID_OPEN}{len(self.snippets) - 1}{LIQUID_CLOSE}"

    def protect(self, body: str) -> str:
        """Wrap the body in ``{% raw %}`` so Liquid prints every notebook character as written.

        Inside ``raw`` only an ``endraw`` tag is special, and every tag starts with ``{%``; so each
        ``{%`` of the content is itself emitted through Liquid, as a quoted string.
        """
        escaped = body.replace("{%", "{% endraw %}{{ '{%' }}{% raw %}")
        live = PLACEHOLDER.sub(lambda m: "{% endraw %}" + self.snippets[int(m.group(1))] + "{% raw %}", escaped)
        return "{% raw %}" + live + "{% endraw %}"
