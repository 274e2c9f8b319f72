"""The no-op build: every post current, decided without the execution and conversion stack."""
from __future__ import annotations

import time
from pathlib import Path

from ..config import Config
from ..errors import NotebookError
from ..progress import Result, Status
from ..sources import read_notebook
from ..write import SiteLock, stale_contents_pages
from .plan import Action, plan
from .records import recorded_inputs


def all_up_to_date(config: Config, paths: list[Path]) -> list[Result] | None:
    """The results of a build in which no notebook needs anything, or None as soon as one does.

    The no-op build: it reads each notebook and its post's record and decides, without the
    execution and conversion stack (asyncio, nbformat, nbclient, jinja2), so it costs about the
    same whatever the number of notebooks. Anything else (a change, a problem) goes to the full build,
    which says what it is.
    """
    claimed: set[str] = set()
    results = []
    with SiteLock(config):
        for path in paths:
            start = time.monotonic()
            try:
                source = read_notebook(path, config)
            except NotebookError:
                return None
            if any(name in claimed for name in source.claims):
                return None
            claimed |= set(source.claims)
            recorded, images_ok = recorded_inputs(config, source)
            # With a post's record the cache cannot make it current: it is not even opened.
            if recorded is None or plan(source, config, recorded, None, images_ok=images_ok).action is not Action.UP_TO_DATE:
                return None
            results.append(Result(source.rel, Status.UP_TO_DATE, source.executed_cells, time.monotonic() - start,
                                  saved=source.saved is not None))
        if stale_contents_pages(config):
            return None  # the full build writes it
    return results
