"""A code cell's outputs as the blocks a static page can show: text, images, HTML, Markdown, math.

Each output keeps one representation, the richest a page can show without a kernel (interactive
figures and saved widgets are drawn by scripts the site serves, see ``interactive.py``); what
cannot be shown at all is dropped with a warning naming the cell.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .images import IMAGE_EXTENSIONS, ImageStore, display_size
from .interactive import InteractiveOutputs, is_library_loader
from .markdown import MATH
from .tracebacks import reader_traceback, strip_ansi

# Representations in JupyterLab's order of preference (its renderers' ranks: HTML 50, Markdown 60,
# LaTeX 70, SVG 80, raster images 90, plain text 120), so a SymPy result shows its math and a
# pandas frame its table, as they do in Jupyter. Anything else falls back to text/plain.
MIME_PRIORITY = ["text/html", "text/markdown", "text/latex", "image/svg+xml", "image/png", "image/jpeg",
                 "image/gif", "text/plain"]
WIDGET = "application/vnd.jupyter.widget-view+json"
# Outputs that need a JavaScript runtime: dropped, with a warning, when nothing else is there.
SCRIPTS = ("application/javascript", "text/javascript")


def cut_lines(text: str, limit: int) -> str:
    lines = text.split("\n")
    if len(lines) <= limit:
        return text
    hidden = len(lines) - limit
    return "\n".join(lines[:limit] + [f"… {hidden} more line{'s' if hidden != 1 else ''} not shown "
                                      f"(output cut at {limit} lines) …"])


def terminal_text(text: str) -> str:
    """What a terminal would show: ANSI codes gone, carriage-return overwrites applied."""
    text = strip_ansi(text)
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def coalesce_streams(outputs: list) -> list:
    merged: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1]["name"] == output["name"]):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + output["text"]}
        else:
            merged.append(dict(output))
    return merged


def image_bytes(data: Any, mime: str) -> bytes:
    """The file's bytes from a notebook's representation (SVG as text, the others base64)."""
    if isinstance(data, list):
        data = "".join(data)
    if mime == "image/svg+xml":
        return data.encode("utf-8")
    return base64.b64decode(data)


_REMOTE_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)
_TAG_OR_TEXT = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>|<[^>]*>)", re.DOTALL | re.IGNORECASE)


def math_in_html(html_text: str) -> tuple[str, int]:
    """``$\\delta$`` in an HTML output (a pandas table's labels) written with MathJax's delimiters, as
    Jupyter typesets it; tags, scripts and styles are left alone, and "$5 and $10" stays prose."""
    parts, count = [], 0
    for index, piece in enumerate(_TAG_OR_TEXT.split(html_text)):
        if index % 2 or "$" not in piece and "\\" not in piece:
            parts.append(piece)
            continue

        def delimit(match: re.Match) -> str:
            nonlocal count
            count += 1
            if match.group("inline") is not None:
                return f"\\({match.group('i')}\\)"
            if match.group("paren") is not None or match.group("env") is not None:
                return match.group(0)  # MathJax reads these as they are
            tex = match.group("d") if match.group("display") is not None else \
                match.group("b") if match.group("bracket") is not None else match.group(0)
            return f"\\[{tex}\\]"
        parts.append(MATH.sub(delimit, piece))
    return "".join(parts), count


@dataclass
class OutputRenderer:
    """Renders the outputs of one post's cells, collecting its images, warnings, math and cover."""

    images: ImageStore
    max_lines: int
    markdown: Callable[[str, int, Any], str]  # Markdown of an output, rewritten as the post's cells are
    interactive: InteractiveOutputs
    warnings: list[str] = field(default_factory=list)
    math: int = 0
    cover: str | None = None

    def text_block(self, text: str, classes: str) -> dict:
        text = cut_lines(terminal_text(text).rstrip("\n").rstrip(), self.max_lines)
        return {"kind": "text", "text": text, "classes": classes}

    def blocks(self, outputs: list, position: int, options) -> list[dict]:
        blocks: list[dict] = []
        for output in coalesce_streams(outputs):
            kind = output.get("output_type")
            if kind == "stream":
                if output["name"] == "stderr" and options.has("remove-stderr"):
                    continue
                if output["text"].strip():
                    blocks.append(self.text_block(output["text"], f".output .{output['name']}"))
            elif kind == "error":
                traceback = [terminal_text(entry) for entry in output.get("traceback", [])]
                blocks.append(self.text_block(reader_traceback(traceback), ".output .error"))
            elif kind in ("execute_result", "display_data"):
                if is_library_loader(output.get("data", {})):
                    continue  # the page loads the library from the site instead
                block = self.data_block(output.get("data", {}), output.get("metadata", {}) or {}, position, options,
                                        ".output .result" if kind == "execute_result" else ".output .display")
                if block:
                    blocks.append(block)
        return blocks

    def data_block(self, data: dict, metadata: dict, position: int, options, classes: str) -> dict | None:
        block = self.interactive.block(data, position)
        if block:
            return block
        if WIDGET in data:
            self.warnings.append(f"cell {position}: an interactive widget ({WIDGET}) needs a live kernel; "
                                 "the post says so in its place")
            plain = data.get("text/plain")
            plain = "".join(plain) if isinstance(plain, list) else plain
            return {"kind": "placeholder", "text": f"An interactive widget{f' ({plain.strip()})' if plain else ''}: "
                                                   "it needs a live kernel, so it is not shown here."}
        mime = next((m for m in MIME_PRIORITY if m in data), None)
        unknown = sorted(m for m in data if m not in MIME_PRIORITY)
        if unknown and mime in (None, "text/plain"):
            if all(m in SCRIPTS for m in unknown):  # its text/plain is only "<…Javascript object>"
                self.warnings.append(f"cell {position}: dropped an output of type {unknown[0]} (it runs JavaScript "
                                     "in the notebook and shows nothing of its own)")
                return None
            if mime is None:
                self.warnings.append(f"cell {position}: dropped an output of type {unknown[0]} (no representation "
                                     "a static page can show, and no text/plain)")
                return None
            self.warnings.append(f"cell {position}: an output of type {unknown[0]} cannot be shown on a static "
                                 "page; shown as its text/plain form")
        if mime is None:
            return None
        value = data[mime]
        if isinstance(value, list):
            value = "".join(value)
        if mime in IMAGE_EXTENSIONS:
            return self.image_block(image_bytes(value, mime), IMAGE_EXTENSIONS[mime], metadata.get(mime),
                                    position, options)
        if mime == "text/html":
            for url in _REMOTE_SCRIPT.findall(value):
                self.warnings.append(f"cell {position}: an HTML output loads a script from {url}, outside the site; "
                                     "readers' browsers will fetch it from there")
            html_text, count = math_in_html(value.strip("\n"))
            self.math += count
            return {"kind": "html", "html": html_text}
        if mime == "text/markdown":
            return {"kind": "markdown", "markdown": self.markdown(value, position, {})}
        if mime == "text/latex":
            self.math += 1
            tex = value.strip()
            for opener, closer in (("$$", "$$"), ("\\[", "\\]"), ("$", "$")):
                if tex.startswith(opener) and tex.endswith(closer) and len(tex) > len(opener) + len(closer):
                    tex = tex[len(opener):-len(closer)].strip()
                    break
            return {"kind": "math", "tex": "\n".join(l for l in tex.splitlines() if l.strip())}
        return self.text_block(value, classes)

    def image_block(self, data: bytes, extension: str, shown: Any, position: int, options) -> dict:
        path = self.images.add(data, extension)
        if options.has("cover") and self.cover is None:
            self.cover = path
        alt = options.fig_alt or f"Figure produced by cell {position}"
        size = display_size(data, extension, shown if isinstance(shown, dict) else None)
        attributes = f'width="{size[0]}" height="{size[1]}"' if size else ""
        caption = self.markdown(" ".join(options.fig_cap.split()), position, {}) if options.fig_cap else None
        return {"kind": "image", "url": self.images.url(path), "alt": alt.replace("]", "\\]"),
                "attributes": attributes, "caption": caption}
