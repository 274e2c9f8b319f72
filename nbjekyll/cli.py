"""The command line: parse arguments, run one command, turn project errors into exit statuses.

``nbjekyll`` (the console script) and ``python -m nbjekyll`` take a subcommand: ``init`` (bring the
tool into a blog), ``build``, ``check``, ``explain``, ``strip``, ``watch``, ``setup-kernels``, ``shard``, ``merge``;
each lives in :mod:`nbjekyll.commands`. This repository's ``build.py`` keeps the
flags it always had (``--check``, ``--strip``, ``--shard K/N --bundle PATH``, …): :func:`main`
reads them and runs the same commands. Either way, hints name the command as the person typed it.

Exit status 0: every notebook built (or was skipped because its kernel is not set up on this
machine, unless ``--strict`` or CI=true); 1: at least one notebook failed (the others were still
built); 2: a usage or configuration error. Only :class:`BuildError` is caught, here and nowhere
else: anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .commands import options
from .config import Config, load_config
from .errors import BuildError, Terminated, UsageError
from .hints import Invocation
from .selection import select_notebooks

# name -> the module of nbjekyll.commands that declares its arguments and runs it
SUBCOMMANDS = {"init": "init", "build": "build", "check": "check", "explain": "explain", "strip": "strip",
               "watch": "watch", "setup-kernels": "setup_kernels", "shard": "shard", "merge": "merge",
               "migrate": "migrate"}
SITELESS = {"init"}  # commands that make a site, rather than read one


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: exit 2 with our wording
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


def _command(name: str):
    return importlib.import_module(f".commands.{SUBCOMMANDS[name]}", __package__)


def parser(prog: str = "nbjekyll", default_site: Path | None = None) -> argparse.ArgumentParser:
    """``nbjekyll COMMAND …``: one subparser per command, each declared by its own module."""
    p = _Parser(prog=prog, description="Execute Jupyter notebooks and write them as Jekyll posts and pages.")
    p.add_argument("--version", action="version", version=f"nbjekyll {__version__}")
    commands = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        module = _command(name)
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP[:1].upper() + module.HELP[1:] + ".")
        if name not in SITELESS:
            options.add_site(sub, default_site or Path.cwd())
        module.add_arguments(sub)
    return p


def legacy_parser(default_site: Path) -> argparse.ArgumentParser:
    """``build.py``'s flags, as they have always been: a build by default, or one mode flag."""
    p = _Parser(prog="build.py", description="Execute notebooks and write them as Jekyll posts.")
    p.add_argument("--version", action="version", version=f"nbjekyll {__version__}")
    p.add_argument("notebooks", nargs="*", help="notebooks to build (default: every notebook of the site)")
    options.add_site(p, default_site)
    options.add_execution(p)
    p.add_argument("--shard", type=options.shard_part, metavar="K/N",
                   help="execute only the K-th of N parts of the notebooks that need executing (split by their "
                        "last run times) and write the runs to --bundle, no posts; with --explain, list the part; "
                        "with --setup-kernels, make only the kernels it needs")
    p.add_argument("--bundle", type=Path, metavar="PATH", help="where --shard writes its runs (one file)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--merge", dest="bundles", type=Path, nargs="+", metavar="BUNDLE",
                      help=_command("merge").HELP)
    for flag, name in (("--explain", "explain"), ("--check", "check"), ("--strip", "strip"),
                       ("--setup-kernels", "setup-kernels"), ("--watch", "watch")):
        mode.add_argument(flag, dest="command", action="store_const", const=name, help=_command(name).HELP)
    return p


def _legacy_command(args) -> str:
    """Which command build.py's flags ask for, checking the combinations its flags allow."""
    if args.bundles:
        args.command = "merge"
    command = args.command or ("shard" if args.shard else "build")
    if args.bundle and not args.shard:
        raise UsageError("--bundle is where --shard K/N writes its runs: give --shard too")
    if args.shard and command not in ("shard", "explain", "setup-kernels"):
        raise UsageError(f"--shard goes with a build, --explain or --setup-kernels, not with --{command}")
    if command == "shard" and not args.bundle:
        raise UsageError("--shard K/N needs --bundle PATH, the file its runs go to (for build.py --merge)")
    if command == "merge" and args.force:
        raise UsageError("--merge executes nothing, so --force means nothing there (give it to the shards)")
    return command


def _site_config(args, invocation: Invocation) -> tuple[Config, list[Path]]:
    config = load_config(args.site).with_overrides(invocation=invocation)
    if args.notebooks_dir is not None:
        folder = (config.site / args.notebooks_dir).resolve()
        if not folder.is_relative_to(config.site) or not folder.is_dir():
            raise UsageError(f"--notebooks {args.notebooks_dir}: no such folder in the site {config.site}")
        config = config.with_overrides(notebooks_dir=folder)
    return config, select_notebooks(config, args.notebooks, Path.cwd())


def _raise_terminated(signum, frame):
    raise Terminated()


def _run(args, invocation: Invocation) -> int:
    """Run the command; meanwhile SIGTERM stops it as Ctrl-C does (kernels stopped, old posts kept)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        return _run_command(args, invocation)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return _run_command(args, invocation)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_command(args, invocation: Invocation) -> int:
    for name, value in options.DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    module = _command(args.command)
    if args.command in SITELESS:
        return module.run(args)
    config, paths = _site_config(args, invocation)
    return module.run(config, args, paths)


def _report(exc: BuildError) -> int:
    print(f"error: {exc}" if exc.exit_code == 2 else str(exc), file=sys.stderr)
    return exc.exit_code


def run(argv: list[str] | None = None, invocation: Invocation = Invocation()) -> int:
    """``nbjekyll COMMAND …`` (and ``python -m nbjekyll``): the exit status."""
    try:
        p = parser(prog=invocation.program)
        args = p.parse_args(argv)
        if args.command is None:
            p.print_usage(sys.stderr)
            raise UsageError(f"{p.prog}: give a command: {', '.join(SUBCOMMANDS)} "
                             f"(`{p.prog} COMMAND --help` lists its options)")
        return _run(args, invocation)
    except BuildError as exc:
        return _report(exc)


def main(argv: list[str] | None = None, default_site: Path | None = None) -> int:
    """``build.py``'s flags (this repository's entry point): the exit status."""
    try:
        args = legacy_parser(default_site or Path.cwd()).parse_args(argv)
        args.command = _legacy_command(args)
        return _run(args, Invocation("python build.py", flags=True))
    except BuildError as exc:
        return _report(exc)


def console() -> None:
    """The ``nbjekyll`` console script."""
    exit_with(run(invocation=Invocation(os.path.basename(sys.argv[0]) or "nbjekyll")))


def exit_with(status: int) -> None:
    """Exit the process with ``status`` (the command line's last step: build.py, ``python -m nbjekyll``, the
    console script). Every object alive now is frozen out of the garbage collector first, so the interpreter's
    shutdown does not walk them all once more (after a build has loaded jupyter_client, nbformat and jinja2,
    that walk takes a twentieth of a second); the atexit hooks still run, and every file the command wrote
    is closed by now."""
    gc.freeze()
    sys.exit(status)
