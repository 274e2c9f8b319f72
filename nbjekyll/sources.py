"""Read a notebook and work out what the author asked for: date, slug, front matter, cell options.

Nothing here executes code. The result, a :class:`SourceNotebook`, is what every later
stage works from, so a notebook that cannot be read fails here with a message naming it.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import Config, load_yaml
from .errors import NotebookError
from .notebook_file import as_read_by_nbformat, read_with_nbformat, structure_problem, validate
from .fastpages import front_matter_cell as fastpages_front_matter, metadata_tags, split_flags
from .saved import REASON_KEY, SavedOutputs, saved_outputs_of
from .tutorials import Chapter, chapter_of, is_text_notebook, read_text_notebook, sections, stem as notebook_stem

FILE_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)$")
HEADING = re.compile(r"^# +(?P<title>.+?)\s*#*\s*$")
OPTION_LINE = re.compile(r"^#\|\s?(.*)$")
# Front-matter keys the build tool reads itself and does not pass on to the post.
TOOL_KEYS = ("depends", "timeout", "exclusive", "kernel", "execute", REASON_KEY, "allow_errors")


@dataclass(frozen=True)
class CellOptions:
    """The presentation and execution switches of one cell, from its tags and `#|` options."""

    tags: frozenset = frozenset()
    fig_alt: str | None = None
    fig_cap: str | None = None
    label: str | None = None  # `#| label:`: an anchor readers can link to

    def has(self, tag: str) -> bool:
        return tag in self.tags

    @property
    def tab(self) -> str | None:
        for tag in sorted(self.tags):
            if tag.startswith("tab:") and tag[4:].strip():
                return tag[4:].strip()
        return None


# Quarto cell options and the tag each one means here.
QUARTO_OPTIONS = {
    ("include", False): "remove-cell",
    ("echo", False): "remove-input",
    ("output", False): "remove-output",
    ("eval", False): "skip-execution",
    ("error", True): "raises-exception",
    ("code-fold", True): "hide-input",
    ("code-fold", "show"): "show-input",
}


def split_cell_options(source: str) -> tuple[list[str], str]:
    """Separate the leading `#|` option lines of a code cell from the code a reader sees."""
    lines = source.splitlines()
    options = []
    while lines and OPTION_LINE.match(lines[0]):
        options.append(OPTION_LINE.match(lines[0]).group(1))
        lines.pop(0)
    return options, "\n".join(lines)


def shown_source(cell: Any) -> str:
    """What a reader sees of a cell's source: no `#|` option lines, no fastpages flag lines."""
    source = split_cell_options(cell.source)[1] if cell.cell_type == "code" else cell.source
    return split_flags(source, cell.cell_type)[1]


def read_cell_options(cell: Any, position: int, notebook: str, notebook_metadata: dict | None = None) -> CellOptions:
    tags = set(t for t in cell.get("metadata", {}).get("tags", []) if isinstance(t, str))
    tags |= split_flags(cell.get("source", ""), cell.get("cell_type", ""))[0]
    tags |= metadata_tags(cell, notebook_metadata or {})
    label = None
    fig_alt = fig_cap = None
    if cell.get("cell_type") == "code":
        option_lines, _ = split_cell_options(cell.source)
        if option_lines:
            try:
                options = load_yaml("\n".join(option_lines)) or {}
            except yaml.YAMLError as exc:
                raise NotebookError(notebook, f"cell {position}: invalid '#|' options: "
                                              f"{getattr(exc, 'problem', None) or exc}") from None
            if not isinstance(options, dict):
                raise NotebookError(notebook, f"cell {position}: '#|' options must be 'key: value' lines")
            for (key, value), tag in QUARTO_OPTIONS.items():
                if key in options and (options[key] is value if isinstance(value, bool) else options[key] == value):
                    tags.add(tag)
            if options.get("label") is not None:
                label = slugify(str(options["label"])) or None
            if options.get("fig-alt") is not None:
                fig_alt = str(options["fig-alt"])
            if options.get("fig-cap") is not None:
                fig_cap = str(options["fig-cap"])
    return CellOptions(frozenset(tags), fig_alt, fig_cap, label)


@dataclass
class SourceNotebook:
    path: Path
    rel: str
    nb: Any  # a Node, or after validate() an nbformat.NotebookNode (saved outputs are never used)
    date: dt.date | None  # None only for a chapter of a tutorial that gives no date
    slug: str
    front_matter: dict
    front_matter_cell: int | None  # 0-based index of the raw front-matter cell
    title_heading: tuple[int, int] | None  # (cell index, line index) of the '# Title' to drop
    options: list[CellOptions] = field(default_factory=list)
    kernel_name: str = "python3"
    timeout: int | None = None
    depends: list[str] = field(default_factory=list)
    exclusive: bool = False  # run alone, with every core (benchmarks)
    saved: SavedOutputs | None = None  # shown with the outputs saved in it, not executed (nbjekyll.saved)
    allow_errors: bool = False  # a cell that raises shows its error and the run goes on

    validated: bool = False
    warnings: list[str] = field(default_factory=list)  # what was read, but not as its convention says
    chapter: Chapter | None = None  # where it stands in its tutorial; None for a post
    sections: list = field(default_factory=list)  # a chapter's level-2 headings: [{title, id}]

    @property
    def post_name(self) -> str:
        """The written page's file stem: the post's YYYY-MM-DD-slug, or the chapter's name in its collection."""
        if self.chapter is not None:
            return self.chapter.name
        return f"{self.date.isoformat()}-{self.slug}"

    @property
    def claims(self) -> tuple[str, ...]:
        """The names no other notebook of the site may produce (page, image folder, stamp)."""
        if self.chapter is not None:
            return (self.chapter.document, self.slug)
        return (self.post_name, self.slug)

    @property
    def cache_name(self) -> str:
        """Its folder in the execution cache and the failure memory."""
        return self.slug if self.chapter is not None else notebook_stem(self.path)

    def chapter_key(self) -> list | None:
        """What its place in a tutorial puts on its page (part of the render key)."""
        if self.chapter is None:
            return None
        tutorial = self.chapter.tutorial
        return [tutorial.name, tutorial.title, tutorial.layout, self.chapter.name, self.chapter.position,
                self.sections]

    @property
    def executed_cells(self) -> int:
        """The code cells a run executes (the count the progress lines and the summary show)."""
        return sum(c.cell_type == "code" and not o.has("skip-execution") for c, o in zip(self.nb.cells, self.options))

    def validate(self) -> "SourceNotebook":
        """Check the notebook against nbformat's schema, before it is executed or converted.

        Reading does not, so that a build whose posts are all current never imports nbformat:
        an up-to-date post was made from this very content, which passed this check then.
        """
        if not self.validated:
            import nbformat
            self.nb = validate(nbformat.from_dict(self.nb), self.rel)
            self.validated = True
        return self

    def for_execution(self) -> Any:
        """A copy to execute: saved outputs cleared, `#|` switches turned into the tags nbclient knows."""
        nb = copy.deepcopy(self.nb)
        for cell, options in zip(nb.cells, self.options):
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            tags = list(cell.metadata.get("tags", []))
            for tag in ("skip-execution", "raises-exception"):
                if options.has(tag) and tag not in tags:
                    tags.append(tag)
            if tags:
                cell.metadata["tags"] = tags
        return nb


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _parse_date(value: Any, notebook: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = re.match(r"^\s*(\d{4}-\d{2}-\d{2})", str(value))
    if match:
        try:
            return dt.date.fromisoformat(match.group(1))
        except ValueError:
            pass
    raise NotebookError(notebook, f"front matter 'date': expected a date like 2018-04-22, got {value!r}")


def _read_front_matter(cell: Any, notebook: str) -> dict | None:
    """The YAML block of a first raw cell written as '---' … '---', or None if there is none."""
    if cell.cell_type != "raw":
        return None
    lines = cell.source.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or lines[0].strip() != "---":
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise NotebookError(notebook, "front matter (cell 1): the YAML block is not closed by a '---' line") from None
    text = "\n".join(lines[1:end])
    try:
        data = load_yaml(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 2}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise NotebookError(notebook, f"front matter (cell 1){line}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise NotebookError(notebook, "front matter (cell 1): expected 'key: value' lines, "
                                      f"got {type(data).__name__}")
    return data


NAVIGATION_LINE = re.compile(r"^\s*\[[^\]]*\]\([^)]*\)(?:\s*[|·]\s*\[[^\]]*\]\([^)]*\))*\s*$")


def is_navigation(text: str) -> bool:
    """A Markdown cell that only links elsewhere (a book's ``[< prev](…) | [Contents](…) | [next >](…)``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(NAVIGATION_LINE.match(line) for line in lines)


def _find_title(nb: Any, start: int, skip_navigation: bool = False) -> tuple[str, tuple[int, int]] | None:
    for index in range(start, len(nb.cells)):
        cell = nb.cells[index]
        if cell.cell_type != "markdown" or (skip_navigation and is_navigation(cell.source)):
            continue
        in_fence = False
        for line_no, line in enumerate(cell.source.splitlines()):
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            match = None if in_fence else HEADING.match(line)
            if match:
                return match.group("title"), (index, line_no)
        return None  # only the first Markdown cell may give the title
    return None


def _kernel_name(front_matter: dict, metadata: dict, config: Config, rel: str) -> str:
    """The kernel to run in: the front matter's ``kernel:``, else the notebook's kernelspec as the
    site's ``kernel_aliases`` map it (the first pattern matching the whole name wins)."""
    chosen = front_matter.get("kernel")
    if chosen is not None:
        if not isinstance(chosen, str) or not chosen.strip():
            raise NotebookError(rel, f"front matter 'kernel': expected a kernel name, got {chosen!r}")
        return chosen.strip()
    declared = (metadata.get("kernelspec") or {}).get("name") or "python3"
    for pattern, alias in config.kernel_aliases:
        if pattern.fullmatch(declared):
            return alias
    return declared


def read_notebook(path: Path, config: Config) -> SourceNotebook:
    path = Path(path).resolve()
    rel = config.rel(path)
    if path.suffix != ".ipynb" and is_text_notebook(path):
        nb, validated = read_text_notebook(path, rel, config.build_dir / "text-notebooks"), False
    else:
        try:
            nb = as_read_by_nbformat(json.loads(path.read_bytes()))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            nb = None  # nbformat reads it again and says what is wrong
        validated = nb is None or structure_problem(nb) is not None
        if validated:
            nb = read_with_nbformat(path, rel)

    front_matter: dict = {}
    front_matter_cell = None
    if nb.cells:
        found = _read_front_matter(nb.cells[0], rel)
        if found is not None:
            front_matter, front_matter_cell = found, 0

    warnings: list[str] = []
    if front_matter_cell is None:
        first_markdown = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), None)
        found_fastpages = fastpages_front_matter(nb.cells[first_markdown].source) if first_markdown is not None else None
        if found_fastpages:
            front_matter, front_matter_cell = found_fastpages[0], first_markdown
            warnings += [f"cell {first_markdown + 1}: {w}" for w in found_fastpages[1]]

    chapter = chapter_of(config, path) if config.tutorials else None
    title_heading = None
    if "title" not in front_matter:
        # a chapter's title may follow its book's navigation line
        found_title = _find_title(nb, 0 if front_matter_cell is None else 1, skip_navigation=chapter is not None)
        if found_title:
            front_matter = {"title": found_title[0], **front_matter}
            title_heading = found_title[1]

    stem = notebook_stem(path)
    match = None if chapter else FILE_NAME.match(stem)
    date = None
    slug = slugify(stem)
    if match:
        try:
            date = dt.date.fromisoformat(match.group("date"))
            slug = slugify(match.group("slug"))
        except ValueError:
            date = None
    if "date" in front_matter:
        date = _parse_date(front_matter["date"], rel)
    if chapter is not None:
        slug = chapter.slug
    elif date is None:
        raise NotebookError(rel, "the file name has no valid date: name it YYYY-MM-DD-slug.ipynb "
                                 "or give 'date:' in the front matter")
    if not slug:
        raise NotebookError(rel, "the file name gives no slug: name it YYYY-MM-DD-slug.ipynb")

    options = [read_cell_options(cell, i + 1, rel, nb.metadata) for i, cell in enumerate(nb.cells)]

    timeout = front_matter.get("timeout", nb.metadata.get("execution", {}).get("timeout"))
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0):
        raise NotebookError(rel, f"front matter 'timeout': expected a positive number of seconds, got {timeout!r}")
    depends = front_matter.get("depends", [])
    if isinstance(depends, str):
        depends = [depends]
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise NotebookError(rel, f"front matter 'depends': expected a list of paths or globs, got {depends!r}")

    kernel_name = _kernel_name(front_matter, nb.metadata, config, rel)
    saved = saved_outputs_of(front_matter, rel, config)
    allow_errors = front_matter.get("allow_errors", config.allow_errors)
    if not isinstance(allow_errors, bool):
        raise NotebookError(rel, f"front matter 'allow_errors': expected true or false, got {allow_errors!r}")
    found_sections = []
    if chapter is not None:
        found_sections = sections([c.source if c.cell_type == "markdown" else "" for c in nb.cells], title_heading)
    return SourceNotebook(path=path, rel=rel, nb=nb, date=date, slug=slug, front_matter=front_matter,
                          front_matter_cell=front_matter_cell, title_heading=title_heading,
                          options=options, kernel_name=kernel_name, timeout=timeout, depends=depends,
                          exclusive=front_matter.get("exclusive") is True, validated=validated, warnings=warnings,
                          saved=saved, allow_errors=allow_errors,
                          chapter=chapter, sections=found_sections)
