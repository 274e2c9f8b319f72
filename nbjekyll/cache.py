"""Decide what a notebook needs: nothing, a re-render, or a run — and say why.

Two keys per notebook. The **execution key** covers what can change the outputs: the code
cells, their execution switches, the kernel, its Python version and requirements file, the
cache format, and the content of every local file the notebook depends on (modules it
imported, files it read, ``depends:`` globs). The **render key** covers everything else
that shapes the post: Markdown, tags, front matter, the tool's converter and template.

Each post records its inputs in its front matter (``built_from``), so a fresh clone knows
whether its committed posts are current without any cache; the execution cache in the
build folder holds the executed notebook, so a prose edit re-renders without a kernel.
"""
from __future__ import annotations

import copy
import functools
import glob
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .errors import NotebookError
from .digests import digest, file_digest
from .kernels import Environment, environment_of
from .progress import Result
from .sources import SourceNotebook, read_notebook, shown_source
from .vendor import VENDOR_DIR
from .write import SiteLock, front_matter_of

CACHE_FORMAT = 2
# What writes a post's text: a change to any of them re-renders every post (the configuration's
# part is its values, in current_inputs).
TOOL_FILES = ("convert.py", "outputs.py", "images.py", "markdown.py", "commonmark.py", "fastpages.py",
              "interactive.py", "notebook_file.py", "sources.py", "tracebacks.py", "vendor.py", "templates/post.md.j2",
              "templates/provenance.liquid", "static/interactive.js")
NOT_WRITING_POSTS = ("config.py", "errors.py")
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
    here = Path(__file__).parent
    return digest(b"".join((here / name).read_bytes() for name in TOOL_FILES))


def current_inputs(source: SourceNotebook, config: Config, files: dict[str, str | None],
                   environment: Environment | None = None) -> Inputs:
    """The inputs as they are now, for a notebook whose dependencies are ``files`` (paths only used)."""
    environment = environment or environment_of(source.kernel_name, config)
    cells = code_cells(source)
    rendered = render_cells(source)
    config_part = [config.front_matter, config.output_max_lines, config.rel(config.images_dir),
                   config.kernel_env, tool_digest(), CACHE_FORMAT]
    return Inputs(
        code=digest(json.dumps([source.kernel_name, cells, config.kernel_env])),
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


# -- the cache in the build folder ------------------------------------------------------------

@dataclass
class CacheEntry:
    executed: Any
    record: dict


class Cache:
    def __init__(self, config: Config):
        self.config = config
        self.root = config.build_dir / "cache"
        self.warnings: list[str] = []

    def folder(self, source: SourceNotebook) -> Path:
        return self.root / source.path.stem

    def record(self, source: SourceNotebook) -> dict | None:
        """The entry's record alone (cheap: no notebook is parsed), or None; never trusted for outputs."""
        try:
            record = json.loads((self.folder(source) / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(record, dict) and "format" in record and record["format"] != CACHE_FORMAT:
            self.discard(source, f"the cache of {source.rel} is from an older format "
                                 f"({record.get('format')!r}, now {CACHE_FORMAT}); it will be rebuilt")
            return None
        if not isinstance(record, dict) or record.get("notebook") != source.rel:
            return None
        return record

    def load(self, source: SourceNotebook) -> CacheEntry | None:
        """The cached execution, or None; a damaged or outdated entry is removed, never trusted."""
        import nbformat
        folder = self.folder(source)
        if not folder.exists():
            return None
        try:
            record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
            if record.get("format") != CACHE_FORMAT:
                self.discard(source, f"the cache of {source.rel} is from an older format "
                                     f"({record.get('format')!r}, now {CACHE_FORMAT}); it will be rebuilt")
                return None
            with open(folder / "executed.ipynb", encoding="utf-8") as handle:
                executed = nbformat.read(handle, as_version=4)
            if record.get("notebook") != source.rel or not isinstance(record.get("execution_key"), str):
                raise ValueError("record does not match")
        except (OSError, ValueError, KeyError, TypeError, nbformat.reader.NotJSONError, json.JSONDecodeError) as exc:
            self.discard(source, f"the cache of {source.rel} is corrupt ({type(exc).__name__}); it will be rebuilt")
            return None
        return CacheEntry(executed, record)

    def export(self, source: SourceNotebook) -> dict | None:
        """The entry as text, for a shard's bundle; None when there is no valid entry."""
        if self.load(source) is None:
            return None
        folder = self.folder(source)
        return {"folder": folder.name, "record": json.loads((folder / "record.json").read_text(encoding="utf-8")),
                "executed": (folder / "executed.ipynb").read_text(encoding="utf-8")}

    def install(self, entry: dict) -> None:
        """Put an exported entry (from a bundle) in place, replacing what was there."""
        folder = self.root / Path(entry["folder"]).name
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / "executed.ipynb").write_text(entry["executed"], encoding="utf-8")
        (tmp / "record.json").write_text(json.dumps(entry["record"], indent=1, sort_keys=True), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    def discard(self, source: SourceNotebook, warning: str | None = None) -> None:
        if warning:
            self.warnings.append(warning)
        shutil.rmtree(self.folder(source), ignore_errors=True)

    def store(self, source: SourceNotebook, executed: Any, inputs: Inputs, provenance: dict | None = None) -> None:
        import nbformat
        folder = self.folder(source)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with open(tmp / "executed.ipynb", "w", encoding="utf-8") as handle:
            nbformat.write(executed, handle)
        record = {"format": CACHE_FORMAT, "notebook": source.rel, "execution_key": inputs.execution_key(),
                  "inputs": {**inputs.for_front_matter(), "code_cells": inputs.code_cells,
                             "render_cells": inputs.render_cells},
                  "provenance": provenance or {}}
        (tmp / "record.json").write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)


class FailureMemory:
    """The last failed run of each notebook, so an unchanged failing notebook is not run again.

    A cell error or timeout is deterministic for the same inputs (an endless loop cost its full
    timeout on every build); a kernel that would not start is not remembered, it may start next time.
    """

    def __init__(self, config: Config):
        self.root = config.build_dir / "failures"

    def _path(self, source: SourceNotebook) -> Path:
        return self.root / f"{source.path.stem}.json"

    def recall(self, source: SourceNotebook, inputs: Inputs, timeout: int) -> dict | None:
        """The failure of a run with these inputs and this cell timeout (a longer one may be enough)."""
        try:
            failure = json.loads(self._path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        same = (isinstance(failure, dict) and failure.get("execution_key") == inputs.execution_key()
                and failure.get("timeout") == timeout)
        return failure if same and isinstance(failure.get("message"), str) else None

    def remember(self, source: SourceNotebook, inputs: Inputs, timeout: int, message: str, when: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._path(source).write_text(json.dumps({"execution_key": inputs.execution_key(), "timeout": timeout,
                                                  "message": message, "at": when}, indent=1), encoding="utf-8")

    def forget(self, source: SourceNotebook) -> None:
        try:
            self._path(source).unlink()
        except FileNotFoundError:
            pass


def with_cached_outputs(source: SourceNotebook, executed: Any) -> Any:
    """The current source notebook carrying the outputs of a cached run of the same code cells."""
    merged = copy.deepcopy(source.nb)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    for cell, old in zip((c for c in merged.cells if c.cell_type == "code"), ran):
        cell.outputs = old.get("outputs", [])
        cell.execution_count = old.get("execution_count")
    merged.metadata["language_info"] = executed.metadata.get("language_info", {})
    if "widgets" in executed.metadata:  # the saved widget state the run left (nbclient's store_widget_state)
        merged.metadata["widgets"] = executed.metadata["widgets"]
    return merged


# -- the decision ---------------------------------------------------------------------------

@dataclass
class Plan:
    action: str  # "up to date", "render", "execute"
    reasons: list[str]
    cached: CacheEntry | None = None
    inputs: Inputs | None = None  # the current inputs, with the last known dependency files
    environment: Environment | None = None  # the kernel's; its ``problem`` says why it cannot run now

    def describe(self) -> str:
        if self.action == "up to date":
            return "up to date"
        if self.action == "execute" and self.environment and self.environment.problem:
            return f"needs executing ({'; '.join(self.reasons)}), but will be skipped: {self.environment.problem}"
        verb = "will re-render" if self.action == "render" else "will execute"
        return f"{verb} ({'; '.join(self.reasons)})"


def _cell_changes(old: list, new: list) -> list[str]:
    """Say which cells differ, as people number them (1-based position in the notebook)."""
    old_map = {c[0]: (c[1], c[2]) for c in old}
    new_map = {c[0]: (c[1], c[2]) for c in new}

    def name(position, kind):
        return "the front matter" if kind == "front matter" else f"{kind} cell {position}"

    changes = []
    for position, (value, kind) in new_map.items():
        if position not in old_map:
            changes.append(f"{name(position, kind)} added")
        elif old_map[position][0] != value:
            changes.append(f"{name(position, kind)} changed")
    changes += [f"{name(p, k)} removed" for p, (_, k) in old_map.items() if p not in new_map]
    return changes[:3] + ([f"{len(changes) - 3} more cells changed"] if len(changes) > 3 else [])


def plan(source: SourceNotebook, config: Config, recorded: dict | None, cache: Cache | None,
         force: bool = False, images_ok: bool = True, environment: bool = True) -> Plan:
    """What to do with one notebook, given the ``built_from`` record of its current post (or None).

    Without a cache (``--check``) only the committed record is compared; ``environment=False``
    leaves out the Python version, which says nothing about the notebook's content.
    """
    # The record decides; the executed notebook is read (and checked) only when outputs are needed.
    record = cache.record(source) if cache else None
    cache_inputs = (record.get("inputs") or {}) if record else {}
    known_files = set((recorded or {}).get("files") or cache_inputs.get("files") or {})
    known_files |= declared_dependencies(source, config)
    env = environment_of(source.kernel_name, config)
    inputs = current_inputs(source, config, known_files, env)
    if force:
        return Plan("execute", ["--force"], None, inputs, env)

    def valid_entry() -> CacheEntry | None:
        if record is None or record.get("execution_key") != inputs.execution_key():
            return None
        entry = cache.load(source)
        return entry if entry is not None and entry.record["execution_key"] == inputs.execution_key() else None

    baseline = recorded or cache_inputs
    reasons: list[str] = []
    if not baseline:
        reasons.append("never built")
    else:
        if baseline.get("code") != inputs.code:
            detail = _cell_changes(cache_inputs.get("code_cells", []), inputs.code_cells) \
                if cache_inputs.get("code_cells") else []
            reasons += detail or ["code cells, kernel or nbjekyll.kernel_env changed"]
        if baseline.get("requirements") != inputs.requirements:
            reasons.append(f"{env.requirements_file} changed")
        if environment and inputs.python is not None and baseline.get("python") != inputs.python:
            reasons.append(f"Python {baseline.get('python')} → {inputs.python}")
        old_files = baseline.get("files") or {}
        for path, value in inputs.files.items():
            if path not in old_files:
                reasons.append(f"{path} added")
            elif value is None:
                reasons.append(f"{path} removed")
            elif old_files[path] != value:
                reasons.append(f"{path} changed")
    if reasons:
        entry = valid_entry()
        if entry:  # e.g. a change was undone: the cached run is the right one
            return Plan("render", reasons + ["outputs from the cache"], entry, inputs, env)
        return Plan("execute", reasons, None, inputs, env)

    render_reasons = []
    if recorded is None:
        render_reasons.append("post missing")
    elif not images_ok:
        render_reasons.append("an image or script of the post is missing")
    if baseline.get("render") != inputs.render:
        if cache_inputs.get("render_cells"):
            render_reasons += _cell_changes(cache_inputs["render_cells"], inputs.render_cells) or \
                ["front matter, tags or settings changed"]
        else:
            render_reasons.append("Markdown, tags, settings or the build tool changed")
    if not render_reasons:
        return Plan("up to date", [], None, inputs, env)
    entry = valid_entry()
    if entry:
        return Plan("render", render_reasons, entry, inputs, env)
    return Plan("execute", render_reasons + ["no cached outputs"], None, inputs, env)


def recorded_inputs(config: Config, source: SourceNotebook) -> tuple[dict | None, bool]:
    """The ``built_from`` record of the notebook's current post, and whether its images and scripts are all there."""
    try:
        text = (config.posts_dir / f"{source.post_name}.md").read_text(encoding="utf-8")
    except OSError:
        return None, True
    front_matter = front_matter_of(text)
    if not front_matter or front_matter.get("notebook") != source.rel:
        return None, True
    folder = config.images_dir / source.slug
    names = re.findall(r"'/" + re.escape(config.rel(config.images_dir)) + "/" + re.escape(source.slug) +
                       r"/([0-9a-f]{16}\.[a-z]+)'", text)
    images_ok = all((folder / name).is_file() for name in names) and \
        all((config.site / path).is_file() for path in re.findall(r"'/(" + VENDOR_DIR + r"/[^'/]+/[^'/]+)'", text))
    recorded = front_matter.get("built_from")
    return (recorded if isinstance(recorded, dict) else None), images_ok


def all_up_to_date(config: Config, paths: list[Path]) -> list[Result] | None:
    """The results of a build in which no notebook needs anything, or None as soon as one does.

    The no-op build: it reads each notebook and its post's record and decides, without the
    execution and conversion stack (asyncio, nbformat, nbclient, jinja2), so it costs about the
    same whatever the number of notebooks. Anything else (a change, a problem) goes to the full build,
    which says what it is.
    """
    claimed: set[str] = set()
    results = []
    with SiteLock(config):
        for path in paths:
            start = time.monotonic()
            try:
                source = read_notebook(path, config)
            except NotebookError:
                return None
            if source.post_name in claimed or source.slug in claimed:
                return None
            claimed |= {source.post_name, source.slug}
            recorded, images_ok = recorded_inputs(config, source)
            # With a post's record the cache cannot make it current: it is not even opened.
            if recorded is None or plan(source, config, recorded, None, images_ok=images_ok).action != "up to date":
                return None
            results.append(Result(source.rel, "up to date", source.executed_cells, time.monotonic() - start))
    return results
