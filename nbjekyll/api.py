"""For code that needs a notebook's executed form without building its post (the article tests).

``executed_notebook`` returns the cached execution when it is current for the notebook's code
and dependencies, and otherwise executes it the way the build does (same kernel set-up) and
caches the result, so tests that run after a build start no kernel at all.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .cache import Cache, current_inputs, declared_dependencies
from .config import default_jobs, load_config
from .errors import NotebookError
from .execute import ExecutionSettings, execute, prepare_kernel_profile
from .kernels import environment_of
from .sources import read_notebook
from .write import SiteLock


def executed_notebook(site: Path, notebook: Path, timeout: int | None = None) -> Any:
    config = load_config(site)
    source = read_notebook(notebook, config).validate()
    cache = Cache(config)
    entry = cache.load(source)
    if entry is not None:
        files = set(entry.record["inputs"].get("files") or {}) | declared_dependencies(source, config)
        if entry.record["execution_key"] == current_inputs(source, config, files).execution_key():
            return entry.executed
    problem = environment_of(source.kernel_name, config).problem
    if problem:
        raise NotebookError(source.rel, problem)
    with SiteLock(config):
        prepare_kernel_profile(config)
        settings = ExecutionSettings(timeout=timeout or source.timeout or config.timeout, threads=default_jobs())
        executed = asyncio.run(execute(source, config, settings))
        files = (set(executed.files) | declared_dependencies(source, config)) - {source.rel}
        cache.store(source, executed.notebook, current_inputs(source, config, files), executed.provenance)
    return executed.notebook
