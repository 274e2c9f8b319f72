"""``nbjekyll check``: for CI and pre-commit, every post that is missing, stale or orphaned."""
from __future__ import annotations

from ..config import Config
from . import options
from .common import plural

HELP = ("execute nothing; exit 1 listing every post that is missing, stale or orphaned, and every notebook "
        "committed with outputs")


def add_arguments(p) -> None:
    options.add_notebooks(p)


def run(config: Config, args, paths) -> int:
    from ..check import check_site
    problems = check_site(config, paths)
    for problem in problems:
        print(problem)
    summary = plural(len(problems), "problem") if problems else "all posts current"
    print(f"{plural(len(paths), 'notebook')} checked: {summary}")
    return 1 if problems else 0
