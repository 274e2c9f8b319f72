"""What a person sees while the build runs: one line per notebook, then a summary table.

On a terminal, the notebooks still running share one status line that is rewritten in place;
elsewhere (CI logs, pipes) only whole lines are printed, so logs stay readable with any --jobs.
"""
from __future__ import annotations

import enum
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO


class Status(str, enum.Enum):
    """What happened to one notebook; the value is the word the summary table prints."""

    BUILT = "built"              # executed, post written
    RENDERED = "rendered"        # post written again from the cached run
    UP_TO_DATE = "up to date"
    SKIPPED = "skipped"          # its kernel is not set up on this machine
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    EXECUTED = "executed"        # a shard's: run, and the run is in the bundle (no post written)
    CACHED = "cached"            # a shard's: the cached run is in the bundle
    PLANNED = "planned"          # --explain: ``detail`` says what a build would do
    SAVED = "saved"              # post written from the outputs saved in the notebook, no kernel (nbjekyll.saved)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


@dataclass
class Result:
    notebook: str
    status: Status
    cells: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    detail: str = ""  # --explain: what a build would do, and why
    saved: bool = False  # its post shows the outputs saved in the notebook (written now, or up to date)

    @property
    def ok(self) -> bool:
        return self.status not in (Status.FAILED, Status.SKIPPED)


class Progress:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = hasattr(self.out, "isatty") and self.out.isatty()
        self.running: dict[str, str] = {}
        self.lock = threading.Lock()
        self.status_width = 0

    def _clear_status(self) -> None:
        if self.live and self.status_width:
            self.out.write("\r" + " " * self.status_width + "\r")
            self.status_width = 0

    def _draw_status(self) -> None:
        if self.live and self.running:
            line = "  ".join(f"[{name}: {state}]" for name, state in self.running.items())
            line = line[:200]
            self.out.write(line)
            self.status_width = len(line)
            self.out.flush()

    def line(self, text: str, error: bool = False) -> None:
        with self.lock:
            self._clear_status()
            stream = self.err if error else self.out
            stream.write(text + "\n")
            stream.flush()
            self._draw_status()

    def started(self, notebook: str, what: str) -> None:
        self.line(f"{notebook}: {what}")
        with self.lock:
            self.running[notebook] = what

    def cell(self, notebook: str, index: int, total: int) -> None:
        with self.lock:
            self.running[notebook] = f"cell {index}/{total}"
            self._clear_status()
            self._draw_status()

    def finished(self, result: Result) -> None:
        with self.lock:
            self.running.pop(result.notebook, None)
        for warning in result.warnings:
            self.line(f"{result.notebook}: warning: {warning}", error=True)
        if result.status is Status.UP_TO_DATE:
            self.line(f"{result.notebook}: up to date")
        elif result.status is Status.SKIPPED:
            self.line(str(result.error), error=True)
        elif result.status is Status.SAVED:
            self.line(f"{result.notebook}: written from its saved outputs, not executed, in {result.seconds:.1f} s")
        elif result.ok:
            self.line(f"{result.notebook}: {result.status} in {result.seconds:.1f} s")
        else:
            self.line(str(result.error), error=True)

    def summary(self, results: list[Result]) -> None:
        if not results:
            self.line("no notebooks to build")
            return
        width = max(len("notebook"), *(len(r.notebook) for r in results))
        rows = [f"{'notebook':<{width}}  {'result':<10}  {'cells':>5}  {'seconds':>7}"]
        for r in results:
            rows.append(f"{r.notebook:<{width}}  {r.status:<10}  {r.cells:>5}  {r.seconds:>7.1f}")
        failed = sum(r.status is Status.FAILED for r in results)
        skipped = sum(r.status is Status.SKIPPED for r in results)
        saved = sum(r.saved and r.ok for r in results)
        rows.append(f"{len(results)} notebook{'s' if len(results) != 1 else ''}: "
                    f"{len(results) - failed - skipped - saved} ok, " +
                    (f"{saved} shown with saved outputs (not executed), " if saved else "") +
                    (f"{skipped} skipped, " if skipped else "") +
                    f"{failed} failed")
        self.line("\n" + "\n".join(rows))
