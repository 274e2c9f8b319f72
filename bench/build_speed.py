#!/usr/bin/env python3
"""Benchmark of the build tool against bare execution (a benchmark, not a test).

Generates a site of 12 small, realistic notebooks (prose with math, about a second of NumPy
work, a matplotlib figure, printed output) in a temporary folder, then measures in one run:

  cold build --jobs 1            vs  jupyter nbconvert --to markdown --execute   (target <= 1.05)
  cold build --jobs 2            vs  cold --jobs 1                              (target <= 0.6)
  no-op rebuild                  vs  cold --jobs 1                              (target <= 0.03)
  rebuild after a Markdown edit  vs  cold --jobs 1                              (target <= 0.05)
  rebuild after a code edit      vs  cold --jobs 1                              (close to 1/12)
  --check wall time

Usage: python bench/build_speed.py [--notebooks 12] [--work-seconds 1.0]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

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
signal = rng.normal(size=1_000_000)
rounds = 0
started = time.perf_counter()
while time.perf_counter() - started < {seconds}:  # about {seconds} s of single-threaded NumPy work
    spectrum = np.abs(np.fft.rfft(signal))
    order = np.sort(signal)
    rounds += 1
print(f"mean estimate {{signal.mean():+.4f}}, largest frequency bin {{spectrum.argmax()}}")
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
                    nbformat.v4.new_markdown_cell("The figure shows where the energy is."),
                    nbformat.v4.new_code_cell(PLOT)]
        path = folder / "notebooks" / f"2020-01-{n:02d}-experiment-{n}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def timed(command: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return elapsed


def build(site: Path, *args: str) -> float:
    return timed([sys.executable, str(ROOT / "build.py"), "--site", str(site), *args])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=12)
    parser.add_argument("--work-seconds", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbjekyll-bench-") as tmp:
        tmp = Path(tmp)
        paths = make_site(tmp / "site", args.notebooks, args.work_seconds)
        copy = tmp / "nbconvert"
        shutil.copytree(tmp / "site" / "notebooks", copy)

        nbconvert = timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", "--execute",
                           "--output-dir", str(tmp / "nbconvert-out"), *[str(copy / p.name) for p in paths]],
                          cwd=copy)
        cold1 = build(tmp / "site", "--jobs", "1")
        shutil.rmtree(tmp / "site" / "_build")
        cold2 = build(tmp / "site", "--jobs", "2", "--force")
        noop = build(tmp / "site")

        nb = nbformat.read(paths[0], as_version=4)
        nb.cells[2].source += " Edited."
        nbformat.write(nb, paths[0])
        prose = build(tmp / "site")

        nb.cells[1].source = nb.cells[1].source.replace("largest frequency bin", "peak at bin")
        nbformat.write(nb, paths[0])
        code = build(tmp / "site")

        check = min(build(tmp / "site", "--check") for _ in range(3))

    rows = [
        ("cold build --jobs 1 / nbconvert --execute", cold1, nbconvert, "<= 1.05"),
        ("cold build --jobs 2 / cold --jobs 1", cold2, cold1, "<= 0.6"),
        ("no-op rebuild / cold --jobs 1", noop, cold1, "<= 0.03"),
        ("Markdown edit rebuild / cold --jobs 1", prose, cold1, "<= 0.05"),
        ("code edit rebuild / cold --jobs 1", code, cold1, f"~ 1/{args.notebooks} = {1 / args.notebooks:.3f}"),
    ]
    print(f"{args.notebooks} notebooks, about {args.work_seconds:g} s of NumPy work each\n")
    print(f"{'measure':<44} {'seconds':>8} {'baseline':>9} {'ratio':>7}  target")
    for name, value, base, target in rows:
        print(f"{name:<44} {value:>8.2f} {base:>9.2f} {value / base:>7.3f}  {target}")
    print(f"{'--check (best of 3, whole process)':<44} {check:>8.2f}")


if __name__ == "__main__":
    main()
