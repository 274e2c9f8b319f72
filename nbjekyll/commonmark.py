"""Markdown as CommonMark reads it (and so Jupyter), written so that kramdown reads it the same.

Jekyll's kramdown is not CommonMark. Where the two read the same text differently, and
tests/build_tool/test_markdown_fidelity.py found it on real cells, the text is rewritten:

* ``2017. Title`` continuing a paragraph stays text: CommonMark lets only a list starting at 1
  interrupt a paragraph, kramdown starts a list of any number (and loses the number);
* a list that starts at 3 keeps its number (an IAL ``{: start="3"}``; kramdown always counts from 1);
* a change of bullet (``*`` to ``+`` or ``-``) or of ``.`` to ``)`` starts a new list, as in CommonMark
  (kramdown's end-of-block marker ``^`` between them);
* ``\\|`` inside a code span of a table row is a pipe in the code, as in GFM (an HTML ``<code>``,
  since kramdown keeps the backslash);
* an HTML block opened on its own line and followed by a blank line has Markdown inside, as in
  CommonMark (``markdown="1"`` on the tag).

Fenced code is never touched.
"""
from __future__ import annotations

import html
import re

FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})")


def fence_closer(fence: str) -> re.Pattern:
    """The line that ends a code block opened by ``fence``: the same character, at least as many."""
    return re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
LIST_ITEM = re.compile(r"^(?P<indent> *)(?:(?P<bullet>[-+*])|(?P<number>\d{1,9})(?P<delimiter>[.)]))(?P<space> +|$)")
DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
CODE_WITH_PIPE = re.compile(r"(?<!`)(`+)(?!`)(.*?\\\|.*?)(?<!`)\1(?!`)")
HTML_BLOCK = re.compile(r"^ {0,3}<(?P<tag>div|section|article|aside|details|blockquote|figure|header|footer|main|nav|"
                        r"center|table)(?P<attributes>(\s[^>]*)?)>\s*$", re.IGNORECASE)
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")


def as_commonmark_reads_it(markdown: str) -> str:
    lines = markdown.split("\n")
    out: list[str] = []
    lists: dict[int, str] = {}  # indent of each open list -> its marker ("*", "-", "+", "." or ")")
    content_column = 0  # where the text of the last list item starts
    closer = None  # the line that ends the open code block
    previous_blank = True
    in_table = False
    for i, line in enumerate(lines):
        if closer:
            if closer.match(line):
                closer = None
            out.append(line)
            continue
        opening = FENCE_OPEN.match(line)
        if opening:
            closer = fence_closer(opening.group("fence"))
            out.append(line)
            previous_blank = False
            continue
        if not line.strip():
            in_table = False
            previous_blank = True
            out.append(line)
            continue
        if not in_table and "|" in line and i + 1 < len(lines) and DELIMITER_ROW.match(lines[i + 1]) \
                and "-" in lines[i + 1]:
            in_table = True
        if in_table:
            line = CODE_WITH_PIPE.sub(lambda m: "<code>" + html.escape(m.group(2).strip(), quote=False)
                                      .replace("\\|", "&#124;") + "</code>", line)
        block = HTML_BLOCK.match(line)
        if previous_blank and block and "markdown=" not in line and (i + 1 == len(lines) or not lines[i + 1].strip()):
            line = line[:block.end("attributes")] + ' markdown="1"' + line[block.end("attributes"):]
        item = None if THEMATIC_BREAK.match(line) else LIST_ITEM.match(line)
        if item:
            indent = len(item.group("indent"))
            marker = item.group("bullet") or item.group("delimiter")
            number = item.group("number")
            continues = lists.get(indent) == marker
            if number and not previous_blank and not continues and int(number) != 1:
                cut = item.end("delimiter") - 1  # not a list in CommonMark: the text it seems to number
                line = line[:cut] + "\\" + line[cut:]
                item = None
            else:
                for deeper in [d for d in lists if d > indent]:
                    del lists[deeper]
                if indent in lists and not continues and indent < 4:
                    if not previous_blank:
                        out.append("")
                    out += ["^", ""]  # kramdown's end of block: CommonMark starts a new list here
                if number and int(number) != 1 and not continues and previous_blank:
                    out.append(f'{{: start="{int(number)}"}}')
                lists[indent] = marker
                content_column = item.end("space") if item.group("space") else item.end()
        if not item and previous_blank and len(line) - len(line.lstrip(" ")) < max(content_column, 1):
            lists.clear()  # a paragraph at the margin after a blank line ends every list
            content_column = 0
        previous_blank = False
        out.append(line)
    return "\n".join(out)
