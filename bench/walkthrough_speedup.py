#!/usr/bin/env python3
"""The speed-up of part 1's vectorised gradients over its Python loops, timed side by side
(a benchmark, not a test: it prints figures and never fails on them).

The post (notebooks/2018-04-22-...) says the vectorised version is "more than an order of
magnitude" faster on the 4-5-3 network and that "the gap grows with the size of the layers"
(ten times the hidden nodes). Its test counts the work that claim stands for (interpreted
multiplications per item); the times themselves are measured here, with the notebook's own
functions (every function and class its code cells define), on 120 random items as in the
post's training set, alternating the two versions so that both see the same machine load.

Usage: python bench/walkthrough_speedup.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import ast
import json
import statistics
import time
from pathlib import Path

import numpy as np

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "2018-04-22-back-propagation-in-deep-learning-frameworks.ipynb"
ITEMS = 120


def notebook_definitions() -> dict:
    """Every top-level function and class of the notebook's code cells, defined with NumPy."""
    namespace = {"np": np, "SEED": 0}
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:            # IPython magics: nothing this benchmark needs
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                try:
                    exec(compile(ast.Module([node], []), NOTEBOOK.name, "exec"), namespace)
                except NameError:      # defaults taken from the notebook's data (train()): not needed here
                    pass
    return namespace


def best_of(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds of alternating timings (default 7)")
    args = parser.parse_args()
    d = notebook_definitions()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((ITEMS, 4)).astype(np.float32)
    T = np.eye(3, dtype=np.float32)[rng.integers(0, 3, ITEMS)]
    ratios = {}
    for hidden in (5, 50):
        net = d["NeuralNetwork"](4, hidden, 3, seed=0)
        loops, vectorised = [], []
        for _ in range(args.repeats):         # alternating: both versions see the same load
            loops.append(best_of(lambda: [d["loopGradients"](net, x, t) for x, t in zip(X, T)], 1))
            vectorised.append(best_of(lambda: d["backward"](X, T, *net.params(), d["diagonalSignal"]), 20))
        ratios[hidden] = [lo / ve for lo, ve in zip(loops, vectorised)]
        print(f"4-{hidden}-3: loops {min(loops) * 1e3:.2f} ms, vectorised {min(vectorised) * 1e6:.1f} µs for "
              f"{ITEMS} items; speed-up median {statistics.median(ratios[hidden]):.0f}x "
              f"(range {min(ratios[hidden]):.0f}-{max(ratios[hidden]):.0f}x over {args.repeats} rounds)")
    small, wide = (statistics.median(ratios[h]) for h in (5, 50))
    print(f"the post says: more than 10x on 4-5-3 ({'holds' if small > 10 else 'DOES NOT HOLD'} here: {small:.0f}x); "
          f"the gap grows with the layers ({'holds' if wide > small else 'DOES NOT HOLD'} here: {wide / small:.1f} times "
          f"the speed-up with 50 hidden nodes)")


if __name__ == "__main__":
    main()
