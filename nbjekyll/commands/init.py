"""``nbjekyll init [DIR]``: bring the tool into a Jekyll blog, or make a new one (see ``nbjekyll.kit``).

Prints one line per file (the MathJax folder as one line) and the next steps; returns 0. A blog it
cannot set up raises :class:`nbjekyll.kit.InitError` (a ``BuildError``), which the console script
turns into its message and exit status 2.
"""
from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

from ..kit import Action, FileReport, InitReport, init_site

HELP = "set up a Jekyll blog (or make a new one) for posts made from notebooks"
# Files under these folders are reported as one line per action.
GROUPED = ("assets/nbjekyll/mathjax/",)

_VERB = {Action.CREATED: "created", Action.UPDATED: "updated", Action.UNCHANGED: "unchanged",
         Action.KEPT: "kept", Action.OUTDATED: "outdated"}
_WOULD = {Action.CREATED: "would create", Action.UPDATED: "would update"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR",
                        help="the blog's folder, where _config.yml is; an empty or missing folder gets a new "
                             "blog (default: the current folder)")
    parser.add_argument("--dry-run", action="store_true",
                        help="write nothing; show what init would write")
    parser.add_argument("--force", action="store_true",
                        help="replace kit files you have changed (without it they are kept)")
    parser.add_argument("--upgrade", action="store_true",
                        help="refresh the kit files an older nbjekyll installed, after upgrading the tool")
    parser.add_argument("--no-workflow", dest="workflow", action="store_false",
                        help="do not write the CI workflow (.github/workflows/nbjekyll.yml)")


def describe(item: FileReport, dry_run: bool) -> str:
    """One line of the report, e.g. ``kept  _includes/custom-head.html (changed by you; --force replaces it)``."""
    if item.action is Action.ADD_LINE:
        return f"add this line to {item.path} ({item.note}):\n      {item.line}"
    verb = _WOULD.get(item.action, _VERB[item.action]) if dry_run else _VERB[item.action]
    note = item.note if item.note and item.action is not Action.UNCHANGED else ""
    return f"{verb:<12} {item.path}" + (f" ({note})" if note else "")


def _grouped(files: list[FileReport]) -> list[FileReport]:
    out: list[FileReport] = []
    groups: dict[tuple[str, Action], int] = {}
    for item in files:
        prefix = next((g for g in GROUPED if item.path.startswith(g)), None)
        if prefix is None or item.action not in (Action.CREATED, Action.UPDATED, Action.UNCHANGED):
            out.append(item)
            continue
        key = (prefix, item.action)
        if key not in groups:
            groups[key] = len(out)
            out.append(FileReport(prefix, item.action, "1 file"))  # counted in the note, shown for every action
        else:
            n = int(out[groups[key]].note.split()[0]) + 1
            out[groups[key]] = FileReport(prefix, item.action, f"{n} files")
    return out


def format_report(report: InitReport, shown_dir: str) -> str:
    kind = "a new blog" if report.new_blog else "an existing Jekyll blog"
    lines = [f"{'Dry run (nothing written): ' if report.dry_run else ''}nbjekyll init {shown_dir}: {kind}"]
    lines += ["  " + describe(item, report.dry_run) for item in _grouped(report.files)]
    if not report.changes and not report.to_do:
        lines.append("Nothing to change: the blog is set up.")
    site = shlex.quote(shown_dir)
    here = shown_dir in (".", "")
    build = "nbjekyll build" + ("" if here else f" --site {site}")
    jekyll = "jekyll build" if here else f"(cd {site} && jekyll build)"
    width = max(len(build), len(jekyll)) + 2
    lines += ["Next:",
              f"  put your notebooks in {os.path.join(shown_dir, report.notebooks_dir) if not here else report.notebooks_dir}/"
              " (a notebook named YYYY-MM-DD-title.ipynb becomes a post)",
              f"  {build:<{width}}# execute them into posts",
              f"  {jekyll:<{width}}# the site, into _site/"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = init_site(Path(args.dir), dry_run=args.dry_run, force=args.force, upgrade=args.upgrade,
                       workflow=args.workflow)
    print(format_report(report, args.dir))
    return 0
