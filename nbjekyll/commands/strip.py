"""``nbjekyll strip``: remove outputs from the notebooks, in place (sources are committed output-free)."""
from __future__ import annotations

from ..config import Config
from . import options

HELP = "remove outputs from the notebooks (in place)"


def add_arguments(p) -> None:
    options.add_notebooks(p)


def run(config: Config, args, paths) -> int:
    from ..check import strip_outputs
    for rel in strip_outputs(config, paths):
        print(f"{rel}: outputs removed")
    return 0
