#!/usr/bin/env python3
"""What a build costs when there is nothing to do, and how that grows with the number of notebooks
(a benchmark, not a test: it prints figures and never fails on them).

Measures, each as the median of several whole-process runs with this interpreter:
  - the repository's own site (today 9 notebooks): no-op build and --check   (goal <= 0.15 s each)
  - generated sites of 50 and 500 up-to-date notebooks: the same two commands, and the cost per
    extra notebook between them                                               (goal <= 1 ms each)
  - in the 500-notebook site, a prose edit to one notebook: what is re-rendered (goal: that post only)
  - the same interpreter doing nothing (`python -c pass`), the floor under every figure

The generated notebooks (prose with math, a NumPy cell, a figure) are executed for real three
times; the other posts are copies of those under other names, made current the way a build would
leave them (front matter, image folder, cache entry), and the script checks with --check that the
site is current before timing anything.

Usage: python bench/noop_cost.py [--sizes 50 500] [--repeats 9]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BUILD = [sys.executable, str(ROOT / "build.py")]

CONFIG = """title: No-op benchmark
baseurl: ""
exclude: [notebooks/, _build/]
nbjekyll:
  timeout: 120
"""


def notebook(n: int):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Notebook {n}\n\nThe mean $\\hat\\mu = \\frac{{1}}{{n}}\\sum_i x_i$ "
                                      "of a sample, and its spectrum:\n\n$$X_k = \\sum_t x_t e^{-2\\pi i k t/N}$$"),
        nbformat.v4.new_code_cell(f"import numpy as np\nx = np.random.default_rng({n}).normal(size=4096)\n"
                                  "spectrum = np.abs(np.fft.rfft(x))\nprint(f'mean {x.mean():+.4f}')"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 2))\n"
                                  "ax.plot(spectrum[:100])\nplt.show()"),
        nbformat.v4.new_markdown_cell("A closing paragraph, so the post has prose after its figure."),
    ]
    return nb


def run(site: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BUILD, "--site", str(site), *args], capture_output=True, text=True)


def seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return statistics.median(times)


def make_site(root: Path, count: int) -> Path:
    """``count`` current posts: three executed for real, the rest copies of them under new names."""
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG)
    originals = []
    for n in range(3):
        name = f"2020-01-{n + 1:02d}-original-{n}"
        nbformat.write(notebook(n), root / "notebooks" / f"{name}.ipynb")
        originals.append(name)
    done = run(root, "--jobs", "2")
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    for k in range(3, count):
        source = originals[k % 3]
        old_slug = source[len("2020-01-01-"):]
        name = f"2021-{1 + k // 28 % 12:02d}-{1 + k % 28:02d}-copy-{k}"
        slug = name[len("2021-01-01-"):]
        shutil.copy(root / "notebooks" / f"{source}.ipynb", root / "notebooks" / f"{name}.ipynb")
        post = (root / "_posts" / f"{source}.md").read_text(encoding="utf-8")
        post = post.replace(f"notebooks/{source}.ipynb", f"notebooks/{name}.ipynb")
        post = post.replace(f"/img/{old_slug}/", f"/img/{slug}/")
        (root / "_posts" / f"{name}.md").write_text(post, encoding="utf-8")
        shutil.copytree(root / "img" / old_slug, root / "img" / slug)
        cache = root / "_build" / "cache"
        shutil.copytree(cache / source, cache / name)
        record = json.loads((cache / name / "record.json").read_text())
        record["notebook"] = f"notebooks/{name}.ipynb"
        (cache / name / "record.json").write_text(json.dumps(record, indent=1, sort_keys=True))
        stamps = root / "_data" / "provenance"
        if (stamps / f"{old_slug}.yml").exists():
            shutil.copy(stamps / f"{old_slug}.yml", stamps / f"{slug}.yml")
    check = run(root, "--check")
    if check.returncode != 0 or not check.stdout.endswith("all posts current\n"):
        raise SystemExit("the generated site is not current:\n" + check.stdout[-2000:])
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[50, 500], metavar=("SMALL", "LARGE"))
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    floor = seconds([sys.executable, "-c", "pass"], args.repeats)
    rows = [("python -c pass (the floor)", "", floor)]
    noop = seconds([*BUILD, "--site", str(ROOT)], args.repeats)
    check = seconds([*BUILD, "--site", str(ROOT), "--check"], args.repeats)
    count = len(list((ROOT / "notebooks").glob("*.ipynb")))
    rows += [(f"this repository ({count} notebooks): no-op build", "<= 0.150", noop),
             (f"this repository ({count} notebooks): --check", "<= 0.150", check)]
    measured = {}
    with tempfile.TemporaryDirectory(prefix="nbjekyll-noop-") as tmp:
        for size in args.sizes:
            site = make_site(Path(tmp) / f"site-{size}", size)
            measured[size] = (seconds([*BUILD, "--site", str(site)], args.repeats),
                              seconds([*BUILD, "--site", str(site), "--check"], args.repeats))
            rows += [(f"{size} notebooks: no-op build", "", measured[size][0]),
                     (f"{size} notebooks: --check", "", measured[size][1])]
        small, large = args.sizes
        extra = large - small
        rows += [(f"no-op build, per extra notebook ({small} -> {large})", "<= 0.001",
                  (measured[large][0] - measured[small][0]) / extra),
                 (f"--check, per extra notebook ({small} -> {large})", "<= 0.001",
                  (measured[large][1] - measured[small][1]) / extra)]
        site = Path(tmp) / f"site-{large}"
        edited = site / "notebooks" / "2021-01-04-copy-3.ipynb"
        nb = nbformat.read(edited, as_version=4)
        nb.cells[-1].source += " Edited."
        nbformat.write(nb, edited)
        start = time.perf_counter()
        done = run(site)
        prose_edit = time.perf_counter() - start
        rendered = [line.split(":")[0] for line in done.stdout.splitlines() if line.endswith(("s", "S"))
                    and ": rendered in " in line]
        up_to_date = done.stdout.count(": up to date\n")
        rows.append((f"{large} notebooks: prose edit to one ({len(rendered)} re-rendered, {up_to_date} up to date)",
                     "1 re-rendered", prose_edit))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>9}  goal")
    for name, goal, value in rows:
        print(f"{name:<{width}}  {value:>9.4f}  {goal}")
    if rendered != ["notebooks/2021-01-04-copy-3.ipynb"]:
        print(f"note: the prose edit re-rendered {rendered}")


if __name__ == "__main__":
    main()
