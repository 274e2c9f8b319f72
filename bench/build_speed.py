#!/usr/bin/env python3
"""Benchmark of the build tool against its code run bare and against its peers (a benchmark, not a test).

Generates sites of small, realistic notebooks (prose with math, a little NumPy work, a printed
table, a matplotlib figure) in a temporary folder and measures, side by side in one run, for each
size (8 and 50 notebooks by default), whole processes each time:

  scripts          the notebooks' code as plain Python scripts, one process each, one after another,
                   under the Agg backend, where plt.show() draws nothing
  scripts, figures drawn
                   the same, with plt.show() drawing each figure into a PNG as a notebook's inline
                   backend does: the same work as the notebook's
  cold --jobs 1    build.py on a site never built (no cache, no posts)
  cold --jobs 2    the same with two notebooks at once
  nbconvert        jupyter nbconvert --to markdown --execute on all the notebooks (one process)
  jcache           jupyter-cache: `jcache project execute --executor local-parallel`, 2 workers
                   (notebooks added to its project beforehand, untimed)

Each time comes with the CPU time of every process the method ran (user and system, summed over the
whole process tree). On a machine of C cores a method cannot take less than its CPU time over C: the
report prints that floor for cold --jobs 2, and where --jobs 2 stands against it. With --repeats,
each method's fastest round is kept and its slowest printed beside it: how far the machine's other
load moved the figures.

and prints the ratios the project aims at:

  cold --jobs 1 / scripts      <= 1.25 (and, for information, against the scripts drawing their figures)
  cold --jobs 1 / nbconvert    <= 0.6
  cold --jobs 2 / cold --jobs 1  <= 0.55
  cold --jobs 2 / jcache       < 1

For the first size it also measures the incremental builds (no-op, Markdown edit, code edit) and
--check, against the cold build.

Usage: python bench/build_speed.py [--sizes 8 50] [--work-seconds 0.1] [--repeats 1]
"""
from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

ROOT = Path(__file__).resolve().parents[1]
JCACHE_WORKERS = 2
SCRIPTS_DRAWING = "scripts, figures drawn"

PROSE = """# Notebook {n}: a small experiment

We estimate the mean of $x_i \\sim \\mathcal{{N}}(\\mu, \\sigma^2)$ with $\\hat\\mu = \\frac{{1}}{{n}}\\sum_i x_i$,
and look at the spectrum of a noisy signal:

$$
X_k = \\sum_{{t=0}}^{{N-1}} x_t \\, e^{{-2\\pi i k t / N}}
$$
"""

WORK = """import time
import numpy as np

rng = np.random.default_rng({n})
signal = rng.normal(size=200_000)
rounds = 0
started = time.perf_counter()
while time.perf_counter() - started < {seconds}:  # about {seconds} s of single-threaded NumPy work
    spectrum = np.abs(np.fft.rfft(signal))
    order = np.sort(signal)
    rounds += 1
print(f"mean estimate {{signal.mean():+.4f}}, largest frequency bin {{spectrum.argmax()}}")
"""

TABLE = """print(f"{'quantile':>10} {'value':>10}")
for q in (0.05, 0.25, 0.5, 0.75, 0.95):
    print(f"{q:>10.2f} {np.quantile(signal, q):>10.4f}")
"""

PLOT = """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(spectrum[:200])
ax.set_title("Spectrum, first 200 bins")
plt.show()
"""


def make_site(folder: Path, count: int, seconds: float) -> list[Path]:
    (folder / "notebooks").mkdir(parents=True)
    (folder / "_config.yml").write_text("title: bench\nbaseurl: ''\nexclude: [notebooks/, _build/]\n")
    paths = []
    for n in range(1, count + 1):
        nb = nbformat.v4.new_notebook()
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(PROSE.format(n=n)),
                    nbformat.v4.new_code_cell(WORK.format(n=n, seconds=seconds)),
                    nbformat.v4.new_code_cell(TABLE),
                    nbformat.v4.new_markdown_cell("The figure shows where the energy is."),
                    nbformat.v4.new_code_cell(PLOT)]
        path = folder / "notebooks" / f"2020-{1 + (n - 1) // 28:02d}-{1 + (n - 1) % 28:02d}-experiment-{n}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


# Put before a script's code: its plt.show() draws each open figure into a PNG, as a notebook's inline
# backend does (at the inline backend's resolution and cropping), and throws the PNG away.
DRAW_FIGURES = """import io as _io
import matplotlib.pyplot as _plt


def _draw_figures(*args, **kwargs):
    for number in _plt.get_fignums():
        _plt.figure(number).savefig(_io.BytesIO(), format="png", dpi=100, bbox_inches="tight")
    _plt.close("all")


_plt.show = _draw_figures
"""


def as_scripts(paths: list[Path], folder: Path, draw_figures: bool = False) -> list[Path]:
    """Each notebook's code cells, joined, as a script. Under the Agg backend ``plt.show()`` does nothing, so a
    figure is made but never drawn; with ``draw_figures`` it is drawn into a PNG, as the notebook's is."""
    folder.mkdir()
    scripts = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        script = folder / (path.stem + ".py")
        code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code") + "\n"
        script.write_text((DRAW_FIGURES + "\n\n" if draw_figures else "") + code)
        scripts.append(script)
    return scripts


@dataclass(frozen=True)
class Run:
    """One measured run of a method."""
    wall: float  # seconds, start to end
    cpu: float  # CPU seconds (user and system) of every process it started, and theirs


def run_checked(command: list[str], cwd: Path | None = None, env: dict | None = None,
                answer: str | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, input=answer)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")


def children_cpu() -> float:
    """CPU seconds (user and system) of every process this one has started and reaped, and theirs."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measured(work: Callable[[], None]) -> Run:
    cpu_before, started = children_cpu(), time.perf_counter()
    work()
    return Run(time.perf_counter() - started, children_cpu() - cpu_before)


def timed(command: list[str], cwd: Path | None = None, env: dict | None = None) -> Run:
    return measured(lambda: run_checked(command, cwd=cwd, env=env))


def build(site: Path, *args: str) -> Run:
    return timed([sys.executable, str(ROOT / "build.py"), "--site", str(site), *args])


def run_scripts(scripts: list[Path]) -> Run:
    env = {**os.environ, "MPLBACKEND": "Agg"}

    def run_all() -> None:
        for script in scripts:
            run_checked([sys.executable, str(script)], cwd=script.parent, env=env)
    return measured(run_all)


JCACHE = ("import os, sys; os.cpu_count = lambda: {workers}  # its pool has one worker per core: make it {workers}\n"
          "from jupyter_cache.cli.commands.cmd_main import jcache; sys.argv[0] = 'jcache'; sys.exit(jcache())")


def jcache(notebooks: list[Path], cache: Path) -> Run:
    command = [sys.executable, "-c", JCACHE.format(workers=JCACHE_WORKERS)]
    env = {**os.environ, "JUPYTERCACHE": str(cache)}
    # untimed: creating its cache (it asks first) and registering the notebooks, no execution
    run_checked(command + ["notebook", "add", *map(str, notebooks)], env=env, answer="y\n")
    return timed(command + ["project", "execute", "--executor", "local-parallel", "--timeout", "600"], env=env)


def measure(tmp: Path, count: int, seconds: float, repeats: int) -> tuple[dict[str, Run], dict[str, float]]:
    """Each method on its own fresh copy of the site, in turn; with ``repeats``, round after round, the fastest
    kept (on a machine shared with other work, the least disturbed run is the closest to the method's own cost).
    Returns each method's fastest run, and its slowest round's seconds (how much the machine disturbed the runs)."""
    tmp.mkdir()
    paths = make_site(tmp / "original", count, seconds)
    scripts = as_scripts(paths, tmp / "scripts")
    drawing = as_scripts(paths, tmp / "scripts-drawing", draw_figures=True)
    fastest: dict[str, Run] = {}
    slowest: dict[str, float] = {}
    for round_ in range(repeats):
        def fresh(name: str) -> Path:
            copy = tmp / f"{name}-{round_}"
            shutil.copytree(tmp / "original", copy)
            return copy
        runs = {"scripts": run_scripts(scripts), SCRIPTS_DRAWING: run_scripts(drawing)}
        runs["cold --jobs 1"] = build(fresh("jobs1"), "--jobs", "1")
        runs["cold --jobs 2"] = build(fresh("jobs2"), "--jobs", "2")
        nbconvert_in = fresh("nbconvert") / "notebooks"
        runs["nbconvert"] = timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", "--execute",
                                   "--output-dir", str(tmp / f"nbconvert-out-{round_}"),
                                   *[str(nbconvert_in / p.name) for p in paths]], cwd=nbconvert_in)
        jcache_in = fresh("jcache") / "notebooks"
        runs[f"jcache, {JCACHE_WORKERS} workers"] = jcache([jcache_in / p.name for p in paths],
                                                           tmp / f"jcache-{round_}")
        for name, run in runs.items():
            if name not in fastest or run.wall < fastest[name].wall:
                fastest[name] = run
            slowest[name] = max(run.wall, slowest.get(name, run.wall))
    return fastest, slowest


def incremental(site: Path, paths_folder: Path) -> dict[str, float]:
    """The rebuilds after the cold build of ``site``: nothing changed, a Markdown edit, a code edit; --check."""
    first = sorted(paths_folder.glob("*.ipynb"))[0]
    times = {"no-op rebuild": build(site).wall}
    nb = nbformat.read(first, as_version=4)
    nb.cells[3].source += " Edited."
    nbformat.write(nb, first)
    times["Markdown edit rebuild"] = build(site).wall
    nb.cells[1].source = nb.cells[1].source.replace("largest frequency bin", "peak at bin")
    nbformat.write(nb, first)
    times["code edit rebuild"] = build(site).wall
    times["--check (best of 3)"] = min(build(site, "--check").wall for _ in range(3))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 50])
    parser.add_argument("--work-seconds", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=1, help="rounds; each method's best is kept")
    args = parser.parse_args()
    # The tool as pip installs it, its modules compiled: run from this source tree with PYTHONDONTWRITEBYTECODE
    # set (as some machines do), every build would compile them again (about 0.07 s), and the peers never do.
    compileall.compile_dir(ROOT / "nbjekyll", quiet=1)
    print(f"{os.cpu_count()} cores; each notebook: about {args.work_seconds:g} s of NumPy work, a table, a figure "
          f"(numpy and matplotlib imported in each); best of {args.repeats} round{'s' if args.repeats > 1 else ''}\n")
    with tempfile.TemporaryDirectory(prefix="nbjekyll-bench-") as tmp:
        for index, count in enumerate(args.sizes):
            runs, slowest = measure(Path(tmp) / str(count), count, args.work_seconds, args.repeats)
            built = Path(tmp) / str(count) / "jobs1-0"  # the first cold --jobs 1 build: the rebuilds start from it
            extra = incremental(built, built / "notebooks") if index == 0 else {}
            report(count, runs, slowest, extra)


def report(count: int, runs: dict[str, Run], slowest: dict[str, float], extra: dict[str, float]) -> None:
    jcache_name = f"jcache, {JCACHE_WORKERS} workers"
    cores = os.cpu_count() or 1
    print(f"{count} notebooks (seconds, whole processes; CPU: all their processes, user and system)")
    print(f"  {'':<28} {'wall':>8}   {'a notebook':>10}   {'CPU':>6}   {'slowest round':>13}")
    times = {name: run.wall for name, run in runs.items()}
    for name, run in runs.items():
        print(f"  {name:<28} {run.wall:>8.2f}   {run.wall / count:10.3f}   {run.cpu:6.2f}   {slowest[name]:13.2f}")
    floor = runs["cold --jobs 2"].cpu / cores
    print(f"  cold --jobs 2 can take no less than its CPU over {cores} cores: {floor:.2f} s, which is "
          f"{floor / times['cold --jobs 1']:.3f} of cold --jobs 1; it took {times['cold --jobs 2'] / floor:.3f} "
          f"times that floor")
    rows = [("cold --jobs 1 / scripts", "cold --jobs 1", "scripts", "<= 1.25"),
            (f"cold --jobs 1 / {SCRIPTS_DRAWING}", "cold --jobs 1", SCRIPTS_DRAWING, "(the same work)"),
            ("cold --jobs 1 / nbconvert", "cold --jobs 1", "nbconvert", "<= 0.6"),
            ("cold --jobs 2 / cold --jobs 1", "cold --jobs 2", "cold --jobs 1", "<= 0.55"),
            (f"cold --jobs 2 / {jcache_name}", "cold --jobs 2", jcache_name, "< 1")]
    print(f"  {'ratio':<40} {'value':>7}  goal")
    for name, numerator, denominator, goal in rows:
        print(f"  {name:<40} {times[numerator] / times[denominator]:>7.3f}  {goal}")
    for name, value in extra.items():
        ratio = f"{value / times['cold --jobs 1']:7.3f} of cold --jobs 1" if "check" not in name else ""
        print(f"  {name:<28} {value:>8.2f}   {ratio}")
    print()


if __name__ == "__main__":
    main()
