"""Build a set of notebooks: read, execute, convert, write — each notebook on its own.

A failing notebook never stops the others and never touches its old post. The notebooks
run concurrently (``jobs`` at a time) on one asyncio loop in a worker thread; the main
thread only waits, so Ctrl-C and SIGTERM reach it at once: it kills every kernel, lets the
worker unwind without writing anything more, and only then exits.
"""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .cache import (Action, Cache, FailureMemory, Inputs, Plan, current_inputs, declared_dependencies, plan,
                    recorded_inputs, with_cached_outputs)
from .config import Config, default_jobs
from .errors import BuildInterrupted, CellError, NotebookError, Terminated
from .execute import ExecutionSettings, NotebookRun, RunningKernels, prepare_kernel_profile
from .kernel_pool import KernelPool, kernels_ahead
from .progress import Progress, Result, Status
from . import saved
from .raised import raised_cells
from .sources import SourceNotebook, read_notebook
from .write import (SiteLock, existing_text, provenance_path, remove_unused_scripts, write_contents_pages, write_post,
                    write_provenance)

if TYPE_CHECKING:
    from .convert import Post


def convert(*args, **kwargs):
    """The convert stage, imported when a post is first rendered (a no-op build never needs jinja2)."""
    from .convert import convert as convert_notebook
    return convert_notebook(*args, **kwargs)


@dataclass(frozen=True)
class BuildOptions:
    timeout: int | None = None  # the --timeout override, above the notebook's and the config's
    force: bool = False
    jobs: int = 1
    write: bool = True  # False for a shard: execute into the cache, write no post
    execute: bool = True  # False for a merge: every run must come from the shards' bundles
    rerender: frozenset = frozenset()  # notebooks whose post is written from their cached run even if current
    retry_failed: bool = False  # run a notebook again even though it failed last time with the same inputs
    forbid_saved: bool = False  # nbjekyll.require_execution with --strict/CI=true: saved outputs fail


@dataclass
class _Job:
    """A notebook read and planned ahead of its turn (see Builder.prepare)."""
    path: Path
    rel: str
    threads: int
    start: float
    source: SourceNotebook | None = None
    cells: int = 0
    warnings: list = field(default_factory=list)
    decision: Plan | None = None
    planned_after: int = 0  # Builder.executions_finished when it was planned
    run: NotebookRun | None = None  # its execution, kernel started ahead; None until then
    checked: bool = False  # converted once without outputs, so a broken link fails before it runs
    turn: _Turn | None = None  # its place among the notebooks executing, while it holds one
    cells_ran: bool = False  # its last cell has run (see Builder.cells_ran)


class _Turn:
    """A notebook's place among the ``jobs`` that execute at once. It is taken before the notebook's
    kernel runs and given back as soon as its last cell has run (Builder.cells_ran), so that the next
    notebook executes while this kernel reports what it read and the post is converted and written; a
    notebook that runs alone (``exclusive``) keeps it until its post is written, so that nothing of the
    build competes with the next one's timings."""

    def __init__(self, slots: asyncio.Semaphore, keep_until_written: bool):
        self.slots = slots
        self.keep_until_written = keep_until_written
        self.held = False

    async def __aenter__(self) -> "_Turn":
        await self.slots.acquire()
        self.held = True
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.give_back()

    def ran(self) -> None:
        """The notebook's last cell has run: what is left (its report, convert, write) needs no turn."""
        if not self.keep_until_written:
            self.give_back()

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()


async def _set_when_done(tasks: list, event: asyncio.Event) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    event.set()


class Builder:
    def __init__(self, config: Config, options: BuildOptions, progress: Progress):
        self.config = config
        self.options = options
        self.progress = progress
        self.claimed_names: dict[str, str] = {}
        self.kernels = RunningKernels()
        self.pool = KernelPool(config.build_dir / "logs", config.build_dir / "kernel" / "fork_server.py",
                               starting_at_once=options.jobs)
        self.kernels.pools.append(self.pool)
        self.executions_finished = 0  # runs completed so far: a plan made before the last one may be stale
        self.cache = Cache(config)
        self.failures = FailureMemory(config)
        # Posts are converted and written one at a time in this thread, while the loop runs kernels.
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbjekyll-writer")

    def timeout_for(self, notebook_timeout: int | None) -> int:
        return self.options.timeout or notebook_timeout or self.config.timeout

    def read(self, path: Path) -> SourceNotebook:
        source = read_notebook(path, self.config)
        rel = source.rel
        for key in source.claims:
            other = self.claimed_names.setdefault(key, rel)
            if other != rel:
                raise NotebookError(rel, f"{other} already produces the post or image folder {key!r}; "
                                         "rename one of them")
        return source

    def plan(self, source: SourceNotebook) -> Plan:
        recorded, images_ok = recorded_inputs(self.config, source)
        return plan(source, self.config, recorded, self.cache, force=self.options.force, images_ok=images_ok)

    def flush_cache_warnings(self) -> list[str]:
        warnings, self.cache.warnings = self.cache.warnings, []
        return warnings

    def prepare(self, path: Path, threads: int) -> Result | _Job:
        """Read and plan a notebook ahead of its turn; start its kernel now if it will be executed.

        A notebook that needs nothing (or cannot be built) gets its Result here."""
        job = _Job(path, self.config.rel(path), threads, time.monotonic())
        try:
            job.source = self.read(path)
            job.cells = job.source.executed_cells
            job.warnings += job.source.warnings
            self.plan_job(job)
            if job.decision.action is Action.EXECUTE and self.options.execute and job.source.saved is None:
                self.reserve_kernel(job)
        except NotebookError as exc:
            result = Result(job.rel, Status.FAILED, job.cells, time.monotonic() - job.start, job.warnings, error=str(exc))
            self.progress.finished(result)
            return result
        return job

    def plan_job(self, job: _Job) -> None:
        decision = self.plan(job.source)
        job.warnings += self.flush_cache_warnings()
        if decision.action is Action.UP_TO_DATE and job.rel in self.options.rerender:
            # a merge of shards run with --force: their fresh runs make the posts, as on one machine
            entry = self.cache.load(job.source)
            if entry is not None and entry.record["execution_key"] == decision.inputs.execution_key():
                decision = Plan(Action.RENDER, ["the shard's run"], entry, decision.inputs, decision.environment)
        job.decision = decision
        job.planned_after = self.executions_finished

    def reserve_kernel(self, job: _Job) -> None:
        """Start the kernel of a notebook that will be executed, unless it is known to fail or cannot run."""
        source, decision = job.source, job.decision
        problem = decision.environment.problem if decision.environment else None
        if problem or self.kernels.stopping or self.recall_failure(source, decision) is not None:
            return
        job.run = self.notebook_run(job)
        source.validate()  # (after the line above has set the kernel's server starting: this imports nbformat)
        job.run.start_kernel()

    def notebook_run(self, job: _Job) -> NotebookRun:
        source = job.source
        settings = ExecutionSettings(timeout=self.timeout_for(source.timeout), threads=job.threads)
        return NotebookRun(source, self.config, settings, kernels=self.kernels, pool=self.pool,
                           on_cell=lambda i, n: self.progress.cell(source.rel, i, n),
                           on_retry=lambda why: self.progress.line(f"{source.rel}: warning: {why}", error=True),
                           on_ran=lambda: self.cells_ran(job))

    def cells_ran(self, job: _Job) -> None:
        """The notebook's last cell has run: the notebooks after it plan again before they run (it may have
        written a file they read), and its turn goes to the next one while its kernel reports what it read."""
        job.cells_ran = True
        self.executions_finished += 1
        if job.turn is not None:
            job.turn.ran()

    def recall_failure(self, source: SourceNotebook, decision: Plan) -> dict | None:
        if self.options.force or self.options.retry_failed:
            return None
        return self.failures.recall(source, decision.inputs, self.timeout_for(source.timeout))

    async def run_kernel(self, job: _Job):
        """Execute the notebook, cache the run, and return it with the inputs it was made from."""
        source, decision = job.source, job.decision
        if not job.checked:
            # A broken link or missing image fails now, not after minutes of execution.
            convert(source, source.for_execution(), self.config)
        self.progress.started(source.rel, f"executing {job.cells} code cell{'s' if job.cells != 1 else ''} "
                                          f"({'; '.join(decision.reasons)})")
        if job.run is None:  # not started ahead: its kernel starts now
            job.run = self.notebook_run(job)
        try:
            executed = await job.run.run()
        finally:
            if not job.cells_ran:  # (it failed: it may have written files all the same)
                self.executions_finished += 1
        files = (set(executed.files) | declared_dependencies(source, self.config)) - {source.rel}
        inputs = current_inputs(source, self.config, files)
        self.cache.store(source, executed.notebook, inputs, executed.provenance)
        return executed.notebook, inputs, executed.provenance

    async def execute_unless_known_to_fail(self, job: _Job):
        source, decision = job.source, job.decision
        failure = self.recall_failure(source, decision)
        if failure:
            raise NotebookError(source.rel, f"failed (unchanged since the failure at {failure['at']}; not run again: "
                                            "edit it, or build with --retry-failed)\n"
                                + failure["message"].removeprefix(f"{source.rel}: "))
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        try:
            executed = await self.run_kernel(job)
        except CellError as exc:
            self.failures.remember(source, decision.inputs, self.timeout_for(source.timeout), str(exc), started)
            raise
        self.failures.forget(source)
        return executed

    def saved_run(self, source: SourceNotebook, decision: Plan, warnings: list[str]):
        """The notebook as saved, its inputs and stamp, for a post made without a kernel (see nbjekyll.saved)."""
        if self.options.forbid_saved:
            raise NotebookError(source.rel, f"would be shown with its saved outputs ({source.saved.asked_by}: "
                                            f"{source.saved.reason}), but nbjekyll.require_execution with --strict "
                                            "(or CI=true) forbids it: make it run here")
        if self.config.require_execution:
            warnings = warnings + ["shown with its saved outputs although nbjekyll.require_execution is true; "
                                   "--strict or CI=true makes this a failure"]
        self.progress.started(source.rel, f"rendering its saved outputs ({source.saved.reason})")
        return (saved.notebook(source), decision.inputs, saved.provenance(source), Status.SAVED,
                warnings + saved.warnings(source))

    async def finish(self, job: _Job, turn: asyncio.Semaphore, exclusive: bool = False) -> Result:
        """Build a prepared notebook: check it, wait for its turn (one of ``turn``'s slots), execute or
        re-render it, write. Its turn goes back once it has executed, unless it is ``exclusive`` (see _Turn)."""
        rel, source = job.rel, job.source
        try:
            if job.run is not None:
                # A broken link or missing image fails now, not after minutes of execution (its kernel is starting).
                convert(source, source.for_execution(), self.config)
                job.checked = True
            async with _Turn(turn, keep_until_written=exclusive) as job.turn:
                if self.kernels.stopping:
                    raise BuildInterrupted()
                job.start = time.monotonic()  # its time is counted from its turn, as it always was
                if job.planned_after != self.executions_finished:
                    # a notebook run since this one was planned may have changed a file it reads
                    before = job.decision.action
                    self.plan_job(job)
                    if job.run is not None and (job.decision.action != before or not self.options.execute):
                        await job.run.discard()
                        job.run = None
                return await self.build_planned(job)
        except NotebookError as exc:
            result = Result(rel, Status.FAILED, job.cells, time.monotonic() - job.start, job.warnings, error=str(exc))
        except BuildInterrupted:
            return Result(rel, Status.INTERRUPTED, job.cells, time.monotonic() - job.start)
        finally:
            if job.run is not None:
                await job.run.discard()
        self.progress.finished(result)
        return result

    async def build_planned(self, job: _Job) -> Result:
        rel, source, decision, cells, warnings = job.rel, job.source, job.decision, job.cells, job.warnings
        if decision.action is Action.UP_TO_DATE:
            result = Result(rel, Status.UP_TO_DATE, cells, time.monotonic() - job.start, warnings,
                            saved=source.saved is not None)
            self.progress.finished(result)
            return result
        source.validate()
        problem = decision.environment.problem if decision.environment else None
        if source.saved is not None:  # shown with the outputs saved in it: no kernel (nbjekyll.saved)
            notebook, inputs, provenance, status, warnings = self.saved_run(source, decision, warnings)
        elif decision.action is Action.EXECUTE and not self.options.execute:
            raise NotebookError(rel, f"needs executing ({'; '.join(decision.reasons)}), but no bundle "
                                     "holds a run of it: was it left out of the shards?")
        elif decision.action is Action.EXECUTE and problem:
            # Another machine may lack this kernel's interpreter: the committed post stays as it is.
            result = Result(rel, Status.SKIPPED, cells, time.monotonic() - job.start, warnings,
                            error=f"{rel}: skipped: {problem}")
            self.progress.finished(result)
            return result
        elif decision.action is Action.EXECUTE:
            notebook, inputs, provenance = await self.execute_unless_known_to_fail(job)  # (turn given back: cells_ran)
            status = Status.BUILT
        elif not self.options.write:  # a shard: the cached run will go into its bundle
            result = Result(rel, Status.CACHED, cells, time.monotonic() - job.start, warnings)
            self.progress.finished(result)
            return result
        else:
            self.progress.started(rel, f"re-rendering ({'; '.join(decision.reasons)})")
            notebook, inputs = with_cached_outputs(source, decision.cached.executed), decision.inputs
            provenance = decision.cached.record.get("provenance")
            status = Status.RENDERED
        if not self.options.write:
            result = Result(rel, Status.EXECUTED if status is not Status.SAVED else status, cells,
                            time.monotonic() - job.start, warnings, saved=status is Status.SAVED)
            self.progress.finished(result)
            return result
        warnings = warnings + raised_cells(notebook, source)
        # In the writer thread: the next notebook's kernel runs meanwhile (its turn is free, see _Turn).
        post = await asyncio.get_running_loop().run_in_executor(
            self.writer, self.write, rel, source, notebook, inputs, provenance)
        result = Result(rel, status, cells, time.monotonic() - job.start, warnings + post.warnings,
                        saved=status is Status.SAVED)
        self.progress.finished(result)
        return result

    def write(self, rel: str, source: SourceNotebook, notebook: Any, inputs: Inputs, provenance: dict | None) -> Post:
        """Convert an executed (or re-rendered) notebook and write its post, images and stamp."""
        post = convert(source, notebook, self.config, built_from=inputs.for_front_matter())
        if self.kernels.stopping:
            raise BuildInterrupted()
        stamp = provenance_path(self.config, source.slug)
        # A post that comes out byte for byte as it was keeps its stamp: the run it records made it.
        unchanged = stamp.exists() and existing_text(self.config, post) == post.text()
        write_post(self.config, post, rel)
        if provenance and not unchanged:
            write_provenance(self.config, source.slug, provenance)
        return post

    async def build_all(self, paths: list[Path]) -> list[Result]:
        """Shared notebooks run ``jobs`` at a time, each kernel with its share of the cores;
        notebooks marked ``exclusive: true`` (benchmarks) then run one by one with every core.

        Notebooks are read and planned in order a few ahead of their turn (``jobs`` plus the kernels
        started ahead, see kernel_pool.kernels_ahead), so that each one to execute has its kernel
        started while the notebooks before it run."""
        cores = default_jobs()
        jobs = self.options.jobs
        turn = asyncio.Semaphore(jobs)
        window = asyncio.Semaphore(jobs + kernels_ahead(jobs))
        exclusive = {p for p in paths if _is_exclusive(p, self.config)}
        shared_done = asyncio.Event()
        exclusive_turn = asyncio.Semaphore(1)
        results: dict[Path, Result] = {}
        tasks: dict[Path, asyncio.Task] = {}

        async def finish(job: _Job, exclusive_one: bool) -> Result:
            try:
                if exclusive_one:
                    await shared_done.wait()
                return await self.finish(job, exclusive_turn if exclusive_one else turn, exclusive=exclusive_one)
            finally:
                window.release()

        order = [p for p in paths if p not in exclusive] + [p for p in paths if p in exclusive]
        watcher = None
        try:
            for path in order:
                if path in exclusive and watcher is None:
                    # the shared notebooks are all under way: the exclusive ones wait for them to finish
                    watcher = asyncio.ensure_future(_set_when_done(list(tasks.values()), shared_done))
                await window.acquire()
                if self.kernels.stopping:
                    window.release()
                    results[path] = Result(self.config.rel(path), Status.INTERRUPTED)
                    continue
                job = self.prepare(path, cores if path in exclusive else max(1, cores // jobs))
                if isinstance(job, Result):
                    window.release()
                    results[path] = job
                else:
                    tasks[path] = asyncio.ensure_future(finish(job, path in exclusive))
                await asyncio.sleep(0)  # let the kernel just reserved start, and the notebooks before run
            for path, task in tasks.items():
                results[path] = await task
        finally:
            for task in tasks.values():
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            await self.pool.close()
            self.writer.shutdown(wait=True)
        return [results[p] for p in paths]

    def explain(self, paths: list[Path]) -> list[Result]:
        results = []
        for path in paths:
            rel = self.config.rel(path)
            try:
                source = self.read(path)
                decision = self.plan(source)
                detail = decision.describe()
                if source.saved is not None and decision.action is not Action.UP_TO_DATE:
                    detail = f"will render its saved outputs, not execute it ({source.saved.asked_by}: {source.saved.reason})"
                results.append(Result(rel, Status.PLANNED, detail=detail, warnings=self.flush_cache_warnings(),
                                      saved=source.saved is not None))
            except NotebookError as exc:
                results.append(Result(rel, Status.FAILED, error=str(exc)))
        return results


def _is_exclusive(path: Path, config: Config) -> bool:
    try:
        return read_notebook(path, config).exclusive
    except NotebookError:
        return False  # prepare reports the problem


def run_build(config: Config, paths: list[Path], options: BuildOptions, progress: Progress,
              before: Callable[[], None] | None = None) -> list[Result]:
    """Build ``paths``; raise BuildInterrupted on KeyboardInterrupt (Ctrl-C, or the command line's SIGTERM) after
    stopping every kernel.

    ``before`` runs first, under the same site lock (a merge installs its bundles there)."""
    builder = Builder(config, options, progress)
    loop = asyncio.new_event_loop()
    outcome: dict = {}

    done = threading.Event()

    def work() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome["results"] = loop.run_until_complete(builder.build_all(paths))
        except BaseException as exc:  # a bug: hand it to the main thread with its traceback
            outcome["error"] = exc
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            done.set()

    with SiteLock(config):
        if before is not None:
            before()
        prepare_kernel_profile(config)
        thread = threading.Thread(target=work, name="nbjekyll-build", daemon=True)
        # We wait on an Event, not on Thread.join: a Ctrl-C that lands inside join() makes Python 3.11
        # mark the still-running thread as finished (bpo-45274 in its threading.py), and the build would exit
        # while its kernels are being torn down, hanging in nbclient's exit hook.
        try:
            thread.start()
            while not done.wait(0.1):
                pass
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as the command line raises it (errors.Terminated)
            name = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
            progress.line(f"{name}: stopping kernels…", error=True)
            deadline = time.monotonic() + 60
            while not done.is_set() and time.monotonic() < deadline:
                builder.kernels.kill_all()  # again and again: a kernel may have been starting the first time
                done.wait(0.2)
            raise BuildInterrupted(name) from None
        if "results" in outcome:
            remove_unused_scripts(config)
            write_contents_pages(config)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("results", [])
