"""The options the subcommands share, declared once, and the defaults of those a subcommand lacks."""
from __future__ import annotations

import argparse
from pathlib import Path

# Every attribute a command reads from its arguments; a subcommand that does not declare one gets this.
DEFAULTS = {"notebooks": [], "notebooks_dir": None, "timeout": None, "force": False, "retry_failed": False,
            "jobs": None, "strict": False, "shard": None, "bundle": None, "bundles": []}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def shard_part(text: str):
    from ..shard import parse_shard
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_site(p: argparse.ArgumentParser, default_site: Path) -> None:
    p.add_argument("--site", type=Path, default=default_site,
                   help="root folder of the Jekyll site (default: %(default)s)")
    p.add_argument("--notebooks", dest="notebooks_dir", type=Path, metavar="DIR",
                   help="the folder of notebooks, relative to the site (default: nbjekyll.notebooks_dir in "
                        "_config.yml, or notebooks/; a fastpages repository keeps them in _notebooks/)")


def add_notebooks(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebooks", nargs="*", help="notebooks to work on (default: every notebook of the site)")


def add_force(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="execute even where a cached result exists")


def add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true",
                   help="a notebook skipped because its kernel is not set up fails the build (the default when "
                        "the environment variable CI is true)")


def add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=positive_int, help="notebooks to execute at once (default: the number of cores)")


def add_execution(p: argparse.ArgumentParser, force: bool = True) -> None:
    """What a build that executes takes: --timeout, --force, --retry-failed, --jobs, --strict."""
    p.add_argument("--timeout", type=positive_int, help="seconds each cell may run (overrides _config.yml "
                                                        "and the notebook's own setting; default 600)")
    if force:
        add_force(p)
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the notebooks that failed last time and have not changed since (by default "
                        "they are reported as failed without running)")
    add_jobs(p)
    add_strict(p)
