"""Build a set of notebooks: read, execute, convert, write — each notebook on its own.

A failing notebook never stops the others and never touches its old post. The notebooks
run concurrently (``jobs`` at a time) on one asyncio loop in a worker thread; the main
thread only waits, so Ctrl-C and SIGTERM reach it at once and it cancels the work, which
shuts every kernel down before the build exits.
"""
from __future__ import annotations

import asyncio
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .convert import convert
from .errors import BuildInterrupted, NotebookError, UsageError
from .execute import ExecutionSettings, Interrupted, RunningKernels, execute, prepare_kernel_profile
from .progress import Progress, Result
from .sources import read_notebook
from .write import SiteLock, write_post


@dataclass(frozen=True)
class BuildOptions:
    timeout: int | None = None  # the --timeout override, above the notebook's and the config's
    force: bool = False
    jobs: int = 1


def find_notebooks(config: Config) -> list[Path]:
    if not config.notebooks_dir.is_dir():
        return []
    found = [p for p in config.notebooks_dir.rglob("*.ipynb")
             if not any(part.startswith(".") for part in p.relative_to(config.notebooks_dir).parts)]
    return sorted(found, key=lambda p: p.relative_to(config.notebooks_dir).as_posix())


def select_notebooks(config: Config, requested: list[str], cwd: Path) -> list[Path]:
    """The notebooks named on the command line, checked; all of them when none are named."""
    if not requested:
        return find_notebooks(config)
    chosen: list[Path] = []
    for name in requested:
        path = (cwd / name).resolve()
        if not path.is_relative_to(config.notebooks_dir):
            # Also accept a path relative to the site, e.g. notebooks/x.ipynb with --site elsewhere.
            alt = (config.site / name).resolve()
            if alt.is_relative_to(config.notebooks_dir):
                path = alt
        if not path.is_relative_to(config.notebooks_dir):
            raise UsageError(f"{name}: not in the site's notebook folder ({config.rel(config.notebooks_dir)}/)")
        if path.suffix != ".ipynb":
            raise UsageError(f"{name}: not a notebook (.ipynb)")
        if not path.is_file():
            raise UsageError(f"{name}: no such notebook")
        if path not in chosen:
            chosen.append(path)
    return chosen


class Builder:
    def __init__(self, config: Config, options: BuildOptions, progress: Progress):
        self.config = config
        self.options = options
        self.progress = progress
        self.claimed_names: dict[str, str] = {}
        self.kernels = RunningKernels()

    def timeout_for(self, notebook_timeout: int | None) -> int:
        return self.options.timeout or notebook_timeout or self.config.timeout

    async def build_one(self, path: Path) -> Result:
        rel = self.config.rel(path)
        start = time.monotonic()
        cells = 0
        try:
            source = read_notebook(path, self.config)
            for key in (source.post_name, source.slug):
                other = self.claimed_names.setdefault(key, rel)
                if other != rel:
                    raise NotebookError(rel, f"{other} already produces the post or image folder {key!r}; "
                                             "rename one of them")
            cells = sum(c.cell_type == "code" and not o.has("skip-execution")
                        for c, o in zip(source.nb.cells, source.options))
            self.progress.started(rel, f"executing {cells} code cell{'s' if cells != 1 else ''}")
            settings = ExecutionSettings(timeout=self.timeout_for(source.timeout), threads=self.threads())
            executed = await execute(source, self.config, settings,
                                     on_cell=lambda i, n: self.progress.cell(rel, i, n), kernels=self.kernels)
            post = convert(source, executed, self.config)
            if self.kernels.stopping:
                raise Interrupted()
            write_post(self.config, post, rel)
            result = Result(rel, "built", cells, time.monotonic() - start, post.warnings)
        except NotebookError as exc:
            result = Result(rel, "failed", cells, time.monotonic() - start, error=str(exc))
        except Interrupted:
            return Result(rel, "interrupted", cells, time.monotonic() - start)
        self.progress.finished(result)
        return result

    def threads(self) -> int:
        from .config import default_jobs
        return max(1, default_jobs() // max(1, self.options.jobs))

    async def build_all(self, paths: list[Path]) -> list[Result]:
        limit = asyncio.Semaphore(self.options.jobs)

        async def one(path: Path) -> Result:
            async with limit:
                if self.kernels.stopping:
                    return Result(self.config.rel(path), "interrupted")
                return await self.build_one(path)

        return list(await asyncio.gather(*(one(p) for p in paths)))


class _Terminated(BaseException):
    pass


def run_build(config: Config, paths: list[Path], options: BuildOptions, progress: Progress) -> list[Result]:
    """Build ``paths``; raise BuildInterrupted on Ctrl-C or SIGTERM after stopping every kernel."""
    builder = Builder(config, options, progress)
    loop = asyncio.new_event_loop()
    outcome: dict = {}

    def work() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome["results"] = loop.run_until_complete(builder.build_all(paths))
        except BaseException as exc:  # a bug: hand it to the main thread with its traceback
            outcome["error"] = exc
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def on_sigterm(signum, frame):
        raise _Terminated()

    with SiteLock(config):
        prepare_kernel_profile(config)
        previous = signal.signal(signal.SIGTERM, on_sigterm) if threading.current_thread() is threading.main_thread() else None
        thread = threading.Thread(target=work, name="nbjekyll-build", daemon=True)
        try:
            thread.start()
            while thread.is_alive():
                thread.join(0.1)
        except (KeyboardInterrupt, _Terminated) as exc:
            name = "SIGINT" if isinstance(exc, KeyboardInterrupt) else "SIGTERM"
            progress.line(f"{name}: stopping kernels…", error=True)
            builder.kernels.kill_all()
            thread.join(60)
            raise BuildInterrupted(name) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("results", [])
