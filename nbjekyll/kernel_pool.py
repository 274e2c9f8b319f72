"""Kernels that cost little to start: forked from a process that has already imported ipykernel.

Starting an IPython kernel the usual way runs a new interpreter that spends most of half a
second importing ipykernel, IPython, zmq and tornado, every time. A build that needs kernels
of an IPython kernelspec (``python -m ipykernel_launcher -f {connection_file}``) instead starts,
once per interpreter and environment, a *fork server*: that interpreter, started with the
kernel's environment, which imports ``ipykernel.kernelapp`` and then waits. Each kernel is a
fork of it that becomes exactly what ``python -m ipykernel_launcher`` would have been: its own
session, the notebook's folder as working directory, the kernel's environment, the launcher's
``sys.argv``, its standard streams on the kernel log, fresh random state; then it runs
``ipykernel_launcher`` as ``__main__``. Nothing of a notebook is ever in the server, so no
notebook sees another's variables, imports or state: each kernel still serves one notebook and
is shut down after it. The server also does, once, what every kernel would do the same way while it
initialises whatever its notebook (import the debugger support, find the loopback address), and each
kernel sets again what that did to the environment: the kernel a notebook sees is the usual one, module
for module (tests/build_tool/test_kernel_pool.py compares them).

jupyter_client drives these kernels as any other (connection files, ports, interrupts, kills):
only the provisioner's launch step differs. A kernelspec of another shape (another language),
or a server that cannot start, falls back to the usual launch.

The pool also finishes kernel shutdowns in the background (the next notebook does not wait
for the last one's process to be reaped) and, when the build ends, stops every kernel and
server it started: no process outlives the build.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from string import Template
from typing import Any, Awaitable

from .files import atomic_write

# jupyter_client is imported where a kernel manager is made (see _classes): the no-op build never pays for it.

# How many notebooks beyond the ``jobs`` executing ones have their kernel started ahead of their turn:
# as many as are executing, so that every finishing kernel has a successor ready...
KERNELS_AHEAD_PER_JOB = 1
# ...as long as the machine's memory holds them: an idle kernel forked from the server takes about this
# much of its own, and the kernels started ahead may use at most this share of the available memory.
KERNEL_MEMORY_BYTES = 150 * 2 ** 20
MEMORY_SHARE_FOR_KERNELS_AHEAD = 0.25

# Variables that differ between the kernels a server forks and are read only once the kernel runs
# (the BLAS libraries read their thread counts when the notebook imports them): one server serves them all.
PER_KERNEL_VARIABLES = frozenset({"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                  "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "JPY_PARENT_PID"})

EXIT_POLL_SECONDS = 0.01  # how often to look whether a killed kernel has gone

READY_CLIENT = "nbjekyll.kernel_client.ReadyClient"  # the kernels' client: ready without jupyter_client's 0.2 s wait

LAUNCHER_ARGS = ["-m", "ipykernel_launcher", "-f"]  # what follows the interpreter in a forkable kernel's command

# The fork server (written to _build/kernel/fork_server.py, so `ps` names it). It runs in the kernel's
# interpreter, which may be an old one (CNTK's is Python 3.6): no syntax newer than 3.6 here. Requests
# come on stdin, one JSON line each; it answers on stdout with the child's pid, and later with its exit
# status once it has reaped it.
FORK_SERVER = r'''
import json, os, select, signal, sys
del sys.path[0]  # this script's folder: ipykernel_launcher too imports with its own off sys.path
from ipykernel import kernelapp  # noqa: F401 - the reason this process exists
# What every kernel imports and works out while it initialises, whatever its notebook: done once here, each
# fork inherits it (the kernel's debugger support imports debugpy, a twentieth of a second; the heartbeat asks
# for the loopback address, which runs `ip addr`). Older ipykernels (CNTK's) lack some: skipped. What these
# imports set in the environment (debugpy sets PYDEVD_USE_FRAME_EVAL) each kernel sets again over its own.
environ_before = dict(os.environ)
import itertools, threading
next_thread_number = threading._counter()  # debugpy makes a Thread at import: the kernel's own threads keep
for name in ("ipykernel.ipkernel", "ipykernel.debugger"):
    try:
        __import__(name)
    except Exception:
        pass
try:
    from jupyter_client.localinterfaces import localhost
    localhost()
    del localhost
except Exception:
    pass
set_by_imports = {k: v for k, v in os.environ.items() if environ_before.get(k) != v}
threading._counter = itertools.count(next_thread_number).__next__  # ...the names the usual launch gives them
del name, environ_before, next_thread_number

children = {}

def send(message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(1, data):]

def kill_children(*_):
    for pid in list(children):
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
                break
            except OSError:
                pass
    os._exit(0)

def reap():
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.pop(pid, None)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        send({"exited": pid, "status": code})

def serve():
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, kill_children)
    pending = b""
    send({"ready": os.getpid()})
    while True:
        ready = select.select([0, wake_read], [], [])[0]
        if wake_read in ready:
            os.read(wake_read, 4096)
        reap()
        if 0 not in ready:
            continue
        data = os.read(0, 1 << 16)
        if not data:  # the build has gone: so do its kernels
            kill_children()
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line.decode())
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                os.close(wake_read)
                os.close(wake_write)
                for signum in (signal.SIGCHLD, signal.SIGTERM):
                    signal.signal(signum, signal.SIG_DFL)
                return request
            children[pid] = True
            send({"id": request["id"], "pid": pid})

def become_kernel(request):
    os.setsid()  # as jupyter_client starts kernels: a session of its own, so interrupts reach its subprocesses
    stdin_read, stdin_write = os.pipe()  # stdin: a pipe nobody writes to, as jupyter_client leaves it
    os.dup2(stdin_read, 0)
    os.close(stdin_read)
    os.close(stdin_write)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(set_by_imports)
    argv = request["argv"]
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = list(argv)
    sys.argv = [""] + argv[3:]  # runpy puts the launcher's path first, as -m does
    if not getattr(sys.flags, "safe_path", False):
        sys.path.insert(0, os.getcwd() if sys.version_info >= (3, 7) else "")  # what -m puts first
    import importlib, random
    importlib.invalidate_caches()
    random.seed()  # Python 3.7+ reseeds after a fork by itself; 3.6 does not
    import runpy
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)

request = serve()
del serve, reap, send, kill_children, children
become_kernel(request)
'''


def kernels_ahead(jobs: int) -> int:
    """How many kernels to start ahead of their notebook's turn, beyond the ``jobs`` executing."""
    wanted = KERNELS_AHEAD_PER_JOB * jobs
    available = _available_memory()
    if available is None:
        return wanted
    return max(0, min(wanted, int(available * MEMORY_SHARE_FOR_KERNELS_AHEAD) // KERNEL_MEMORY_BYTES))


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def forkable(cmd: list[str]) -> bool:
    """Whether a kernel command is ``PYTHON -m ipykernel_launcher -f CONNECTION_FILE [options]``."""
    return len(cmd) >= 5 and cmd[1:4] == LAUNCHER_ARGS


def server_key(cmd: list[str], env: dict[str, str]) -> tuple:
    """Kernels with equal keys can fork from one server: same interpreter, same environment at start-up."""
    return (cmd[0],) + tuple(sorted((k, v) for k, v in env.items() if k not in PER_KERNEL_VARIABLES))


class ForkServerError(RuntimeError):
    """The fork server could not start or fork (the kernel is then launched the usual way)."""


class ForkServer:
    """One interpreter with ipykernel imported, forking a kernel on request (see FORK_SERVER)."""

    def __init__(self, python: str, env: dict[str, str], log_path: Path, script: Path):
        # ipykernel reads JPY_PARENT_PID when it is imported, so the server gets what jupyter_client gives a kernel.
        env = {**env, "JPY_PARENT_PID": str(os.getpid())}
        with open(log_path, "wb") as log:  # its own start-up chatter (a failed import) goes here
            self.process = subprocess.Popen([python, str(script)], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, env=env, cwd=str(log_path.parent),
                                            start_new_session=True)
        self.log_path = log_path
        self.exited: dict[int, int] = {}
        self.alive = True
        self._replies: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, name="nbjekyll-fork-server", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "exited" in message:
                self.exited[message["exited"]] = message["status"]
            elif "ready" in message:
                self._ready.set()
            elif "id" in message:
                with self._lock:
                    future = self._replies.pop(message["id"], None)
                if future is not None:
                    future.get_loop().call_soon_threadsafe(_resolve, future, message["pid"])
        self.alive = False
        self._ready.set()
        with self._lock:
            waiting, self._replies = list(self._replies.values()), {}
        for future in waiting:
            future.get_loop().call_soon_threadsafe(_fail, future, ForkServerError(
                f"the kernel fork server exited (status {self.process.wait()}); see {self.log_path}"))

    async def fork(self, argv: list[str], env: dict[str, str], cwd: str, log: str) -> int:
        """Fork a kernel running ``argv`` (an ipykernel_launcher command); return its pid."""
        if not self.alive:
            raise ForkServerError(f"the kernel fork server is not running; see {self.log_path}")
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            self._replies[request_id] = future
        request = {"id": request_id, "argv": argv, "env": {**env, "JPY_PARENT_PID": str(os.getpid())},
                   "cwd": cwd, "log": log}
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (OSError, ValueError) as exc:
            with self._lock:
                self._replies.pop(request_id, None)
            raise ForkServerError(f"the kernel fork server is not running ({exc}); see {self.log_path}") from None
        return await future

    def terminate(self) -> None:
        """Stop the server and every kernel it forked (safe from any thread: only sends a signal)."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)  # its handler kills its kernels, then exits
            except ProcessLookupError:
                pass

    async def close(self) -> None:
        """Stop the server (and whatever kernels remain) and reap it. A signal, not the end of its input: a
        server still importing ipykernel (warmed for a notebook that did not run after all) stops at once."""
        self.terminate()
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        await asyncio.get_running_loop().run_in_executor(None, self._wait)

    def _wait(self) -> None:
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future, exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)


class ForkedProcess:
    """What jupyter_client's provisioner needs of a Popen, for a kernel that is the fork server's child."""

    stdin = stdout = stderr = None

    def __init__(self, server: ForkServer, pid: int):
        self.server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            status = self.server.exited.get(self.pid)
            if status is not None:
                self.returncode = status
            elif not self.server.alive and not _exists(self.pid):
                self.returncode = -signal.SIGKILL  # the server went first and could not report it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _read_kernelspec(name: str, kernel_dirs: list[str]) -> dict | None:
    """kernel.json of the kernel ``name``, found as jupyter_client's KernelSpecManager finds it; None if not."""
    for folder in kernel_dirs:
        try:
            entries = {entry.name.lower(): entry.path for entry in os.scandir(folder) if entry.is_dir()}
        except OSError:
            continue
        if name.lower() in entries:
            try:
                with open(os.path.join(entries[name.lower()], "kernel.json"), encoding="utf-8") as handle:
                    spec = json.load(handle)
            except (OSError, ValueError):
                return None
            return spec if isinstance(spec, dict) else None
    if name == "python3":  # ipykernel's own kernelspec, which jupyter_client falls back on
        return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python"}
    return None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class KernelPool:
    """The build's fork servers, and the kernel shutdowns still finishing; ``close`` ends them all."""

    def __init__(self, log_dir: Path, script: Path, starting_at_once: int = 1):
        self.log_dir = log_dir
        # Kernels initialising at the same time slow each other down; the first ones are on the build's time.
        self.starting = asyncio.Semaphore(starting_at_once)
        self.script = script  # where the fork server's code is written
        self.servers: dict[tuple, ForkServer] = {}
        self.failed: set[tuple] = set()  # servers that could not start: their kernels launch the usual way
        self.pending: set[asyncio.Task] = set()
        self.closed = False

    def server_for(self, cmd: list[str], env: dict[str, str], kernel_name: str) -> ForkServer | None:
        if self.closed or not forkable(cmd):
            return None
        key = server_key(cmd, env)
        if key in self.failed:
            return None
        server = self.servers.get(key)
        if server is None or not server.alive:
            if server is not None:
                self.failed.add(key)
                return None
            taken = {s.log_path for s in self.servers.values()}  # (two servers of one kernelspec: rare)
            log = next(log for n in range(1, len(taken) + 2)
                       for log in [self.log_dir / f"{kernel_name}{'' if n == 1 else f'-{n}'}.fork-server.log"]
                       if log not in taken)
            if not self.script.exists() or self.script.read_text(encoding="utf-8") != FORK_SERVER:
                self.script.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.script, FORK_SERVER.encode("utf-8"))
            server = self.servers[key] = ForkServer(cmd[0], env, log, self.script)
        return server

    def warm(self, kernel_name: str, kernel_dirs: list[str], env: dict[str, str]) -> None:
        """Start the server that kernels named ``kernel_name`` will fork from, before the first is asked for: its
        imports then overlap the build's own. The kernelspec is read here as jupyter_client will find it (first
        of ``kernel_dirs``), without importing jupyter_client; should the command or environment come out
        otherwise, the kernel gets a server of its own and this one just stops with the build."""
        spec = _read_kernelspec(kernel_name, kernel_dirs)
        if spec is None:
            return
        cmd = [str(a) for a in spec.get("argv") or []]
        if cmd and cmd[0] in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
            cmd[0] = sys.executable
        full = dict(env)
        full.update({k: Template(str(v)).safe_substitute(env) for k, v in (spec.get("env") or {}).items()})
        if str(spec.get("language") or "").lower().startswith("python"):
            full.pop("PYTHONEXECUTABLE", None)
        self.server_for(cmd, full, kernel_name)

    def server_failed(self, cmd: list[str], env: dict[str, str]) -> None:
        self.failed.add(server_key(cmd, env))

    def manager(self, kernel_name: str, kernel_spec_manager: Any, log_path: Path) -> Any:
        """An AsyncKernelManager whose kernel, if its kernelspec allows, is forked from this pool's server."""
        manager_class = _classes()
        km = manager_class(kernel_name=kernel_name, kernel_spec_manager=kernel_spec_manager, client_class=READY_CLIENT)
        km.nbjekyll_pool = self
        km.nbjekyll_log = str(log_path)
        return km

    def later(self, work: Awaitable) -> None:
        """Finish ``work`` (a kernel's shutdown) in the background; ``close`` waits for it."""
        task = asyncio.ensure_future(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    def kill_all(self) -> None:
        """From any thread: stop every server and the kernels they forked."""
        for server in list(self.servers.values()):
            server.terminate()

    async def close(self) -> None:
        """Wait for the shutdowns in progress, then stop the servers."""
        self.closed = True
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
        servers, self.servers = list(self.servers.values()), {}
        await asyncio.gather(*(server.close() for server in servers), return_exceptions=True)


_CLASSES: list = []


def _classes() -> Any:
    """The kernel manager whose provisioner forks kernels from the pool's server (made on first use)."""
    if _CLASSES:
        return _CLASSES[0]
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkingProvisioner(LocalProvisioner):  # type: ignore[misc, valid-type]
        """Launches the kernel by forking the pool's server when its command allows, else as usual."""

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            pool: KernelPool = self.parent.nbjekyll_pool
            env = kwargs.get("env") or dict(os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            server = pool.server_for(cmd, env, self.parent.kernel_name)
            if server is not None:
                try:
                    pid = await server.fork(cmd, env, cwd, self.parent.nbjekyll_log)
                except ForkServerError:
                    pool.server_failed(cmd, env)
                else:
                    self.process = ForkedProcess(server, pid)
                    self.pid = self.pgid = pid  # the kernel makes itself a session leader first thing
                    self.cwd = cwd
                    return self.connection_info
            return await super().launch_kernel(cmd, **kwargs)

        async def wait(self) -> int | None:
            # LocalProvisioner polls every 0.1 s; a forked kernel's exit is reported within milliseconds
            if isinstance(self.process, ForkedProcess):
                while self.process.poll() is None:
                    await asyncio.sleep(0.01)
                code, self.process = self.process.returncode, None
                return code
            return await super().wait()

    class PooledKernelManager(AsyncKernelManager):  # type: ignore[misc, valid-type]
        """An AsyncKernelManager using ForkingProvisioner (set before the first start)."""

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            if self.provisioner is None:
                import uuid
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = ForkingProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                      parent=self)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # after a kill, jupyter_client looks every 0.1 s; the last kernel's shutdown is on the build's time
            await super()._async_wait(pollinterval=min(pollinterval, EXIT_POLL_SECONDS))

    _CLASSES.append(PooledKernelManager)
    return PooledKernelManager
