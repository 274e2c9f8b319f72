#!/usr/bin/env python3
"""Build the site's posts from its notebooks. Run `python build.py --help` for the options.

This repository's own entry point, with the flags it always had; installed, the tool is the
``nbjekyll`` command (``nbjekyll build``, ``nbjekyll check``, …).
"""
import sys
from pathlib import Path

if __name__ == "__main__" and __spec__ is not None and __spec__.name == "build":
    # `python -m build` run in this folder finds this file before PyPA's build (the wheel maker):
    # hand over to that package, as the person meant.
    import runpy
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.modules.pop("build", None)
    runpy.run_module("build", run_name="__main__", alter_sys=True)
    sys.exit(0)

from nbjekyll.cli import exit_with, main  # noqa: E402

if __name__ == "__main__":
    exit_with(main(default_site=Path(__file__).resolve().parent))
