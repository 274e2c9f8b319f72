"""``nbjekyll setup-kernels``: make the kernels the site declares (own Python, pinned requirements)."""
from __future__ import annotations

import sys

from ..config import Config
from . import options
from .common import strict_mode

HELP = ("create or update the kernels declared under nbjekyll.kernels in _config.yml (their own Python and "
        "requirements), reusing those that are current")


def add_arguments(p) -> None:
    options.add_notebooks(p)
    p.add_argument("--shard", type=options.shard_part, metavar="K/N",
                   help="make only the kernels the K-th of N shards needs")
    options.add_force(p)
    options.add_strict(p)


def run(config: Config, args, paths) -> int:
    from ..kernels import setup_kernels as make_kernels
    if not config.kernels:
        print("no kernels declared under nbjekyll.kernels")
        return 0
    only = None
    if args.shard:
        from ..shard import assign
        assignment = assign(config, paths, args.shard.count, force=args.force)
        only = {assignment.kernels[rel] for rel in assignment.notebooks(args.shard.index)
                if rel in assignment.kernels}
        print(f"shard {args.shard} needs: {' '.join(sorted(only & set(config.kernels))) or 'no declared kernel'}")
    failed = 0
    for name, done, error in make_kernels(config, say=lambda line: print(line, flush=True), only=only):
        if error:
            failed += 1
            print(f"error: {error}" if strict_mode(args) else
                  f"warning: {error}; notebooks using it will be skipped", file=sys.stderr)
        else:
            print(f"kernel {name}: {done}")
    return 1 if failed and strict_mode(args) else 0
