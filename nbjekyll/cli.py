"""The command line: parse arguments, run the build, turn project errors into exit statuses.

Exit status 0: every notebook built (or was skipped because its kernel is not set up on this
machine, unless ``--strict`` or CI=true); 1: at least one notebook failed (the others were still
built); 2: a usage or configuration error. Only :class:`BuildError` is caught: anything
else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import default_jobs, load_config
from .errors import BuildError, UsageError
from .progress import Progress
from .selection import select_notebooks


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2 with our wording
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def parser(default_site: Path) -> argparse.ArgumentParser:
    p = _Parser(prog="build.py", description="Execute notebooks and write them as Jekyll posts.")
    p.add_argument("notebooks", nargs="*", help="notebooks to build (default: every notebook of the site)")
    p.add_argument("--site", type=Path, default=default_site,
                   help="root folder of the Jekyll site (default: %(default)s)")
    p.add_argument("--notebooks", dest="notebooks_dir", type=Path, metavar="DIR",
                   help="the folder of notebooks, relative to the site (default: nbjekyll.notebooks_dir in "
                        "_config.yml, or notebooks/; a fastpages repository keeps them in _notebooks/)")
    p.add_argument("--timeout", type=positive_int, help="seconds each cell may run (overrides _config.yml "
                                                        "and the notebook's own setting; default 600)")
    p.add_argument("--force", action="store_true", help="execute even where a cached result exists")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the notebooks that failed last time and have not changed since (by default "
                        "they are reported as failed without running)")
    p.add_argument("--jobs", type=positive_int, help="notebooks to execute at once (default: the number of cores)")
    p.add_argument("--strict", action="store_true",
                   help="a notebook skipped because its kernel is not set up fails the build (the default when "
                        "the environment variable CI is true)")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="execute only the K-th of N parts of the notebooks that need executing (split by their "
                        "last run times) and write the runs to --bundle, no posts; with --explain, list the part; "
                        "with --setup-kernels, make only the kernels it needs")
    p.add_argument("--bundle", type=Path, metavar="PATH", help="where --shard writes its runs (one file)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--merge", type=Path, nargs="+", metavar="BUNDLE",
                      help="write the posts from the bundles of all N shards (same commit), executing nothing")
    mode.add_argument("--explain", action="store_true",
                      help="execute nothing; say for each notebook whether it is up to date, or what would "
                           "be re-rendered or executed, and why")
    mode.add_argument("--check", action="store_true",
                      help="execute nothing; exit 1 listing every post that is missing, stale or orphaned, "
                           "and every notebook committed with outputs")
    mode.add_argument("--strip", action="store_true", help="remove outputs from the notebooks (in place) and exit")
    mode.add_argument("--setup-kernels", action="store_true",
                      help="create or update the kernels declared under nbjekyll.kernels in _config.yml (their "
                           "own Python and requirements), reusing those that are current, and exit")
    mode.add_argument("--watch", action="store_true",
                      help="build, then rebuild whatever a saved notebook or a changed dependency makes stale, "
                           "until Ctrl-C")
    return p


def _shard(text: str):
    from .shard import parse_shard
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_shard_arguments(args) -> None:
    if args.bundle and not args.shard:
        raise UsageError("--bundle is where --shard K/N writes its runs: give --shard too")
    if args.shard:
        if args.merge or args.check or args.strip or args.watch:
            raise UsageError("--shard goes with a build, --explain or --setup-kernels, not with "
                             + next(f"--{name}" for name in ("merge", "check", "strip", "watch") if getattr(args, name)))
        if not (args.bundle or args.explain or args.setup_kernels):
            raise UsageError("--shard K/N needs --bundle PATH, the file its runs go to (for build.py --merge)")
    if args.merge and args.force:
        raise UsageError("--merge executes nothing, so --force means nothing there (give it to the shards)")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def check(config, paths: list[Path]) -> int:
    from .check import check_site
    problems = check_site(config, paths)
    for problem in problems:
        print(problem)
    summary = _plural(len(problems), "problem") if problems else "all posts current"
    print(f"{_plural(len(paths), 'notebook')} checked: {summary}")
    return 1 if problems else 0


def strip(config, paths: list[Path]) -> int:
    from .check import strip_outputs
    for rel in strip_outputs(config, paths):
        print(f"{rel}: outputs removed")
    return 0


def strict_mode(args) -> bool:
    return args.strict or os.environ.get("CI", "").lower() in ("true", "1")


def setup_kernels(config, args, paths: list[Path]) -> int:
    from .kernels import setup_kernels as make_kernels
    if not config.kernels:
        print("no kernels declared under nbjekyll.kernels")
        return 0
    only = None
    if args.shard:
        from .shard import assign
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


def exit_status(results, args) -> int:
    if any(r.status == "failed" for r in results):
        return 1
    skipped = sum(r.status == "skipped" for r in results)
    if skipped and strict_mode(args):
        print(f"error: {_plural(skipped, 'notebook')} skipped, and --strict (or CI=true) makes that a failure",
              file=sys.stderr)
        return 1
    return 0


def explain(config, paths: list[Path], args) -> int:
    from .pipeline import BuildOptions, Builder
    progress = Progress()
    if args.shard:
        from .shard import assign, describe
        for line in describe(assign(config, paths, args.shard.count, force=args.force), args.shard):
            progress.line(line)
        return 0
    results = Builder(config, BuildOptions(force=args.force), progress).explain(paths)
    for result in results:
        progress.line(f"{result.notebook}: {result.status}" if result.ok else str(result.error))
        for warning in result.warnings:
            progress.line(f"{result.notebook}: warning: {warning}", error=True)
    return 0 if all(r.ok for r in results) else 1


def build(config, paths: list[Path], args) -> int:
    progress = Progress()
    if not (args.force or args.watch or args.shard):
        from .cache import all_up_to_date
        results = all_up_to_date(config, paths)
        if results is not None:  # nothing to do: the execution stack is never imported
            for result in results:
                progress.finished(result)
            progress.summary(results)
            return exit_status(results, args)
    from .pipeline import BuildOptions, run_build  # imports asyncio and, when a kernel starts, nbclient
    jobs = args.jobs or config.jobs or default_jobs()
    if args.watch:
        from .watch import watch
        options = BuildOptions(timeout=args.timeout, jobs=jobs, retry_failed=args.retry_failed)

        def build_once() -> None:
            progress.summary(run_build(config, select_notebooks(config, args.notebooks, Path.cwd()),
                                       options, progress))

        return watch(config, args.notebooks, Path.cwd(), build_once, progress)
    if args.shard:
        return build_shard(config, paths, args, jobs, progress)
    results = run_build(config, paths, BuildOptions(timeout=args.timeout, force=args.force, jobs=jobs,
                                                    retry_failed=args.retry_failed), progress)
    progress.summary(results)
    return exit_status(results, args)


def build_shard(config, paths: list[Path], args, jobs: int, progress: Progress) -> int:
    from .pipeline import BuildOptions, run_build
    from .shard import assign, shard_paths, write_bundle
    assignment = assign(config, paths, args.shard.count, force=args.force)
    mine = shard_paths(config, paths, assignment, args.shard)
    progress.line(f"shard {args.shard}: {_plural(len(mine), 'notebook')} of the {len(assignment.shards)} "
                  "that need executing")
    results = run_build(config, mine, BuildOptions(timeout=args.timeout, force=args.force, jobs=jobs, write=False,
                                                   retry_failed=True),
                        progress) if mine else []
    runs = write_bundle(args.bundle, config, args.shard, assignment, results)
    if results:
        progress.summary(results)
    progress.line(f"shard {args.shard}: {_plural(runs, 'run')} written to {args.bundle}")
    return exit_status(results, args)


def merge(config, paths: list[Path], args) -> int:
    from .pipeline import BuildOptions, run_build
    from .progress import Result
    from .shard import combine, install
    progress = Progress()
    merged = combine(config, args.merge)
    for warning in merged.warnings:
        progress.line(f"warning: {warning}", error=True)
    progress.line(f"merged {_plural(len(args.merge), 'bundle')}: {_plural(len(merged.entries), 'run')}"
                  + (f", {len(merged.failures)} failed in their shard" if merged.failures else ""))
    failed = [Result(config.rel(p), "failed", error=merged.failures[config.rel(p)])
              for p in paths if config.rel(p) in merged.failures]
    for result in failed:
        progress.finished(result)
    rest = [p for p in paths if config.rel(p) not in merged.failures]
    jobs = args.jobs or config.jobs or default_jobs()
    results = run_build(config, rest, BuildOptions(jobs=jobs, execute=False, rerender=frozenset(merged.entries)),
                        progress, before=lambda: install(config, merged)) + failed
    progress.summary(results)
    return exit_status(results, args)


def main(argv: list[str] | None = None, default_site: Path | None = None) -> int:
    try:
        args = parser(default_site or Path.cwd()).parse_args(argv)
        config = load_config(args.site)
        if args.notebooks_dir is not None:
            folder = (config.site / args.notebooks_dir).resolve()
            if not folder.is_relative_to(config.site) or not folder.is_dir():
                raise UsageError(f"--notebooks {args.notebooks_dir}: no such folder in the site {config.site}")
            config = config.with_overrides(notebooks_dir=folder)
        paths = select_notebooks(config, args.notebooks, Path.cwd())
        _check_shard_arguments(args)
        if args.merge:
            return merge(config, paths, args)
        if args.check:
            return check(config, paths)
        if args.strip:
            return strip(config, paths)
        if args.setup_kernels:
            return setup_kernels(config, args, paths)
        if args.explain:
            return explain(config, paths, args)
        return build(config, paths, args)
    except BuildError as exc:
        print(f"error: {exc}" if exc.exit_code == 2 else str(exc), file=sys.stderr)
        return exc.exit_code
