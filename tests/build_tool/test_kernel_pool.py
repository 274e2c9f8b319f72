"""Kernels forked from a server and started ahead of their turn (nbjekyll/kernel_pool.py): each
serves one notebook, sees nothing of another, is what a usual launch makes, and none outlives the build."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from nbjekyll.config import load_config
from nbjekyll.execute import ExecutionSettings, NotebookRun, RunningKernels, prepare_kernel_profile
from nbjekyll.kernel_pool import KernelPool, kernels_ahead
from nbjekyll.sources import read_notebook

# Run first in every notebook of the isolation test: it fails if anything of an earlier notebook is visible.
CHECK = """\
import os, sys
here = os.path.dirname(os.path.abspath({name!r}))
assert "leaked_variable" not in globals(), "a variable of another notebook"
assert "wave" not in sys.modules, "a module another notebook imported"
assert "NBJEKYLL_LEAKED" not in os.environ, "an environment variable another notebook set"
assert os.getcwd() == here, ("the working directory another notebook chose", os.getcwd())
import matplotlib
import matplotlib.pyplot as plt
assert plt.get_fignums() == [], "a figure another notebook left open"
assert matplotlib.rcParams["lines.linewidth"] != 7, "matplotlib settings of another notebook"
import random
import numpy as np
print("RANDOM", random.random(), np.random.random())
"""

POLLUTE = """\
leaked_variable = 1
import wave
os.environ["NBJEKYLL_LEAKED"] = "1"
os.chdir("/")
matplotlib.rcParams["lines.linewidth"] = 7
plt.figure()
"""


def isolation_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Isolation"),
                nbformat.v4.new_code_cell(CHECK.format(name=path.name)),
                nbformat.v4.new_code_cell(POLLUTE)]
    nbformat.write(nb, path)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_no_notebook_sees_what_another_left_in_its_kernel(site, jobs):
    for n in range(1, 6):
        isolation_notebook(site.root / "notebooks" / f"2021-01-0{n}-isolation-{n}.ipynb")
    run = site.build("--jobs", jobs)
    assert run.code == 0, run.err
    assert "5 notebooks: 5 ok, 0 failed" in run.out
    draws = [line for n in range(1, 6) for line in site.post(f"2021-01-0{n}-isolation-{n}").splitlines()
             if line.startswith("RANDOM ")]
    assert len(draws) == 5
    assert len(set(draws)) == 5, "kernels forked from one server share their random state"


PROBE = r"""
import json, os, signal, sys, threading
state = {
    "modules": sorted(sys.modules), "path": sys.path, "argv": sys.argv[:2] + sys.argv[3:],
    "orig_argv": sys.orig_argv[:4] + sys.orig_argv[5:], "env": dict(os.environ), "cwd": os.getcwd(),
    "flags": str(sys.flags), "main": sys.modules["__main__"].__name__,
    "signals": {s.name: str(signal.getsignal(s)) for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)},
    "threads": sorted(t.name for t in threading.enumerate()),
    "session leader": os.getsid(0) == os.getpid(), "stdin": os.readlink("/proc/self/fd/0").split(":")[0],
    "stdout": [sys.__stdout__.encoding, sys.__stdout__.line_buffering, sys.__stdout__.isatty()],
    "dont_write_bytecode": sys.dont_write_bytecode, "hash": hash("nbjekyll"),
}
def kind(fd):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the listing's own descriptor, closed by now
        return None
    return target.split(":[")[0] + (":[" + target.split(":[")[1] if target.startswith("anon_inode") else "")
# What each open descriptor is (files by path; pipes, event fds...), sockets apart: their number is the
# ZeroMQ connections the build's client has made so far, which depends on timing, not on how the kernel started.
state["descriptors"] = sorted(k for k in map(kind, os.listdir("/proc/self/fd")) if k and k != "socket")
print(json.dumps(state))
"""


def test_a_forked_kernel_is_what_the_usual_launch_makes(site):
    """Interpreter state, module by module, of a kernel forked from the server and of one started as
    jupyter_client always did (only the connection file's name differs, inside argv)."""
    folder = site.root / "notebooks" / "deeper"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    nbformat.write(nb, folder / "2021-01-01-probe.ipynb")
    config = load_config(site.root)
    prepare_kernel_profile(config)
    source = read_notebook(folder / "2021-01-01-probe.ipynb", config)

    async def state(pool):
        run = NotebookRun(source, config, ExecutionSettings(timeout=60, threads=1), RunningKernels(), pool=pool)
        try:
            return json.loads((await run.run()).notebook.cells[0].outputs[0].text)
        finally:
            if pool is not None:
                await pool.close()

    pool = KernelPool(config.build_dir / "logs", config.build_dir / "kernel" / "fork_server.py")
    usual, forked = asyncio.run(state(None)), asyncio.run(state(pool))
    assert not pool.failed and list((config.build_dir / "logs").glob("*.fork-server.log")), "not forked"
    assert usual.keys() == forked.keys()
    for key in usual:
        assert usual[key] == forked[key], key
    assert usual["cwd"] == str(folder)
    assert usual["session leader"] and usual["stdin"] == "pipe"


def processes_with(variable: str, value: str) -> list[int]:
    """Live processes whose environment holds variable=value (zombies are gone for our purposes)."""
    found = []
    needle = f"{variable}={value}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        found.append(int(entry))
    return found


COUNT = """\
import os
mark = os.environ["NBJEKYLL_TEST_MARK"].encode()
def alive(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            if b"NBJEKYLL_TEST_MARK=" + mark not in handle.read().split(b"\\0"):
                return False
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
server = os.getppid()  # the fork server: it has the mark too
kernels = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != server and alive(p)]
print("KERNELS", len(kernels))
"""


def marked_site(site, count: int) -> str:
    mark = uuid.uuid4().hex
    config = site.root / "_config.yml"
    config.write_text(config.read_text() + f"  kernel_env:\n    NBJEKYLL_TEST_MARK: {mark}\n")
    for n in range(1, count + 1):
        nb = nbformat.v4.new_notebook()
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Count {n}"), nbformat.v4.new_code_cell(COUNT)]
        nbformat.write(nb, site.root / "notebooks" / f"2021-01-{n:02d}-count-{n}.ipynb")
    return mark


@pytest.mark.parametrize("jobs", [1, 2])
def test_kernels_alive_at_once_are_bounded_and_none_outlives_the_build(site, jobs):
    mark = marked_site(site, 6)
    run = site.build("--jobs", str(jobs))
    assert run.code == 0, run.err
    assert processes_with("NBJEKYLL_TEST_MARK", mark) == []  # no kernel, no fork server
    counts = [int(line.split()[1]) for n in range(1, 7) for line in site.post(f"2021-01-{n:02d}-count-{n}").splitlines()
              if line.startswith("KERNELS ")]
    assert len(counts) == 6
    # executing, started ahead, and at most one just killed and not yet reaped
    assert max(counts) <= jobs + kernels_ahead(jobs) + 1, counts


def test_an_interrupted_build_leaves_no_kernel_and_no_server(site):
    mark = marked_site(site, 4)
    slow = site.root / "notebooks" / "2021-01-01-count-1.ipynb"
    nb = nbformat.read(slow, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("open('started', 'w').close()\nimport time\ntime.sleep(120)"))
    nbformat.write(nb, slow)
    process = site.build_subprocess("--jobs", "1")
    started = site.root / "notebooks" / "started"
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert started.exists(), process.communicate()
    assert len(processes_with("NBJEKYLL_TEST_MARK", mark)) >= 2  # the server and the kernel (another ahead, maybe)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    deadline = time.monotonic() + 10
    while processes_with("NBJEKYLL_TEST_MARK", mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with("NBJEKYLL_TEST_MARK", mark) == []


def other_kernelspec(site, name: str, extra: list[str] | None = None) -> None:
    folder = site.root / ".kernels" / "share" / "jupyter" / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", *(extra or [])],
        "display_name": name, "language": "python", "env": {"OTHER_KERNEL": name}}))


def test_a_kernelspec_starts_its_own_server_only_when_a_notebook_needs_it(site):
    other_kernelspec(site, "other")
    site.add("math.ipynb", "2021-01-01-math.ipynb")
    assert site.build().code == 0
    assert [p.name for p in (site.root / "_build" / "logs").glob("*.fork-server.log")] == ["python3.fork-server.log"]

    path = site.add("title_from_heading.ipynb", "2021-01-02-other.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"name": "other", "display_name": "other", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("import os\nprint('OTHER', os.environ['OTHER_KERNEL'])"))
    nbformat.write(nb, path)
    run = site.build()
    assert run.code == 0, run.err
    assert "OTHER other" in site.post("2021-01-02-other")
    assert sorted(p.name for p in (site.root / "_build" / "logs").glob("*.fork-server.log")) == [
        "other.fork-server.log", "python3.fork-server.log"]


def test_a_forked_kernel_that_dies_at_start_is_retried_then_fails_as_before(site):
    other_kernelspec(site, "dies", ["--IPKernelApp.exec_lines=import os; os._exit(3)"])
    path = site.add("title_from_heading.ipynb", "2021-01-01-dies.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"name": "dies", "display_name": "dies", "language": "python"}
    nbformat.write(nb, path)
    run = site.build()
    assert run.code == 1
    assert run.err.splitlines() == [
        "notebooks/2021-01-01-dies.ipynb: warning: the kernel did not start (Kernel died before replying to "
        "kernel_info); starting it again (attempt 2 of 3)",
        "notebooks/2021-01-01-dies.ipynb: warning: the kernel did not start (Kernel died before replying to "
        "kernel_info); starting it again (attempt 3 of 3)",
        "notebooks/2021-01-01-dies.ipynb: the kernel could not start (Kernel died before replying to "
        "kernel_info), 3 times; see _build/logs/2021-01-01-dies.kernel.log",
    ]
    assert list((site.root / "_build" / "logs").glob("*.fork-server.log"))  # it was forked, not launched


def test_kernels_started_ahead_are_as_many_as_jobs_when_memory_allows(monkeypatch):
    from nbjekyll import kernel_pool
    monkeypatch.setattr(kernel_pool, "_available_memory", lambda: 64 * 2 ** 30)
    assert [kernels_ahead(jobs) for jobs in (1, 2, 4)] == [1, 2, 4]
    monkeypatch.setattr(kernel_pool, "_available_memory", lambda: 100 * 2 ** 20)
    assert kernels_ahead(2) == 0  # a machine short of memory starts each kernel at its notebook's turn
    monkeypatch.setattr(kernel_pool, "_available_memory", lambda: 1300 * 2 ** 20)
    assert kernels_ahead(4) == 2
