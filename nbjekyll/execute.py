"""Run a notebook in a fresh kernel with nbclient, under a fixed environment.

The kernel gets the same environment on every build (hash seed, plotting backend, terminal
width, SOURCE_DATE_EPOCH for figure metadata, thread counts) so its outputs are the same
bytes each time. Its own start-up chatter goes to a log file in the build folder. On a
failure the partly executed notebook is saved there and the error names the cell.
"""
from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

# nbclient, jupyter_client and nbformat are imported where a kernel is started: a build with
# nothing to execute never pays for them.

from .config import Config
from .errors import BuildInterrupted, CellError, CellFailure, NotebookError
from .files import atomic_write
from .kernel_pool import READY_CLIENT
from .kernels import kernels_share, spec_manager
from .raised import input_headline
from .sources import SourceNotebook
from .tracebacks import strip_ansi

STARTUP = r"""
# Written by nbjekyll. Kernels of the build start with this profile instead of ~/.ipython, so a
# person's own start-up scripts cannot change what a post shows. It also notes which files
# under the site the notebook reads, so the build knows when to run it again.
def _nbjekyll_track_files():
    import json, os, sys, types
    # The hook only notes each path as opened (absolute); report() resolves them once, at the end.
    opened = {}  # path -> whether it was ever opened for writing
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    fsdecode, isabs, join, getcwd = os.fsdecode, os.path.isabs, os.path.join, os.getcwd

    def on_event(event, args):
        if event != "open" or not args or isinstance(args[0], int):
            return
        try:
            path = fsdecode(args[0])
            if not isabs(path):
                path = join(getcwd(), path)
        except (TypeError, ValueError, OSError):
            return
        mode, flags = args[1], args[2] if len(args) > 2 else 0
        writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & write_flags)
        if writing or path not in opened:
            opened[path] = writing or opened.get(path, False)

    def report():
        realpath, split, islink = os.path.realpath, os.path.split, os.path.islink
        site = realpath(os.environ.get("NBJEKYLL_SITE", "/nonexistent"))
        ignored = [realpath(p) for p in os.environ.get("NBJEKYLL_IGNORE", "").split(os.pathsep) if p]
        real_folders = {}

        def under_site(path):
            return path.startswith(site + os.sep) and not any(path.startswith(i + os.sep) for i in ignored)

        def real_folder(folder):
            # realpath of a folder, each folder on the way resolved once for all the paths (realpath
            # itself looks at every one of them again for each path: thousands of lstat calls)
            real = real_folders.get(folder)
            if real is None:
                parent, name = split(folder)
                if not name or parent == folder:
                    real = realpath(folder)
                elif name == ".":
                    real = real_folder(parent)
                elif name == "..":
                    real = split(real_folder(parent))[0]
                else:
                    real = join(real_folder(parent), name)
                    if islink(real):
                        real = realpath(real)
                real_folders[folder] = real
            return real

        def resolve(path):
            # realpath: the folder as above, then the file itself only if it is a link
            folder, name = split(path)
            path = join(real_folder(folder), name)
            return realpath(path) if islink(path) else path

        read, written = set(), set()
        for path, writing in list(opened.items()):
            path = resolve(path)
            if under_site(path):
                (written if writing else read).add(path)
        found = set(read - written)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                path = resolve(path if isabs(path) else join(getcwd(), path))
                if under_site(path) and "site-packages" not in path:
                    found.add(path)
        found = {p for p in found if os.path.isfile(p) and "__pycache__" not in p}
        return json.dumps(sorted(os.path.relpath(p, site) for p in found))

    def versions(names):
        import platform
        found = {}
        for name in names:
            version = getattr(sys.modules.get(name), "__version__", None)
            if isinstance(version, str):
                found[name] = version
        return json.dumps({"python": platform.python_version(), "packages": found})

    tracker = types.ModuleType("_nbjekyll_tracker")
    tracker.report = report
    tracker.versions = versions
    sys.modules["_nbjekyll_tracker"] = tracker
    if hasattr(sys, "addaudithook"):  # Python 3.8+; older kernels report imported modules only
        sys.addaudithook(on_event)


_nbjekyll_track_files()
del _nbjekyll_track_files
"""

MATPLOTLIBRC = "svg.hashsalt: nbjekyll\n"

quiet_log = logging.getLogger("nbjekyll.nbclient")
quiet_log.addHandler(logging.NullHandler())
quiet_log.propagate = False


@dataclass
class Executed:
    notebook: Any
    files: list[str]  # site-relative paths of local modules imported and files read
    provenance: dict = field(default_factory=dict)  # when, how long, in what (see provenance())


@dataclass(frozen=True)
class ExecutionSettings:
    timeout: int
    threads: int = 1


# Only these variables pass from the build's environment to a kernel: where programs, libraries
# and temporary files are, and the locale. Anything else a shell happens to export (a quick-mode
# switch, a framework option) could change outputs without changing the cache key; settings a
# notebook needs go in _config.yml's nbjekyll.kernel_env, which is part of the key.
PASSED_THROUGH = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
                  "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "LD_LIBRARY_PATH",
                  "SSL_CERT_FILE", "SSL_CERT_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
                  "MPLCONFIGDIR", "PYENV_ROOT", "PYENV_VERSION")


def kernel_environment(config: Config, settings: ExecutionSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASSED_THROUGH or k.startswith("LC_")}
    profile = config.build_dir / "kernel"
    threads = str(settings.threads)
    env.update({
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MATPLOTLIBRC": str(profile / "matplotlibrc"),
        "SOURCE_DATE_EPOCH": "0",
        "COLUMNS": "100",
        "LINES": "40",
        "TERM": "dumb",
        "IPYTHONDIR": str(profile / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "VECLIB_MAXIMUM_THREADS": threads,
        "NBJEKYLL_SITE": str(config.site),
        "NBJEKYLL_IGNORE": os.pathsep.join(str(p) for p in (config.build_dir, config.posts_dir, config.images_dir,
                                                            config.kernels_dir, config.provenance_dir)),
        # So code in a notebook finds the site's own kernels too (the speed post starts CNTK's interpreter).
        "JUPYTER_PATH": str(kernels_share(config)),
    })
    env.update(config.kernel_env)
    return env


def prepare_kernel_profile(config: Config) -> None:
    """Write the IPython profile and matplotlibrc the kernels start with (idempotent)."""
    profile = config.build_dir / "kernel"
    startup = profile / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    _write_if_changed(startup / "00-nbjekyll.py", STARTUP)
    _write_if_changed(profile / "matplotlibrc", MATPLOTLIBRC)
    (config.build_dir / "logs").mkdir(parents=True, exist_ok=True)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _installed_kernels(config: Config) -> list[str]:
    return sorted(spec_manager(config).find_kernel_specs())


def _unknown_kernel(source: SourceNotebook, installed: list[str]) -> NotebookError:
    return NotebookError(source.rel, f"no kernel named {source.kernel_name!r} is installed "
                                     f"(installed: {', '.join(installed) or 'none'})")


def _failure(nb: Any, index: int) -> CellFailure:
    cell = nb.cells[index]
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    return CellFailure(
        index=index + 1,
        execution_count=cell.get("execution_count"),
        source=cell.get("source", ""),
        ename=error.get("ename", "") if error else "",
        evalue=error.get("evalue", "") if error else "",
        traceback=[strip_ansi(line) for line in error.get("traceback", [])] if error else [],
    )


def save_partial(nb: Any, source: SourceNotebook, config: Config) -> str:
    import nbformat
    folder = config.build_dir / "failed"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / source.path.name
    atomic_write(path, (nbformat.writes(nb) + "\n").encode("utf-8"))
    return config.rel(path)


class RunningKernels:
    """The kernels this build has started, so an interrupt can stop them all from the main thread.

    Killing a kernel's process group is safe from any thread; nbclient then sees a dead
    kernel and unwinds by itself. (Cancelling nbclient's coroutines is not enough: it turns
    a cancellation into a DeadKernelError and goes on.)
    """

    def __init__(self) -> None:
        self.managers: set = set()
        self.pools: list = []  # kernel_pool.KernelPool: their fork servers stop with the kernels they forked
        self.stopping = False

    def kill_all(self) -> None:
        self.stopping = True
        for pool in list(self.pools):
            pool.kill_all()
        for km in list(self.managers):
            process = getattr(getattr(km, "provisioner", None), "process", None)
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGKILL)  # kernels run in their own session
            except (ProcessLookupError, PermissionError):
                process.kill()


START_ATTEMPTS = 3  # a kernel that dies before replying to kernel_info is started again this many times in all


class _KernelDidNotStart(Exception):
    """The kernel died or hung before the first cell: worth another try (ports, a busy machine)."""


async def execute(source: SourceNotebook, config: Config, settings: ExecutionSettings,
                  on_cell: Callable[[int, int], None] | None = None,
                  kernels: RunningKernels | None = None,
                  on_retry: Callable[[str], None] | None = None) -> Executed:
    """Execute the notebook and return the executed copy; raise a NotebookError naming what failed.

    A kernel that does not start is started again, up to START_ATTEMPTS times in all, each retry
    reported through ``on_retry``; only then does the notebook fail.
    """
    return await NotebookRun(source, config, settings, kernels=kernels, on_cell=on_cell, on_retry=on_retry).run()


@dataclass
class _Kernel:
    """One kernel of one attempt: its notebook copy, client, manager and log, and its start if begun early."""
    nb: Any
    client: Any
    km: Any
    log: Any
    current: dict
    start: Any = None  # the asyncio task starting it ahead of the notebook's turn


class NotebookRun:
    """One notebook's execution, whose kernel can be started before the notebook's turn comes.

    ``start_kernel()`` begins starting the kernel (with a ``KernelPool``, forked from a server that
    has ipykernel imported); ``run()`` executes the notebook in it, or in a new kernel if none was
    started; ``discard()`` stops a kernel started for a notebook that will not run after all. Either
    way the kernel serves this notebook only and is shut down after it.
    """

    def __init__(self, source: SourceNotebook, config: Config, settings: ExecutionSettings,
                 kernels: RunningKernels | None = None, pool: Any = None,
                 on_cell: Callable[[int, int], None] | None = None,
                 on_retry: Callable[[str], None] | None = None,
                 on_ran: Callable[[], None] | None = None):
        self.source, self.config, self.settings = source, config, settings
        self.kernels = kernels or RunningKernels()
        self.pool = pool  # a kernel_pool.KernelPool, or None: kernels started the usual way, stopped in line
        self.on_cell, self.on_retry = on_cell, on_retry
        self.on_ran = on_ran  # called once the last cell has run, before the build's questions to the kernel
        if pool is not None and not self.kernels.stopping:
            from jupyter_core.paths import jupyter_path  # (not jupyter_client yet: it takes a while to import)
            pool.warm(source.kernel_name, [str(kernels_share(config) / "kernels")] + jupyter_path("kernels"),
                      kernel_environment(config, settings))
        self.specs = spec_manager(config)
        installed = sorted(self.specs.find_kernel_specs())
        kernel = source.kernel_name
        if kernel not in installed:
            kernel = None if config.strict_kernels else _kernel_for_language(source, self.specs, installed)
            if kernel is None:
                raise _unknown_kernel(source, installed)
            if on_retry:
                on_retry(f"no kernel named {source.kernel_name!r} is installed; running it in {kernel!r}, which "
                         f"serves its language ({_language_of(source)}) (set nbjekyll.kernel_aliases or the front "
                         "matter's 'kernel:' to choose, nbjekyll.strict_kernels to forbid)")
        self.kernel = kernel
        self.log_path = config.build_dir / "logs" / f"{source.path.stem}.kernel.log"
        self.ahead: _Kernel | None = None

    def start_kernel(self) -> None:
        """Begin starting the notebook's kernel now; ``run()`` uses it (and reports its failure to start)."""
        if self.ahead is None and not self.kernels.stopping:
            self.ahead = self._new_kernel("w")
            self.ahead.start = asyncio.ensure_future(self._start(self.ahead))

    async def discard(self) -> None:
        """Stop the kernel started ahead if ``run()`` did not take it."""
        kernel, self.ahead = self.ahead, None
        if kernel is not None:
            if kernel.start is not None and not kernel.start.done():
                kernel.start.cancel()
            await asyncio.gather(kernel.start, return_exceptions=True)
            await self._stop(kernel)

    async def run(self) -> Executed:
        for attempt in range(1, START_ATTEMPTS + 1):
            kernel, self.ahead = (self.ahead if attempt == 1 else None), None
            try:
                return await self._execute_once(kernel or self._new_kernel("w" if attempt == 1 else "a"))
            except _KernelDidNotStart as failure:
                if attempt == START_ATTEMPTS:
                    raise NotebookError(self.source.rel, f"the kernel could not start ({failure}), {START_ATTEMPTS} "
                                                         f"times; see {self.config.rel(self.log_path)}") from None
                if self.on_retry:
                    self.on_retry(f"the kernel did not start ({failure}); starting it again "
                                  f"(attempt {attempt + 1} of {START_ATTEMPTS})")
        raise AssertionError("unreachable")

    def _new_kernel(self, log_mode: str) -> _Kernel:
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient
        if self.kernels.stopping:
            raise BuildInterrupted()
        nb = self.source.for_execution()
        code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        current: dict = {"index": None, "count": 0}
        on_cell = self.on_cell

        def cell_started(cell: Any, cell_index: int) -> None:
            current["index"] = cell_index
            if (cell.cell_type == "code" and cell.source.strip()
                    and "skip-execution" not in cell.metadata.get("tags", [])):
                # What the kernel will number this cell, known before any reply arrives (a dying kernel sends none).
                current["count"] += 1
            if on_cell and cell_index in code_cells:
                on_cell(code_cells.index(cell_index) + 1, len(code_cells))

        # We own the kernel manager, so the kernel's whole life is ours to end (see RunningKernels).
        if self.pool is not None:
            km = self.pool.manager(self.kernel, self.specs, self.log_path)
        else:
            km = AsyncKernelManager(kernel_name=self.kernel, kernel_spec_manager=self.specs, client_class=READY_CLIENT)
        client = NotebookClient(
            nb,
            km=km,
            timeout=self.settings.timeout,
            kernel_name=self.kernel,
            resources={"metadata": {"path": str(self.source.path.parent)}},
            record_timing=False,
            allow_errors=self.source.allow_errors,  # front matter / nbjekyll.allow_errors (see nbjekyll.raised)
            on_cell_start=cell_started,
            log=quiet_log,
        )
        log = open(self.log_path, log_mode, encoding="utf-8")
        self.kernels.managers.add(km)
        return _Kernel(nb, client, km, log, current)

    async def _start(self, kernel: _Kernel) -> None:
        """What nbclient does before the first cell (start the kernel, wait for its kernel_info reply), early."""
        async with self.pool.starting if self.pool is not None else contextlib.nullcontext():
            await kernel.client.async_start_new_kernel(env=kernel_environment(self.config, self.settings),
                                                       stdout=kernel.log, stderr=kernel.log)
            await kernel.client.async_start_new_kernel_client()

    async def _stop(self, kernel: _Kernel) -> None:
        async def stop() -> None:
            try:
                await _stop_kernel(kernel.client, kernel.km)
            finally:
                self.kernels.managers.discard(kernel.km)
                kernel.log.close()
        if self.pool is not None:
            self.pool.later(stop())  # the next notebook need not wait for this kernel to be reaped
        else:
            await stop()

    async def _execute_once(self, kernel: _Kernel) -> Executed:
        from nbclient.exceptions import DeadKernelError
        source, config, settings, nb, client, current = (self.source, self.config, self.settings, kernel.nb,
                                                          kernel.client, kernel.current)
        started, clock = datetime.now(timezone.utc), time.monotonic()
        try:
            if kernel.start is not None:
                await kernel.start
            if self.kernels.stopping:
                raise BuildInterrupted()
            await client.async_execute(env=kernel_environment(config, settings), stdout=kernel.log,
                                       stderr=kernel.log)
            seconds = time.monotonic() - clock
            if self.on_ran:
                self.on_ran()
            answers = await _ask_kernel(client, files="report()",
                                        environment=f"versions({imported_packages(source)!r})")
            files, environment = answers["files"] or [], answers["environment"] or {}
        except Exception as exc:
            if self.kernels.stopping:
                raise BuildInterrupted() from None
            index = current["index"]
            if index is None and isinstance(exc, (RuntimeError, DeadKernelError, TimeoutError)):
                raise _KernelDidNotStart(str(exc) or type(exc).__name__) from None
            if index is not None and nb.cells[index].get("execution_count") is None:
                nb.cells[index]["execution_count"] = current["count"]
            raise _explain(exc, nb, source, config, settings, index, self.log_path) from None
        finally:
            await self._stop(kernel)
        provenance = {"executed": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "seconds": round(seconds, 1),
                      "kernel": self.kernel, "python": environment.get("python"),
                      "packages": environment.get("packages", {}), "claims": claims_of(nb)}
        return Executed(nb, files, provenance)


def _language_of(source: SourceNotebook) -> str:
    metadata = source.nb.metadata
    return str((metadata.get("kernelspec") or {}).get("language") or (metadata.get("language_info") or {}).get("name")
               or "python").lower()


def _kernel_for_language(source: SourceNotebook, specs: Any, installed: list[str]) -> str | None:
    """An installed kernel for the notebook's language (python3 first), for kernelspecs named after
    someone else's machine (``python3_mydev``, ``fastai``, ``Python [Root]``)."""
    language = _language_of(source)
    candidates = sorted(installed, key=lambda name: (name != "python3", name))
    for name in candidates:
        try:
            if specs.get_kernel_spec(name).language.lower() == language:
                return name
        except Exception:  # noqa: BLE001 - a broken kernelspec is simply not a candidate
            continue
    return None


def imported_packages(source: SourceNotebook) -> list[str]:
    """The top-level packages the notebook's code imports, standard library left out (whose versions to record)."""
    names = set()
    for cell in source.nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return sorted(names - set(sys.stdlib_module_names))


CLAIMS_LINE = re.compile(r"^CLAIMS (\{.*\})$", re.MULTILINE)


def claims_of(nb: Any) -> list[str]:
    """The names of the claims a notebook states for its tests (a ``CLAIMS {json}`` line it prints)."""
    for cell in reversed(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            match = CLAIMS_LINE.search(output.get("text", "")) if output.get("output_type") == "stream" else None
            if match:
                try:
                    return sorted(json.loads(match.group(1)))
                except ValueError:
                    return []
    return []


async def _ask_kernel(client: Any, **calls: str) -> dict[str, Any]:
    """Call the start-up profile's tracker in the kernel, once every cell has run, in one request: for each
    keyword, its call's answer, or None if the kernel cannot answer (another language, or no profile)."""
    msg_id = client.kc.execute("", silent=True, store_history=False,
                               user_expressions={key: f"__import__('_nbjekyll_tracker').{call}"
                                                 for key, call in calls.items()})
    reply = await client.async_wait_for_reply(msg_id)
    results = (reply or {}).get("content", {}).get("user_expressions") or {}
    answers = {}
    for key in calls:
        result = results.get(key) or {}
        ok = result.get("status") == "ok"
        answers[key] = json.loads(ast.literal_eval(result["data"]["text/plain"])) if ok else None
    return answers


async def _stop_kernel(client: Any, km: Any) -> None:
    # nbclient registers an exit hook when it starts a kernel and forgets it when the start fails;
    # the hook would print an AssertionError traceback when the build exits. We stop the kernel here.
    atexit.unregister(client._cleanup_kernel)
    if client.kc is not None:
        client.kc.stop_channels()
        client.kc = None
    try:
        if km.has_kernel:
            await km.shutdown_kernel(now=True)
    except RuntimeError:
        pass


def _explain(exc: Exception, nb: Any, source: SourceNotebook, config: Config, settings: ExecutionSettings,
             index: int | None, log_path: Path) -> Exception:
    """The NotebookError that says, in a person's terms, what nbclient raised."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    if isinstance(exc, NoSuchKernel):
        return _unknown_kernel(source, _installed_kernels(config))
    if index is None:
        return exc
    partial = save_partial(nb, source, config)
    failure = _failure(nb, index)
    if isinstance(exc, CellTimeoutError):
        return CellError(source.rel, failure, f"timed out after {settings.timeout} s", partial)
    if isinstance(exc, DeadKernelError):
        return CellError(source.rel, failure, f"killed the kernel (it died while running this cell; its log is "
                                              f"{config.rel(log_path)})", partial)
    if isinstance(exc, CellExecutionError):
        failure.ename = failure.ename or exc.ename
        failure.evalue = failure.evalue or exc.evalue
        return CellError(source.rel, failure, input_headline(failure) or f"raised {failure.ename}: {failure.evalue}",
                         partial)
    return exc
