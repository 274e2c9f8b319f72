"""The errors the build reports to a person.

The command line catches only :class:`BuildError` (and its subclasses), prints the
message and exits with ``exit_code``; anything else is a bug in the tool and keeps
its traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class BuildError(Exception):
    """Base of every error meant for the person running the build."""

    exit_code = 1


class UsageError(BuildError):
    """A command line the tool cannot act on (exit status 2)."""

    exit_code = 2


class ConfigError(BuildError):
    """Every problem found in ``_config.yml``, reported together (exit status 2)."""

    exit_code = 2

    def __init__(self, problems: list[str], config_path: str = "_config.yml"):
        self.problems = problems
        lines = [f"{config_path}: invalid configuration:"] + [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


class SiteLockedError(BuildError):
    """Another build of the same site is running."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the command line's handler, so that it stops a build as Ctrl-C does."""


class BuildInterrupted(BuildError):
    """Ctrl-C or SIGTERM: the build stopped early, every post is old or new, never half.

    Raised inside the build too (no ``signal_name``), where a notebook's work is abandoned because the
    build is stopping; the build reports it once, naming the signal."""

    def __init__(self, signal_name: str = ""):
        self.signal_name = signal_name
        self.exit_code = 143 if signal_name == "SIGTERM" else 130
        super().__init__(f"build interrupted by {signal_name or 'a stop'}; posts already written are complete, "
                         "the others are unchanged")


class NotebookError(BuildError):
    """A problem with one notebook: that notebook fails, the others are still built."""

    def __init__(self, notebook: str, message: str):
        self.notebook = notebook
        self.detail = message
        super().__init__(f"{notebook}: {message}")


@dataclass
class CellFailure:
    """Where a cell went wrong, in the terms a person uses to find it."""

    index: int  # 1-based position of the cell in the notebook, all cell types counted
    execution_count: int | None
    source: str
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)

    def where(self) -> str:
        count = "not executed" if self.execution_count is None else f"execution count {self.execution_count}"
        return f"cell {self.index} ({count})"

    def source_excerpt(self, max_lines: int = 6) -> str:
        lines = self.source.splitlines() or [""]
        shown = [f"    {n:>3} | {line}" for n, line in enumerate(lines[:max_lines], 1)]
        if len(lines) > max_lines:
            shown.append(f"        | … {len(lines) - max_lines} more lines")
        return "\n".join(shown)


class CellError(NotebookError):
    """A cell raised, timed out or killed its kernel."""

    def __init__(self, notebook: str, cell: CellFailure, headline: str, partial_notebook: str | None):
        self.cell = cell
        self.partial_notebook = partial_notebook
        parts = [f"{cell.where()} {headline}", cell.source_excerpt()]
        if cell.traceback:
            parts.append("Traceback:\n" + "\n".join("    " + line for line in "\n".join(cell.traceback).splitlines()))
        if partial_notebook:
            parts.append(f"The partly executed notebook is saved at {partial_notebook}")
        super().__init__(notebook, "\n".join(parts))
