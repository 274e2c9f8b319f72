"""``--watch``: rebuild what a saved notebook or a changed dependency makes stale, until Ctrl-C.

It polls file times (no extra dependency, works on any file system) and lets the cache
decide what each change needs, so saving a notebook from Jupyter re-renders prose edits at
once and only runs the kernel when code or a dependency changed. It runs happily beside
``jekyll serve``, which picks up the rewritten posts.
"""
from __future__ import annotations

import time
from pathlib import Path

from .config import Config
from .errors import BuildInterrupted
from .progress import Progress
from .selection import find_notebooks, select_notebooks
from .write import page_folders, read_front_matter


def watched_files(config: Config, requested: list[str], cwd: Path) -> dict[Path, tuple[int, int]]:
    """Every file whose change can make a post stale: notebooks, their dependencies, requirements."""
    files = set(select_notebooks(config, requested, cwd) if requested else find_notebooks(config))
    if config.kernel_requirements:
        files.add(config.site / config.kernel_requirements)
    files.update(config.site / kernel.requirements for kernel in config.kernels.values())
    files.add(config.site / "_config.yml")
    for folder in page_folders(config):
        for post in folder.glob("*.md") if folder.is_dir() else []:
            record = (read_front_matter(post) or {}).get("built_from") or {}
            files.update(config.site / path for path in (record.get("files") or {}))
    for folder in [config.notebooks_dir] + [t.source for t in config.tutorials.values()]:
        if folder.is_dir():  # new notebooks, modules or data files beside the notebooks
            files.update(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
                         and "__pycache__" not in p.parts)
    stamps = {}
    for path in files:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        stamps[path] = (stat.st_mtime_ns, stat.st_size)
    return stamps


def watch(config: Config, requested: list[str], cwd: Path, build, progress: Progress, interval: float = 0.5) -> int:
    """Build once, then again after each change; ``build()`` runs one ordinary build."""
    try:
        build()
        seen = watched_files(config, requested, cwd)
        # said only once the first build is done and the file times are taken: a change from now on is seen
        progress.line(f"watching {config.rel(config.notebooks_dir)}/ and the files its notebooks use; Ctrl-C stops")
        while True:
            time.sleep(interval)
            now = watched_files(config, requested, cwd)
            if now == seen:
                continue
            changed = sorted(config.rel(p) for p in set(now) ^ set(seen) | {p for p in now if seen.get(p) != now[p]})
            progress.line(f"changed: {', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}")
            time.sleep(interval)  # let an editor finish writing
            build()
            seen = watched_files(config, requested, cwd)
            progress.line("watching again")
    except (KeyboardInterrupt, BuildInterrupted):
        progress.line("stopped watching")
        return 0
