"""``nbjekyll explain``: what a build would do with each notebook, and why; executes nothing."""
from __future__ import annotations

from ..config import Config
from ..progress import Progress
from . import options

HELP = ("execute nothing; say for each notebook whether it is up to date, or what would be re-rendered or "
        "executed, and why")


def add_arguments(p) -> None:
    options.add_notebooks(p)
    options.add_force(p)
    p.add_argument("--shard", type=options.shard_part, metavar="K/N",
                   help="list the notebooks the K-th of N shards would execute, and the kernels it needs")


def run(config: Config, args, paths) -> int:
    progress = Progress()
    if args.shard:
        from ..shard import assign, describe
        for line in describe(assign(config, paths, args.shard.count, force=args.force), args.shard):
            progress.line(line)
        return 0
    from ..pipeline import BuildOptions, Builder
    results = Builder(config, BuildOptions(force=args.force), progress).explain(paths)
    for result in results:
        progress.line(f"{result.notebook}: {result.detail}" if result.ok else str(result.error))
        for warning in result.warnings:
            progress.line(f"{result.notebook}: warning: {warning}", error=True)
    return 0 if all(r.ok for r in results) else 1
