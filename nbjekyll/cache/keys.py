"""The two keys of a notebook, made from what it is now.

The **execution key** covers what can change the outputs: the code cells, their execution switches,
the kernel, its Python version and requirements file, the cache format, and the content of every
local file the notebook depends on (modules it imported, files it read, ``depends:`` globs). The
**render key** covers everything else that shapes the post: Markdown, tags, front matter, the
tool's converter and template.
"""
from __future__ import annotations

import functools
import glob
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..digests import digest, file_digest
from ..kernels import Environment, environment_of
from ..saved import notebook_key
from ..sources import SourceNotebook, shown_source

CACHE_FORMAT = 2
# What writes a post's text: a change to any of them re-renders every post (the configuration's
# part is its values, in current_inputs).
TOOL_FILES = ("convert.py", "saved.py", "outputs.py", "images.py", "markdown.py", "commonmark.py", "fastpages.py",
              "interactive.py", "notebook_file.py", "sources.py", "tracebacks.py", "vendor.py", "digests.py",
              "tutorials.py", "templates/post.md.j2", "templates/provenance.liquid", "templates/chapter-nav.liquid",
              "templates/contents.liquid", "static/interactive.js")
NOT_WRITING_POSTS = ("config.py", "errors.py", "files.py", "hints.py")
EXECUTION_TAGS = ("skip-execution", "raises-exception")


@dataclass
class Inputs:
    """What a notebook's post was built from, as recorded in the post and the cache."""

    code: str
    render: str
    requirements: str | None
    python: str | None  # the kernel's Python; None while a declared kernel is not set up
    files: dict[str, str | None] = field(default_factory=dict)
    code_cells: list[list] = field(default_factory=list)  # [1-based cell position, digest, kind]
    render_cells: list[list] = field(default_factory=list)

    def for_front_matter(self) -> dict:
        return {"code": self.code, "render": self.render, "requirements": self.requirements,
                "python": self.python, "files": dict(sorted(self.files.items()))}

    def execution_key(self) -> str:
        return digest(json.dumps([CACHE_FORMAT, self.code, self.requirements, self.python,
                                  sorted(self.files.items())]))


CELL_KINDS = {"markdown": "Markdown", "code": "code", "raw": "raw"}


def code_cells(source: SourceNotebook) -> list[list]:
    cells = []
    for index, (cell, options) in enumerate(zip(source.nb.cells, source.options)):
        if cell.cell_type != "code":
            continue
        code = shown_source(cell)  # option and flag lines change the page, not the outputs
        switches = [tag for tag in EXECUTION_TAGS if options.has(tag)]
        cells.append([index + 1, digest(json.dumps([code, switches])), "code"])
    return cells


def render_cells(source: SourceNotebook) -> list[list]:
    cells = []
    for index, cell in enumerate(source.nb.cells):
        shown = {k: v for k, v in cell.items() if k not in ("outputs", "execution_count", "id")}
        kind = "front matter" if index == source.front_matter_cell else CELL_KINDS.get(cell.cell_type, "")
        cells.append([index + 1, digest(json.dumps(shown, sort_keys=True, default=str)), kind])
    return cells


@functools.lru_cache(maxsize=1)
def tool_digest() -> str:
    here = Path(__file__).parent.parent  # the nbjekyll package
    return digest(b"".join((here / name).read_bytes() for name in TOOL_FILES))


def current_inputs(source: SourceNotebook, config: Config, files: dict[str, str | None],
                   environment: Environment | None = None) -> Inputs:
    """The inputs as they are now, for a notebook whose dependencies are ``files`` (paths only used)."""
    environment = environment or environment_of(source.kernel_name, config)
    cells = code_cells(source)
    rendered = render_cells(source)
    code_parts = [source.kernel_name, cells, config.kernel_env] + (["allow_errors"] if source.allow_errors else [])
    if source.saved is not None:  # shown as saved: no kernel, no environment; every byte of it is the input
        code_parts, environment = [notebook_key(source.nb)], Environment(source.kernel_name, "", None, None)
        files = {}
    config_part = [config.front_matter, config.output_max_lines, config.rel(config.images_dir), config.vendor_dir,
                   config.kernel_env, tool_digest(), CACHE_FORMAT]
    if source.chapter is not None:  # posts' keys stay as they were
        config_part.append(source.chapter_key())
    return Inputs(
        code=digest(json.dumps(code_parts)),
        render=digest(json.dumps([rendered, config_part], sort_keys=True, default=str)),
        requirements=environment.requirements,
        python=environment.python,
        files={path: file_digest(config.site / path) for path in sorted(files)},
        code_cells=cells,
        render_cells=rendered,
    )


def declared_dependencies(source: SourceNotebook, config: Config) -> set[str]:
    """The files matched now by the front matter's ``depends:`` globs (relative to the notebook)."""
    found = set()
    for pattern in source.depends:
        for match in glob.glob(str(source.path.parent / pattern), recursive=True):
            path = Path(match).resolve()
            if path.is_file() and path.is_relative_to(config.site):
                found.add(config.rel(path))
    return found

