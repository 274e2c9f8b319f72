"""What several commands share: counting in words, strict mode, the exit status of a build."""
from __future__ import annotations

import os
import sys

from ..config import Config, default_jobs
from ..progress import Status


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def strict_mode(args) -> bool:
    """--strict, or CI=true: a notebook skipped for want of its kernel fails the build."""
    return args.strict or os.environ.get("CI", "").lower() in ("true", "1")


def jobs(config: Config, args) -> int:
    return args.jobs or config.jobs or default_jobs()


def forbids_saved_outputs(config: Config, args) -> bool:
    """nbjekyll.require_execution with --strict or CI=true: no post may show saved outputs."""
    return config.require_execution and strict_mode(args)


def exit_status(results, args, config: Config | None = None) -> int:
    if any(r.status is Status.FAILED for r in results):
        return 1
    saved = [r.notebook for r in results if r.saved]
    if saved and config is not None and forbids_saved_outputs(config, args):
        print(f"error: {plural(len(saved), 'notebook')} shown with saved outputs ({', '.join(saved)}), and "
              "nbjekyll.require_execution with --strict (or CI=true) makes that a failure", file=sys.stderr)
        return 1
    skipped = sum(r.status is Status.SKIPPED for r in results)
    if skipped and strict_mode(args):
        print(f"error: {plural(skipped, 'notebook')} skipped, and --strict (or CI=true) makes that a failure",
              file=sys.stderr)
        return 1
    return 0
