"""``nbjekyll merge BUNDLE…``: write the posts from the runs of every shard, executing nothing."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..progress import Progress, Result, Status
from . import options
from .common import exit_status, jobs, plural

HELP = "write the posts from the bundles of all N shards (same commit), executing nothing"


def add_arguments(p) -> None:
    p.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE", help="the files the shards wrote")
    options.add_jobs(p)
    options.add_strict(p)


def run(config: Config, args, paths) -> int:
    from ..pipeline import BuildOptions, run_build
    from ..shard import combine, install
    progress = Progress()
    merged = combine(config, args.bundles)
    for warning in merged.warnings:
        progress.line(f"warning: {warning}", error=True)
    progress.line(f"merged {plural(len(args.bundles), 'bundle')}: {plural(len(merged.entries), 'run')}"
                  + (f", {len(merged.failures)} failed in their shard" if merged.failures else ""))
    failed = [Result(config.rel(p), Status.FAILED, error=merged.failures[config.rel(p)])
              for p in paths if config.rel(p) in merged.failures]
    for result in failed:
        progress.finished(result)
    rest = [p for p in paths if config.rel(p) not in merged.failures]
    results = run_build(config, rest, BuildOptions(jobs=jobs(config, args), execute=False,
                                                   rerender=frozenset(merged.entries)),
                        progress, before=lambda: install(config, merged)) + failed
    progress.summary(results)
    return exit_status(results, args)
