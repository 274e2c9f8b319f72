"""Which notebooks a command works on: those named on the command line, or all of the site's."""
from __future__ import annotations

from pathlib import Path

from .config import Config
from .errors import UsageError


def find_notebooks(config: Config) -> list[Path]:
    if not config.notebooks_dir.is_dir():
        return []
    found = [p for p in config.notebooks_dir.rglob("*.ipynb")
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(config.notebooks_dir).parts)]
    return sorted(found, key=lambda p: p.relative_to(config.notebooks_dir).as_posix())


def select_notebooks(config: Config, requested: list[str], cwd: Path) -> list[Path]:
    """The notebooks named on the command line, checked; all of them when none are named."""
    if not requested:
        return find_notebooks(config)
    chosen: list[Path] = []
    for name in requested:
        path = (cwd / name).resolve()
        if not path.is_relative_to(config.notebooks_dir):
            # Also accept a path relative to the site, e.g. notebooks/x.ipynb with --site elsewhere.
            alt = (config.site / name).resolve()
            if alt.is_relative_to(config.notebooks_dir):
                path = alt
        if not path.is_relative_to(config.notebooks_dir):
            raise UsageError(f"{name}: not in the site's notebook folder ({config.rel(config.notebooks_dir)}/)")
        if path.suffix != ".ipynb":
            raise UsageError(f"{name}: not a notebook (.ipynb)")
        if not path.is_file():
            raise UsageError(f"{name}: no such notebook")
        if path not in chosen:
            chosen.append(path)
    return chosen
