"""``nbjekyll build``: execute the notebooks that changed and write their posts."""
from __future__ import annotations

from ..config import Config
from ..progress import Progress
from . import options
from .common import exit_status, forbids_saved_outputs, jobs

HELP = "execute the notebooks whose posts are not current and write their posts"


def add_arguments(p) -> None:
    options.add_notebooks(p)
    options.add_execution(p)


def run(config: Config, args, paths) -> int:
    progress = Progress()
    if not args.force:
        from ..cache import all_up_to_date
        results = all_up_to_date(config, paths)
        if results is not None:  # nothing to do: the execution stack is never imported
            for result in results:
                progress.finished(result)
            progress.summary(results)
            return exit_status(results, args, config)
    from ..pipeline import BuildOptions, run_build  # imports asyncio and, when a kernel starts, nbclient
    results = run_build(config, paths, BuildOptions(timeout=args.timeout, force=args.force, jobs=jobs(config, args),
                                                    retry_failed=args.retry_failed,
                                                    forbid_saved=forbids_saved_outputs(config, args)), progress)
    progress.summary(results)
    return exit_status(results, args, config)
