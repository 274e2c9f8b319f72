"""Tutorials and text notebooks: which files are notebooks, and where a chapter stands in its tutorial.

A tutorial (``nbjekyll.tutorials``) is a folder of undated notebooks. Each one directly in the folder
is a chapter, read in the order of its file name (the setting's ``order`` first); an ``Index``,
``index`` or ``README`` notebook is the landing page, which lists the chapters. Chapters become the
documents of a Jekyll collection (``_<name>/<chapter>.md``).

Notebooks may be kept as text, in Jupytext's percent format (``.py``) or as MyST Markdown (``.md``);
a ``.py`` or ``.md`` file is a notebook only when it starts with a Jupytext header (``jupytext:`` or
``kernelspec:``), so helper modules and plain Markdown beside the notebooks are left alone. They are
read with the ``jupytext`` library, imported only when such a file is read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import NotebookError

if TYPE_CHECKING:
    from .config import Config, TutorialDeclaration

TEXT_SUFFIXES = (".py", ".md")
NOTEBOOK_SUFFIXES = (".ipynb",) + TEXT_SUFFIXES
LANDING_STEMS = ("index", "readme")  # compared lower-cased; index before readme
HEADER_BYTES = 4096
_MD_HEADER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n---[ \t]*$", re.DOTALL | re.MULTILINE)
_PY_HEADER = re.compile(r"\A(?:#!.*\n)?(?:# -\*-.*\n)?# ---[ \t]*\n(?P<yaml>(?:#.*\n)*?)# ---[ \t]*$", re.MULTILINE)
_JUPYTEXT_KEY = re.compile(r"^(?:#)?\s*(?:jupytext|kernelspec):", re.MULTILINE)
INSTALL_HINT = "pip install 'nbjekyll[text]' (or pip install jupytext)"


def is_text_notebook(path: Path) -> bool:
    """A ``.py`` or ``.md`` file with a Jupytext header (its first lines only are read)."""
    if path.suffix not in TEXT_SUFFIXES:
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(HEADER_BYTES)
    except OSError:
        return False
    match = (_MD_HEADER if path.suffix == ".md" else _PY_HEADER).match(head)
    return bool(match and _JUPYTEXT_KEY.search(match.group("yaml")))


def is_notebook(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".ipynb" or is_text_notebook(path))


def stem(path: Path) -> str:
    """The file name without its notebook suffix."""
    return path.name[: -len(path.suffix)] if path.suffix in NOTEBOOK_SUFFIXES else path.name


TEXT_CACHE_FORMAT = 1


def read_text_notebook(path: Path, rel: str, cache_dir: Path | None = None) -> Any:
    """A Jupytext notebook as an nbformat notebook (no outputs: a text notebook always executes).

    ``cache_dir`` keeps the last reading of each text notebook, keyed by the file's content, so that a
    build with nothing to do never imports jupytext (and nbformat with it)."""
    import json
    from .digests import digest
    from .notebook_file import as_read_by_nbformat
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotebookError(rel, f"cannot read the file: {exc.strerror}") from None
    key = digest(data)
    kept = cache_dir / (rel.replace("/", "__") + ".json") if cache_dir is not None else None
    if kept is not None:
        try:
            record = json.loads(kept.read_text(encoding="utf-8"))
            if record.get("format") == TEXT_CACHE_FORMAT and record.get("digest") == key:
                nb = as_read_by_nbformat(record["notebook"])
                if nb is not None:
                    return nb
        except (OSError, ValueError, AttributeError, KeyError):
            pass
    nb = _read_with_jupytext(path, rel)
    if kept is not None:
        from .files import atomic_write
        kept.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(kept, json.dumps({"format": TEXT_CACHE_FORMAT, "digest": key, "notebook": nb},
                                      sort_keys=True).encode("utf-8"))
    return nb


def _read_with_jupytext(path: Path, rel: str) -> Any:
    try:
        import jupytext
    except ImportError:
        raise NotebookError(rel, f"a text notebook needs the jupytext library: {INSTALL_HINT}") from None
    try:
        nb = jupytext.read(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(rel, f"cannot read the file: {exc}") from None
    except Exception as exc:  # jupytext raises a variety of errors for malformed headers
        raise NotebookError(rel, f"not a valid text notebook: {exc}") from None
    for cell in nb.cells:
        cell.pop("id", None)  # jupytext makes new ones on every read; a build must be byte-identical
    nb.nbformat_minor = min(nb.get("nbformat_minor", 4), 4)
    return nb


@dataclass(frozen=True)
class Chapter:
    """Where a notebook stands in its tutorial."""

    tutorial: "TutorialDeclaration"
    name: str       # the collection document's stem: "index" for the landing page
    position: int   # 0: the landing page; chapters count from 1

    @property
    def document(self) -> str:
        """The collection document, as Jekyll's ``{% link %}`` names it."""
        return f"{self.tutorial.folder}/{self.name}.md"

    @property
    def slug(self) -> str:
        """Names its images, provenance stamp and cache entry, apart from every post's."""
        return f"{self.tutorial.name}-{self.name}"


def _landing_rank(path: Path) -> tuple | None:
    lowered = stem(path).lower()
    if lowered not in LANDING_STEMS:
        return None
    return LANDING_STEMS.index(lowered), NOTEBOOK_SUFFIXES.index(path.suffix), path.name


def chapter_files(tutorial: "TutorialDeclaration") -> tuple[Path | None, list[Path]]:
    """The landing page (or None) and the chapters in reading order."""
    if not tutorial.source.is_dir():
        return None, []
    found = sorted((p for p in tutorial.source.iterdir() if not p.name.startswith(".") and is_notebook(p)),
                   key=lambda p: p.name)
    landings = sorted((p for p in found if _landing_rank(p) is not None), key=_landing_rank)
    landing = landings[0] if landings else None
    chapters = [p for p in found if p != landing]
    listed = {name: i for i, name in enumerate(tutorial.order)}
    chapters.sort(key=lambda p: (0, listed[p.name], "") if p.name in listed else (1, 0, p.name))
    return landing, chapters


def chapter_of(config: "Config", path: Path) -> Chapter | None:
    """The chapter a notebook file is, or None when it is not in a tutorial's folder."""
    tutorial = config.tutorial_of(path)
    if tutorial is None:
        return None
    landing, chapters = chapter_files(tutorial)
    missing = [name for name in tutorial.order if not (tutorial.source / name).is_file()]
    if missing:
        raise NotebookError(config.rel(path), f"_config.yml: 'nbjekyll.tutorials.{tutorial.name}.order' names "
                                              f"{missing[0]!r}, which is not a notebook in "
                                              f"{config.rel(tutorial.source)}/")
    if path == landing:
        return Chapter(tutorial, "index", 0)
    if path not in chapters:
        return None
    from .sources import slugify
    name = slugify(stem(path))
    if name == "index":
        name = "index-chapter"
    return Chapter(tutorial, name, chapters.index(path) + 1)


def cache_name(config: "Config", path: Path) -> str:
    """The execution cache's and failure memory's folder name for a notebook."""
    chapter = chapter_of(config, path) if config.tutorials else None
    return chapter.slug if chapter else stem(path)


HEADING_LINE = re.compile(r"^ {0,3}(?P<level>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_NON_WORD = re.compile(r"[^\w\- \t]")


def sections(markdown_cells: list[str], title_line: tuple[int, int] | None) -> list[dict]:
    """The chapter's level-2 headings with the ids kramdown (GFM input) gives them, for the contents."""
    used: dict[str, int] = {}
    found = []
    for index, text in enumerate(markdown_cells):
        in_fence = False
        for line_no, line in enumerate(text.splitlines()):
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            match = None if in_fence else HEADING_LINE.match(line)
            if not match or (title_line and title_line == (index, line_no)):
                continue
            raw = match.group("text")
            ident = _NON_WORD.sub("", raw.lower()).replace(" ", "-").replace("\t", "-")
            count = used.get(ident, -1) + 1
            used[ident] = count
            if count:
                ident = f"{ident}-{count}"
            if len(match.group("level")) == 2:
                title = re.sub(r"[*_`]", "", raw).replace("$", "").strip()
                found.append({"title": title, "id": ident})
    return found
