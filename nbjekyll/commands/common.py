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


def exit_status(results, args) -> int:
    if any(r.status is Status.FAILED for r in results):
        return 1
    skipped = sum(r.status is Status.SKIPPED for r in results)
    if skipped and strict_mode(args):
        print(f"error: {plural(skipped, 'notebook')} skipped, and --strict (or CI=true) makes that a failure",
              file=sys.stderr)
        return 1
    return 0
