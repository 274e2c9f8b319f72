"""fastpages' notebook conventions, read as fastpages read them (its converter was nbdev v1's).

fastpages is archived, and thousands of blogs keep notebooks written for it: front matter in
the first Markdown cell (``# Title``, ``> summary``, ``- key: value`` lines), comment flags in
code cells (``#hide``, ``#collapse-show``…), callouts (``> Note: …``), embeds and footnotes.
This module turns each into what this tool already does; it never drops an ordinary comment
(fastpages dropped the first line of any code cell that began with ``#``).
"""
from __future__ import annotations

import re
from typing import Any

from .config import load_yaml

# Flag -> the tag this tool already understands.
FLAGS = {
    "hide": "remove-cell", "default_exp": "remove-cell", "exporti": "remove-cell",
    "hide_input": "remove-input", "hide-input": "remove-input", "export": "remove-input",
    "hide_output": "remove-output", "hide-output": "remove-output",
    "collapse": "hide-input", "collapse_hide": "hide-input", "collapse-hide": "hide-input",
    "collapse_show": "show-input", "collapse-show": "show-input",
    "collapse_output": "hide-output", "collapse-output": "hide-output",
}
_FLAG_LINE = re.compile(r"^\s*#\s*(?P<flag>" + "|".join(re.escape(f) for f in sorted(FLAGS, key=len, reverse=True))
                        + r")\s*$")
_DEFAULT_EXP = re.compile(r"^\s*#\s*default_exp\s+\S.*$")  # nbdev's module name follows the flag


def flag_of(line: str) -> str | None:
    match = _FLAG_LINE.match(line)
    if match:
        return match.group("flag")
    return "default_exp" if _DEFAULT_EXP.match(line) else None


def split_flags(source: str, cell_type: str) -> tuple[set[str], str]:
    """The tags a cell's flag lines ask for, and the source without those lines.

    Code cells may carry any flag; a Markdown cell only ``#hide`` (other lines starting with ``#``
    there are headings, or text).
    """
    tags, kept = set(), []
    for line in source.split("\n"):
        flag = flag_of(line)
        if flag and (cell_type == "code" or flag == "hide"):
            tags.add(FLAGS[flag])
        else:
            kept.append(line)
    return tags, "\n".join(kept)


def metadata_tags(cell: Any, notebook_metadata: dict) -> set[str]:
    """The classic notebook's "hide input" extension: cell or notebook metadata ``hide_input``."""
    if cell.get("cell_type") != "code":
        return set()
    if cell.get("metadata", {}).get("hide_input") is True or notebook_metadata.get("hide_input") is True:
        return {"remove-input"}
    return set()


# -- front matter in the first Markdown cell -------------------------------------------------

_TITLE = re.compile(r"^#(?P<space>[ \t]*)(?P<title>[^#\s].*?)\s*$")
_SUMMARY = re.compile(r"^>\s?(?P<summary>.*?)\s*$")
_KEY_VALUE = re.compile(r"^-\s+(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")


def front_matter_cell(source: str) -> tuple[dict, list[str]] | None:
    """fastpages' front matter if the cell is exactly that (title, optional summary, key lines).

    Values are read as YAML one by one (``[a, b]`` is a list, ``true`` a boolean), and a value
    YAML cannot read (a colon in a title) is kept as written: fastpages pasted them into YAML
    unquoted and broke on those. Returns the front matter and warnings for what fastpages
    itself would have rejected.
    """
    lines = [line.rstrip() for line in source.split("\n") if line.strip()]
    if not lines:
        return None
    title = _TITLE.match(lines[0])
    if not title:
        return None
    warnings = []
    if not title.group("space"):
        warnings.append(f"the title line {lines[0]!r} has no space after '#' (fastpages needs '# Title'); "
                        "read as the title all the same")
    front_matter: dict = {"title": _value(title.group("title"), keep_string=True)}
    rest = lines[1:]
    if rest and rest[0].startswith(">"):
        summary = _SUMMARY.match(rest.pop(0)).group("summary")
        if len(summary) >= 2 and summary[0] == summary[-1] and summary[0] in "\"'":
            summary = summary[1:-1]  # fastpages pasted it into YAML, which read the quotes as quoting
        if summary:
            front_matter["description"] = summary
    for line in rest:
        pair = _KEY_VALUE.match(line)
        if not pair:
            return None  # prose after the title: an ordinary first cell, not front matter
        front_matter[pair.group("key")] = _value(pair.group("value"))
    if len(front_matter) == 1 and "title" in front_matter:
        return None  # a bare title: the ordinary '# Title' rule takes it (and keeps the cell's other lines)
    return front_matter, warnings


def _value(text: str, keep_string: bool = False) -> Any:
    if not text:
        return None if not keep_string else ""
    try:
        value = load_yaml(f"value: {text}")["value"]
    except Exception:  # noqa: BLE001 - anything YAML cannot read stays the text the author wrote
        return text
    if keep_string and not isinstance(value, str):
        return text
    return value


# -- Markdown shortcuts -----------------------------------------------------------------------

CALLOUTS = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning"}
_CALLOUT = re.compile(r"^>\s*(?P<kind>Note|Tip|Important|Warning):\s*(?P<text>.*)$")
_EMBED = re.compile(r"^>\s*(?P<kind>youtube|twitter):\s*(?P<url>https?://\S+)\s*$")
_YOUTUBE_ID = re.compile(r"(?:youtu\.be/|youtube\.com/(?:watch\?(?:.*&)?v=|embed/|shorts/))(?P<id>[\w-]{6,})")
_FN = re.compile(r"\{%\s*fn\s+(?P<n>\w+)\s*%\}")
_FNDETAIL = re.compile(r"""\{\{\s*(?P<q>['"])(?P<text>.*?)(?P=q)\s*\|\s*fndetail:\s*(?P<n>\w+)\s*\}\}""")


def markdown_shortcuts(text: str) -> str:
    """Callouts, embeds and footnotes written as fastpages wrote them, as Markdown and HTML."""
    out, in_fence = [], False
    notes = []
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            out.append(line)
            continue
        callout = _CALLOUT.match(line)
        embed = _EMBED.match(line)
        if callout:
            kind = callout.group("kind")
            out += ["", f'<div class="callout {kind.lower()}" markdown="1">', "",
                    f"**{kind}:** {callout.group('text')}", "", "</div>", ""]
        elif embed and embed.group("kind") == "youtube" and _YOUTUBE_ID.search(embed.group("url")):
            video = _YOUTUBE_ID.search(embed.group("url")).group("id")
            out += ["", f'<div class="embed youtube"><iframe src="https://www.youtube-nocookie.com/embed/{video}" '
                        f'title="YouTube video {video}" loading="lazy" allowfullscreen></iframe></div>', ""]
        elif embed:  # a tweet's embed needs Twitter's script: a link works everywhere
            url = embed.group("url")
            out += ["", f'<p class="embed {embed.group("kind")}"><a href="{url}">{url}</a></p>', ""]
        else:
            line = _FN.sub(lambda m: f"[^{m.group('n')}]", line)
            if _FNDETAIL.search(line):
                notes += [f"[^{m.group('n')}]: {m.group('text')}" for m in _FNDETAIL.finditer(line)]
                line = _FNDETAIL.sub("", line)
            out.append(line)
    if notes:
        out += [""] + notes
    return "\n".join(out)
