"""``nbjekyll watch``: build, then rebuild what a saved notebook or a changed dependency makes stale."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..progress import Progress
from ..selection import select_notebooks
from . import options
from .common import jobs

HELP = "build, then rebuild whatever a saved notebook or a changed dependency makes stale, until Ctrl-C"


def add_arguments(p) -> None:
    options.add_notebooks(p)
    options.add_execution(p, force=False)


def run(config: Config, args, paths) -> int:
    from ..pipeline import BuildOptions, run_build
    from ..watch import watch
    progress = Progress()
    build_options = BuildOptions(timeout=args.timeout, jobs=jobs(config, args), retry_failed=args.retry_failed)

    def build_once() -> None:
        progress.summary(run_build(config, select_notebooks(config, args.notebooks, Path.cwd()),
                                   build_options, progress))

    return watch(config, args.notebooks, Path.cwd(), build_once, progress)
