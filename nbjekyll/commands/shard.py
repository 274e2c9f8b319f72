"""``nbjekyll shard K/N --bundle PATH``: execute one part of the notebooks; write the runs, no posts."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..progress import Progress
from . import options
from .common import exit_status, jobs, plural

HELP = "execute the K-th of N parts of the notebooks that need executing and write their runs to one file"


def add_arguments(p) -> None:
    p.add_argument("shard", type=options.shard_part, metavar="K/N",
                   help="this machine's part (split by the notebooks' last run times, the same on every machine)")
    p.add_argument("--bundle", type=Path, metavar="PATH", required=True,
                   help="the file the runs go to, for `merge`")
    options.add_notebooks(p)
    options.add_execution(p)


def run(config: Config, args, paths) -> int:
    from ..pipeline import BuildOptions, run_build
    from ..shard import assign, shard_paths, write_bundle
    progress = Progress()
    assignment = assign(config, paths, args.shard.count, force=args.force)
    mine = shard_paths(config, paths, assignment, args.shard)
    progress.line(f"shard {args.shard}: {plural(len(mine), 'notebook')} of the {len(assignment.shards)} "
                  "that need executing")
    results = run_build(config, mine, BuildOptions(timeout=args.timeout, force=args.force, jobs=jobs(config, args),
                                                   write=False, retry_failed=True),
                        progress) if mine else []
    runs = write_bundle(args.bundle, config, args.shard, assignment, results)
    if results:
        progress.summary(results)
    progress.line(f"shard {args.shard}: {plural(runs, 'run')} written to {args.bundle}")
    return exit_status(results, args)
