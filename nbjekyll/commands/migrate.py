"""``nbjekyll migrate``: run every notebook once; propose (``--write``: record) saved outputs for those that cannot run."""
from __future__ import annotations

from ..config import Config
from . import options
from .common import jobs

HELP = ("run every notebook once and show those that cannot run here with the outputs saved in them, "
        "with the reason (--write records it in _config.yml); notebooks are never changed")


def add_arguments(p) -> None:
    options.add_notebooks(p)
    p.add_argument("--write", action="store_true",
                   help="record the proposals in _config.yml (nbjekyll.saved_outputs), keeping its other lines")
    p.add_argument("--timeout", type=options.positive_int, help="seconds each cell may run (default: as a build)")
    options.add_jobs(p)


def run(config: Config, args, paths) -> int:
    from ..migrate import MigrationProgress, Outcome, format_report, migrate
    progress = MigrationProgress()
    report = migrate(config, paths, write=args.write, jobs=jobs(config, args), timeout=args.timeout,
                     progress=progress)
    program = "nbjekyll" if config.invocation.flags else config.invocation.program  # build.py has no migrate flag
    print("\n" + format_report(report, config, program))
    return 1 if report.count(Outcome.FAILS) else 0
