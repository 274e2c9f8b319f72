"""Turn an executed notebook into a Jekyll post: front matter, Markdown body and image files.

Works only from the executed notebook and the author's source; it starts no kernel, so a
post can be re-rendered from a cached execution. The Markdown shapes live in the jinja2
template ``templates/post.md.j2``; this module decides what goes into them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from .config import Config
from .errors import NotebookError
from .images import IMAGE_EXTENSIONS, ImageStore
from .interactive import WIDGET_STATE, InteractiveOutputs
from .markdown import LiquidSnippets, rewrite_markdown
from .outputs import OutputRenderer, image_bytes
from .fastpages import markdown_shortcuts
from .sources import TOOL_KEYS, FILE_NAME, SourceNotebook, is_navigation, shown_source, slugify
from .tutorials import TEXT_SUFFIXES, chapter_of, is_text_notebook, stem as notebook_stem
from .vendor import Script

LINKED_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
RAW_CELL_FORMATS = {None, "", "text/markdown", "text/html", "markdown", "html"}

TEMPLATES = Path(__file__).with_name("templates")
# The provenance stamp, Liquid appended to every post as it is: Jekyll renders it from the post's
# front matter and _data/provenance/<slug>.yml, so it shows in any theme and the post's bytes carry no time.
STAMP = TEMPLATES / "provenance.liquid"
# A chapter's previous / contents / next links, and the landing page's list of chapters: Liquid over the
# collection, so a chapter's page depends on its own notebook and place only. The kit's chapter layout
# draws its own navigation (its front matter says ``chapter_navigation: true``) and these print nothing.
CHAPTER_NAV = TEMPLATES / "chapter-nav.liquid"
CONTENTS = TEMPLATES / "contents.liquid"


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in the text, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
    autoescape=False,
)
_environment.globals["fence_for"] = fence_for


@dataclass
class Post:
    name: str  # YYYY-MM-DD-slug: the post file's stem and, with the slug, its image folder
    slug: str
    front_matter: dict
    body: str
    images: dict[str, bytes] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)  # what its interactive outputs load from nbjekyll.vendor_dir
    collection: str | None = None  # a chapter: the tutorial's collection (written to _<collection>/)

    def text(self) -> str:
        header = yaml.safe_dump(self.front_matter, allow_unicode=True, sort_keys=False,
                                default_flow_style=False, width=2 ** 20)
        return f"---\n{header}---\n\n{self.body}\n"


class _Converter:
    def __init__(self, source: SourceNotebook, executed: Any, config: Config, built_from: dict | None = None):
        self.built_from = built_from
        self.source = source
        self.nb = executed
        self.config = config
        self.liquid = LiquidSnippets()
        self.images = ImageStore(config, source.slug, self.liquid)
        widget_state = (executed.metadata.get("widgets") or {}).get(WIDGET_STATE)
        self.interactive = InteractiveOutputs(source.rel, widget_state if isinstance(widget_state, dict) else None)
        self.outputs = OutputRenderer(self.images, config.output_max_lines, self.markdown, self.interactive)
        self.math = 0
        info = executed.metadata.get("language_info", {}) or {}
        kernelspec = executed.metadata.get("kernelspec", {}) or {}
        self.language = info.get("name") or kernelspec.get("language") or "text"

    # -- Markdown ----------------------------------------------------------------------
    def resolve_target(self, position: int, cell: Any):
        notebook_dir = self.source.path.parent

        def resolve(target: str, is_image: bool) -> str | None:
            if target.startswith("attachment:"):
                name = target[len("attachment:"):]
                bundle = (cell.get("attachments") or {}).get(name)
                if not bundle:
                    raise NotebookError(self.source.rel, f"cell {position}: the attachment {name!r} is missing")
                mime = next((m for m in IMAGE_EXTENSIONS if m in bundle), None)
                if mime is None:
                    raise NotebookError(self.source.rel, f"cell {position}: the attachment {name!r} is not an image "
                                                         f"({', '.join(bundle)})")
                return self.images.url(self.images.add(image_bytes(bundle[mime], mime), IMAGE_EXTENSIONS[mime]))
            if is_image and target.startswith("/") and not target.startswith("//") and "'" not in target:
                # fastpages' /images/…: a file of the site, served under its baseurl as fastpages served it
                if (self.config.site / target.split("?", 1)[0].lstrip("/")).resolve().is_file():
                    return self.liquid.add("{{ '" + target + "' | relative_url }}")
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith(("/", "#")):
                return None
            path_part, hash_mark, fragment = target.partition("#")
            path_part = path_part.split("?", 1)[0]
            if not path_part:
                return None
            local = (notebook_dir / path_part).resolve()
            if path_part.endswith(".ipynb") or (path_part.endswith(TEXT_SUFFIXES) and is_text_notebook(local)):
                return self.liquid.add(self._page_link(local, target, position)) + (hash_mark + fragment)
            if not is_image:
                return None
            if not local.is_relative_to(self.config.site):
                raise NotebookError(self.source.rel, f"cell {position}: the image {target!r} is outside the site")
            if not local.is_file():
                raise NotebookError(self.source.rel, f"cell {position}: the image {target!r} does not exist "
                                                     f"(looked for {self.config.rel(local)})")
            suffix = local.suffix.lower()
            if suffix not in LINKED_IMAGE_SUFFIXES:
                raise NotebookError(self.source.rel, f"cell {position}: {target!r} is not an image this tool "
                                                     f"can publish ({', '.join(sorted(LINKED_IMAGE_SUFFIXES))})")
            return self.images.url(self.images.add(local.read_bytes(), suffix.lstrip(".").replace("jpeg", "jpg")))

        return resolve

    def _page_link(self, notebook: Path, target: str, position: int) -> str:
        """The Liquid that prints the URL (under the baseurl) of the page another notebook makes."""
        if not notebook.is_file():
            raise NotebookError(self.source.rel, f"cell {position}: the link {target!r} points to a notebook "
                                                 f"that does not exist ({self.config.rel(notebook)})")
        chapter = self.source.chapter if notebook == self.source.path else (
            chapter_of(self.config, notebook) if self.config.tutorials else None)
        if chapter is not None:
            return "{% link " + chapter.document + " %}"
        if self.config.tutorial_of(notebook) is not None:
            raise NotebookError(self.source.rel, f"cell {position}: the link {target!r} points to a notebook "
                                                 f"that is not a chapter ({self.config.rel(notebook)})")
        return "{% post_url " + self._post_name_of(notebook, target, position) + " %}"

    def _post_name_of(self, notebook: Path, target: str, position: int) -> str:
        if notebook == self.source.path:
            return self.source.post_name
        match = FILE_NAME.match(notebook_stem(notebook))
        if match:
            return f"{match.group('date')}-{slugify(match.group('slug'))}"
        from .sources import read_notebook  # a notebook dated in its front matter: read it
        return read_notebook(notebook, self.config).post_name

    def markdown(self, text: str, position: int, cell: Any) -> str:
        rewritten, math = rewrite_markdown(text, self.resolve_target(position, cell))
        self.math += math
        return rewritten.strip("\n")

    # -- cells ---------------------------------------------------------------------------------
    def items(self) -> list[dict]:
        items: list[dict] = []
        for index, cell in enumerate(self.nb.cells):
            position = index + 1
            options = self.source.options[index]
            if index == self.source.front_matter_cell:
                continue
            if cell.cell_type == "code":
                outputs = self.outputs.blocks(cell.get("outputs", []), position, options)
                if options.has("remove-cell"):
                    continue
                code = shown_source(cell).strip("\n")
                item = {
                    "kind": "code",
                    "language": self.language,
                    "source": None if options.has("remove-input") or not code.strip() else code,
                    "outputs": [] if options.has("remove-output") else outputs,
                    "hide_input": options.has("hide-input") or options.has("show-input"),
                    "input_open": options.has("show-input") and not options.has("hide-input"),
                    "anchor": options.label,
                    # Code shown but never run (archived listings) is marked so readers can tell.
                    "input_classes": ".not-executed" if options.has("skip-execution") else "",
                    "hide_output": options.has("hide-output"),
                }
                if item["source"] is None and not item["outputs"]:
                    continue
                tab = options.tab
                if tab:
                    if items and items[-1]["kind"] == "tabs":
                        items[-1]["tabs"].append({"name": tab, "cell": item})
                    else:
                        items.append({"kind": "tabs", "tabs": [{"name": tab, "cell": item}]})
                    continue
                items.append(item)
            elif options.has("remove-cell"):
                continue
            elif cell.cell_type == "markdown":
                text = cell.source
                if self.source.title_heading and self.source.title_heading[0] == index:
                    lines = text.splitlines()
                    del lines[self.source.title_heading[1]]
                    text = "\n".join(lines)
                if is_navigation(text):  # its '|' would make a one-row table
                    text = re.sub(r"\s*\|\s*", r" \\| ", text)
                text = self.markdown(markdown_shortcuts(text), position, cell)
                if text.strip():
                    items.append({"kind": "markdown", "text": text})
            elif cell.cell_type == "raw":
                fmt = cell.metadata.get("format") or cell.metadata.get("raw_mimetype")
                if fmt in RAW_CELL_FORMATS and cell.source.strip():
                    items.append({"kind": "raw", "text": cell.source.strip("\n")})
        return items

    def front_matter(self) -> dict:
        front_matter: dict = {}
        if "title" in self.source.front_matter:
            front_matter["title"] = self.source.front_matter["title"]
        for key, value in self.source.front_matter.items():
            if key not in TOOL_KEYS:
                front_matter.setdefault(key, value)
        chapter = self.source.chapter
        if chapter is not None:
            tutorial = chapter.tutorial
            if tutorial.layout is not None:
                front_matter.setdefault("layout", tutorial.layout)
            front_matter["tutorial"] = tutorial.name
            front_matter["tutorial_title"] = tutorial.title
            front_matter["chapter"] = chapter.position
            front_matter["slug"] = self.source.slug  # page.slug names its provenance stamp, apart from posts'
            if chapter.position == 0:
                front_matter.setdefault("permalink", f"/{tutorial.name}/")
            if self.source.sections:
                front_matter["sections"] = self.source.sections
        for key, value in self.config.front_matter.items():
            if not (chapter is not None and key == "layout"):
                front_matter.setdefault(key, value)
        front_matter["notebook"] = self.source.rel
        if self.math or self.outputs.math:
            front_matter["math"] = True
        if self.outputs.cover:
            front_matter["image"] = self.outputs.cover
        if "excerpt" not in front_matter:
            # Jekyll's own excerpt would cut the body inside its {% raw %} block.
            if isinstance(front_matter.get("description"), str):
                front_matter["excerpt"] = front_matter["description"]
            else:
                front_matter["excerpt_separator"] = ""
        if self.built_from is not None:
            front_matter["built_from"] = self.built_from
        return front_matter

    def post(self) -> Post:
        items = self.items()
        if self.source.front_matter.get("toc") is True:  # fastpages' switch: kramdown writes the list
            items.insert(0, {"kind": "markdown", "text": "* Contents\n{:toc}"})
        if self.source.saved is not None:  # first thing a reader sees: these outputs were not made here
            from .saved import notice
            items.insert(0, {"kind": "raw", "text": notice(self.source)})
        body = _environment.get_template("post.md.j2").render(items=items)
        if self.interactive.scripts:
            body = self.interactive.stable(body.strip("\n") + "\n\n"
                                           + self.interactive.page_html(self.images.url, self.config.vendor_dir))
        body = self.liquid.protect(body.strip("\n"))
        chapter = self.source.chapter
        if chapter is not None:
            extra = CONTENTS if chapter.position == 0 else CHAPTER_NAV
            body += "\n\n" + extra.read_text(encoding="utf-8").strip("\n")
        body += "\n\n" + STAMP.read_text(encoding="utf-8").strip("\n")
        return Post(name=self.source.post_name, slug=self.source.slug, front_matter=self.front_matter(),
                    body=body, images=dict(sorted(self.images.files.items())),
                    warnings=self.outputs.warnings + self.interactive.warnings, scripts=self.interactive.scripts,
                    collection=chapter.tutorial.name if chapter is not None else None)


def convert(source: SourceNotebook, executed: Any, config: Config, built_from: dict | None = None) -> Post:
    """The post; ``built_from`` (the inputs it was made from) goes into its front matter."""
    return _Converter(source, executed, config, built_from).post()
