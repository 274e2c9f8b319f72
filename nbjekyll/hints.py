"""How a message names a command: the way the person ran the tool, so a hint is what they type next.

The library says what to do (a :class:`Command`, its arguments, the site); the command line says
how the tool was started (an :class:`Invocation`, carried on the config). ``nbjekyll`` and
``python -m nbjekyll`` take subcommands (``nbjekyll setup-kernels``); this repository's ``build.py``
keeps its flags (``python build.py --setup-kernels``).
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path


class Command(enum.Enum):
    """Something a hint asks the person to run; the value is the subcommand's name."""

    BUILD = "build"
    CHECK = "check"
    STRIP = "strip"
    SETUP_KERNELS = "setup-kernels"
    SHARD = "shard"
    MERGE = "merge"


@dataclass(frozen=True)
class Invocation:
    program: str = "nbjekyll"  # as typed: "nbjekyll", "python -m nbjekyll", "python build.py"
    flags: bool = False        # build.py's form: "--strip" for "strip", nothing for "build"

    def name(self, command: Command) -> str:
        """The command without arguments, e.g. ``nbjekyll merge`` or ``python build.py --merge``."""
        word = self._word(command)
        return f"{self.program} {word}" if word else self.program

    def command(self, command: Command, *args: str, site: Path | None = None) -> str:
        """The whole command line, with ``--site`` when the site is not the current folder."""
        where = _site_option(site)
        word = self._word(command)
        if self.flags:
            words = [self.program, *where, word, *args]
        else:
            words = [self.program, word, *where, *args]
        return " ".join(w for w in words if w)

    def _word(self, command: Command) -> str:
        if not self.flags:
            return command.value
        return "" if command is Command.BUILD else f"--{command.value}"


def _site_option(site: Path | None) -> list[str]:
    if site is None:
        return []
    here = Path.cwd().resolve()
    if site == here:
        return []
    return ["--site", os.path.relpath(site, here) if site.is_relative_to(here) else str(site)]
