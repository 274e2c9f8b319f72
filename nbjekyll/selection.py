"""Which notebooks a command works on: those named on the command line, or all of the site's."""
from __future__ import annotations

from pathlib import Path

from .config import Config
from .errors import UsageError
from .tutorials import NOTEBOOK_SUFFIXES, chapter_files, is_notebook


def find_notebooks(config: Config) -> list[Path]:
    """The posts' notebooks (``.ipynb`` and text notebooks), then each tutorial's, in reading order."""
    found: list[Path] = []
    if config.notebooks_dir.is_dir():
        found = [p for p in config.notebooks_dir.rglob("*")
                 if p.suffix in NOTEBOOK_SUFFIXES and is_notebook(p)
                 and not any(part.startswith(".") for part in p.relative_to(config.notebooks_dir).parts)]
        found.sort(key=lambda p: p.relative_to(config.notebooks_dir).as_posix())
    for name in sorted(config.tutorials):
        landing, chapters = chapter_files(config.tutorials[name])
        found += ([landing] if landing else []) + chapters
    return found


def _in_notebook_folders(config: Config, path: Path) -> bool:
    return path.is_relative_to(config.notebooks_dir) or config.tutorial_of(path) is not None


def select_notebooks(config: Config, requested: list[str], cwd: Path) -> list[Path]:
    """The notebooks named on the command line, checked; all of them when none are named."""
    if not requested:
        return find_notebooks(config)
    chosen: list[Path] = []
    for name in requested:
        path = (cwd / name).resolve()
        if not _in_notebook_folders(config, path):
            # Also accept a path relative to the site, e.g. notebooks/x.ipynb with --site elsewhere.
            alt = (config.site / name).resolve()
            if _in_notebook_folders(config, alt):
                path = alt
        if not _in_notebook_folders(config, path):
            folders = [config.rel(config.notebooks_dir)] + [config.rel(t.source) for t in config.tutorials.values()]
            raise UsageError(f"{name}: not in the site's notebook folder ({'/, '.join(folders)}/)")
        if path.suffix not in NOTEBOOK_SUFFIXES:
            raise UsageError(f"{name}: not a notebook (.ipynb, or a Jupytext .py or .md)")
        if not path.is_file():
            raise UsageError(f"{name}: no such notebook")
        if not is_notebook(path):
            raise UsageError(f"{name}: not a notebook (a .py or .md notebook starts with a Jupytext header)")
        if path not in chosen:
            chosen.append(path)
    return chosen
